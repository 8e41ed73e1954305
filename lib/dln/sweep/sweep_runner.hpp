// `dln sweep`: rank 0 hands out work units, most expensive first, to the other ranks, which
// compute them and write their results into the one shared HDF5 file. With one rank, that rank
// does everything.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "dln/config/config.hpp"
#include "dln/sweep/output_plan.hpp"
#include "dln/sweep/sweep_options.hpp"

namespace dln::sweep {

// The print of --dry-run: the tasks of this shard in the order they are handed out, with their
// estimated cost, and the totals; with options.from, only those it would not copy from that file
// (which it reads). No MPI, no other file.
void print_schedule(const config::Config& config, const SweepOptions& options, std::ostream& out);

struct SweepSummary {
    std::size_t units = 0, done = 0, diverged = 0, failed = 0;  // units: to compute in this run
    std::size_t abandoned = 0, pending = 0;  // given up when asked to stop; left for a resume
    std::size_t replayed = 0;                // units restored from the journal into the file
    std::size_t copied = 0;                  // units copied from options.from (not computed)
    std::size_t tolerance_unmet = 0;         // finished pde units that did not meet pde.rtol
    bool ended = false;  // nothing is left to compute: the journal was removed
    bool interrupted = false;  // a stop was requested (SIGUSR1, SIGTERM, SIGINT) and units are left
    double seconds = 0.0;
};

// Rank 0's configuration (nullptr there if it was rejected) and options given to every rank,
// so that all ranks work from the same resolved keys even without a shared file system.
// Collective; returns false on every rank if rank 0 had no configuration.
bool share_setup(MPI_Comm comm, const config::Config* on_root, config::Config& config, SweepOptions& options);

// Collective over comm; every rank passes the same config and options (options.plan from
// plan_output). The summary is valid on rank 0 (interrupted on every rank). SIGUSR1, SIGTERM or
// SIGINT (stop_request.hpp; the handlers stay installed after it returns) make it stop handing
// out work, abandon the units in flight, close the file consistently and return interrupted,
// unless nothing was left to compute. Every finished unit is journaled (io::SweepJournal) before it is
// written to the file; the journal is removed when the sweep ends with nothing left to compute.
// Finished units are journaled in groups (one fdatasync for many: SweepOptions::commit_seconds),
// reported only once on disk, then written into the file in one write per dataset.
SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options);

}  // namespace dln::sweep
