// Benchmarks, run by hand (never by CTest): build/tests/dln_bench [--benchmark_filter=Pde]
//
//   sgd_step/d, sde_step/d   seconds per coordinate per step (the "s_per_coord" counter, e.g. 21n), u2v2
//   gaussians/d              the generator alone: d standard Gaussians, the floor of a step
//   pde_defaults             `dln run --method pde` at the defaults, without process start-up
//   pde_long_time            THEORY.md §5's check: alpha = 0.5, T = 20, R falls eight decades
//                            (both with counters steps, the accepted TS steps, and R_T = R(T))
#include <benchmark/benchmark.h>

#include <vector>

#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/pde/petsc_session.hpp"
#include "dln/sim/sde_simulator.hpp"
#include "dln/sim/sgd_simulator.hpp"

namespace {

void per_coordinate(benchmark::State& state, double dim) {
    state.counters["s_per_coord"] = benchmark::Counter(static_cast<double>(state.iterations()) * dim,
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
    }
    per_coordinate(state, static_cast<double>(dim));
}

void sgd_step(benchmark::State& state) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    const dln::rng::SampleStream stream(1, dim, 0);
    dln::sim::SgdSimulator sim(dln::sim::make_problem({}, dim, stream), dln::model::Parametrization::u2v2, 0.5, 0.1, stream);
    for (auto _ : state) sim.step();
    per_coordinate(state, static_cast<double>(dim));
}

void sde_step(benchmark::State& state) {
    const auto dim = static_cast<std::size_t>(state.range(0));
    const dln::rng::SampleStream stream(1, dim, 0);
    dln::sim::SdeSimulator sim(dln::sim::make_problem({}, dim, stream), dln::model::Parametrization::u2v2, 0.5, 0.1, stream,
                               1.0 / static_cast<double>(dim));
    for (auto _ : state) sim.step();
    per_coordinate(state, static_cast<double>(dim));
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

}  // namespace

BENCHMARK(gaussians)->RangeMultiplier(10)->Range(1000, 1000000);
BENCHMARK(sgd_step)->RangeMultiplier(10)->Range(1000, 1000000);
BENCHMARK(sde_step)->RangeMultiplier(10)->Range(1000, 1000000);
BENCHMARK(pde_defaults)->Unit(benchmark::kMillisecond);
BENCHMARK(pde_long_time)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
    const dln::pde::PetscSession petsc;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
