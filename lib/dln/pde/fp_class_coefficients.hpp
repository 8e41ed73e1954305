// The per-class coefficients of THEORY.md §3 in the class's co-moving frame, and the drift
// increments (with their derivatives) at points of its grid.
#pragma once

#include <cstddef>

#include "dln/pde/fp_problem.hpp"
#include "dln/rng/portable_math.hpp"

namespace dln::pde::fp {

// The per-class coefficients of THEORY.md §3 at the class's state and the risk R. The frame
// follows the class's own moments, computed from g: m' = E b(x), v' = 2 Cov(x, b(x)) + 2D,
// which keeps g centred with unit variance in xi (a Gaussian closure would lag behind the
// skewed transient between x0 and the fixed point). Every difference b(x_j) - b(m) is formed
// analytically, so nothing cancels when the class has contracted to a width of 1e-8.
struct Coefficients {
    double m, v, s, q;
    double m_dot, lv_dot, lq_dot;  // the frame and Q
    double diffusion;              // D / v: the diffusion coefficient in xi
    double rate;                   // A = 8 k^2 g lambda Q (networks) or g lambda (linear): the drift's scale
    double mean_shift;             // (E b(x) - b(m)) / s
    double stiffness;              // -Cov(xi, (b(x) - b(m))/s) / Var(xi): the mean's relaxation rate
    double xi_variance;            // Var(xi) under g (1 up to O(h^2) at the start, and kept)
    double mass, xi_mean, covariance;  // sum of g, E xi and Cov(xi, phi) under g (for the Jacobian)
    double d_per_risk;             // D v / R: the diffusion in x per unit of risk
    double drift_at_m;             // b(m)
    double d;                      // D: the diffusion in x at the risk frame() was given
};

// The frame's part of the coefficients of class k at state y (everything but the moments of g).
Coefficients frame(const Problem& p, std::size_t k, const double* y, double risk);

// The moments' part of the coefficients, from the class's g and the drift increments phi at
// the centres of its grid.
void moments(const Grid& grid, const double* g, const double* phi, Coefficients& c);

// (log Q)' = -q_rate R.
double q_rate(const Problem& p, const CoordinateClass& cls);

// w(x): the predictor of a coordinate at x (log-ratio for the networks, w itself for linear).
// Inline, with rng/portable_math.hpp's sinh, for the per-cell loops of the risk and the
// observables (libm's sinh was 4% of a power-law solve: the divergence test's risk calls it
// once per cell at every step; 2026-12-02).
inline double predictor(const Problem& p, double x, double q) {
    return p.linear ? x : 2.0 * p.kappa * q * rng::math::sinh_portable(x);
}

// At points xi of a class's grid, with two exponentials per point: the drift increments
// phi = (b(m + s xi) - b(m))/s = -2A cosh(m + s xi/2) sinh(s xi/2)/s and, if error is given,
// the predictor's error w(m + s xi) - c. sinh(s xi/2) comes from expm1 near 0, so nothing
// cancels when the class is narrow; exp(m + s xi) = exp(m + s xi/2) exp(s xi/2).
void drift_points(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi, std::size_t n,
                  double* phi, double* error);

// drift_points with the derivatives the Jacobian needs: d phi/dm, d phi/d log v and, at the
// centres (if error is given), the predictor's slope dw/dx. (d phi/d log Q = phi for the
// networks, 0 for linear; d error/d log Q = error + c, resp. 0.)
void drift_derivatives(const Problem& p, const Coefficients& c, const CoordinateClass& cls, const double* xi,
                       std::size_t n, double* phi, double* phi_m, double* phi_lv, double* error, double* slope);

}  // namespace dln::pde::fp
