// The coordinate classes of THEORY.md §3: as d -> infinity the coordinates fall into classes
// of equal (target c, eigenvalue lambda, initial balance Q0), with weights pi. A continuous
// target or spectrum law is discretised by quadrature.
#pragma once

#include <cstddef>
#include <vector>

#include "dln/model/data_model.hpp"
#include "dln/model/parametrization.hpp"

namespace dln::pde {

struct CoordinateClass {
    double target;  // c_k
    double lambda;  // lambda_k
    double weight;  // pi_k, summing to 1 over classes
    double q0;      // Q_k(0) = p0 q0 (alpha^2 at the standard initialisation)
    double x0;      // the initial log-ratio log(p0/q0) (networks) or w0 (linear)
};

struct QuadratureSpec {
    std::size_t target_nodes = 16;   // Gauss-Hermite nodes for a gaussian target
    std::size_t spectrum_nodes = 8;  // equal-mass bins of the power-law spectrum
};

// Gauss-Hermite rule for the weight exp(-x^2): n nodes ascending and their weights (sum sqrt(pi)).
void gauss_hermite(std::size_t n, std::vector<double>& nodes, std::vector<double>& weights);

// Spectrum classes. Isotropic: one class lambda = 1. Power law: the d -> infinity law of
// lambda_i = ((i - 1/2)/d)^(-a) / mean is lambda(u) = (1 - a) u^(-a), u uniform on (0, 1);
// bin m of n equal-mass bins gets its conditional mean, so the classes' mean is exactly 1.
std::vector<std::pair<double, double>> spectrum_classes(const model::DataSpec& data, std::size_t nodes);

// The (target x spectrum) classes of the standard initialisation at scale alpha. Throws
// std::invalid_argument for an initialisation the log-ratio variables cannot represent.
std::vector<CoordinateClass> make_classes(const model::DataSpec& data, model::Parametrization param,
                                          double alpha, const QuadratureSpec& spec);

}  // namespace dln::pde
