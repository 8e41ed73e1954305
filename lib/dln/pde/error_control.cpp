#include "dln/pde/error_control.hpp"

#include <petscsys.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <tuple>

#include "dln/pde/late_time_rate.hpp"

namespace dln::pde {

double excess_risk_error(const sim::Trajectory& approx, const sim::Trajectory& reference, double noise) {
    const double floor_noise = 0.5 * noise * noise;
    const std::size_t n = std::min(approx.snapshots.size(), reference.snapshots.size());
    if (n == 0) return 0.0;
    const double e0 = reference.snapshots[0][model::risk] - floor_noise;
    double worst = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        const double a = approx.snapshots[j][model::risk] - floor_noise;
        const double r = reference.snapshots[j][model::risk] - floor_noise;
        const bool fa = std::isfinite(a), fr = std::isfinite(r);
        if (fa != fr) return std::numeric_limits<double>::infinity();
        if (!fa) continue;
        worst = std::max(worst, std::abs(a - r) / std::max(std::abs(r), error_floor * std::abs(e0)));
    }
    return worst;
}

namespace {

// How the tolerance is shared between the four parts. The time integration is the cheapest to
// make accurate (a tighter TS tolerance costs a few more steps), so it gets the smallest share.
// A point whose laws are both discrete has no quadrature part, and its share goes to the width.
struct Shares {
    double time, grid, quadrature, width;
};
Shares shares(bool quadrature_estimated) {
    return quadrature_estimated ? Shares{0.1, 0.4, 0.4, 0.1} : Shares{0.1, 0.45, 0.0, 0.45};
}

// The TS tolerance the first solve uses, as a fraction of pde.rtol. Measured on the linear
// closed form and the default point (README "The PDE's accuracy"): the time error in the excess
// risk is 1 to 30 times the TS rtol, so rtol / 300 leaves at most a tenth of pde.rtol.
constexpr double ts_rtol_fraction = 1.0 / 300.0;
constexpr double ts_atol_fraction = 1e-3;  // TS atol = this * TS rtol (the state is O(1))
// The coarsest grid of the automatic ladder, and the grid the quadrature and the time error are
// estimated on (their differences are smooth in the grid: a coarse grid measures them to a few
// per cent of themselves).
constexpr std::size_t first_cells = 30;

// Richardson's denominator 2^p - 1 for an observed order p. With two levels only the nominal
// order of the method is known; with three, the observed order, kept within [1, nominal]: a
// pre-asymptotic ladder converging more slowly than its nominal order must not be credited
// with the nominal order, and one converging faster is not trusted beyond it.
double richardson(double coarse_difference, double fine_difference, double assumed, double nominal) {
    double p = assumed;
    if (coarse_difference > 0.0 && fine_difference > 0.0 && std::isfinite(coarse_difference)) {
        p = std::clamp(std::log2(coarse_difference / fine_difference), 1.0, nominal);
    }
    return std::pow(2.0, p) - 1.0;
}

// Where the continuous laws' node counts start, and the order credited to their rules before
// three levels show the observed one (composite Gauss-Legendre with 4 points per panel is of
// order 8 in the panel width for smooth integrands; the moving transition of the target law
// makes it pre-asymptotic at the counts used, so only order 2 is assumed).
constexpr std::size_t first_target_nodes = 8, first_spectrum_nodes = 8;
constexpr double assumed_quadrature_order = 2.0, nominal_quadrature_order = 8.0;

// The power law starts at 4 spectrum nodes. That rule is the one the grid, the time and the width
// are studied at, and a power-law class costs by its lambda (the solve's steps follow its fastest
// class): the graded rule's top node is at lambda ~ 24 at 4 nodes and ~ 48 at 8, and at 8 nodes (16
// classes) those studies took 1.85 s of a 3.45 s point against 0.70 s at 4 (a = 0.5, T = 4, load
// ~5, 2026-12-01). The grid's error differs between the two rules only through how it varies over
// the classes, which the combination's correction X(M, 2M; n) - X(M, 2M; n0) carries and estimates
// (1.7e-4 at 4 nodes, 1.1e-4 at 8); the result moved by 4.9e-5. The quadrature's ladder still
// starts at 8 nodes: started at 4, the order it observed over 4 -> 8 -> 16 (3.7) was pre-
// asymptotic, and it stopped at 16 nodes with an estimate of 2.8e-4 where the true error was 5.6e-4
// (the accuracy test's T = 1). Not for Marchenko-Pastur: at 4 nodes its grid study chose 240 cells
// and width 24 where 8 nodes give 160 cells and 16, and its estimate rose from 3.3e-4 to 7.7e-4.
// Under a gaussian target (the product law) the grid is studied at 8 x 4 nodes, and the sparse
// quadrature's ladders still start at 8 x 8, as before: 29.8 -> 24.9 s at a = 0.5, s = 0.1 (load
// ~3.5-5), the result moved by 3.0e-5, the accuracy test's estimate and true error the same to
// three digits (1.65e-3, 1.23e-3).
std::size_t first_spectrum_nodes_of(const model::DataSpec& data) {
    return data.spectrum == model::Spectrum::powerlaw ? 4 : first_spectrum_nodes;
}

struct Resolution {
    std::size_t cells, target_nodes, spectrum_nodes;
    double ts_rtol;
    double width;  // the half-width of every class's grid, in its deviations (pde.width)
    bool operator<(const Resolution& o) const {
        return std::tie(cells, target_nodes, spectrum_nodes, ts_rtol, width) <
               std::tie(o.cells, o.target_nodes, o.spectrum_nodes, o.ts_rtol, o.width);
    }
};

// The solves of one point, each computed once.
class Ladder {
public:
    Ladder(const sim::PointSpec& point, const sim::RunSpec& run)
        : point_(point), run_(run), trace_(std::getenv("DLN_PDE_TRACE") != nullptr) {}

    const PdeTrajectory& solve(const Resolution& r) {
        auto found = cache_.find(r);
        if (found != cache_.end()) return found->second;
        PdeSpec one;
        one.cells = r.cells;
        one.width = r.width;
        one.quadrature.target_nodes = r.target_nodes;
        one.quadrature.spectrum_nodes = r.spectrum_nodes;
        one.rtol = r.ts_rtol;
        one.atol = ts_atol_fraction * r.ts_rtol;
        const auto classes = make_classes(point_.data, point_.parametrization, point_.alpha, one.quadrature);
        FokkerPlanckSolver solver(point_.parametrization, point_.lr, point_.data.noise, classes, one);
        const auto start = std::chrono::steady_clock::now();
        auto trajectory = solver.run(run_);
        if (trace_) {  // DLN_PDE_TRACE: one line per solve of the controller, for where its time goes
            std::fprintf(stderr, "dln: pde solve: cells %zu, width %g, nodes %zu x %zu, ts_rtol %.1e, classes %zu: %zu steps, %.3f s\n",
                         r.cells, r.width, r.target_nodes, r.spectrum_nodes, r.ts_rtol, classes.size(), trajectory.steps,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        trajectory.accuracy.cells = r.cells;
        trajectory.accuracy.classes = classes.size();
        class_lists_[r] = classes;
        return cache_.emplace(r, std::move(trajectory)).first->second;
    }

    // The classes of a resolution's quadrature (solved or not: the combination of step 4 never
    // solves the fine grid at the fine quadrature).
    const std::vector<CoordinateClass>& class_list(const Resolution& r) {
        auto found = class_lists_.find(r);
        if (found != class_lists_.end()) return found->second;
        QuadratureSpec q;
        q.target_nodes = r.target_nodes;
        q.spectrum_nodes = r.spectrum_nodes;
        return class_lists_.emplace(r, make_classes(point_.data, point_.parametrization, point_.alpha, q)).first->second;
    }

    double noise() const { return point_.data.noise; }

    double error(const Resolution& a, const Resolution& b) {
        return excess_risk_error(solve(a), solve(b), point_.data.noise);
    }

private:
    const sim::PointSpec& point_;
    const sim::RunSpec& run_;
    bool trace_;
    std::map<Resolution, PdeTrajectory> cache_;
    std::map<Resolution, std::vector<CoordinateClass>> class_lists_;
};

// A PETSc option that overrides the TS tolerances makes every solve use the same ones, so the
// time error cannot be estimated by changing them.
bool ts_tolerance_overridden() {
    PetscBool rtol = PETSC_FALSE, atol = PETSC_FALSE;
    PetscOptionsHasName(nullptr, nullptr, "-ts_rtol", &rtol);
    PetscOptionsHasName(nullptr, nullptr, "-ts_atol", &atol);
    return rtol == PETSC_TRUE || atol == PETSC_TRUE;
}

// Doubles one resolution (the nodes of one law, through `with`) from `start` until the
// Richardson estimate of the finer level's error is within `budget` or the next level would
// exceed `cap`. Returns the chosen level and its estimate. An explicit value is used as given,
// its error estimated from the level below it.
struct Refined {
    std::size_t value;
    double estimate;
};

template <class With>
Refined refine(Ladder& ladder, std::size_t start, std::size_t cap, double budget, double assumed_order,
               double nominal_order, With with, bool explicit_value) {
    if (explicit_value || 2 * start > cap) {  // no room to refine: the estimate of this level alone
        const std::size_t coarse = std::max<std::size_t>(1, start / 2);
        if (coarse == start) return {start, std::numeric_limits<double>::quiet_NaN()};
        const double ratio = static_cast<double>(start) / static_cast<double>(coarse);
        const double difference = ladder.error(with(coarse), with(start));
        return {start, difference / (std::pow(ratio, assumed_order) - 1.0)};
    }
    std::size_t n = start;
    double previous = std::numeric_limits<double>::quiet_NaN();
    double estimate = std::numeric_limits<double>::infinity();
    while (2 * n <= cap) {
        const double difference = ladder.error(with(n), with(2 * n));
        estimate = difference / richardson(previous, difference, assumed_order, nominal_order);
        n *= 2;
        if (estimate <= budget) break;
        previous = difference;
    }
    return {n, estimate};
}

// Richardson extrapolation in the cell width of two solves on grids h and h/2: the finite-volume
// scheme is symmetric, so its error expands in even powers of h, and X = R_fine + (R_fine -
// R_coarse)/3 removes the h^2 term (measured: X converges like h^4, README "The PDE's accuracy").
// Every observable that is a smooth integral of the densities is extrapolated; false_support
// counts coordinates past a threshold, which is not smooth in h, and is the fine grid's.
PdeTrajectory extrapolate(const PdeTrajectory& coarse, const PdeTrajectory& fine) {
    PdeTrajectory out = fine;
    for (std::size_t j = 0; j < out.snapshots.size() && j < coarse.snapshots.size(); ++j) {
        for (std::size_t k = 0; k < model::observable_count; ++k) {
            if (k == model::false_support) continue;
            const double f = fine.snapshots[j][k], c = coarse.snapshots[j][k];
            if (std::isfinite(f) && std::isfinite(c)) out.snapshots[j][k] = f + (f - c) / 3.0;
        }
    }
    return out;
}

// X(N/2, N) of resolution r (N = r.cells): the extrapolated pair every result and study uses.
PdeTrajectory extrapolated(Ladder& ladder, const Resolution& r) {
    Resolution half = r;
    half.cells = r.cells / 2;
    return extrapolate(ladder.solve(half), ladder.solve(r));
}

// base + plus - minus in every observable that extrapolate() extrapolates (the combination of
// step 4 of solve_pde_to_tolerance); everything else, false_support and the class diagnostics
// included, is plus's (the solve at the chosen quadrature, so the classes match its class list).
PdeTrajectory combine(const PdeTrajectory& base, const PdeTrajectory& plus, const PdeTrajectory& minus) {
    PdeTrajectory out = plus;
    const std::size_t n = std::min({base.snapshots.size(), plus.snapshots.size(), minus.snapshots.size()});
    out.snapshots.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = 0; k < model::observable_count; ++k) {
            if (k == model::false_support) continue;
            out.snapshots[j][k] = base.snapshots[j][k] + plus.snapshots[j][k] - minus.snapshots[j][k];
        }
    }
    return out;
}

// The grid ladder N0, 2 N0, 4 N0, ...: solves R_k, extrapolations X_k = X(R_{k-1}, R_k), and
// the estimate of X_k's error from d_k = |X_k - X_{k-1}|: d_k / (2^p - 1) with p the observed
// order of the X's (from d_{k-1} / d_k, kept within [1, 4]), or p = 2 while only two X's exist
// (the order of the scheme before the extrapolation). The observed order is not floored at 2:
// where the drift makes the cells' Peclet numbers large (u2v2, alpha = 0.01, lr = 2, T = 10)
// the X's converge at first order (the excess at 960 / 1920 / 3840 / 7680 cells: differences of
// 0.9% then 0.44%, measured 2026-12-01), and crediting order 2 there put the estimate at a third
// of the true error.
struct GridChoice {
    std::size_t cells;      // the finest grid; the result is X(cells / 2, cells)
    double estimate;
};

template <class With>
GridChoice choose_grid(Ladder& ladder, std::size_t first, std::size_t top, bool fixed, double budget, With with) {
    std::vector<std::size_t> levels{first};
    if (fixed) {  // an explicit count: the ladder ends there, three levels below it at most
        levels.assign({top});
        // (never below the automatic ladder's first grid when the count is above it: 15 cells
        // with the power law's 64 nodes had not finished after minutes, 30 take a second)
        while (levels.size() < 4 && levels.front() / 2 >= std::max<std::size_t>(4, std::min(first, top / 2))) {
            levels.insert(levels.begin(), levels.front() / 2);
        }
    }
    std::vector<double> d;  // d[k] = |X_k - X_{k-1}|
    std::vector<PdeTrajectory> x;
    double estimate = std::numeric_limits<double>::infinity();
    for (std::size_t k = 1;; ++k) {
        if (k >= levels.size()) {
            if (fixed || 2 * levels.back() > top) break;
            levels.push_back(2 * levels.back());
        }
        x.push_back(extrapolate(ladder.solve(with(levels[k - 1])), ladder.solve(with(levels[k]))));
        if (x.size() < 2) continue;
        d.push_back(excess_risk_error(x[x.size() - 2], x.back(), ladder.noise()));
        double p = 2.0;
        if (d.size() >= 2 && d.back() > 0.0 && std::isfinite(d[d.size() - 2])) {
            p = std::clamp(std::log2(d[d.size() - 2] / d.back()), 1.0, 4.0);
        }
        estimate = d.back() / (std::pow(2.0, p) - 1.0);
        if (!fixed && estimate <= budget) break;
    }
    if (x.size() == 1) {  // two grids only (an explicit count just above the first grid): the
        // estimate of the finer grid's own error at the scheme's order 2, an upper estimate for X
        estimate = excess_risk_error(ladder.solve(with(levels[0])), ladder.solve(with(levels[1])), ladder.noise()) / 3.0;
    }
    return {levels.back(), x.empty() ? std::numeric_limits<double>::quiet_NaN() : estimate};
}

// The quadrature of a product law (a continuous target law on a continuous spectrum) by the
// combination technique of sparse grids. The tensor rule X(n_t, n_s) needs n_t x n_s classes
// (about 32 x 64 for 1e-3, against pde.max_classes = 256); the combination below needs solves
// that each fit pde.max_classes.
//
// Levels: t_i = t_lo 2^i target nodes (i = 0 .. I), s_j = s_lo 2^j spectrum nodes (j = 0 .. J),
// on the nested ladders. X_ij is the solve at (t_i, s_j). With the mixed differences
//     D_ij = X_ij - X_(i-1)j - X_i(j-1) + X_(i-1)(j-1)        (terms with index -1 are 0),
// the tensor rule is X_IJ = sum over the whole rectangle of D_ij. The combination is the sum of
// D_ij over the index set S of the (i, j) whose solve fits pde.max_classes (downward closed, the
// two arms i = 0 and j = 0 included), written as sum c_ij X_ij with the inclusion-exclusion
// coefficients c_ij = sum over z in {0,1}^2 of (-1)^(z1+z2) [(i+z1, j+z2) in S]. With S the two
// arms only this is X(n_t, s_lo) + X(t_lo, n_s) - X(t_lo, s_lo); with every fitting pair it is
// the classical sparse grid (for 8 x 8 lows and 256 classes: (32,8), (16,16), (8,32) less
// (16,8), (8,16)).
//
// What the estimate assumes. The combination misses X_IJ by the sum of D_ij outside S (all with
// i, j >= 1), and X_IJ misses the exact law by its own one-direction errors. The estimate is
//   - target_error, spectrum_error: the Richardson estimates of the target ladder (at s_lo
//     spectrum nodes) and of the spectrum ladder (at t_lo target nodes), as for one law;
//   - mixed_error: the omitted D_ij, by the splitting model of the combination technique: the
//     quadrature error is E(t, s) = A(t) + B(s) + C(t) G(s), so D_ij = (C(t_i) - C(t_(i-1)))
//     (G(s_j) - G(s_(j-1))) is a product of one step in each direction. Assuming further that
//     those steps are proportional to the ladders' own successive differences d_t,i =
//     |X_i0 - X_(i-1)0| and d_s,j = |X_0j - X_0(j-1)| (the mixed part converges at its
//     direction's rate), D_ij = D_11 (d_t,i / d_t,1) (d_s,j / d_s,1), with D_11 solved (it is in
//     S whenever (2 t_lo, 2 s_lo) fits; otherwise measured at the highest halved pair that fits,
//     a coarser and larger step: an overestimate).
// (The error measure is a max over snapshots, not linear: these products are estimates of sizes,
// not identities.) A ladder stopped by pde.max_classes above its budget halves the other
// direction's low level and runs again, once (to half the coarse rule's nodes): the ladder
// reaches further, at the price of a larger mixed part, which the estimate then carries. (Halved
// down to 1 node, the gaussian-on-powerlaw point had not finished after 15 minutes, 2026-12-01:
// at a 1-node target the cap lets the power law's ladder reach 128 nodes, at lambda ~ 1000.)
struct SparseQuadrature {
    std::size_t target_nodes = 0, spectrum_nodes = 0;  // n_t = t_I, n_s = s_J
    std::size_t target_low = 0, spectrum_low = 0;      // t_lo, s_lo
    double target_error = 0.0, spectrum_error = 0.0, mixed_error = 0.0;
    struct Term {
        std::size_t target_nodes, spectrum_nodes;
        int coefficient;
    };
    std::vector<Term> terms;      // the combination: sum of coefficient * X(target, spectrum)
    std::size_t largest_solve = 0;  // the most classes of one solve it used
};

SparseQuadrature sparse_quadrature(Ladder& ladder, std::size_t cells, double width, double ts_rtol, std::size_t first_t,
                                   std::size_t first_s, std::size_t null_class, std::size_t max_classes,
                                   double budget) {
    auto at = [&](std::size_t t, std::size_t s) { return Resolution{cells, t, s, ts_rtol, width}; };
    auto fits = [&](std::size_t t, std::size_t s) { return s * (t + null_class) <= max_classes; };
    SparseQuadrature q;
    std::size_t t_lo = first_t, s_lo = first_s;
    Refined rt{}, rs{};
    for (int round = 0; round < 8; ++round) {
        const std::size_t t_cap = max_classes / s_lo > null_class ? max_classes / s_lo - null_class : 0;
        const std::size_t s_cap = max_classes / (t_lo + null_class);
        rt = refine(ladder, first_t, t_cap, budget, assumed_quadrature_order, nominal_quadrature_order,
                    [&](std::size_t n) { return at(n, s_lo); }, false);
        rs = refine(ladder, first_s, s_cap, budget, assumed_quadrature_order, nominal_quadrature_order,
                    [&](std::size_t n) { return at(t_lo, n); }, false);
        const bool t_short = !(rt.estimate <= budget) && 2 * rt.value > t_cap;
        const bool s_short = !(rs.estimate <= budget) && 2 * rs.value > s_cap;
        if (t_short && 2 * s_lo > first_s) {
            s_lo /= 2;
        } else if (s_short && 2 * t_lo > first_t) {
            t_lo /= 2;
        } else {
            break;
        }
    }
    q.target_nodes = std::max(rt.value, t_lo);
    q.spectrum_nodes = std::max(rs.value, s_lo);
    q.target_low = t_lo;
    q.spectrum_low = s_lo;
    q.target_error = rt.estimate;
    q.spectrum_error = rs.estimate;

    std::size_t levels_t = 0, levels_s = 0;  // I and J
    while ((t_lo << (levels_t + 1)) <= q.target_nodes) ++levels_t;
    while ((s_lo << (levels_s + 1)) <= q.spectrum_nodes) ++levels_s;
    auto in_set = [&](std::size_t i, std::size_t j) {
        return i <= levels_t && j <= levels_s && (i == 0 || j == 0 || fits(t_lo << i, s_lo << j));
    };
    for (std::size_t i = 0; i <= levels_t; ++i) {
        for (std::size_t j = 0; j <= levels_s; ++j) {
            if (!in_set(i, j)) continue;
            const int c = 1 - int(in_set(i + 1, j)) - int(in_set(i, j + 1)) + int(in_set(i + 1, j + 1));
            if (c == 0) continue;
            q.terms.push_back({t_lo << i, s_lo << j, c});
            q.largest_solve = std::max(q.largest_solve, ladder.class_list(at(t_lo << i, s_lo << j)).size());
        }
    }

    // The omitted mixed differences (see above).
    if (levels_t >= 1 && levels_s >= 1) {
        std::vector<double> dt(levels_t + 1, 0.0), ds(levels_s + 1, 0.0);
        for (std::size_t i = 1; i <= levels_t; ++i) dt[i] = ladder.error(at(t_lo << (i - 1), s_lo), at(t_lo << i, s_lo));
        for (std::size_t j = 1; j <= levels_s; ++j) ds[j] = ladder.error(at(t_lo, s_lo << (j - 1)), at(t_lo, s_lo << j));
        double omitted = 0.0;  // sum over (i, j) outside S of (d_t,i / d_t,1) (d_s,j / d_s,1)
        for (std::size_t i = 1; i <= levels_t; ++i) {
            for (std::size_t j = 1; j <= levels_s; ++j) {
                if (!in_set(i, j) && dt[1] > 0.0 && ds[1] > 0.0) omitted += (dt[i] / dt[1]) * (ds[j] / ds[1]);
            }
        }
        if (omitted > 0.0) {
            std::size_t a = t_lo, b = s_lo;  // D_11's low corner, halved until its top corner fits
            while (!fits(2 * a, 2 * b) && (a > 1 || b > 1)) {
                if (a >= b && a > 1) a /= 2; else b /= 2;
            }
            const auto arms = combine(ladder.solve(at(2 * a, b)), ladder.solve(at(a, 2 * b)), ladder.solve(at(a, b)));
            const double d11 = excess_risk_error(arms, ladder.solve(at(2 * a, 2 * b)), ladder.noise());
            q.mixed_error = d11 * omitted;
            q.largest_solve = std::max(q.largest_solve, ladder.class_list(at(2 * a, 2 * b)).size());
        }
    }
    return q;
}

// The width. The walls at +-L deviations cut what reaches them; the co-moving frame's deviation
// understates the extent of the skewed shapes of large learning rates, so the cut is not a
// Gaussian tail: against width 32 at the same cells per deviation (isotropic, lr 2, 480 cells at
// width 12; 2026-12-01) it was 1.4e-3 of the error measure at L = 12, 2.5e-4 at 16, and the
// differences of successive widths 1.14e-3 (12 -> 16), 2.2e-4 (16 -> 20), 5.0e-5 (20 -> 24):
// it falls by a ratio rho ~ 0.2 per four deviations. So the study solves the chosen grid again
// four deviations wider, at the same cells per deviation (the grid's error is then the same to
// within the tails' share of it), and takes the wider solve, whose cut is
//     cut(L + 4) = sum over k >= 1 of d(L + 4k, L + 4k + 4) = d(L, L + 4) rho / (1 - rho):
// rho is the observed ratio of two successive differences once two exist (kept within
// [1/8, 3/4]: below, the differences are at the grid's noise; above, at 3 d, the estimate would
// be no more than a guess), and 1/2 before (an upper estimate: d itself). It widens while that
// exceeds its budget, up to pde.max_width. It does not widen (one study, its estimate reported)
// when the grid alone already misses pde.rtol: the point is flagged whatever the width, and at
// alpha = 0.01, lr 1 and 2, T = 10, with the grid at its cap, the widening to 32 took 25-30 s to
// end flagged (2026-12-01). The differences need not fall at every step: at lr 4 d(16, 20) was
// above 3/4 of d(12, 16) and d(20, 24) 400 times below it, so a stall is not a reason to stop. Measured on the same grids as the cell counts of the
// study (2026-12-01): at 120 or 60 cells at width 12 the difference of two widths is dominated by
// how the coarse grid's error moves with the walls (1.1e-2 at lr 1 where the cut is 7e-4), which
// is why the study is on the chosen grid and not on a coarser one.
constexpr double first_width = 12.0, width_step = 4.0;
constexpr double assumed_width_ratio = 0.5, least_width_ratio = 0.125, largest_width_ratio = 0.75;

// `r` at width w with r's cells per deviation (its cells at r.width), as a pair N/2, N.
Resolution at_width(const Resolution& r, double w) {
    Resolution x = r;
    x.width = w;
    const double half = std::round(0.5 * static_cast<double>(r.cells) * w / r.width);
    x.cells = 2 * std::max<std::size_t>(2, static_cast<std::size_t>(half));
    return x;
}

struct WidthChoice {
    double width;
    double estimate;  // of the cut at `width`
};

// `chosen`: the grid and the quadrature the result's base is solved at, at the first width.
// `fixed`: an explicit pde.width, used as given; its cut d(L, L + 4) / (1 - rho) is estimated with
// the assumed rho, i.e. 2 d.
WidthChoice choose_width(Ladder& ladder, const Resolution& chosen, bool fixed, bool flagged, double max_width,
                         double budget) {
    double w = chosen.width;
    PdeTrajectory narrow = extrapolated(ladder, chosen);
    double previous = std::numeric_limits<double>::quiet_NaN();
    for (;;) {
        PdeTrajectory wide = extrapolated(ladder, at_width(chosen, w + width_step));
        const double d = excess_risk_error(narrow, wide, ladder.noise());
        if (fixed) return {w, d / (1.0 - assumed_width_ratio)};
        double rho = assumed_width_ratio;
        if (previous > 0.0 && d > 0.0 && std::isfinite(previous) && std::isfinite(d)) {
            rho = std::clamp(d / previous, least_width_ratio, largest_width_ratio);
        }
        const double estimate = d * rho / (1.0 - rho);
        w += width_step;
        if (estimate <= budget || w + width_step > max_width || flagged) {
            return {w, estimate};
        }
        previous = d;
        narrow = std::move(wide);
    }
}

std::string describe_point(const sim::PointSpec& point) {
    char text[160];
    std::snprintf(text, sizeof text, "%s lr=%g alpha=%g", model::to_string(point.parametrization).c_str(), point.lr,
                  point.alpha);
    return text;
}

}  // namespace

PdeTrajectory solve_pde_to_tolerance(const sim::PointSpec& point, const sim::RunSpec& run, const AccuracySpec& spec) {
    if (!(spec.rtol > 0.0)) throw std::invalid_argument("pde.rtol must be positive");
    Ladder ladder(point, run);
    // A discrete law is used exactly while its atoms fit within pde.max_classes (a file spectrum
    // of thousands of distinct eigenvalues is binned and refined like a continuous law instead).
    const std::size_t exact_targets = exact_target_nodes(point.data), exact_spectrum = exact_spectrum_nodes(point.data);
    const bool target_exact = exact_targets > 0;
    const bool spectrum_exact = exact_spectrum > 0 && exact_spectrum * std::max<std::size_t>(1, exact_targets + 1) <= spec.max_classes;

    // Starting resolutions: the quadrature starts coarse (its estimate needs only differences),
    // explicit values are used as given.
    Resolution r{first_cells,
                 spec.target_nodes ? spec.target_nodes : (target_exact ? exact_targets : first_target_nodes),
                 spec.spectrum_nodes ? spec.spectrum_nodes : (spectrum_exact ? exact_spectrum : first_spectrum_nodes_of(point.data)),
                 spec.rtol * ts_rtol_fraction,
                 spec.width > 0.0 ? spec.width : first_width};
    const Shares share = shares(!target_exact || !spectrum_exact);

    // 1. The grid, at the coarse quadrature (see choose_grid).
    const auto grid = choose_grid(
        ladder, first_cells, spec.cells ? spec.cells : spec.max_cells, spec.cells != 0, share.grid * spec.rtol,
        [&](std::size_t cells) { return Resolution{cells, r.target_nodes, r.spectrum_nodes, r.ts_rtol, r.width}; });
    r.cells = grid.cells;

    // 2. The time integration: the TS tolerance and ten times it, on a grid a quarter as fine as
    // the chosen one (coarser grids can diverge where the chosen one does not, lr = 8). An
    // adaptive 4th-order method's global error scales like tol^(4/5) or faster, so the
    // difference of the two is at least 5.3 times the finer one's error; divide by 5.
    double time_error = std::numeric_limits<double>::quiet_NaN();
    double time_difference = std::numeric_limits<double>::quiet_NaN();  // |loose - tight| of the study
    const bool time_overridden = ts_tolerance_overridden();
    const std::size_t study_cells = std::max(2 * first_cells, r.cells / 4);
    if (!time_overridden) {
        for (int attempt = 0; attempt < 3; ++attempt) {
            const Resolution tight{study_cells, r.target_nodes, r.spectrum_nodes, r.ts_rtol, r.width};
            Resolution loose = tight;
            loose.ts_rtol *= 10.0;
            time_difference = ladder.error(loose, tight);
            time_error = time_difference / 5.0;
            if (time_error <= share.time * spec.rtol) break;
            r.ts_rtol /= 10.0;
        }
    }

    // 3. The quadrature of each continuous law, on a grid an eighth as fine as the chosen one (at
    // least the coarsest): the difference of two quadratures is a quadrature of the classes'
    // values, so the grid's error enters it only through how that error varies over the classes
    // (its product with the quadrature's relative error), and a coarse grid measures it well.
    const Resolution coarse_rule = r;  // the quadrature the grid was chosen at

    // The width, on the chosen grid at that quadrature (see choose_width). Every solve of the
    // result's base, X(N/2, N; n0), is at the chosen width and the first width's cells per
    // deviation; the studies of the time and of the quadrature stay at the first width (their
    // differences change with the width only through the product of the cut and themselves).
    const auto width = choose_width(ladder, coarse_rule, spec.width > 0.0, !(grid.estimate <= spec.rtol), spec.max_width,
                                    share.width * spec.rtol);
    auto widened = [&](const Resolution& x) { return at_width(x, width.width); };
    const Resolution base_rule = widened(coarse_rule);
    const std::size_t quadrature_cells = std::max(first_cells, r.cells / 8);
    double quadrature_error = 0.0;
    // The node cap of one law from pde.max_classes: the classes are the spectrum's nodes times
    // the target's classes, and the target's classes are its nodes plus the null class (s < 1).
    const std::size_t null_class = point.data.sparsity < 1.0 ? 1 : 0;
    auto target_cap = [&](std::size_t spectrum_nodes) {
        const std::size_t per_target = std::max<std::size_t>(1, spectrum_nodes);
        return spec.max_classes / per_target > null_class ? spec.max_classes / per_target - null_class : 0;
    };
    auto spectrum_cap = [&](std::size_t target_nodes) {
        return spec.max_classes / std::max<std::size_t>(1, target_nodes + null_class);
    };
    // Both laws continuous and automatic: the sparse-grid combination of the two directions
    // (sparse_quadrature below) instead of the tensor-product ladders.
    const bool product_law = !target_exact && !spectrum_exact && spec.target_nodes == 0 && spec.spectrum_nodes == 0;
    SparseQuadrature sparse;
    // The quadrature solves of every automatic continuous law (its ladders and the combination's
    // corrections: most of its cost) run at ten times the TS tolerance when the time study shows that costs nothing
    // that matters: the study's looser solve is then within loose_error of the truth (its
    // difference from the tighter one plus the tighter one's error, a fifth of it). Every
    // quadrature difference then carries at most 2 loose_error of time error, and the
    // correction sum c_ij X_ij - X(n0), extrapolated, at most (sum |c_ij| + 1) 5/3 loose_error,
    // which is added to the time estimate below. Taken only when 20 loose_error fits in what the
    // time share leaves: the sparse set at 256 classes has 7 terms (sum |c_ij| + 1 = 8, times
    // 5/3: 13.3; one law's X(n) - X(n0), 2 terms, 3.3). Measured (2026-12-01): loose_error 3.7e-7
    // at the gaussian target on the power law and 3.0e-6 at sweeps/concentration.ini's point; the
    // solves take 30% fewer steps. One law alone: the power law's two 32-node solves took 1.31 s
    // instead of 1.57 s (a = 0.5, T = 4, load ~5); Marchenko-Pastur's result moved by 7.5e-7.
    double quadrature_ts = r.ts_rtol;
    double loose_error = 0.0;
    const bool automatic_quadrature = product_law || (!target_exact && spec.target_nodes == 0) ||
                                      (!spectrum_exact && spec.spectrum_nodes == 0);
    if (automatic_quadrature && std::isfinite(time_difference) &&
        20.0 * 1.2 * time_difference <= share.time * spec.rtol - time_error) {
        quadrature_ts = 10.0 * r.ts_rtol;
        loose_error = 1.2 * time_difference;
    }
    if (product_law) {
        // The ladders start at the 8-node rule also where the grid was studied at 4 (power law).
        sparse = sparse_quadrature(ladder, quadrature_cells, r.width, quadrature_ts, r.target_nodes,
                                   std::max(r.spectrum_nodes, first_spectrum_nodes), null_class,
                                   spec.max_classes, share.quadrature * spec.rtol * 0.5);
        r.target_nodes = sparse.target_nodes;
        r.spectrum_nodes = sparse.spectrum_nodes;
        quadrature_error = sparse.target_error + sparse.spectrum_error + sparse.mixed_error;
    }
    if (!target_exact && !product_law) {
        const auto q = refine(
            ladder, r.target_nodes, target_cap(r.spectrum_nodes), share.quadrature * spec.rtol * (spectrum_exact ? 1.0 : 0.5),
            assumed_quadrature_order, nominal_quadrature_order,
            [&](std::size_t n) { return Resolution{quadrature_cells, n, r.spectrum_nodes, quadrature_ts, r.width}; },
            spec.target_nodes != 0);
        r.target_nodes = q.value;
        quadrature_error += q.estimate;
    }
    if (!spectrum_exact && !product_law) {
        const auto q = refine(
            ladder, spec.spectrum_nodes ? r.spectrum_nodes : std::max(r.spectrum_nodes, first_spectrum_nodes),
            spectrum_cap(r.target_nodes), share.quadrature * spec.rtol * (target_exact ? 1.0 : 0.5),
            assumed_quadrature_order, nominal_quadrature_order,
            [&](std::size_t n) { return Resolution{quadrature_cells, r.target_nodes, n, quadrature_ts, r.width}; },
            spec.spectrum_nodes != 0);
        r.spectrum_nodes = q.value;
        quadrature_error += q.estimate;
    }

    // 4. The result. At the quadrature the grid was chosen at, it is the extrapolation of the
    // chosen grid and the one below it. At a finer quadrature n, the combination (the sparse-grid
    // combination technique in the two resolutions)
    //     X(N/2, N; n0) + X(M, 2M; n) - X(M, 2M; n0),      M = the quadrature's grid,
    // which needs no solve on the fine grid with the many classes: the grid's error at n is that
    // at n0 up to the quadrature of how it varies over the classes, measured on the grids M and
    // 2M. The combination's own error, the change of that correction from M to 2M divided by
    // 2^2 - 1 (the order before extrapolation: an upper estimate for the extrapolated one), is
    // added to the quadrature's estimate (it overstates it: measured at the gaussian target's
    // default point, 4.3e-4 for a true 8.7e-5, the extrapolated correction converging like h^4);
    // if the whole estimate would then exceed pde.rtol (unless the others already do and it adds
    // at most a tenth to them: a flagged point need not pay for the direct solve), or a solve of
    // the combination diverged, the result is solved on the fine grid at n directly.
    const Resolution full = widened(r);
    const bool pair = full.cells / 2 >= 4;  // an extrapolated pair exists below the chosen grid
    // The whole estimate: the four parts (the time part is NaN when PETSc options fix the TS tolerances).
    auto estimate_sum = [&] {
        return grid.estimate + quadrature_error + width.estimate + (std::isnan(time_error) ? 0.0 : time_error);
    };
    auto direct = [&] { return pair ? extrapolated(ladder, full) : ladder.solve(full); };
    PdeTrajectory out;
    std::size_t largest_solve = 0;        // the most classes of one solve (product law: below)
    Resolution rate_rule = r;             // the classes whose Q_k at T give the predicted rate
    const bool refined_rule = r.target_nodes != coarse_rule.target_nodes || r.spectrum_nodes != coarse_rule.spectrum_nodes;
    if (product_law && refined_rule && pair) {
        // The result: X(N/2, N; n0) + C(M, 2M) - X(M, 2M; n0), where C is the sparse combination
        //     C = X(n_t, s_lo) + X(t_lo, n_s) - X(t_lo, s_lo)
        // on the quadrature's grids M and 2M (M at most N/2, so the corrections are on the grids
        // the ladders ran on or coarser than the chosen one). No solve holds n_t x n_s classes.
        const std::size_t m = std::min(quadrature_cells, r.cells / 2);
        auto at = [&](std::size_t t, std::size_t s, std::size_t cells) {
            return Resolution{cells, t, s, quadrature_ts, r.width};
        };
        const std::size_t t0 = coarse_rule.target_nodes, s0 = coarse_rule.spectrum_nodes;
        const auto base = extrapolated(ladder, base_rule);
        // The combination's first term (+1, the largest target rule) gives the class
        // diagnostics and the predicted rate's classes.
        const auto& lead = *std::max_element(sparse.terms.begin(), sparse.terms.end(), [](const auto& x, const auto& y) {
            return std::tie(x.coefficient, x.target_nodes) < std::tie(y.coefficient, y.target_nodes);
        });
        auto combination = [&](std::size_t cells) {
            PdeTrajectory sum = ladder.solve(at(lead.target_nodes, lead.spectrum_nodes, cells));
            for (auto& row : sum.snapshots) row.fill(0.0);
            bool diverged = false;
            for (const auto& term : sparse.terms) {
                const auto& x = ladder.solve(at(term.target_nodes, term.spectrum_nodes, cells));
                diverged = diverged || x.diverged;
                const std::size_t n = std::min(sum.snapshots.size(), x.snapshots.size());
                sum.snapshots.resize(n);
                for (std::size_t j = 0; j < n; ++j) {
                    for (std::size_t k = 0; k < model::observable_count; ++k) sum.snapshots[j][k] += term.coefficient * x.snapshots[j][k];
                }
            }
            const auto& x = ladder.solve(at(lead.target_nodes, lead.spectrum_nodes, cells));
            for (std::size_t j = 0; j < sum.snapshots.size(); ++j) sum.snapshots[j][model::false_support] = x.snapshots[j][model::false_support];
            sum.diverged = sum.diverged || diverged;
            return sum;
        };
        const auto cm = combination(m), c2m = combination(2 * m);
        const auto& bm = ladder.solve(at(t0, s0, m));
        const auto& b2m = ladder.solve(at(t0, s0, 2 * m));
        const bool finite = !base.diverged && !cm.diverged && !c2m.diverged && !bm.diverged && !b2m.diverged;
        out = combine(base, extrapolate(cm, c2m), extrapolate(bm, b2m));
        if (finite) {
            // The grid error of the correction, as in the tensor case below (order 2: an upper
            // estimate for the extrapolated correction).
            quadrature_error += excess_risk_error(combine(base, cm, bm), combine(base, c2m, b2m), ladder.noise()) / 3.0;
        } else {
            quadrature_error = std::numeric_limits<double>::infinity();
        }
        largest_solve = std::max(sparse.largest_solve, ladder.class_list(coarse_rule).size());
        if (loose_error > 0.0) {
            double terms = 1.0;  // sum |c_ij| + 1 (the X(n0) subtracted)
            for (const auto& term : sparse.terms) terms += std::abs(term.coefficient);
            time_error += terms * 5.0 / 3.0 * loose_error;
        }
        rate_rule = at(lead.target_nodes, lead.spectrum_nodes, m);
    } else if (refined_rule && 2 * quadrature_cells <= r.cells / 2 && pair) {
        auto at = [&](const Resolution& rule, std::size_t cells) {
            Resolution x = rule;
            x.cells = cells;
            x.ts_rtol = quadrature_ts;
            return x;
        };
        // The correction X(n) - X(n0) at the quadrature's TS tolerance (see loose_error).
        if (loose_error > 0.0) time_error += 2.0 * 5.0 / 3.0 * loose_error;
        const Resolution fine_m = at(r, quadrature_cells), fine_2m = at(r, 2 * quadrature_cells);
        const Resolution coarse_m = at(coarse_rule, quadrature_cells), coarse_2m = at(coarse_rule, 2 * quadrature_cells);
        const auto base = extrapolated(ladder, base_rule);
        const auto& fm = ladder.solve(fine_m);
        const auto& f2m = ladder.solve(fine_2m);
        const auto& cm = ladder.solve(coarse_m);
        const auto& c2m = ladder.solve(coarse_2m);
        const bool finite = !base.diverged && !fm.diverged && !f2m.diverged && !cm.diverged && !c2m.diverged;
        if (finite) {
            out = combine(base, extrapolate(fm, f2m), extrapolate(cm, c2m));
            const double cross = excess_risk_error(combine(base, fm, cm), combine(base, f2m, c2m), ladder.noise()) / 3.0;
            const double others = estimate_sum();
            if (others + cross <= spec.rtol || cross <= 0.1 * others) {
                quadrature_error += cross;
            } else {
                out = direct();
            }
        } else {
            out = direct();
        }
    } else {
        out = direct();
    }
    auto& a = out.accuracy;
    a.grid_error = grid.estimate;
    a.quadrature_error = quadrature_error;
    a.time_error = time_error;
    a.width_error = width.estimate;
    a.error_estimate = estimate_sum();
    a.cells = full.cells;
    a.width = width.width;
    a.classes = largest_solve ? largest_solve : ladder.class_list(r).size();
    a.target_nodes = target_exact ? 0 : r.target_nodes;
    a.spectrum_nodes = spectrum_exact ? 0 : r.spectrum_nodes;
    a.met_tolerance = a.error_estimate <= spec.rtol;
    if (!out.diverged && !out.classes.empty()) {
        std::vector<double> q;
        for (const auto& d : out.classes.back()) q.push_back(d.q);
        a.predicted_rate = late_time_rate(point.parametrization, point.lr, ladder.class_list(rate_rule), q);
    }
    char text[400];
    if (!a.met_tolerance) {
        std::snprintf(text, sizeof text,
                      "PDE at %s: estimated error %.2g exceeds pde.rtol = %.2g (grid %.2g at %zu cells, "
                      "quadrature %.2g with %zu classes, width %.2g at %g deviations, time %.2g); raise "
                      "pde.max_cells, pde.max_classes or pde.max_width, or set the resolution explicitly",
                      describe_point(point).c_str(), a.error_estimate, spec.rtol, a.grid_error, a.cells,
                      a.quadrature_error, a.classes, a.width_error, a.width, time_error);
        a.warning = text;
    } else if (time_overridden) {
        std::snprintf(text, sizeof text,
                      "PDE at %s: the time-integration error is not estimated, since PETSc options set -ts_rtol or "
                      "-ts_atol (the estimate %.2g covers the grid, the quadrature and the width only)",
                      describe_point(point).c_str(), a.error_estimate);
        a.warning = text;
    }
    return out;
}

}  // namespace dln::pde
