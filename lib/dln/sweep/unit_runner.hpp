// Computing one work unit into the record the result file stores (no MPI, no file access).
#pragma once

#include <atomic>
#include <span>
#include <string>
#include <vector>

#include "dln/io/result_file.hpp"
#include "dln/pde/error_control.hpp"
#include "dln/sweep/sweep_grid.hpp"

namespace dln::sweep {

// The observable names in file order, and the file layout of a grid.
io::ResultLayout result_layout(const SweepGrid& grid);

// The PDE accuracy and resolution the configuration asks for.
pde::AccuracySpec pde_accuracy(const config::Config& config);

// The unit's trajectory with the given method (for `dln run`, which prints it as it is).
// A raised cancel flag abandons the run by throwing sim::Cancelled.
sim::Trajectory compute_trajectory(const SweepGrid& grid, const WorkUnit& unit, const std::string& method,
                                   const std::atomic<bool>* cancel = nullptr);

// Runs the unit's trajectory with the given method. A diverged run is a result (status
// diverged, NaN after the divergence); an exception escapes to the caller.
io::UnitRecord compute_unit(const SweepGrid& grid, const WorkUnit& unit, const std::string& method,
                            const std::atomic<bool>* cancel = nullptr);

// Several sgd units of one dimension and replicate (any lr and alpha) in lockstep: they share
// every sample, so the generator's cost is paid once (sim::simulate_sgd_batch). Each record is
// bitwise what compute_unit gives for its unit alone, wall_seconds aside (the batch's time, shared
// evenly). A member whose result is unusable is a failed record; an exception of the batch as a
// whole (including sim::Cancelled) escapes to the caller.
std::vector<io::UnitRecord> compute_sgd_batch(const SweepGrid& grid, std::span<const WorkUnit* const> units,
                                              const std::atomic<bool>* cancel = nullptr);

// The record of a unit that failed with this message (NaN values, status failed).
io::UnitRecord failed_record(const SweepGrid& grid, const WorkUnit& unit, const std::string& message);

}  // namespace dln::sweep
