// The fallback. Where the balance has collapsed (lr = 8) the classes' tails reach sinh(200)
// and the Jacobian's entries 1e100: the LU's border (the Schur complement of the scalars)
// is then formed with catastrophic cancellation, and Newton diverges even for tiny steps.
// The same happened without any collapse of the balance wherever a class's Q had decayed to
// e^-79 (the power law's nodes at lambda ~ 460, 256 nodes, t ~ 2.6): its balance spreads to a
// standard deviation of 14, a grid of 12 deviations reaches |x| = 167, and there the predictor
// 2 kappa Q sinh(x) is e^84, so dR/dg in the two end cells is ~1e60 relative. A Newton update
// at the TS's atol level in those cells moves R by far more than R: Newton diverged at every
// step size (measured down to dt = 0.0018 from 0.054), and a pivoting LU (UMFPACK) was no better.
// The per-class extents (fp_extent.hpp) cure that case: such a class's grid now ends where the
// drift confines its mass, and the 256-node solve no longer enters this fallback (2 entries
// before, 0 after; 2026-12-01). It stays for whatever else defeats the LU (the collapsed balance at
// lr = 8 it was first built for). After three failed Newton solves in a row (each retried shorter, with a fresh Jacobian)
// the run switches to the solver used before the analytic Jacobian: GMRES on a
// finite-difference operator at the current iterate, preconditioned by each class's
// tridiagonal flux part and the frame's diagonal. It is temporary (fp_time_stepper.cpp): after
// 8 accepted steps the analytic LU is tried again, and a return that does not hold as long
// goes back for twice as many.
#pragma once

#include <petscvec.h>

#include <vector>

#include "dln/pde/fp_problem.hpp"
#include "dln/pde/fp_residual.hpp"

namespace dln::pde::fp {

class JacobianFreeFallback {
public:
    JacobianFreeFallback(const Problem& p, Residual& residual);
    ~JacobianFreeFallback() { destroy(); }
    JacobianFreeFallback(const JacobianFreeFallback&) = delete;
    JacobianFreeFallback& operator=(const JacobianFreeFallback&) = delete;
    PetscErrorCode destroy();

    void set_shift(double shift) { shift_ = shift; }
    // The base point: the Newton iterate u and f(u).
    PetscErrorCode set_base(Vec u);
    // x -> (shift I - J) x by a forward difference of f at the base point (PETSc's "wp" step).
    PetscErrorCode apply_operator(Vec x, Vec out);

    // The preconditioner at y: per class, the tridiagonal part of shift I - df/dg at fixed
    // coefficients, and the frame's own relaxation rates.
    void assemble_preconditioner(const double* y, double shift);
    // Solves with that matrix (Thomas: the flux part is a column diagonally dominant
    // M-matrix, so no pivoting).
    PetscErrorCode apply_preconditioner(Vec x, Vec out);

private:
    const Problem& p_;
    Residual& residual_;
    double shift_ = 0.0;
    Vec base_ = nullptr, f_base_ = nullptr, y_ = nullptr, f_y_ = nullptr;
    std::vector<double> lower_, diag_, upper_;  // [class][row]
    std::vector<double> scratch_, drift_c_;     // one class's faces; [class][cell]
};

}  // namespace dln::pde::fp
