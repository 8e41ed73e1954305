// The PDE as an error-controlled solver: the user states the relative accuracy of the excess risk
// (pde.rtol), the controller chooses the grid, the class quadrature and the time-integration
// tolerance, estimates each part of the error it leaves, and reports the estimate with the result.
//
// The error measure. At snapshot t_j let E(t_j) = R(t_j) - sigma^2/2 be the excess risk. The
// error of a solve is max_j |E(t_j) - E_true(t_j)| / max(|E(t_j)|, floor * E(0)): relative where the
// excess is large, and relative to floor * E(0) (floor = 1e-6) once the excess has fallen below
// that, so a snapshot at which R has decayed by ten decades is asked for 1e-3 of a millionth of
// E(0), not of its own tiny value (see README "The PDE's accuracy" for why).
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "dln/pde/fokker_planck_solver.hpp"

namespace dln::pde {

struct AccuracySpec {
    double rtol = 1e-3;              // the target of the error measure above
    // Explicit resolutions (0: auto, chosen by the controller). An explicit value is used as
    // given and the corresponding part of the error is still estimated and reported.
    std::size_t cells = 0;           // finite volumes per class
    std::size_t target_nodes = 0;    // nodes of a continuous target law
    std::size_t spectrum_nodes = 0;  // nodes of a continuous spectrum
    // Half-width of the co-moving grids, in class standard deviations (0: auto). The walls' cut is
    // the fourth estimated part: auto starts at 12 and widens by 4 at the same cells per
    // deviation while the cut's estimate exceeds its share (error_control.cpp, choose_width);
    // an explicit width is used as given, its cut estimated from a solve 4 deviations wider.
    double width = 0.0;
    // Caps of the automatic choice: a solve that would need more is returned at the caps, flagged.
    std::size_t max_cells = 3840;
    std::size_t max_classes = 256;
    double max_width = 32.0;  // the widest half-width auto may choose (cells grow in proportion)
};

// The floor of the error measure, as a fraction of the initial excess risk.
inline constexpr double error_floor = 1e-6;

// The error measure of `approx` against `reference` (same snapshots): the max over snapshots of
// |E_a - E_r| / max(|E_r|, error_floor * E_r(0)), over the snapshots where both are finite; +inf
// when one has diverged and the other has not (or earlier).
double excess_risk_error(const sim::Trajectory& approx, const sim::Trajectory& reference, double noise);

// Solves the PDE of one grid point to spec.rtol. The trajectory's accuracy field says what was
// chosen and what error was estimated; accuracy.met_tolerance is false (and accuracy.warning says
// why, naming the point) when the caps stopped the refinement first.
PdeTrajectory solve_pde_to_tolerance(const sim::PointSpec& point, const sim::RunSpec& run, const AccuracySpec& spec);

}  // namespace dln::pde
