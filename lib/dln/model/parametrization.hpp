// The three predictors of THEORY.md §1 and the maps between their variables.
#pragma once

#include <string>
#include <string_view>

namespace dln::model {

enum class Parametrization { u2v2, uv, linear };

// Throws std::invalid_argument naming the accepted values.
Parametrization parse_parametrization(std::string_view name);
std::string to_string(Parametrization p);

// w = kappa (p*p - q*q); kappa = 1 for u2v2, 1/2 for uv (and 1 by convention for linear,
// where it never enters).
double kappa(Parametrization p);

// A network's coordinate in the rotated variables (p, q) of THEORY.md §1.
struct RotatedPair {
    double p;
    double q;
};

// u2v2 is already in (p, q); uv rotates by 45 degrees: p = (u+v)/sqrt2, q = (u-v)/sqrt2.
inline RotatedPair to_rotated(Parametrization param, double u, double v) {
    if (param == Parametrization::uv) {
        constexpr double inv_sqrt2 = 0.70710678118654752440;
        return {(u + v) * inv_sqrt2, (u - v) * inv_sqrt2};
    }
    return {u, v};
}

// Standard initialisation at scale alpha (p0 = q0 = alpha, so w = 0): returns (u0, v0).
// For linear the state is w alone and starts at 0; alpha has no effect.
struct InitialPair {
    double u;
    double v;
};
InitialPair standard_initialisation(Parametrization param, double alpha);

}  // namespace dln::model
