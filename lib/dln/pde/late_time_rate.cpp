#include "dln/pde/late_time_rate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace dln::pde {

double late_time_rate(model::Parametrization param, double lr, const std::vector<CoordinateClass>& classes,
                      const std::vector<double>& q_final) {
    const bool linear = param == model::Parametrization::linear;
    const double kappa = model::kappa(param);
    std::vector<double> a(classes.size()), uv(classes.size());
    for (std::size_t k = 0; k < classes.size(); ++k) {
        const auto& cls = classes[k];
        double slope, noise2;  // w'_k and b_k^2
        if (linear) {
            slope = 1.0;
            a[k] = lr * cls.lambda;
            noise2 = 2.0 * lr * lr * cls.lambda;
        } else {
            const double q = q_final.at(k);
            const double fixed_point = std::asinh(cls.target / (2.0 * kappa * q));
            slope = 2.0 * kappa * q * std::cosh(fixed_point);
            a[k] = 4.0 * kappa * lr * cls.lambda * slope;
            noise2 = 32.0 * kappa * kappa * lr * lr * cls.lambda;
        }
        uv[k] = 0.5 * slope * slope * noise2 * cls.weight * cls.lambda;  // u_k v_k of M = -2 diag(a) + u v^T
    }
    // Eigenvalues mu of -2 diag(a) + u v^T off the diagonal solve f(mu) = sum_k u_k v_k / (mu + 2 a_k) = 1;
    // f falls from +infinity to 0 on (-2 min a, infinity), so the largest root is found by bisection.
    const double lower = -2.0 * *std::min_element(a.begin(), a.end());
    auto f = [&](double mu) {
        double sum = 0.0;
        for (std::size_t k = 0; k < a.size(); ++k) sum += uv[k] / (mu + 2.0 * a[k]);
        return sum;
    };
    double hi = std::max(1.0, std::abs(lower));
    while (f(hi) > 1.0) hi *= 2.0;
    double lo = lower;
    for (int iter = 0; iter < 200; ++iter) {
        const double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi) break;
        (f(mid) > 1.0 ? lo : hi) = mid;
    }
    return -0.5 * (lo + hi);
}

}  // namespace dln::pde
