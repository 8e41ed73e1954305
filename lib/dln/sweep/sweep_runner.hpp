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

namespace dln::sweep {

// What a sweep does with its output file, decided on rank 0 before anything is touched.
enum class OutputPlan : int {
    create,   // a new file (and a new journal)
    resume,   // continue the file, replaying its journal into it
    rebuild,  // the file is missing or damaged: create it again and replay the journal
};

struct SweepOptions {
    std::string output;       // the HDF5 file
    bool overwrite = false;   // replace an existing file
    bool resume = false;      // continue the sweep in an existing file: compute only what is not done
    bool retry_failed = false;  // on resume, retry every failed unit, not only those that failed once
    bool quiet = false;       // no progress lines
    // This run computes shard `shard` of `shards` (1-based): the tasks at positions shard - 1,
    // shard - 1 + shards, ... of the largest-first schedule, so every shard gets a like share.
    std::uint32_t shard = 1, shards = 1;
    // PETSC_OPTIONS as rank 0 saw it (petsc_options.hpp), given to every rank: the file records it
    // and a resume compares it.
    std::string petsc_options;
    // At most this many sgd units of one dim and replicate go to a worker together and run in
    // lockstep, sharing every sample (1: each alone). Results do not depend on it.
    std::size_t batch = 16;
    OutputPlan plan = OutputPlan::create;
    std::ostream* log = nullptr;  // progress (rank 0 only); nullptr for none
};

// "k/K" for a shard, empty for a whole sweep: the file's "shard" attribute.
std::string shard_label(const SweepOptions& options);

// The tasks of this shard in the order they are handed out, with their estimated cost, and the
// totals (what `dln sweep --dry-run` prints). No MPI, no files.
void print_schedule(const config::Config& config, const SweepOptions& options, std::ostream& out);

// Rank 0, before any file is touched: how to treat options.output. Throws config::ConfigError
// naming the option and the problem (a missing directory, an existing file without --force, a
// resume with another configuration or result-changing PETSC_OPTIONS, a damaged file without a
// journal to rebuild it from, a journal of another record format).
// note receives a line worth telling the user (a rebuild, a resume with nothing to resume).
OutputPlan plan_output(const config::Config& config, const SweepOptions& options, std::string& note);

struct SweepSummary {
    std::size_t units = 0, done = 0, diverged = 0, failed = 0;  // units: to compute in this run
    std::size_t abandoned = 0, pending = 0;  // given up when asked to stop; left for a resume
    std::size_t replayed = 0;                // units restored from the journal into the file
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
SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options);

}  // namespace dln::sweep
