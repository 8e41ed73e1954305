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
    std::size_t steps = 0;             // accepted TS steps
    std::size_t fallback_entries = 0;  // switches to the Jacobian-free fallback (fp_jacobian_free.hpp)
    std::size_t extent_changes = 0;    // class grids resized at snapshots (fp_extent.hpp)
    std::size_t frame_changes = 0;     // class frames re-centred on their density at snapshots (fp_extent.hpp)
    bool diverged = false;
    double diverged_at = std::numeric_limits<double>::quiet_NaN();
};

// Integrates y' = f(y) from state (times[0], overwritten with the last state reached) through
// times[1..], calling at_snapshot with the state at each of them. Stops at the first accepted
// step whose risk is not finite or exceeds risk_limit (diverged); throws sim::Cancelled when
// *cancel is raised, std::runtime_error when the stepper fails. After each snapshot the classes'
// frames and extents are revised (fp_extent.hpp): p's grids and the state change with them.
Integration integrate(Problem& p, const PdeSpec& spec, const std::vector<double>& times, double risk_limit,
                      const std::atomic<bool>* cancel, std::vector<double>& state,
                      const std::function<void(const double*)>& at_snapshot);

}  // namespace dln::pde::fp
