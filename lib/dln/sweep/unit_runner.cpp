#include "dln/sweep/unit_runner.hpp"

#include <chrono>
#include <stdexcept>

#include "dln/sim/sgd_simulator.hpp"
#include "dln/version.hpp"

namespace dln::sweep {

io::ResultLayout result_layout(const SweepGrid& grid) {
    const auto& c = grid.config();
    io::ResultLayout layout;
    layout.lr = c.lr;
    layout.dim = c.dim;
    layout.alpha = c.alpha;
    layout.seeds = c.seeds;
    layout.time = sim::snapshot_times(grid.run_spec());
    layout.methods = c.methods;
    for (const auto name : model::observable_names) layout.observables.emplace_back(name);
    layout.config = c.ini;
    layout.version = version;
    return layout;
}

sim::Trajectory compute_trajectory(const SweepGrid& grid, const WorkUnit& unit, const std::string& method) {
    if (method != "sgd") throw std::invalid_argument("method '" + method + "' is not implemented");
    return sim::simulate_sgd(grid.point(unit), grid.run_spec(), grid.config().seed, grid.replicate(unit));
}

io::UnitRecord compute_unit(const SweepGrid& grid, const WorkUnit& unit, const std::string& method) {
    const auto start = std::chrono::steady_clock::now();
    const auto trajectory = compute_trajectory(grid, unit, method);

    io::UnitRecord record;
    record.index = unit.index;
    record.status = trajectory.diverged ? io::UnitStatus::diverged : io::UnitStatus::done;
    record.diverged_at = trajectory.diverged_at;
    const std::size_t n_time = trajectory.snapshots.size();
    record.values.resize(model::observable_count * n_time);
    for (std::size_t j = 0; j < n_time; ++j) {
        for (std::size_t k = 0; k < model::observable_count; ++k) {
            record.values[k * n_time + j] = trajectory.snapshots[j][k];
        }
    }
    record.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return record;
}

}  // namespace dln::sweep
