// The error-controlled PDE at its defaults (pde.rtol = 1e-3): against a reference refined far
// beyond what the controller chose, the true error measure is at most rtol at every snapshot, and
// the reported estimate does not understate it by more than a factor of 3.
//
// The reference: the grid four times finer than the chosen one, Richardson-extrapolated from
// 2N and 4N cells (the extrapolated scheme converges like h^4, so its error is ~4^4 = 256 times
// below that of the result's own extrapolation from N/2 and N); walls 8 deviations further out
// than the chosen width, at those cells per deviation (the cut falls by ~0.2 per 4 deviations,
// README "The PDE's accuracy": the reference's is ~1/25 of the result's); the quadrature four
// times finer than the chosen one; the TS tolerance a hundred times tighter than the
// controller's. For the continuous laws the finer quadrature is added as a tail on a coarse grid
// (see Reference). The two sparse-quadrature cases (at the end), whose controller combines sparse
// solves, take the full tensor rule at the chosen nodes for the tail instead; its own error,
// measured against finer rules, is stated there.
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
                          std::size_t target_nodes, std::size_t spectrum_nodes, double ts_rtol,
                          double width = PdeSpec{}.width) {
    PdeSpec spec;
    spec.cells = cells;
    spec.width = width;
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

// The quadrature's tail of a two-part reference (Reference below): X(M/2, M; ft x fs) -
// X(M/2, M; t x s) on the coarse grid M = cells, at TS tolerance ts (0: the grid part's).
struct Tail {
    std::size_t cells = 0;  // 0: no tail
    std::size_t target_nodes = 0, spectrum_nodes = 0;
    double ts = 0.0;
};

// The reference for a result with accuracy `a`: X(2N, 4N) at width L + 8 with four times the
// result's cells per deviation, at t x s nodes and TS tolerance ts, plus `tail`.
PdeTrajectory reference_solve(const dln::sim::PointSpec& point, const dln::sim::RunSpec& run, const PdeAccuracy& a,
                              std::size_t t, std::size_t s, double ts, const Tail& tail = {}) {
    const double width = a.width + 8.0;
    const auto half = static_cast<std::size_t>(std::round(2.0 * static_cast<double>(a.cells) * width / a.width));
    auto reference = richardson(plain_solve(point, run, half, t, s, ts, width), plain_solve(point, run, 2 * half, t, s, ts, width));
    if (tail.cells == 0) return reference;
    const double tail_ts = tail.ts > 0.0 ? tail.ts : ts;
    const std::size_t m = tail.cells;
    const auto fine = richardson(plain_solve(point, run, m / 2, tail.target_nodes, tail.spectrum_nodes, tail_ts),
                                 plain_solve(point, run, m, tail.target_nodes, tail.spectrum_nodes, tail_ts));
    const auto coarse = richardson(plain_solve(point, run, m / 2, t, s, tail_ts), plain_solve(point, run, m, t, s, tail_ts));
    for (std::size_t j = 0; j < reference.snapshots.size(); ++j) {
        reference.snapshots[j][dln::model::risk] += fine.snapshots[j][dln::model::risk] - coarse.snapshots[j][dln::model::risk];
    }
    return reference;
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

// How the reference is refined beyond the controller's choice (N cells, n nodes, TS tolerance tau).
// Discrete laws: X(2N, 4N) at tau / 100, one solve pair. Continuous laws: the sum of two parts,
//   X(2N, 4N; n)                          the grid, at the chosen n nodes,
//   X(M/2, M; 4n) - X(M/2, M; n)          the quadrature's tail from n to 4n nodes, M = tail_cells.
// The tail is a difference of two quadratures on one grid, so that grid's error enters it only
// through how the grid error varies over the classes: the product of the grid's relative error
// and the tail itself. X(30, 60) is within 1e-3 relative of X(240, 480) at every case here and
// the tail is at most ~rtol, so that product is ~1e-6, a thousandth of rtol. (A single solve at
// 4n nodes on 4N cells took 50 s to minutes per case; the two parts take a few seconds.) The
// quadrature's own error at 4n is below that at n by 4^p, p >= 2 the observed order (README "The
// PDE's class quadrature"): at least 16 times.
struct Reference {
    std::size_t node_factor = 4;
    std::size_t tail_cells = 0;  // 0: the direct reference X(2N, 4N; 4n)
};

void check_case(const Case& c, double time = 4.0, std::size_t snapshots = 41, Reference how = {}) {
    dln::sim::RunSpec run;
    run.time = time;
    run.snapshots = snapshots;
    AccuracySpec spec;  // the defaults
    const auto start = std::chrono::steady_clock::now();
    const auto result = solve_pde_to_tolerance(c.point, run, spec);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& a = result.accuracy;
    const std::size_t f = how.node_factor;
    const double ts = spec.rtol / 300.0 / 100.0;
    const std::size_t tn = a.target_nodes, sn = a.spectrum_nodes;
    const auto reference = how.tail_cells == 0
                               ? reference_solve(c.point, run, a, f * tn, f * sn, ts)
                               : reference_solve(c.point, run, a, tn, sn, ts, Tail{how.tail_cells, f * tn, f * sn});
    const double truth = excess_risk_error(result, reference, c.point.data.noise);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("accuracy: %-28s cells %5zu width %2g classes %3zu estimate %.2e (width %.1e) true %.2e (%.2f s; with "
                "the reference %.1f s)\n",
                c.name, a.cells, a.width, a.classes, a.error_estimate, a.width_error, truth, seconds, total);
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

// The continuous laws: the controller refines the quadrature as well. The reference takes four
// times the chosen nodes; the rules' observed orders (README "The PDE's class quadrature") make
// that at least 16 times more accurate in the quadrature (order >= 2), on a grid four times finer.
TEST_CASE("error control: a gaussian target law", "[pde][accuracy]") {
    auto c = make_case("gaussian target", 0.5);
    c.point.data.target = dln::model::TargetLaw::gaussian;
    check_case(c, 4.0, 41, Reference{4, 60});
}

TEST_CASE("error control: the Marchenko-Pastur spectrum (r = 0.5)", "[pde][accuracy]") {
    auto c = make_case("marchenko-pastur r 0.5", 0.5);
    c.point.data.spectrum = dln::model::Spectrum::marchenko_pastur;
    c.point.data.ratio = 0.5;
    check_case(c, 4.0, 41, Reference{4, 60});
}

TEST_CASE("error control: the power-law spectrum (a = 0.5)", "[pde][accuracy]") {
    // Its quadrature error is largest at the first snapshots (t = 0.1, 0.2: the fast modes, lambda
    // up to ~1/t, finish learning then, a transition in v = u^(1-a) of width ~t that uniform
    // panels resolve only at order ~2; since 0.8.0 the rule is graded towards v = 0, README "The
    // PDE's class quadrature"), so T = 1 keeps the hard part of the case. The reference's
    // 4n nodes put nodes at lambda ~ 500, where a solve to T = 4 switches to the Jacobian-free
    // fallback; the two-part reference (Reference) keeps them on the coarse tail grid.
    auto c = make_case("powerlaw a 0.5 (T = 1)", 0.5);
    c.point.data.spectrum = dln::model::Spectrum::powerlaw;
    c.point.data.exponent = 0.5;
    check_case(c, 1.0, 11, Reference{4, 60});
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
    point.lr = 4.0;  // needs 480 cells for 1e-3 (above)
    dln::sim::RunSpec run;
    AccuracySpec spec;
    spec.max_cells = 120;
    const auto result = solve_pde_to_tolerance(point, run, spec);
    // pde.max_cells caps the grid at the first width, 12: a wider grid keeps its cells per
    // deviation, 120 / 24.
    CHECK(result.accuracy.cells * 12 == static_cast<std::size_t>(120 * result.accuracy.width));
    CHECK_FALSE(result.accuracy.met_tolerance);
    CHECK(result.accuracy.error_estimate > spec.rtol);
    CHECK(result.accuracy.warning.find("lr=4 alpha=0.1") != std::string::npos);
    CHECK(result.accuracy.warning.find("pde.max_cells") != std::string::npos);
    // An explicit resolution is used as given, and its error is still estimated.
    spec = AccuracySpec{};
    spec.cells = 120;
    const auto fixed = solve_pde_to_tolerance(point, run, spec);
    CHECK(fixed.accuracy.cells * 12 == static_cast<std::size_t>(120 * fixed.accuracy.width));
    CHECK(std::isfinite(fixed.accuracy.grid_error));
    // 120 cells at lr = 4 do not meet 1e-3 even extrapolated (the capped solve above). (240 did
    // until the per-class extents, which left them 4.9e-4.)
    CHECK(fixed.accuracy.grid_error > spec.rtol);
}

TEST_CASE("error control: a gaussian target on the Marchenko-Pastur spectrum (the sparse quadrature)", "[pde][accuracy]") {
    // sweeps/concentration.ini's point. Its tensor rule needs ~32 x 64 classes; the controller
    // combines solves of at most pde.max_classes = 256 (README "The PDE's accuracy"); at the
    // defaults it chose 32 x 32 nodes, combined from sparse solves. The reference cannot take four
    // times the chosen nodes in both directions (128 x 128 classes), so it is X(2N, 4N) at the
    // coarse rule 8 x 8 plus the quadrature's tail, the full tensor rule
    //     X(30, 60; 32 x 32) - X(30, 60; 8 x 8)
    // at the controller's TS tolerance (the tail argument of Reference above: the grid's error
    // enters it only through its variation over the classes). Its own quadrature error is that of
    // 32 nodes in each law: 32 target nodes are 1.6e-5 off the finest rule (README "The PDE's
    // class quadrature", one law at a time); 32 MP nodes moved the reference by 8.6e-8 against
    // 64 with the 32 target nodes fixed (32 x 16 nodes: 4.8e-5, 16 x 32: 8.7e-4), so the
    // tail's own error is ~2e-5, a fiftieth of rtol, as with the 32 x 64 tail it replaced, whose
    // 32 target nodes were the same. The controller's TS tolerance instead of a hundredth of it
    // moved the reference by 1.6e-7; both changes together by 2.1e-7 (true error 1.1760e-4 with
    // X(30, 60; 32 x 64) at rtol / 300 / 100, 1.1771e-4 with this tail). The tail must be
    // extrapolated, on 30 and 60 cells: on 30 cells alone it was 1.4e-3 off the X(30, 60) one
    // (2026-12-01), and X(20, 40) moved the reference by 5.0e-4 (2026-12-02). The 32 x 64 tail
    // and the direct tensor solve X(60, 120; 32 x 64) gave true errors of 1.1e-4 and 1.2e-4
    // (2026-12-01). Measured 2026-12-02 (AMD EPYC, 2 cores, shared, load 1-2): the result 26-39 s,
    // the reference's grid part 47-63 s, this tail 23 s (the 32 x 64 tail at rtol / 300 / 100 took
    // 87-153 s); the whole case 104 s, run alone with load 2-3 from other jobs (173 s with the
    // 32 x 64 tail).
    dln::sim::PointSpec point;
    point.parametrization = Parametrization::uv;
    point.lr = 0.5;
    point.alpha = 0.5;
    point.data.spectrum = dln::model::Spectrum::marchenko_pastur;
    point.data.ratio = 0.5;
    point.data.sparsity = 1.0;
    point.data.target = dln::model::TargetLaw::gaussian;
    point.data.scale = 1.0;
    dln::sim::RunSpec run;
    run.time = 5.0;
    run.snapshots = 51;
    AccuracySpec spec;  // the defaults
    const auto start = std::chrono::steady_clock::now();
    const auto result = solve_pde_to_tolerance(point, run, spec);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& a = result.accuracy;
    const double ts = spec.rtol / 300.0;  // the controller's TS tolerance
    const auto reference = reference_solve(point, run, a, 8, 8, ts / 100.0, Tail{60, 32, 32, ts});
    const double truth = excess_risk_error(result, reference, point.data.noise);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("accuracy: %-28s cells %5zu classes %3zu (nodes %zu x %zu) estimate %.2e true %.2e (%.2f s; with the "
                "reference %.1f s)\n",
                "gaussian on MP (sparse)", a.cells, a.classes, a.target_nodes, a.spectrum_nodes, a.error_estimate, truth,
                seconds, total);
    INFO("classes " << a.classes << ", estimate " << a.error_estimate << ", true error " << truth);
    CHECK(a.classes <= spec.max_classes);  // every single solve within the cap
    CHECK(a.met_tolerance);
    CHECK(a.warning.empty());
    CHECK(truth <= spec.rtol);
    CHECK(a.error_estimate >= truth / 3.0);
}

TEST_CASE("error control: a gaussian target on the power-law spectrum (a = 0.5) with a null class (the sparse quadrature)", "[pde][accuracy]") {
    // The benchmark point (u2v2, lr 0.5, alpha 0.1, s = 0.1, gaussian b = 1, powerlaw
    // a = 0.5) to T = 0.5: as for the power law alone, its quadrature error is largest at t = 0.1
    // to 0.4 (at T = 4, 32 against 64 spectrum nodes differed by 1.7e-3 at t = 0.1 and by at most
    // 1.3e-6 after t = 0.8), where the spectrum's transition (the modes learnt by then) sits near
    // v ~ 0.05 of the uniform rule, so T = 0.5 keeps the hard part (T = 1 gave the same true
    // error, 5.05e-3, 2026-12-01). The uniform rule could not meet 1e-3 within pde.max_classes
    // here (the spectrum ladder at 4 target nodes stopped at 32 nodes; differences 2.6e-2,
    // 1.1e-2, 5.2e-3, 1.7e-3 from 4 to 64 nodes at 8 target nodes, 2026-12-01); the graded rule
    // of 0.8.0 comes close (estimate 1.65e-3, true error 1.23e-3, flagged), so the point must
    // come back flagged with an estimate that does not understate its error, or, were it met,
    // with its true error within rtol, as everywhere.
    //
    // The reference, in two parts as for the Marchenko-Pastur case above: X(2N, 4N) at the coarse
    // rule 8 x 8 (a TS tolerance a hundred times tighter), plus the quadrature's tail, the full
    // tensor rule on the graded spectrum rule of 0.8.0
    //     X(30, 60; 32 x 32) - X(30, 60; 8 x 8)
    // at the controller's TS tolerance (the tail on 30 cells moved by 1e-8 relative at a
    // hundred times tighter, 2026-12-01). Its own quadrature error is that of 32 nodes in each
    // law: 32 target nodes are 1.5e-5 off 64; 32 graded spectrum nodes moved the reference by
    // 3.6e-6 against 64 with the 32 target nodes fixed (true error 1.2347e-3 with the 32 x 64
    // tail, 1.2333e-3 with this one; 16 and 24 target nodes against 32 moved it by 6.8e-4 and
    // 3.7e-5), so the tail's own error is ~2e-5, a fiftieth of rtol: enough to tell a met 1e-3
    // from a missed one. (With the uniform rule it was not: 64 uniform spectrum nodes left ~8e-4
    // at t = 0.1, the last difference, 1.7e-3, over 2^p - 1 with the observed order p = 1.6, and
    // 128 did not finish in 200 s, their classes at lambda ~ 230 collapse; 2026-12-01.) Measured
    // 2026-12-02 (AMD EPYC, 2 cores, shared, load 1-2): the result 19 s, the reference's grid part
    // 51 s, this tail 33 s (the 32 x 64 tail, 2112 classes, took 85 s); the whole case 104 s, run
    // alone with load 2-3 from other jobs (158 s with the 32 x 64 tail).
    dln::sim::PointSpec point;
    point.data.target = dln::model::TargetLaw::gaussian;
    point.data.spectrum = dln::model::Spectrum::powerlaw;
    point.data.exponent = 0.5;
    dln::sim::RunSpec run;
    run.time = 0.5;
    run.snapshots = 6;
    AccuracySpec spec;  // the defaults
    const auto start = std::chrono::steady_clock::now();
    const auto result = solve_pde_to_tolerance(point, run, spec);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& a = result.accuracy;
    const double ts = spec.rtol / 300.0;  // the controller's TS tolerance
    const auto reference = reference_solve(point, run, a, 8, 8, ts / 100.0, Tail{60, 32, 32, ts});
    const double truth = excess_risk_error(result, reference, point.data.noise);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("accuracy: %-28s cells %5zu classes %3zu (nodes %zu x %zu) estimate %.2e true %.2e met %d (%.2f s; "
                "with the reference %.1f s)\n",
                "gaussian on powerlaw (T = 0.5)", a.cells, a.classes, a.target_nodes, a.spectrum_nodes, a.error_estimate,
                truth, int(a.met_tolerance), seconds, total);
    INFO("classes " << a.classes << ", estimate " << a.error_estimate << ", true error " << truth);
    CHECK(a.classes <= spec.max_classes);  // every single solve within the cap
    CHECK(a.error_estimate >= truth / 3.0);
    if (a.met_tolerance) {
        CHECK(a.warning.empty());
        CHECK(truth <= spec.rtol);
    } else {
        CHECK(a.warning.find("exceeds pde.rtol") != std::string::npos);
    }
}
