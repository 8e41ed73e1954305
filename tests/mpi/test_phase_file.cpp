// Aggregation of a sweep file whose curves are known: written by the sweep's own ResultFile (on
// MPI_COMM_SELF, so this runs as one process), with exponential decays of given rates, a given
// divergence pattern, pending and failed units, a collapse, and an SGD-PDE gap of c d^(-1/2).
// What aggregate reads back must be those numbers; phase.h5 and phase.csv must hold them.
//
// Tolerances: every curve is built in closed form, so the recovered numbers are exact up to
// rounding (see tests/unit/test_phase_summary.cpp for the bound, 1e-12 relative); the gap is a
// difference (1 + x) - 1 with x >= 0.3/80 = 3.75e-3, which costs 1e-16/3.75e-3 ~ 3e-14 relative.
#include <catch2/catch.hpp>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dln/analysis/phase_file.hpp"
#include "dln/io/result_file.hpp"
#include "dln/model/observables.hpp"

using namespace dln::analysis;
using dln::io::UnitStatus;

namespace {

constexpr double kExact = 1e-12;
constexpr double kNoiseFloor = 0.02;  // sigma^2/2, sigma = 0.2: risk = excess + 0.02
constexpr double kGap = 0.3;          // c of the gap c d^(-1/2)
constexpr double kSpread = 0.1;       // replicates are the mean times 1 -+ kSpread
const std::vector<double> kLr{0.5, 1.0, 2.0, 4.0};
const std::vector<std::uint64_t> kDim{100, 400, 1600, 6400};
const std::vector<double> kAlpha{0.1, 0.3};
constexpr double kRate[] = {0.8, 0.25, 1.3};  // lr index 0, 1, 2: exponential decays

std::vector<double> times() {
    std::vector<double> t(41);
    for (std::size_t j = 0; j < t.size(); ++j) t[j] = 0.25 * static_cast<double>(j);  // [0, 10]
    return t;
}

// The d -> infinity curves, per (lr, alpha): excess risk and balance.
double limit_excess(std::size_t l, std::size_t a, double t) {
    if (l < 3) return 0.05 * std::exp(-kRate[l] * t);
    if (a == 0) return 0.002 + 0.048 * std::exp(-2.0 * t);  // a plateau above epsilon: stalled
    return 0.05 * (0.8 + 0.2 * std::exp(-5.0 * t));          // the risk stays ...
}
double limit_balance(std::size_t l, std::size_t a, double t) {
    const double q0 = kAlpha[a] * kAlpha[a];
    return l == 3 && a == 1 ? q0 * std::exp(-30.0 * t)  // ... while Q collapses: collapsed
                            : q0 * std::exp(-0.1 * t);
}

// SGD = the limit times (1 + c d^(-1/2) g(t)), g rising to 1 at t = 2, times 1 -+ kSpread per replicate.
double sgd_factor(std::size_t d, double t) {
    return 1.0 + kGap / std::sqrt(static_cast<double>(kDim[d])) * std::min(t / 2.0, 1.0);
}

// The divergence pattern: every replicate at (lr 2, alpha 0.3); one of two at (lr 2, d 100, alpha 0.1).
bool sgd_diverges(std::size_t l, std::size_t d, std::size_t a, std::size_t s) {
    return l == 2 && (a == 1 || (d == 0 && s == 1));
}
// Units left without a result: a whole point pending, one replicate pending, one failed.
UnitStatus sgd_status(std::size_t l, std::size_t d, std::size_t a, std::size_t s) {
    if (l == 1 && a == 1 && d == 1) return UnitStatus::pending;
    if (l == 1 && a == 1 && d == 3 && s == 1) return UnitStatus::pending;
    if (l == 1 && a == 1 && d == 2 && s == 0) return UnitStatus::failed;
    return sgd_diverges(l, d, a, s) ? UnitStatus::diverged : UnitStatus::done;
}

dln::io::UnitRecord record(std::array<std::size_t, 4> index, UnitStatus status, double diverged_at,
                           const std::vector<double>& t, auto excess, auto balance) {
    dln::io::UnitRecord r;
    r.index = index;
    r.status = status;
    r.diverged_at = diverged_at;
    r.wall_seconds = 0.0;
    const std::size_t n = t.size();
    r.values.assign(dln::model::observable_count * n, std::nan(""));
    if (status == UnitStatus::failed) return r;  // what the sweep writes for a failed unit: NaN
    for (std::size_t j = 0; j < n; ++j) {
        if (status == UnitStatus::diverged && t[j] > diverged_at) break;  // NaN after a divergence
        const double e = excess(t[j]);
        r.values[dln::model::risk * n + j] = e + kNoiseFloor;
        r.values[dln::model::excess * n + j] = e;
        r.values[dln::model::dist * n + j] = 2.0 * e;
        r.values[dln::model::l1 * n + j] = 0.1;
        r.values[dln::model::curvature * n + j] = 2.0;
        r.values[dln::model::gradnorm * n + j] = e;
        r.values[dln::model::balance * n + j] = balance(t[j]);
        r.values[dln::model::false_support * n + j] = 0.25;
    }
    return r;
}

std::string write_synthetic_sweep(const std::string& stem) {
    const std::string path = "/tmp/dln-test-" + stem + "-" + std::to_string(static_cast<long>(getpid())) + ".h5";
    dln::io::ResultLayout layout;
    layout.lr = kLr;
    layout.dim = kDim;
    layout.alpha = kAlpha;
    layout.seeds = 2;
    layout.time = times();
    layout.methods = {"sgd", "pde"};
    for (const auto name : dln::model::observable_names) layout.observables.emplace_back(name);
    layout.config = "[data]\nnoise = 0.2\n";
    layout.version = "synthetic";
    const auto t = layout.time;
    auto file = dln::io::ResultFile::create(MPI_COMM_SELF, path, layout, true);
    for (std::size_t l = 0; l < kLr.size(); ++l) {
        for (std::size_t a = 0; a < kAlpha.size(); ++a) {
            const bool pde_diverges = l == 2 && a == 1;
            file.write("pde", record({l, 0, a, 0}, pde_diverges ? UnitStatus::diverged : UnitStatus::done,
                                     pde_diverges ? 0.6 : std::nan(""), t,
                                     [&](double x) { return limit_excess(l, a, x); },
                                     [&](double x) { return limit_balance(l, a, x); }));
            for (std::size_t d = 0; d < kDim.size(); ++d) {
                for (std::size_t s = 0; s < 2; ++s) {
                    const auto status = sgd_status(l, d, a, s);
                    if (status == UnitStatus::pending) continue;
                    const double side = s == 0 ? 1.0 - kSpread : 1.0 + kSpread;
                    file.write("sgd", record({l, d, a, s}, status, status == UnitStatus::diverged ? 0.5 + 0.1 * s : std::nan(""), t,
                                             [&](double x) { return limit_excess(l, a, x) * sgd_factor(d, x) * side; },
                                             [&](double x) { return limit_balance(l, a, x) * side; }));
                }
            }
        }
    }
    file.close();

    // Datasets a later sweep engine may add (a failure message per unit, a failure count): the
    // reader must ignore what it does not know.
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t shape[4] = {kLr.size(), kDim.size(), kAlpha.size(), 2};
    const hid_t space = H5Screate_simple(4, shape, nullptr);
    const hid_t text = H5Tcopy(H5T_C_S1);
    H5Tset_size(text, 64);
    H5Dclose(H5Dcreate2(f, "/sgd/failure", text, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Dclose(H5Dcreate2(f, "/sgd/failures", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(text);
    H5Sclose(space);
    H5Fclose(f);
    return path;
}

std::size_t at(std::size_t l, std::size_t d, std::size_t a) { return (l * kDim.size() + d) * kAlpha.size() + a; }

}  // namespace

TEST_CASE("phase file: aggregate recovers the rates, divergence pattern and d^(-1/2) gap of a synthetic sweep", "[phase]") {
    const auto path = write_synthetic_sweep("phase-synthetic");
    const auto sweep = read_sweep(path);
    REQUIRE(sweep.methods.size() == 2);
    const RegimeRule rule;  // epsilon 1e-3
    const auto table = aggregate(sweep, rule);
    const auto* sgd = table.find("sgd");
    const auto* pde = table.find("pde");
    REQUIRE(sgd != nullptr);
    REQUIRE(pde != nullptr);
    const auto t = times();

    SECTION("rates, times to epsilon, final values") {
        for (std::size_t l = 0; l < 3; ++l) {
            for (std::size_t d = 0; d < kDim.size(); ++d) {
                const auto& p = sgd->points[at(l, d, 0)];
                if (p.regime == Regime::diverged) continue;
                INFO("lr " << kLr[l] << " d " << kDim[d]);
                // In the fitted window [5, 10] the mean is 0.05 (1 + c/sqrt(d)) e^{-r t}: rate r.
                CHECK(p.tail.rate == Approx(kRate[l]).epsilon(kExact));
                const double start = 0.05 * sgd_factor(d, 10.0);
                const double t_eps = std::log(start / rule.epsilon) / kRate[l];
                if (t_eps <= 10.0) {
                    CHECK(p.time_to_epsilon == Approx(t_eps).epsilon(kExact));
                } else {
                    CHECK(std::isnan(p.time_to_epsilon));
                }
                const double final_excess = limit_excess(l, 0, 10.0) * sgd_factor(d, 10.0);
                CHECK(p.risk_final_mean == Approx(final_excess + kNoiseFloor).epsilon(kExact));
                // Two values mean (1 -+ 0.1): sample standard deviation 0.1 mean sqrt(2); the deviations
                // are differences of numbers near 0.02, each accurate to 0.02 * 1e-16 / deviation (a few
                // such roundings enter: factor 4).
                const double deviation = kSpread * final_excess;
                CHECK(p.risk_final_std == Approx(deviation * std::sqrt(2.0)).epsilon(kExact + 0.02 * 1e-16 / deviation * 4));
                CHECK(p.curvature_final == 2.0);
                CHECK(p.false_support_final == 0.25);
                CHECK(p.balance_final == Approx(limit_balance(l, 0, 10.0)).epsilon(kExact));
            }
            CHECK(pde->points[l * kAlpha.size()].tail.rate == Approx(kRate[l]).epsilon(kExact));
            CHECK(std::isnan(pde->points[l * kAlpha.size()].risk_final_std));  // one trajectory: no spread
        }
    }

    SECTION("the divergence pattern and the regimes") {
        for (std::size_t l = 0; l < kLr.size(); ++l)
            for (std::size_t d = 0; d < kDim.size(); ++d)
                for (std::size_t a = 0; a < kAlpha.size(); ++a) {
                    const auto& p = sgd->points[at(l, d, a)];
                    INFO("lr " << kLr[l] << " d " << kDim[d] << " alpha " << kAlpha[a]);
                    Regime want = l == 0 ? Regime::converged : l == 1 ? Regime::converging : l == 2 ? Regime::converged
                                  : a == 0 ? Regime::stalled : Regime::collapsed;
                    double fraction = 0.0;
                    if (l == 2 && a == 1) {
                        want = Regime::diverged;
                        fraction = 1.0;
                    } else if (l == 2 && d == 0) {
                        want = Regime::diverged;  // one of two: at least half
                        fraction = 0.5;
                    }
                    std::size_t computed = 2;
                    if (l == 1 && a == 1 && d == 1) {
                        want = Regime::missing;
                        computed = 0;
                    } else if (l == 1 && a == 1 && d >= 2) {
                        computed = 1;  // one pending, or one failed: the other still counts
                    }
                    CHECK(p.regime == want);
                    CHECK(p.computed == computed);
                    if (computed > 0) {
                        CHECK(p.diverged_fraction == fraction);
                    } else {
                        CHECK(std::isnan(p.diverged_fraction));
                    }
                }
        CHECK(pde->points[2 * kAlpha.size() + 1].regime == Regime::diverged);
        CHECK(pde->points[3 * kAlpha.size() + 1].regime == Regime::collapsed);
        CHECK(pde->points[3 * kAlpha.size() + 0].regime == Regime::stalled);
    }

    SECTION("the gap is c d^(-1/2) and its exponent -1/2") {
        for (std::size_t l = 0; l < kLr.size(); ++l)
            for (std::size_t a = 0; a < kAlpha.size(); ++a) {
                INFO("lr " << kLr[l] << " alpha " << kAlpha[a]);
                const auto& fit = sgd->gap_fit[l * kAlpha.size() + a];
                if (l == 2 && a == 1) {  // every replicate and the PDE diverged: no gap
                    CHECK(std::isnan(fit.exponent));
                    continue;
                }
                if (l == 1 && a == 1) {  // partial point: the mean of one replicate is not the construction
                    CHECK(std::isnan(sgd->gap[at(l, 1, a)]));
                    continue;
                }
                for (std::size_t d = 0; d < kDim.size(); ++d) {
                    const double gap = sgd->gap[at(l, d, a)];
                    if (l == 2 && d == 0) {
                        CHECK(std::isnan(gap));  // diverged
                    } else {
                        CHECK(gap == Approx(kGap / std::sqrt(static_cast<double>(kDim[d]))).epsilon(kExact));
                    }
                }
                // Gaps within 3e-14 relative over a log-spread of ln(64) (ln(16) at lr 2): slope error < 1e-13.
                CHECK(fit.exponent == Approx(-0.5).epsilon(kExact));
                CHECK(fit.prefactor == Approx(kGap).epsilon(kExact));
                CHECK(fit.points == (l == 2 ? 3u : 4u));
            }
    }

    SECTION("phase.h5 and phase.csv hold the table") {
        const std::string dir = path + ".phase";
        write_phase_directory(dir, table);
        const hid_t f = H5Fopen((dir + "/phase.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        REQUIRE(f >= 0);
        const hid_t regime = H5Dopen2(f, "/sgd/regime", H5P_DEFAULT);
        const hid_t type = H5Dget_type(regime);
        CHECK(H5Tget_class(type) == H5T_ENUM);  // labels travel with the values
        char name[32] = {};
        const std::int8_t collapsed = 4;
        H5Tenum_nameof(type, &collapsed, name, sizeof name);
        CHECK(std::string(name) == "collapsed");
        std::vector<std::int8_t> regimes(kLr.size() * kDim.size() * kAlpha.size());
        H5Dread(regime, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, regimes.data());
        for (std::size_t p = 0; p < regimes.size(); ++p) CHECK(regimes[p] == static_cast<std::int8_t>(sgd->points[p].regime));
        const hid_t lr = H5Dopen2(f, "/axes/lr", H5P_DEFAULT);
        const hid_t dim = H5Dopen2(f, "/axes/dim", H5P_DEFAULT);
        CHECK(H5DSis_attached(regime, lr, 0) > 0);
        CHECK(H5DSis_attached(regime, dim, 1) > 0);
        const hid_t exponent = H5Dopen2(f, "/sgd/gap_exponent", H5P_DEFAULT);
        std::vector<double> exponents(kLr.size() * kAlpha.size());
        H5Dread(exponent, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, exponents.data());
        CHECK(exponents[0] == sgd->gap_fit[0].exponent);
        double epsilon = 0.0;
        const hid_t attr = H5Aopen(f, "epsilon", H5P_DEFAULT);
        H5Aread(attr, H5T_NATIVE_DOUBLE, &epsilon);
        CHECK(epsilon == rule.epsilon);
        for (hid_t h : {attr}) H5Aclose(h);
        for (hid_t h : {exponent, lr, dim, regime}) H5Dclose(h);
        H5Tclose(type);
        H5Fclose(f);
        // The phase file is not a sweep file: aggregating it again is refused by name.
        CHECK_THROWS_WITH(read_sweep(dir + "/phase.h5"), Catch::Contains("not a dln sweep file"));

        std::ifstream csv(dir + "/phase.csv");
        std::vector<std::string> rows;
        for (std::string line; std::getline(csv, line);) rows.push_back(line);
        REQUIRE(rows.size() == 1 + kLr.size() * kDim.size() * kAlpha.size() + kLr.size() * kAlpha.size());
        CHECK(rows[0].rfind("method,lr,dim,alpha,replicates,regime,", 0) == 0);
        // sgd rows in (lr, dim, alpha) order: row 1 + at(1, 1, 1) is the pending point.
        CHECK(rows[1 + at(1, 1, 1)].rfind("sgd,1,400,0.3,0,missing,nan,", 0) == 0);
        CHECK(rows.back().rfind("pde,4,inf,0.3,1,collapsed,0,", 0) == 0);
        std::filesystem::remove_all(dir);
    }
    std::filesystem::remove(path);
}

TEST_CASE("phase file: what is not a sweep file, or no place for the output, is refused by name", "[phase]") {
    CHECK_THROWS_WITH(read_sweep("/nonexistent/sweep.h5"), Catch::Contains("is not a file"));
    const std::string text = "/tmp/dln-test-phase-text-" + std::to_string(static_cast<long>(getpid())) + ".h5";
    std::ofstream(text) << "not hdf5\n";
    CHECK_THROWS_WITH(read_sweep(text), Catch::Contains("not a readable HDF5 file"));
    CHECK_THROWS_WITH(check_output_directory(text), Catch::Contains("not a directory"));
    std::filesystem::remove(text);
    CHECK_THROWS_WITH(check_output_directory("/nonexistent/dir"), Catch::Contains("does not exist"));
    CHECK_NOTHROW(check_output_directory("/tmp"));
}
