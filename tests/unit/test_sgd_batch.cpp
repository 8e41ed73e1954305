// simulate_sgd_batch: B grid points of one replicate in lockstep are, member by member, bitwise
// the runs simulate_sgd gives alone, including the runs that diverge (they stop, the others go on).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "dln/sim/sgd_simulator.hpp"

using dln::model::Parametrization;
using dln::sim::PointSpec;

namespace {

bool same_bits(const dln::sim::Trajectory& a, const dln::sim::Trajectory& b) {
    if (a.snapshots.size() != b.snapshots.size() || a.diverged != b.diverged) return false;
    if (std::memcmp(&a.diverged_at, &b.diverged_at, sizeof(double)) != 0) return false;
    for (std::size_t j = 0; j < a.snapshots.size(); ++j) {
        if (std::memcmp(a.snapshots[j].data(), b.snapshots[j].data(), sizeof(a.snapshots[j])) != 0) return false;
    }
    return true;
}

std::vector<PointSpec> grid(Parametrization param, const dln::model::DataSpec& data, std::size_t dim,
                            const std::vector<double>& lrs, const std::vector<double>& alphas) {
    std::vector<PointSpec> points;
    for (double lr : lrs) {
        for (double alpha : alphas) {
            PointSpec p;
            p.parametrization = param;
            p.data = data;
            p.dim = dim;
            p.lr = lr;
            p.alpha = alpha;
            points.push_back(p);
        }
    }
    return points;
}

}  // namespace

TEST_CASE("a batch of SGD runs is bitwise the runs alone, for every parametrization and data", "[sim][batch]") {
    dln::model::DataSpec isotropic;
    dln::model::DataSpec powerlaw;
    powerlaw.spectrum = dln::model::Spectrum::powerlaw;
    powerlaw.exponent = 0.5;
    powerlaw.noise = 0.2;
    powerlaw.target = dln::model::TargetLaw::gaussian;
    dln::sim::RunSpec run;
    run.time = 1.5;
    run.snapshots = 7;
    const std::size_t dim = 300;  // not a multiple of the 256-coordinate chunks
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        for (const auto& data : {isotropic, powerlaw}) {
            const auto points = grid(param, data, dim, {0.1, 0.5, 1.2}, {0.05, 0.3});
            const auto batch = dln::sim::simulate_sgd_batch(points, run, 17, 2);
            REQUIRE(batch.size() == points.size());
            for (std::size_t m = 0; m < points.size(); ++m) {
                INFO(dln::model::to_string(param) << ", lr " << points[m].lr << ", alpha " << points[m].alpha);
                CHECK(same_bits(batch[m], dln::sim::simulate_sgd(points[m], run, 17, 2)));
                CHECK_FALSE(batch[m].diverged);
            }
        }
    }
}

// THEORY.md §5: u2v2 at lr = 8 diverges before t = 1 (d = 400, every seed); lr = 0.5 converges.
TEST_CASE("a diverging member stops at its own step while the others go on", "[sim][batch]") {
    dln::sim::RunSpec run;
    run.time = 2.0;
    run.snapshots = 9;
    const auto points = grid(Parametrization::u2v2, {}, 400, {0.5, 8.0, 1.0, 12.0}, {0.1});
    const auto batch = dln::sim::simulate_sgd_batch(points, run, 3, 0);
    for (std::size_t m = 0; m < points.size(); ++m) {
        const auto alone = dln::sim::simulate_sgd(points[m], run, 3, 0);
        INFO("lr " << points[m].lr << ": diverged " << batch[m].diverged << " at " << batch[m].diverged_at);
        CHECK(same_bits(batch[m], alone));
        CHECK(batch[m].diverged == (points[m].lr > 4.0));
    }
    CHECK(batch[1].diverged_at < 1.0);
    CHECK(std::isfinite(batch[0].snapshots.back()[dln::model::risk]));
    CHECK(std::isnan(batch[1].snapshots.back()[dln::model::risk]));
    // The same with every member diverging: the batch ends when the last one stops.
    const auto all = grid(Parametrization::u2v2, {}, 400, {8.0, 12.0}, {0.1});
    const auto batch_all = dln::sim::simulate_sgd_batch(all, run, 3, 0);
    for (std::size_t m = 0; m < all.size(); ++m) CHECK(same_bits(batch_all[m], dln::sim::simulate_sgd(all[m], run, 3, 0)));
}

TEST_CASE("a batch needs one dim, parametrization and data", "[sim][batch]") {
    dln::sim::RunSpec run;
    run.time = 0.1;
    auto points = grid(Parametrization::u2v2, {}, 100, {0.1, 0.2}, {0.1});
    CHECK(dln::sim::simulate_sgd_batch({}, run, 1, 0).empty());
    points[1].dim = 101;
    CHECK_THROWS_AS(dln::sim::simulate_sgd_batch(points, run, 1, 0), std::invalid_argument);
    points[1].dim = 100;
    points[1].parametrization = Parametrization::uv;
    CHECK_THROWS_AS(dln::sim::simulate_sgd_batch(points, run, 1, 0), std::invalid_argument);
    points[1].parametrization = Parametrization::u2v2;
    points[1].data.noise = 0.1;
    CHECK_THROWS_AS(dln::sim::simulate_sgd_batch(points, run, 1, 0), std::invalid_argument);
}

TEST_CASE("a batch larger than the cache budget runs in equal groups, with the same results", "[sim][batch]") {
    const std::size_t dim = 300;                     // padded to 512 coordinates
    const std::size_t member = 2 * 512 * sizeof(double);  // u and v of one u2v2 member
    CHECK(dln::sim::sgd_batch_group(6, dim, Parametrization::u2v2, 100 * member) == 6);
    CHECK(dln::sim::sgd_batch_group(6, dim, Parametrization::u2v2, 3 * member) == 3);
    CHECK(dln::sim::sgd_batch_group(7, dim, Parametrization::u2v2, 3 * member) == 3);   // 3 + 3 + 1
    CHECK(dln::sim::sgd_batch_group(8, dim, Parametrization::u2v2, 3 * member) == 3);   // 3 + 3 + 2
    CHECK(dln::sim::sgd_batch_group(6, dim, Parametrization::u2v2, member / 2) == 6);  // none fits: one group
    CHECK(dln::sim::sgd_batch_group(6, dim, Parametrization::linear, member) == 2);    // linear has w only
    dln::sim::RunSpec run;
    run.time = 1.0;
    run.snapshots = 5;
    const auto points = grid(Parametrization::u2v2, {}, dim, {0.2, 0.7, 9.0}, {0.1, 0.4});
    const auto whole = dln::sim::simulate_sgd_batch(points, run, 5, 1);
    const auto grouped = dln::sim::simulate_sgd_batch(points, run, 5, 1, 4 * member);  // groups of 3
    for (std::size_t m = 0; m < points.size(); ++m) {
        CHECK(same_bits(whole[m], grouped[m]));
        CHECK(same_bits(whole[m], dln::sim::simulate_sgd(points[m], run, 5, 1)));
    }
}

// The engine's arithmetic is pinned: these digests of every step's risk and residual, the last
// sample, the final state and the recorded trajectories were taken from the kernel before the
// memory-traffic rewrite (issue 14 item 4, main at 6473870). Any change to the floating-point
// operations or their order changes a digest; a change of layout or of which arrays are loaded
// must not. DLN_PRINT_GOLDEN=1 prints the digests instead of checking them.
namespace {

struct Digest {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
    void add(const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
    }
    void add(double x) { add(&x, sizeof x); }
    void add(std::span<const double> xs) { add(xs.data(), xs.size() * sizeof(double)); }
};

struct GoldenCase {
    const char* name;
    Parametrization param;
    dln::model::Spectrum spectrum;
    dln::model::TargetLaw target;
    double sparsity;
    double noise;
    std::size_t dim;
    std::uint64_t expected;
};

// The data of a test case (any struct with spectrum, target, sparsity and noise), the power law
// and Marchenko-Pastur at fixed shapes.
template <class Case>
dln::model::DataSpec case_data(const Case& c) {
    dln::model::DataSpec data;
    data.spectrum = c.spectrum;
    data.exponent = 0.5;
    data.ratio = 0.3;
    data.target = c.target;
    data.sparsity = c.sparsity;
    data.noise = c.noise;
    return data;
}

std::uint64_t golden_digest(const GoldenCase& c) {
    using dln::sim::SgdEngine;
    const auto data = case_data(c);
    const dln::rng::SampleStream stream(11, c.dim, 3);
    Digest digest;
    // A lockstep engine of three members, one of them diverging (stepped on past it: the bits of
    // inf and NaN are pinned too), stepped raw.
    const std::vector<SgdEngine::MemberSpec> members = {{0.4, 0.1}, {1.1, 0.3}, {9.0, 0.2}};
    SgdEngine engine(dln::sim::make_problem(data, c.dim, stream), c.param, members, stream);
    // Large d (the sparse beta* of d >= 2^15): a few hundred steps, no recorded trajectories.
    const bool large = c.dim >= (std::size_t{1} << 15);
    const std::size_t steps = large ? 300 : 2 * c.dim + 37;
    for (std::size_t m = 0; m < members.size(); ++m) digest.add(engine.risk(m));
    for (std::size_t k = 0; k < steps; ++k) {
        engine.step();
        for (std::size_t m = 0; m < members.size(); ++m) {
            digest.add(engine.risk(m));
            digest.add(engine.residual(m));
        }
        if (k % 97 == 0) digest.add(engine.last_sample());
    }
    for (std::size_t m = 0; m < members.size(); ++m) {
        digest.add(engine.u(m));
        digest.add(engine.v(m));
        const auto obs = engine.observe(m, 1e-2);
        digest.add(std::span<const double>(obs.data(), obs.size()));
    }
    if (large) return digest.h;
    // The recorded trajectories, alone and in a batch (in groups of two).
    dln::sim::RunSpec run;
    run.time = 1.5;
    run.snapshots = 7;
    const auto points = grid(c.param, data, c.dim, {0.3, 0.8, 7.0}, {0.05, 0.2});
    const auto batch = dln::sim::simulate_sgd_batch(points, run, 11, 3,
                                                    2 * sizeof(double) * 2 * ((c.dim + 255) / 256 * 256));
    for (std::size_t m = 0; m < points.size(); ++m) {
        const auto alone = dln::sim::simulate_sgd(points[m], run, 11, 3);
        CHECK(same_bits(batch[m], alone));
        digest.add(alone.diverged ? 1.0 : 0.0);
        digest.add(alone.diverged_at);
        for (const auto& s : alone.snapshots) digest.add(std::span<const double>(s.data(), s.size()));
    }
    return digest.h;
}

}  // namespace

TEST_CASE("SGD trajectories are the bits of the kernel before the memory-traffic rewrite", "[sim][batch][golden]") {
    using dln::model::Spectrum;
    using dln::model::TargetLaw;
    constexpr auto u2v2 = Parametrization::u2v2;
    constexpr auto uv = Parametrization::uv;
    constexpr auto linear = Parametrization::linear;
    const GoldenCase cases[] = {
        {"u2v2 isotropic constant s=0.1", u2v2, Spectrum::isotropic, TargetLaw::constant, 0.1, 0.0, 300, 0x27d269eeb379f6dcULL},
        {"u2v2 isotropic constant s=0.1 d=1000", u2v2, Spectrum::isotropic, TargetLaw::constant, 0.1, 0.0, 1000, 0xd22c39e31305f4d6ULL},
        {"u2v2 isotropic gaussian s=1 noise", u2v2, Spectrum::isotropic, TargetLaw::gaussian, 1.0, 0.5, 300, 0x726fe5e1df5ec2d5ULL},
        {"u2v2 powerlaw gaussian s=0.1 noise", u2v2, Spectrum::powerlaw, TargetLaw::gaussian, 0.1, 0.2, 300, 0x8988a64e64b9f2f6ULL},
        {"u2v2 mp rademacher s=0.5", u2v2, Spectrum::marchenko_pastur, TargetLaw::rademacher, 0.5, 0.0, 513, 0x0b2d02c25b20e624ULL},
        {"u2v2 isotropic s=0", u2v2, Spectrum::isotropic, TargetLaw::constant, 0.0, 0.1, 256, 0xf1fdd4ed02549d7cULL},
        {"uv isotropic constant s=0.1", uv, Spectrum::isotropic, TargetLaw::constant, 0.1, 0.0, 300, 0xb6c224c3b4f99359ULL},
        {"uv powerlaw rademacher s=0.3 noise", uv, Spectrum::powerlaw, TargetLaw::rademacher, 0.3, 0.3, 700, 0xba3dd3d12b950f1dULL},
        {"uv isotropic gaussian s=1", uv, Spectrum::isotropic, TargetLaw::gaussian, 1.0, 0.0, 100, 0xc955b78e1b5d5af2ULL},
        {"linear isotropic constant s=0.1 noise", linear, Spectrum::isotropic, TargetLaw::constant, 0.1, 0.5, 300, 0x0fa76d79d1b9824dULL},
        {"linear powerlaw gaussian s=0.1", linear, Spectrum::powerlaw, TargetLaw::gaussian, 0.1, 0.0, 600, 0x9197fb2f857eb789ULL},
        {"u2v2 isotropic constant s=0.1 d=40000", u2v2, Spectrum::isotropic, TargetLaw::constant, 0.1, 0.0, 40000, 0x79a2081ad968d0fdULL},
        {"uv powerlaw gaussian s=0.2 noise d=33000", uv, Spectrum::powerlaw, TargetLaw::gaussian, 0.2, 0.3, 33000, 0x4abefde7be2ffa5dULL},
        {"linear isotropic rademacher s=0.1 d=32768", linear, Spectrum::isotropic, TargetLaw::rademacher, 0.1, 0.0, 32768, 0xbcfd696e175641a6ULL},
        {"linear mp constant s=1", linear, Spectrum::marchenko_pastur, TargetLaw::constant, 1.0, 0.0, 257, 0x7fb3ec1307d7807bULL},
    };
    const bool print = std::getenv("DLN_PRINT_GOLDEN") != nullptr;
    for (const auto& c : cases) {
        const std::uint64_t h = golden_digest(c);
        if (print) {
            std::printf("        {\"%s\", ..., 0x%016llxULL},\n", c.name, static_cast<unsigned long long>(h));
            continue;
        }
        INFO(c.name);
        CHECK(h == c.expected);
    }
}

// The engine keeps the sample in one of two layouts, chosen by d and the batch size (resident:
// x in doubles, in place; streamed: z in float, widened per chunk). The floating-point operations
// are the same, so every step's risk and residual, the samples and the final states must be the
// same bits whichever layout runs, at any d: here both are forced, at sizes on either side of
// the automatic choice and of the sparse beta* (d >= 2^15), for every parametrization, spectrum
// and target, alone and in a batch with a diverging member.
TEST_CASE("the streamed sample layout gives the resident layout's bits", "[sim][batch][layout]") {
    using dln::model::Spectrum;
    using dln::model::TargetLaw;
    using dln::sim::SgdEngine;
    struct Case {
        Spectrum spectrum;
        TargetLaw target;
        double sparsity;
        double noise;
        std::size_t dim;
    };
    const Case cases[] = {
        {Spectrum::isotropic, TargetLaw::constant, 0.1, 0.0, 300},
        {Spectrum::powerlaw, TargetLaw::gaussian, 0.2, 0.3, 1000},
        {Spectrum::marchenko_pastur, TargetLaw::rademacher, 1.0, 0.0, 513},
        {Spectrum::isotropic, TargetLaw::rademacher, 0.1, 0.1, 40000},
        {Spectrum::powerlaw, TargetLaw::constant, 0.1, 0.0, 33000},
        {Spectrum::isotropic, TargetLaw::gaussian, 1.0, 0.0, 32768},
    };
    const std::vector<std::vector<SgdEngine::MemberSpec>> batches = {{{0.5, 0.1}}, {{0.4, 0.1}, {1.1, 0.3}, {9.0, 0.2}}};
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        for (const auto& c : cases) {
            for (const auto& members : batches) {
                INFO("param " << static_cast<int>(param) << " spectrum " << static_cast<int>(c.spectrum) << " d "
                              << c.dim << " members " << members.size());
                const auto data = case_data(c);
                const dln::rng::SampleStream stream(5, c.dim, 2);
                const auto problem = dln::sim::make_problem(data, c.dim, stream);
                SgdEngine resident(problem, param, members, stream, SgdEngine::Layout::resident);
                SgdEngine streamed(problem, param, members, stream, SgdEngine::Layout::streamed);
                REQUIRE(resident.layout() == SgdEngine::Layout::resident);
                REQUIRE(streamed.layout() == SgdEngine::Layout::streamed);
                const auto same = [](std::span<const double> a, std::span<const double> b) {
                    // (an empty span's data() may be null, which memcmp must not get)
                    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
                };
                const auto same_scalar = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
                CHECK(same(resident.last_sample(), streamed.last_sample()));  // zeros before the first step
                bool all_same = true;
                const std::size_t steps = c.dim > 10000 ? 40 : 2 * c.dim;
                for (std::size_t k = 0; k < steps; ++k) {
                    for (std::size_t m = 0; m < members.size(); ++m) {
                        all_same = all_same && same_scalar(resident.risk(m), streamed.risk(m)) &&
                                   same_scalar(resident.residual(m), streamed.residual(m));
                    }
                    resident.step();
                    streamed.step();
                    if (k % 17 == 0) all_same = all_same && same(resident.last_sample(), streamed.last_sample());
                }
                CHECK(all_same);
                for (std::size_t m = 0; m < members.size(); ++m) {
                    CHECK(same(resident.u(m), streamed.u(m)));
                    CHECK(same(resident.v(m), streamed.v(m)));
                }
            }
        }
    }
}

TEST_CASE("the engine streams the sample of one member whose step outgrows the L2 budget", "[sim][batch][layout]") {
    using dln::sim::SgdEngine;
    const dln::rng::SampleStream small_stream(1, 1000, 0), large_stream(1, 100000, 0);
    const std::vector<SgdEngine::MemberSpec> one = {{0.5, 0.1}}, sixteen(16, {0.5, 0.1});
    const auto small = dln::sim::make_problem({}, 1000, small_stream);
    const auto large = dln::sim::make_problem({}, 100000, large_stream);
    // d = 1000, B = 1: 5 arrays of 1024 doubles, 40 KiB. B = 16: 35 arrays, 280 KiB.
    CHECK(SgdEngine(small, Parametrization::u2v2, one, small_stream).layout() == SgdEngine::Layout::resident);
    CHECK(SgdEngine(small, Parametrization::u2v2, sixteen, small_stream).layout() == SgdEngine::Layout::resident);
    // d = 10^5, B = 1: 4 arrays (beta* sparse at s = 0.1) of 100096 doubles, 3.1 MiB; a batch
    // stays resident whatever its size.
    CHECK(SgdEngine(large, Parametrization::u2v2, one, large_stream).layout() == SgdEngine::Layout::streamed);
    CHECK(SgdEngine(large, Parametrization::linear, one, large_stream).layout() == SgdEngine::Layout::streamed);
    CHECK(SgdEngine(large, Parametrization::u2v2, sixteen, large_stream).layout() == SgdEngine::Layout::resident);
}
