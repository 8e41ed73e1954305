// The PDE tests need PETSc, initialised once for the whole run.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 160
#include <catch2/catch.hpp>

#include "dln/pde/petsc_session.hpp"

int main(int argc, char** argv) {
    const dln::pde::PetscSession petsc;
    return Catch::Session().run(argc, argv);
}
