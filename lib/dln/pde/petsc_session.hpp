// PETSc's lifetime. Create one after MPI_Init (if the program initialises MPI itself) and let it
// go before MPI_Finalize; without MPI initialised, PETSc initialises it (a singleton run).
// PETSc options come from the PETSC_OPTIONS environment variable, e.g.
//   PETSC_OPTIONS="-ts_type rosw -ts_rtol 1e-8" dln run --method pde
#pragma once

namespace dln::pde {

// Before MPI_Init in a program that may run without mpirun: Open MPI settings that make a
// one-process start-up 0.4 s faster (no process manager, no PSM libraries). Does nothing under
// mpirun, and never overrides a value the user set.
void prepare_standalone_mpi();

class PetscSession {
public:
    PetscSession();
    ~PetscSession();
    PetscSession(const PetscSession&) = delete;
    PetscSession& operator=(const PetscSession&) = delete;

private:
    bool owner_ = false;
};

}  // namespace dln::pde
