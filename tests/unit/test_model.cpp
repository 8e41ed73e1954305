#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dln/model/data_model.hpp"
#include "dln/model/observables.hpp"
#include "dln/model/parametrization.hpp"

using namespace dln::model;

TEST_CASE("power-law spectrum has mean 1 and the prescribed shape", "[model]") {
    DataSpec spec;
    spec.spectrum = Spectrum::powerlaw;
    for (double a : {0.0, 0.3, 0.9}) {
        spec.exponent = a;
        const auto lambda = spectrum(spec, 1000);
        double sum = 0.0;
        for (double l : lambda) sum += l;
        CHECK(sum / 1000.0 == Approx(1.0).epsilon(1e-13));
        // lambda_i / lambda_j = ((i - 1/2) / (j - 1/2))^(-a), 1-based i, j
        CHECK(lambda[9] / lambda[99] == Approx(std::pow(9.5 / 99.5, -a)).epsilon(1e-13));
    }
    spec.spectrum = Spectrum::isotropic;
    for (double l : spectrum(spec, 10)) CHECK(l == 1.0);
}

TEST_CASE("observables at the standard initialisation match THEORY.md section 4", "[model]") {
    const std::size_t d = 10;
    const double alpha = 0.3, noise = 0.2;
    std::vector<double> lambda(d, 1.0), beta(d, 0.0);
    beta[0] = 1.0;
    beta[1] = -2.0;  // mean beta^2 = 0.5, mean lambda (w - beta)^2 = 0.5 at w = 0
    for (auto param : {Parametrization::u2v2, Parametrization::uv, Parametrization::linear}) {
        const auto init = standard_initialisation(param, alpha);
        std::vector<double> u(d, init.u), v(param == Parametrization::linear ? 0 : d, init.v);
        const auto o = measure(param, u, v, lambda, beta, noise, 1e-3);
        CHECK(o[excess] == Approx(0.25));
        CHECK(o[risk] == Approx(0.25 + 0.02));
        CHECK(o[dist] == Approx(0.5));
        CHECK(o[l1] == 0.0);
        CHECK(o[false_support] == 0.0);
        if (param == Parametrization::linear) {
            CHECK(o[curvature] == Approx(1.0));
            CHECK(std::isnan(o[balance]));
        } else {
            // p0 = q0 = alpha: curvature 4 k^2 (2 alpha^2), balance alpha^2,
            // gradnorm mean 4 k^2 Delta^2 (2 alpha^2) = 4 k^2 2 alpha^2 * 0.5
            const double k2x4 = 4.0 * kappa(param) * kappa(param);
            CHECK(o[curvature] == Approx(k2x4 * 2.0 * alpha * alpha));
            CHECK(o[balance] == Approx(alpha * alpha));
            CHECK(o[gradnorm] == Approx(k2x4 * 2.0 * alpha * alpha * 0.5));
        }
    }
}

TEST_CASE("false_support counts null coordinates above the threshold", "[model]") {
    std::vector<double> lambda(4, 1.0), beta{1.0, 0.0, 0.0, 0.0}, w{1.0, 0.5, -0.05, 0.0};
    const auto o = measure(Parametrization::linear, w, {}, lambda, beta, 0.0, 0.1);
    CHECK(o[false_support] == Approx(1.0 / 3.0));
    std::vector<double> full{1.0, 1.0, 1.0, 1.0};
    CHECK(std::isnan(measure(Parametrization::linear, w, {}, lambda, full, 0.0, 0.1)[false_support]));
}

TEST_CASE("the uv rotation: u*v = (p*p - q*q)/2", "[model]") {
    const double u = 0.7, v = -0.4;
    const auto r = to_rotated(Parametrization::uv, u, v);
    CHECK(predictor(Parametrization::uv, u, v) == Approx(kappa(Parametrization::uv) * (r.p * r.p - r.q * r.q)));
    const auto init = standard_initialisation(Parametrization::uv, 0.3);
    const auto r0 = to_rotated(Parametrization::uv, init.u, init.v);
    CHECK(r0.p == Approx(0.3));
    CHECK(r0.q == Approx(0.3));
}

TEST_CASE("parsing names rejects unknown ones", "[model]") {
    CHECK(parse_parametrization("uv") == Parametrization::uv);
    CHECK_THROWS_WITH(parse_parametrization("uvw"), Catch::Contains("u2v2, uv, linear"));
    CHECK_THROWS(parse_spectrum("flat"));
    CHECK_THROWS(parse_target_law("normal"));
}

TEST_CASE("Marchenko-Pastur: the CDF in theta matches its density, quantiles invert it", "[model]") {
    for (double r : {0.01, 0.1, 0.5, 0.9, 1.0}) {
        // F(theta) against composite Simpson on the density 2 sin^2 / (pi lambda). Its poles sit
        // at distance ~ 1 - sqrt(r) from the real axis (0.05 at r = 0.9), so the h^4 error of
        // 20000 panels is ~1e-14 there.
        const int n = 20000;
        double integral = 0.0, worst = 0.0;
        const double h = M_PI / n;
        auto f = [&](double t) {  // at t = 0 the limit: 0, or 2 cos^2(t/2) / pi at r = 1
            if (t == 0.0) return r == 1.0 ? 2.0 / M_PI : 0.0;
            return 2.0 * std::sin(t) * std::sin(t) / (M_PI * mp_lambda(r, t)); };
        for (int k = 0; k < n; ++k) {
            const double a = k * h;
            integral += h / 6.0 * (f(a) + 4.0 * f(a + 0.5 * h) + f(a + h));
            worst = std::max(worst, std::abs(mp_cdf(r, a + h) - integral));
        }
        INFO("r = " << r << ": max |F - integral of the density| = " << worst);
        CHECK(worst <= 1e-12);
        CHECK(mp_cdf(r, M_PI) == 1.0);
        for (double u : {1e-9, 1e-3, 0.25, 0.5, 0.9, 1.0 - 1e-9}) {
            CHECK(std::abs(mp_cdf(r, mp_quantile_angle(r, u)) - u) <= 1e-14);
        }
        CHECK(mp_lambda(r, 0.0) == Approx(std::pow(1.0 - std::sqrt(r), 2)).margin(1e-15));
        CHECK(mp_lambda(r, M_PI) == Approx(std::pow(1.0 + std::sqrt(r), 2)).epsilon(1e-15));
    }
}

TEST_CASE("Marchenko-Pastur quantiles: mean -> 1 and variance -> r at the midpoint rule's rate", "[model]") {
    // lambda_i = Q((i - 1/2)/d) is the midpoint rule for int_0^1 g(Q(u)) du. Q is not smooth at the
    // ends: near u = 0, Q ~ lambda_- + C_- u^(2/3) with C_- = rho (3 pi lambda_- / 2)^(2/3) (the
    // density grows like theta^2 / lambda_-), and Q ~ lambda_+ - C_+ (1 - u)^(2/3) near u = 1.
    // Navot's extension of Euler-Maclaurin gives the midpoint error of u^(2/3) as
    // zeta(-2/3, 1/2) h^(5/3) + o(h^(5/3)), so for a function g of lambda
    //   mean_i g(lambda_i) - E g = zeta(-2/3, 1/2) h^(5/3) [g'(lambda_-) C_- - g'(lambda_+) C_+] + O(h^(7/3)),
    // with h = 1/d (at r = 1, lambda_- = 0 is smooth in u: C_- = 0, and its h^2 term is below the
    // O(h^(7/3)) of the top end at these d). The checks compare the error with this leading term.
    const double zeta = 0.057428979419521;  // Hurwitz zeta(-2/3, 1/2) = (2^(-2/3) - 1) zeta(-2/3)
    DataSpec spec;
    spec.spectrum = Spectrum::marchenko_pastur;
    for (double r : {0.1, 0.5, 1.0}) {
        spec.ratio = r;
        const double rho = std::sqrt(r), lo = (1 - rho) * (1 - rho), hi = (1 + rho) * (1 + rho);
        const double c_lo = r < 1.0 ? rho * std::pow(1.5 * M_PI * lo, 2.0 / 3.0) : 0.0;
        const double c_hi = rho * std::pow(1.5 * M_PI * hi, 2.0 / 3.0);
        for (std::size_t d : {1000, 4000}) {
            const auto lambda = spectrum(spec, d);
            double mean = 0.0, var = 0.0;
            for (double l : lambda) mean += l;
            mean /= static_cast<double>(d);
            for (double l : lambda) var += (l - 1.0) * (l - 1.0);
            var /= static_cast<double>(d);
            const double h53 = std::pow(1.0 / static_cast<double>(d), 5.0 / 3.0);
            const double mean_lead = zeta * h53 * (c_lo - c_hi);
            const double var_lead = zeta * h53 * (2 * (lo - 1) * c_lo - 2 * (hi - 1) * c_hi);
            INFO("r = " << r << ", d = " << d << ": mean - 1 = " << mean - 1 << " (leading term " << mean_lead
                 << "), var - r = " << var - r << " (leading term " << var_lead << ")");
            // The next term is O(h^(2/3)) relative to the leading one: 1% at d = 1000.
            CHECK(std::abs(mean - 1.0 - mean_lead) <= 0.03 * std::abs(mean_lead));
            CHECK(std::abs(var - r - var_lead) <= 0.03 * std::abs(var_lead));
            CHECK(std::is_sorted(lambda.begin(), lambda.end()));
            CHECK(lambda.front() >= lo);
            CHECK(lambda.back() <= hi);
        }
    }
}

TEST_CASE("file spectrum: lambda_i is e_ceil(u n) at u = (i - 1/2)/d, not rescaled", "[model]") {
    DataSpec spec;
    spec.spectrum = Spectrum::file;
    spec.eigenvalues = {0.5, 1.0, 2.0, 4.0};  // sorted, as config delivers them
    // d = 8: u = 1/16, 3/16, ..., 15/16; u n = 0.25, 0.75, 1.25, ...: two coordinates per eigenvalue.
    CHECK(spectrum(spec, 8) == std::vector<double>{0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0});
    // d = 4 = n: each eigenvalue once (u n = 0.5, 1.5, ...).
    CHECK(spectrum(spec, 4) == std::vector<double>{0.5, 1.0, 2.0, 4.0});
    // d = 2: u n = 1, 3 exactly: ceil keeps e_1 and e_3 (integer arithmetic, no rounding up to e_2).
    CHECK(spectrum(spec, 2) == std::vector<double>{0.5, 2.0});
    // d = 3: u n = 2/3, 2, 10/3 -> e_1, e_2, e_4.
    CHECK(spectrum(spec, 3) == std::vector<double>{0.5, 1.0, 4.0});
    CHECK(spectrum(spec, 1) == std::vector<double>{1.0});  // u n = 2 -> e_2
    spec.eigenvalues = {3.0};
    for (double l : spectrum(spec, 5)) CHECK(l == 3.0);
    CHECK(to_string(parse_spectrum("marchenko-pastur")) == "marchenko-pastur");
    CHECK(to_string(parse_spectrum("file")) == "file");
}
