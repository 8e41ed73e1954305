#include "dln/pde/fp_class_coefficients.hpp"

#include <cmath>

#include "dln/rng/portable_math.hpp"

namespace dln::pde::fp {
namespace {

// The exponentials of the drift at the point x = m + s xi, from half = s xi/2: e = exp(m + half),
// sinh(half) without cancellation near 0 (a polynomial for |half| <= 1) and exp(m + s xi) =
// e exp(half). Branch-free (rng/portable_math.hpp computes both branches and selects), so that
// the loops over a class's points below vectorise: they were half of a solve's time with libm's
// scalar exp and expm1 (perf, 2026-12-02).
struct PointExponentials {
    double e, sinh_half, y;
};
inline PointExponentials point_exponentials(double m, double half) {
    const double exp_half = rng::math::exp_portable(half);
    const double e = rng::math::exp_portable(m + half);
    return {e, rng::math::sinh_with_exp(half, exp_half), e * exp_half};
}

// The networks' loops of drift_points and drift_derivatives, one instance with the errors and
// one without: a test inside the loop kept it from vectorising (GCC 12 did not unswitch it). The
// coefficients are copied to locals first, so that no store through phi can alias them.
template <bool WithError>
void network_drift(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi, std::size_t n,
                   double* phi, double* error) {
    const double scale = -c.rate / c.s, amplitude = 2.0 * p.kappa * c.q;
    const double m = c.m, half_s = 0.5 * c.s, target = cls.target;
    for (std::size_t j = 0; j < n; ++j) {
        const auto [e, sinh_half, y] = point_exponentials(m, half_s * xi[j]);
        phi[j] = scale * (e + 1.0 / e) * sinh_half;  // -2A cosh(m + half) sinh(half) / s
        if constexpr (WithError) error[j] = amplitude * 0.5 * (y - 1.0 / y) - target;
    }
}

template <bool WithError>
void network_drift_derivatives(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi,
                               std::size_t n, double* phi, double* phi_m, double* phi_lv, double* error, double* slope) {
    const double scale = -c.rate / c.s, amplitude = 2.0 * p.kappa * c.q;
    const double m = c.m, half_s = 0.5 * c.s, rate = c.rate, target = cls.target;
    for (std::size_t j = 0; j < n; ++j) {
        const auto [e, sinh_half, y] = point_exponentials(m, half_s * xi[j]);
        const double cosh_x = 0.5 * (y + 1.0 / y);
        const double phi_j = scale * (e + 1.0 / e) * sinh_half;
        phi[j] = phi_j;
        phi_m[j] = scale * (e - 1.0 / e) * sinh_half;
        // d/d log v = (s/2) d/ds, and d phi/ds = -(A xi/s) cosh(m + s xi) - phi/s.
        phi_lv[j] = -0.5 * rate * xi[j] * cosh_x - 0.5 * phi_j;
        if constexpr (WithError) {
            error[j] = amplitude * 0.5 * (y - 1.0 / y) - target;
            slope[j] = amplitude * cosh_x;
        }
    }
}

}  // namespace

Coefficients frame(const Problem& p, std::size_t k, const double* y, double risk) {
    const CoordinateClass& cls = p.classes[k];
    const double kappa = p.kappa, lr = p.lr;
    Coefficients c{};
    c.m = y[p.layout.mean(k)];
    c.v = std::exp(y[p.layout.log_variance(k)]);
    c.s = std::exp(0.5 * y[p.layout.log_variance(k)]);
    c.q = std::exp(y[p.layout.log_q(k)]);
    if (p.linear) {
        // dw = -g lambda (w - c) dt + g sqrt(2 R lambda) dB
        c.rate = lr * cls.lambda;
        c.d_per_risk = lr * lr * cls.lambda;
        c.drift_at_m = -c.rate * (c.m - cls.target);
        c.lq_dot = 0.0;
    } else {
        // dl = -4 k g lambda (2 k Q sinh l - c) dt + 4 k g sqrt(2 R lambda) dB
        c.rate = 8.0 * kappa * kappa * lr * cls.lambda * c.q;
        c.d_per_risk = 16.0 * kappa * kappa * lr * lr * cls.lambda;
        c.drift_at_m = -c.rate * std::sinh(c.m) + 4.0 * kappa * lr * cls.lambda * cls.target;
        c.lq_dot = -q_rate(p, cls) * risk;
    }
    c.d = c.d_per_risk * risk;
    return c;
}

double q_rate(const Problem& p, const CoordinateClass& cls) {
    return p.linear ? 0.0 : 8.0 * p.kappa * p.kappa * p.lr * p.lr * cls.lambda;
}

void moments(const Grid& grid, const double* g, const double* phi, Coefficients& c) {
    const std::size_t cells = grid.cells;
    const double* centre = grid.centre.data();
    double mass = 0.0, xi_mean = 0.0, step_mean = 0.0;
    for (std::size_t j = 0; j < cells; ++j) {
        mass += g[j];
        xi_mean += g[j] * centre[j];
        step_mean += g[j] * phi[j];
    }
    xi_mean /= mass;
    step_mean /= mass;
    double covariance = 0.0, xi_variance = 0.0;
    for (std::size_t j = 0; j < cells; ++j) {
        covariance += g[j] * (centre[j] - xi_mean) * (phi[j] - step_mean);
        xi_variance += g[j] * (centre[j] - xi_mean) * (centre[j] - xi_mean);
    }
    covariance /= mass;
    xi_variance /= mass;
    c.mean_shift = step_mean;
    c.stiffness = -covariance / xi_variance;
    c.m_dot = c.drift_at_m + c.s * step_mean;
    c.lv_dot = (2.0 * covariance + 2.0 * c.d / c.v) / xi_variance;
    c.diffusion = c.d / c.v;
    c.xi_variance = xi_variance;
    c.mass = mass;
    c.xi_mean = xi_mean;
    c.covariance = covariance;
}

void drift_points(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi, std::size_t n,
                  double* phi, double* error) {
    if (p.linear) {
        for (std::size_t j = 0; j < n; ++j) {
            phi[j] = -c.rate * xi[j];
            if (error != nullptr) error[j] = c.m + c.s * xi[j] - cls.target;
        }
        return;
    }
    if (error != nullptr) {
        network_drift<true>(p, c, cls, xi, n, phi, error);
    } else {
        network_drift<false>(p, c, cls, xi, n, phi, nullptr);
    }
}

void drift_derivatives(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi,
                       std::size_t n, double* phi, double* phi_m, double* phi_lv, double* error, double* slope) {
    if (p.linear) {
        for (std::size_t j = 0; j < n; ++j) {
            phi[j] = -c.rate * xi[j];
            phi_m[j] = phi_lv[j] = 0.0;
            if (error != nullptr) {
                error[j] = c.m + c.s * xi[j] - cls.target;
                slope[j] = 1.0;
            }
        }
        return;
    }
    if (error != nullptr) {
        network_drift_derivatives<true>(p, c, cls, xi, n, phi, phi_m, phi_lv, error, slope);
    } else {
        network_drift_derivatives<false>(p, c, cls, xi, n, phi, phi_m, phi_lv, nullptr, nullptr);
    }
}

}  // namespace dln::pde::fp
