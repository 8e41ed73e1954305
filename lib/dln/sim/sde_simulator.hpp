// The homogenized SDE of THEORY.md §2 at dimension d, integrated in the variables that make it
// globally well posed: the log-ratio l_i = log(p_i/q_i), whose noise is additive, and the balance
// Q_i = p_i q_i, which has no noise and is an exact function of the integral of the risk.
//
// Scheme, per step of size dt, with R the risk of the state at the start of the step:
//   l_i <- l_i - 4 k g lambda_i (w_i - beta*_i) dt + 4 k g sqrt(2 R lambda_i) dB_i   (Euler-Maruyama)
//   I   <- I + R dt,   Q_i = Q_i(0) exp(-8 k^2 g^2 lambda_i I)                        (exact given I)
//   linear: w_i <- w_i - g lambda_i (w_i - beta*_i) dt + g sqrt(2 R lambda_i) dB_i
// with w_i = 2 k Q_i sinh(l_i) and dB_i ~ N(0, dt) independent across coordinates and steps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dln/model/observables.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::sim {

// The SDE step at which snapshot time t is taken: round(t / dt). With dt = 1/d this is the SGD
// step of step_at(t, d), so the two methods report the same instants.
std::uint64_t sde_step_at(double t, double dt);

class SdeSimulator {
public:
    // Starts from the standard initialisation at scale alpha (THEORY.md §1 table): p0 = q0 = alpha,
    // so l = 0 and Q = alpha^2; linear starts at w = 0. dt > 0 is the time step (1/d is one SGD
    // step's worth of time); throws std::invalid_argument otherwise.
    SdeSimulator(Problem problem, model::Parametrization parametrization, double lr, double alpha,
                 rng::SampleStream stream, double dt);

    // One step of size dt() on the stream's Brownian draws of step steps_taken(): dB = sqrt(dt) z.
    void step();

    // One step of size dt driven by the caller's increments dB (one per coordinate, variance dt),
    // so that runs at different dt can share one Brownian path. Counts as a step like step().
    void step_with_increments(std::span<const double> dB, double dt);

    // Runs to time T from the start, recording the observables at the snapshot times (step
    // sde_step_at(t_j, dt)); stops at the first step whose risk is not finite or exceeds
    // divergence_factor * R(0), leaving NaN snapshots from there on. Assumes every step so far
    // was of size dt().
    Trajectory run(const RunSpec& spec);

    std::uint64_t steps_taken() const { return steps_; }
    // The sum of the step sizes taken.
    double time() const { return time_; }
    double dt() const { return dt_; }
    // The population risk of the current state, kept up to date by every step.
    double risk() const { return risk_; }
    // I(t): the left-point (Euler) integral of the risk that Q is computed from.
    double integrated_risk() const { return integrated_risk_; }

    // The state mapped back to (u, v) and measured exactly as an SGD state is.
    model::Observables observe(double threshold) const;

    // The state: l and Q for the networks (empty for linear); w for linear (empty for networks).
    std::span<const double> log_ratio() const;
    std::span<const double> balance_q() const;
    std::span<const double> w() const;
    const Problem& problem() const { return problem_; }
    model::Parametrization parametrization() const { return param_; }

private:
    // The step itself, on increments dB_i = dB_scale * z_i, z the stream's Brownian draws of
    // this step (increments == nullptr) or the caller's increments.
    void advance(const double* increments, double dB_scale, double dt);

    Problem problem_;
    model::Parametrization param_;
    double lr_;
    rng::SampleStream stream_;
    std::size_t dim_;
    double dt_;
    double sqrt_dt_;
    double q0_;                     // Q(0) = alpha^2 for every coordinate
    bool uniform_lambda_ = true;    // one lambda for all coordinates: one Q
    // Per coordinate, padded with zeros to a multiple of SampleStream::kChunk coordinates (the
    // padding has lambda = 0 and never moves), so the step runs in whole chunks.
    std::vector<double> lambda_;
    std::vector<double> beta_;
    std::vector<double> drift_;     // 4 k g lambda_i (linear: g lambda_i)
    std::vector<double> diffusion_; // 4 k g sqrt(2 lambda_i) (linear: g sqrt(2 lambda_i))
    std::vector<double> shrink_;    // 8 k^2 g^2 lambda_i; empty for linear
    std::vector<double> state_;     // l for the networks, w for linear
    std::vector<double> q_;         // Q; empty for linear
    std::vector<double> delta_;     // w - beta*, kept in step with the state
    std::uint64_t steps_ = 0;
    double time_ = 0.0;
    double integrated_risk_ = 0.0;
    double risk_ = 0.0;
};

// One trajectory of one grid point by the SDE: the replicate's problem (the same beta* as
// simulate_sgd with the same seed) and the replicate's Brownian stream, at time step dt.
Trajectory simulate_sde(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate, double dt);

}  // namespace dln::sim
