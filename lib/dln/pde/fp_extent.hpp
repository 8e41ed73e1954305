// Per-class extents. Every class starts on the grid xi in [-pde.width, pde.width] (12 of its
// standard deviations). A class whose balance has collapsed (Q_k ~ e^-79 at lambda ~ 460 on the
// power law) spreads to a standard deviation of 14 while the drift confines its mass to
// cosh x <~ 2 lr R / Q (|x| <~ 77): 12 deviations then reach |x| = 167, where the predictor
// 2 kappa Q sinh x is e^84 and Newton's linearisation of R in the end cells is lost
// (fp_jacobian_free.hpp). The confinement moves with Q, R and the frame, so no extent fixed at
// setup holds over the whole run: a class that later fills the space between its walls has them
// at 1.7 of its deviations, a Gaussian transient needs 9. The extent is therefore revised at every
// snapshot, from the state there, and the density remapped conservatively onto the new grid
// (same cell count).
//
// The extent a class needs until the next snapshot, on each side of its frame centre:
// - its core: out to the face beyond which its density holds less than core_tail of its mass;
// - past the core, to where the drift's potential U(x) = -int b/D (networks: Q cosh x / (2 lr R)
//   - c x / (4 kappa lr R)) has risen by confinement_rise above its value at the core's edge: the
//   quasi-stationary density there is e^-25 of the core edge's (U is convex, so it keeps rising);
// - plus what the interval can add: four free-diffusion lengths sqrt(2 D dt), and twice the
//   outward move of the walls as log Q falls at q_rate R.
// A grid is narrowed only where it reaches more than narrow_reach past that need in x (e^24 in
// the squared predictor): an ordinary class keeps pde.width, and with it its results to the bit.
// It is widened (never beyond pde.width) as soon as the need passes its end. The linear model's
// predictor is linear and never needs it.
#pragma once

#include <cstddef>

#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

// The half-width in xi class k needs until a snapshot `interval` ahead, at state y and risk R.
double needed_half_width(const Problem& p, std::size_t k, const double* y, double risk, double interval);

// Cell averages on grid `from` remapped onto grid `to` (both of the same frame): the integral
// over each new cell of the minmod-limited piecewise-linear reconstruction (second order,
// non-negative for non-negative data), then scaled to the old mass (what lies outside `to` is
// below core_tail by construction).
void remap(const Grid& from, const double* g_from, const Grid& to, double* g_to);

// At a snapshot: revises every class's extent as described above, remapping its density in y.
// Returns the number of classes whose grid changed.
std::size_t adapt_extents(Problem& p, double* y, double interval);

}  // namespace dln::pde::fp
