// Online SGD on a diagonal linear network, exactly THEORY.md §1: one fresh sample per step,
// x ~ N(0, K/d), y = <x, beta*> + sigma xi, time t = k/d. The arithmetic is SgdEngine's
// (sgd_engine.hpp); this is one run of it, and simulate_sgd_batch is B runs in lockstep.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dln/model/observables.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"
#include "dln/sim/sgd_engine.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::sim {

class SgdSimulator {
public:
    // Starts from the standard initialisation at scale alpha (THEORY.md §1 table).
    SgdSimulator(Problem problem, model::Parametrization parametrization, double lr, double alpha,
                 rng::SampleStream stream);

    // One SGD step on the sample of step steps_taken().
    void step() { engine_.step(); }

    // Runs to time T from the start, recording the observables at the snapshot times; stops at
    // the first step whose risk is not finite or exceeds divergence_factor * R(0).
    Trajectory run(const RunSpec& spec);

    std::uint64_t steps_taken() const { return engine_.steps_taken(); }
    double time() const { return static_cast<double>(steps_taken()) / static_cast<double>(engine_.dim()); }
    // The population risk of the current state, kept up to date by every step.
    double risk() const { return engine_.risk(0); }
    model::Observables observe(double threshold) const { return engine_.observe(0, threshold); }

    // The state: (u, v) for the networks; w (as u, v empty) for linear.
    std::span<const double> u() const { return engine_.u(0); }
    std::span<const double> v() const { return engine_.v(0); }
    // The last step's sample x and residual r = <x, w> - y (for tests of the exact identities).
    std::span<const double> last_sample() const { return engine_.last_sample(); }
    double last_residual() const { return engine_.residual(0); }
    const Problem& problem() const { return engine_.problem(); }

private:
    SgdEngine engine_;
};

// One trajectory of one grid point: the replicate's problem, stream and SGD run.
Trajectory simulate_sgd(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate);

// The trajectories of several grid points of one replicate at once: points with the same dim,
// parametrization and data (else std::invalid_argument), any lr and alpha. They see the same
// samples (the stream depends on (seed, dim, replicate) only) and take the same number of steps,
// so each step draws x once and advances every member; a member that diverges stops there while
// the others go on. Each trajectory is bitwise the one simulate_sgd gives for its point alone.
// Memory: SgdEngine's, about 8 (2 B + 7) d bytes for B points (linear: 8 (B + 7) d), e.g.
// 2.4 MB for 16 points at d = 10^4 and 312 MB at d = 10^6: a worker running batches needs that
// much per batch in flight. Speed: the B states are read and written once per step; while they
// fit in L2 (B d <= ~50 000 on a 1 MB L2) a member-step costs the update arithmetic alone.
std::vector<Trajectory> simulate_sgd_batch(std::span<const PointSpec> points, const RunSpec& run,
                                           std::uint32_t seed, std::uint32_t replicate);

}  // namespace dln::sim
