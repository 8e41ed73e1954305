#include "dln/pde/fp_observables.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/pde/fp_risk.hpp"

namespace dln::pde::fp {

model::Observables observe(const Problem& p, const double* y, double threshold) {
    model::Observables o{};
    const bool linear = p.linear;
    double dist = 0.0, l1 = 0.0, curvature = 0.0, gradnorm = 0.0, balance = 0.0, null_weight = 0.0,
           false_mass = 0.0;
    const double k2x4 = 4.0 * p.kappa * p.kappa;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const auto& cls = p.classes[k];
        const Grid& grid = p.grid(k);
        const double h = grid.h;
        const double* g = y + p.layout.g(k);
        const double m = y[p.layout.mean(k)], s = std::exp(0.5 * y[p.layout.log_variance(k)]),
                     q = std::exp(y[p.layout.log_q(k)]);
        double e2 = 0.0, a1 = 0.0, norm2 = 0.0, grad = 0.0, above = 0.0, mass = 0.0;
        for (std::size_t j = 0; j < p.layout.cells(k); ++j) {
            const double x = m + s * grid.centre[j];
            const double w = predictor(p, x, q), e = w - cls.target;
            const double pq2 = linear ? 1.0 : 2.0 * q * std::cosh(x);  // p^2 + q^2
            e2 += g[j] * e * e;
            a1 += g[j] * std::abs(w);
            norm2 += g[j] * pq2;
            grad += g[j] * e * e * pq2;
            mass += g[j];
            if (std::abs(w) > threshold) above += g[j];
        }
        dist += cls.weight * e2 * h;
        l1 += cls.weight * a1 * h;
        if (linear) {
            curvature += cls.weight * cls.lambda;
            gradnorm += cls.weight * cls.lambda * cls.lambda * e2 * h;
        } else {
            curvature += cls.weight * k2x4 * cls.lambda * norm2 * h;
            gradnorm += cls.weight * k2x4 * cls.lambda * cls.lambda * grad * h;
            balance += cls.weight * q * mass * h;
        }
        if (cls.target == 0.0) {
            null_weight += cls.weight;
            false_mass += cls.weight * above * h;
        }
    }
    o[model::risk] = risk(p, y);
    o[model::excess] = o[model::risk] - 0.5 * p.noise * p.noise;
    o[model::dist] = dist;
    o[model::l1] = l1;
    o[model::curvature] = curvature;
    o[model::gradnorm] = gradnorm;
    o[model::balance] = linear ? std::numeric_limits<double>::quiet_NaN() : balance;
    o[model::false_support] = null_weight > 0.0 ? false_mass / null_weight : std::numeric_limits<double>::quiet_NaN();
    return o;
}

std::vector<ClassDiagnostics> diagnose(const Problem& p, const double* y) {
    std::vector<ClassDiagnostics> out;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const double h = p.grid(k).h;
        const std::size_t cells = p.layout.cells(k);
        const std::size_t edge = std::max<std::size_t>(1, cells / 20);
        const double* g = y + p.layout.g(k);
        ClassDiagnostics d{};
        d.min_density = g[0];
        for (std::size_t j = 0; j < cells; ++j) {
            d.mass += g[j] * h;
            d.min_density = std::min(d.min_density, g[j]);
            if (j < edge || j >= cells - edge) d.edge_mass += g[j] * h;
        }
        d.mean = y[p.layout.mean(k)];
        d.variance = std::exp(y[p.layout.log_variance(k)]);
        d.q = std::exp(y[p.layout.log_q(k)]);
        out.push_back(d);
    }
    return out;
}

}  // namespace dln::pde::fp
