// An independent oracle for the PDE of `linear` (THEORY.md §5): the per-eigenvalue second moments
// y_lambda = E(w - beta*)^2 of the homogenized SDE obey the closed linear system
//
//     y_lambda' = -2 g lambda y_lambda + 2 g^2 lambda R(t),   R = 1/2 int lambda y_lambda dmu(lambda) + sigma^2/2,
//     y_lambda(0) = E(w0 - beta*)^2 = s E[c^2]   (w0 = 0; the target law enters only through this),
//
// which is the Volterra equation of the risk written as an ODE. The oracle shares no code with
// lib/dln/pde:
//  - the spectrum law mu is given as a quantile function Q(u), u ~ U(0, 1) (a new spectrum is one
//    function), integrated by the midpoint rule in v after the substitution u = v^p (p = 1: plain
//    midpoint quantiles; p = 1/(1 - a) makes the power law's weight lambda(u) du exactly dv, so the
//    integrand of R is bounded and the rule's mean is 1 to rounding);
//  - time is integrated by an exponential trapezoid rule: each y_lambda is propagated exactly under
//    R interpolated linearly over the step (so the stiff large-lambda modes cost nothing), and the
//    step's end value R_{n+1}, on which the update depends linearly, is solved for exactly. Second
//    order in h; convergence is shown below by halving h and doubling the nodes.
// The functions in namespace dln::testing::volterra have external linkage so that
// test_pde_volterra_spectra.cpp (the spectra that land later) can use them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "dln/pde/error_control.hpp"
#include "dln/pde/fokker_planck_solver.hpp"

namespace dln::testing::volterra {

// The law of lambda = Q(u), u ~ U(0,1), as nodes and weights: the midpoint rule in v on (0, 1)
// with u = v^power, weight p v^(p-1) / n.
void quantile_law(const std::function<double(double)>& quantile, std::size_t nodes, double power,
                  std::vector<double>& lambda, std::vector<double>& weight) {
    lambda.assign(nodes, 0.0);
    weight.assign(nodes, 0.0);
    const double n = static_cast<double>(nodes);
    for (std::size_t j = 0; j < nodes; ++j) {
        const double v = (static_cast<double>(j) + 0.5) / n;
        lambda[j] = quantile(std::pow(v, power));
        weight[j] = power * std::pow(v, power - 1.0) / n;
    }
}

// (1 - e^-z)/z and (1 - e^-z (1 + z))/z^2, stable for small z >= 0.
static double phi1(double z) { return z < 1e-8 ? 1.0 - 0.5 * z : -std::expm1(-z) / z; }
static double phi2(double z) {
    if (z < 1e-2) {  // sum_k (-1)^k (k+1) z^k / (k+2)!, to z^5: error below 1e-16
        double sum = 0.0, term = 0.5, sign = 1.0;  // term = (k+1)/(k+2)! z^k
        double fact = 2.0, zk = 1.0;
        for (int k = 0; k <= 6; ++k) {
            term = (k + 1) * zk / fact;
            sum += sign * term;
            sign = -sign;
            zk *= z;
            fact *= (k + 3);
        }
        return sum;
    }
    return (1.0 - std::exp(-z) * (1.0 + z)) / (z * z);
}

// R(t) at the given times (multiples of step, to rounding) for the law (lambda, weight), step size
// lr, label noise sigma and y_lambda(0) = y0 for every lambda.
std::vector<double> risk(const std::vector<double>& lambda, const std::vector<double>& weight, double lr, double noise,
                         double y0, const std::vector<double>& times, double step) {
    const std::size_t n = lambda.size();
    // Over one step of length h, with R linear between R_n and R_{n+1}:
    //   y_{n+1} = e^{-z} y_n + 2 g^2 lambda h [phi2(z) R_n + (phi1(z) - phi2(z)) R_{n+1}],  z = 2 g lambda h.
    std::vector<double> decay(n), from_start(n), from_end(n), y(n, y0);
    double coupling = 0.0;  // d R_{n+1} / d R_{n+1} through the y_{n+1}
    for (std::size_t j = 0; j < n; ++j) {
        const double z = 2.0 * lr * lambda[j] * step;
        decay[j] = std::exp(-z);
        const double source = 2.0 * lr * lr * lambda[j] * step;
        from_start[j] = source * phi2(z);
        from_end[j] = source * (phi1(z) - phi2(z));
        coupling += 0.5 * weight[j] * lambda[j] * from_end[j];
    }
    auto risk_of = [&] {
        double r = 0.0;
        for (std::size_t j = 0; j < n; ++j) r += weight[j] * lambda[j] * y[j];
        return 0.5 * r + 0.5 * noise * noise;
    };
    std::vector<double> out;
    double r = risk_of(), t = 0.0;
    std::size_t k = 0;
    for (double target : times) {
        const auto steps = static_cast<std::size_t>(std::llround(target / step));
        for (; k < steps; ++k) {
            double known = 0.0;
            for (std::size_t j = 0; j < n; ++j) {
                y[j] = decay[j] * y[j] + from_start[j] * r;
                known += weight[j] * lambda[j] * y[j];
            }
            const double r_next = (0.5 * known + 0.5 * noise * noise) / (1.0 - coupling);
            for (std::size_t j = 0; j < n; ++j) y[j] += from_end[j] * r_next;
            r = r_next;
            t += step;
        }
        out.push_back(r);
    }
    return out;
}

// The power law of THEORY.md §1 in the limit: lambda(u) = (1 - a) u^(-a) (mean 1).
std::function<double(double)> powerlaw_quantile(double a) {
    return [a](double u) { return (1.0 - a) * std::pow(u, -a); };
}

}  // namespace dln::testing::volterra

using dln::model::Parametrization;
namespace volterra = dln::testing::volterra;

namespace {

std::vector<double> times_of(double time, std::size_t snapshots) {
    dln::sim::RunSpec run;
    run.time = time;
    run.snapshots = snapshots;
    return dln::sim::snapshot_times(run);
}

std::vector<double> powerlaw_oracle(double a, double lr, double noise, double y0, const std::vector<double>& times,
                                    std::size_t nodes, double step) {
    std::vector<double> lambda, weight;
    volterra::quantile_law(volterra::powerlaw_quantile(a), nodes, 1.0 / (1.0 - a), lambda, weight);
    return volterra::risk(lambda, weight, lr, noise, y0, times, step);
}

double worst_relative(const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0.0;
    for (std::size_t j = 0; j < a.size(); ++j) worst = std::max(worst, std::abs(a[j] / b[j] - 1.0));
    return worst;
}

}  // namespace

TEST_CASE("volterra oracle: isotropic closed form (R0 - Rinf) e^{-g(2-g)t} + Rinf to 1e-6", "[pde][volterra]") {
    const auto times = times_of(8.0, 33);
    for (double lr : {0.5, 1.0, 1.5}) {
        for (double noise : {0.0, 0.2}) {
            const auto r = volterra::risk({1.0}, {1.0}, lr, noise, 0.1, times, 1e-3);
            const double r0 = 0.05 + 0.5 * noise * noise, r_inf = noise * noise / (2.0 - lr);
            double worst = 0.0;
            for (std::size_t j = 0; j < times.size(); ++j) {
                const double exact = (r0 - r_inf) * std::exp(-lr * (2.0 - lr) * times[j]) + r_inf;
                worst = std::max(worst, std::abs(r[j] / exact - 1.0));
            }
            INFO("lr = " << lr << ", sigma = " << noise << ": worst relative error " << worst);
            // Second order, error ~ h^2 rho^2 t / 12 relative: 1e-6 * 1 * 8 / 12 at h = 1e-3.
            CHECK(worst <= 1e-6);
        }
    }
}

TEST_CASE("volterra oracle: the power-law quadrature has mean 1 and the floor is g s^2/(2(2-g))", "[pde][volterra]") {
    for (double a : {0.3, 0.6}) {
        std::vector<double> lambda, weight;
        volterra::quantile_law(volterra::powerlaw_quantile(a), 20000, 1.0 / (1.0 - a), lambda, weight);
        double mass = 0.0, mean = 0.0;
        for (std::size_t j = 0; j < lambda.size(); ++j) {
            mass += weight[j];
            mean += weight[j] * lambda[j];
        }
        CHECK(mean == Approx(1.0).epsilon(1e-12));  // exact for p = 1/(1-a): weight * lambda = 1/n
        // The mass: p v^(p-1) is smooth, p v^(p-1) = 2.5 v^1.5 for a = 0.6 is not C^2 at 0: the rule loses order there (6e-8 measured at n = 2e4).
        CHECK(mass == Approx(1.0).epsilon(1e-6));
        for (double lr : {0.5, 1.5}) {
            const double noise = 0.2;
            // lambda >= 1 - a, so every mode relaxes at least at rate 2 g (1 - a) - the floor is
            // reached to rounding by t = 60 (e^{-0.35 * 60} = 1e-9 for the slowest case).
            const auto r = volterra::risk(lambda, weight, lr, noise, 0.1, {60.0}, 2e-3);
            const double floor = lr * noise * noise / (2.0 * (2.0 - lr));
            INFO("a = " << a << ", lr = " << lr << ": excess at t = 60 " << r[0] - 0.5 * noise * noise << ", floor " << floor);
            CHECK(r[0] - 0.5 * noise * noise == Approx(floor).epsilon(1e-6));
        }
    }
}

TEST_CASE("volterra oracle: converged in the step (1e-6) and the nodes (1e-7) on the power law", "[pde][volterra]") {
    const auto times = times_of(8.0, 17);
    for (double a : {0.3, 0.6}) {
        for (double lr : {0.5, 1.5}) {
            const auto base = powerlaw_oracle(a, lr, 0.2, 0.1, times, 20000, 1e-3);
            const auto half_step = powerlaw_oracle(a, lr, 0.2, 0.1, times, 20000, 5e-4);
            const auto more_nodes = powerlaw_oracle(a, lr, 0.2, 0.1, times, 40000, 1e-3);
            const double e_step = worst_relative(base, half_step), e_nodes = worst_relative(base, more_nodes);
            INFO("a = " << a << ", lr = " << lr << ": halving h moves R by " << e_step << ", doubling the nodes by "
                 << e_nodes);
            CHECK(e_step <= 1e-6);  // 1.4e-7 measured (a = 0.6: the initial layer of the large-lambda modes)
            CHECK(e_nodes <= 1e-7);
        }
    }
}

// PDE-linear on the power law against the oracle, 1e-4 relative at every snapshot (t = 0.5..4),
// at the error controller's auto resolutions for pde.rtol = 3e-5 (as in
// test_pde_volterra_spectra.cpp: the controller promises a true error within 3 times an estimate
// of at most rtol, so 1e-4 / 3 is the loosest rtol from which the 1e-4 check follows; the
// default 1e-3 promises 1e-3). The grid is not the limit (linear densities are Gaussian and the
// frame follows them; the controller stops at its first estimate, 120 cells), the quadrature is.
// The composite Gauss-Legendre rule in v = u^(1-a) converges at order 1/(1-a) only: for
// t > 0 the modes' second moments expand in powers of 1/lambda, ~ v^(a/(1-a)), not smooth at
// v = 0 unless a/(1-a) is an integer (observed: successive differences fall by 2.7 = 2^1.43 at
// a = 0.3, by 12 at a = 0.6). Hence a = 0.3 needs 256 nodes at g = 0.5, i.e. 512 classes (each
// node has a target and a null class), above the default cap pde.max_classes = 256, which is
// raised here; a = 0.6 needs 32. (These tests used equal-mass bins with 1024 explicit nodes
// before, 3 s to 200 s per solve: the top bins' lambda ~ 1000 sends a solve to the Jacobian-
// free fallback.)
namespace {

void check_powerlaw_against_oracle(double a) {
    dln::sim::RunSpec run;
    run.time = 4.0;
    run.snapshots = 9;
    const auto times = dln::sim::snapshot_times(run);
    for (double lr : {0.5, 1.5}) {
        for (double noise : {0.0, 0.2}) {
            // y(0) = s b^2 = 0.1 (s = 0.1, constant b = 1, w0 = 0).
            const auto oracle = powerlaw_oracle(a, lr, noise, 0.1, times, 20000, 1e-3);
            dln::sim::PointSpec p;
            p.parametrization = Parametrization::linear;
            p.lr = lr;
            p.data.spectrum = dln::model::Spectrum::powerlaw;
            p.data.exponent = a;
            p.data.noise = noise;
            dln::pde::AccuracySpec spec;  // auto resolutions
            spec.rtol = 3e-5;
            spec.max_classes = 512;
            const auto traj = dln::pde::solve_pde_to_tolerance(p, run, spec);
            INFO("a = " << a << ", lr = " << lr << ", sigma = " << noise << ": cells " << traj.accuracy.cells
                 << ", spectrum nodes " << traj.accuracy.spectrum_nodes << ", estimate " << traj.accuracy.error_estimate);
            CHECK(traj.accuracy.met_tolerance);
            REQUIRE_FALSE(traj.diverged);
            for (std::size_t j = 0; j < times.size(); ++j) {
                const double r = traj.snapshots[j][dln::model::risk];
                INFO("a = " << a << ", lr = " << lr << ", sigma = " << noise << ", t = " << times[j] << ": PDE " << r
                     << ", oracle " << oracle[j] << ", relative " << r / oracle[j] - 1.0);
                // 1e-4: the brief's target; the oracle's own error is below 2e-7 (halving h, doubling nodes).
                CHECK(std::abs(r / oracle[j] - 1.0) <= 1e-4);
            }
        }
    }
}

}  // namespace

TEST_CASE("PDE-linear on the power law a = 0.3 matches the Volterra oracle to 1e-4", "[pde][volterra]") {
    check_powerlaw_against_oracle(0.3);
}

TEST_CASE("PDE-linear on the power law a = 0.6 matches the Volterra oracle to 1e-4", "[pde][volterra]") {
    check_powerlaw_against_oracle(0.6);
}
