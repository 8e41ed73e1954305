// Before MPI_Init (or a PETSc session that initialises MPI) in a program that may run without
// mpirun: Open MPI settings that make a one-process start-up 0.4 s faster. Does nothing under
// mpirun, and never overrides a value the user set. A start-up concern of programs, not of the
// physics: the app calls it, and so do the test drivers that start PETSc (tests/unit/pde_main.cpp).
#pragma once

#include <cstdlib>

namespace dln::app {

inline void prepare_standalone_mpi() {
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

}  // namespace dln::app
