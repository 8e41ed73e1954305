// PETSc's lifetime. Create one after MPI_Init (if the program initialises MPI itself) and let it
// go before MPI_Finalize; without MPI initialised, PETSc initialises it (a singleton run: call
// app::prepare_standalone_mpi first for a fast start-up).
// PETSc options come from the PETSC_OPTIONS environment variable, e.g.
//   PETSC_OPTIONS="-ts_type rosw -ts_rtol 1e-8" dln run --method pde
#pragma once

namespace dln::pde {

// Which signals PETSc may catch. A program that handles SIGTERM itself (dln sweep) wants
// PETSc's handlers off (-no_signal_handler): PetscFinalize would otherwise reset SIGTERM to
// its default action, and a SIGTERM that arrives after the work is done would kill the rank.
enum class PetscSignals { petsc, application };

class PetscSession {
public:
    explicit PetscSession(PetscSignals signals = PetscSignals::petsc);
    ~PetscSession();
    PetscSession(const PetscSession&) = delete;
    PetscSession& operator=(const PetscSession&) = delete;

private:
    bool owner_ = false;
};

}  // namespace dln::pde
