// The time integration: PETSc's TS with the residual, Newton on the bordered Jacobian's LU
// (a chord iteration), the Jacobian-free fallback, and the divergence and cancel rules.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <vector>

#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

struct Integration {
    std::size_t steps = 0;  // accepted TS steps
    bool diverged = false;
    double diverged_at = std::numeric_limits<double>::quiet_NaN();
};

// Integrates y' = f(y) from state (times[0], overwritten with the last state reached) through
// times[1..], calling at_snapshot with the state at each of them. Stops at the first accepted
// step whose risk is not finite or exceeds risk_limit (diverged); throws sim::Cancelled when
// *cancel is raised, std::runtime_error when the stepper fails.
Integration integrate(const Problem& p, const PdeSpec& spec, const std::vector<double>& times, double risk_limit,
                      const std::atomic<bool>* cancel, std::vector<double>& state,
                      const std::function<void(const double*)>& at_snapshot);

}  // namespace dln::pde::fp
