// The schedule of a sweep, as plain functions (no MPI, no files): which tasks this run computes
// (its shard, less what a resumed file already holds) and how they are grouped into hand-outs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "dln/model/method.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/sweep_options.hpp"

namespace dln::sweep {

// A task to compute and how often it failed before (its record counts one more if it fails again).
struct Assignment {
    std::int64_t task = -1;  // index into SweepGrid::tasks()
    std::int64_t failures = 0;
    bool operator==(const Assignment&) const = default;
};

// How often a failed unit is computed before a resume leaves it alone: once, then one retry.
inline constexpr std::int8_t kAttempts = 2;

// What a file says of each unit of each method, row-major in its group (ResultFile::read_status
// and read_failures).
struct UnitStates {
    std::map<model::Method, std::vector<std::int8_t>> status, failures;
};

// The tasks still to compute, in schedule order: this shard's, and with states (a resume) only
// those pending, and those failed fewer than kAttempts times (every failed one with retry_failed).
std::vector<Assignment> tasks_to_do(const SweepGrid& grid, const UnitStates* states, const SweepOptions& options);

// The estimated cost of one hand-out at or above which --batch auto stops growing a batch (the
// per-hand-out cost of the sweep's machinery, a message round trip, a share of a journal commit
// and of a file write, measured at about 0.1 ms by tests/bench/tiny_units.sh, is then at most
// about 1 % of it), and the batch it never goes below (the lockstep gain is mostly had at 16:
// README "Benchmarks").
inline constexpr double kAutoBatchSeconds = 0.01;
inline constexpr std::size_t kAutoBatchMin = 16;
inline constexpr std::size_t kBatchMax = 4096;

// --batch auto for units of this estimated cost each (SweepGrid::cost).
std::size_t auto_batch(double unit_seconds);

// Below this estimated cost per unit, --batch auto shapes a hand-out to cover whole replicate
// columns (all replicates of a few consecutive points: consecutive rows of the file) rather than
// many points of one replicate (rows a replicate count apart). A commit of scattered rows costs
// one pwrite per row per dataset, 13 of about 6 us each (tests/bench/scaling.csv, strace,
// 2026-12-01: about 80 us per unit), while running a unit in lockstep saves at most its own
// cost; so below about 0.1 ms the rows' writes are worth more than the lockstep.
inline constexpr double kColumnsFirstSeconds = 1e-4;
// Such hand-outs are sized so that each worker gets at least this many of a family's: the last
// ones then leave a worker idle for at most about an eighth of its share of the family.
inline constexpr std::size_t kHandoutsPerWorker = 8;

// The shape of a family's hand-outs (sgd units of one dim, model and data): up to `points`
// consecutive (lr, alpha) points times up to `replicates` consecutive replicates, computed as one
// lockstep group per replicate.
struct HandoutShape {
    std::size_t points = 1;
    std::size_t replicates = 1;
    bool operator==(const HandoutShape&) const = default;
};

// The shape for a family of `units` units (of `replicates` replicates) of
// unit_seconds each, spread over `workers`. An explicit batch is `batch` points of one replicate.
// auto: auto_batch points of one replicate, or below kColumnsFirstSeconds, hand-outs of
// min(auto_batch, units / (kHandoutsPerWorker workers)) units made of whole replicate columns
// where that many units hold one (else one point and as many replicates as fit).
HandoutShape handout_shape(std::size_t batch, double unit_seconds, std::size_t units, std::size_t replicates,
                           std::size_t workers);

// The hand-outs: sgd tasks of one family in blocks of handout_shape (near equal sizes; the
// points in row order, so a block's rows are few runs of consecutive rows; a block's hand-outs
// follow each other, so a worker's ask-ahead takes neighbouring rows), the other tasks alone (and
// every task with batch 1), most expensive first. Batching changes no result (each member is
// bitwise its lone run), only how often the samples are drawn and how many hand-outs there are.
std::vector<std::vector<Assignment>> form_batches(const SweepGrid& grid, const std::vector<Assignment>& todo,
                                                  std::size_t batch_max, std::size_t workers = 1);

// A hand-out's lockstep groups (tasks of one batch_key, i.e. one replicate), as indices into it
// in hand-out order: what a worker computes together.
std::vector<std::vector<std::size_t>> lockstep_groups(const SweepGrid& grid, const std::vector<Assignment>& handout);

// The estimated seconds of a hand-out (the sum of its tasks' costs).
double handout_cost(const SweepGrid& grid, const std::vector<Assignment>& handout);

}  // namespace dln::sweep
