// The d -> infinity limit of THEORY.md §3: one density per coordinate class, coupled through the
// risk R(t), solved with a PETSc TS on PETSC_COMM_SELF.
//
// Each class's density lives on its own co-moving grid: x = m_k(t) + s_k(t) xi, xi in [-L_k, L_k]
// uniform (L_k = pde.width unless the class's balance has collapsed and the drift confines it
// closer: fp_extent.hpp, revised at every snapshot), where (m_k, v_k = s_k^2) follow the Gaussian closure of the class's mean and variance.
// The density g_k(xi) = s_k rho_k(m_k + s_k xi) then keeps an O(1) shape while the class moves to
// its fixed point and contracts (its width falls with R, by many decades at late times), which a
// fixed grid cannot resolve. The closure only chooses the frame: the equation for g_k is exact,
// so a frame that drifts from the true moments costs resolution, not correctness.
//
// Unknowns per class: g_k on N_k cells (finite volumes, Scharfetter-Gummel fluxes, zero flux at
// +-L: mass is conserved to rounding and g stays non-negative), m_k, log v_k, log Q_k. R is a
// function of the state, so the coupling is implicit. Default integrator: adaptive ARKIMEX 4
// (L-stable ESDIRK; there is no explicit part) with Newton on the analytic Jacobian, solved
// directly: the Jacobian is dense within a class and across classes only through 2K + 1 scalars
// (each class's mean drift increment and (log v)', and R), so it is assembled as a sparse
// bordered system with those scalars as extra unknowns and factored by LU, once per step (a
// chord iteration, refreshed when it stalls). Where that LU is lost to cancellation (a collapsed
// balance, lr = 8: tails at sinh(200)), the run falls back to Jacobian-free Newton-Krylov with
// the per-class tridiagonal preconditioner. Every TS, SNES, KSP option can be changed through
// PETSC_OPTIONS (TSSetFromOptions); with -ksp_type gmres the exact operator is applied too.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <memory>
#include <vector>

#include "dln/pde/class_quadrature.hpp"
#include "dln/sim/trajectory.hpp"

namespace dln::pde {

struct PdeSpec {
    std::size_t cells = 240;  // N, finite volumes per class
    // Per-class counts, one per coordinate class in make_classes' order (empty: every class has
    // `cells`). A class whose share of the grid error is small can keep fewer cells.
    std::vector<std::size_t> class_cells;
    double width = 16.0;      // L: the co-moving grid spans m +- L s (the controller chooses it per point: AccuracySpec::width)
    QuadratureSpec quadrature;
    // Default TS tolerances (PETSC_OPTIONS -ts_rtol/-ts_atol override). The time error they
    // leave in R(t) is 1e-6..3e-5 relative (linear closed form, lr 0.5..1.5; 1e-5 at the default
    // point), well below the space error of 240 cells (4.4e-4 at the default point). rtol 1e-5
    // would save a fifth of the steps but leaves 1.5e-4 in the linear closed form at lr = 1.5.
    double rtol = 1e-6;
    double atol = 1e-9;
};

// Per class, at one snapshot: the diagnostics the tests and users check.
struct ClassDiagnostics {
    double mass;         // integral of the density (1 up to rounding)
    double min_density;  // smallest cell value
    double edge_mass;    // mass in the outer 5% of cells at either end (the grid must hold the class)
    double mean;         // m_k, the frame centre
    double variance;     // v_k
    double q;            // Q_k
};

// What the error controller (error_control.hpp) chose and estimated for a solve.
struct PdeAccuracy {
    static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    double error_estimate = nan;    // estimated error measure of the result (sum of the four parts)
    double grid_error = nan;        // the part of the finite-volume grid
    double quadrature_error = nan;  // the part of the class quadrature (0 for a discrete law)
    double time_error = nan;        // the part of the time integration
    double width_error = nan;       // the part of the walls' cut at +-width deviations
    double width = nan;             // the grids' half-width, in class deviations
    std::size_t cells = 0;          // finite volumes per class
    std::size_t classes = 0;        // coordinate classes
    std::size_t target_nodes = 0;   // nodes of the target law's quadrature (0: a discrete law)
    std::size_t spectrum_nodes = 0; // nodes of the spectrum's quadrature (0: a discrete law)
    double predicted_rate = nan;    // rho of THEORY.md §5 from the classes' Q_k at T
    bool met_tolerance = false;     // error_estimate <= rtol
    std::string warning;            // set when the tolerance was not met: one line naming the point
};

struct PdeTrajectory : sim::Trajectory {
    std::vector<std::vector<ClassDiagnostics>> classes;  // [snapshot][class]
    std::size_t steps = 0;                               // accepted TS steps
    std::size_t fallback_entries = 0;                    // switches to the Jacobian-free fallback
    std::size_t extent_changes = 0;                      // class grids resized at snapshots
    std::size_t frame_changes = 0;                       // class frames re-centred on their density at snapshots
    PdeAccuracy accuracy;                                // filled by solve_pde_to_tolerance
};

class FokkerPlanckSolver {
public:
    FokkerPlanckSolver(model::Parametrization param, double lr, double noise, std::vector<CoordinateClass> classes,
                       const PdeSpec& spec);
    ~FokkerPlanckSolver();
    FokkerPlanckSolver(const FokkerPlanckSolver&) = delete;
    FokkerPlanckSolver& operator=(const FokkerPlanckSolver&) = delete;

    // Solves on [0, T], recording the observables of THEORY.md §4 at the snapshot times; stops
    // (diverged) at the first step whose risk is not finite or exceeds divergence_factor R(0).
    PdeTrajectory run(const sim::RunSpec& run);

    const std::vector<CoordinateClass>& classes() const;

    struct Impl;  // the discretisation (fp_problem.hpp) and the spec

private:
    std::unique_ptr<Impl> impl_;
};

// The PDE of one grid point (it does not depend on d or the replicate).
PdeTrajectory solve_pde(const sim::PointSpec& point, const sim::RunSpec& run, const PdeSpec& spec);

}  // namespace dln::pde
