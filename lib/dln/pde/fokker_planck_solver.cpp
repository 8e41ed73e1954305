// The solver's public face. The discretisation lives in the fp_*.hpp parts: fp_problem (grid
// and state layout), fp_class_coefficients (frame, moments, drift), fp_sg_flux (the face
// weights), fp_risk (R), fp_residual, fp_bordered_jacobian, fp_jacobian_free (the fallback),
// fp_time_stepper (PETSc's TS and its callbacks) and fp_observables.
#include "dln/pde/fokker_planck_solver.hpp"

#include <limits>
#include <utility>

#include "dln/pde/fp_observables.hpp"
#include "dln/pde/fp_problem.hpp"
#include "dln/pde/fp_time_stepper.hpp"

namespace dln::pde {

struct FokkerPlanckSolver::Impl {
    fp::Problem problem;
    PdeSpec spec;
};

FokkerPlanckSolver::FokkerPlanckSolver(model::Parametrization param, double lr, double noise,
                                       std::vector<CoordinateClass> classes, const PdeSpec& spec)
    : impl_(std::make_unique<Impl>(Impl{fp::make_problem(param, lr, noise, std::move(classes), spec), spec})) {}

FokkerPlanckSolver::~FokkerPlanckSolver() = default;

const std::vector<CoordinateClass>& FokkerPlanckSolver::classes() const { return impl_->problem.classes; }

PdeTrajectory FokkerPlanckSolver::run(const sim::RunSpec& spec) {
    fp::Problem p = impl_->problem;  // every run starts on pde.width; integrate() resizes p's grids
    const auto times = sim::snapshot_times(spec);
    std::vector<double> state(p.layout.size());
    fp::initial_state(p, state.data());
    PdeTrajectory out;
    const auto first = fp::observe(p, state.data(), spec.threshold);
    out.snapshots.push_back(first);
    out.classes.push_back(fp::diagnose(p, state.data()));
    const fp::Integration result =
        fp::integrate(p, impl_->spec, times, spec.divergence_factor * first[model::risk], spec.cancel, state,
                      [&](const double* y) {
                          out.snapshots.push_back(fp::observe(p, y, spec.threshold));
                          out.classes.push_back(fp::diagnose(p, y));
                      });
    out.steps = result.steps;
    out.fallback_entries = result.fallback_entries;
    out.extent_changes = result.extent_changes;
    out.frame_changes = result.frame_changes;
    out.diverged = result.diverged;
    out.diverged_at = result.diverged_at;
    model::Observables missing;
    missing.fill(std::numeric_limits<double>::quiet_NaN());
    out.snapshots.resize(times.size(), missing);
    return out;
}

PdeTrajectory solve_pde(const sim::PointSpec& point, const sim::RunSpec& run, const PdeSpec& spec) {
    FokkerPlanckSolver solver(point.parametrization, point.lr, point.data.noise,
                              make_classes(point.data, point.parametrization, point.alpha, spec.quadrature), spec);
    return solver.run(run);
}

}  // namespace dln::pde
