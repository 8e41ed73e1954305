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

// The hand-outs: sgd tasks of the same dim and replicate in batches of at most batch_max (near
// equal sizes; kBatchAuto: auto_batch of the group's mean cost), the other tasks alone, most
// expensive first. Batching changes no result (each member is bitwise its lone run), only how
// often the samples are drawn and how many hand-outs there are.
std::vector<std::vector<Assignment>> form_batches(const SweepGrid& grid, const std::vector<Assignment>& todo,
                                                  std::size_t batch_max);

// The estimated seconds of a hand-out (the sum of its tasks' costs).
double handout_cost(const SweepGrid& grid, const std::vector<Assignment>& handout);

}  // namespace dln::sweep
