// Computing one work unit into the record the result file stores (no MPI, no file access).
#pragma once

#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dln/io/result_file.hpp"
#include "dln/pde/error_control.hpp"
#include "dln/sweep/sweep_grid.hpp"

namespace dln::sweep {

// The observable names in file order, and the file layout of a grid (petsc_options left empty:
// the caller says what the sweep saw).
io::ResultLayout result_layout(const SweepGrid& grid);

// The per-unit scalar fields of a method, in file order: the PDE's accuracy (PdeAccuracy but its
// warning), none for sgd and sde.
std::vector<io::ScalarField> unit_scalar_fields(model::Method method);

// The PDE field that says whether a point met pde.rtol (int8 0/1): what dln status counts.
inline constexpr const char* pde_met_tolerance_field = "met_tolerance";

// The values of unit_scalar_fields(pde) for a solve, in that order.
std::vector<double> pde_scalar_values(const pde::PdeAccuracy& accuracy);

// "cells 240, classes 2, estimated error 4.1e-04 (grid 4.0e-04, quadrature 0, time 1.2e-05),
// predicted late-time rate 0.95": what dln run prints on stderr for a PDE solve.
std::string describe_accuracy(const pde::PdeAccuracy& accuracy);

// The PDE accuracy and resolution the configuration asks for.
pde::AccuracySpec pde_accuracy(const config::Config& config);

// A trajectory and, for the PDE, what its error controller chose and estimated.
struct ComputedTrajectory {
    sim::Trajectory trajectory;
    std::optional<pde::PdeAccuracy> accuracy;  // set for the pde method
};

// The unit's trajectory with the given method (for `dln run`, which prints it as it is).
// A raised cancel flag abandons the run by throwing sim::Cancelled.
ComputedTrajectory compute_trajectory(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                                      const std::atomic<bool>* cancel = nullptr);

// Runs the unit's trajectory with the given method. A diverged run is a result (status
// diverged, NaN after the divergence); an exception escapes to the caller. A PDE record carries
// the accuracy as its scalar values, and a warning naming the point when a finished (not
// diverged) solve did not meet pde.rtol.
io::UnitRecord compute_unit(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                            const std::atomic<bool>* cancel = nullptr);

// Several sgd units of one dimension and replicate (any lr and alpha) in lockstep: they share
// every sample, so the generator's cost is paid once (sim::simulate_sgd_batch). Each record is
// bitwise what compute_unit gives for its unit alone, wall_seconds aside (the batch's time, shared
// evenly). A member whose result is unusable is a failed record; an exception of the batch as a
// whole (including sim::Cancelled) escapes to the caller.
std::vector<io::UnitRecord> compute_sgd_batch(const SweepGrid& grid, std::span<const WorkUnit* const> units,
                                              const std::atomic<bool>* cancel = nullptr);

// The record of a unit that failed with this message (NaN values, status failed).
io::UnitRecord failed_record(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                             const std::string& message);

}  // namespace dln::sweep
