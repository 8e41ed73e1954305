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

// Cell averages on grid `from` remapped onto grid `to`: the integral over each new cell of the
// minmod-limited piecewise-linear reconstruction (second order, non-negative for non-negative
// data), then scaled to the old mass (what lies outside `to` is below core_tail by construction).
// The new coordinate is xi' = shift + scale xi (the identity: both grids of the same frame).
void remap(const Grid& from, const double* g_from, const Grid& to, double* g_to, double shift = 0.0,
           double scale = 1.0);

// Frames. A class's frame (m, v) follows the moments of its density, computed from g
// (fp_class_coefficients.hpp), so that g keeps E xi = 0 and Var xi = 1; but nothing pulls it
// back when the discretisation lets g drift in xi, and a drift in x is frozen while the class
// contracts (its offset in xi grows as 1/s). On a coarse grid a strongly confined class drifts
// far: the power law's target class at lambda = 625 (64 graded nodes, 30 cells, lr 0.5) has
// E xi = 2.7 at t = 0.3 and 10.5 at t = 2.8 (of a half-width of 12), with Var xi = 0.17, its mass
// in two cells at the wall; at t = 2.9 it is in one cell, the frame's Var xi is 0.006 and
// lv' = (2 Cov + 2D/v) / Var xi makes Newton fail at every step of 1e-6 (measured 2026-12-01).
// So at every snapshot a class whose density has left its frame by more than recentre_offset
// deviations, or whose Var xi is off 1 by more than a factor recentre_spread, gets the frame of
// its density, m + s E xi and v Var xi, and its g remapped onto it (same cells, same half-width).
// Each re-centring costs the stepper about a dozen steps (the remapped density relaxes at the
// class's own rate, ~10^3 there): with the thresholds at 0.5 and 2 the 64-node solve took 555
// steps (73 re-centrings), at 2 and 4 399 steps (16), at 3 and 8 366 (12); its R(T) moved by
// 1.7e-6 relative between them. A class that never leaves the thresholds is untouched.
inline constexpr double recentre_offset = 2.0;
inline constexpr double recentre_spread = 4.0;

// At a snapshot: re-centres every class whose frame has lost its density, as above, changing m,
// log v and g in y. Returns the number of classes re-centred.
std::size_t recentre_frames(const Problem& p, double* y);

// At a snapshot: revises every class's extent as described above, remapping its density in y.
// Returns the number of classes whose grid changed.
std::size_t adapt_extents(Problem& p, double* y, double interval);

}  // namespace dln::pde::fp
