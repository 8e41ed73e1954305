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
//
// Memory and speed. A lockstep group of B members holds SgdEngine's memory, about 8 (2 B + 7) d
// bytes (linear: 8 (B + 7) d), e.g. 2.4 MB for B = 16 at d = 10^4, and reads and writes every
// member's state once per step. While the group's states stay in cache a member-step costs the
// update arithmetic alone (~0.35 ns per coordinate here, next to ~1.3 ns for a draw); once they
// spill to memory it costs the memory traffic (~1.6 ns at B d = 1.6e6). So the points are run in
// consecutive groups whose states fit in cache_bytes (equal sizes; sgd_batch_group says how
// many), one group after the other; when not even one member fits, all run as one group, which
// still shares the draws. The default budget suits a CPU with 16-32 MB of L3 shared by a few
// cores; the results do not depend on it.
inline constexpr std::size_t kSgdBatchCacheBytes = std::size_t{8} << 20;
std::vector<Trajectory> simulate_sgd_batch(std::span<const PointSpec> points, const RunSpec& run,
                                           std::uint32_t seed, std::uint32_t replicate,
                                           std::size_t cache_bytes = kSgdBatchCacheBytes);

// The size of the lockstep groups simulate_sgd_batch uses for that many points (the last group
// may be smaller).
std::size_t sgd_batch_group(std::size_t points, std::size_t dim, model::Parametrization parametrization,
                            std::size_t cache_bytes = kSgdBatchCacheBytes);

}  // namespace dln::sim
