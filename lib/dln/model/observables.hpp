// The observables of THEORY.md §4: per-coordinate averages, O(1) as d grows.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "dln/model/parametrization.hpp"

namespace dln::model {

enum Observable : std::size_t {
    risk,           // 1/2 mean lambda (w - beta*)^2 + sigma^2/2
    excess,         // risk - sigma^2/2
    dist,           // mean (w - beta*)^2
    l1,             // mean |w|
    curvature,      // d * trace of the population-risk Hessian in (p, q): mean 4 k^2 lambda (p^2+q^2)
    gradnorm,       // d * |grad R|^2 in (p, q): mean 4 k^2 lambda^2 Delta^2 (p^2+q^2)
    balance,        // mean p q (alpha_eff^2); NaN for linear, which has no such quantity
    false_support,  // fraction of beta* = 0 coordinates with |w| > tau; NaN if there are none
    observable_count
};

inline constexpr std::array<std::string_view, observable_count> observable_names = {
    "risk", "excess", "dist", "l1", "curvature", "gradnorm", "balance", "false_support"};

// What each observable is, in a line (the long_name of its variable in result files).
inline constexpr std::array<std::string_view, observable_count> observable_long_names = {
    "risk R = mean lambda (w - beta*)^2 / 2 + sigma^2 / 2",
    "excess risk R - sigma^2 / 2",
    "mean squared distance to the target, mean (w - beta*)^2",
    "mean |w|",
    "d times the trace of the population-risk Hessian in (p, q)",
    "d times the squared gradient norm in (p, q)",
    "balance, mean p q",
    "fraction of null target coordinates with |w| > tau (run.threshold)",
};

using Observables = std::array<double, observable_count>;

// The state is (u, v) for the networks and w (passed as u, with v empty) for linear.
// For linear, curvature is mean lambda and gradnorm is d |grad_w R|^2 = mean lambda^2 Delta^2.
Observables measure(Parametrization param, std::span<const double> u, std::span<const double> v,
                    std::span<const double> lambda, std::span<const double> beta, double noise,
                    double threshold);

// The predictor w_i of the state (u_i, v_i).
inline double predictor(Parametrization param, double u, double v) {
    switch (param) {
        case Parametrization::u2v2: return u * u - v * v;
        case Parametrization::uv: return u * v;
        case Parametrization::linear: return u;
    }
    return u;
}

}  // namespace dln::model
