// Benchmarks, run by hand (never by CTest). On a shared machine pin one core and repeat:
//   taskset -c 1 build/tests/dln_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   [--benchmark_filter=sgd_step]
// The s_per_* counters are seconds per unit of work (printed like 1.3n), in CPU time: time the
// process was not running is not counted (see README "Benchmarks").
//
//   gaussians/d                 the generator alone: d standard Gaussians; "s_per_coord" per Gaussian
//   sgd_step/<param>/d          one SGD step, isotropic Gaussian data; "s_per_coord" per coordinate
//   sde_step/<param>/d          one SDE step (dt = 1/d), the same data; "s_per_coord" per coordinate
//   sgd_batch/B/d               one lockstep step of B = 1, 4, 8, 16 u2v2 points (SgdEngine: one group of
//                               simulate_sgd_batch); "s_per_update" per coordinate-update per point
//   sgd_layout/L/B/d            sgd_batch's step with the engine's sample layout forced (L = 0 resident,
//                               1 streamed), B = 1 or 4: where the automatic choice should cross over
//   sgd_batch_run/B/d           simulate_sgd_batch for 200 steps, in its cache-sized groups, with
//                               set-up and snapshots; "s_per_update" as above
//   pde_defaults                `dln run --method pde` at the defaults, without process start-up
//   pde_long_time               THEORY.md §5's check: alpha = 0.5, T = 20, R falls eight decades
//                               (both with counters steps, the accepted TS steps, and R_T = R(T))
// A sweep's makespan against the sum of its unit times is measured on a whole sweep (from the
// wall_seconds of its units), not here.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/pde/petsc_session.hpp"
#include "standalone_mpi.hpp"
#include "dln/sim/sde_simulator.hpp"
#include "dln/sim/sgd_engine.hpp"
#include "dln/sim/sgd_simulator.hpp"

namespace {

using dln::model::Parametrization;

// Seconds of CPU time per unit (printed as e.g. 1.3n), units = iterations * per_iteration.
void per_unit(benchmark::State& state, const char* name, double per_iteration) {
    state.counters[name] = benchmark::Counter(static_cast<double>(state.iterations()) * per_iteration,
                                              benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void gaussians(benchmark::State& state) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    const dln::rng::SampleStream stream(1, dim, 0);
    std::vector<double> z(dim);
    std::uint64_t step = 0;
    for (auto _ : state) {
        stream.fill_gaussians(z, step++);
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    per_unit(state, "s_per_coord", static_cast<double>(dim));
}

// The steps of a converging run (lr = 0.5, alpha = 0.1): the state stays finite however many
// iterations the benchmark takes.
void sgd_step(benchmark::State& state, Parametrization param) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    const dln::rng::SampleStream stream(1, dim, 0);
    dln::sim::SgdSimulator sim(dln::sim::make_problem({}, dim, stream), param, 0.5, 0.1, stream);
    for (auto _ : state) sim.step();
    per_unit(state, "s_per_coord", static_cast<double>(dim));
}

void sde_step(benchmark::State& state, Parametrization param) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    const dln::rng::SampleStream stream(1, dim, 0);
    dln::sim::SdeSimulator sim(dln::sim::make_problem({}, dim, stream), param, 0.5, 0.1, stream,
                               1.0 / static_cast<double>(dim));
    for (auto _ : state) sim.step();
    per_unit(state, "s_per_coord", static_cast<double>(dim));
}

// B points of a sweep's (lr, alpha) grid, all converging.
void sgd_batch(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto dim = static_cast<std::size_t>(state.range(1));
    std::vector<dln::sim::SgdEngine::MemberSpec> members;
    for (std::size_t m = 0; m < batch; ++m) {
        members.push_back({0.2 + 0.6 * static_cast<double>(m % 4) / 3.0, 0.05 + 0.1 * static_cast<double>(m / 4)});
    }
    const dln::rng::SampleStream stream(1, dim, 0);
    dln::sim::SgdEngine engine(dln::sim::make_problem({}, dim, stream), Parametrization::u2v2, members, stream);
    for (auto _ : state) engine.step();
    per_unit(state, "s_per_update", static_cast<double>(dim * batch));
}

void sgd_layout(benchmark::State& state) {
    using Engine = dln::sim::SgdEngine;
    const auto layout = state.range(0) == 0 ? Engine::Layout::resident : Engine::Layout::streamed;
    const auto batch = static_cast<std::size_t>(state.range(1));
    const auto dim = static_cast<std::size_t>(state.range(2));
    std::vector<Engine::MemberSpec> members;
    for (std::size_t m = 0; m < batch; ++m) members.push_back({0.2 + 0.6 * static_cast<double>(m % 4) / 3.0, 0.05});
    const dln::rng::SampleStream stream(1, dim, 0);
    Engine engine(dln::sim::make_problem({}, dim, stream), Parametrization::u2v2, members, stream, layout);
    for (auto _ : state) engine.step();
    per_unit(state, "s_per_update", static_cast<double>(dim * batch));
}

// simulate_sgd_batch itself (its cache-sized groups, snapshots and all) for 200 steps of B points.
void sgd_batch_run(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto dim = static_cast<std::size_t>(state.range(1));
    std::vector<dln::sim::PointSpec> points(batch);
    for (std::size_t m = 0; m < batch; ++m) {
        points[m].dim = dim;
        points[m].lr = 0.2 + 0.6 * static_cast<double>(m % 4) / 3.0;
        points[m].alpha = 0.05 + 0.1 * static_cast<double>(m / 4);
    }
    dln::sim::RunSpec run;
    run.time = 200.0 / static_cast<double>(dim);
    run.snapshots = 2;
    for (auto _ : state) benchmark::DoNotOptimize(dln::sim::simulate_sgd_batch(points, run, 1, 0));
    per_unit(state, "s_per_update", 200.0 * static_cast<double>(dim * batch));
}

// The PDE counters: accepted TS steps and R(T), so a change of speed that comes from a change of
// steps (or of the answer) shows.
void pde_counters(benchmark::State& state, const dln::pde::PdeTrajectory& last) {
    state.counters["steps"] = static_cast<double>(last.steps);
    state.counters["R_T"] = last.snapshots.back()[dln::model::risk];
}

void pde_defaults(benchmark::State& state) {
    dln::pde::PdeTrajectory last;
    for (auto _ : state) benchmark::DoNotOptimize(last = dln::pde::solve_pde({}, {}, {}));
    pde_counters(state, last);
}

void pde_long_time(benchmark::State& state) {
    dln::sim::PointSpec point;
    point.alpha = 0.5;
    dln::sim::RunSpec run;
    run.time = 20.0;
    dln::pde::PdeTrajectory last;
    for (auto _ : state) benchmark::DoNotOptimize(last = dln::pde::solve_pde(point, run, {}));
    pde_counters(state, last);
}

void register_all() {
    const std::vector<std::pair<std::string, Parametrization>> params = {
        {"u2v2", Parametrization::u2v2}, {"uv", Parametrization::uv}, {"linear", Parametrization::linear}};
    benchmark::RegisterBenchmark("gaussians", gaussians)->RangeMultiplier(10)->Range(1000, 1000000);
    for (const auto& [name, param] : params) {
        benchmark::RegisterBenchmark(("sgd_step/" + name).c_str(), sgd_step, param)->RangeMultiplier(10)->Range(1000, 1000000);
    }
    for (const auto& [name, param] : params) {
        benchmark::RegisterBenchmark(("sde_step/" + name).c_str(), sde_step, param)->RangeMultiplier(10)->Range(1000, 1000000);
    }
    benchmark::RegisterBenchmark("sgd_batch", sgd_batch)->ArgsProduct({{1, 4, 8, 16}, {1000, 10000, 100000}});
    benchmark::RegisterBenchmark("sgd_layout", sgd_layout)
        ->ArgsProduct({{0, 1}, {1, 4}, {3000, 10000, 20000, 30000, 50000, 100000, 1000000}});
    benchmark::RegisterBenchmark("sgd_batch_run", sgd_batch_run)->ArgsProduct({{16}, {1000, 10000, 100000}})->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("pde_defaults", pde_defaults)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("pde_long_time", pde_long_time)->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
    dln::app::prepare_standalone_mpi();  // a fast one-process MPI start-up
    const dln::pde::PetscSession petsc;
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
