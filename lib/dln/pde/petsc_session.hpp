// PETSc's lifetime. Create one after MPI_Init (if the program initialises MPI itself) and let it
// go before MPI_Finalize; without MPI initialised, PETSc initialises it (a singleton run).
// PETSc options come from the PETSC_OPTIONS environment variable, e.g.
//   PETSC_OPTIONS="-ts_type rosw -ts_rtol 1e-8" dln run --method pde
#pragma once

namespace dln::pde {

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
