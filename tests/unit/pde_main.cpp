// The PDE tests need PETSc, initialised once for the whole run.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 160
#include <catch2/catch.hpp>

#include "dln/pde/petsc_session.hpp"
#include "standalone_mpi.hpp"

int main(int argc, char** argv) {
    dln::app::prepare_standalone_mpi();  // a fast one-process MPI start-up
    const dln::pde::PetscSession petsc;
    return Catch::Session().run(argc, argv);
}
