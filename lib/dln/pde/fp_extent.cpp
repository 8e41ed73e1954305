#include "dln/pde/fp_extent.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/pde/fp_risk.hpp"

namespace dln::pde::fp {
namespace {

constexpr double core_tail = 1e-12;         // the density's mass left outside the core, per side
constexpr double confinement_rise = 25.0;   // U's rise past the core edge: e^-25 of the density there
constexpr double diffusion_lengths = 4.0;   // free-diffusion lengths sqrt(2 D dt) added per interval
constexpr double narrow_reach = 12.0;       // narrow only a grid reaching this far (in x) past the need
constexpr double slack = 3.0;               // a new extent's margin past the need, in x

// The drift's potential of a network class in x, U = Q cosh x / (2 lr R) - c x / (4 kappa lr R),
// with Q cosh x formed from log Q so that nothing overflows while Q is e^-79 and x is 167.
struct Potential {
    double log_q, target, kappa, lr, risk;
    double operator()(double x) const {
        const double q_cosh = 0.5 * (std::exp(log_q + x) + std::exp(log_q - x));
        return q_cosh / (2.0 * lr * risk) - target * x / (4.0 * kappa * lr * risk);
    }
    // Its minimum, asinh(c / (2 kappa Q)), without overflowing Q^-1.
    double minimum() const {
        if (target == 0.0) return 0.0;
        const double log_ratio = std::log(std::abs(target) / (2.0 * kappa)) - log_q;
        const double x = log_ratio > 20.0 ? log_ratio + std::log(2.0) : std::asinh(std::exp(log_ratio));
        return std::copysign(x, target);
    }
};

// Beyond `start`, on side `side` (+-1), where U (increasing outward from start) reaches `level`.
double rise_to(const Potential& u, double start, double side, double level) {
    if (u(start) >= level) return start;
    double near = 0.0, far = 1.0;
    while (u(start + side * far) < level && far < 1e4) {
        near = far;
        far *= 2.0;
    }
    for (int i = 0; i < 60; ++i) {
        const double mid = 0.5 * (near + far);
        (u(start + side * mid) < level ? near : far) = mid;
    }
    return start + side * far;
}

}  // namespace

double needed_half_width(const Problem& p, std::size_t k, const double* y, double risk, double interval) {
    const Grid& grid = p.grid(k);
    if (p.linear || !(risk > 0.0) || !std::isfinite(risk)) return grid.half_width;
    const CoordinateClass& cls = p.classes[k];
    const double* g = y + p.layout.g(k);
    const std::size_t cells = p.layout.cells(k);
    const double m = y[p.layout.mean(k)], s = std::exp(0.5 * y[p.layout.log_variance(k)]);
    const Potential u{y[p.layout.log_q(k)], cls.target, p.kappa, p.lr, risk};
    double mass = 0.0;
    for (std::size_t j = 0; j < cells; ++j) mass += std::max(g[j], 0.0);
    // The core's edges: the faces beyond which less than core_tail of the mass lies.
    std::size_t lo = 0, hi = cells;
    for (double tail = 0.0; lo < cells && (tail += std::max(g[lo], 0.0)) < core_tail * mass;) ++lo;
    for (double tail = 0.0; hi > lo + 1 && (tail += std::max(g[hi - 1], 0.0)) < core_tail * mass;) --hi;
    const double core[2] = {-grid.half_width + static_cast<double>(lo) * grid.h,
                            -grid.half_width + static_cast<double>(hi) * grid.h};
    const double spread = diffusion_lengths * std::sqrt(2.0 * frame(p, k, y, risk).d * interval);
    const double wall_move = 2.0 * q_rate(p, cls) * risk * interval;
    const double bottom = u.minimum();
    double need = 0.0;
    for (int i = 0; i < 2; ++i) {
        const double side = i == 0 ? -1.0 : 1.0;
        const double edge = m + s * core[i];
        // U is convex: outward from the edge it rises, or first falls to its minimum and then rises.
        const double start = side * (bottom - edge) > 0.0 ? bottom : edge;
        const double confined = rise_to(u, start, side, u(edge) + confinement_rise);
        const double cut = side * std::max(side * confined, side * edge + spread) + side * wall_move;
        need = std::max(need, std::max(0.0, side * (cut - m)) / s);
    }
    return std::min(need, p.width);
}

void remap(const Grid& from, const double* g_from, const Grid& to, double* g_to, double shift, double scale) {
    const std::size_t n = from.cells;
    std::vector<double> slope(n, 0.0);  // minmod of the one-sided differences, per unit of xi
    for (std::size_t j = 1; j + 1 < n; ++j) {
        const double left = g_from[j] - g_from[j - 1], right = g_from[j + 1] - g_from[j];
        if (left * right > 0.0) slope[j] = (std::abs(left) < std::abs(right) ? left : right) / from.h;
    }
    double old_mass = 0.0, new_mass = 0.0;
    for (std::size_t j = 0; j < n; ++j) old_mass += g_from[j] * from.h;
    std::size_t j = 0;
    for (std::size_t i = 0; i < to.cells; ++i) {
        // The new cell's ends in the old coordinate (exactly the new ones when the map is the identity).
        const double start = -to.half_width + static_cast<double>(i) * to.h;
        const double a = (start - shift) / scale, b = (start + to.h - shift) / scale;
        double integral = 0.0;
        while (j < n && -from.half_width + static_cast<double>(j + 1) * from.h <= a) ++j;
        for (std::size_t l = j; l < n; ++l) {
            const double left = -from.half_width + static_cast<double>(l) * from.h, right = left + from.h;
            if (left >= b) break;
            const double lo = std::max(a, left) - from.centre[l], hi = std::min(b, right) - from.centre[l];
            if (hi > lo) integral += g_from[l] * (hi - lo) + 0.5 * slope[l] * (hi * hi - lo * lo);
        }
        g_to[i] = integral / to.h;  // the mass in the new cell per unit of xi' (rescaled below)
        new_mass += integral;
    }
    if (new_mass > 0.0) {
        for (std::size_t i = 0; i < to.cells; ++i) g_to[i] *= old_mass / new_mass;
    }
}

std::size_t adapt_extents(Problem& p, double* y, double interval) {
    if (p.linear) return 0;
    const double r = risk(p, y);
    std::size_t changed = 0;
    std::vector<double> g;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const Grid& grid = p.grid(k);
        const double current = grid.half_width;
        const double need = needed_half_width(p, k, y, r, interval);
        const double s = std::exp(0.5 * y[p.layout.log_variance(k)]);
        const bool widen = need > current && current < p.width;
        const bool narrow = s * (current - need) > narrow_reach;
        if (!widen && !narrow) continue;
        const double next = std::min(p.width, need + slack / s);
        if (next == current) continue;
        double* cls_g = y + p.layout.g(k);
        g.assign(cls_g, cls_g + p.layout.cells(k));
        Grid resized = uniform_grid(p.layout.cells(k), next);
        remap(grid, g.data(), resized, cls_g);
        p.grids[k] = std::move(resized);
        ++changed;
    }
    return changed;
}

std::size_t recentre_frames(const Problem& p, double* y) {
    std::size_t changed = 0;
    std::vector<double> g;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const Grid& grid = p.grid(k);
        double* cls_g = y + p.layout.g(k);
        const std::size_t cells = p.layout.cells(k);
        double mass = 0.0, mean = 0.0;
        for (std::size_t j = 0; j < cells; ++j) {
            mass += cls_g[j];
            mean += cls_g[j] * grid.centre[j];
        }
        mean /= mass;
        double variance = 0.0;
        for (std::size_t j = 0; j < cells; ++j) variance += cls_g[j] * (grid.centre[j] - mean) * (grid.centre[j] - mean);
        variance /= mass;
        if (!(std::abs(mean) > recentre_offset || variance > recentre_spread || variance * recentre_spread < 1.0)) continue;
        // x = m + s xi = m' + s' xi' with m' = m + s E xi, s' = s sqrt(Var xi): xi' = (xi - E xi) / sqrt(Var xi).
        const double deviation = std::sqrt(variance);
        double& m = y[p.layout.mean(k)];
        double& log_v = y[p.layout.log_variance(k)];
        g.assign(cls_g, cls_g + cells);
        remap(grid, g.data(), grid, cls_g, -mean / deviation, 1.0 / deviation);
        m += std::exp(0.5 * log_v) * mean;
        log_v += std::log(variance);
        ++changed;
    }
    return changed;
}

}  // namespace dln::pde::fp
