#include "dln/sweep/sweep_grid.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "dln/pde/class_quadrature.hpp"

namespace dln::sweep {

SweepGrid::SweepGrid(const config::Config& config) : config_(config) {
    const auto& c = config_;
    std::size_t id = 0;
    for (std::size_t l = 0; l < c.lr.size(); ++l)
        for (std::size_t d = 0; d < c.dim.size(); ++d)
            for (std::size_t a = 0; a < c.alpha.size(); ++a)
                for (std::size_t s = 0; s < c.seeds; ++s) {
                    const double dim = static_cast<double>(c.dim[d]);
                    units_.push_back({id++, {l, d, a, s}, dim * dim * c.time});
                }
    for (const auto& unit : units_) {
        for (std::size_t m = 0; m < c.methods.size(); ++m) {
            if (c.methods[m] == "pde" && (unit.index[1] != 0 || unit.index[3] != 0)) continue;
            tasks_.push_back({m, unit.id, cost(unit, c.methods[m])});
        }
    }
    std::stable_sort(tasks_.begin(), tasks_.end(), [](const Task& x, const Task& y) { return x.cost > y.cost; });
}

sim::PointSpec SweepGrid::point(const WorkUnit& unit) const {
    sim::PointSpec p;
    p.parametrization = config_.parametrization;
    p.data = config_.data;
    p.lr = config_.lr[unit.index[0]];
    p.dim = config_.dim[unit.index[1]];
    p.alpha = config_.alpha[unit.index[2]];
    return p;
}

sim::RunSpec SweepGrid::run_spec() const {
    sim::RunSpec r;
    r.time = config_.time;
    r.snapshots = config_.snapshots;
    r.threshold = config_.threshold;
    return r;
}

double SweepGrid::cost(const WorkUnit& unit, const std::string& method) const {
    // Seconds per coordinate per step on one core of the development machine (README
    // "Benchmarks"): an upper bound for sgd, whose units run in lockstep batches that share the
    // samples (0.35-0.65 ns per member). Only the ratios matter for the schedule.
    constexpr double sgd_step = 1.3e-9, sde_step = 3.8e-9;
    if (method == "sgd") return sgd_step * unit.cost;
    if (method == "sde") return sde_step * unit.cost;
    // Measured (README "PDE speed"): about 0.01 s per unit of time and coordinate class at 240
    // cells, growing about linearly with the cells; it does not depend on d. The error
    // controller's whole ladder costs about twice its finest grid, which grows with lr: 120
    // cells at lr <= 1, 480 at 2, 960 at 4 for pde.rtol = 1e-3 (README "The PDE's accuracy").
    pde::QuadratureSpec quadrature;
    if (config_.pde_target_nodes > 0) quadrature.target_nodes = config_.pde_target_nodes;
    if (config_.pde_spectrum_nodes > 0) quadrature.spectrum_nodes = config_.pde_spectrum_nodes;
    const auto p = point(unit);
    double classes = 2.0;
    try {
        classes = static_cast<double>(pde::make_classes(config_.data, config_.parametrization, p.alpha, quadrature).size());
    } catch (const std::invalid_argument&) {
        // The solve will fail at once on this initialisation: it costs nothing to schedule.
    }
    const double cells = config_.pde_cells > 0 ? 1.5 * static_cast<double>(config_.pde_cells)
                                               : 2.0 * std::clamp(240.0 * p.lr, 120.0, 960.0);
    return 0.01 * classes * config_.time * cells / 240.0;
}

std::string SweepGrid::describe(const WorkUnit& unit, const std::string& method) const {
    const auto p = point(unit);
    char text[160];
    if (method == "pde") {
        std::snprintf(text, sizeof text, "lr=%g alpha=%g", p.lr, p.alpha);
        return text;
    }
    std::snprintf(text, sizeof text, "lr=%g dim=%llu alpha=%g seed=%zu", p.lr,
                  static_cast<unsigned long long>(p.dim), p.alpha, unit.index[3]);
    return text;
}

}  // namespace dln::sweep
