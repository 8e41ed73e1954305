// What a simulator hands back: the observables at the snapshot times, and how the run ended.
#pragma once

#include <atomic>
#include <cmath>
#include <exception>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "dln/model/data_model.hpp"
#include "dln/model/observables.hpp"
#include "dln/model/parametrization.hpp"

namespace dln::sim {

// One grid point: everything that, with (seed, replicate), determines a trajectory.
struct PointSpec {
    model::Parametrization parametrization = model::Parametrization::u2v2;
    model::DataSpec data;
    double lr = 0.5;
    std::size_t dim = 1000;
    double alpha = 0.1;
};

struct RunSpec {
    double time = 4.0;            // T, in units of d samples
    std::size_t snapshots = 41;   // uniform on [0, T], both ends included (>= 2)
    double threshold = 1e-2;      // tau of false_support (the default of run.threshold)
    double divergence_factor = 1e6;  // a run whose risk exceeds this times R(0) has diverged
    // When set and true, the run stops early by throwing Cancelled (a sweep asked to stop, e.g.
    // by the batch system before a time limit, abandons the units in flight).
    const std::atomic<bool>* cancel = nullptr;
};

// Thrown by a run whose RunSpec::cancel was raised: the trajectory is not a result.
struct Cancelled : std::exception {
    const char* what() const noexcept override { return "cancelled"; }
};

inline bool cancelled(const RunSpec& spec) {
    return spec.cancel != nullptr && spec.cancel->load(std::memory_order_relaxed);
}

// t_j = j T / (n - 1), j = 0..n-1: the nominal times written to every output.
std::vector<double> snapshot_times(const RunSpec& run);

// The SGD step at which snapshot time t is taken: round(t d). One step is 1/d of time, so the
// step's own time differs from the nominal one by at most 1/(2d).
std::uint64_t step_at(double t, std::size_t dim);

struct Trajectory {
    std::vector<model::Observables> snapshots;  // one per snapshot time; NaN after divergence
    bool diverged = false;
    double diverged_at = std::numeric_limits<double>::quiet_NaN();  // time of the first bad step
};

// Runs a simulator from its current state to time T, recording the observables at the snapshot
// times (snapshot t is taken at step step_of(t)), and stops at the first step whose risk is not
// finite or exceeds divergence_factor * R(start): NaN snapshots from there on. Shared by the SGD
// and SDE simulators, so the two apply one divergence rule and one snapshot rule.
template <class Simulator, class StepOf>
Trajectory record_run(Simulator& sim, const RunSpec& spec, StepOf step_of) {
    const auto times = snapshot_times(spec);
    Trajectory out;
    out.snapshots.reserve(times.size());
    const double limit = spec.divergence_factor * sim.risk();
    const std::uint64_t last = step_of(spec.time);
    std::size_t next = 0;
    auto record_due = [&] {
        while (next < times.size() && step_of(times[next]) <= sim.steps_taken()) {
            out.snapshots.push_back(sim.observe(spec.threshold));
            ++next;
        }
    };
    record_due();
    while (sim.steps_taken() < last) {
        // Every 1024 steps: a relaxed atomic load, nothing next to a step of O(d) work.
        if ((sim.steps_taken() & 1023u) == 0 && cancelled(spec)) throw Cancelled{};
        sim.step();
        const double risk = sim.risk();
        if (!std::isfinite(risk) || risk > limit) {
            out.diverged = true;
            out.diverged_at = sim.time();
            break;
        }
        record_due();
    }
    model::Observables missing;
    missing.fill(std::numeric_limits<double>::quiet_NaN());
    out.snapshots.resize(times.size(), missing);
    return out;
}

}  // namespace dln::sim
