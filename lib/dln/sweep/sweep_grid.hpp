// The sweep schedule: the grid lr x dim x alpha x (extra axes) x replicate as work units, most
// expensive first, and where each method's result of a unit goes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dln/config/config.hpp"
#include "dln/model/method.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::sweep {

// One trajectory: a point of the grid and a replicate.
struct WorkUnit {
    std::size_t id;  // row-major position in the grid, over config().axes
    double cost;     // coordinate-steps of sgd and sde: dim^2 T (T d steps of O(d))
};

class SweepGrid {
public:
    explicit SweepGrid(const config::Config& config);

    std::size_t size() const { return units_.size(); }
    const WorkUnit& unit(std::size_t id) const { return units_[id]; }
    // One trajectory of one method.
    struct Task {
        model::Method method;
        std::size_t unit;
        double cost;
    };
    // Every task of the sweep, most expensive first; ties in grid order, so every rank agrees.
    // A method without a dim or seed axis has one task per point of its own axes.
    const std::vector<Task>& tasks() const { return tasks_; }

    // The unit's index on each axis of config().axes, and on one of them.
    std::vector<std::size_t> index(const WorkUnit& unit) const;
    std::size_t index(const WorkUnit& unit, std::size_t axis) const;

    // The axes of a method's results (indices into config().axes), in file order: every axis of
    // the grid but dim and seed where the method has none (model::has_dim_axis, has_seed_axis).
    const std::vector<std::size_t>& method_axes(model::Method method) const;
    // The number of results of a method: the product of its axes' sizes.
    std::size_t method_units(model::Method method) const;
    // Where a unit's result goes in its method's group (row-major over method_axes), and the
    // unit that a position stands for (the first dim and replicate where the method has none).
    std::size_t position(model::Method method, const WorkUnit& unit) const;
    const WorkUnit& unit_at(model::Method method, std::size_t position) const;
    // Whether the method computes this unit itself (not only a representative of it).
    bool computes(model::Method method, const WorkUnit& unit) const;

    // Units with the same key share their samples (one dim, model, data and replicate: only lr
    // and alpha differ), so they can run in lockstep (sim::simulate_sgd_batch).
    std::size_t batch_key(const WorkUnit& unit) const;
    // Units with the same family key differ only in lr, alpha and replicate (one dim, model and
    // data), and those with the same point key only in replicate. The replicate is the last axis,
    // so a point's replicates are consecutive rows of the file, in replicate order.
    std::size_t family_key(const WorkUnit& unit) const;
    std::size_t point_key(const WorkUnit& unit) const;

    // The grid point and replicate of a unit.
    sim::PointSpec point(const WorkUnit& unit) const;
    std::uint32_t replicate(const WorkUnit& unit) const;
    sim::RunSpec run_spec() const;
    const config::Config& config() const { return config_; }
    // The unit as a reader would name it, on its method's axes: "lr=1 dim=500 alpha=0.1 seed=0".
    std::string describe(const WorkUnit& unit, model::Method method) const;
    // Estimated seconds of computing a unit with a method on one core, for the largest-first
    // schedule and --dry-run: sgd and sde take T d steps of O(d); the PDE's does not grow with d.
    double cost(const WorkUnit& unit, model::Method method) const;

private:
    config::Config config_;
    std::vector<std::size_t> strides_;  // of each axis in the row-major unit id
    std::array<std::vector<std::size_t>, 3> method_axes_;
    std::vector<WorkUnit> units_;
    std::vector<Task> tasks_;
};

}  // namespace dln::sweep
