#include "dln/pde/petsc_session.hpp"

#include <petscsys.h>

#include <cstdlib>
#include <stdexcept>

namespace dln::pde {

PetscSession::PetscSession() {
    PetscBool initialised = PETSC_FALSE;
    PetscInitialized(&initialised);
    if (initialised) return;
    int mpi_ready = 0;
    MPI_Initialized(&mpi_ready);
    if (!mpi_ready && std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) {
        // A stand-alone run (not under mpirun): Open MPI would start a process manager for this
        // one process (about 0.2 s); it needs none. Other MPIs ignore the variable.
        setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    }
    if (PetscInitializeNoArguments() != 0) throw std::runtime_error("PETSc failed to initialise");
    owner_ = true;
}

PetscSession::~PetscSession() {
    if (owner_) PetscFinalize();
}

}  // namespace dln::pde
