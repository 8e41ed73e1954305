// The sweep schedule: the grid lr x dim x alpha x replicate as work units, most expensive first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dln/config/config.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::sweep {

// One trajectory of one method: indices into the axes (lr, dim, alpha, seed).
struct WorkUnit {
    std::size_t id;                   // row-major position in the grid
    std::array<std::size_t, 4> index; // (i_lr, i_dim, i_alpha, i_seed)
    double cost;                      // coordinate-steps of sgd and sde: dim^2 T (T d steps of O(d))
};

class SweepGrid {
public:
    explicit SweepGrid(const config::Config& config);

    std::size_t size() const { return units_.size(); }
    const WorkUnit& unit(std::size_t id) const { return units_[id]; }
    // One trajectory of one method. The PDE does not depend on d or the replicate, so it has one
    // task per (lr, alpha): the unit at the first dim and replicate.
    struct Task {
        std::size_t method;  // index into config().methods
        std::size_t unit;
        double cost;
    };
    // Every task of the sweep, most expensive first; ties in grid order, so every rank agrees.
    const std::vector<Task>& tasks() const { return tasks_; }

    // The grid point and replicate of a unit.
    sim::PointSpec point(const WorkUnit& unit) const;
    std::uint32_t replicate(const WorkUnit& unit) const { return static_cast<std::uint32_t>(unit.index[3]); }
    sim::RunSpec run_spec() const;
    const config::Config& config() const { return config_; }
    // The unit as a reader would name it (the PDE's units have no dim or replicate).
    std::string describe(const WorkUnit& unit, const std::string& method) const;
    // Estimated seconds of computing a unit with a method on one core, for the largest-first
    // schedule and --dry-run: sgd and sde take T d steps of O(d); the PDE's does not grow with d.
    double cost(const WorkUnit& unit, const std::string& method) const;

private:
    config::Config config_;
    std::vector<WorkUnit> units_;
    std::vector<Task> tasks_;
};

}  // namespace dln::sweep
