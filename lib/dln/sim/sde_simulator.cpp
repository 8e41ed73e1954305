#include "dln/sim/sde_simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "dln/rng/portable_math.hpp"

#include "dln/sim/noinline.hpp"

namespace dln::sim {

using model::Parametrization;

std::uint64_t sde_step_at(double t, double dt) {
    return static_cast<std::uint64_t>(std::llround(t / dt));
}

namespace {

constexpr std::size_t kChunk = rng::SampleStream::kChunk;
constexpr std::size_t kLanes = 8;  // partial sums: fixed, whatever the SIMD width

std::size_t padded(std::size_t dim) { return (dim + kChunk - 1) / kChunk * kChunk; }

double total(const double (&partial)[kLanes]) {
    return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
           ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

// One chunk of the linear SDE: w <- w - drift (w - beta*) dt + diffusion noise_size z.
DLN_NOINLINE void linear_chunk(double dt, double noise_size, const double* __restrict z, const double* __restrict lambda,
                         const double* __restrict beta, const double* __restrict drift,
                         const double* __restrict diffusion, double* __restrict state, double* __restrict delta,
                         double (&sums)[kLanes]) {
    // The update and the sum in two loops: written as one, GCC 12 leaves it scalar.
    alignas(64) double d[kChunk];
    for (std::size_t k = 0; k < kChunk; ++k) {
        const double w = state[k] - drift[k] * delta[k] * dt + diffusion[k] * noise_size * z[k];
        state[k] = w;
        d[k] = w - beta[k];
        delta[k] = d[k];
    }
    double partial[kLanes];
    for (std::size_t j = 0; j < kLanes; ++j) partial[j] = sums[j];
    for (std::size_t i = 0; i < kChunk; i += kLanes) {
        for (std::size_t j = 0; j < kLanes; ++j) partial[j] = std::fma(lambda[i + j] * d[i + j], d[i + j], partial[j]);
    }
    for (std::size_t j = 0; j < kLanes; ++j) sums[j] = partial[j];
}

// One chunk of the networks' SDE in (l, Q): l <- l - drift (w - beta*) dt + diffusion noise_size z,
// Q = Q0 exp(-shrink I) (one Q for all when UniformQ), w = 2 kappa Q sinh(l).
template <bool UniformQ>
DLN_NOINLINE void network_chunk(double dt, double noise_size, double two_kappa, double q0, double q_uniform,
                          double integral, const double* __restrict z, const double* __restrict lambda,
                          const double* __restrict beta, const double* __restrict drift,
                          const double* __restrict diffusion, const double* __restrict shrink,
                          double* __restrict state, double* __restrict q, double* __restrict delta,
                          double (&sums)[kLanes]) {
    double partial[kLanes];
    for (std::size_t j = 0; j < kLanes; ++j) partial[j] = sums[j];
    for (std::size_t i = 0; i < kChunk; i += kLanes) {
        for (std::size_t j = 0; j < kLanes; ++j) {
            const std::size_t k = i + j;
            const double l = state[k] - drift[k] * delta[k] * dt + diffusion[k] * noise_size * z[k];
            double qk = q_uniform;
            if constexpr (!UniformQ) qk = q0 * rng::math::exp_portable(-shrink[k] * integral);
            state[k] = l;
            q[k] = qk;
            // 2 k Q sinh(l) rather than k (p^2 - q^2): no cancellation near l = 0, where w is
            // small while p^2 and q^2 are both about Q.
            const double d = two_kappa * qk * rng::math::sinh_portable(l) - beta[k];
            delta[k] = d;
            partial[j] = std::fma(lambda[k] * d, d, partial[j]);
        }
    }
    for (std::size_t j = 0; j < kLanes; ++j) sums[j] = partial[j];
}

}  // namespace

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
      lambda_(padded(dim_), 0.0),
      beta_(padded(dim_), 0.0),
      drift_(padded(dim_), 0.0),
      diffusion_(padded(dim_), 0.0),
      state_(padded(dim_), 0.0),
      delta_(padded(dim_), 0.0) {
    if (!(dt > 0.0) || !std::isfinite(dt)) {
        throw std::invalid_argument("the SDE time step dt must be positive and finite");
    }
    const bool linear = param_ == Parametrization::linear;
    // In l = log(p/q) both the drift and the noise of p and q add up (they move in opposite
    // directions), hence 4 k rather than the 2 k of the (p, q) equations.
    const double k = model::kappa(param_);
    const double scale = linear ? lr_ : 4.0 * k * lr_;
    if (!linear) {
        shrink_.assign(padded(dim_), 0.0);
        // p0 = q0 = alpha for u2v2 and, after the rotation, for uv: l starts at 0 and Q at
        // alpha^2 exactly, rather than at the rounding of log(p0/q0) from (u0, v0). The padding
        // (lambda = 0: no drift, no noise, l = 0, w = 0) never moves.
        q_.assign(padded(dim_), q0_);
    }
    uniform_lambda_ = true;
    double partial[kLanes] = {};
    for (std::size_t i = 0; i < dim_; ++i) {
        const double lambda = problem_.lambda[i];
        lambda_[i] = lambda;
        beta_[i] = problem_.beta[i];
        drift_[i] = scale * lambda;
        diffusion_[i] = scale * std::sqrt(2.0 * lambda);
        if (!linear) shrink_[i] = 8.0 * k * k * lr_ * lr_ * lambda;
        if (lambda != problem_.lambda[0]) uniform_lambda_ = false;
        delta_[i] = -problem_.beta[i];  // w = 0 at the start for all three predictors
        partial[i % kLanes] = std::fma(lambda * delta_[i], delta_[i], partial[i % kLanes]);
    }
    risk_ = 0.5 * total(partial) / static_cast<double>(dim_) + 0.5 * problem_.noise * problem_.noise;
}

std::span<const double> SdeSimulator::log_ratio() const {
    if (param_ == Parametrization::linear) return {};
    return {state_.data(), dim_};
}

std::span<const double> SdeSimulator::balance_q() const {
    if (param_ == Parametrization::linear) return {};
    return {q_.data(), dim_};
}

std::span<const double> SdeSimulator::w() const {
    if (param_ != Parametrization::linear) return {};
    return {state_.data(), dim_};
}

void SdeSimulator::step() { advance(nullptr, sqrt_dt_, dt_); }

void SdeSimulator::step_with_increments(std::span<const double> dB, double dt) {
    if (dB.size() != dim_) throw std::invalid_argument("one Brownian increment per coordinate is needed");
    advance(dB.data(), 1.0, dt);
}

void SdeSimulator::advance(const double* increments, double dB_scale, double dt) {
    // Left point: the risk of the state at the start of the step sets both the size of the EM
    // noise and the increment of I, so Q and l see the same R (the Ito reading of R_t).
    const double noise_size = std::sqrt(risk_) * dB_scale;
    integrated_risk_ += risk_ * dt;
    const double integral = integrated_risk_;
    const bool linear = param_ == Parametrization::linear;
    const double two_kappa = 2.0 * model::kappa(param_);
    // Q from I directly, not by multiplying a step factor in: no rounding accumulates along the
    // path and Q stays the exact function of I that THEORY.md §2 says it is. With one lambda
    // (an isotropic spectrum) that is one exp per step, else one per coordinate.
    const double q_uniform = linear ? 0.0 : q0_ * rng::math::exp_portable(-shrink_[0] * integral);

    // One pass in chunks of 256: the chunk's Brownian draws (from the stream, or the caller's
    // increments), the update (the drift uses w - beta* of the old state, i.e. the old Q), then
    // w - beta* and the risk of the new state.
    alignas(64) double z[kChunk];
    double partial[kLanes] = {};
    const std::size_t chunks = padded(dim_) / kChunk;
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t off = c * kChunk;
        if (increments == nullptr) {
            stream_.gaussian_chunk(rng::SampleStream::kBrownianPurpose, steps_, c, z);
        } else {
            const std::size_t n = std::min(kChunk, dim_ - off);
            std::copy(increments + off, increments + off + n, z);
            std::fill(z + n, z + kChunk, 0.0);
        }
        if (linear) {
            linear_chunk(dt, noise_size, z, lambda_.data() + off, beta_.data() + off, drift_.data() + off,
                         diffusion_.data() + off, state_.data() + off, delta_.data() + off, partial);
        } else if (uniform_lambda_) {
            network_chunk<true>(dt, noise_size, two_kappa, q0_, q_uniform, integral, z, lambda_.data() + off,
                                beta_.data() + off, drift_.data() + off, diffusion_.data() + off, shrink_.data() + off,
                                state_.data() + off, q_.data() + off, delta_.data() + off, partial);
        } else {
            network_chunk<false>(dt, noise_size, two_kappa, q0_, q_uniform, integral, z, lambda_.data() + off,
                                 beta_.data() + off, drift_.data() + off, diffusion_.data() + off, shrink_.data() + off,
                                 state_.data() + off, q_.data() + off, delta_.data() + off, partial);
        }
    }
    risk_ = 0.5 * total(partial) / static_cast<double>(dim_) + 0.5 * problem_.noise * problem_.noise;
    time_ += dt;
    ++steps_;
}

model::Observables SdeSimulator::observe(double threshold) const {
    if (param_ == Parametrization::linear) {
        return model::measure(param_, w(), {}, problem_.lambda, problem_.beta, problem_.noise, threshold);
    }
    // Back to (u, v) so that every observable is computed by the very code that measures SGD.
    constexpr double inv_sqrt2 = 0.70710678118654752440;
    std::vector<double> u(dim_), v(dim_);
    for (std::size_t i = 0; i < dim_; ++i) {
        const double root = std::sqrt(q_[i]);
        const double p = root * rng::math::exp_portable(0.5 * state_[i]);
        const double q = root * rng::math::exp_portable(-0.5 * state_[i]);
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
