// The sampler: the laws of x, of the label noise and of the target, with tolerances from the
// sample size (statistics.hpp), and the keying rules that make sweeps reproducible.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include "dln/rng/portable_math.hpp"
#include "dln/rng/sample_stream.hpp"
#include "dln/sim/problem.hpp"
#include "dln/sim/sgd_simulator.hpp"
#include "statistics.hpp"

using dln::rng::SampleStream;
using namespace dln::testing;

namespace {

// n draws of the step Gaussians of one stream, step after step.
std::vector<double> draw(const SampleStream& stream, std::size_t dim, std::size_t steps) {
    std::vector<double> all, block(dim);
    for (std::size_t k = 0; k < steps; ++k) {
        stream.fill_gaussians(block, k);
        all.insert(all.end(), block.begin(), block.end());
    }
    return all;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    const auto ma = moments(a), mb = moments(b);
    double c = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) c += (a[i] - ma.mean) * (b[i] - mb.mean);
    return c / static_cast<double>(a.size() - 1) / std::sqrt(ma.variance * mb.variance);
}

}  // namespace

TEST_CASE("step Gaussians have mean 0, variance 1, normal quantiles and no correlations", "[rng]") {
    const std::size_t dim = 1000, steps = 400;  // N = 4e5 draws
    const auto z = draw(SampleStream(7, dim, 3), dim, steps);
    const double n = static_cast<double>(z.size());
    const double bound = normal_bound(9);  // nine comparisons below
    const auto m = moments(z);
    INFO("mean " << m.mean << ", variance " << m.variance << ", bound " << bound << " standard errors");
    CHECK(std::abs(m.mean) <= bound / std::sqrt(n));                   // sd of the mean: 1/sqrt(N)
    CHECK(std::abs(m.variance - 1.0) <= bound * std::sqrt(2.0 / n));   // sd of s^2: sqrt(2/N)
    double fourth = 0.0;
    for (double v : z) fourth += v * v * v * v;
    CHECK(std::abs(fourth / n - 3.0) <= bound * std::sqrt(96.0 / n));  // Var z^4 = 105 - 9
    for (double q : {-1.0, 0.0, 1.5}) {                                // CDF at three points
        const double p = 0.5 * std::erfc(-q / std::sqrt(2.0));
        const double frac = static_cast<double>(std::count_if(z.begin(), z.end(), [q](double v) { return v <= q; })) / n;
        CHECK(std::abs(frac - p) <= bound * std::sqrt(p * (1 - p) / n));
    }
    // Neighbours within a step (a Box-Muller pair shares its radius: z0^2 and z1^2 must still be
    // uncorrelated), and the same coordinate on consecutive steps.
    std::vector<double> a, b, a2, b2, now, next;
    for (std::size_t k = 0; k < steps; ++k)
        for (std::size_t i = 0; i + 1 < dim; i += 2) {
            a.push_back(z[k * dim + i]);
            b.push_back(z[k * dim + i + 1]);
            a2.push_back(a.back() * a.back());
            b2.push_back(b.back() * b.back());
        }
    for (std::size_t k = 0; k + 1 < steps; ++k)
        for (std::size_t i = 0; i < dim; ++i) {
            now.push_back(z[k * dim + i]);
            next.push_back(z[(k + 1) * dim + i]);
        }
    CHECK(std::abs(correlation(a, b)) <= bound / std::sqrt(static_cast<double>(a.size())));
    CHECK(std::abs(correlation(a2, b2)) <= bound / std::sqrt(static_cast<double>(a2.size())));
    CHECK(std::abs(correlation(now, next)) <= bound / std::sqrt(static_cast<double>(now.size())));
}

TEST_CASE("the label noise is N(0,1) and independent of x", "[rng]") {
    const std::size_t dim = 64, steps = 200000;
    const SampleStream stream(11, dim, 0);
    std::vector<double> xi(steps), z0(steps), block(dim);
    for (std::size_t k = 0; k < steps; ++k) {
        xi[k] = stream.label_noise(k);
        stream.fill_gaussians(block, k);
        z0[k] = block[0];
    }
    const double n = static_cast<double>(steps), bound = normal_bound(3);
    const auto m = moments(xi);
    CHECK(std::abs(m.mean) <= bound / std::sqrt(n));
    CHECK(std::abs(m.variance - 1.0) <= bound * std::sqrt(2.0 / n));
    CHECK(std::abs(correlation(xi, z0)) <= bound / std::sqrt(n));
}

TEST_CASE("x = sqrt(lambda/d) z has covariance K/d under the power-law spectrum", "[rng][sim]") {
    dln::model::DataSpec data;
    data.spectrum = dln::model::Spectrum::powerlaw;
    data.exponent = 0.6;
    const std::size_t dim = 500, steps = 400;  // 2e5 draws of d x_i^2 / lambda_i, mean 1, variance 2
    const dln::rng::SampleStream stream(3, dim, 1);
    dln::sim::SgdSimulator sim(dln::sim::make_problem(data, dim, stream), dln::model::Parametrization::u2v2,
                               1e-9, 0.1, stream);  // a tiny step: the state barely moves
    std::vector<double> scaled;
    for (std::size_t k = 0; k < steps; ++k) {
        sim.step();
        for (std::size_t i = 0; i < dim; ++i) {
            const double x = sim.last_sample()[i];
            scaled.push_back(static_cast<double>(dim) * x * x / sim.problem().lambda[i]);
        }
    }
    const auto m = moments(scaled);
    CHECK(std::abs(m.mean - 1.0) <= normal_bound(1) * std::sqrt(2.0 / static_cast<double>(scaled.size())));
}

TEST_CASE("targets: exact support size, and the value laws", "[rng][model]") {
    const std::size_t dim = 20000;
    dln::model::DataSpec data;
    data.sparsity = 0.25;
    data.scale = 1.5;
    const SampleStream stream(5, dim, 0);
    for (auto law : {dln::model::TargetLaw::constant, dln::model::TargetLaw::rademacher,
                     dln::model::TargetLaw::gaussian}) {
        data.target = law;
        const auto beta = dln::sim::make_problem(data, dim, stream).beta;
        std::vector<double> nonzero;
        for (double b : beta)
            if (b != 0.0) nonzero.push_back(b);
        const double m = static_cast<double>(nonzero.size());
        CHECK(nonzero.size() == 5000);  // round(s d); a Gaussian draw is never exactly 0
        const double bound = normal_bound(6);
        if (law == dln::model::TargetLaw::constant) {
            for (double b : nonzero) CHECK(b == 1.5);
        } else if (law == dln::model::TargetLaw::rademacher) {
            const double plus = static_cast<double>(std::count(nonzero.begin(), nonzero.end(), 1.5));
            CHECK(plus + static_cast<double>(std::count(nonzero.begin(), nonzero.end(), -1.5)) == m);
            CHECK(std::abs(plus / m - 0.5) <= bound * std::sqrt(0.25 / m));
        } else {
            const auto mo = moments(nonzero);
            CHECK(std::abs(mo.mean) <= bound * 1.5 / std::sqrt(m));
            CHECK(std::abs(mo.variance - 2.25) <= bound * 2.25 * std::sqrt(2.0 / m));
        }
    }
    // The support is uniform over coordinates: its two halves hold equal shares up to Binomial noise.
    data.target = dln::model::TargetLaw::constant;
    const auto beta = dln::sim::make_problem(data, dim, stream).beta;
    const double first_half = static_cast<double>(std::count_if(beta.begin(), beta.begin() + dim / 2, [](double b) { return b != 0.0; }));
    // Hypergeometric: variance 5000 * 1/2 * 1/2 * (20000-5000)/(20000-1)
    CHECK(std::abs(first_half - 2500.0) <= normal_bound(1) * std::sqrt(1250.0 * 15000.0 / 19999.0));
}

TEST_CASE("streams are keyed by (seed, dim, replicate, step) and nothing else", "[rng]") {
    const SampleStream a(1, 100, 0);
    std::vector<double> x(100), y(100);
    a.fill_gaussians(x, 17);
    SampleStream(1, 100, 0).fill_gaussians(y, 17);
    CHECK(x == y);  // a pure function of the key: same key, same numbers, any time, any rank
    for (const auto& other : {SampleStream(2, 100, 0), SampleStream(1, 101, 0), SampleStream(1, 100, 1)}) {
        other.fill_gaussians(y, 17);
        CHECK(x != y);
    }
    a.fill_gaussians(y, 18);
    CHECK(x != y);
    CHECK(a.label_noise(17) != a.label_noise(18));
    // Steps beyond 2^32 have their own counters (a run of T d steps can exceed 2^32).
    a.fill_gaussians(y, 17 + (std::uint64_t{1} << 32));
    CHECK(x != y);
}

TEST_CASE("every (lr, alpha) sees the same data: common random numbers", "[rng][sim]") {
    dln::model::DataSpec data;
    const std::size_t dim = 300;
    const dln::rng::SampleStream stream(9, dim, 2);
    dln::sim::SgdSimulator slow(dln::sim::make_problem(data, dim, stream), dln::model::Parametrization::u2v2, 0.1, 0.1, stream);
    dln::sim::SgdSimulator fast(dln::sim::make_problem(data, dim, stream), dln::model::Parametrization::u2v2, 3.0, 0.5, stream);
    CHECK(slow.problem().beta == fast.problem().beta);
    for (int k = 0; k < 5; ++k) {
        slow.step();
        fast.step();
        CHECK(std::equal(slow.last_sample().begin(), slow.last_sample().end(), fast.last_sample().begin()));
    }
}

// The vectorised generator against scalar references: Philox words against Random123 itself,
// the chunked Gaussians against the scalar Box-Muller of the same words, bit for bit (the
// layout of sample_stream.hpp), so the numbers cannot depend on the SIMD width of the build.
TEST_CASE("chunked Gaussians are the scalar float Box-Muller of Random123's Philox words, bit for bit", "[rng]") {
    const std::size_t dim = 1000;
    const SampleStream stream(12, dim, 5);
    const std::size_t counters = SampleStream::kChunk / 4;
    for (std::uint64_t step : {std::uint64_t{0}, std::uint64_t{77}, (std::uint64_t{1} << 40) + 3}) {
        for (std::uint16_t purpose : {SampleStream::kSamplePurpose, SampleStream::kBrownianPurpose}) {
            for (std::uint64_t chunk : {0u, 1u, 3u}) {
                std::vector<double> z(SampleStream::kChunk);
                stream.gaussian_chunk(purpose, step, chunk, z.data());
                for (std::size_t j = 0; j < counters; ++j) {
                    const auto w = stream.block(purpose, step, static_cast<std::uint32_t>(chunk * counters + j));
                    float z0, z1, z2, z3;
                    dln::rng::math::box_muller_float(w[0], w[1], z0, z1);
                    dln::rng::math::box_muller_float(w[2], w[3], z2, z3);
                    const double got[4] = {z[j], z[counters + j], z[2 * counters + j], z[3 * counters + j]};
                    const double want[4] = {z0, z1, z2, z3};  // float to double: exact
                    CHECK(std::memcmp(got, want, sizeof got) == 0);
                }
            }
        }
        // fill_gaussians is the chunks laid end to end, the last one cut at dim.
        std::vector<double> all(dim), chunk(SampleStream::kChunk);
        stream.fill_gaussians(all, step);
        for (std::size_t c = 0; c * SampleStream::kChunk < dim; ++c) {
            stream.gaussian_chunk(SampleStream::kSamplePurpose, step, c, chunk.data());
            for (std::size_t i = c * SampleStream::kChunk; i < std::min(dim, (c + 1) * SampleStream::kChunk); ++i)
                CHECK(all[i] == chunk[i - c * SampleStream::kChunk]);
        }
    }
}

// The largest errors of a Box-Muller pair of functions (double or float) against libm in double:
// the relative error of -2 log u and the absolute error of cos, sin, on a dense grid of the
// words plus the given extreme ones.
namespace {

template <class Real, class Neg2Log, class SinCos>
std::pair<double, double> box_muller_errors(Neg2Log neg2log, SinCos sincos,
                                            std::initializer_list<std::uint32_t> extremes) {
    double log_err = 0.0, trig_err = 0.0;
    auto log_error = [&](std::uint32_t a) {
        const double want = -2.0 * std::log((static_cast<double>(a) + 0.5) / 4294967296.0);
        log_err = std::max(log_err, std::abs(static_cast<double>(neg2log(a)) - want) / want);
    };
    for (std::uint64_t k = 0; k < (std::uint64_t{1} << 32); k += 7919 * 13) {
        const auto a = static_cast<std::uint32_t>(k);
        log_error(a);
        Real c, s;
        sincos(a, c, s);
        const double angle = 6.283185307179586 * (static_cast<double>(a) + 0.5) / 4294967296.0;
        trig_err = std::max({trig_err, std::abs(c - std::cos(angle)), std::abs(s - std::sin(angle))});
    }
    for (std::uint32_t a : extremes) log_error(a);
    return {log_err, trig_err};
}

}  // namespace

// The accuracy stated in portable_math.hpp, against libm on a dense grid of the inputs.
TEST_CASE("portable log, sin, cos, exp and sinh are accurate to the stated bounds", "[rng]") {
    namespace m = dln::rng::math;
    // The extreme words: u = 2^-33 and u = 1 - 2^-33 (the radius is smallest there, -2 log u ~ 2^-32).
    const auto [log_err, trig_err] =
        box_muller_errors<double>(m::neg2log_uniform, m::sincos_turn, {0u, 1u, 0xFFFFFFFEu, 0xFFFFFFFFu});
    INFO("relative error of -2 log u " << log_err << ", absolute error of cos, sin " << trig_err);
    CHECK(log_err < 2e-14);
    // cos, sin: the reference rounds the angle 2 pi u itself, by up to half an ulp of 2 pi (4.4e-16).
    CHECK(trig_err < 1e-15);

    // The float versions (the per-coordinate Gaussians), against the same double references.
    // Float's unit roundoff is 6e-8; the bounds allow five of them for -2 log u (the rounding
    // of u or u - 1, of the polynomial's few steps, of k ln2 + log m) and three for cos, sin.
    // Among the extreme words, those whose u rounds to 1 in float (a >= 2^32 - 128): there the
    // radius comes from u - 1, not from the rounded u, and keeps its relative precision.
    const auto [log_err_f, trig_err_f] = box_muller_errors<float>(
        m::neg2log_uniform_float, m::sincos_turn_float,
        {0u, 1u, 2u, 0x7FFFFFFFu, 0x80000000u, 0xB504F333u, 0xFFFFFF7Fu, 0xFFFFFF80u, 0xFFFFFFFEu, 0xFFFFFFFFu});
    INFO("float: relative error of -2 log u " << log_err_f << ", absolute error of cos, sin " << trig_err_f);
    CHECK(log_err_f < 3e-7);
    CHECK(trig_err_f < 2e-7);
    double exp_err = 0.0, sinh_err = 0.0;
    for (double x = -708.0; x <= 709.0; x += 0.0137) exp_err = std::max(exp_err, std::abs(m::exp_portable(x) / std::exp(x) - 1.0));
    for (double x = -700.0; x <= 700.0; x += 0.00731) {
        if (x == 0.0) continue;
        sinh_err = std::max(sinh_err, std::abs(m::sinh_portable(x) / std::sinh(x) - 1.0));
    }
    for (double x = -1e-3; x <= 1e-3; x += 1.3e-6) {
        if (x == 0.0) continue;
        sinh_err = std::max(sinh_err, std::abs(m::sinh_portable(x) / std::sinh(x) - 1.0));
    }
    INFO("relative error of exp " << exp_err << ", of sinh " << sinh_err);
    CHECK(exp_err < 3e-16 * 2);
    CHECK(sinh_err < 1e-15);
    CHECK(m::exp_portable(710.0) == std::numeric_limits<double>::infinity());
    CHECK(m::exp_portable(-800.0) == 0.0);
    CHECK(std::isnan(m::exp_portable(std::numeric_limits<double>::quiet_NaN())));
    CHECK(std::isnan(m::sinh_portable(std::numeric_limits<double>::quiet_NaN())));
    CHECK(m::sinh_portable(800.0) == std::numeric_limits<double>::infinity());
    CHECK(m::sinh_portable(-800.0) == -std::numeric_limits<double>::infinity());
    CHECK(m::sinh_portable(0.0) == 0.0);
}

TEST_CASE("portable expm1, and sinh from a given exp (the PDE's kernels), are accurate to the stated bounds", "[rng]") {
    namespace m = dln::rng::math;
    // expm1: the polynomial branch |x| <= ln 2 / 2 (tiny x included, where e^x - 1 would cancel
    // completely) and the e^x - 1 branch beyond it, whose cancellation is at most a factor 2.4
    // there: 2.4 times exp_portable's 3e-16 plus the subtraction's half ulp, under 1e-15.
    double expm1_err = 0.0;
    auto expm1_check = [&](double x) {
        if (x != 0.0) expm1_err = std::max(expm1_err, std::abs(m::expm1_portable(x) / std::expm1(x) - 1.0));
    };
    for (double x = -40.0; x <= 709.0; x += 0.00937) expm1_check(x);
    for (double x = -1e-3; x <= 1e-3; x += 1.3e-6) expm1_check(x);
    for (double x : {0.34657359027997264, 0.3465735902799727, -0.34657359027997264, -0.3465735902799727, 1e-300, -1e-300})
        expm1_check(x);
    INFO("relative error of expm1 " << expm1_err);
    CHECK(expm1_err < 1e-15);
    CHECK(m::expm1_portable(0.0) == 0.0);
    CHECK(m::expm1_portable(800.0) == std::numeric_limits<double>::infinity());
    CHECK(m::expm1_portable(-800.0) == -1.0);
    CHECK(std::isnan(m::expm1_portable(std::numeric_limits<double>::quiet_NaN())));

    // sinh_with_exp(x, exp_portable(x)): sinh_portable's polynomial for |x| <= 1, (e - 1/e)/2
    // beyond, where e's relative error (3e-16) and two roundings stay under 1e-15 (to |x| = 708,
    // below which e^x is subnormal and loses its precision).
    double sinh_err = 0.0;
    for (double x = -708.0; x <= 708.0; x += 0.00731) {
        if (x != 0.0) sinh_err = std::max(sinh_err, std::abs(m::sinh_with_exp(x, m::exp_portable(x)) / std::sinh(x) - 1.0));
    }
    INFO("relative error of sinh from exp " << sinh_err);
    CHECK(sinh_err < 1e-15);
}
