#include "dln/sweep/unit_runner.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dln/pde/error_control.hpp"
#include "dln/sim/sde_simulator.hpp"
#include "dln/sim/sgd_simulator.hpp"
#include "dln/version.hpp"

namespace dln::sweep {

namespace {

// An axis of the sweep as a dimension of the file: its name, coordinates and key.
io::Dimension file_dimension(const config::SweepAxis& axis) {
    if (axis.categorical) return io::Dimension::names(axis.name, axis.labels, axis.long_name, axis.key);
    return io::Dimension::numeric(axis.name, axis.values, axis.long_name, axis.key, axis.integer);
}

}  // namespace

io::ResultLayout result_layout(const SweepGrid& grid) {
    const auto& c = grid.config();
    io::ResultLayout layout;
    layout.time = sim::snapshot_times(grid.run_spec());
    for (auto method : c.methods) {
        io::GroupLayout group;
        group.name = std::string(model::name(method));
        for (std::size_t k : grid.method_axes(method)) group.dims.push_back(file_dimension(c.axes[k]));
        for (std::size_t k = 0; k < model::observable_count; ++k) {
            group.curves.push_back({std::string(model::observable_names[k]), std::string(model::observable_long_names[k])});
        }
        group.scalars = unit_scalar_fields(method);
        layout.groups.push_back(std::move(group));
    }
    layout.config = c.ini;
    layout.version = version;
    return layout;
}

namespace {

// The PDE's per-unit fields and where each value comes from: one table, so the file layout and
// the values written can never disagree on the order.
struct PdeField {
    io::ScalarField field;
    double (*value)(const pde::PdeAccuracy&);
};

const std::vector<PdeField>& pde_fields() {
    using io::ScalarType;
    using A = pde::PdeAccuracy;
    static const std::vector<PdeField> fields = {
        {{"error_estimate", ScalarType::float64,
          "estimated relative error of the excess risk (grid + quadrature + width + time parts)", "1"},
         [](const A& a) { return a.error_estimate; }},
        {{"grid_error", ScalarType::float64, "part of the error estimate due to the finite-volume grid", "1"},
         [](const A& a) { return a.grid_error; }},
        {{"quadrature_error", ScalarType::float64, "part of the error estimate due to the class quadrature", "1"},
         [](const A& a) { return a.quadrature_error; }},
        {{"time_error", ScalarType::float64, "part of the error estimate due to the time integration", "1"},
         [](const A& a) { return a.time_error; }},
        {{"width_error", ScalarType::float64, "part of the error estimate due to the walls' cut at +-width deviations", "1"},
         [](const A& a) { return a.width_error; }},
        {{"width", ScalarType::float64, "half-width of the co-moving grids, in class standard deviations", "1"},
         [](const A& a) { return a.width; }},
        {{"cells", ScalarType::int64, "finite volumes per class", ""},
         [](const A& a) { return static_cast<double>(a.cells); }},
        {{"classes", ScalarType::int64, "coordinate classes", ""},
         [](const A& a) { return static_cast<double>(a.classes); }},
        {{"target_nodes", ScalarType::int64, "quadrature nodes of the target law (0: a discrete law)", ""},
         [](const A& a) { return static_cast<double>(a.target_nodes); }},
        {{"spectrum_nodes", ScalarType::int64, "quadrature nodes of the spectrum (0: a discrete law)", ""},
         [](const A& a) { return static_cast<double>(a.spectrum_nodes); }},
        {{"predicted_rate", ScalarType::float64,
          "late-time rate rho of the excess risk predicted by the linearisation (THEORY.md 5); NaN if none", ""},
         [](const A& a) { return a.predicted_rate; }},
        {{pde_met_tolerance_field, ScalarType::int8, "whether the error estimate met pde.rtol", "", {0, 1},
          "not_met met"},
         [](const A& a) { return a.met_tolerance ? 1.0 : 0.0; }},
    };
    return fields;
}

std::string short_number(double x, const char* format) {
    if (x == 0.0) return "0";
    if (std::isnan(x)) return "nan";
    char text[32];
    std::snprintf(text, sizeof text, format, x);
    return text;
}

}  // namespace

std::vector<io::ScalarField> unit_scalar_fields(model::Method method) {
    std::vector<io::ScalarField> fields;
    if (method != model::Method::pde) return fields;
    for (const auto& f : pde_fields()) fields.push_back(f.field);
    return fields;
}

std::vector<double> pde_scalar_values(const pde::PdeAccuracy& accuracy) {
    std::vector<double> values;
    for (const auto& f : pde_fields()) values.push_back(f.value(accuracy));
    return values;
}

std::string describe_accuracy(const pde::PdeAccuracy& a) {
    std::string text = "cells " + std::to_string(a.cells) + ", classes " + std::to_string(a.classes);
    if (a.target_nodes > 0) text += ", target nodes " + std::to_string(a.target_nodes);
    if (a.spectrum_nodes > 0) text += ", spectrum nodes " + std::to_string(a.spectrum_nodes);
    text += ", estimated error " + short_number(a.error_estimate, "%.1e") + " (grid " +
            short_number(a.grid_error, "%.1e") + ", quadrature " + short_number(a.quadrature_error, "%.1e") +
            ", width " + short_number(a.width_error, "%.1e") + " at " + short_number(a.width, "%g") +
            " deviations, time " + short_number(a.time_error, "%.1e") + "), predicted late-time rate " +
            short_number(a.predicted_rate, "%.4g");
    return text;
}

pde::AccuracySpec pde_accuracy(const config::Config& c) {
    pde::AccuracySpec spec;
    spec.rtol = c.pde_rtol;
    spec.cells = c.pde_cells;
    spec.width = c.pde_width;
    spec.max_width = c.pde_max_width;
    spec.target_nodes = c.pde_target_nodes;
    spec.spectrum_nodes = c.pde_spectrum_nodes;
    spec.max_cells = c.pde_max_cells;
    spec.max_classes = c.pde_max_classes;
    return spec;
}

ComputedTrajectory compute_trajectory(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                                      const std::atomic<bool>* cancel) {
    const auto point = grid.point(unit);
    const auto& c = grid.config();
    auto run = grid.run_spec();
    run.cancel = cancel;
    if (method == model::Method::sgd) return {sim::simulate_sgd(point, run, c.seed, grid.replicate(unit)), std::nullopt};
    if (method == model::Method::sde) {
        const double dt = c.sde_dt > 0.0 ? c.sde_dt : 1.0 / static_cast<double>(point.dim);
        return {sim::simulate_sde(point, run, c.seed, grid.replicate(unit), dt), std::nullopt};
    }
    if (method == model::Method::pde) {
        auto solved = pde::solve_pde_to_tolerance(point, run, pde_accuracy(c));
        ComputedTrajectory out;
        out.accuracy = std::move(solved.accuracy);
        out.trajectory = std::move(static_cast<sim::Trajectory&>(solved));  // the accuracy is kept above
        return out;
    }
    throw std::logic_error("a method without an implementation");
}

namespace {

// DLN_FAIL_UNIT=<method>:<unit id> makes that unit throw, so tests can check that a failing unit
// is isolated, recorded and retried (the same unit whatever the ranks, unlike a failpoint count).
void inject_failure(const WorkUnit& unit, model::Method method) {
    static const std::string target = [] {
        const char* spec = std::getenv("DLN_FAIL_UNIT");
        return std::string(spec ? spec : "");
    }();
    if (!target.empty() && target == std::string(model::name(method)) + ":" + std::to_string(unit.id)) {
        throw std::runtime_error("injected failure (DLN_FAIL_UNIT=" + target + ")");
    }
}

// The observables that are finite in every run that has not diverged (balance is NaN for linear,
// false_support when the target has no zero coordinate).
constexpr model::Observable always_finite[] = {model::risk,      model::excess,   model::dist,
                                               model::l1,        model::curvature, model::gradnorm};

}  // namespace

namespace {

// The record of a computed trajectory; a run that did not diverge yet has a non-finite observable
// that must be finite is an error (thrown), not a result.
io::UnitRecord make_record(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                           const sim::Trajectory& trajectory, double seconds) {
    if (!trajectory.diverged) {
        const auto times = sim::snapshot_times(grid.run_spec());
        for (std::size_t j = 0; j < trajectory.snapshots.size(); ++j) {
            for (const auto k : always_finite) {
                if (!std::isfinite(trajectory.snapshots[j][k])) {
                    throw std::runtime_error("non-finite " + std::string(model::observable_names[k]) + " at t = " +
                                             std::to_string(times[j]) + " in a run that did not diverge");
                }
            }
        }
    }
    io::UnitRecord record;
    record.position = grid.position(method, unit);
    record.status = trajectory.diverged ? io::UnitStatus::diverged : io::UnitStatus::done;
    record.diverged_at = trajectory.diverged_at;
    const std::size_t n_time = trajectory.snapshots.size();
    record.values.resize(model::observable_count * n_time);
    for (std::size_t j = 0; j < n_time; ++j) {
        for (std::size_t k = 0; k < model::observable_count; ++k) {
            record.values[k * n_time + j] = trajectory.snapshots[j][k];
        }
    }
    record.wall_seconds = seconds;
    return record;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

io::UnitRecord failed_record(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                             const std::string& message) {
    io::UnitRecord record;
    record.position = grid.position(method, unit);
    record.status = io::UnitStatus::failed;
    record.values.assign(model::observable_count * grid.config().snapshots, std::nan(""));
    record.diverged_at = std::nan("");
    record.message = message;
    return record;
}

io::UnitRecord compute_unit(const SweepGrid& grid, const WorkUnit& unit, model::Method method,
                            const std::atomic<bool>* cancel) {
    const auto start = std::chrono::steady_clock::now();
    inject_failure(unit, method);
    const auto computed = compute_trajectory(grid, unit, method, cancel);
    auto record = make_record(grid, unit, method, computed.trajectory, seconds_since(start));
    if (computed.accuracy) {
        const auto& a = *computed.accuracy;
        record.scalars = pde_scalar_values(a);
        if (!a.met_tolerance && record.status == io::UnitStatus::done) {
            record.warning = !a.warning.empty()
                ? a.warning
                : "pde " + grid.describe(unit, method) + ": pde.rtol = " + short_number(grid.config().pde_rtol, "%g") +
                      " not met (estimated error " + short_number(a.error_estimate, "%.1e") + ")";
        }
    }
    return record;
}

std::vector<io::UnitRecord> compute_sgd_batch(const SweepGrid& grid, std::span<const WorkUnit* const> units,
                                              const std::atomic<bool>* cancel) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<io::UnitRecord> records(units.size());
    std::vector<std::size_t> members;  // those that are computed: all but injected failures
    std::vector<sim::PointSpec> points;
    for (std::size_t i = 0; i < units.size(); ++i) {
        try {
            inject_failure(*units[i], model::Method::sgd);
        } catch (const std::exception& e) {
            records[i] = failed_record(grid, *units[i], model::Method::sgd, e.what());
            continue;
        }
        members.push_back(i);
        points.push_back(grid.point(*units[i]));
    }
    if (points.empty()) return records;
    auto run = grid.run_spec();
    run.cancel = cancel;
    const auto& first = *units[members.front()];
    const auto trajectories = sim::simulate_sgd_batch(points, run, grid.config().seed, grid.replicate(first));
    // The batch's time, shared evenly: its members were computed together.
    const double share = seconds_since(start) / static_cast<double>(members.size());
    for (std::size_t m = 0; m < members.size(); ++m) {
        const auto& unit = *units[members[m]];
        try {
            records[members[m]] = make_record(grid, unit, model::Method::sgd, trajectories[m], share);
        } catch (const std::exception& e) {
            records[members[m]] = failed_record(grid, unit, model::Method::sgd, e.what());
        }
    }
    return records;
}

}  // namespace dln::sweep
