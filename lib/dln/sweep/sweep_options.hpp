// What `dln sweep` was asked to do, beyond the configuration: given on rank 0, shared with every
// rank by share_setup (sweep_runner.hpp), field by field by name (sweep_protocol.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

namespace dln::sweep {

// What a sweep does with its output file, decided on rank 0 before anything is touched.
enum class OutputPlan : int {
    create,   // a new file (and a new journal)
    resume,   // continue the file, replaying its journal into it
    rebuild,  // the file is missing or damaged: create it again and replay the journal
};

// --batch auto: shape each hand-out from the units' estimated cost (sweep_schedule.hpp, handout_shape).
inline constexpr std::size_t kBatchAuto = 0;

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
    // lockstep, sharing every sample (1: each alone; kBatchAuto: sized from their cost). Results
    // do not depend on it.
    std::size_t batch = kBatchAuto;
    // A worker makes its finished units durable in groups (one fdatasync of its journal for all
    // of them), then reports them and writes them into the file in one write per dataset. It
    // does so at least this often while it has finished units, so the file is never staler
    // than this (plus one unit's compute time); 0: after every hand-out.
    double commit_seconds = 0.2;
    // Datasets of at least 64 KiB start at multiples of this many bytes (0: packed): the stripe
    // size of a parallel file system (Lustre's lfs getstripe -S, GPFS's block size).
    std::uint64_t stripe_size = 0;
    OutputPlan plan = OutputPlan::create;
    // --from: a finished sweep file that this configuration extends (sweep_extension.hpp); its
    // done and diverged units are copied, not computed. Rank 0 alone reads it (not shared).
    std::string from;
    std::ostream* log = nullptr;  // progress (rank 0 only); nullptr for none
};

// "k/K" for a shard, empty for a whole sweep: the file's "shard" attribute.
std::string shard_label(const SweepOptions& options);

}  // namespace dln::sweep
