// The risk R = ½ Σ_k π_k λ_k ∫ (w − c_k)² ρ_k dx + σ²/2 of THEORY.md §3: the one definition of
// its integrand, used by the residual (R couples the classes), the Jacobian (its gradient),
// the fallback's preconditioner, the divergence test and the observables.
#pragma once

#include <cstddef>

#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

// Class k's term π_k λ_k h Σ_j g_j e_j², e_j = error(j) the predictor's error at cell j.
template <class Error>
double class_risk(const CoordinateClass& cls, const double* g, std::size_t cells, double h, Error&& error) {
    double acc = 0.0;
    for (std::size_t j = 0; j < cells; ++j) {
        const double e = error(j);
        acc += g[j] * e * e;
    }
    return cls.weight * cls.lambda * acc * h;
}

// R from the sum of the classes' terms.
inline double risk_from_classes(double class_sum, double noise) { return 0.5 * class_sum + 0.5 * noise * noise; }

// dR/dg_j = risk_weight e_j².
inline double risk_weight(const CoordinateClass& cls, double h) { return 0.5 * cls.weight * cls.lambda * h; }

// R at state y, the errors evaluated directly as w(m + s xi) - c. (The residual and the
// Jacobian take the errors from drift_points instead, which round differently in the last
// bits; which one each uses is part of the reference outputs.)
double risk(const Problem& p, const double* y);

}  // namespace dln::pde::fp
