// The data model of THEORY.md §1: x ~ N(0, K/d) with K = diag(lambda), y = <x, beta*> + sigma xi.
#pragma once

#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

namespace dln::model {

enum class Spectrum { isotropic, powerlaw, marchenko_pastur, file };
enum class TargetLaw { constant, rademacher, gaussian };

Spectrum parse_spectrum(std::string_view name);
TargetLaw parse_target_law(std::string_view name);
std::string to_string(Spectrum s);
std::string to_string(TargetLaw t);

struct DataSpec {
    Spectrum spectrum = Spectrum::isotropic;
    double exponent = 0.0;  // a of the power law, 0 <= a < 1
    double ratio = 0.5;     // r of the Marchenko-Pastur law, 0 < r <= 1
    // The eigenvalues of a file spectrum, sorted ascending, all finite and > 0 (config reads
    // the file; the model never touches files). Empty for the other spectra.
    std::vector<double> eigenvalues;
    double noise = 0.0;     // sigma, the label-noise standard deviation
    double sparsity = 0.1;  // s, the fraction of nonzero target coordinates
    TargetLaw target = TargetLaw::constant;
    double scale = 1.0;     // b, the size of a nonzero target coordinate
    bool operator==(const DataSpec&) const = default;
};

// lambda_1..lambda_d. Isotropic: all ones. Power law: lambda_i proportional to
// ((i - 1/2)/d)^(-a), rescaled to mean exactly 1 (up to rounding).
// Marchenko-Pastur: lambda_i is the quantile at (i - 1/2)/d of the MP law of ratio r (mean 1,
// variance r); file: the quantile at (i - 1/2)/d of the empirical law of spec.eigenvalues. These
// two are NOT rescaled: the quantiles are what they are, and their mean is 1 (MP) or the file's
// mean only up to the midpoint rule's error at finite d.
std::vector<double> spectrum(const DataSpec& spec, std::size_t dim);

// The Marchenko-Pastur law of ratio r in (0, 1] in the angle theta in [0, pi]:
// lambda(theta) = 1 + r - 2 sqrt(r) cos(theta), under which f(lambda) dlambda =
// 2 sin^2(theta) / (pi lambda(theta)) dtheta. mp_lambda evaluates lambda(theta) without
// cancellation near the lower edge, mp_cdf is the CDF as a function of theta (closed form),
// mp_quantile_angle its inverse (safeguarded Newton, |error| ~ 1e-15 in theta).
double mp_lambda(double ratio, double theta);
double mp_cdf(double ratio, double theta);
double mp_quantile_angle(double ratio, double u);

// Number of nonzero target coordinates: round(s d). A fixed count rather than a Bernoulli
// draw per coordinate, so the initial risk does not fluctuate from replicate to replicate.
std::size_t support_size(const DataSpec& spec, std::size_t dim);

// beta* for one replicate. The support is a uniformly random subset (independent of the
// spectrum), drawn by a partial Fisher-Yates shuffle; the values follow the target law.
// Source must provide uniform() in (0, 1] and gaussian() ~ N(0, 1).
template <class Source>
std::vector<double> draw_target(const DataSpec& spec, std::size_t dim, Source& source) {
    std::vector<std::size_t> index(dim);
    std::iota(index.begin(), index.end(), std::size_t{0});
    const std::size_t m = support_size(spec, dim);
    std::vector<double> beta(dim, 0.0);
    for (std::size_t j = 0; j < m; ++j) {
        const auto span = static_cast<double>(dim - j);
        auto pick = j + static_cast<std::size_t>(std::ceil(source.uniform() * span)) - 1;
        if (pick >= dim) pick = dim - 1;  // guards uniform() == 1 rounding
        std::swap(index[j], index[pick]);
        double value = spec.scale;
        if (spec.target == TargetLaw::rademacher) {
            value = source.uniform() <= 0.5 ? spec.scale : -spec.scale;
        } else if (spec.target == TargetLaw::gaussian) {
            value = spec.scale * source.gaussian();
        }
        beta[index[j]] = value;
    }
    return beta;
}

}  // namespace dln::model
