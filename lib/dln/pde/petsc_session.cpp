#include "dln/pde/petsc_session.hpp"

#include <petscsys.h>

#include <stdexcept>

namespace dln::pde {

PetscSession::PetscSession() {
    PetscBool initialised = PETSC_FALSE;
    PetscInitialized(&initialised);
    if (initialised) return;
    if (PetscInitializeNoArguments() != 0) throw std::runtime_error("PETSc failed to initialise");
    owner_ = true;
}

PetscSession::~PetscSession() {
    if (owner_) PetscFinalize();
}

}  // namespace dln::pde
