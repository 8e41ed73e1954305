// The explicit late-time rate of THEORY.md §5: linearising the PDE about the classes' fixed
// points, the class second moments obey y' = M y with M = -2 diag(a) + u v^T, and the risk decays
// like exp(-rho t) with rho = -(largest eigenvalue of M).
#pragma once

#include <vector>

#include "dln/model/parametrization.hpp"
#include "dln/pde/class_quadrature.hpp"

namespace dln::pde {

// q_final[k] is Q_k at (or near) t = infinity; for linear it is ignored. rho <= 0 means the
// fixed point is unstable.
double late_time_rate(model::Parametrization param, double lr, const std::vector<CoordinateClass>& classes,
                      const std::vector<double>& q_final);

}  // namespace dln::pde
