#include "dln/model/data_model.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace dln::model {

Spectrum parse_spectrum(std::string_view name) {
    if (name == "isotropic") return Spectrum::isotropic;
    if (name == "powerlaw") return Spectrum::powerlaw;
    if (name == "marchenko-pastur") return Spectrum::marchenko_pastur;
    if (name == "file") return Spectrum::file;
    throw std::invalid_argument("'" + std::string(name) +
                                "' is not one of isotropic, powerlaw, marchenko-pastur, file");
}

TargetLaw parse_target_law(std::string_view name) {
    if (name == "constant") return TargetLaw::constant;
    if (name == "rademacher") return TargetLaw::rademacher;
    if (name == "gaussian") return TargetLaw::gaussian;
    throw std::invalid_argument("'" + std::string(name) +
                                "' is not one of constant, rademacher, gaussian");
}

std::string to_string(Spectrum s) {
    switch (s) {
        case Spectrum::isotropic: return "isotropic";
        case Spectrum::powerlaw: return "powerlaw";
        case Spectrum::marchenko_pastur: return "marchenko-pastur";
        case Spectrum::file: return "file";
    }
    return "?";
}

std::string to_string(TargetLaw t) {
    switch (t) {
        case TargetLaw::constant: return "constant";
        case TargetLaw::rademacher: return "rademacher";
        case TargetLaw::gaussian: return "gaussian";
    }
    return "?";
}

double mp_lambda(double ratio, double theta) {
    // 1 + r - 2 rho cos(theta) = (1 - rho)^2 + 4 rho sin^2(theta/2): no cancellation at the lower edge.
    const double rho = std::sqrt(ratio), h = std::sin(0.5 * theta);
    return (1.0 - rho) * (1.0 - rho) + 4.0 * rho * h * h;
}

double mp_cdf(double ratio, double theta) {
    // With the Poisson kernel 1/lambda = (1 + 2 sum_k rho^k cos k theta) / (1 - rho^2), rho = sqrt(r),
    // the density 2 sin^2(theta) / (pi lambda) = (1/pi) [1 + rho cos theta - (1 - rho^2) sum_{m>=2}
    // rho^(m-2) cos m theta], so F(theta) = (1/pi) [theta + rho sin theta - (1 - rho^2) S] with
    // S = sum_{m>=2} rho^(m-2) sin(m theta) / m = (atan2(rho sin, 1 - rho cos) - rho sin) / rho^2.
    // F(pi) = 1 and, at r = 1, F = (theta + sin theta) / pi. For small rho the closed form of S
    // cancels (relative error eps/rho), so S is summed as its series there.
    if (theta <= 0.0) return 0.0;
    if (theta >= M_PI) return 1.0;
    const double rho = std::sqrt(ratio);
    const double sn = std::sin(theta), cs = std::cos(theta);
    double S = 0.0;
    if (rho < 0.25) {
        double prev = sn, cur = 2.0 * cs * sn, power = 1.0;  // sin(theta), sin(2 theta), rho^0
        for (int m = 2; m < 64 && power > 1e-18; ++m) {
            S += power * cur / m;
            const double next = 2.0 * cs * cur - prev;
            prev = cur;
            cur = next;
            power *= rho;
        }
    } else if (rho < 1.0) {
        const double h = std::sin(0.5 * theta);
        const double denominator = (1.0 - rho) + 2.0 * rho * h * h;  // 1 - rho cos(theta)
        S = (std::atan2(rho * sn, denominator) - rho * sn) / (rho * rho);
    }
    const double F = (theta + rho * sn - (1.0 - rho) * (1.0 + rho) * S) / M_PI;
    return std::clamp(F, 0.0, 1.0);
}

double mp_quantile_angle(double ratio, double u) {
    if (u <= 0.0) return 0.0;
    if (u >= 1.0) return M_PI;
    double lo = 0.0, hi = M_PI, theta = M_PI * u;
    for (int iter = 0; iter < 200; ++iter) {
        const double residual = mp_cdf(ratio, theta) - u;
        if (residual == 0.0) return theta;
        if (residual < 0.0) lo = theta; else hi = theta;
        const double sn = std::sin(theta);
        const double density = 2.0 * sn * sn / (M_PI * mp_lambda(ratio, theta));
        double next = theta - residual / density;
        // Newton while it stays inside the bracket, bisection otherwise.
        if (!(next > lo && next < hi) || !std::isfinite(next)) next = 0.5 * (lo + hi);
        const double step = std::abs(next - theta);
        theta = next;
        if (step <= 1e-15 * std::max(theta, 1e-3) || hi - lo <= 1e-15) break;
    }
    return theta;
}

std::vector<double> spectrum(const DataSpec& spec, std::size_t dim) {
    std::vector<double> lambda(dim, 1.0);
    if (spec.spectrum == Spectrum::isotropic || dim == 0) return lambda;
    if (spec.spectrum == Spectrum::marchenko_pastur) {
        // Midpoint quantiles of the MP law, not rescaled: their mean is 1 only as d -> infinity.
        for (std::size_t i = 0; i < dim; ++i) {
            const double u = (static_cast<double>(i) + 0.5) / static_cast<double>(dim);
            lambda[i] = mp_lambda(spec.ratio, mp_quantile_angle(spec.ratio, u));
        }
        return lambda;
    }
    if (spec.spectrum == Spectrum::file) {
        // Quantile at u = (i - 1/2)/d of the empirical law of e_1 <= ... <= e_n: e_ceil(u n), in
        // integers, ceil((2i - 1) n / (2d)) for 1-based i. Used as given, not rescaled.
        const auto& e = spec.eigenvalues;
        if (e.empty()) throw std::invalid_argument("the file spectrum has no eigenvalues");
        const std::uint64_t n = e.size(), twice_d = 2 * static_cast<std::uint64_t>(dim);
        for (std::size_t i = 0; i < dim; ++i) {
            const std::uint64_t k = ((2 * i + 1) * n + twice_d - 1) / twice_d;  // 1-based
            lambda[i] = e[std::clamp<std::uint64_t>(k, 1, n) - 1];
        }
        return lambda;
    }
    const auto d = static_cast<double>(dim);
    double sum = 0.0;
    for (std::size_t i = 0; i < dim; ++i) {
        lambda[i] = std::pow((static_cast<double>(i) + 0.5) / d, -spec.exponent);
        sum += lambda[i];
    }
    const double mean = sum / d;
    for (double& l : lambda) l /= mean;
    return lambda;
}

std::size_t support_size(const DataSpec& spec, std::size_t dim) {
    return static_cast<std::size_t>(std::llround(spec.sparsity * static_cast<double>(dim)));
}

}  // namespace dln::model
