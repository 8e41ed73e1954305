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

#include <algorithm>
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

// Continuous laws at d = 8000: a gaussian target and the power-law spectrum.
//
// The allowance at snapshot j, for the mean of n SGD replicates against the PDE R_j:
//   |mean_j - R_j| <= t_{n-1, 1 - delta/(2m)} s_j / sqrt(n)  +  E_j  +  B_j.
// 1. Sampling: the replicates are i.i.d. given the point (independent streams and targets), so
//    (mean_j - E mean_j) / (s_j / sqrt n) is Student t with n - 1 dof (to the extent the risk is
//    normal; with n = 24 and a skew of the order seen, the t quantile is conservative enough at the
//    far tail asked). Bonferroni over the m snapshots compared (t > 0) at the suite's family-wise
//    delta = kFamilyFalseAlarm = 1e-4 gives t_{n-1, 1 - delta/(2m)} (statistics.hpp).
// 2. E_j, the PDE's own error: the PDE is solved at (480 cells, N nodes) and at (240 cells, N/2
//    nodes); both parts converge (grid: second order; quadrature: faster), so |R_hi - R_lo| bounds
//    the finer solve's error, and R_hi is what is compared.
// 3. B_j, the finite-d bias of the mean: THEORY.md says the mean's bias is O(1/d) (the fluctuations,
//    O(d^-1/2), average out). It is measured at d = 1000 on the same point with as many replicates
//    (upper confidence bound, same t quantile) and scaled by 1000/8000. The power law adds a
//    deterministic O(d^(a-1)) term that does not scale like 1/d: the finite-d spectrum
//    lambda_i ~ ((i - 1/2)/d)^(-a) rescaled to mean 1 is not the limit law (its normaliser differs by
//    zeta(a, 1/2) d^(a-1) / (1/(1-a)), 0.34% at d = 8000, a = 0.5, and its top eigenvalue is finite);
//    that term is computed, as the PDE of the finite-d spectrum's own law (equal-count bins of the
//    d eigenvalues) minus the PDE of the limit law, at 8000 and, to measure the remaining 1/d part,
//    at 1000 as well.
// When the error controller lands: solve the PDE with solve_pde_to_tolerance (auto resolutions) and
// take E_j from its accuracy.error_estimate (times max(|E|, floor E0)) instead of the explicit pair.
namespace {

using dln::pde::CoordinateClass;

std::vector<double> pde_risk(const dln::pde::PdeTrajectory& t) {
    std::vector<double> r;
    for (const auto& o : t.snapshots) r.push_back(o[dln::model::risk]);
    return r;
}

// The classes of the finite-d spectrum's law: the d eigenvalues sorted into `bins` equal-count bins,
// each at its mean, times the target classes of the limit.
std::vector<CoordinateClass> finite_d_classes(const dln::sim::PointSpec& point, std::size_t bins) {
    auto lambda = dln::model::spectrum(point.data, point.dim);
    std::sort(lambda.begin(), lambda.end());
    REQUIRE(lambda.size() % bins == 0);
    const std::size_t per = lambda.size() / bins;
    auto iso = point.data;
    iso.spectrum = dln::model::Spectrum::isotropic;
    const auto targets = dln::pde::make_classes(iso, point.parametrization, point.alpha, {});
    std::vector<CoordinateClass> out;
    for (std::size_t b = 0; b < bins; ++b) {
        double mean = 0.0;
        for (std::size_t i = b * per; i < (b + 1) * per; ++i) mean += lambda[i];
        mean /= static_cast<double>(per);
        for (auto c : targets) {
            c.lambda = mean;
            c.weight /= static_cast<double>(bins);
            out.push_back(c);
        }
    }
    return out;
}

struct SgdMeans {
    std::vector<double> mean, error;  // per snapshot; error: standard error of the mean
};

SgdMeans sgd_means(const dln::sim::PointSpec& point, const dln::sim::RunSpec& run, std::uint32_t replicates) {
    std::vector<std::vector<double>> risk(run.snapshots);
    for (std::uint32_t rep = 0; rep < replicates; ++rep) {
        const auto traj = dln::sim::simulate_sgd(point, run, 7, rep);
        REQUIRE_FALSE(traj.diverged);
        for (std::size_t j = 0; j < run.snapshots; ++j) risk[j].push_back(traj.snapshots[j][dln::model::risk]);
    }
    SgdMeans out;
    for (const auto& r : risk) {
        const auto m = dln::testing::moments(r);
        out.mean.push_back(m.mean);
        out.error.push_back(m.standard_error());
    }
    return out;
}

dln::sim::PointSpec continuous_point(std::size_t dim) {
    auto p = theory_point(dim);  // u2v2, lr 0.5, alpha 0.1, s = 0.1, b = 1, sigma = 0
    return p;
}

// spec_hi/spec_lo: the two PDE resolutions; finite_bins > 0: the power law's finite-d spectrum term.
void check_continuous_law(dln::sim::PointSpec point, const dln::pde::PdeSpec& spec_hi, const dln::pde::PdeSpec& spec_lo,
                          std::uint32_t replicates, std::size_t finite_bins) {
    const auto run = four_units();
    const auto times = dln::sim::snapshot_times(run);
    point.dim = 8000;
    const auto r_hi = pde_risk(dln::pde::solve_pde(point, run, spec_hi));
    const auto r_lo = pde_risk(dln::pde::solve_pde(point, run, spec_lo));
    auto small = point;
    small.dim = 1000;
    std::vector<double> spectrum_8000(times.size(), 0.0), reference_1000 = r_hi;
    if (finite_bins > 0) {
        for (std::size_t dim : {8000, 1000}) {
            auto at = point;
            at.dim = dim;
            dln::pde::FokkerPlanckSolver solver(at.parametrization, at.lr, at.data.noise, finite_d_classes(at, finite_bins),
                                                spec_hi);
            const auto r = pde_risk(solver.run(run));
            if (dim == 8000) for (std::size_t j = 0; j < r.size(); ++j) spectrum_8000[j] = std::abs(r[j] - r_hi[j]);
            else reference_1000 = r;
        }
    }
    const auto big = sgd_means(point, run, replicates);
    const auto low = sgd_means(small, run, replicates);
    const double t = dln::testing::student_bound(replicates, times.size() - 1);
    for (std::size_t j = 1; j < times.size(); ++j) {
        const double sampling = t * big.error[j];
        const double pde_error = std::abs(r_hi[j] - r_lo[j]);
        const double gap_1000 = std::abs(low.mean[j] - reference_1000[j]) + t * low.error[j];
        const double bias = spectrum_8000[j] + gap_1000 * 1000.0 / 8000.0;
        INFO("t = " << times[j] << ": SGD(8000) " << big.mean[j] << " +- " << big.error[j] << ", PDE " << r_hi[j]
             << ", gap " << big.mean[j] - r_hi[j] << " (" << 100.0 * (big.mean[j] / r_hi[j] - 1.0)
             << "%); allowance: sampling " << sampling << " + PDE " << pde_error << " + bias " << bias
             << " (spectrum " << spectrum_8000[j] << ", 1/d from d = 1000: gap " << low.mean[j] - reference_1000[j] << " +- "
             << low.error[j] << ")");
        CHECK(std::abs(big.mean[j] - r_hi[j]) <= sampling + pde_error + bias);
    }
}

}  // namespace

TEST_CASE("SGD at d = 8000 (24 replicates) follows the PDE: gaussian target", "[validation]") {
    auto p = continuous_point(8000);
    p.data.target = dln::model::TargetLaw::gaussian;
    dln::pde::PdeSpec hi, lo;
    hi.cells = 480;
    hi.quadrature.target_nodes = 64;
    lo.cells = 240;
    lo.quadrature.target_nodes = 32;
    check_continuous_law(p, hi, lo, 24, 0);
}

TEST_CASE("SGD at d = 8000 (24 replicates) follows the PDE: power-law spectrum a = 0.5", "[validation]") {
    auto p = continuous_point(8000);
    p.data.spectrum = dln::model::Spectrum::powerlaw;
    p.data.exponent = 0.5;
    dln::pde::PdeSpec hi, lo;
    hi.cells = 480;
    hi.quadrature.spectrum_nodes = 40;
    lo.cells = 240;
    lo.quadrature.spectrum_nodes = 20;
    check_continuous_law(p, hi, lo, 24, 40);
}
