// Online SGD on a diagonal linear network, exactly THEORY.md §1: one fresh sample per step,
// x ~ N(0, K/d), y = <x, beta*> + sigma xi, time t = k/d.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dln/model/observables.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::sim {

class SgdSimulator {
public:
    // Starts from the standard initialisation at scale alpha (THEORY.md §1 table).
    SgdSimulator(Problem problem, model::Parametrization parametrization, double lr, double alpha,
                 rng::SampleStream stream);

    // One SGD step on the sample of step steps_taken().
    void step();

    // Runs to time T from the start, recording the observables at the snapshot times; stops at
    // the first step whose risk is not finite or exceeds divergence_factor * R(0).
    Trajectory run(const RunSpec& spec);

    std::uint64_t steps_taken() const { return steps_; }
    double time() const { return static_cast<double>(steps_) / static_cast<double>(dim_); }
    // The population risk of the current state, kept up to date by every step.
    double risk() const { return risk_; }
    model::Observables observe(double threshold) const;

    // The state: (u, v) for the networks; w (as u, v empty) for linear.
    std::span<const double> u() const { return u_; }
    std::span<const double> v() const { return v_; }
    // The last step's sample x and residual r = <x, w> - y (for tests of the exact identities).
    std::span<const double> last_sample() const { return x_; }
    double last_residual() const { return residual_; }
    const Problem& problem() const { return problem_; }

private:
    void update_risk_and_delta();

    Problem problem_;
    model::Parametrization param_;
    double lr_;
    rng::SampleStream stream_;
    std::size_t dim_;
    std::vector<double> sample_scale_;  // sqrt(lambda_i / d)
    std::vector<double> u_, v_;
    std::vector<double> delta_;  // w - beta*, kept in step with the state
    std::vector<double> x_;      // this step's sample
    std::uint64_t steps_ = 0;
    double residual_ = 0.0;
    double risk_ = 0.0;
};

// One trajectory of one grid point: the replicate's problem, stream and SGD run.
Trajectory simulate_sgd(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate);

}  // namespace dln::sim
