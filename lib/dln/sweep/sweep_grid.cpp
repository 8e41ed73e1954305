#include "dln/sweep/sweep_grid.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "dln/pde/class_quadrature.hpp"

namespace dln::sweep {

SweepGrid::SweepGrid(const config::Config& config) : config_(config) {
    const auto& axes = config_.axes;
    strides_.assign(axes.size(), 1);
    for (std::size_t k = axes.size() - 1; k-- > 0;) strides_[k] = strides_[k + 1] * axes[k + 1].size();
    const std::size_t total = strides_.front() * axes.front().size();
    for (auto m : model::all_methods) {
        auto& own = method_axes_[static_cast<std::size_t>(m)];
        for (std::size_t k = 0; k < axes.size(); ++k) {
            if (k == config::Config::dim_axis && !model::has_dim_axis(m)) continue;
            if (k == config_.seed_axis() && !model::has_seed_axis(m)) continue;
            own.push_back(k);
        }
    }
    units_.reserve(total);
    for (std::size_t id = 0; id < total; ++id) {
        const double dim = static_cast<double>(config_.dim[id / strides_[config::Config::dim_axis] %
                                                           axes[config::Config::dim_axis].size()]);
        units_.push_back({id, dim * dim * config_.time});
    }
    for (const auto& unit : units_) {
        for (auto m : config_.methods) {
            if (computes(m, unit)) tasks_.push_back({m, unit.id, cost(unit, m)});
        }
    }
    std::stable_sort(tasks_.begin(), tasks_.end(), [](const Task& x, const Task& y) { return x.cost > y.cost; });
}

std::vector<std::size_t> SweepGrid::index(const WorkUnit& unit) const {
    std::vector<std::size_t> out(strides_.size());
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = index(unit, k);
    return out;
}

std::size_t SweepGrid::index(const WorkUnit& unit, std::size_t axis) const {
    return unit.id / strides_[axis] % config_.axes[axis].size();
}

const std::vector<std::size_t>& SweepGrid::method_axes(model::Method method) const {
    return method_axes_[static_cast<std::size_t>(method)];
}

std::size_t SweepGrid::method_units(model::Method method) const {
    std::size_t n = 1;
    for (std::size_t k : method_axes(method)) n *= config_.axes[k].size();
    return n;
}

bool SweepGrid::computes(model::Method method, const WorkUnit& unit) const {
    const auto& own = method_axes(method);
    for (std::size_t k = 0; k < strides_.size(); ++k) {
        if (index(unit, k) != 0 && std::find(own.begin(), own.end(), k) == own.end()) return false;
    }
    return true;
}

std::size_t SweepGrid::position(model::Method method, const WorkUnit& unit) const {
    std::size_t p = 0;
    for (std::size_t k : method_axes(method)) p = p * config_.axes[k].size() + index(unit, k);
    return p;
}

const WorkUnit& SweepGrid::unit_at(model::Method method, std::size_t position) const {
    const auto& own = method_axes(method);
    std::size_t id = 0;
    for (std::size_t j = own.size(); j-- > 0;) {
        const std::size_t n = config_.axes[own[j]].size();
        id += position % n * strides_[own[j]];
        position /= n;
    }
    return units_.at(id);
}

std::size_t SweepGrid::batch_key(const WorkUnit& unit) const {
    using config::Config;
    return unit.id - index(unit, Config::lr_axis) * strides_[Config::lr_axis] -
           index(unit, Config::alpha_axis) * strides_[Config::alpha_axis];
}

std::size_t SweepGrid::family_key(const WorkUnit& unit) const {
    return batch_key(unit) - index(unit, config_.seed_axis()) * strides_[config_.seed_axis()];
}

std::size_t SweepGrid::point_key(const WorkUnit& unit) const {
    return unit.id - index(unit, config_.seed_axis()) * strides_[config_.seed_axis()];
}

sim::PointSpec SweepGrid::point(const WorkUnit& unit) const {
    using config::Config;
    std::vector<std::size_t> extra;
    for (std::size_t k = Config::first_extra_axis; k < config_.seed_axis(); ++k) extra.push_back(index(unit, k));
    const auto model = config_.model_at(extra);
    sim::PointSpec p;
    p.parametrization = model.parametrization;
    p.data = model.data;
    p.lr = config_.lr[index(unit, Config::lr_axis)];
    p.dim = config_.dim[index(unit, Config::dim_axis)];
    p.alpha = config_.alpha[index(unit, Config::alpha_axis)];
    return p;
}

std::uint32_t SweepGrid::replicate(const WorkUnit& unit) const {
    return static_cast<std::uint32_t>(index(unit, config_.seed_axis()));
}

sim::RunSpec SweepGrid::run_spec() const {
    sim::RunSpec r;
    r.time = config_.time;
    r.snapshots = config_.snapshots;
    r.threshold = config_.threshold;
    return r;
}

double SweepGrid::cost(const WorkUnit& unit, model::Method method) const {
    // Seconds per coordinate per step on one core of the development machine (README
    // "Benchmarks"): an upper bound for sgd, whose units run in lockstep batches that share the
    // samples (0.35-0.65 ns per member). Only the ratios matter for the schedule.
    constexpr double sgd_step = 1.3e-9, sde_step = 3.8e-9;
    if (method == model::Method::sgd) return sgd_step * unit.cost;
    if (method == model::Method::sde) return sde_step * unit.cost;
    // Measured (README "PDE speed"): about 0.01 s per unit of time and coordinate class at 240
    // cells, growing about linearly with the cells; it does not depend on d. The error
    // controller's whole ladder costs about twice its finest grid, which grows with lr: 120
    // cells at lr <= 1, 480 at 2, 960 at 4 for pde.rtol = 1e-3 (README "The PDE's accuracy").
    // The classes are those the controller ends with: a continuous law is refined to about 32
    // target or 64 spectrum nodes at the default rtol, within pde.max_classes. Measured against
    // the whole command (2026-12-01, per class and unit of time): 0.007 s for the gaussian
    // target (33 classes), 0.006 s for Marchenko-Pastur (64), 0.007 s for the power law (128),
    // 0.012 s for gaussian x power law (136, at the cap); the rule's 0.01 s is within 2x of each.
    constexpr std::size_t auto_target_nodes = 32, auto_spectrum_nodes = 64;
    pde::QuadratureSpec quadrature;
    quadrature.target_nodes = config_.pde_target_nodes > 0 ? config_.pde_target_nodes : auto_target_nodes;
    quadrature.spectrum_nodes = config_.pde_spectrum_nodes > 0 ? config_.pde_spectrum_nodes : auto_spectrum_nodes;
    const auto p = point(unit);
    double classes = 2.0;
    try {
        classes = static_cast<double>(pde::make_classes(p.data, p.parametrization, p.alpha, quadrature).size());
    } catch (const std::invalid_argument&) {
        // The solve will fail at once on this initialisation: it costs nothing to schedule.
    }
    if (config_.pde_max_classes > 0) classes = std::min(classes, static_cast<double>(config_.pde_max_classes));
    const double cells = config_.pde_cells > 0 ? 1.5 * static_cast<double>(config_.pde_cells)
                                               : 2.0 * std::clamp(240.0 * p.lr, 120.0, 960.0);
    return 0.01 * classes * config_.time * cells / 240.0;
}

std::string SweepGrid::describe(const WorkUnit& unit, model::Method method) const {
    std::string text;
    for (std::size_t k : method_axes(method)) {
        const auto& axis = config_.axes[k];
        text += (text.empty() ? "" : " ") + axis.name + "=" + axis.labels[index(unit, k)];
    }
    return text;
}

}  // namespace dln::sweep
