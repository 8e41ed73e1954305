// The numerics of aggregation on curves whose answers are known in closed form: an exponential
// R0 exp(-r t) has a known time to epsilon and rate, a gap built as c d^(-1/2) has a known
// exponent, and each regime of the rule is met by a curve made to satisfy exactly one branch.
//
// Tolerances: the curves are exact up to rounding, so the answers are too. A stored value carries
// a relative error of about 1e-16 (exp and log are within an ulp or two); the least-squares fits
// amplify an error in log R by at most sum|t - mean t| / sum (t - mean t)^2 ~ 1/(span/4), O(1)
// here, and interpolation by O(1). 1e-12 relative is that bound with a wide margin; where a test
// perturbs a curve on purpose, its tolerance is the bound the perturbation implies.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dln/analysis/phase_summary.hpp"

using namespace dln::analysis;

namespace {

std::vector<double> grid(double t_end, std::size_t n) {
    std::vector<double> t(n);
    for (std::size_t j = 0; j < n; ++j) t[j] = t_end * static_cast<double>(j) / static_cast<double>(n - 1);
    return t;
}

std::vector<double> exponential(const std::vector<double>& t, double r0, double rate) {
    std::vector<double> v;
    for (double x : t) v.push_back(r0 * std::exp(-rate * x));
    return v;
}

constexpr double kExact = 1e-12;  // rounding only; see the header comment
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("phase summary: time to epsilon interpolates in log R, exact for an exponential", "[phase]") {
    const auto t = grid(10.0, 41);  // snapshots every 0.25
    const double r0 = 0.05, rate = 0.8, eps = 1e-3;
    const auto r = exponential(t, r0, rate);
    // ln(50)/0.8 = 4.89.. falls between snapshots, so this checks the interpolation, not a grid point.
    CHECK(time_to_reach(t, r, eps) == Approx(std::log(r0 / eps) / rate).epsilon(kExact));
    CHECK(time_to_reach(t, r, 1.0) == 0.0);                       // already below at the start
    CHECK(std::isnan(time_to_reach(t, r, 1e-6)));                  // R(10) = 1.7e-5: never reached
    auto stopped = r;
    for (std::size_t j = 12; j < stopped.size(); ++j) stopped[j] = kNaN;  // diverged at t = 3
    CHECK(std::isnan(time_to_reach(t, stopped, eps)));
    CHECK(time_to_reach(t, stopped, 0.01) == Approx(std::log(5.0) / rate).epsilon(kExact));  // 2.01, before it
}

TEST_CASE("phase summary: the tail rate is the exponential rate of the second half of the run", "[phase]") {
    const auto t = grid(10.0, 41);
    SECTION("a pure exponential: the rate, over [T/2, T]") {
        const auto fit = fit_tail_rate(t, exponential(t, 0.05, 0.8));
        CHECK(fit.rate == Approx(0.8).epsilon(kExact));
        CHECK(fit.t_start == 5.0);
        CHECK(fit.t_end == 10.0);
        CHECK(fit.points == 21);
    }
    SECTION("a fast transient then a slow tail: only the tail counts") {
        // R = e^{-5t} up to t = 2, then e^{-10} e^{-(t-2)}: the second half [5, 10] sees rate 1.
        std::vector<double> r;
        for (double x : t) r.push_back(x <= 2.0 ? std::exp(-5.0 * x) : std::exp(-10.0 - (x - 2.0)));
        CHECK(fit_tail_rate(t, r).rate == Approx(1.0).epsilon(kExact));
    }
    SECTION("a perturbation of known size moves the rate by at most what it implies") {
        // log R_j = log R0 - r t_j + eta_j, |eta_j| <= eta. The least-squares slope moves by
        // sum (t_j - tbar) eta_j / sum (t_j - tbar)^2, at most eta sum|t_j - tbar| / sum (t_j - tbar)^2.
        const double eta = 0.05, rate = 0.8;
        std::vector<double> r;
        for (std::size_t j = 0; j < t.size(); ++j) {
            r.push_back(0.05 * std::exp(-rate * t[j] + eta * std::cos(1.3 * static_cast<double>(j))));
        }
        const auto fit = fit_tail_rate(t, r);
        double mean = 0.0, abs_dev = 0.0, sq_dev = 0.0;
        for (std::size_t j = 20; j < 41; ++j) mean += t[j] / 21.0;
        for (std::size_t j = 20; j < 41; ++j) {
            abs_dev += std::abs(t[j] - mean);
            sq_dev += (t[j] - mean) * (t[j] - mean);
        }
        const double bound = eta * abs_dev / sq_dev;  // 0.019
        CHECK(std::abs(fit.rate - rate) <= bound);
        CHECK(fit.rate != Approx(rate).epsilon(kExact));  // the perturbation did reach the fit
    }
    SECTION("the window ends where the curve stops: divergence or the floor") {
        auto r = exponential(t, 0.05, 0.8);
        for (std::size_t j = 25; j < r.size(); ++j) r[j] = kNaN;  // last finite value at t = 6
        auto fit = fit_tail_rate(t, r);
        CHECK(fit.t_end == 6.0);
        CHECK(fit.t_start == 3.0);
        CHECK(fit.rate == Approx(0.8).epsilon(kExact));
        // A fall of 4 per unit time passes 1e-12 R0 at t = ln(1e12)/4 = 6.9: the fit stops before.
        fit = fit_tail_rate(t, exponential(t, 0.05, 4.0));
        CHECK(fit.t_end == 6.75);
        CHECK(fit.rate == Approx(4.0).epsilon(kExact));
    }
    SECTION("too short a curve has no rate") {
        auto r = exponential(t, 0.05, 0.8);
        for (std::size_t j = 2; j < r.size(); ++j) r[j] = kNaN;
        CHECK(std::isnan(fit_tail_rate(t, r).rate));
    }
}

TEST_CASE("phase summary: the relative gap is the sup over time, and its power law in d is recovered", "[phase]") {
    const auto t = grid(10.0, 41);
    const auto limit = exponential(t, 0.05, 0.8);
    const std::vector<double> dims{100, 400, 1600, 6400};
    const double c = 0.3;
    std::vector<double> gaps;
    for (double d : dims) {
        // a = b (1 + c d^(-1/2) g(t)), g rising to 1 at t = 2 and staying: sup = c d^(-1/2).
        std::vector<double> a;
        for (std::size_t j = 0; j < t.size(); ++j) a.push_back(limit[j] * (1.0 + c / std::sqrt(d) * std::min(t[j] / 2.0, 1.0)));
        gaps.push_back(relative_gap(a, limit));
        // (1 + x) - 1 loses the digits of 1 next to x >= 4e-3: relative error <= 1e-16/4e-3 ~ 3e-14.
        CHECK(gaps.back() == Approx(c / std::sqrt(d)).epsilon(1e-12));
    }
    const auto fit = fit_power_law(dims, gaps);
    // Four gaps each within 3e-14 relative: log errors 3e-14 over log-spread ln(64), slope error < 1e-13.
    CHECK(fit.exponent == Approx(-0.5).epsilon(1e-12));
    CHECK(fit.prefactor == Approx(c).epsilon(1e-12));
    CHECK(fit.points == 4);
    // Missing and non-positive gaps are left out; one point is not a fit.
    CHECK(fit_power_law({100, 400, 1600}, {0.03, kNaN, 0.0075}).exponent == Approx(-0.5).epsilon(kExact));
    CHECK(std::isnan(fit_power_law({100, 400}, {0.03, kNaN}).exponent));
    CHECK(std::isnan(relative_gap({kNaN, kNaN}, {1.0, 0.5})));
}

namespace {

// A point of n replicates whose excess risk (and risk = excess + noise) and balance are given curves.
Replicates replicates(const std::vector<double>& t, const std::vector<std::vector<double>>& excess,
                      const std::vector<double>& balance, const std::vector<Outcome>& outcome, double floor_risk = 0.0) {
    Replicates r;
    r.outcome = outcome;
    for (const auto& e : excess) {
        for (std::size_t j = 0; j < t.size(); ++j) {
            r.excess.push_back(e[j]);
            r.risk.push_back(e[j] + floor_risk);
            r.curvature.push_back(2.0);
            r.balance.push_back(balance[j]);
            r.false_support.push_back(0.25);
        }
    }
    return r;
}

std::vector<double> constant(const std::vector<double>& t, double v) { return std::vector<double>(t.size(), v); }

}  // namespace

TEST_CASE("phase summary: replicate statistics: mean and spread over the replicates that did not diverge", "[phase]") {
    const auto t = grid(10.0, 41);
    const double noise_floor = 0.02;  // sigma^2/2 with sigma = 0.2: final risk includes it, epsilon does not
    auto e = exponential(t, 0.05, 0.8);
    std::vector<double> low, high, gone = e;
    for (double x : e) {
        low.push_back(0.9 * x);
        high.push_back(1.1 * x);
    }
    for (std::size_t j = 10; j < gone.size(); ++j) gone[j] = kNaN;
    const auto r = replicates(t, {low, high, gone, e}, constant(t, 0.01),
                              {Outcome::finished, Outcome::finished, Outcome::diverged, Outcome::missing}, noise_floor);
    const auto s = summarize_point(t, r, RegimeRule{});
    CHECK(s.computed == 3);  // the missing one (pending or failed) does not count
    CHECK(s.diverged == 1);
    CHECK(s.diverged_fraction == Approx(1.0 / 3.0).epsilon(kExact));
    const double eT = e.back();
    CHECK(s.risk_final_mean == Approx(eT + noise_floor).epsilon(kExact));
    // Two values eT (1 +- 0.1): sample standard deviation 0.1 eT sqrt(2).
    // The deviations (1.7e-6) are differences of risks near 0.02, so they keep 0.02 * 1e-16 / 1.7e-6 ~ 1e-12
    // relative accuracy, not 1e-16.
    CHECK(s.risk_final_std == Approx(0.1 * eT * std::sqrt(2.0)).epsilon(1e-10));
    CHECK(s.excess_lo.back() == Approx(0.9 * eT).epsilon(kExact));
    CHECK(s.excess_hi.back() == Approx(1.1 * eT).epsilon(kExact));
    CHECK(s.time_to_epsilon == Approx(std::log(0.05 / 1e-3) / 0.8).epsilon(kExact));  // on the excess
    CHECK(s.tail.rate == Approx(0.8).epsilon(kExact));
    CHECK(s.curvature_final == 2.0);
    CHECK(s.balance_final == 0.01);
    CHECK(s.false_support_final == 0.25);
    CHECK(s.regime == Regime::converged);  // 1 of 3 diverged is below the half of the rule
}

TEST_CASE("phase summary: the regime rule: one curve per branch", "[phase]") {
    const auto t = grid(10.0, 41);
    const RegimeRule rule;  // epsilon 1e-3
    const auto q = exponential(t, 0.01, 0.1);  // the balance shrinks gently: no collapse
    auto regime = [&](const std::vector<double>& e, const std::vector<double>& balance,
                      std::vector<Outcome> outcome = {Outcome::finished, Outcome::finished}) {
        std::vector<std::vector<double>> curves(outcome.size(), e);
        for (std::size_t k = 0; k < outcome.size(); ++k) {
            if (outcome[k] == Outcome::diverged) curves[k].assign(t.size(), kNaN);
        }
        return summarize_point(t, replicates(t, curves, balance, outcome), rule).regime;
    };
    // E(T) = 0.05 e^-8 = 1.7e-5 <= epsilon.
    CHECK(regime(exponential(t, 0.05, 0.8), q) == Regime::converged);
    // E(T) = 0.05 e^-2.5 = 4e-3 > epsilon, falling by e^-1.25 over [5, 10]: more than a factor 2.
    CHECK(regime(exponential(t, 0.05, 0.25), q) == Regime::converging);
    // Falls by e^-0.5 < 1/2 over the second half: not "still falling" by the rule.
    CHECK(regime(exponential(t, 0.05, 0.1), q) == Regime::stalled);
    // A plateau above epsilon (a noise floor): stalled.
    std::vector<double> plateau;
    for (double x : t) plateau.push_back(0.002 + 0.048 * std::exp(-2.0 * x));
    CHECK(regime(plateau, q) == Regime::stalled);
    // The balance falls to e^-300 of its start while the risk stays at 0.8 of its start: collapsed.
    std::vector<double> stuck;
    for (double x : t) stuck.push_back(0.05 * (0.8 + 0.2 * std::exp(-5.0 * x)));
    CHECK(regime(stuck, exponential(t, 0.01, 30.0)) == Regime::collapsed);
    // The same collapse of Q with a risk that did fall (to 0.04 of its start) is not a collapse.
    CHECK(regime(plateau, exponential(t, 0.01, 30.0)) == Regime::stalled);
    // A linear model has no balance (NaN): never collapsed.
    CHECK(regime(stuck, constant(t, kNaN)) == Regime::stalled);
    // Half the replicates diverged: diverged, whatever the survivors did.
    CHECK(regime(exponential(t, 0.05, 0.8), q, {Outcome::finished, Outcome::diverged}) == Regime::diverged);
    CHECK(regime(exponential(t, 0.05, 0.8), q, {Outcome::diverged, Outcome::diverged}) == Regime::diverged);
    // Nothing computed (pending or failed): missing, not an error; one replicate of two is enough.
    CHECK(regime(exponential(t, 0.05, 0.8), q, {Outcome::missing, Outcome::missing}) == Regime::missing);
    CHECK(regime(exponential(t, 0.05, 0.8), q, {Outcome::missing, Outcome::finished}) == Regime::converged);
}

namespace {

Axis numeric_axis(std::string name, std::string key, std::vector<double> values, bool integer = false) {
    Axis a;
    a.name = std::move(name);
    a.key = std::move(key);
    a.values = std::move(values);
    a.integer = integer;
    return a;
}

Axis names_axis(std::string name, std::string key, std::vector<std::string> labels) {
    Axis a;
    a.name = std::move(name);
    a.key = std::move(key);
    a.categorical = true;
    a.labels = std::move(labels);
    return a;
}

// A method of a hand-built sweep whose every replicate of point p has the excess curve curve(p, s).
SweepData::Method hand_method(const char* name, std::vector<Axis> axes, std::size_t replicates,
                              const std::vector<double>& t, auto curve, auto outcome) {
    SweepData::Method m;
    m.name = name;
    m.axes = std::move(axes);
    m.replicates = replicates;
    for (std::size_t p = 0; p < grid_size(m.axes); ++p) {
        for (std::size_t s = 0; s < replicates; ++s) {
            const Outcome o = outcome(p, s);
            m.outcome.push_back(o);
            const auto e = curve(p, s);
            for (std::size_t j = 0; j < t.size(); ++j) {
                const double v = o == Outcome::finished ? e[j] : kNaN;
                m.excess.push_back(v);
                m.risk.push_back(v);
                m.curvature.push_back(2.0);
                m.balance.push_back(0.01);
                m.false_support.push_back(0.0);
            }
        }
    }
    return m;
}

}  // namespace

TEST_CASE("phase summary: the PDE point's error estimate and predicted rate reach every method's (lr, alpha)",
          "[phase]") {
    // Two lr, one dim, two alpha; one seed. sgd and pde curves are the same exponential.
    SweepData sweep;
    sweep.time = numeric_axis("time", "", grid(4.0, 9));
    const auto lr = numeric_axis("lr", "sweep.lr", {0.5, 1.0});
    const auto dim = numeric_axis("dim", "sweep.dim", {100}, true);
    const auto alpha = numeric_axis("alpha", "sweep.alpha", {0.1, 0.3});
    const auto& t = sweep.time.values;
    auto curve = [&](std::size_t, std::size_t) { return exponential(t, 0.05, 1.0); };
    auto finished = [](std::size_t, std::size_t) { return Outcome::finished; };
    sweep.methods = {hand_method("sgd", {lr, dim, alpha}, 1, t, curve, finished),
                     hand_method("pde", {lr, alpha}, 1, t, curve, finished)};
    sweep.methods[1].error_estimate = {1e-4, 2e-4, 3e-4, 4e-4};
    sweep.methods[1].predicted_rate = {0.9, -0.1, 0.7, kNaN};
    const auto table = aggregate(sweep, RegimeRule{});
    for (const auto& m : table.methods) {
        REQUIRE(m.pde_error_estimate.size() == 4);
        REQUIRE(m.predicted_rate.size() == 4);
        CHECK(m.pde_error_estimate[2] == 3e-4);
        CHECK(m.predicted_rate[1] == -0.1);
        CHECK(std::isnan(m.predicted_rate[3]));
    }
    // The axes come from the data: sgd has the one the reference lacks, the reference none.
    CHECK(table.find("sgd")->limit_axis == 1);
    CHECK(table.find("sgd")->reference_axes == std::vector<std::size_t>{0, 2});
    CHECK_FALSE(table.find("pde")->has_limit_axis());
    CHECK(table.find("pde")->gap.empty());
    // A sweep file without the fields (an older one): NaN, not an error.
    sweep.methods[1].error_estimate.clear();
    sweep.methods[1].predicted_rate.clear();
    const auto old = aggregate(sweep, RegimeRule{});
    CHECK(std::isnan(old.find("sgd")->pde_error_estimate[0]));
    CHECK(std::isnan(old.find("pde")->predicted_rate[0]));
    // Without a pde there is nothing to carry.
    sweep.methods.pop_back();
    CHECK(aggregate(sweep, RegimeRule{}).find("sgd")->predicted_rate.empty());
    CHECK(aggregate(sweep, RegimeRule{}).reference() == nullptr);
}

TEST_CASE("phase summary: grids over any axes: row-major indices, labels", "[phase]") {
    const std::vector<Axis> axes{numeric_axis("lr", "sweep.lr", {1, 2}),
                                 names_axis("spectrum", "data.spectrum", {"isotropic", "powerlaw", "mp"}),
                                 numeric_axis("dim", "sweep.dim", {100, 1000000}, true)};
    CHECK(grid_size(axes) == 12);
    CHECK(grid_size({}) == 1);
    CHECK(grid_index(axes, 11) == std::vector<std::size_t>{1, 2, 1});
    CHECK(grid_index(axes, 3) == std::vector<std::size_t>{0, 1, 1});
    for (std::size_t p = 0; p < 12; ++p) CHECK(grid_point(axes, grid_index(axes, p)) == p);
    CHECK(axes[1].label(2) == "mp");
    CHECK(axes[2].label(1) == "1000000");
    CHECK(numeric_axis("noise", "data.noise", {0.125}).label(0) == "0.125");
}

TEST_CASE("phase summary: two extra axes (numeric, categorical): every point summarised, the gap against the "
          "PDE point of the same coordinates, its power law per (lr, alpha, extras)", "[phase]") {
    SweepData sweep;
    sweep.time = numeric_axis("time", "", grid(10.0, 41));
    const auto& t = sweep.time.values;
    const auto lr = numeric_axis("lr", "sweep.lr", {0.5, 1.0});
    const auto dim = numeric_axis("dim", "sweep.dim", {100, 400, 1600}, true);
    const auto alpha = numeric_axis("alpha", "sweep.alpha", {0.1});
    const auto noise = numeric_axis("noise", "data.noise", {0.0, 0.2});
    const auto spectrum = names_axis("spectrum", "data.spectrum", {"isotropic", "powerlaw"});
    const std::vector<Axis> sgd_axes{lr, dim, alpha, noise, spectrum}, pde_axes{lr, alpha, noise, spectrum};
    // PDE point q (of 8) decays at rate 0.4 + 0.1 q; SGD at (.., d, ..) is it times 1 + c_q d^(-1/2) g(t)
    // (g rising to 1 at t = 2), with c_q = 0.1 (q + 1) different for every q: a gap matched against
    // another point's PDE would be far from c_q d^(-1/2). The replicates are 1 -+ 0.1 of that.
    auto rate = [](std::size_t q) { return 0.4 + 0.1 * static_cast<double>(q); };
    auto c = [](std::size_t q) { return 0.1 * static_cast<double>(q + 1); };
    // SGD point (l, d, a, n, s) -> PDE point (l, a, n, s).
    auto to_pde = [&](std::size_t p) {
        const auto i = grid_index(sgd_axes, p);
        return grid_point(pde_axes, {i[0], i[2], i[3], i[4]});
    };
    auto limit_curve = [&](std::size_t q, std::size_t) { return exponential(t, 0.05, rate(q)); };
    auto sgd_curve = [&](std::size_t p, std::size_t s) {
        const std::size_t q = to_pde(p);
        const double d = dim.values[grid_index(sgd_axes, p)[1]];
        auto e = exponential(t, 0.05, rate(q));
        for (std::size_t j = 0; j < t.size(); ++j) {
            e[j] *= (1.0 + c(q) / std::sqrt(d) * std::min(t[j] / 2.0, 1.0)) * (s == 0 ? 0.9 : 1.1);
        }
        return e;
    };
    // Both replicates of (lr 1, d 100, alpha 0.1, noise 0.2, isotropic) diverged.
    const std::size_t diverged_point = grid_point(sgd_axes, {1, 0, 0, 1, 0});
    auto sgd_outcome = [&](std::size_t p, std::size_t) { return p == diverged_point ? Outcome::diverged : Outcome::finished; };
    auto finished = [](std::size_t, std::size_t) { return Outcome::finished; };
    sweep.methods = {hand_method("sgd", sgd_axes, 2, t, sgd_curve, sgd_outcome),
                     hand_method("pde", pde_axes, 1, t, limit_curve, finished)};
    for (std::size_t q = 0; q < 8; ++q) {
        sweep.methods[1].error_estimate.push_back(1e-5 * static_cast<double>(q + 1));
        sweep.methods[1].predicted_rate.push_back(rate(q));
    }

    const auto table = aggregate(sweep, RegimeRule{});
    const auto* sgd = table.find("sgd");
    const auto* pde = table.reference();
    REQUIRE(sgd != nullptr);
    REQUIRE(pde == table.find("pde"));
    REQUIRE(sgd->points.size() == 24);
    REQUIRE(pde->points.size() == 8);
    CHECK(sgd->limit_axis == 1);
    CHECK(sgd->reference_axes == std::vector<std::size_t>{0, 2, 3, 4});
    // Columns of phase.csv: lr, dim, alpha, then the extras in axis order.
    std::vector<std::string> names;
    for (const auto& a : table.all_axes()) names.push_back(a.name);
    CHECK(names == std::vector<std::string>{"lr", "dim", "alpha", "noise", "spectrum"});

    for (std::size_t p = 0; p < 24; ++p) {
        const auto i = grid_index(sgd_axes, p);
        const std::size_t q = to_pde(p);
        CHECK(sgd->reference_point(p, pde_axes) == q);
        INFO("sgd point " << p << " (pde point " << q << ")");
        const auto& s = sgd->points[p];
        if (p == diverged_point) {
            CHECK(s.regime == Regime::diverged);
            CHECK(std::isnan(sgd->gap[p]));
            continue;
        }
        CHECK(s.computed == 2);
        // In [5, 10] the mean is 0.05 (1 + c/sqrt(d)) e^{-r t}: rate r of its own point.
        CHECK(s.tail.rate == Approx(rate(q)).epsilon(kExact));
        // (1 + x) - 1 with x >= 0.1/40: relative error <= 1e-16/2.5e-3, within 1e-12.
        CHECK(sgd->gap[p] == Approx(c(q) / std::sqrt(dim.values[i[1]])).epsilon(kExact));
    }
    for (std::size_t q = 0; q < 8; ++q) {
        INFO("pde point " << q);
        CHECK(pde->points[q].tail.rate == Approx(rate(q)).epsilon(kExact));
        const auto& fit = sgd->gap_fit[q];
        CHECK(fit.exponent == Approx(-0.5).epsilon(kExact));
        CHECK(fit.prefactor == Approx(c(q)).epsilon(kExact));
        // The diverged point leaves 2 of its 3 dims.
        CHECK(fit.points == (q == grid_point(pde_axes, {1, 0, 1, 0}) ? 2u : 3u));
        CHECK(sgd->predicted_rate[q] == rate(q));
        CHECK(pde->pde_error_estimate[q] == 1e-5 * static_cast<double>(q + 1));
    }

    SECTION("axes that do not match the reference's are refused by name") {
        auto bad = sweep;
        bad.methods[1].axes[2].values = {0.0, 0.1};  // the PDE's noise differs from SGD's
        CHECK_THROWS_WITH(aggregate(bad, RegimeRule{}), Catch::Contains("noise"));
        bad = sweep;
        bad.methods[1].axes[3].labels = {"isotropic", "file"};
        CHECK_THROWS_WITH(aggregate(bad, RegimeRule{}), Catch::Contains("spectrum"));
        // The PDE without the categorical axis SGD has: SGD has two axes more.
        bad = sweep;
        bad.methods[1].axes.pop_back();
        bad.methods[1].outcome.resize(4);
        for (auto* v : {&bad.methods[1].risk, &bad.methods[1].excess, &bad.methods[1].curvature,
                        &bad.methods[1].balance, &bad.methods[1].false_support}) {
            v->resize(4 * t.size());
        }
        bad.methods[1].error_estimate.resize(4);
        bad.methods[1].predicted_rate.resize(4);
        CHECK_THROWS_WITH(aggregate(bad, RegimeRule{}), Catch::Contains("more than one numeric axis"));
        // Arrays of another shape than the axes say.
        bad = sweep;
        bad.methods[0].outcome.pop_back();
        CHECK_THROWS_WITH(aggregate(bad, RegimeRule{}), Catch::Contains("wrong shape"));
    }
}

// ---- quantile bands -------------------------------------------------------------------------------
// Expected values are Hyndman-Fan type 7 worked by hand: sort, h = (n - 1) p, Q = x_(floor h) +
// (h - floor h)(x_(floor h + 1) - x_(floor h)) (0-based order statistics). They agree with
// numpy.quantile's default ('linear'), e.g. np.quantile([3, 1, 4, 1, 5], [.1, .25, .5, .75, .9]) =
// [1, 1, 3, 4, 4.6]. Each is one interpolation of small integers, exact up to one rounding: kExact.

TEST_CASE("phase summary: quantiles are Hyndman-Fan type 7 (linear between order statistics)", "[phase][quantile]") {
    // {3, 1, 4, 1, 5} sorted is {1, 1, 3, 4, 5}, n = 5, h = 4p.
    const std::vector<double> five{3, 1, 4, 1, 5};
    CHECK(quantile(five, 0.0) == 1.0);                            // h = 0: the minimum
    CHECK(quantile(five, 0.1) == 1.0);                            // h = 0.4 between x0 = x1 = 1
    CHECK(quantile(five, 0.25) == 1.0);                           // h = 1: x1
    CHECK(quantile(five, 0.5) == 3.0);                            // h = 2: x2, the middle value
    CHECK(quantile(five, 0.75) == 4.0);                           // h = 3: x3
    CHECK(quantile(five, 0.9) == Approx(4.6).epsilon(kExact));    // h = 3.6: 4 + 0.6 (5 - 4)
    CHECK(quantile(five, 1.0) == 5.0);                            // h = 4: the maximum
    // 1, 2, ..., 10: h = 9p; Q(0.1) = x0 + 0.9 (x1 - x0) = 1.9, Q(0.9) = x8 + 0.1 = 9.1, Q(1/2) = 5.5.
    std::vector<double> ten;
    for (int k = 10; k >= 1; --k) ten.push_back(k);  // given in reverse: the order of the input does not matter
    CHECK(quantile(ten, 0.1) == Approx(1.9).epsilon(kExact));
    CHECK(quantile(ten, 0.9) == Approx(9.1).epsilon(kExact));
    CHECK(quantile(ten, 0.5) == Approx(5.5).epsilon(kExact));
    // 0, 1, ..., 100: x_(k) = k and h = 100 p, so Q(p) = 100 p for every p.
    std::vector<double> hundred;
    for (int k = 0; k <= 100; ++k) hundred.push_back(k);
    for (double p : {0.025, 0.1, 0.37, 0.5, 0.9, 0.975}) CHECK(quantile(hundred, p) == Approx(100.0 * p).epsilon(kExact));
    // Two values: the median is their mean; one value is every quantile.
    CHECK(quantile({2.0, 8.0}, 0.5) == 5.0);
    CHECK(quantile({2.0, 8.0}, 0.1) == Approx(2.6).epsilon(kExact));  // h = 0.1: 2 + 0.1 * 6
    CHECK(quantile({0.7}, 0.1) == 0.7);
    CHECK(quantile({0.7}, 0.9) == 0.7);
    // Ties with infinity: equal order statistics need no interpolation (inf - inf would be NaN).
    CHECK(quantile({1.0, kInf, kInf}, 0.9) == kInf);
    CHECK(quantile({1.0, 2.0, kInf}, 0.5) == 2.0);
    // A NaN has no rank: the quantile is NaN, not the quantile of the rest. Empty: NaN.
    CHECK(std::isnan(quantile({1.0, kNaN, 3.0}, 0.5)));
    CHECK(std::isnan(quantile({}, 0.5)));
    CHECK(std::isnan(quantile(five, 1.5)));
}

TEST_CASE("phase summary: --band LO,HI in percent, 0 <= LO < 50 < HI <= 100", "[phase][quantile]") {
    const auto standard = parse_band("10,90");
    CHECK(standard.lo == Approx(0.1).epsilon(kExact));
    CHECK(standard.hi == Approx(0.9).epsilon(kExact));
    const auto wide = parse_band("2.5, 97.5");
    CHECK(wide.lo == Approx(0.025).epsilon(kExact));
    CHECK(wide.hi == Approx(0.975).epsilon(kExact));
    const auto range = parse_band("0,100");  // the range: min and max
    CHECK(range.lo == 0.0);
    CHECK(range.hi == 1.0);
    for (const char* bad : {"50,90", "10,50", "-1,90", "10,100.5", "90,10", "10", "a,90", "10,90,95", "10,nan",
                            "10,inf", "", ",90", "10,90x"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_band(bad), Catch::Contains("'" + std::string(bad) + "'"));
    }
}

TEST_CASE("phase summary: median and band per time over the survivors: a diverged replicate is excluded, "
          "a NaN value is not skipped", "[phase][quantile]") {
    const auto t = grid(4.0, 9);
    const auto shape = exponential(t, 1.0, 0.5);
    const double noise_floor = 0.02;
    // Replicate k = 1..10 has excess 0.01 k shape(t): per time the sample is shape(t) * {0.01, ..., 0.1},
    // whose type-7 quantiles are shape(t) times those of 1..10 (above): 0.019, 0.055, 0.091.
    std::vector<std::vector<double>> excess;
    std::vector<Outcome> outcome;
    for (int k = 1; k <= 10; ++k) {
        std::vector<double> e;
        for (double x : shape) e.push_back(0.01 * k * x);
        excess.push_back(e);
        outcome.push_back(Outcome::finished);
    }
    // A diverged replicate far above every other (until it stopped) and a missing one: neither counts.
    std::vector<double> diverged(t.size(), kNaN), missing(t.size(), kNaN);
    for (std::size_t j = 0; j < 3; ++j) diverged[j] = 100.0 * shape[j];
    excess.push_back(diverged);
    outcome.push_back(Outcome::diverged);
    excess.push_back(missing);
    outcome.push_back(Outcome::missing);
    auto r = replicates(t, excess, constant(t, 0.01), outcome, noise_floor);
    // The balance of replicate 3 is NaN at the last time (as a linear model's is everywhere).
    r.balance[2 * t.size() + t.size() - 1] = kNaN;
    const auto s = summarize_point(t, r, RegimeRule{}, QuantileBand{0.1, 0.9});
    REQUIRE(s.excess_q.median.size() == t.size());
    for (std::size_t j = 0; j < t.size(); ++j) {
        INFO("time " << t[j]);
        // One interpolation of products 0.01 k shape(t), each within an ulp: kExact.
        CHECK(s.excess_q.lo[j] == Approx(0.019 * shape[j]).epsilon(kExact));
        CHECK(s.excess_q.median[j] == Approx(0.055 * shape[j]).epsilon(kExact));
        CHECK(s.excess_q.hi[j] == Approx(0.091 * shape[j]).epsilon(kExact));
        CHECK(s.excess_q.lo[j] <= s.excess_q.median[j]);
        CHECK(s.excess_q.median[j] <= s.excess_q.hi[j]);
        CHECK(s.curvature_q.median[j] == 2.0);  // every replicate's curvature is 2
    }
    CHECK(s.balance_q.median.front() == 0.01);
    CHECK(std::isnan(s.balance_q.median.back()));  // a survivor's NaN: NaN, not the median of the others
    CHECK(std::isnan(s.balance_q.lo.back()));
    // The final risk = excess + sigma^2/2: its quantiles are shifted by 0.02.
    CHECK(s.risk_final_median == Approx(0.055 * shape.back() + noise_floor).epsilon(kExact));
    CHECK(s.risk_final_band_lo == Approx(0.019 * shape.back() + noise_floor).epsilon(kExact));
    CHECK(s.risk_final_band_hi == Approx(0.091 * shape.back() + noise_floor).epsilon(kExact));
    // The relative width is (0.091 - 0.019) / 0.055 = 72/55 at every time, so its mean too.
    CHECK(s.band_width == Approx(72.0 / 55.0).epsilon(kExact));
    // The mean stays (of the survivors): 0.055 shape(t), the mean of 0.01..0.1.
    CHECK(s.excess_mean.back() == Approx(0.055 * shape.back()).epsilon(kExact));
    // Another band: 25-75% of 1..10 is h = 2.25 and 6.75: 3.25 and 7.75.
    const auto quartiles = summarize_point(t, r, RegimeRule{}, QuantileBand{0.25, 0.75});
    CHECK(quartiles.excess_q.lo.front() == Approx(0.0325).epsilon(kExact));
    CHECK(quartiles.excess_q.hi.front() == Approx(0.0775).epsilon(kExact));
    // One survivor: every quantile is its value, and no width is claimed from a single run.
    const auto lone = summarize_point(t, replicates(t, {excess[0]}, constant(t, 0.01), {Outcome::finished}),
                                      RegimeRule{});
    CHECK(lone.excess_q.lo.back() == lone.excess_q.hi.back());
    CHECK(std::isnan(lone.band_width));
    // No survivor: no curve, like the mean's (phase.h5 writes NaN there), and no final quantile.
    const auto none = summarize_point(t, replicates(t, {diverged}, constant(t, 0.01), {Outcome::diverged}), RegimeRule{});
    CHECK(none.excess_q.median.empty());
    CHECK(none.excess_mean.empty());
    CHECK(std::isnan(none.risk_final_median));
}

TEST_CASE("phase summary: the power law's standard error from its residuals", "[phase][quantile]") {
    // log x = 0, 1, 2, 3 and log y = -x/2 + r with r = (+d, -d, -d, +d): r sums to 0 and is
    // orthogonal to log x - 3/2, so the slope stays -1/2 exactly and the residuals are r. SSR = 4 d^2,
    // n - 2 = 2, Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5: se = sqrt(4 d^2 / 2 / 5) = d sqrt(0.4).
    const double d = 0.1;
    std::vector<double> x, y;
    const double r[] = {d, -d, -d, d};
    for (int k = 0; k < 4; ++k) {
        x.push_back(std::exp(k));
        y.push_back(std::exp(-0.5 * k + r[k]));
    }
    const auto fit = fit_power_law(x, y);
    // exp and log round-trip within a few ulps of O(1) numbers; the sums amplify by O(1).
    CHECK(fit.exponent == Approx(-0.5).epsilon(kExact));
    CHECK(fit.exponent_se == Approx(d * std::sqrt(0.4)).epsilon(1e-10));
    // An exact power law has no residual; two points have no degree of freedom left.
    CHECK(fit_power_law({16, 64, 256}, {0.25, 0.125, 0.0625}).exponent_se < 1e-14);
    CHECK(std::isnan(fit_power_law({16, 64}, {0.25, 0.125}).exponent_se));
}

TEST_CASE("phase summary: aggregate fits the band width's power law along d per (lr, alpha)", "[phase][quantile]") {
    // Replicate k of 11 at dimension d has excess shape(t) (1 + (k - 5) c d^(-1/2)), k = 0..10: the
    // type-7 10%, 50% and 90% quantiles are at k = 1, 5, 9 (h = 10p is whole), so the relative
    // width is 8 c d^(-1/2) at every time: the exponent is -1/2 and its standard error 0.
    SweepData sweep;
    sweep.time = numeric_axis("time", "", grid(4.0, 9));
    const auto& t = sweep.time.values;
    const auto lr = numeric_axis("lr", "sweep.lr", {0.5});
    const auto dim = numeric_axis("dim", "sweep.dim", {16, 256, 4096}, true);
    const auto alpha = numeric_axis("alpha", "sweep.alpha", {0.1, 0.3});
    const double c = 0.5;
    auto sgd_curve = [&](std::size_t p, std::size_t k) {
        const double dd = dim.values[grid_index({lr, dim, alpha}, p)[1]];
        auto e = exponential(t, 0.5, 0.7);
        for (double& v : e) v *= 1.0 + (static_cast<double>(k) - 5.0) * c / std::sqrt(dd);
        return e;
    };
    auto limit = [&](std::size_t, std::size_t) { return exponential(t, 0.5, 0.7); };
    auto finished = [](std::size_t, std::size_t) { return Outcome::finished; };
    sweep.methods = {hand_method("sgd", {lr, dim, alpha}, 11, t, sgd_curve, finished),
                     hand_method("pde", {lr, alpha}, 1, t, limit, finished)};
    const auto table = aggregate(sweep, RegimeRule{}, QuantileBand{0.1, 0.9});
    const auto* sgd = table.find("sgd");
    REQUIRE(sgd->band_width_fit.size() == 2);
    for (std::size_t p = 0; p < sgd->points.size(); ++p) {
        const double dd = dim.values[grid_index(sgd->axes, p)[1]];
        // 1 + x with x = -4c/sqrt(16) = -0.5 at worst: each quantile within a few ulps, the width
        // a difference of O(1) numbers over an O(1) one: 1e-12 relative of 8c/sqrt(d) >= 0.06 holds.
        CHECK(sgd->points[p].band_width == Approx(8.0 * c / std::sqrt(dd)).epsilon(1e-12));
    }
    for (const auto& fit : sgd->band_width_fit) {
        CHECK(fit.exponent == Approx(-0.5).epsilon(1e-12));
        CHECK(fit.prefactor == Approx(8.0 * c).epsilon(1e-12));
        CHECK(fit.exponent_se < 1e-12);
        CHECK(fit.points == 3);
    }
    CHECK(table.find("pde")->band_width_fit.empty());  // the reference has no d to fit along
    CHECK(std::isnan(table.find("pde")->points[0].band_width));  // one replicate: no width
    CHECK_THROWS_AS(aggregate(sweep, RegimeRule{}, QuantileBand{0.6, 0.9}), std::invalid_argument);
}
