// `dln sweep`: rank 0 hands out work units, most expensive first, to the other ranks, which
// compute them and write their results into the one shared HDF5 file. With one rank, that rank
// does everything.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <ostream>
#include <string>

#include "dln/config/config.hpp"

namespace dln::sweep {

struct SweepOptions {
    std::string output;       // the HDF5 file
    bool overwrite = false;   // replace an existing file
    bool resume = false;      // continue the sweep in an existing file: compute only what is not done
    bool quiet = false;       // no progress lines
    std::ostream* log = nullptr;  // progress (rank 0 only); nullptr for none
};

struct SweepSummary {
    std::size_t units = 0, done = 0, diverged = 0, failed = 0;  // units: to compute in this run
    std::size_t abandoned = 0, pending = 0;  // given up when asked to stop; left for a resume
    bool interrupted = false;                // a stop was requested (SIGUSR1, SIGTERM, SIGINT)
    double seconds = 0.0;
};

// Rank 0's configuration (nullptr there if it was rejected) and options given to every rank,
// so that all ranks work from the same resolved keys even without a shared file system.
// Collective; returns false on every rank if rank 0 had no configuration.
bool share_setup(MPI_Comm comm, const config::Config* on_root, config::Config& config, SweepOptions& options);

// Collective over comm; every rank passes the same config. The summary is valid on rank 0
// (interrupted on every rank). SIGUSR1, SIGTERM or SIGINT make it stop handing out work,
// abandon the units in flight, close the file consistently and return interrupted.
SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options);

}  // namespace dln::sweep
