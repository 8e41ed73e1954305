#include "dln/sweep/sweep_grid.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

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
    schedule_.resize(units_.size());
    std::iota(schedule_.begin(), schedule_.end(), std::size_t{0});
    std::stable_sort(schedule_.begin(), schedule_.end(),
                     [&](std::size_t x, std::size_t y) { return units_[x].cost > units_[y].cost; });
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

std::string SweepGrid::describe(const WorkUnit& unit) const {
    const auto p = point(unit);
    char text[160];
    std::snprintf(text, sizeof text, "lr=%g dim=%llu alpha=%g seed=%zu", p.lr,
                  static_cast<unsigned long long>(p.dim), p.alpha, unit.index[3]);
    return text;
}

}  // namespace dln::sweep
