// Computing one work unit into the record the result file stores (no MPI, no file access).
#pragma once

#include <atomic>
#include <string>

#include "dln/io/result_file.hpp"
#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/sweep/sweep_grid.hpp"

namespace dln::sweep {

// The observable names in file order, and the file layout of a grid.
io::ResultLayout result_layout(const SweepGrid& grid);

// The PDE discretisation the configuration asks for.
pde::PdeSpec pde_spec(const config::Config& config);

// The unit's trajectory with the given method (for `dln run`, which prints it as it is).
// A raised cancel flag abandons the run by throwing sim::Cancelled.
sim::Trajectory compute_trajectory(const SweepGrid& grid, const WorkUnit& unit, const std::string& method,
                                   const std::atomic<bool>* cancel = nullptr);

// Runs the unit's trajectory with the given method. A diverged run is a result (status
// diverged, NaN after the divergence); an exception escapes to the caller.
io::UnitRecord compute_unit(const SweepGrid& grid, const WorkUnit& unit, const std::string& method,
                            const std::atomic<bool>* cancel = nullptr);

}  // namespace dln::sweep
