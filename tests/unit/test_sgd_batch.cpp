// simulate_sgd_batch: B grid points of one replicate in lockstep are, member by member, bitwise
// the runs simulate_sgd gives alone, including the runs that diverge (they stop, the others go on).
#include <catch2/catch.hpp>

#include <cmath>
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
