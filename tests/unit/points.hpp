// Grid points the unit tests share.
#pragma once

#include <cstddef>

#include "dln/sim/trajectory.hpp"

namespace dln::testing {

// linear, isotropic, s = 0.1, constant b = 1, so R0 - sigma^2/2 = 0.05 exactly.
inline sim::PointSpec linear_point(double lr, std::size_t dim, double noise) {
    sim::PointSpec p;
    p.parametrization = model::Parametrization::linear;
    p.lr = lr;
    p.dim = dim;
    p.data.noise = noise;
    return p;
}

}  // namespace dln::testing
