// The paper's claim, measured: SGD at finite d follows the d -> infinity PDE, and the gap closes
// as d grows.
//
// What can be tested is a statement about the expected SGD risk. Late in these runs R is small
// and a single SGD path's risk fluctuates by about 9% at d = 4000 (measured: the replicate sd at
// t = 3.5), so the mean of 4 replicates is uncertain by about 5% there by itself. The claim
// "SGD's expected risk is within 5% of the PDE" is therefore rejected only when the observed gap
// exceeds 5% by more than the sampling error allows (Student t on the replicates, family-wise
// false-alarm rate 1e-4 over the snapshots). With 16 replicates that is a strict test wherever
// R > 1e-2 and an honest one below.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/sim/sgd_simulator.hpp"
#include "statistics.hpp"

using dln::model::Parametrization;

namespace {

struct Comparison {
    std::vector<double> sgd_mean, sgd_error, pde;  // per snapshot; sgd_error: standard error of the mean
    double sup_relative_gap = 0.0;                 // over snapshots with PDE risk > 1e-3
};

Comparison compare(const dln::sim::PointSpec& point, const dln::sim::RunSpec& run, std::uint32_t replicates) {
    Comparison c;
    const auto pde = dln::pde::solve_pde(point, run, dln::pde::PdeSpec{});
    std::vector<std::vector<double>> risk(run.snapshots);
    for (std::uint32_t rep = 0; rep < replicates; ++rep) {
        const auto traj = dln::sim::simulate_sgd(point, run, 1, rep);
        REQUIRE_FALSE(traj.diverged);
        for (std::size_t j = 0; j < run.snapshots; ++j) risk[j].push_back(traj.snapshots[j][dln::model::risk]);
    }
    for (std::size_t j = 0; j < run.snapshots; ++j) {
        const auto m = dln::testing::moments(risk[j]);
        c.sgd_mean.push_back(m.mean);
        c.sgd_error.push_back(m.standard_error());
        c.pde.push_back(pde.snapshots[j][dln::model::risk]);
        if (c.pde[j] > 1e-3) c.sup_relative_gap = std::max(c.sup_relative_gap, std::abs(m.mean / c.pde[j] - 1.0));
    }
    return c;
}

dln::sim::PointSpec theory_point(std::size_t dim) {  // THEORY.md §6: u2v2, s = 0.1, b = 1, sigma = 0
    dln::sim::PointSpec p;
    p.parametrization = Parametrization::u2v2;
    p.lr = 0.5;
    p.alpha = 0.1;
    p.dim = dim;
    return p;
}

dln::sim::RunSpec four_units() {
    dln::sim::RunSpec run;
    run.time = 4.0;
    run.snapshots = 17;
    return run;
}

void check_within_five_percent(const Comparison& c, std::uint32_t replicates) {
    std::size_t compared = 0;
    for (double r : c.pde) compared += r > 1e-3;
    const double bound = dln::testing::student_bound(replicates, compared);
    for (std::size_t j = 1; j < c.pde.size(); ++j) {
        if (c.pde[j] <= 1e-3) continue;
        INFO("t = " << 0.25 * static_cast<double>(j) << ": SGD " << c.sgd_mean[j] << " +- " << c.sgd_error[j] << ", PDE "
             << c.pde[j] << ", gap " << 100.0 * (c.sgd_mean[j] / c.pde[j] - 1.0) << "% (allowed 5% + " << bound
             << " standard errors = " << 100.0 * (0.05 + bound * c.sgd_error[j] / c.pde[j]) << "%)");
        CHECK(std::abs(c.sgd_mean[j] - c.pde[j]) <= 0.05 * c.pde[j] + bound * c.sgd_error[j]);
    }
}

}  // namespace

TEST_CASE("SGD at d = 4000 (16 replicates) is within 5% of the PDE where R > 1e-3: u2v2", "[validation]") {
    const auto c = compare(theory_point(4000), four_units(), 16);
    check_within_five_percent(c, 16);
    // Where the sampling error is small the plain 5% holds without allowance: up to t = 2.5.
    for (std::size_t j = 0; j <= 10; ++j) CHECK(std::abs(c.sgd_mean[j] - c.pde[j]) <= 0.05 * c.pde[j]);
}

TEST_CASE("SGD at d = 4000 (16 replicates) is within 5% of the PDE: uv, Rademacher, sigma = 0.2", "[validation]") {
    auto p = theory_point(4000);
    p.parametrization = Parametrization::uv;
    p.data.target = dln::model::TargetLaw::rademacher;
    p.data.noise = 0.2;
    const auto c = compare(p, four_units(), 16);
    check_within_five_percent(c, 16);
    // The label noise keeps R >= 0.02, where a path fluctuates little: the plain 5% holds throughout.
    for (std::size_t j = 0; j < c.pde.size(); ++j) CHECK(std::abs(c.sgd_mean[j] - c.pde[j]) <= 0.05 * c.pde[j]);
}

// The sup-over-time gap of a mean of N paths is noise of size ~ 1/sqrt(N d) plus the finite-d bias;
// both shrink with d. Over a factor 16 in d the shrinkage is far beyond the noise of the
// estimate; between neighbours (a factor 4, an expected halving) it is not, so the endpoints and
// the fitted exponent are what is asserted, and the middle is reported.
TEST_CASE("the sup-over-time SGD-PDE gap shrinks over d = 500, 2000, 8000", "[validation]") {
    std::vector<double> dims{500, 2000, 8000}, gaps;
    for (double d : dims) gaps.push_back(compare(theory_point(static_cast<std::size_t>(d)), four_units(), 8).sup_relative_gap);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        const double x = std::log(dims[i]), y = std::log(gaps[i]);
        sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    const double n = static_cast<double>(dims.size());
    const double exponent = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    INFO("sup relative gap (8 replicates): d = 500 " << gaps[0] << ", d = 2000 " << gaps[1] << ", d = 8000 " << gaps[2]
         << "; fitted exponent " << exponent << " (replicate noise alone would give -1/2)");
    CHECK(gaps[2] < gaps[0]);
    CHECK(exponent < 0.0);
}
