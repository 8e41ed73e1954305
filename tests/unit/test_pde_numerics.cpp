// The Fokker-Planck solver's numerics: quadrature, conservation, positivity, grid convergence,
// the exact Q(t) relation, the linear closed form and the late-time rate of THEORY.md §5.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

#include "dln/pde/class_quadrature.hpp"
#include "dln/pde/error_control.hpp"
#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/pde/late_time_rate.hpp"

using dln::model::Parametrization;
using namespace dln::pde;

namespace {

dln::sim::PointSpec point(Parametrization param, double lr, double alpha) {
    dln::sim::PointSpec p;
    p.parametrization = param;
    p.lr = lr;
    p.alpha = alpha;
    return p;
}

dln::sim::RunSpec run_to(double time, std::size_t snapshots) {
    dln::sim::RunSpec r;
    r.time = time;
    r.snapshots = snapshots;
    return r;
}

std::vector<double> risk_of(const PdeTrajectory& t) {
    std::vector<double> r;
    for (const auto& o : t.snapshots) r.push_back(o[dln::model::risk]);
    return r;
}

}  // namespace

TEST_CASE("Gauss-Legendre on [0, 1] integrates polynomials of degree 2n-1 exactly", "[pde][quadrature]") {
    for (std::size_t n : {1, 2, 3, 4, 5, 8}) {
        std::vector<double> x, w;
        gauss_legendre(n, x, w);
        for (std::size_t k = 0; k <= 2 * n - 1; ++k) {
            double m = 0;
            for (std::size_t i = 0; i < n; ++i) m += w[i] * std::pow(x[i], static_cast<double>(k));
            INFO("n = " << n << ", x^" << k);
            CHECK(m == Approx(1.0 / static_cast<double>(k + 1)).epsilon(1e-14));
        }
        CHECK(std::is_sorted(x.begin(), x.end()));
    }
}

TEST_CASE("the composite rules: any n, nested panels under doubling", "[pde][quadrature]") {
    for (std::size_t n : {1, 3, 4, 6, 7, 16, 33}) {
        std::vector<double> x, w;
        composite_rule(n, x, w);
        REQUIRE(x.size() == n);
        double sum = 0, cubic = 0;
        for (std::size_t i = 0; i < n; ++i) {
            sum += w[i];
            cubic += w[i] * x[i] * x[i] * x[i];
        }
        CHECK(sum == Approx(1.0).epsilon(1e-14));
        if (n >= 2) CHECK(cubic == Approx(0.25).epsilon(1e-14));  // every panel has >= 2 points once n >= 2
    }
}

TEST_CASE("classes: weights sum to 1, the spectrum keeps mean 1, target moments are right", "[pde][quadrature]") {
    dln::model::DataSpec data;
    data.target = dln::model::TargetLaw::gaussian;
    data.scale = 2.0;
    data.sparsity = 0.3;
    // Gaussian target, folded onto |c|: weights and the lambda-mean are exact by construction
    // (renormalised); E c^2 = s b^2 only up to the rule's error, which falls at about order 2p = 8
    // once the panels resolve the density: 4.9e-4 at 16 nodes, 4.9e-6 at 32, 1.7e-9 at 64, then
    // the truncation at |c| = 7b (1.3e-10 of E c^2) remains.
    for (auto spectrum : {dln::model::Spectrum::powerlaw, dln::model::Spectrum::marchenko_pastur}) {
        data.spectrum = spectrum;
        data.exponent = 0.7;
        data.ratio = 0.8;
        const std::pair<std::size_t, double> cases[] = {{16, 1e-3}, {32, 1e-5}, {64, 3e-9}};
        for (const auto& [nodes, tolerance] : cases) {
            const auto classes = make_classes(data, Parametrization::uv, 0.2, QuadratureSpec{nodes, 10});
            double weight = 0, lambda = 0, c2 = 0;
            for (const auto& c : classes) {
                weight += c.weight;
                lambda += c.weight * c.lambda;
                c2 += c.weight * c.target * c.target;
                CHECK(c.q0 == Approx(0.04));
                CHECK(c.x0 == Approx(0.0).margin(1e-15));
                CHECK(c.target >= 0.0);  // folded
            }
            CHECK(classes.size() == 10 * (nodes + 1));
            CHECK(weight == Approx(1.0).epsilon(1e-13));
            CHECK(lambda == Approx(1.0).epsilon(1e-13));  // the correction of the header makes it exact
            INFO(nodes << " target nodes: E c^2 / (s b^2) - 1 = " << c2 / 1.2 - 1);
            CHECK(std::abs(c2 / (0.3 * 4.0) - 1.0) <= tolerance);
        }
    }
    // Rademacher folds to one class b of weight s; unfolded it is +-b with s/2 each.
    data.target = dln::model::TargetLaw::rademacher;
    data.spectrum = dln::model::Spectrum::isotropic;
    const auto folded = make_classes(data, Parametrization::u2v2, 0.1, {});
    REQUIRE(folded.size() == 2);
    CHECK(folded[0].target == 2.0);
    CHECK(folded[0].weight == Approx(0.3));
    QuadratureSpec unfold;
    unfold.fold = false;
    CHECK(make_classes(data, Parametrization::u2v2, 0.1, unfold).size() == 3);
}

TEST_CASE("MP and file spectrum classes", "[pde][quadrature]") {
    dln::model::DataSpec data;
    data.spectrum = dln::model::Spectrum::marchenko_pastur;
    // E (lambda - 1)^2 = r: the rule's error at 32 nodes is below 1e-4 for every r (the weight's
    // dip of width 1 - sqrt(r) at theta = 0 is the hardest case, r -> 1), and 3e-7 at 64.
    for (double r : {0.05, 0.5, 0.95, 1.0}) {
        data.ratio = r;
        for (const auto& [nodes, tolerance] : {std::pair<std::size_t, double>{32, 1e-4}, {64, 3e-7}}) {
            double weight = 0, mean = 0, var = 0;
            for (const auto& [lambda, w] : spectrum_classes(data, nodes)) {
                weight += w;
                mean += w * lambda;
                var += w * (lambda - 1) * (lambda - 1);
                CHECK(lambda >= std::pow(1 - std::sqrt(r), 2) * (1 - 1e-12));
                CHECK(lambda <= std::pow(1 + std::sqrt(r), 2) * (1 + 1e-12));
            }
            INFO("r = " << r << ", " << nodes << " nodes: var / r - 1 = " << var / r - 1);
            CHECK(weight == Approx(1.0).epsilon(1e-13));
            CHECK(mean == Approx(1.0).epsilon(1e-13));
            CHECK(std::abs(var / r - 1) <= tolerance);
        }
    }
    CHECK(exact_spectrum_nodes(data) == 0);

    // File: 6 values, 4 distinct. Exact (and capped) at n >= 4, equal-mass bins below.
    data.spectrum = dln::model::Spectrum::file;
    data.eigenvalues = {0.5, 1.0, 1.0, 2.0, 2.0, 5.0};
    CHECK(exact_spectrum_nodes(data) == 4);
    for (std::size_t n : {4, 5, 100}) {
        const auto exact = spectrum_classes(data, n);
        REQUIRE(exact.size() == 4);
        CHECK(exact[1].first == 1.0);
        CHECK(exact[1].second == Approx(2.0 / 6.0));
        CHECK(exact[3].first == 5.0);
        CHECK(exact[3].second == Approx(1.0 / 6.0));
    }
    // n = 4 would be exact; n = 3 bins of mass 1/3: {0.5, 1}, {1, 2}, {2, 5}.
    auto bins = spectrum_classes(data, 3);
    REQUIRE(bins.size() == 3);
    CHECK(bins[0].first == Approx(0.75));
    CHECK(bins[1].first == Approx(1.5));
    CHECK(bins[2].first == Approx(3.5));
    // n = 4 of 5 values: bins cut atoms; the mean is kept exactly.
    data.eigenvalues = {1.0, 2.0, 3.0, 4.0, 10.0};
    bins = spectrum_classes(data, 4);
    REQUIRE(bins.size() == 4);
    CHECK(bins[0].first == Approx((1.0 + 0.25 * 2.0) / 1.25));  // u in [0, 1/4]: atom 1 and a quarter of atom 2
    double mean = 0, weight = 0;
    for (const auto& [lambda, w] : bins) {
        mean += w * lambda;
        weight += w;
    }
    CHECK(weight == Approx(1.0).epsilon(1e-15));
    CHECK(mean == Approx(4.0).epsilon(1e-15));
}

TEST_CASE("an initialisation the log-ratio variables cannot represent is a clear error", "[pde][quadrature]") {
    // alpha = 0 puts p0 = q0 = 0: log(p/q) is undefined (SGD sits at the saddle w = 0 forever).
    CHECK_THROWS_WITH(make_classes({}, Parametrization::u2v2, 0.0, {}), Catch::Contains("p0 > 0 and q0 > 0"));
    CHECK_THROWS_WITH(make_classes({}, Parametrization::uv, 0.0, {}), Catch::Contains("p0 > 0 and q0 > 0"));
    CHECK_NOTHROW(make_classes({}, Parametrization::linear, 0.0, {}));  // linear starts at w = 0 whatever alpha
}

TEST_CASE("the late-time rate: gamma(2-gamma) for linear, 0.953 for the THEORY.md §5 check", "[pde][rate]") {
    dln::model::DataSpec data;
    data.noise = 0.0;
    for (double lr : {0.5, 1.0, 1.5, 2.5}) {
        const auto classes = make_classes(data, Parametrization::linear, 0.1, {});
        CHECK(late_time_rate(Parametrization::linear, lr, classes, {}) == Approx(lr * (2 - lr)).epsilon(1e-10));
    }
    // u2v2, isotropic, s = 0.1, b = 1, alpha = 0.5, gamma = 0.5 with Q_inf = 0.22893 (THEORY.md §5).
    const auto classes = make_classes(data, Parametrization::u2v2, 0.5, {});
    const std::vector<double> q(classes.size(), 0.22893);
    CHECK(late_time_rate(Parametrization::u2v2, 0.5, classes, q) == Approx(0.953).margin(5e-4));
}

TEST_CASE("mass is conserved to 1e-10 and densities stay non-negative", "[pde]") {
    struct Case { Parametrization param; dln::model::TargetLaw law; dln::model::Spectrum spectrum; double noise; };
    for (const auto& c : {Case{Parametrization::u2v2, dln::model::TargetLaw::constant, dln::model::Spectrum::isotropic, 0.0},
                          Case{Parametrization::uv, dln::model::TargetLaw::rademacher, dln::model::Spectrum::isotropic, 0.2},
                          Case{Parametrization::u2v2, dln::model::TargetLaw::gaussian, dln::model::Spectrum::powerlaw, 0.1},
                          Case{Parametrization::linear, dln::model::TargetLaw::gaussian, dln::model::Spectrum::powerlaw, 0.1}}) {
        auto p = point(c.param, 1.0, 0.2);
        p.data.target = c.law;
        p.data.spectrum = c.spectrum;
        p.data.exponent = 0.5;
        p.data.noise = c.noise;
        PdeSpec spec;
        spec.quadrature = {6, 4};
        const auto traj = solve_pde(p, run_to(6.0, 13), spec);
        REQUIRE_FALSE(traj.diverged);
        double worst_mass = 0.0, lowest = 1.0, widest_edge = 0.0;
        for (const auto& snapshot : traj.classes)
            for (const auto& cls : snapshot) {
                worst_mass = std::max(worst_mass, std::abs(cls.mass - 1.0));
                lowest = std::min(lowest, cls.min_density);
                widest_edge = std::max(widest_edge, cls.edge_mass);
            }
        INFO(dln::model::to_string(c.param) << " " << dln::model::to_string(c.law) << ": |mass - 1| <= " << worst_mass
             << ", min density " << lowest << ", mass in the outer 5% of cells " << widest_edge);
        CHECK(worst_mass <= 1e-10);
        // Scharfetter-Gummel fluxes make the space discretisation positivity preserving; the
        // implicit Runge-Kutta stages and the inexact Newton solves are not quite, and leave
        // values like -1e-16 in tails whose true value is below that: non-negative to within the
        // integrator's absolute tolerance, the accuracy the solve was asked for.
        CHECK(lowest >= -spec.atol);
        // The walls at +-L reflect what reaches them; with 1e-5 of the mass in the outer 5% of
        // cells at worst (a skewed transient), the risk moves by less than the width-convergence
        // check of the refinement test allows (1e-4 relative).
        CHECK(widest_edge <= 1e-5);
    }
}

TEST_CASE("grid refinement: R(t) at 200, 400, 800 cells converges", "[pde][refinement]") {
    const auto p = point(Parametrization::u2v2, 0.5, 0.1);  // the THEORY.md §6 point
    const auto run = run_to(4.0, 9);
    std::vector<std::vector<double>> r;
    for (std::size_t cells : {200, 400, 800}) {
        PdeSpec spec;
        spec.cells = cells;
        spec.rtol = 1e-9;  // time error well below the space error being measured
        spec.atol = 1e-12;
        r.push_back(risk_of(solve_pde(p, run, spec)));
    }
    // The domain: four more standard deviations of grid, at the same cell size.
    PdeSpec wide;
    wide.width = PdeSpec{}.width + 4.0;
    wide.cells = static_cast<std::size_t>(800 * wide.width / PdeSpec{}.width);
    wide.rtol = 1e-9;
    wide.atol = 1e-12;
    const auto r_wide = risk_of(solve_pde(p, run, wide));
    for (std::size_t j = 1; j < r[0].size(); ++j) {
        INFO("t = " << 0.5 * static_cast<double>(j) << ": width L vs L + 4 relative difference " << std::abs(r_wide[j] / r[2][j] - 1.0));
        CHECK(std::abs(r_wide[j] / r[2][j] - 1.0) <= 1e-4);
    }
    // The observed order from the sup over the snapshots (at a single time the leading error
    // term can pass through zero and fake any order).
    double coarse = 0.0, fine = 0.0, relative_fine = 0.0;
    for (std::size_t j = 1; j < r[0].size(); ++j) {
        INFO("t = " << 0.5 * static_cast<double>(j) << ": R = " << r[2][j] << ", |R200 - R400| = " << std::abs(r[0][j] - r[1][j])
             << ", |R400 - R800| = " << std::abs(r[1][j] - r[2][j]));
        CHECK(std::abs(r[1][j] - r[2][j]) < std::abs(r[0][j] - r[1][j]));
        coarse = std::max(coarse, std::abs(r[0][j] - r[1][j]));
        fine = std::max(fine, std::abs(r[1][j] - r[2][j]));
        relative_fine = std::max(relative_fine, std::abs(r[1][j] - r[2][j]) / r[2][j]);
    }
    const double order = std::log2(coarse / fine);
    INFO("sup |R200 - R400| = " << coarse << ", sup |R400 - R800| = " << fine << ", observed order " << order
         << ", largest relative |R400 - R800| / R800 = " << relative_fine);
    CHECK(order >= 1.5);  // Scharfetter-Gummel finite volumes: second order on smooth densities
}

TEST_CASE("Q_k(t) = Q_k(0) exp(-8 k^2 g^2 lambda_k int R) along the run", "[pde]") {
    for (auto param : {Parametrization::u2v2, Parametrization::uv}) {
        auto p = point(param, 1.0, 0.3);
        p.data.spectrum = dln::model::Spectrum::powerlaw;
        p.data.exponent = 0.4;
        PdeSpec spec;
        spec.quadrature.spectrum_nodes = 3;
        spec.rtol = 1e-8;
        spec.atol = 1e-11;
        const auto run = run_to(3.0, 301);
        const auto traj = solve_pde(p, run, spec);
        const auto classes = make_classes(p.data, param, p.alpha, spec.quadrature);
        const double k = dln::model::kappa(param), dt = 3.0 / 300.0;
        const auto r = risk_of(traj);
        double integral = 0.0, worst = 0.0;
        for (std::size_t j = 2; j < r.size(); j += 2) {
            // Simpson on pairs of dt = 0.01 steps: error (dt^4/180) T max |d4R/dt4|, far below the
            // solver's tolerance, so what is measured is the solver's own consistency.
            integral += dt / 3.0 * (r[j - 2] + 4.0 * r[j - 1] + r[j]);
            for (std::size_t c = 0; c < classes.size(); ++c) {
                const double exact = classes[c].q0 * std::exp(-8 * k * k * p.lr * p.lr * classes[c].lambda * integral);
                worst = std::max(worst, std::abs(traj.classes[j][c].q / exact - 1.0));
            }
        }
        INFO(dln::model::to_string(param) << ": worst relative error " << worst);
        CHECK(worst <= 1e-6);  // 8 k^2 g^2 lambda int R is O(1): relative errors of 1e-8 per step, summed
    }
}

TEST_CASE("linear, isotropic: the PDE risk is (R0 - Rinf) e^{-g(2-g)t} + Rinf to 1e-4", "[pde][linear]") {
    for (double lr : {0.5, 1.0, 1.5}) {
        auto p = point(Parametrization::linear, lr, 0.1);
        p.data.noise = 0.1;
        const auto traj = solve_pde(p, run_to(8.0, 33), PdeSpec{});
        const auto times = dln::sim::snapshot_times(run_to(8.0, 33));
        const double r0 = 0.05 + 0.005, r_inf = 0.01 / (2 - lr);
        double worst = 0.0;
        for (std::size_t j = 0; j < times.size(); ++j) {
            const double exact = (r0 - r_inf) * std::exp(-lr * (2 - lr) * times[j]) + r_inf;
            worst = std::max(worst, std::abs(traj.snapshots[j][dln::model::risk] / exact - 1.0));
        }
        INFO("lr = " << lr << ": worst relative error " << worst);
        CHECK(worst <= 1e-4);
    }
    auto p = point(Parametrization::linear, 2.5, 0.1);
    p.data.noise = 0.1;
    const auto traj = solve_pde(p, run_to(30.0, 31), PdeSpec{});
    INFO("lr = 2.5 diverged at t = " << traj.diverged_at);
    CHECK(traj.diverged);  // R passed 1e6 R0: the mean-field growth e^{1.25 t} predicts t = 11.1
    CHECK(traj.diverged_at == Approx(std::log(1e6 * 0.055 / (0.055 + 0.02)) / 1.25).epsilon(0.02));
    for (std::size_t j = 1; j < traj.snapshots.size() && std::isfinite(traj.snapshots[j][0]); ++j) {
        CHECK(traj.snapshots[j][dln::model::risk] > traj.snapshots[j - 1][dln::model::risk]);
    }
}

TEST_CASE("long time: R falls eight decades, stays within 1% of a twice-refined grid, decays at rho", "[pde][longtime]") {
    const auto p = point(Parametrization::u2v2, 0.5, 0.5);
    const auto run = run_to(20.0, 41);
    PdeSpec base;
    base.rtol = 1e-8;
    base.atol = 1e-11;
    PdeSpec refined = base;
    refined.cells = 4 * base.cells;
    const auto coarse = solve_pde(p, run, base);
    const auto fine = solve_pde(p, run, refined);
    const auto r = risk_of(coarse), rf = risk_of(fine);
    INFO("R(0) = " << r.front() << ", R(20) = " << r.back());
    CHECK(r.front() / r.back() > 1e8);
    double worst = 0.0;
    for (std::size_t j = 0; j < r.size(); ++j) worst = std::max(worst, std::abs(r[j] / rf[j] - 1.0));
    INFO("worst relative difference from the grid refined twice (4x cells): " << worst);
    CHECK(worst <= 0.01);

    // Late-time rate: least-squares slope of log R over t in [14, 20] against rho of §5 with the
    // final Q_k standing for Q_inf (Q_k has converged: int R beyond t = 20 is below 1e-9).
    const auto times = dln::sim::snapshot_times(run);
    double st = 0, sy = 0, stt = 0, sty = 0, n = 0;
    for (std::size_t j = 0; j < times.size(); ++j) {
        if (times[j] < 14.0) continue;
        const double y = std::log(rf[j]);
        st += times[j]; sy += y; stt += times[j] * times[j]; sty += times[j] * y; n += 1;
    }
    const double fitted = -(n * sty - st * sy) / (n * stt - st * st);
    std::vector<double> q;
    for (const auto& cls : fine.classes.back()) q.push_back(cls.q);
    const auto classes = make_classes(p.data, p.parametrization, p.alpha, {});
    const double rho = late_time_rate(p.parametrization, p.lr, classes, q);
    INFO("fitted late-time rate " << fitted << ", predicted rho " << rho << ", Q_inf of the signal class " << q[0]);
    CHECK(fitted == Approx(rho).epsilon(0.01));
}

namespace {

// The two slowest decay rates of y' = M y, M = -2 diag(a) + u v^T (THEORY.md §5), recomputed here
// from the formulas (not late_time_rate's code): the eigenvalues mu visible in R solve the secular
// equation sum_k u_k v_k / (mu + 2 a_k) = 1 over the distinct a_k, one above -2 a_min and one in
// each gap between consecutive -2 a_k, so rho2 comes from bisection in the first gap.
struct Rates {
    double rho, rho2;
};

Rates secular_rates(Parametrization param, double lr, const std::vector<CoordinateClass>& classes,
                    const std::vector<double>& q) {
    const double k = dln::model::kappa(param);
    std::vector<std::pair<double, double>> d;  // (2 a, u v), aggregated over equal a
    for (std::size_t c = 0; c < classes.size(); ++c) {
        const auto& cls = classes[c];
        double slope = 1.0, a = lr * cls.lambda, b2 = 2 * lr * lr * cls.lambda;
        if (param != Parametrization::linear) {
            slope = 2 * k * q[c] * std::cosh(std::asinh(cls.target / (2 * k * q[c])));
            a = 4 * k * lr * cls.lambda * slope;
            b2 = 32 * k * k * lr * lr * cls.lambda;
        }
        const double uv = 0.5 * slope * slope * b2 * cls.weight * cls.lambda;
        bool merged = false;
        for (auto& e : d)
            if (std::abs(e.first - 2 * a) <= 1e-12 * e.first) { e.second += uv; merged = true; }
        if (!merged) d.emplace_back(2 * a, uv);
    }
    std::sort(d.begin(), d.end());
    auto f = [&](double mu) {
        double s = 0;
        for (const auto& [two_a, uv] : d) s += uv / (mu + two_a);
        return s - 1.0;
    };
    auto bisect = [&](double lo, double hi) {  // f(lo) > 0 > f(hi)
        for (int i = 0; i < 300; ++i) {
            const double mid = 0.5 * (lo + hi);
            (f(mid) > 0 ? lo : hi) = mid;
        }
        return 0.5 * (lo + hi);
    };
    double hi = 1.0;
    while (f(hi) > 0) hi *= 2;
    Rates out;
    out.rho = -bisect(-d[0].first * (1 - 1e-15), hi);
    out.rho2 = d.size() > 1 ? -bisect(-d[1].first * (1 - 1e-15), -d[0].first * (1 + 1e-15))
                            : std::numeric_limits<double>::infinity();
    return out;
}

struct Fit {
    double rate, intercept;  // log R ~ intercept - rate t
};

Fit fit_log(const std::vector<double>& times, const std::vector<double>& r, double from, double to) {
    double st = 0, sy = 0, stt = 0, sty = 0, n = 0;
    for (std::size_t j = 0; j < times.size(); ++j) {
        if (times[j] < from - 1e-9 || times[j] > to + 1e-9) continue;
        const double y = std::log(r[j]);
        st += times[j]; sy += y; stt += times[j] * times[j]; sty += times[j] * y; n += 1;
    }
    const double slope = (n * sty - st * sy) / (n * stt - st * st);
    return {-slope, (sy - slope * st) / n};
}

std::vector<double> q_at(const PdeTrajectory& t, std::size_t snapshot) {
    std::vector<double> q;
    for (const auto& cls : t.classes.at(snapshot)) q.push_back(cls.q);
    return q;
}

std::size_t index_of(const std::vector<double>& times, double t) {
    return static_cast<std::size_t>(std::find_if(times.begin(), times.end(), [&](double s) { return s >= t - 1e-9; }) -
                                    times.begin());
}

// The allowance for |fitted - rho| over the window [t1, t2] (rho from Q_k at T), three parts:
//  bias:  log R = log A - rho t + log(1 + eta(t)), eta the other modes (the next eigenvalue, at
//         Delta = rho2 - rho) and the nonlinear remainder (relative size ~ R, decaying at rho):
//         eta(t0) is measured at t0 against the fitted line, decays at least at min(Delta, rho), and
//         its log-slope is at most max(Delta, rho) eta / (1 - eta): bias <= that at t1.
//  drift: Q_k is still moving in the window; rho(Q(t1)) - rho(Q(T)) bounds the rate it makes.
//  grid:  the fit's own numerical error, bounded by |fit(cells) - fit(4 or 2 x cells)| (second order:
//         the finer error is a fraction of this).
struct Allowance {
    double bias, drift, grid;
    double total() const { return bias + drift + grid; }
};

}  // namespace

TEST_CASE("late-time rate: rho from Q_k(T) is the fitted decay of the long-time run, within the derived bias", "[pde][rate]") {
    const auto p = point(Parametrization::u2v2, 0.5, 0.5);  // isotropic, s = 0.1, b = 1, sigma = 0
    const auto run = run_to(20.0, 41);
    const auto times = dln::sim::snapshot_times(run);
    PdeSpec base;
    base.rtol = 1e-8;
    base.atol = 1e-11;
    PdeSpec refined = base;
    refined.cells = 4 * base.cells;
    const auto coarse = solve_pde(p, run, base);
    const auto fine = solve_pde(p, run, refined);
    const auto r = risk_of(coarse), rf = risk_of(fine);
    const auto classes = make_classes(p.data, p.parametrization, p.alpha, {});
    const auto q_end = q_at(fine, times.size() - 1);
    const double rho = late_time_rate(p.parametrization, p.lr, classes, q_end);
    const auto rates = secular_rates(p.parametrization, p.lr, classes, q_end);
    CHECK(rates.rho == Approx(rho).epsilon(1e-9));  // an independent solve of the same secular equation

    const double t0 = 8.0, t1 = 14.0, t2 = 20.0;
    const auto fit = fit_log(times, rf, t1, t2), fit_coarse = fit_log(times, r, t1, t2);
    const double eta0 = std::abs(rf[index_of(times, t0)] / std::exp(fit.intercept - fit.rate * t0) - 1.0);
    const double gap = rates.rho2 - rho, slowest = std::min(gap, rho), fastest = std::max(gap, rho);
    const double eta1 = eta0 * std::exp(-slowest * (t1 - t0));
    Allowance allow;
    allow.bias = fastest * eta1 / (1.0 - eta1);
    allow.drift = std::abs(late_time_rate(p.parametrization, p.lr, classes, q_at(fine, index_of(times, t1))) - rho);
    allow.grid = std::abs(fit.rate - fit_coarse.rate);
    INFO("fitted over [14, 20] " << fit.rate << " (240 cells: " << fit_coarse.rate << "), rho " << rho << ", rho2 "
         << rates.rho2 << ", eta(8) " << eta0 << "; allowance: bias " << allow.bias << " + Q drift " << allow.drift
         << " + grid " << allow.grid << " = " << allow.total() << "; |fitted - rho| = " << std::abs(fit.rate - rho));
    CHECK(std::abs(fit.rate - rho) <= allow.total());

    // The controller's predicted_rate is rho from its own Q_k at T; with rtol on R, int R and
    // hence log Q_k = log Q_k(0) - 8 k^2 g^2 lambda int R carry a relative error <= rtol log(Q0/Q_T),
    // which moves rho by at most |d rho / d log Q| rtol log(Q0 / Q_T).
    AccuracySpec accuracy;  // auto resolutions, rtol 1e-3
    const auto controlled = solve_pde_to_tolerance(p, run, accuracy);
    REQUIRE_FALSE(controlled.diverged);
    const auto q_controlled = q_at(controlled, times.size() - 1);
    CHECK(controlled.accuracy.predicted_rate ==
          Approx(late_time_rate(p.parametrization, p.lr, classes, q_controlled)).epsilon(1e-12));
    auto scaled = q_end;
    for (auto& q : scaled) q *= 1.0 + 1e-4;
    const double sensitivity = std::abs(late_time_rate(p.parametrization, p.lr, classes, scaled) - rho) / 1e-4;
    double log_ratio = 0.0;
    for (std::size_t c = 0; c < classes.size(); ++c) log_ratio = std::max(log_ratio, std::log(classes[c].q0 / q_end[c]));
    const double allowed = sensitivity * accuracy.rtol * log_ratio;
    INFO("predicted_rate " << controlled.accuracy.predicted_rate << ", rho of the refined run " << rho
         << ", |d rho / d log Q| " << sensitivity << ", log(Q0/Q_T) " << log_ratio << ", allowed " << allowed);
    CHECK(std::abs(controlled.accuracy.predicted_rate - rho) <= allowed);
    CHECK(std::abs(controlled.accuracy.predicted_rate - fit.rate) <= allowed + allow.total());
}

TEST_CASE("late-time rate, linear on the power law a = 0.5: rho of the classes is their fitted decay", "[pde][rate]") {
    // For linear rho does not depend on Q; it is a property of the spectrum classes (4 equal-mass
    // bins here: with many bins the gaps between the bins' -2 g lambda_k, hence rho2 - rho, close up
    // and no finite window separates the modes; the continuum has a continuous spectrum right there).
    auto p = point(Parametrization::linear, 1.5, 0.1);
    p.data.spectrum = dln::model::Spectrum::powerlaw;
    p.data.exponent = 0.5;
    const auto run = run_to(30.0, 61);
    const auto times = dln::sim::snapshot_times(run);
    PdeSpec spec;
    spec.cells = 24;
    spec.quadrature.spectrum_nodes = 4;
    spec.rtol = 1e-8;
    spec.atol = 1e-13;
    PdeSpec refined = spec;
    refined.cells = 48;
    const auto coarse = solve_pde(p, run, spec);
    const auto fine = solve_pde(p, run, refined);
    REQUIRE_FALSE(fine.diverged);
    const auto r = risk_of(coarse), rf = risk_of(fine);
    const auto classes = make_classes(p.data, p.parametrization, p.alpha, spec.quadrature);
    const double rho = late_time_rate(p.parametrization, p.lr, classes, {});
    const auto rates = secular_rates(p.parametrization, p.lr, classes, {});
    CHECK(rates.rho == Approx(rho).epsilon(1e-9));
    const double t0 = 10.0, t1 = 20.0, t2 = 30.0;
    const auto fit = fit_log(times, rf, t1, t2), fit_coarse = fit_log(times, r, t1, t2);
    const double eta0 = std::abs(rf[index_of(times, t0)] / std::exp(fit.intercept - fit.rate * t0) - 1.0);
    const double gap = rates.rho2 - rho, slowest = std::min(gap, rho), fastest = std::max(gap, rho);
    const double eta1 = eta0 * std::exp(-slowest * (t1 - t0));
    Allowance allow;
    allow.bias = fastest * eta1 / (1.0 - eta1);
    allow.drift = 0.0;  // no Q
    allow.grid = std::abs(fit.rate - fit_coarse.rate);
    INFO("R(30) = " << rf.back() << "; fitted over [20, 30] " << fit.rate << " (24 cells: " << fit_coarse.rate << "), rho "
         << rho << ", rho2 " << rates.rho2 << ", eta(10) " << eta0 << "; allowance: bias " << allow.bias << " + grid "
         << allow.grid << " = " << allow.total() << "; |fitted - rho| = " << std::abs(fit.rate - rho));
    CHECK(std::abs(fit.rate - rho) <= allow.total() + 1e-6 * rho);  // + the fit's rounding
}

TEST_CASE("the symmetry fold c -> |c| changes the PDE result only at the time integrator's tolerance", "[pde][quadrature][fold]") {
    // With x0 = 0 the class (-c) is the mirror image of (c): folding them into one class of twice
    // the weight is exact. The two solves still differ by more than rounding because the adaptive
    // time stepper weighs the error of a different vector (the mirrored class counted twice), so
    // it takes other steps: the difference is time-integration error, and it must fall with the
    // integrator's tolerance (measured, worst over all observables: 1.5e-7 / 1.4e-8 / 3.9e-11 at rtol 1e-6 and 3.4e-10 /
    // 1.9e-10 / 1.4e-12 at rtol 1e-9 for the three cases).
    struct Case { Parametrization param; dln::model::TargetLaw law; };
    for (const auto& c : {Case{Parametrization::u2v2, dln::model::TargetLaw::rademacher},
                          Case{Parametrization::uv, dln::model::TargetLaw::gaussian},
                          Case{Parametrization::linear, dln::model::TargetLaw::gaussian}}) {
        auto p = point(c.param, 0.5, 0.2);
        p.data.target = c.law;
        p.data.noise = 0.1;
        std::vector<double> worst;
        for (double rtol : {1e-6, 1e-9}) {
            PdeSpec folded;
            folded.quadrature.target_nodes = 6;
            folded.rtol = rtol;
            folded.atol = 1e-3 * rtol;
            PdeSpec unfolded = folded;
            unfolded.quadrature.fold = false;
            const auto run = run_to(1.0, 5);
            REQUIRE(make_classes(p.data, c.param, p.alpha, unfolded.quadrature).size() >
                    make_classes(p.data, c.param, p.alpha, folded.quadrature).size());
            const auto a = solve_pde(p, run, folded), b = solve_pde(p, run, unfolded);
            double w = 0.0;
            for (std::size_t j = 0; j < a.snapshots.size(); ++j)
                for (std::size_t k = 0; k < a.snapshots[j].size(); ++k) {
                    const double x = a.snapshots[j][k], y = b.snapshots[j][k];
                    w = std::max(w, std::abs(x - y) / std::max(std::abs(y), 1e-300));
                }
            worst.push_back(w);
            INFO(dln::model::to_string(c.param) << " " << dln::model::to_string(c.law) << ", rtol " << rtol
                 << ": worst relative difference folded vs unfolded over all observables " << w);
            CHECK(w <= rtol);
        }
        CHECK(worst[1] < worst[0]);  // falls with the tolerance (by 27x to 450x here)
    }
}

TEST_CASE("per-class cell counts: mass, positivity, and one class refined moves R by its own share", "[pde][percell]") {
    // The gaussian target on the power law: classes that differ in lambda and c, so their grid
    // errors differ. Group A is the first half of the classes, B the rest.
    auto p = point(Parametrization::u2v2, 1.0, 0.2);
    p.data.target = dln::model::TargetLaw::gaussian;
    p.data.spectrum = dln::model::Spectrum::powerlaw;
    p.data.exponent = 0.5;
    p.data.noise = 0.1;
    const auto run = run_to(6.0, 13);
    PdeSpec base;
    base.quadrature = {4, 2};
    base.rtol = 1e-9;  // time error far below the grid differences measured
    base.atol = 1e-12;
    const std::size_t classes = make_classes(p.data, p.parametrization, p.alpha, base.quadrature).size();
    REQUIRE(classes >= 4);
    constexpr std::size_t n = 60;
    auto with = [&](std::size_t a_cells, std::size_t b_cells) {
        PdeSpec spec = base;
        for (std::size_t k = 0; k < classes; ++k) spec.class_cells.push_back(k < classes / 2 ? a_cells : b_cells);
        return solve_pde(p, run, spec);
    };
    {
        PdeSpec wrong = base;
        wrong.class_cells.assign(classes - 1, n);  // one count short
        CHECK_THROWS_AS(solve_pde(p, run, wrong), std::invalid_argument);
        wrong.class_cells.assign(classes, n);
        wrong.class_cells.back() = 3;  // below the 4 cells a class needs
        CHECK_THROWS_AS(solve_pde(p, run, wrong), std::invalid_argument);
    }
    const auto coarse = with(n, n), fine = with(2 * n, 2 * n), a_fine = with(2 * n, n), b_fine = with(n, 2 * n);
    for (const auto* t : {&a_fine, &b_fine}) {
        REQUIRE_FALSE(t->diverged);
        double worst_mass = 0.0, lowest = 1.0;
        for (const auto& snapshot : t->classes)
            for (const auto& cls : snapshot) {
                worst_mass = std::max(worst_mass, std::abs(cls.mass - 1.0));
                lowest = std::min(lowest, cls.min_density);
            }
        INFO("|mass - 1| <= " << worst_mass << ", min density " << lowest);
        CHECK(worst_mass <= 1e-10);
        CHECK(lowest >= -base.atol);  // as in the equal-count test above
    }
    const auto rc = risk_of(coarse), rf = risk_of(fine), ra = risk_of(a_fine), rb = risk_of(b_fine);
    double total = 0.0, mixed = 0.0, worst_outside = 0.0;
    for (std::size_t j = 1; j < rc.size(); ++j) {
        const double da = ra[j] - rc[j], db = rb[j] - rc[j], d = rf[j] - rc[j];
        const double residual = d - da - db;  // the mixed difference of the two groups' refinements
        INFO("t = " << 0.5 * static_cast<double>(j) << ": R(N) = " << rc[j] << ", R(2N) - R(N) = " << d << ", A only "
             << da << ", B only " << db << ", mixed " << residual);
        total = std::max(total, std::abs(d) / rc[j]);
        mixed = std::max(mixed, std::abs(residual) / rc[j]);
        // Between R(N) and R(2N) where the two groups' shifts agree in sign (the solve refined
        // in one group then moves R part of the way): outside by at most the mixed difference.
        // Where they do not, it is not between: measured (2026-12-01, N = 60) at t = 0.5 A moves
        // R by -2.6e-5 and B by +2.4e-6; from t = 1 on both shifts are negative, and the mixed
        // difference is 1e-3 to 3e-3 of the total shift.
        if (da * db > 0.0) {
            const double lo = std::min(rc[j], rf[j]), hi = std::max(rc[j], rf[j]);
            for (const double r : {ra[j], rb[j]})
                worst_outside = std::max(worst_outside, std::max(lo - r, r - hi) - std::abs(residual));
        }
    }
    INFO("sup |R(2N) - R(N)| / R = " << total << ", sup |mixed| / R = " << mixed);
    // R couples the classes, but the coupled system's response to small changes of the classes'
    // discretisations is linear to first order: the grid errors of the two groups add, and what
    // does not add (the mixed difference) is second order, of relative size the product of the
    // two groups' relative shifts over R, times constants of O(1): at most total^2 * 10.
    CHECK(mixed <= 10.0 * total * total);
    CHECK(worst_outside <= 0.0);
}
