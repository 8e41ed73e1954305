#include "dln/sim/sgd_simulator.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace dln::sim {

namespace {

std::vector<SgdEngine::MemberSpec> one(double lr, double alpha) { return {{lr, alpha}}; }

}  // namespace

SgdSimulator::SgdSimulator(Problem problem, model::Parametrization parametrization, double lr, double alpha,
                           rng::SampleStream stream)
    : engine_(std::move(problem), parametrization, one(lr, alpha), stream) {}

Trajectory SgdSimulator::run(const RunSpec& spec) {
    const std::size_t dim = engine_.dim();
    return record_run(*this, spec, [dim](double t) { return step_at(t, dim); });
}

Trajectory simulate_sgd(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate) {
    const rng::SampleStream stream(seed, point.dim, replicate);
    SgdSimulator sim(make_problem(point.data, point.dim, stream), point.parametrization, point.lr,
                     point.alpha, stream);
    return sim.run(run);
}

// record_run (trajectory.hpp) for every member at once: the same snapshot rule, the same
// divergence rule, applied member by member after each step.
std::vector<Trajectory> simulate_sgd_batch(std::span<const PointSpec> points, const RunSpec& run,
                                           std::uint32_t seed, std::uint32_t replicate) {
    if (points.empty()) return {};
    const PointSpec& first = points.front();
    std::vector<SgdEngine::MemberSpec> members;
    members.reserve(points.size());
    for (const auto& p : points) {
        if (p.dim != first.dim || p.parametrization != first.parametrization || !(p.data == first.data)) {
            throw std::invalid_argument("a batch of SGD runs needs one dim, parametrization and data");
        }
        members.push_back({p.lr, p.alpha});
    }
    const rng::SampleStream stream(seed, first.dim, replicate);
    SgdEngine engine(make_problem(first.data, first.dim, stream), first.parametrization, members, stream);

    const std::size_t batch = points.size();
    const auto times = snapshot_times(run);
    const std::size_t dim = first.dim;
    std::vector<Trajectory> out(batch);
    std::vector<double> limit(batch);
    std::vector<std::size_t> next(batch, 0);
    auto record_due = [&](std::size_t m) {
        while (next[m] < times.size() && step_at(times[next[m]], dim) <= engine.steps_taken()) {
            out[m].snapshots.push_back(engine.observe(m, run.threshold));
            ++next[m];
        }
    };
    for (std::size_t m = 0; m < batch; ++m) {
        out[m].snapshots.reserve(times.size());
        limit[m] = run.divergence_factor * engine.risk(m);
        record_due(m);
    }
    const std::uint64_t last = step_at(run.time, dim);
    while (engine.steps_taken() < last && engine.live_count() > 0) {
        if ((engine.steps_taken() & 1023u) == 0 && cancelled(run)) throw Cancelled{};
        engine.step();
        for (std::size_t m = 0; m < batch; ++m) {
            if (!engine.live(m)) continue;
            const double risk = engine.risk(m);
            if (!std::isfinite(risk) || risk > limit[m]) {
                out[m].diverged = true;
                out[m].diverged_at = static_cast<double>(engine.steps_taken()) / static_cast<double>(dim);
                engine.stop(m);
                continue;
            }
            record_due(m);
        }
    }
    model::Observables missing;
    missing.fill(std::numeric_limits<double>::quiet_NaN());
    for (auto& t : out) t.snapshots.resize(times.size(), missing);
    return out;
}

}  // namespace dln::sim
