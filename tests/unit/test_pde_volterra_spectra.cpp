// PDE-linear against the Volterra oracle (test_pde_volterra.cpp) for the Marchenko-Pastur
// spectrum (Spectrum::marchenko_pastur, DataSpec::ratio) and a file spectrum (Spectrum::file,
// DataSpec::eigenvalues). The oracle's quantile function of Marchenko-Pastur is computed here
// from the density alone (it shares no code with lib/dln/pde or model::mp_quantile_angle).
//
// Resolutions: the error controller's own (auto), at pde.rtol = 3e-5 rather than the default
// 1e-3. The check is 1e-4 relative in R at every snapshot; the controller's tests
// (test_pde_accuracy.cpp) hold it to a true error within 3 times its estimate, and its estimate
// to at most pde.rtol, so rtol = 1e-4 / 3 is the loosest tolerance that makes the check follow
// from the controller's promise (the default promises 1e-3, which is not 1e-4). It chose 120 cells
// and 32 nodes at every case here (0.1..0.7 s per solve).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "dln/pde/error_control.hpp"

namespace dln::testing::volterra {  // defined in test_pde_volterra.cpp
void quantile_law(const std::function<double(double)>& quantile, std::size_t nodes, double power,
                  std::vector<double>& lambda, std::vector<double>& weight);
std::vector<double> risk(const std::vector<double>& lambda, const std::vector<double>& weight, double lr, double noise,
                         double y0, const std::vector<double>& times, double step);
}  // namespace dln::testing::volterra

namespace volterra = dln::testing::volterra;
using dln::model::Parametrization;

namespace {

// The quantile function of f(lambda) = sqrt((l+ - lambda)(lambda - l-)) / (2 pi r lambda) on [l-, l+].
// With lambda = l- + c (1 - cos theta), c = (l+ - l-)/2 = 2 sqrt r, theta in [0, pi], the law's density
// in theta is g(theta) = c^2 sin^2 theta / (2 pi r lambda(theta)), smooth (also at r = 1, where l- = 0
// and sin^2 / (1 - cos) = 1 + cos). Its CDF G is tabulated by 5-point Gauss-Legendre per interval of a
// fine theta grid, and G(theta) = u is solved by Newton from the bracketing table entry.
class MarchenkoPasturQuantile {
public:
    explicit MarchenkoPasturQuantile(double r, std::size_t intervals = 4096)
        : r_(r), lo_((1 - std::sqrt(r)) * (1 - std::sqrt(r))), c_(2 * std::sqrt(r)), h_(M_PI / intervals),
          cdf_(intervals + 1, 0.0) {
        static const double x[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640};
        static const double w[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                                    0.2369268850561891};
        for (std::size_t i = 0; i < intervals; ++i) {
            const double mid = (static_cast<double>(i) + 0.5) * h_;
            double sum = 0.0;
            for (int k = 0; k < 5; ++k) sum += w[k] * density(mid + 0.5 * h_ * x[k]);
            cdf_[i + 1] = cdf_[i] + 0.5 * h_ * sum;
        }
        total_ = cdf_.back();  // 1 up to the rule's error (checked by the test)
    }
    double total() const { return total_; }
    double lambda(double theta) const { return lo_ + c_ * 2.0 * std::sin(0.5 * theta) * std::sin(0.5 * theta); }
    double density(double theta) const {
        // sin^2 theta / lambda, written without the 0/0 at theta = 0 when l- = 0.
        const double s = std::sin(theta), one_minus_cos = 2.0 * std::sin(0.5 * theta) * std::sin(0.5 * theta);
        const double ratio = lo_ > 0 ? s * s / (lo_ + c_ * one_minus_cos) : (1.0 + std::cos(theta)) / c_;
        return c_ * c_ * ratio / (2.0 * M_PI * r_);
    }
    double operator()(double u) const {
        const double target = u * total_;
        const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), target);
        const std::size_t i = std::min<std::size_t>(std::max<std::ptrdiff_t>(it - cdf_.begin() - 1, 0), cdf_.size() - 2);
        // Newton on G(theta) - target from the interval's midpoint, G by Gauss-Legendre from its left end.
        double theta = (static_cast<double>(i) + 0.5) * h_;
        const double left = static_cast<double>(i) * h_;
        for (int iter = 0; iter < 30; ++iter) {
            const double g = cdf_[i] + integral(left, theta) - target;
            const double step = g / std::max(density(theta), 1e-300);
            theta = std::clamp(theta - step, left - h_, left + 2 * h_);
            if (std::abs(step) < 1e-15) break;
        }
        return lambda(theta);
    }

private:
    double integral(double a, double b) const {
        static const double x[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640};
        static const double w[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                                    0.2369268850561891};
        double sum = 0.0;
        for (int k = 0; k < 5; ++k) sum += w[k] * density(0.5 * (a + b) + 0.5 * (b - a) * x[k]);
        return 0.5 * (b - a) * sum;
    }
    double r_, lo_, c_, h_, total_ = 1.0;
    std::vector<double> cdf_;
};

dln::sim::RunSpec four_units() {
    dln::sim::RunSpec run;
    run.time = 4.0;
    run.snapshots = 9;
    return run;
}

void check_against(const dln::sim::PointSpec& p, const std::vector<double>& lambda, const std::vector<double>& weight) {
    const auto run = four_units();
    const auto times = dln::sim::snapshot_times(run);
    // y(0) = s b^2 = 0.1 (s = 0.1, constant b = 1, w0 = 0).
    const auto oracle = volterra::risk(lambda, weight, p.lr, p.data.noise, 0.1, times, 1e-3);
    dln::pde::AccuracySpec spec;  // auto resolutions
    spec.rtol = 3e-5;             // see the top of the file
    const auto traj = dln::pde::solve_pde_to_tolerance(p, run, spec);
    INFO("lr = " << p.lr << ", sigma = " << p.data.noise << ": cells " << traj.accuracy.cells << ", classes "
         << traj.accuracy.classes << ", estimate " << traj.accuracy.error_estimate);
    CHECK(traj.accuracy.met_tolerance);
    REQUIRE_FALSE(traj.diverged);
    for (std::size_t j = 0; j < times.size(); ++j) {
        const double r = traj.snapshots[j][dln::model::risk];
        INFO("lr = " << p.lr << ", sigma = " << p.data.noise << ", t = " << times[j] << ": PDE " << r << ", oracle "
             << oracle[j] << ", relative " << r / oracle[j] - 1.0);
        CHECK(std::abs(r / oracle[j] - 1.0) <= 1e-4);
    }
}

}  // namespace

TEST_CASE("the Marchenko-Pastur quantile: mass 1, mean 1, variance r", "[pde][volterra]") {
    for (double r : {0.5, 1.0}) {
        const MarchenkoPasturQuantile quantile(r);
        CHECK(quantile.total() == Approx(1.0).epsilon(1e-12));
        std::vector<double> lambda, weight;
        volterra::quantile_law(std::cref(quantile), 20000, 1.0, lambda, weight);
        double mean = 0.0, second = 0.0;
        for (std::size_t j = 0; j < lambda.size(); ++j) {
            mean += weight[j] * lambda[j];
            second += weight[j] * lambda[j] * lambda[j];
        }
        // The quantile behaves like u^(2/3) at a soft edge: the midpoint rule's error is O(n^-5/3), 1e-7 here.
        CHECK(mean == Approx(1.0).epsilon(1e-6));
        CHECK(second - mean * mean == Approx(r).epsilon(1e-5));
    }
}

TEST_CASE("PDE-linear on Marchenko-Pastur (r = 0.5, 1) matches the Volterra oracle to 1e-4", "[pde][volterra]") {
    for (double r : {0.5, 1.0}) {
        const MarchenkoPasturQuantile quantile(r);
        std::vector<double> lambda, weight;
        volterra::quantile_law(std::cref(quantile), 20000, 1.0, lambda, weight);
        for (double lr : {0.5, 1.5}) {
            for (double noise : {0.0, 0.2}) {
                dln::sim::PointSpec p;
                p.parametrization = Parametrization::linear;
                p.lr = lr;
                p.data.spectrum = dln::model::Spectrum::marchenko_pastur;
                p.data.ratio = r;
                p.data.noise = noise;
                INFO("r = " << r);
                check_against(p, lambda, weight);
            }
        }
    }
}

TEST_CASE("PDE-linear on a file spectrum matches the Volterra oracle on its empirical law to 1e-4", "[pde][volterra]") {
    // Six eigenvalues of mean exactly 1 (so no rescaling convention can matter), sorted.
    const std::vector<double> eigenvalues{0.25, 0.5, 0.75, 1.0, 1.25, 2.25};
    const std::vector<double> weight(eigenvalues.size(), 1.0 / static_cast<double>(eigenvalues.size()));
    for (double lr : {0.5, 1.5}) {
        for (double noise : {0.0, 0.2}) {
            dln::sim::PointSpec p;
            p.parametrization = Parametrization::linear;
            p.lr = lr;
            p.data.spectrum = dln::model::Spectrum::file;
            p.data.eigenvalues = eigenvalues;
            p.data.noise = noise;
            // A discrete law: its classes are exact, only the grid and time errors remain.
            check_against(p, eigenvalues, weight);
        }
    }
}
