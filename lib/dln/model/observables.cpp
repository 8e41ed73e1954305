#include "dln/model/observables.hpp"

#include <cmath>
#include <limits>

namespace dln::model {

Observables measure(Parametrization param, std::span<const double> u, std::span<const double> v,
                    std::span<const double> lambda, std::span<const double> beta, double noise,
                    double threshold) {
    const std::size_t dim = u.size();
    const bool linear = param == Parametrization::linear;
    const double k2x4 = 4.0 * kappa(param) * kappa(param);
    double risk_sum = 0.0, dist_sum = 0.0, l1_sum = 0.0, curv_sum = 0.0, grad_sum = 0.0,
           balance_sum = 0.0;
    std::size_t null_count = 0, false_count = 0;
    for (std::size_t i = 0; i < dim; ++i) {
        const double vi = linear ? 0.0 : v[i];
        const double w = predictor(param, u[i], vi);
        const double delta = w - beta[i];
        risk_sum += lambda[i] * delta * delta;
        dist_sum += delta * delta;
        l1_sum += std::abs(w);
        if (linear) {
            curv_sum += lambda[i];
            grad_sum += lambda[i] * lambda[i] * delta * delta;
        } else {
            const double norm2 = u[i] * u[i] + vi * vi;  // p^2 + q^2 (the rotation is orthogonal)
            curv_sum += k2x4 * lambda[i] * norm2;
            grad_sum += k2x4 * lambda[i] * lambda[i] * delta * delta * norm2;
            balance_sum += param == Parametrization::u2v2 ? u[i] * vi : 0.5 * (u[i] * u[i] - vi * vi);
        }
        if (beta[i] == 0.0) {
            ++null_count;
            if (std::abs(w) > threshold) ++false_count;
        }
    }
    const double n = static_cast<double>(dim);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Observables o{};
    o[excess] = 0.5 * risk_sum / n;
    o[risk] = o[excess] + 0.5 * noise * noise;
    o[dist] = dist_sum / n;
    o[l1] = l1_sum / n;
    o[curvature] = curv_sum / n;
    o[gradnorm] = grad_sum / n;
    o[balance] = linear ? nan : balance_sum / n;
    o[false_support] =
        null_count == 0 ? nan : static_cast<double>(false_count) / static_cast<double>(null_count);
    return o;
}

}  // namespace dln::model
