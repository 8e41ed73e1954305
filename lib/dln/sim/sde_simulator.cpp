#include "dln/sim/sde_simulator.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace dln::sim {

using model::Parametrization;

std::uint64_t sde_step_at(double t, double dt) {
    return static_cast<std::uint64_t>(std::llround(t / dt));
}

SdeSimulator::SdeSimulator(Problem problem, Parametrization parametrization, double lr,
                           double alpha, rng::SampleStream stream, double dt)
    : problem_(std::move(problem)),
      param_(parametrization),
      lr_(lr),
      stream_(stream),
      dim_(problem_.dim()),
      dt_(dt),
      sqrt_dt_(std::sqrt(dt)),
      q0_(alpha * alpha),
      drift_(dim_),
      diffusion_(dim_),
      state_(dim_, 0.0),
      delta_(dim_),
      z_(dim_) {
    if (!(dt > 0.0) || !std::isfinite(dt)) {
        throw std::invalid_argument("the SDE time step dt must be positive and finite");
    }
    const bool linear = param_ == Parametrization::linear;
    // In l = log(p/q) both the drift and the noise of p and q add up (they move in opposite
    // directions), hence 4 k rather than the 2 k of the (p, q) equations.
    const double k = model::kappa(param_);
    const double scale = linear ? lr_ : 4.0 * k * lr_;
    if (!linear) {
        shrink_.resize(dim_);
        // p0 = q0 = alpha for u2v2 and, after the rotation, for uv: l starts at 0 and Q at
        // alpha^2 exactly, rather than at the rounding of log(p0/q0) from (u0, v0).
        q_.assign(dim_, q0_);
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < dim_; ++i) {
        const double lambda = problem_.lambda[i];
        drift_[i] = scale * lambda;
        diffusion_[i] = scale * std::sqrt(2.0 * lambda);
        if (!linear) shrink_[i] = 8.0 * k * k * lr_ * lr_ * lambda;
        delta_[i] = -problem_.beta[i];  // w = 0 at the start for all three predictors
        sum += lambda * delta_[i] * delta_[i];
    }
    risk_ = 0.5 * sum / static_cast<double>(dim_) + 0.5 * problem_.noise * problem_.noise;
}

std::span<const double> SdeSimulator::log_ratio() const {
    if (param_ == Parametrization::linear) return {};
    return state_;
}

std::span<const double> SdeSimulator::w() const {
    if (param_ != Parametrization::linear) return {};
    return state_;
}

void SdeSimulator::step() {
    stream_.fill_brownian(z_, steps_);
    advance(z_.data(), sqrt_dt_, dt_);
}

void SdeSimulator::step_with_increments(std::span<const double> dB, double dt) {
    if (dB.size() != dim_) throw std::invalid_argument("one Brownian increment per coordinate is needed");
    advance(dB.data(), 1.0, dt);
}

void SdeSimulator::advance(const double* noise, double dB_scale, double dt) {
    // Left point: the risk of the state at the start of the step sets both the size of the EM
    // noise and the increment of I, so Q and l see the same R (the Ito reading of R_t).
    const double noise_size = std::sqrt(risk_) * dB_scale;
    integrated_risk_ += risk_ * dt;
    const double integral = integrated_risk_;

    // One fused pass: the update (the drift uses w - beta* of the old state, i.e. the old Q),
    // then w - beta* and the risk of the new state.
    const double* lambda = problem_.lambda.data();
    const double* beta = problem_.beta.data();
    double sum = 0.0;
    if (param_ == Parametrization::linear) {
        for (std::size_t i = 0; i < dim_; ++i) {
            const double w = state_[i] - drift_[i] * delta_[i] * dt + diffusion_[i] * noise_size * noise[i];
            state_[i] = w;
            const double delta = w - beta[i];
            delta_[i] = delta;
            sum += lambda[i] * delta * delta;
        }
    } else {
        const double two_kappa = 2.0 * model::kappa(param_);
        // Q from I directly, not by multiplying a step factor in: no rounding accumulates along
        // the path and Q stays the exact function of I that THEORY.md §2 says it is. Coordinates
        // with the same lambda share it, so a run of equal lambda (all of an isotropic spectrum)
        // costs one exp per step instead of one per coordinate.
        double shrink = std::numeric_limits<double>::quiet_NaN();
        double q = 0.0;
        for (std::size_t i = 0; i < dim_; ++i) {
            const double l = state_[i] - drift_[i] * delta_[i] * dt + diffusion_[i] * noise_size * noise[i];
            if (shrink_[i] != shrink) {
                shrink = shrink_[i];
                q = q0_ * std::exp(-shrink * integral);
            }
            state_[i] = l;
            q_[i] = q;
            // 2 k Q sinh(l) rather than k (p^2 - q^2): no cancellation near l = 0, where w is
            // small while p^2 and q^2 are both about Q.
            const double delta = two_kappa * q * std::sinh(l) - beta[i];
            delta_[i] = delta;
            sum += lambda[i] * delta * delta;
        }
    }
    risk_ = 0.5 * sum / static_cast<double>(dim_) + 0.5 * problem_.noise * problem_.noise;
    time_ += dt;
    ++steps_;
}

model::Observables SdeSimulator::observe(double threshold) const {
    if (param_ == Parametrization::linear) {
        return model::measure(param_, state_, {}, problem_.lambda, problem_.beta, problem_.noise, threshold);
    }
    // Back to (u, v) so that every observable is computed by the very code that measures SGD.
    constexpr double inv_sqrt2 = 0.70710678118654752440;
    std::vector<double> u(dim_), v(dim_);
    for (std::size_t i = 0; i < dim_; ++i) {
        const double root = std::sqrt(q_[i]);
        const double p = root * std::exp(0.5 * state_[i]);
        const double q = root * std::exp(-0.5 * state_[i]);
        if (param_ == Parametrization::uv) {
            u[i] = (p + q) * inv_sqrt2;
            v[i] = (p - q) * inv_sqrt2;
        } else {
            u[i] = p;
            v[i] = q;
        }
    }
    return model::measure(param_, u, v, problem_.lambda, problem_.beta, problem_.noise, threshold);
}

Trajectory SdeSimulator::run(const RunSpec& spec) { return record_run(*this, spec, [this](double t) { return sde_step_at(t, dt_); }); }

Trajectory simulate_sde(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate, double dt) {
    const rng::SampleStream stream(seed, point.dim, replicate);
    SdeSimulator sim(make_problem(point.data, point.dim, stream), point.parametrization, point.lr,
                     point.alpha, stream, dt);
    return sim.run(run);
}

}  // namespace dln::sim
