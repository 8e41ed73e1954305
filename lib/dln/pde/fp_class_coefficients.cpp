#include "dln/pde/fp_class_coefficients.hpp"

#include <cmath>

namespace dln::pde::fp {
namespace {

// exp(x) and sinh(x), the latter without cancellation near 0 (expm1) and without dividing by
// 1 + expm1(x), which is 0 in floating point below x = -37.
inline void exp_sinh(double x, double& e, double& sh) {
    if (std::abs(x) < 0.5) {
        const double em = std::expm1(x);
        e = 1.0 + em;
        sh = em * (2.0 + em) / (2.0 * e);
    } else {
        e = std::exp(x);
        sh = 0.5 * (e - 1.0 / e);
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

double predictor(const Problem& p, double x, double q) { return p.linear ? x : 2.0 * p.kappa * q * std::sinh(x); }

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
    const double scale = -c.rate / c.s, amplitude = 2.0 * p.kappa * c.q;
    for (std::size_t j = 0; j < n; ++j) {
        const double half = 0.5 * c.s * xi[j];
        double exp_half, sinh_half;
        exp_sinh(half, exp_half, sinh_half);
        const double e = std::exp(c.m + half);
        phi[j] = scale * (e + 1.0 / e) * sinh_half;  // -2A cosh(m + half) sinh(half) / s
        if (error != nullptr) {
            const double y = e * exp_half;            // exp(m + s xi)
            error[j] = amplitude * 0.5 * (y - 1.0 / y) - cls.target;
        }
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
    const double scale = -c.rate / c.s, amplitude = 2.0 * p.kappa * c.q;
    for (std::size_t j = 0; j < n; ++j) {
        const double half = 0.5 * c.s * xi[j];
        double exp_half, sinh_half;
        exp_sinh(half, exp_half, sinh_half);
        const double e = std::exp(c.m + half);
        const double y = e * exp_half;  // exp(m + s xi)
        const double cosh_x = 0.5 * (y + 1.0 / y);
        phi[j] = scale * (e + 1.0 / e) * sinh_half;
        phi_m[j] = scale * (e - 1.0 / e) * sinh_half;
        // d/d log v = (s/2) d/ds, and d phi/ds = -(A xi/s) cosh(m + s xi) - phi/s.
        phi_lv[j] = -0.5 * c.rate * xi[j] * cosh_x - 0.5 * phi[j];
        if (error != nullptr) {
            error[j] = amplitude * 0.5 * (y - 1.0 / y) - cls.target;
            slope[j] = amplitude * cosh_x;
        }
    }
}

}  // namespace dln::pde::fp
