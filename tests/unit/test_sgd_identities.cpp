// SGD is exactly THEORY.md §1: the update against a direct transcription of the formulas, the
// exact discrete identities along whole paths, and the uv = rotated u2v2 equivalence.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "dln/sim/sgd_simulator.hpp"

using dln::model::Parametrization;
using dln::sim::SgdSimulator;

namespace {

SgdSimulator make(Parametrization param, double lr, double alpha, double noise, dln::model::TargetLaw law,
                  std::size_t dim, std::uint32_t seed = 4) {
    dln::model::DataSpec data;
    data.noise = noise;
    data.target = law;
    data.sparsity = 0.2;
    data.spectrum = dln::model::Spectrum::powerlaw;
    data.exponent = 0.4;
    const dln::rng::SampleStream stream(seed, dim, 0);
    return SgdSimulator(dln::sim::make_problem(data, dim, stream), param, lr, alpha, stream);
}

}  // namespace

TEST_CASE("one SGD step equals the formulas of THEORY.md section 1", "[sim]") {
    const std::size_t dim = 50;
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        auto sim = make(param, 0.7, 0.3, 0.25, dln::model::TargetLaw::gaussian, dim);
        for (int k = 0; k < 20; ++k) sim.step();  // leave the symmetric initial state
        const std::vector<double> u(sim.u().begin(), sim.u().end()), v(sim.v().begin(), sim.v().end());
        const auto k = sim.steps_taken();
        sim.step();
        // Direct transcription: y = <x, beta*> + sigma xi, r = <x, w> - y.
        const dln::rng::SampleStream stream(4, dim, 0);
        std::vector<double> z(dim);
        stream.fill_gaussians(z, k);
        const auto& lambda = sim.problem().lambda;
        const auto& beta = sim.problem().beta;
        double xw = 0.0, y = 0.25 * stream.label_noise(k);
        std::vector<double> x(dim);
        for (std::size_t i = 0; i < dim; ++i) {
            x[i] = std::sqrt(lambda[i] / static_cast<double>(dim)) * z[i];
            y += x[i] * beta[i];
            xw += x[i] * dln::model::predictor(param, u[i], param == Parametrization::linear ? 0.0 : v[i]);
        }
        const double r = xw - y;
        CHECK(sim.last_residual() == Approx(r).epsilon(1e-12));
        for (std::size_t i = 0; i < dim; ++i) {
            double u_new = u[i], v_new = 0.0;
            switch (param) {
                case Parametrization::u2v2:
                    u_new = u[i] - 2 * 0.7 * r * x[i] * u[i];
                    v_new = v[i] + 2 * 0.7 * r * x[i] * v[i];
                    break;
                case Parametrization::uv:
                    u_new = u[i] - 0.7 * r * x[i] * v[i];
                    v_new = v[i] - 0.7 * r * x[i] * u[i];
                    break;
                case Parametrization::linear: u_new = u[i] - 0.7 * r * x[i]; break;
            }
            CHECK(sim.u()[i] == Approx(u_new).epsilon(1e-12));
            if (param != Parametrization::linear) CHECK(sim.v()[i] == Approx(v_new).epsilon(1e-12));
        }
    }
}

// u2v2: (u v)_{k+1} = (u v)_k (1 - 4 g^2 r^2 x^2);  uv: (u^2 - v^2)_{k+1} = (u^2 - v^2)_k (1 - g^2 r^2 x^2).
// Checked step by step and cumulatively along 3000-step paths. Each step rounds a few times
// (relative 1e-16 each). For uv the invariant is a difference, u^2 - v^2 = 2pq, and computing it
// from the state loses the factor (u^2+v^2)/|u^2-v^2| = cosh(l) to cancellation: that factor is
// a property of the path (over 200 on some coordinates of these paths), not of SGD, so the
// errors of uv are measured on the scale of the terms, u^2 + v^2. Then 1e-12 is tight yet safe.
TEST_CASE("the exact discrete identities hold along SGD paths to 1e-12 relative", "[sim]") {
    const std::size_t dim = 200, steps = 3000;
    for (auto param : {Parametrization::u2v2, Parametrization::uv}) {
        for (auto law : {dln::model::TargetLaw::constant, dln::model::TargetLaw::rademacher,
                         dln::model::TargetLaw::gaussian}) {
            const double lr = 1.0;
            auto sim = make(param, lr, 0.2, 0.1, law, dim);
            auto invariant = [&](std::size_t i) {
                const double u = sim.u()[i], v = sim.v()[i];
                return param == Parametrization::u2v2 ? u * v : u * u - v * v;
            };
            // The size of the terms the invariant is computed from (see above).
            auto scale = [&](std::size_t i) {
                const double u = sim.u()[i], v = sim.v()[i];
                return param == Parametrization::u2v2 ? std::abs(u * v) : u * u + v * v;
            };
            const double factor = param == Parametrization::u2v2 ? 4.0 : 1.0;
            std::vector<double> cumulative(dim), start(dim);
            for (std::size_t i = 0; i < dim; ++i) cumulative[i] = start[i] = invariant(i);
            double worst_step = 0.0, worst_path = 0.0;
            for (std::size_t k = 0; k < steps; ++k) {
                std::vector<double> before(dim);
                for (std::size_t i = 0; i < dim; ++i) before[i] = invariant(i);
                sim.step();
                const double r = sim.last_residual();
                for (std::size_t i = 0; i < dim; ++i) {
                    const double x = sim.last_sample()[i];
                    const double shrink = 1.0 - factor * lr * lr * r * r * x * x;
                    const double predicted = before[i] * shrink;
                    cumulative[i] *= shrink;
                    worst_step = std::max(worst_step, std::abs(invariant(i) - predicted) / scale(i));
                    worst_path = std::max(worst_path, std::abs(invariant(i) - cumulative[i]) / scale(i));
                }
            }
            INFO(dln::model::to_string(param) << " " << dln::model::to_string(law) << ": worst relative error per step "
                 << worst_step << ", along the path " << worst_path);
            CHECK(worst_step <= 1e-12);
            CHECK(worst_path <= 1e-12);
            // The invariant shrank (the noise does shrink Q) but never changed sign.
            for (std::size_t i = 0; i < dim; ++i) CHECK(invariant(i) * start[i] > 0.0);
        }
    }
}

// uv at (lr, b, sigma) is u2v2 at (lr/4, 2b, 2 sigma) in the rotated variables p = (u+v)/sqrt2,
// q = (u-v)/sqrt2: both give p <- p (1 - lr r_uv x), q <- q (1 + lr r_uv x). THEORY.md §1.
TEST_CASE("uv is u2v2 rotated by 45 degrees", "[sim]") {
    const std::size_t dim = 100;
    dln::model::DataSpec data;
    data.target = dln::model::TargetLaw::gaussian;
    data.noise = 0.3;
    const dln::rng::SampleStream stream(21, dim, 0);
    auto uv_problem = dln::sim::make_problem(data, dim, stream);
    auto u2v2_problem = uv_problem;
    for (double& b : u2v2_problem.beta) b *= 2.0;
    u2v2_problem.noise *= 2.0;
    SgdSimulator uv(uv_problem, Parametrization::uv, 0.8, 0.25, stream);
    SgdSimulator u2v2(u2v2_problem, Parametrization::u2v2, 0.2, 0.25, stream);
    for (int k = 0; k < 200; ++k) {
        uv.step();
        u2v2.step();
    }
    CHECK(u2v2.risk() == Approx(4.0 * uv.risk()).epsilon(1e-10));  // w_u2v2 = 2 w_uv
    for (std::size_t i = 0; i < dim; ++i) {
        const auto pq = dln::model::to_rotated(Parametrization::uv, uv.u()[i], uv.v()[i]);
        CHECK(pq.p == Approx(u2v2.u()[i]).epsilon(1e-10));
        CHECK(pq.q == Approx(u2v2.v()[i]).epsilon(1e-10));
    }
}

TEST_CASE("the risk kept by the simulator equals the observable recomputed from the state", "[sim]") {
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        auto sim = make(param, 0.5, 0.1, 0.2, dln::model::TargetLaw::rademacher, 300);
        for (int k = 0; k < 500; ++k) sim.step();
        const auto o = sim.observe(1e-2);
        CHECK(sim.risk() == Approx(o[dln::model::risk]).epsilon(1e-12));
    }
}
