#include "dln/pde/petsc_session.hpp"

#include <petscsys.h>

#include <stdexcept>

namespace dln::pde {

PetscSession::PetscSession(PetscSignals signals) {
    PetscBool initialised = PETSC_FALSE;
    PetscInitialized(&initialised);
    if (initialised) return;
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
