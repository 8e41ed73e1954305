// The coordinate classes of THEORY.md §3: as d -> infinity the coordinates fall into classes
// of equal (target c, eigenvalue lambda, initial balance Q0), with weights pi. A continuous
// target or spectrum law is discretised by quadrature.
//
// The rules are built for the PDE's integrands and for an error controller that refines by
// doubling the node count n (it compares n with 2n):
// - every continuous law is a composite Gauss-Legendre rule with `points_per_panel` points on
//   panels that are uniform in a graded variable s in [0, 1]; doubling n halves every panel
//   (the panel edges of n are a subset of those of 2n). Any n >= 1 is allowed: n = P p + m
//   uses P = n / p panels, the first m of them with p + 1 points.
// - gaussian target (folded onto |c|, see below): c = b z, z half-normal, z = z0 sinh(s asinh(Z/z0))
//   with z0 = 0.1, Z = 7: geometric panels above z0, where the late-time transition between
//   learnt and unlearnt targets moves towards c = 0 as t grows (its width in c scales with its
//   position), uniform below; truncated at Z = 7, beyond which z^2 2 phi(z) holds 1.3e-10 of
//   E z^2 (the weights are renormalised to sum to 1).
// - power law lambda(u) = (1 - a) u^(-a): in v = u^(1-a), lambda du = dv is uniform; the weight
//   of a node is its v-weight / lambda. v = v0 sinh(s asinh(1/v0)), v0 = 0.1: geometric panels
//   towards v = 0 (the large-lambda tail that dominates early), uniform below v0.
// - Marchenko-Pastur: in theta with lambda = 1 + r - 2 sqrt(r) cos(theta), weight
//   2 sin^2(theta) / (pi lambda); theta = t0 sinh(s asinh(pi/t0)) with t0 = max(1 - sqrt(r), 0.05)
//   resolves the dip of width 1 - sqrt(r) of the weight at theta = 0 as r -> 1.
// - file spectrum: the law is the listed atoms; n >= the number m of distinct eigenvalues gives
//   them exactly (n is capped at m); n < m gives n equal-mass bins with their mean eigenvalue.
// For the power law and MP, the weights' sum and the lambda-mean are 1 only up to the rule's
// error; the rule is then corrected by pi_k <- pi_k / S, lambda_k <- lambda_k S (S = sum pi_k),
// which makes both exactly 1 (to rounding) and moves every node by the size of the rule's own
// error, so the order of the rule is kept.
//
// Symmetry fold: with x0 = 0 (the standard initialisation always has it: p0 = q0, w0 = 0) the
// dynamics are odd under c -> -c, and classes (c, pi) and (-c, pi) contribute identically to
// every observable, so the target law is folded onto |c|: rademacher is one class b of weight s,
// gaussian a half-normal. QuadratureSpec::fold = false keeps the signed law (for the test).
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
    std::size_t target_nodes = 16;   // nodes of a gaussian target law (on |c| when folded)
    std::size_t spectrum_nodes = 8;  // nodes of a non-isotropic spectrum (capped for a file spectrum)
    bool fold = true;                // fold c -> |c| when x0 = 0 (exact, see above)
};

// Gauss-Legendre points of the composite rules.
inline constexpr std::size_t points_per_panel = 4;

// Gauss-Legendre rule on [0, 1]: n nodes ascending, weights summing to 1.
void gauss_legendre(std::size_t n, std::vector<double>& nodes, std::vector<double>& weights);

// The composite rule on s in [0, 1] described above: n nodes, weights summing to 1.
void composite_rule(std::size_t n, std::vector<double>& nodes, std::vector<double>& weights);

// Nodes at which the rule is exact: 1 for a constant or rademacher target (folded; 2 unfolded),
// the number of distinct eigenvalues of a file spectrum, 1 for isotropic; 0 for a continuous
// law (never exact: gaussian target, powerlaw, marchenko-pastur).
std::size_t exact_target_nodes(const model::DataSpec& data);
std::size_t exact_spectrum_nodes(const model::DataSpec& data);
inline bool target_law_is_discrete(const model::DataSpec& data) { return exact_target_nodes(data) > 0; }
inline bool spectrum_is_discrete(const model::DataSpec& data) { return exact_spectrum_nodes(data) > 0; }

// Spectrum classes (lambda, weight), weights summing to 1 and the lambda-mean 1 (powerlaw, MP)
// or the file's mean (file), to rounding. `nodes` is ignored for isotropic.
std::vector<std::pair<double, double>> spectrum_classes(const model::DataSpec& data, std::size_t nodes);

// Nonzero-target classes (c, weight), weights summing to s (none when s = 0).
std::vector<std::pair<double, double>> target_classes(const model::DataSpec& data, std::size_t nodes, bool fold);

// The (target x spectrum) classes of the standard initialisation at scale alpha. Throws
// std::invalid_argument for an initialisation the log-ratio variables cannot represent.
std::vector<CoordinateClass> make_classes(const model::DataSpec& data, model::Parametrization param,
                                          double alpha, const QuadratureSpec& spec);

}  // namespace dln::pde
