// The error-controlled PDE at its defaults (pde.rtol = 1e-3): against a reference refined far
// beyond what the controller chose, the true error measure is at most rtol at every snapshot, and
// the reported estimate does not understate it by more than a factor of 3.
//
// The reference: the grid four times finer than the chosen one, Richardson-extrapolated from
// 2N and 4N cells (the extrapolated scheme converges like h^4, so its error is ~4^4 = 256 times
// below that of the result's own extrapolation from N/2 and N); the quadrature four times finer
// than the chosen one; the TS tolerance a hundred times tighter than the controller's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "dln/pde/error_control.hpp"

using namespace dln::pde;
using dln::model::Parametrization;

namespace {

PdeTrajectory plain_solve(const dln::sim::PointSpec& point, const dln::sim::RunSpec& run, std::size_t cells,
                          std::size_t target_nodes, std::size_t spectrum_nodes, double ts_rtol) {
    PdeSpec spec;
    spec.cells = cells;
    spec.quadrature.target_nodes = std::max<std::size_t>(1, target_nodes);
    spec.quadrature.spectrum_nodes = std::max<std::size_t>(1, spectrum_nodes);
    spec.rtol = ts_rtol;
    spec.atol = 1e-3 * ts_rtol;
    FokkerPlanckSolver solver(point.parametrization, point.lr, point.data.noise,
                              make_classes(point.data, point.parametrization, point.alpha, spec.quadrature), spec);
    return solver.run(run);
}

// R_fine + (R_fine - R_coarse) / 3 on the risk (the only observable the error measure reads).
PdeTrajectory richardson(const PdeTrajectory& coarse, PdeTrajectory fine) {
    for (std::size_t j = 0; j < fine.snapshots.size(); ++j) {
        auto& f = fine.snapshots[j][dln::model::risk];
        f += (f - coarse.snapshots[j][dln::model::risk]) / 3.0;
    }
    return fine;
}

struct Case {
    const char* name;
    dln::sim::PointSpec point;
};

Case make_case(const char* name, double lr) {
    Case c{name, {}};
    c.point.lr = lr;
    return c;
}

void check_case(const Case& c, double time = 4.0) {
    dln::sim::RunSpec run;
    run.time = time;
    AccuracySpec spec;  // the defaults
    const auto start = std::chrono::steady_clock::now();
    const auto result = solve_pde_to_tolerance(c.point, run, spec);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& a = result.accuracy;
    const std::size_t n = 4 * a.cells;
    const double ts = spec.rtol / 300.0 / 100.0;
    const auto reference = richardson(plain_solve(c.point, run, n / 2, 4 * a.target_nodes, 4 * a.spectrum_nodes, ts),
                                      plain_solve(c.point, run, n, 4 * a.target_nodes, 4 * a.spectrum_nodes, ts));
    const double truth = excess_risk_error(result, reference, c.point.data.noise);
    std::printf("accuracy: %-28s cells %5zu classes %3zu estimate %.2e true %.2e (%.2f s)\n", c.name, a.cells,
                a.classes, a.error_estimate, truth, seconds);
    INFO(c.name << ": cells " << a.cells << ", classes " << a.classes << ", estimate " << a.error_estimate
                << ", true error " << truth);
    CHECK(a.met_tolerance);
    CHECK(a.warning.empty());
    CHECK(truth <= spec.rtol);
    CHECK(a.error_estimate >= truth / 3.0);
}

}  // namespace

TEST_CASE("error control: the default point meets pde.rtol and says so honestly", "[pde][accuracy]") {
    check_case(make_case("isotropic, constant, lr 0.5", 0.5));
}

TEST_CASE("error control: Rademacher targets, uv, label noise", "[pde][accuracy]") {
    auto c = make_case("uv, rademacher, sigma 0.2", 0.5);
    c.point.parametrization = Parametrization::uv;
    c.point.data.target = dln::model::TargetLaw::rademacher;
    c.point.data.noise = 0.2;
    check_case(c);
}

TEST_CASE("error control: large learning rates, where the classes spread", "[pde][accuracy]") {
    for (double lr : {2.0, 4.0, 6.0}) {
        char name[32];
        std::snprintf(name, sizeof name, "isotropic, lr %g", lr);
        check_case(make_case(name, lr));
    }
}

TEST_CASE("error control: the estimate is the measure of excess_risk_error", "[pde][accuracy]") {
    // The floor: a snapshot whose excess has fallen below 1e-6 E(0) is measured against 1e-6 E(0).
    dln::sim::Trajectory a, b;
    dln::model::Observables o{};
    o[dln::model::risk] = 1.0 + 0.005;  // sigma = 0.1: the excess is the risk less 0.005
    b.snapshots.push_back(o);
    o[dln::model::risk] = 1e-9 + 0.005;
    b.snapshots.push_back(o);
    a = b;
    a.snapshots[1][dln::model::risk] += 1e-9;  // 100% of the tiny excess, 1e-3 of the floor
    CHECK(excess_risk_error(a, b, 0.1) == Approx(1e-3).epsilon(1e-6));
    a.snapshots[1][dln::model::risk] = std::nan("");  // one diverged, the other not
    CHECK(std::isinf(excess_risk_error(a, b, 0.1)));
}

TEST_CASE("error control: a solve stopped by its caps is a flagged result, never a silent one", "[pde][accuracy]") {
    dln::sim::PointSpec point;
    point.lr = 4.0;  // needs 960 cells for 1e-3 (above)
    dln::sim::RunSpec run;
    AccuracySpec spec;
    spec.max_cells = 120;
    const auto result = solve_pde_to_tolerance(point, run, spec);
    CHECK(result.accuracy.cells == 120);
    CHECK_FALSE(result.accuracy.met_tolerance);
    CHECK(result.accuracy.error_estimate > spec.rtol);
    CHECK(result.accuracy.warning.find("lr=4 alpha=0.1") != std::string::npos);
    CHECK(result.accuracy.warning.find("pde.max_cells") != std::string::npos);
    // An explicit resolution is used as given, and its error is still estimated.
    spec = AccuracySpec{};
    spec.cells = 240;
    const auto fixed = solve_pde_to_tolerance(point, run, spec);
    CHECK(fixed.accuracy.cells == 240);
    CHECK(std::isfinite(fixed.accuracy.grid_error));
    CHECK(fixed.accuracy.grid_error > spec.rtol);  // 240 cells at lr = 4: a few per cent even extrapolated
}
