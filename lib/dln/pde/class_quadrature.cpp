#include "dln/pde/class_quadrature.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace dln::pde {

void gauss_hermite(std::size_t n, std::vector<double>& nodes, std::vector<double>& weights) {
    // Newton on the orthonormal Hermite recurrence, with the usual asymptotic first guesses
    // (Golub-Welsch would need an eigensolver for the same dozen numbers).
    if (n == 0) throw std::invalid_argument("Gauss-Hermite needs at least one node");
    const double pim4 = 0.7511255444649425;  // pi^(-1/4)
    nodes.assign(n, 0.0);
    weights.assign(n, 0.0);
    const std::size_t m = (n + 1) / 2;
    const double nd = static_cast<double>(n);
    double z = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        if (i == 0) z = std::sqrt(2.0 * nd + 1.0) - 1.85575 * std::pow(2.0 * nd + 1.0, -0.16667);
        else if (i == 1) z -= 1.14 * std::pow(nd, 0.426) / z;
        else if (i == 2) z = 1.86 * z - 0.86 * nodes[n - 1];
        else if (i == 3) z = 1.91 * z - 0.91 * nodes[n - 2];
        else z = 2.0 * z - nodes[n - i + 1];
        double pp = 0.0;
        for (int iter = 0; iter < 100; ++iter) {
            double p1 = pim4, p2 = 0.0;
            for (std::size_t j = 1; j <= n; ++j) {
                const double p3 = p2;
                p2 = p1;
                const double jd = static_cast<double>(j);
                p1 = z * std::sqrt(2.0 / jd) * p2 - std::sqrt((jd - 1.0) / jd) * p3;
            }
            pp = std::sqrt(2.0 * nd) * p2;
            const double z1 = z;
            z = z1 - p1 / pp;
            if (std::abs(z - z1) <= 1e-15 * std::max(1.0, std::abs(z))) break;
        }
        nodes[n - 1 - i] = z;   // stored ascending
        nodes[i] = -z;
        weights[i] = weights[n - 1 - i] = 2.0 / (pp * pp);
    }
    if (n % 2 == 1) nodes[m - 1] = 0.0;
}

std::vector<std::pair<double, double>> spectrum_classes(const model::DataSpec& data, std::size_t nodes) {
    if (data.spectrum == model::Spectrum::isotropic) return {{1.0, 1.0}};
    if (nodes == 0) throw std::invalid_argument("the power-law spectrum needs at least one node");
    // Bin [u0, u1] of (1 - a) u^(-a) has mass u1 - u0 and integral u1^(1-a) - u0^(1-a).
    const double a = data.exponent;
    const double n = static_cast<double>(nodes);
    std::vector<std::pair<double, double>> out;
    for (std::size_t m = 0; m < nodes; ++m) {
        const double u0 = static_cast<double>(m) / n, u1 = static_cast<double>(m + 1) / n;
        out.emplace_back(n * (std::pow(u1, 1.0 - a) - std::pow(u0, 1.0 - a)), 1.0 / n);
    }
    return out;
}

std::vector<CoordinateClass> make_classes(const model::DataSpec& data, model::Parametrization param,
                                          double alpha, const QuadratureSpec& spec) {
    // Target classes (c, weight).
    std::vector<std::pair<double, double>> targets;
    const double s = data.sparsity, b = data.scale;
    if (s > 0.0) {
        switch (data.target) {
            case model::TargetLaw::constant: targets.emplace_back(b, s); break;
            case model::TargetLaw::rademacher:
                targets.emplace_back(-b, 0.5 * s);
                targets.emplace_back(b, 0.5 * s);
                break;
            case model::TargetLaw::gaussian: {
                std::vector<double> x, w;
                gauss_hermite(spec.target_nodes, x, w);
                for (std::size_t i = 0; i < x.size(); ++i) {
                    targets.emplace_back(b * std::sqrt(2.0) * x[i], s * w[i] / std::sqrt(M_PI));
                }
                break;
            }
        }
    }
    if (s < 1.0) targets.emplace_back(0.0, 1.0 - s);

    const auto init = model::standard_initialisation(param, alpha);
    double q0 = 0.0, x0 = 0.0;
    if (param != model::Parametrization::linear) {
        const auto pq = model::to_rotated(param, init.u, init.v);
        // The log-ratio variables need p0, q0 > 0 (they never change sign afterwards).
        if (!(pq.p > 0.0 && pq.q > 0.0)) {
            throw std::invalid_argument("the PDE needs p0 > 0 and q0 > 0 (log(p/q) is undefined otherwise); got p0 = " +
                                        std::to_string(pq.p) + ", q0 = " + std::to_string(pq.q));
        }
        q0 = pq.p * pq.q;
        x0 = std::log(pq.p / pq.q);
    }
    std::vector<CoordinateClass> classes;
    for (const auto& [lambda, lambda_weight] : spectrum_classes(data, spec.spectrum_nodes)) {
        for (const auto& [c, target_weight] : targets) {
            classes.push_back({c, lambda, target_weight * lambda_weight, q0, x0});
        }
    }
    return classes;
}

}  // namespace dln::pde
