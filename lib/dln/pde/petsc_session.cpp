#include "dln/pde/petsc_session.hpp"

#include <petscsys.h>

#include <cstdlib>
#include <stdexcept>

namespace dln::pde {

void prepare_standalone_mpi() {
    if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;  // under mpirun: its settings hold
    // A stand-alone run (not under mpirun): Open MPI would start a process manager for this
    // one process (about 0.2 s); it needs none. Other MPIs ignore these variables, and a value
    // the user set wins (overwrite = 0).
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    // Open MPI also opens every point-to-point layer it has: the "cm" one loads the PSM and
    // PSM2 libraries (Omni-Path, InfiniPath), whose constructors each calibrate a clock by
    // sleeping 0.1 s, even on a machine without that hardware. One process talks to nobody,
    // so the plain ob1 layer (self and shared memory) is all it needs: 0.2 s less per run.
    setenv("OMPI_MCA_pml", "ob1", 0);
}

PetscSession::PetscSession(PetscSignals signals) {
    PetscBool initialised = PETSC_FALSE;
    PetscInitialized(&initialised);
    if (initialised) return;
    int mpi_ready = 0;
    MPI_Initialized(&mpi_ready);
    if (!mpi_ready) prepare_standalone_mpi();
    // PetscOptionsSetValue may be called before PetscInitialize, for exactly such options.
    if (signals == PetscSignals::application &&
        PetscOptionsSetValue(nullptr, "-no_signal_handler", "true") != 0) {
        throw std::runtime_error("PETSc refused -no_signal_handler");
    }
    if (PetscInitializeNoArguments() != 0) throw std::runtime_error("PETSc failed to initialise");
    owner_ = true;
}

PetscSession::~PetscSession() {
    if (owner_) PetscFinalize();
}

}  // namespace dln::pde
