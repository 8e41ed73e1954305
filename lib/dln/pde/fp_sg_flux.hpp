// The Scharfetter-Gummel flux through one face of a class's grid: the one definition of the
// weights B(-P), B(P) and of their derivatives, shared by the residual, the analytic Jacobian
// and the fallback's preconditioner (which must all see the same discretisation).
#pragma once

#include <algorithm>
#include <cmath>

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/rng/portable_math.hpp"

namespace dln::pde::fp {

// B(x) = x / (e^x - 1), the Scharfetter-Gummel weight, evaluated without cancellation. Both
// branches are computed and one selected (x = 0 makes the quotient 0/0, never selected), so
// that a loop over faces vectorises; e^x - 1 is rng/portable_math.hpp's, branch-free too.
inline double bernoulli(double x) {
    const double series = 1.0 - 0.5 * x + x * x / 12.0;
    const double direct = x / rng::math::expm1_portable(x);
    return std::abs(x) < 1e-5 ? series : direct;
}

// B'(x) = B(1 - B)/x - B, and its series where 1 - B cancels.
inline double bernoulli_slope(double x, double b) {
    const double series = -0.5 + x / 6.0 - x * x * x / 180.0;
    const double direct = b * (1.0 - b) / x - b;
    return std::abs(x) < 1e-3 ? series : direct;
}

// The velocity in xi at a face: the drift increment phi there less the frame's own motion.
inline double face_velocity(double phi, const Coefficients& c, double xi) {
    return phi - c.mean_shift - 0.5 * c.lv_dot * xi;
}

// J = (D/h) [B(-P) g_left - B(P) g_right], P = V h / D, with B(-P) = B(P) + P; without
// diffusion (R = 0) pure upwind.
class SgFace {
public:
    SgFace(double velocity, double diffusion, double h) : SgFace(velocity, diffusion, h, weight(velocity, diffusion, h)) {}
    // With its weight B(P) computed beforehand by weight() (in a loop over faces that vectorises).
    SgFace(double velocity, double diffusion, double h, double b)
        : v_(velocity), d_(diffusion), upwind_(diffusion < 1e-300), b_(b) {
        if (!upwind_) {
            p_ = velocity * h / diffusion;
            scale_ = diffusion / h;
        }
    }
    // B(P), P = V h / D (unused without diffusion).
    static double weight(double velocity, double diffusion, double h) { return bernoulli(velocity * h / diffusion); }

    // J = minus g_left - plus g_right.
    double minus() const { return upwind_ ? std::max(v_, 0.0) : scale_ * (b_ + p_); }
    double plus() const { return upwind_ ? -std::min(v_, 0.0) : scale_ * b_; }

    // The flux itself, as the residual forms it: D/h times the weighted difference (one
    // product fewer than minus() g_left - plus() g_right, and a different rounding).
    double flux(double left, double right) const {
        if (upwind_) return v_ > 0.0 ? v_ * left : v_ * right;
        return scale_ * ((b_ + p_) * left - b_ * right);
    }

    struct Slopes {
        double velocity;   // dJ/dV
        double diffusion;  // dJ/dD
    };
    Slopes slopes(double left, double right) const {
        if (upwind_) return {v_ > 0.0 ? left : right, 0.0};
        const double slope = bernoulli_slope(p_, b_);
        const double flux_value = minus() * left - plus() * right;
        const double jv = (slope + 1.0) * left - slope * right;  // B'(-P) = -B'(P) - 1
        return {jv, (flux_value - v_ * jv) / d_};
    }

private:
    double v_, d_;
    bool upwind_;
    double b_, p_ = 0.0, scale_ = 0.0;
};

}  // namespace dln::pde::fp
