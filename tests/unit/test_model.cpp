#include <catch2/catch.hpp>

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
