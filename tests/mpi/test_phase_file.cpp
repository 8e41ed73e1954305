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
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dln/analysis/phase_file.hpp"
#include "dln/io/netcdf_file.hpp"
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

// The extra axes of the second case: one numeric, one categorical. Point (n, k) of them scales
// every curve (PDE and SGD alike) by extra_factor: the rates, regimes and relative gaps stay
// those of the case without extras, and a gap taken against the PDE point of other extra values
// would be off by the ratio of two factors.
const std::vector<double> kNoise{0.0, 0.2};
const std::vector<std::string> kSpectrum{"isotropic", "powerlaw"};
double extra_factor(std::size_t combo) { return 1.0 + 0.25 * static_cast<double>(combo); }

dln::io::UnitRecord record(std::size_t position, UnitStatus status, double diverged_at, const std::vector<double>& t,
                           auto excess, auto balance) {
    dln::io::UnitRecord r;
    r.position = position;
    r.status = status;
    r.diverged_at = diverged_at;
    r.wall_seconds = 0.0;
    const std::size_t n = t.size();
    r.values.assign(dln::model::observable_count * n, std::nan(""));
    if (status == UnitStatus::failed) {  // what the sweep writes for a failed unit: NaN, a message
        r.failures = 1;
        r.message = "injected by the test";
        return r;
    }
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

// The error estimate and predicted rate of the PDE point (l, a, extra combination).
double pde_estimate(std::size_t l, std::size_t a, std::size_t combo) {
    return 1e-4 * static_cast<double>(1 + l + 4 * a + 8 * combo);
}
double pde_rate(std::size_t l, std::size_t a, std::size_t combo) {
    return l < 3 ? kRate[l] + 0.01 * static_cast<double>(a + 2 * combo) : -0.1;
}

// A sweep file as the sweep writes it (io's ResultFile, the layout of dln-sweep/2), with or
// without the two extra axes.
std::string write_synthetic_sweep(const std::string& stem, bool extras) {
    using dln::io::Dimension;
    const std::string path = "/tmp/dln-test-" + stem + "-" + std::to_string(static_cast<long>(getpid())) + ".h5";
    const auto lr = Dimension::numeric("lr", kLr, "learning rate", "sweep.lr");
    const auto dim = Dimension::numeric("dim", std::vector<double>(kDim.begin(), kDim.end()), "dimension", "sweep.dim", true);
    const auto alpha = Dimension::numeric("alpha", kAlpha, "initialisation scale", "sweep.alpha");
    const auto seed = Dimension::numeric("seed", {0.0, 1.0}, "replicate", "run.seeds", true);
    std::vector<Dimension> extra;
    if (extras) {
        extra.push_back(Dimension::numeric("noise", kNoise, "label noise", "data.noise"));
        extra.push_back(Dimension::names("spectrum", kSpectrum, "spectrum of the data", "data.spectrum"));
    }
    dln::io::ResultLayout layout;
    layout.time = times();
    dln::io::GroupLayout sgd{"sgd", {lr, dim, alpha}, {}, {}}, pde{"pde", {lr, alpha}, {}, {}};
    for (const auto& e : extra) {
        sgd.dims.push_back(e);
        pde.dims.push_back(e);
    }
    sgd.dims.push_back(seed);
    for (const auto name : dln::model::observable_names) {
        sgd.curves.push_back({std::string(name), std::string(name)});
        pde.curves.push_back({std::string(name), std::string(name)});
    }
    pde.scalars = {{"error_estimate", dln::io::ScalarType::float64, "error estimate", "1"},
                   {"predicted_rate", dln::io::ScalarType::float64, "predicted rate", ""}};
    layout.groups = {sgd, pde};
    layout.config = "[data]\nnoise = 0.2\n";
    layout.version = "synthetic";
    const auto t = layout.time;
    const std::size_t combos = extras ? kNoise.size() * kSpectrum.size() : 1;
    auto file = dln::io::ResultFile::create(MPI_COMM_SELF, path, layout, true);
    for (std::size_t l = 0; l < kLr.size(); ++l) {
        for (std::size_t a = 0; a < kAlpha.size(); ++a) {
            for (std::size_t c = 0; c < combos; ++c) {
                const double f = extra_factor(c);
                const bool pde_diverges = l == 2 && a == 1;
                auto limit = record((l * kAlpha.size() + a) * combos + c,
                                    pde_diverges ? UnitStatus::diverged : UnitStatus::done,
                                    pde_diverges ? 0.6 : std::nan(""), t,
                                    [&](double x) { return f * limit_excess(l, a, x); },
                                    [&](double x) { return limit_balance(l, a, x); });
                limit.scalars = {pde_estimate(l, a, c), pde_rate(l, a, c)};
                file.write("pde", limit);
                for (std::size_t d = 0; d < kDim.size(); ++d) {
                    for (std::size_t s = 0; s < 2; ++s) {
                        const auto status = sgd_status(l, d, a, s);
                        if (status == UnitStatus::pending) continue;
                        const double side = s == 0 ? 1.0 - kSpread : 1.0 + kSpread;
                        const std::size_t position = (((l * kDim.size() + d) * kAlpha.size() + a) * combos + c) * 2 + s;
                        file.write("sgd", record(position, status, status == UnitStatus::diverged ? 0.5 + 0.1 * s : std::nan(""), t,
                                                 [&](double x) { return f * limit_excess(l, a, x) * sgd_factor(d, x) * side; },
                                                 [&](double x) { return limit_balance(l, a, x) * side; }));
                    }
                }
            }
        }
    }
    file.close();

    // A dataset a later sweep engine may add: the reader must ignore what it does not know.
    const hid_t h = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hsize_t shape[1] = {3};
    const hid_t space = H5Screate_simple(1, shape, nullptr);
    H5Dclose(H5Dcreate2(h, "/sgd/later_addition", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(space);
    H5Fclose(h);
    return path;
}

// The row-major index of an SGD point and of a PDE point (combo: the point of the extra axes).
std::size_t combos_of(bool extras) { return extras ? kNoise.size() * kSpectrum.size() : 1; }

}  // namespace

TEST_CASE("phase file: aggregate recovers the rates, divergence pattern and d^(-1/2) gap of a synthetic sweep, "
          "without and with two extra axes", "[phase]") {
    const bool extras = GENERATE(false, true);
    const std::size_t combos = combos_of(extras);
    auto at = [&](std::size_t l, std::size_t d, std::size_t a, std::size_t c) {
        return ((l * kDim.size() + d) * kAlpha.size() + a) * combos + c;
    };
    auto limit_at = [&](std::size_t l, std::size_t a, std::size_t c) { return (l * kAlpha.size() + a) * combos + c; };
    INFO((extras ? "with the extra axes noise and spectrum" : "without extra axes"));
    const auto path = write_synthetic_sweep(extras ? "phase-extras" : "phase-synthetic", extras);
    const auto sweep = read_sweep(path);
    REQUIRE(sweep.methods.size() == 2);
    // The axes as the file's groups have them: the PDE's without dim, nobody's with seed.
    std::vector<std::string> sgd_axes, pde_axes;
    for (const auto& axis : sweep.methods[0].axes) sgd_axes.push_back(axis.name);
    for (const auto& axis : sweep.methods[1].axes) pde_axes.push_back(axis.name);
    if (extras) {
        CHECK(sgd_axes == std::vector<std::string>{"lr", "dim", "alpha", "noise", "spectrum"});
        CHECK(pde_axes == std::vector<std::string>{"lr", "alpha", "noise", "spectrum"});
        CHECK(sweep.methods[0].axes[4].categorical);
        CHECK(sweep.methods[0].axes[4].labels == kSpectrum);
        CHECK(sweep.methods[0].axes[3].key == "data.noise");
    } else {
        CHECK(sgd_axes == std::vector<std::string>{"lr", "dim", "alpha"});
        CHECK(pde_axes == std::vector<std::string>{"lr", "alpha"});
    }
    CHECK(sweep.methods[0].replicates == 2);
    CHECK(sweep.methods[1].replicates == 1);
    CHECK(sweep.methods[0].axes[1].integer);
    const RegimeRule rule;  // epsilon 1e-3
    const auto table = aggregate(sweep, rule);
    const auto* sgd = table.find("sgd");
    const auto* pde = table.find("pde");
    REQUIRE(sgd != nullptr);
    REQUIRE(pde != nullptr);
    REQUIRE(sgd->points.size() == kLr.size() * kDim.size() * kAlpha.size() * combos);
    REQUIRE(pde->points.size() == kLr.size() * kAlpha.size() * combos);

    SECTION("rates, times to epsilon, final values") {
        for (std::size_t c = 0; c < combos; ++c) {
            const double f = extra_factor(c);
            for (std::size_t l = 0; l < 3; ++l) {
                for (std::size_t d = 0; d < kDim.size(); ++d) {
                    const auto& p = sgd->points[at(l, d, 0, c)];
                    if (p.regime == Regime::diverged) continue;
                    INFO("lr " << kLr[l] << " d " << kDim[d] << " extras " << c);
                    // In the fitted window [5, 10] the mean is f 0.05 (1 + c/sqrt(d)) e^{-r t}: rate r.
                    CHECK(p.tail.rate == Approx(kRate[l]).epsilon(kExact));
                    const double start = f * 0.05 * sgd_factor(d, 10.0);
                    const double t_eps = std::log(start / rule.epsilon) / kRate[l];
                    if (t_eps <= 10.0) {
                        CHECK(p.time_to_epsilon == Approx(t_eps).epsilon(kExact));
                    } else {
                        CHECK(std::isnan(p.time_to_epsilon));
                    }
                    const double final_excess = f * limit_excess(l, 0, 10.0) * sgd_factor(d, 10.0);
                    CHECK(p.risk_final_mean == Approx(final_excess + kNoiseFloor).epsilon(kExact));
                    // Two values mean (1 -+ 0.1): sample standard deviation 0.1 mean sqrt(2); the
                    // deviations are differences of numbers near 0.02, each accurate to 0.02 * 1e-16 /
                    // deviation (a few such roundings enter: factor 4).
                    const double deviation = kSpread * final_excess;
                    CHECK(p.risk_final_std ==
                          Approx(deviation * std::sqrt(2.0)).epsilon(kExact + 0.02 * 1e-16 / deviation * 4));
                    CHECK(p.curvature_final == 2.0);
                    CHECK(p.false_support_final == 0.25);
                    CHECK(p.balance_final == Approx(limit_balance(l, 0, 10.0)).epsilon(kExact));
                }
                CHECK(pde->points[limit_at(l, 0, c)].tail.rate == Approx(kRate[l]).epsilon(kExact));
                CHECK(std::isnan(pde->points[limit_at(l, 0, c)].risk_final_std));  // one trajectory: no spread
            }
        }
    }

    SECTION("the divergence pattern and the regimes") {
        for (std::size_t c = 0; c < combos; ++c)
            for (std::size_t l = 0; l < kLr.size(); ++l)
                for (std::size_t d = 0; d < kDim.size(); ++d)
                    for (std::size_t a = 0; a < kAlpha.size(); ++a) {
                        const auto& p = sgd->points[at(l, d, a, c)];
                        INFO("lr " << kLr[l] << " d " << kDim[d] << " alpha " << kAlpha[a] << " extras " << c);
                        Regime want = l == 0   ? Regime::converged
                                      : l == 1 ? Regime::converging
                                      : l == 2 ? Regime::converged
                                      : a == 0 ? Regime::stalled
                                               : Regime::collapsed;
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
        for (std::size_t c = 0; c < combos; ++c) {
            CHECK(pde->points[limit_at(2, 1, c)].regime == Regime::diverged);
            CHECK(pde->points[limit_at(3, 1, c)].regime == Regime::collapsed);
            CHECK(pde->points[limit_at(3, 0, c)].regime == Regime::stalled);
        }
    }

    SECTION("the gap is c d^(-1/2) against the PDE point of the same extra values, its exponent -1/2") {
        for (std::size_t c = 0; c < combos; ++c)
            for (std::size_t l = 0; l < kLr.size(); ++l)
                for (std::size_t a = 0; a < kAlpha.size(); ++a) {
                    INFO("lr " << kLr[l] << " alpha " << kAlpha[a] << " extras " << c);
                    const std::size_t q = limit_at(l, a, c);
                    // The PDE point's fields reach every method, per (lr, alpha, extras).
                    CHECK(sgd->pde_error_estimate[q] == pde_estimate(l, a, c));
                    CHECK(sgd->predicted_rate[q] == pde_rate(l, a, c));
                    CHECK(pde->predicted_rate[q] == pde_rate(l, a, c));
                    const auto& fit = sgd->gap_fit[q];
                    if (l == 2 && a == 1) {  // every replicate and the PDE diverged: no gap
                        CHECK(std::isnan(fit.exponent));
                        continue;
                    }
                    if (l == 1 && a == 1) {  // partial point: the mean of one replicate is not the construction
                        CHECK(std::isnan(sgd->gap[at(l, 1, a, c)]));
                        continue;
                    }
                    for (std::size_t d = 0; d < kDim.size(); ++d) {
                        const double gap = sgd->gap[at(l, d, a, c)];
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
        {
            const dln::io::NcReader f(dir + "/phase.h5");
            CHECK(f.attribute("schema") == "dln-phase/2");
            CHECK(f.attribute("Conventions") == "CF-1.8");
            CHECK(f.number_attribute("epsilon") == rule.epsilon);
            // Each group self-contained: its variables' dimensions are its own coordinate variables.
            std::vector<std::string> names;
            for (const auto& d : f.dimensions("sgd", "regime")) names.push_back(d.name);
            auto want = extras ? std::vector<std::string>{"lr", "dim", "alpha", "noise", "spectrum"}
                               : std::vector<std::string>{"lr", "dim", "alpha"};
            CHECK(names == want);
            const auto pde_dims = f.dimensions("pde", "excess_mean");
            CHECK(pde_dims.front().name == "lr");
            CHECK(pde_dims.back().name == "time");
            CHECK(pde_dims.size() == (extras ? 5u : 3u));
            names.clear();
            for (const auto& d : f.dimensions("sgd", "gap_exponent")) names.push_back(d.name);
            want.erase(want.begin() + 1);  // (lr, alpha, extras...)
            CHECK(names == want);
            if (extras) {
                const auto dims = f.dimensions("sgd", "regime");
                CHECK(dims[4].kind == dln::io::Dimension::Kind::string);
                CHECK(dims[4].labels == kSpectrum);
                CHECK(dims[4].key == "data.spectrum");
                CHECK(dims[3].numbers == kNoise);
                CHECK(dims[1].kind == dln::io::Dimension::Kind::int64);
            }
            const auto regimes = f.read_int8("sgd", "regime");
            REQUIRE(regimes.size() == sgd->points.size());
            for (std::size_t p = 0; p < regimes.size(); ++p) {
                CHECK(regimes[p] == static_cast<std::int8_t>(sgd->points[p].regime));
            }
            const auto exponents = f.read("sgd", "gap_exponent");
            REQUIRE(exponents.size() == sgd->gap_fit.size());
            CHECK(exponents[0] == sgd->gap_fit[0].exponent);
            const auto replicates = f.read("pde", "replicates");
            CHECK(replicates[limit_at(3, 1, 0)] == 1.0);
            // The quantile band: its definition at the root, median and band per time as the table has them.
            CHECK(f.number_attribute("band_lo") == table.band.lo);
            CHECK(f.number_attribute("band_hi") == table.band.hi);
            CHECK(f.attribute("quantile_definition") == kQuantileDefinition);
            const std::size_t n_time = table.time.size();
            for (const char* name : {"excess_median", "excess_band_lo", "excess_band_hi", "balance_median",
                                     "curvature_band_hi", "false_support_band_lo"}) {
                CHECK(f.shape("sgd", name) == f.shape("sgd", "excess_mean"));
                CHECK(f.shape("pde", name) == f.shape("pde", "excess_mean"));
            }
            const auto median = f.read("sgd", "excess_median"), lo = f.read("sgd", "excess_band_lo"),
                       hi = f.read("sgd", "excess_band_hi");
            REQUIRE(median.size() == sgd->points.size() * n_time);
            std::size_t compared = 0;
            for (std::size_t p = 0; p < sgd->points.size(); ++p) {
                const auto& q = sgd->points[p].excess_q;
                for (std::size_t j = 0; j < n_time; ++j) {
                    if (q.median.empty()) {
                        CHECK(std::isnan(median[p * n_time + j]));  // no survivor
                        continue;
                    }
                    CHECK(median[p * n_time + j] == q.median[j]);
                    if (std::isfinite(q.median[j])) {
                        CHECK(lo[p * n_time + j] <= median[p * n_time + j]);
                        CHECK(median[p * n_time + j] <= hi[p * n_time + j]);
                        ++compared;
                    }
                }
            }
            CHECK(compared > 0);
            names.clear();
            for (const auto& d : f.dimensions("sgd", "band_width_exponent")) names.push_back(d.name);
            CHECK(names == want);  // (lr, alpha, extras...)
            CHECK(f.read("sgd", "band_width").size() == sgd->points.size());
        }
        // The phase file is not a sweep file: aggregating it again is refused by name.
        CHECK_THROWS_WITH(read_sweep(dir + "/phase.h5"), Catch::Contains("dln-phase/2"));

        std::ifstream csv(dir + "/phase.csv");
        std::vector<std::string> rows;
        for (std::string line; std::getline(csv, line);) rows.push_back(line);
        REQUIRE(rows.size() == 1 + sgd->points.size() + pde->points.size());
        if (extras) {
            CHECK(rows[0].rfind("method,lr,dim,alpha,noise,spectrum,replicates,regime,", 0) == 0);
            // The pending point at its last extra values: noise 0.2, powerlaw.
            CHECK(rows[1 + at(1, 1, 1, 3)].rfind("sgd,1,400,0.3,0.2,powerlaw,0,missing,nan,", 0) == 0);
            CHECK(rows[1 + at(0, 0, 0, 1)].rfind("sgd,0.5,100,0.1,0,powerlaw,2,converged,0,", 0) == 0);
            CHECK(rows.back().rfind("pde,4,inf,0.3,0.2,powerlaw,1,collapsed,0,", 0) == 0);
        } else {
            CHECK(rows[0].rfind("method,lr,dim,alpha,replicates,regime,", 0) == 0);
            const std::string tail = "risk_final_median,risk_final_band_lo,risk_final_band_hi,band_width,"
                                     "band_width_exponent,band_width_exponent_se";
            CHECK(rows[0].substr(rows[0].size() - tail.size()) == tail);
            // sgd rows in (lr, dim, alpha) order: row 1 + at(1, 1, 1) is the pending point.
            CHECK(rows[1 + at(1, 1, 1, 0)].rfind("sgd,1,400,0.3,0,missing,nan,", 0) == 0);
            CHECK(rows.back().rfind("pde,4,inf,0.3,1,collapsed,0,", 0) == 0);
        }
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

TEST_CASE("phase file: a dln-sweep/1 file is refused with io's one line", "[phase]") {
    const std::string old = "/tmp/dln-test-phase-old-" + std::to_string(static_cast<long>(getpid())) + ".h5";
    {
        dln::io::NcWriter f(old, true);
        f.attribute("schema", "dln-sweep/1");
        f.attribute("version", "0.4.0");
        f.close();
    }
    CHECK_THROWS_WITH(read_sweep(old), Catch::Contains("is a dln-sweep/1 file (written by dln 0.4.0)") &&
                                           Catch::Contains("reads dln-sweep/2 only"));
    std::filesystem::remove(old);
}
