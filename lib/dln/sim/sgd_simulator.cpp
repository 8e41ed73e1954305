#include "dln/sim/sgd_simulator.hpp"

#include <algorithm>
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

namespace {

// record_run (trajectory.hpp) for every member at once: the same snapshot rule, the same
// divergence rule, applied member by member after each step.
void run_lockstep(SgdEngine& engine, const RunSpec& run, std::span<Trajectory> out) {
    const std::size_t batch = engine.size();
    const auto times = snapshot_times(run);
    const std::size_t dim = engine.dim();
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
}

}  // namespace

std::size_t sgd_batch_group(std::size_t points, std::size_t dim, model::Parametrization parametrization,
                            std::size_t cache_bytes) {
    if (points == 0) return 0;
    const std::size_t chunk = rng::SampleStream::kChunk;
    const std::size_t padded = (dim + chunk - 1) / chunk * chunk;
    const std::size_t member_bytes = sizeof(double) * padded * (parametrization == model::Parametrization::linear ? 1 : 2);
    // Not even one member fits: every group streams from memory, so share the draws among all.
    if (member_bytes > cache_bytes) return points;
    const std::size_t fit = std::max<std::size_t>(1, cache_bytes / member_bytes);
    const std::size_t groups = (points + fit - 1) / fit;
    return (points + groups - 1) / groups;  // groups of equal size, as far as they divide
}

std::vector<Trajectory> simulate_sgd_batch(std::span<const PointSpec> points, const RunSpec& run,
                                           std::uint32_t seed, std::uint32_t replicate, std::size_t cache_bytes) {
    if (points.empty()) return {};
    const PointSpec& first = points.front();
    for (const auto& p : points) {
        if (p.dim != first.dim || p.parametrization != first.parametrization || !(p.data == first.data)) {
            throw std::invalid_argument("a batch of SGD runs needs one dim, parametrization and data");
        }
    }
    const rng::SampleStream stream(seed, first.dim, replicate);
    const Problem problem = make_problem(first.data, first.dim, stream);
    std::vector<Trajectory> out(points.size());
    const std::size_t group = sgd_batch_group(points.size(), first.dim, first.parametrization, cache_bytes);
    for (std::size_t begin = 0; begin < points.size(); begin += group) {
        const std::size_t end = std::min(points.size(), begin + group);
        std::vector<SgdEngine::MemberSpec> members;
        for (std::size_t m = begin; m < end; ++m) members.push_back({points[m].lr, points[m].alpha});
        SgdEngine engine(problem, first.parametrization, members, stream);
        run_lockstep(engine, run, std::span<Trajectory>(out).subspan(begin, end - begin));
    }
    return out;
}

}  // namespace dln::sim
