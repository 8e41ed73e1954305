#include "dln/pde/fp_time_stepper.hpp"

#include <petscts.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "dln/pde/fp_bordered_jacobian.hpp"
#include "dln/pde/fp_extent.hpp"
#include "dln/pde/fp_jacobian_free.hpp"
#include "dln/pde/fp_residual.hpp"
#include "dln/pde/fp_risk.hpp"

namespace dln::pde::fp {
namespace {

// Throws on a PETSc error outside callbacks (callbacks use PetscCall and return the code).
void check(PetscErrorCode code, const char* what) {
    if (code != 0) throw std::runtime_error(std::string("PETSc: ") + what + " failed (error " + std::to_string(code) + ")");
}

// What the callbacks share during one integration.
struct Stepper {
    explicit Stepper(const Problem& problem) : p(problem), residual(problem), jacobian(problem), fallback(problem, residual) {}
    const Problem& p;
    Residual residual;
    BorderedJacobian jacobian;
    JacobianFreeFallback fallback;
    double risk_limit = std::numeric_limits<double>::infinity();
    const std::atomic<bool>* cancel = nullptr;
    bool cancelled = false;
    bool diverged = false;
    double diverged_at = std::numeric_limits<double>::quiet_NaN();
    double jacobian_time = 0.0, jacobian_shift = 0.0;  // where the current factorisation was made
    double newton_tolerance = 1e-2;                    // in the TS error norm
    double weight_atol = 0.0, weight_rtol = 0.0;       // that norm's tolerances (after the options)
    KSP ksp = nullptr;
    bool robust = false;           // on the fallback (fp_jacobian_free.hpp)
    bool refresh = false;          // re-assemble at the next Newton iterate, whatever the step
    int failures_in_a_row = 0;     // failed Newton solves since the last accepted step
    std::size_t fallback_entries = 0;
    // The fallback is temporary: after robust_period accepted steps on it the analytic LU is
    // tried again, on probation for as many steps. A failure before the first of them is accepted
    // goes straight back; falling back again during probation doubles the period; a probation
    // served resets it. (Once a class has collapsed for good the LU keeps failing, and the
    // doubling bounds the failed solves to a few per period.)
    int robust_steps_left = 0;
    int robust_period = first_robust_period;
    bool probation = false;
    int steps_on_probation = 0;
    static constexpr int first_robust_period = 8;
    PetscErrorCode use_fallback(bool on) {
        PetscFunctionBeginUser;
        robust = on;
        refresh = true;
        if (on) ++fallback_entries;
        PetscCall(KSPSetType(ksp, on ? KSPGMRES : KSPPREONLY));
        PetscFunctionReturn(0);
    }
    double previous_update = -1.0; // the last Newton update's norm (the chord's contraction)
};

PetscErrorCode ifunction(TS, PetscReal, Vec u, Vec udot, Vec f, void* context) {
    PetscFunctionBeginUser;
    auto* stepper = static_cast<Stepper*>(context);
    const PetscScalar *y, *ydot;
    PetscScalar* out;
    PetscCall(VecGetArrayRead(u, &y));
    PetscCall(VecGetArrayRead(udot, &ydot));
    PetscCall(VecGetArray(f, &out));
    stepper->residual.evaluate(y, out);
    PetscInt n;
    PetscCall(VecGetLocalSize(u, &n));
    for (PetscInt i = 0; i < n; ++i) out[i] = ydot[i] - out[i];
    PetscCall(VecRestoreArray(f, &out));
    PetscCall(VecRestoreArrayRead(udot, &ydot));
    PetscCall(VecRestoreArrayRead(u, &y));
    PetscFunctionReturn(0);
}

// One Jacobian per step: ARKIMEX 4's implicit stages share one diagonal coefficient, so every
// Newton iteration of every stage of a step has the same shift, and the LU at the step's first
// iterate serves them all (a chord iteration: a few more residuals, far fewer factorisations).
// A new shift (a rejected or shortened step, another integrator) gets a new Jacobian.
PetscErrorCode ijacobian(TS ts, PetscReal, Vec u, Vec, PetscReal shift, Mat a, Mat p, void* context) {
    PetscFunctionBeginUser;
    auto* stepper = static_cast<Stepper*>(context);
    if (a != p) {  // -snes_mf_operator: the matrix-free operator only needs to learn its new base point
        PetscCall(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
        PetscCall(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
    }
    stepper->fallback.set_shift(shift);
    if (stepper->robust) {  // the fallback: a new base point and preconditioner every iteration
        PetscCall(stepper->fallback.set_base(u));
        const PetscScalar* y;
        PetscCall(VecGetArrayRead(u, &y));
        stepper->fallback.assemble_preconditioner(y, shift);
        PetscCall(VecRestoreArrayRead(u, &y));
        PetscFunctionReturn(0);
    }
    PetscReal step_start;
    PetscCall(TSGetTime(ts, &step_start));
    if (stepper->jacobian.factored() && !stepper->refresh && step_start == stepper->jacobian_time &&
        shift == stepper->jacobian_shift) {
        PetscFunctionReturn(0);
    }
    stepper->refresh = false;
    stepper->jacobian_time = step_start;
    stepper->jacobian_shift = shift;
    const PetscScalar* y;
    PetscCall(VecGetArrayRead(u, &y));
    PetscCall(stepper->jacobian.assemble(y, shift));
    PetscCall(VecRestoreArrayRead(u, &y));
    PetscFunctionReturn(0);
}

// The Jacobian operator (a shell over the bordered matrix) and the preconditioner that solves
// with it exactly (its LU); the fallback's difference operator and tridiagonal solve once robust.
PetscErrorCode jacobian_mult(Mat a, Vec x, Vec y) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(MatShellGetContext(a, &context));
    auto* stepper = static_cast<Stepper*>(context);
    if (stepper->robust) {
        PetscCall(stepper->fallback.apply_operator(x, y));
    } else {
        PetscCall(stepper->jacobian.apply_operator(x, y));
    }
    PetscFunctionReturn(0);
}

PetscErrorCode jacobian_solve(PC pc, Vec x, Vec y) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(PCShellGetContext(pc, &context));
    auto* stepper = static_cast<Stepper*>(context);
    if (stepper->robust) {
        PetscCall(stepper->fallback.apply_preconditioner(x, y));
    } else {
        PetscCall(stepper->jacobian.apply_inverse(x, y));
    }
    PetscFunctionReturn(0);
}

// Newton has converged when its last update is small in the integrator's own error norm (the
// weighted RMS with the TS tolerances): a hundredth of what the step's error estimate may be,
// since a chord iteration's remaining error is a fraction of its last update. (The default
// test, a 1e-8 reduction of the residual, took five chord iterations per stage for nothing.)
PetscErrorCode newton_converged(SNES snes, PetscInt it, PetscReal xnorm, PetscReal ynorm, PetscReal fnorm,
                                SNESConvergedReason* reason, void* context) {
    PetscFunctionBeginUser;
    PetscCall(SNESConvergedDefault(snes, it, xnorm, ynorm, fnorm, reason, nullptr));
    auto* stepper = static_cast<Stepper*>(context);
    if (*reason < 0) {  // the TS retries the step shorter, with a fresh Jacobian
        stepper->refresh = true;
        ++stepper->failures_in_a_row;
        if (!stepper->robust &&
            (stepper->failures_in_a_row >= 3 || (stepper->probation && stepper->steps_on_probation == 0))) {  // the fallback
            if (stepper->probation) stepper->robust_period *= 2;
            stepper->probation = false;
            stepper->robust_steps_left = stepper->robust_period;
            PetscCall(stepper->use_fallback(true));
        }
        PetscFunctionReturn(0);
    }
    if (it == 0) stepper->previous_update = -1.0;
    if (*reason != SNES_CONVERGED_ITERATING || it == 0) PetscFunctionReturn(0);
    Vec x, dx;
    PetscCall(SNESGetSolution(snes, &x));
    PetscCall(SNESGetSolutionUpdate(snes, &dx));
    const PetscScalar *y, *dy;
    PetscInt n;
    PetscCall(VecGetLocalSize(x, &n));
    PetscCall(VecGetArrayRead(x, &y));
    PetscCall(VecGetArrayRead(dx, &dy));
    double sum = 0.0;
    for (PetscInt i = 0; i < n; ++i) {
        const double e = dy[i] / (stepper->weight_atol + stepper->weight_rtol * std::abs(y[i]));
        sum += e * e;
    }
    PetscCall(VecRestoreArrayRead(dx, &dy));
    PetscCall(VecRestoreArrayRead(x, &y));
    const double update = std::sqrt(sum / static_cast<double>(n));
    if (update < stepper->newton_tolerance) {
        *reason = SNES_CONVERGED_SNORM_RELATIVE;
    } else if (stepper->previous_update > 0.0 && update > 0.5 * stepper->previous_update) {
        stepper->refresh = true;  // the chord iteration contracts too slowly: a new Jacobian here
    }
    stepper->previous_update = update;
    PetscFunctionReturn(0);
}

// After every accepted step: the divergence rule of the simulators, applied to the PDE's risk.
PetscErrorCode post_step(TS ts) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(TSGetApplicationContext(ts, &context));
    auto* stepper = static_cast<Stepper*>(context);
    Vec u;
    PetscReal t;
    PetscCall(TSGetSolution(ts, &u));
    PetscCall(TSGetTime(ts, &t));
    const PetscScalar* y;
    PetscCall(VecGetArrayRead(u, &y));
    const double r = risk(stepper->p, y);
    PetscCall(VecRestoreArrayRead(u, &y));
    stepper->failures_in_a_row = 0;
    if (stepper->probation && ++stepper->steps_on_probation >= stepper->robust_period) {
        stepper->probation = false;
        stepper->robust_period = Stepper::first_robust_period;
    }
    if (stepper->robust && --stepper->robust_steps_left <= 0) {
        stepper->probation = true;
        stepper->steps_on_probation = 0;
        PetscCall(stepper->use_fallback(false));
    }
    if (!std::isfinite(r) || r > stepper->risk_limit) {
        stepper->diverged = true;
        stepper->diverged_at = t;
        PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
    } else if (stepper->cancel != nullptr && stepper->cancel->load(std::memory_order_relaxed)) {
        stepper->cancelled = true;
        PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
    }
    PetscFunctionReturn(0);
}

}  // namespace

Integration integrate(Problem& p, const PdeSpec& spec, const std::vector<double>& times, double risk_limit,
                      const std::atomic<bool>* cancel, std::vector<double>& state,
                      const std::function<void(const double*)>& at_snapshot) {
    const auto n = static_cast<PetscInt>(p.layout.size());
    Stepper s(p);
    s.risk_limit = risk_limit;
    s.cancel = cancel;

    Vec y;
    Mat jacobian;
    TS ts;
    SNES snes;
    KSP ksp;
    PC pc;
    check(VecCreateSeq(PETSC_COMM_SELF, n, &y), "VecCreateSeq");
    check(MatCreateShell(PETSC_COMM_SELF, n, n, n, n, &s, &jacobian), "MatCreateShell");
    check(MatShellSetOperation(jacobian, MATOP_MULT, reinterpret_cast<void (*)(void)>(jacobian_mult)),
          "MatShellSetOperation");
    check(s.jacobian.create(), "the bordered Jacobian");
    check(TSCreate(PETSC_COMM_SELF, &ts), "TSCreate");
    struct Cleanup {
        Vec* y; Mat* jacobian; TS* ts; Stepper* s;
        ~Cleanup() { TSDestroy(ts); MatDestroy(jacobian); VecDestroy(y); s->fallback.destroy(); s->jacobian.destroy(); }
    } cleanup{&y, &jacobian, &ts, &s};

    PetscScalar* values;
    check(VecGetArray(y, &values), "VecGetArray");
    std::copy(state.begin(), state.end(), values);
    check(VecRestoreArray(y, &values), "VecRestoreArray");

    check(TSSetProblemType(ts, TS_NONLINEAR), "TSSetProblemType");
    // An L-stable fourth-order ESDIRK (ARKIMEX 4 with no explicit part): on these problems it
    // reaches 1e-5 relative in the risk with a fifth of the steps BDF2 needs for 1e-3, and as a
    // one-step method it restarts at every snapshot for free. Measured against the others at
    // rtol 1e-5: ARKIMEX 3 and L2 report a false divergence at lr = 6 (the balance collapses, the
    // classes' tails reach sinh(80)), ARKIMEX 5 fails there, BDF 2/3 leave 1e-3 time errors, and
    // Rosenbrock methods (ROSW 4L: a third of the work at the default point) turn the tails'
    // round-off into a NaN risk at lr = 6 since their stages are not positivity preserving.
    check(TSSetType(ts, TSARKIMEX), "TSSetType");
    check(TSARKIMEXSetType(ts, TSARKIMEX4), "TSARKIMEXSetType");
    check(TSSetApplicationContext(ts, &s), "TSSetApplicationContext");
    check(TSSetIFunction(ts, nullptr, ifunction, &s), "TSSetIFunction");
    check(TSSetIJacobian(ts, jacobian, jacobian, ijacobian, &s), "TSSetIJacobian");
    check(TSSetPostStep(ts, post_step), "TSSetPostStep");
    check(TSSetTolerances(ts, spec.atol, nullptr, spec.rtol, nullptr), "TSSetTolerances");
    // The initial width is 1e-5: the first steps resolve its spreading, then the step grows.
    check(TSSetTimeStep(ts, 1e-10), "TSSetTimeStep");
    check(TSSetMaxSteps(ts, 10000000), "TSSetMaxSteps");
    check(TSSetMaxSNESFailures(ts, -1), "TSSetMaxSNESFailures");
    check(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP), "TSSetExactFinalTime");
    check(TSGetSNES(ts, &snes), "TSGetSNES");
    // Newton with the exact Jacobian, solved directly: the preconditioner is its LU.
    check(SNESGetKSP(snes, &ksp), "SNESGetKSP");
    check(KSPSetType(ksp, KSPPREONLY), "KSPSetType");
    s.ksp = ksp;
    check(KSPGetPC(ksp, &pc), "KSPGetPC");
    check(PCSetType(pc, PCSHELL), "PCSetType");
    check(PCShellSetContext(pc, &s), "PCShellSetContext");
    check(PCShellSetApply(pc, jacobian_solve), "PCShellSetApply");
    check(PCShellSetName(pc, "LU of the bordered analytic Jacobian"), "PCShellSetName");
    // Full Newton (chord) steps: the backtracking line search would spend an operator product
    // and residuals per iteration on steps that, from the stage predictor, are always taken.
    SNESLineSearch linesearch;
    check(SNESGetLineSearch(snes, &linesearch), "SNESGetLineSearch");
    check(SNESLineSearchSetType(linesearch, SNESLINESEARCHBASIC), "SNESLineSearchSetType");
    check(SNESSetConvergenceTest(snes, newton_converged, &s, nullptr), "SNESSetConvergenceTest");
    check(TSSetFromOptions(ts), "TSSetFromOptions");
    {  // the tolerances the Newton test weighs with, as the options left them
        PetscReal atol, rtol;
        check(TSGetTolerances(ts, &atol, nullptr, &rtol, nullptr), "TSGetTolerances");
        s.weight_atol = atol;
        s.weight_rtol = rtol;
    }

    std::size_t extent_changes = 0, frame_changes = 0;
    for (std::size_t j = 1; j < times.size() && !s.diverged; ++j) {
        check(TSSetMaxTime(ts, times[j]), "TSSetMaxTime");
        check(TSSolve(ts, y), "TSSolve");
        TSConvergedReason reason;
        check(TSGetConvergedReason(ts, &reason), "TSGetConvergedReason");
        if (s.cancelled) throw sim::Cancelled{};
        if (s.diverged) break;
        if (reason < 0) {
            throw std::runtime_error("the PDE time stepper failed before t = " + std::to_string(times[j]) +
                                     " (TSConvergedReason " + std::to_string(static_cast<int>(reason)) + ")");
        }
        const PetscScalar* now;
        check(VecGetArrayRead(y, &now), "VecGetArrayRead");
        at_snapshot(now);
        check(VecRestoreArrayRead(y, &now), "VecRestoreArrayRead");
        if (j + 1 < times.size()) {
            PetscScalar* state_now;
            check(VecGetArray(y, &state_now), "VecGetArray");
            const std::size_t recentred = recentre_frames(p, state_now);
            const std::size_t changed = adapt_extents(p, state_now, times[j + 1] - times[j]);
            check(VecRestoreArray(y, &state_now), "VecRestoreArray");
            if (changed + recentred > 0) {
                // The state jumped: the integrator's history (ARKIMEX 4's explicit first stage
                // reuses the last step's derivative) and the LU are the old grid's or frame's.
                extent_changes += changed;
                frame_changes += recentred;
                s.refresh = true;
                check(TSRestartStep(ts), "TSRestartStep");
            }
        }
    }
    const PetscScalar* last;
    check(VecGetArrayRead(y, &last), "VecGetArrayRead");
    std::copy(last, last + n, state.begin());
    check(VecRestoreArrayRead(y, &last), "VecRestoreArrayRead");
    Integration out;
    PetscInt steps;
    check(TSGetStepNumber(ts, &steps), "TSGetStepNumber");
    out.steps = static_cast<std::size_t>(steps);
    out.fallback_entries = s.fallback_entries;
    out.extent_changes = extent_changes;
    out.frame_changes = frame_changes;
    out.diverged = s.diverged;
    out.diverged_at = s.diverged_at;
    return out;
}

}  // namespace dln::pde::fp
