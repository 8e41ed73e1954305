#include "dln/pde/fokker_planck_solver.hpp"

#include <petscts.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace dln::pde {
namespace {

// Throws on a PETSc error outside callbacks (callbacks use PetscCall and return the code).
void check(PetscErrorCode code, const char* what) {
    if (code != 0) throw std::runtime_error(std::string("PETSc: ") + what + " failed (error " + std::to_string(code) + ")");
}

// B(x) = x / (e^x - 1), the Scharfetter-Gummel weight, evaluated without cancellation.
inline double bernoulli(double x) {
    if (std::abs(x) < 1e-5) return 1.0 - 0.5 * x + x * x / 12.0;
    return x / std::expm1(x);
}

}  // namespace

struct FokkerPlanckSolver::Impl {
    // The problem.
    bool linear;
    double kappa, lr, noise;
    std::vector<CoordinateClass> classes;
    // The co-moving grid, shared by every class: cell centres and interior faces in xi.
    std::size_t cells;
    double half_width, h;
    std::vector<double> centre, face;
    std::size_t stride;  // cells + 3 unknowns per class: g, m, log v, log Q
    double rtol, atol;
    // Run state.
    double risk_limit = std::numeric_limits<double>::infinity();
    const std::atomic<bool>* cancel = nullptr;
    bool cancelled = false;
    bool diverged = false;
    double diverged_at = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> flux;  // scratch, cells - 1 interior faces
    std::vector<double> drift_c, error_c;  // scratch, [class][cell]: drift increments and w - c at the centres

    // The per-class coefficients of THEORY.md §3 at the class's state and the risk R. The frame
    // follows the class's own moments, computed from g: m' = E b(x), v' = 2 Cov(x, b(x)) + 2D,
    // which keeps g centred with unit variance in xi (a Gaussian closure would lag behind the
    // skewed transient between x0 and the fixed point). Every difference b(x_j) - b(m) is formed
    // analytically, so nothing cancels when the class has contracted to a width of 1e-8.
    struct Coefficients {
        double m, v, s, q;
        double m_dot, lv_dot, lq_dot;  // the frame and Q
        double diffusion;              // D / v: the diffusion coefficient in xi
        double rate;                   // A = 8 k^2 g lambda Q (networks) or g lambda (linear): the drift's scale
        double mean_shift;             // (E b(x) - b(m)) / s
        double stiffness;              // -Cov(xi, (b(x) - b(m))/s) / Var(xi): the mean's relaxation rate
        double xi_variance;            // Var(xi) under g (1 up to O(h^2) at the start, and kept)
    };

    // (b(m + s xi) - b(m)) / s, exactly: -2A cosh(m + s xi/2) sinh(s xi/2) / s for the networks.
    double drift_step(const Coefficients& c, double xi) const {
        if (linear) return -c.rate * xi;
        const double half = 0.5 * c.s * xi;
        return -2.0 * c.rate * std::cosh(c.m + half) * (half == 0.0 ? 0.0 : std::sinh(half) / c.s);
    }

    // At points xi of a class's grid, with one exp and one expm1 per point: the drift increments
    // phi = (b(m + s xi) - b(m))/s = -2A cosh(m + s xi/2) sinh(s xi/2)/s and, if error is given,
    // the predictor's error w(m + s xi) - c. sinh(s xi/2) comes from expm1, so nothing cancels
    // when the class is narrow; exp(m + s xi) = exp(m + s xi/2) (1 + expm1(s xi/2)).
    void drift_points(const Coefficients& c, const CoordinateClass& cls, const double* xi, std::size_t n, double* phi,
                      double* error) const {
        if (linear) {
            for (std::size_t j = 0; j < n; ++j) {
                phi[j] = -c.rate * xi[j];
                if (error != nullptr) error[j] = c.m + c.s * xi[j] - cls.target;
            }
            return;
        }
        const double scale = -c.rate / c.s, amplitude = 2.0 * kappa * c.q;
        for (std::size_t j = 0; j < n; ++j) {
            const double half = 0.5 * c.s * xi[j];
            const double e = std::exp(c.m + half), em = std::expm1(half);
            const double sinh_half = em * (2.0 + em) / (2.0 * (1.0 + em));
            phi[j] = scale * (e + 1.0 / e) * sinh_half;  // -2A cosh(m + half) sinh(half) / s
            if (error != nullptr) {
                const double y = e * (1.0 + em);          // exp(m + s xi)
                error[j] = amplitude * 0.5 * (y - 1.0 / y) - cls.target;
            }
        }
    }

    // The frame's part of the coefficients (everything but the moments of g).
    void frame(const CoordinateClass& cls, const double* block, double risk, Coefficients& c, double& d,
               double& drift_at_m) const {
        c.m = block[cells];
        c.v = std::exp(block[cells + 1]);
        c.s = std::exp(0.5 * block[cells + 1]);
        c.q = std::exp(block[cells + 2]);
        if (linear) {
            c.rate = lr * cls.lambda;
            d = lr * lr * cls.lambda * risk;
            drift_at_m = -c.rate * (c.m - cls.target);
            c.lq_dot = 0.0;
        } else {
            c.rate = 8.0 * kappa * kappa * lr * cls.lambda * c.q;
            d = 16.0 * kappa * kappa * lr * lr * cls.lambda * risk;
            drift_at_m = -c.rate * std::sinh(c.m) + 4.0 * kappa * lr * cls.lambda * cls.target;
            c.lq_dot = -8.0 * kappa * kappa * lr * lr * cls.lambda * risk;
        }
    }

    // The moments' part of the coefficients, from g and the drift increments phi at the centres.
    void moments(const double* g, const double* phi, double d, double drift_at_m, Coefficients& c) const {
        double mass = 0.0, xi_mean = 0.0, step_mean = 0.0;
        for (std::size_t j = 0; j < cells; ++j) {
            mass += g[j];
            xi_mean += g[j] * centre[j];
            step_mean += g[j] * phi[j];
        }
        xi_mean /= mass;
        step_mean /= mass;
        double covariance = 0.0, xi_variance = 0.0;
        for (std::size_t j = 0; j < cells; ++j) {
            covariance += g[j] * (centre[j] - xi_mean) * (phi[j] - step_mean);
            xi_variance += g[j] * (centre[j] - xi_mean) * (centre[j] - xi_mean);
        }
        covariance /= mass;
        xi_variance /= mass;
        c.mean_shift = step_mean;
        c.stiffness = -covariance / xi_variance;
        c.m_dot = drift_at_m + c.s * step_mean;
        c.lv_dot = (2.0 * covariance + 2.0 * d / c.v) / xi_variance;
        c.diffusion = d / c.v;
        c.xi_variance = xi_variance;
    }

    // All coefficients of class k at the risk R (uses the centres' scratch of class k).
    Coefficients coefficients(std::size_t k, const double* block, double risk) {
        Coefficients c{};
        double d, drift_at_m;
        frame(classes[k], block, risk, c, d, drift_at_m);
        double* phi = drift_c.data() + k * cells;
        drift_points(c, classes[k], centre.data(), cells, phi, nullptr);
        moments(block, phi, d, drift_at_m, c);
        return c;
    }

    // The velocity in xi: (b(m + s xi) - m')/s - (v'/2v) xi.
    double velocity(const Coefficients& c, double xi) const {
        return drift_step(c, xi) - c.mean_shift - 0.5 * c.lv_dot * xi;
    }

    double predictor(double x, double q) const { return linear ? x : 2.0 * kappa * q * std::sinh(x); }

    double risk(const double* y) const {
        double sum = 0.0;
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const double* block = y + k * stride;
            const double m = block[cells], s = std::exp(0.5 * block[cells + 1]), q = std::exp(block[cells + 2]);
            double acc = 0.0;
            for (std::size_t j = 0; j < cells; ++j) {
                const double e = predictor(m + s * centre[j], q) - classes[k].target;
                acc += block[j] * e * e;
            }
            sum += classes[k].weight * classes[k].lambda * acc * h;
        }
        return 0.5 * sum + 0.5 * noise * noise;
    }

    // f(y) of y' = f(y). The centres' drift increments and errors are computed once per class
    // and shared by R, the moments and (at the faces) the fluxes.
    void rhs(const double* y, double* f) {
        const std::size_t n = classes.size();
        double r = 0.0;
        Coefficients c{};
        double d, drift_at_m;
        for (std::size_t k = 0; k < n; ++k) {
            const double* block = y + k * stride;
            frame(classes[k], block, 0.0, c, d, drift_at_m);
            double* phi = drift_c.data() + k * cells;
            double* error = error_c.data() + k * cells;
            drift_points(c, classes[k], centre.data(), cells, phi, error);
            double acc = 0.0;
            for (std::size_t j = 0; j < cells; ++j) acc += block[j] * error[j] * error[j];
            r += classes[k].weight * classes[k].lambda * acc * h;
        }
        r = 0.5 * r + 0.5 * noise * noise;
        for (std::size_t k = 0; k < n; ++k) {
            const double* block = y + k * stride;
            double* out = f + k * stride;
            frame(classes[k], block, r, c, d, drift_at_m);
            moments(block, drift_c.data() + k * cells, d, drift_at_m, c);
            drift_points(c, classes[k], face.data(), cells - 1, flux.data(), nullptr);  // phi at the faces
            for (std::size_t j = 0; j + 1 < cells; ++j) {
                const double v = flux[j] - c.mean_shift - 0.5 * c.lv_dot * face[j];
                if (c.diffusion < 1e-300) {  // no diffusion (R = 0): pure upwind
                    flux[j] = v > 0.0 ? v * block[j] : v * block[j + 1];
                } else {
                    // J = (D/h) [B(-P) g_j - B(P) g_{j+1}], with B(-P) = B(P) + P.
                    const double p = v * h / c.diffusion, b = bernoulli(p);
                    flux[j] = c.diffusion / h * ((b + p) * block[j] - b * block[j + 1]);
                }
            }
            for (std::size_t j = 0; j < cells; ++j) {
                const double right = j + 1 < cells ? flux[j] : 0.0;
                const double left = j > 0 ? flux[j - 1] : 0.0;
                out[j] = -(right - left) / h;
            }
            out[cells] = c.m_dot;
            out[cells + 1] = c.lv_dot;
            out[cells + 2] = c.lq_dot;
        }
    }

    // The preconditioning matrix shift I - df/dy with df/dy restricted to each class's own
    // tridiagonal flux part and the diagonal of its frame equations; the coupling through R and
    // the frame is left to the matrix-free operator.
    PetscErrorCode precondition(const double* y, double shift, Mat p) {
        PetscFunctionBeginUser;
        PetscCall(MatZeroEntries(p));
        const double r = risk(y);
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const double* block = y + k * stride;
            const auto c = coefficients(k, block, r);
            const PetscInt base = static_cast<PetscInt>(k * stride);
            for (std::size_t j = 0; j < cells; ++j) {
                // d f_j / d g: from J_{j+1/2} (to the right) and J_{j-1/2} (to the left).
                double diag = shift, lower = 0.0, upper = 0.0;
                auto weights = [&](std::size_t face_index, double& minus, double& plus) {
                    const double v = velocity(c, face[face_index]);
                    if (c.diffusion < 1e-300) {
                        minus = std::max(v, 0.0);
                        plus = -std::min(v, 0.0);
                    } else {
                        const double pe = v * h / c.diffusion;
                        minus = c.diffusion / h * bernoulli(-pe);
                        plus = c.diffusion / h * bernoulli(pe);
                    }
                };
                double minus, plus;
                if (j + 1 < cells) {  // -J_{j+1/2}/h = -(minus g_j - plus g_{j+1})/h
                    weights(j, minus, plus);
                    diag += minus / h;
                    upper = -plus / h;
                }
                if (j > 0) {  // +J_{j-1/2}/h = (minus g_{j-1} - plus g_j)/h
                    weights(j - 1, minus, plus);
                    diag += plus / h;
                    lower = -minus / h;
                }
                const PetscInt row = base + static_cast<PetscInt>(j);
                PetscCall(MatSetValue(p, row, row, diag, INSERT_VALUES));
                if (j > 0) PetscCall(MatSetValue(p, row, row - 1, lower, INSERT_VALUES));
                if (j + 1 < cells) PetscCall(MatSetValue(p, row, row + 1, upper, INSERT_VALUES));
            }
            const PetscInt rm = base + static_cast<PetscInt>(cells);
            // d m'/dm = E b'(x) (about the variance's relaxation rate); d (log v)'/d log v = -2D/v.
            const double dm = c.stiffness;
            const double dlv = 2.0 * c.diffusion / c.xi_variance;
            PetscCall(MatSetValue(p, rm, rm, shift + dm, INSERT_VALUES));
            PetscCall(MatSetValue(p, rm + 1, rm + 1, shift + dlv, INSERT_VALUES));
            PetscCall(MatSetValue(p, rm + 2, rm + 2, shift, INSERT_VALUES));
        }
        PetscCall(MatAssemblyBegin(p, MAT_FINAL_ASSEMBLY));
        PetscCall(MatAssemblyEnd(p, MAT_FINAL_ASSEMBLY));
        PetscFunctionReturn(0);
    }

    model::Observables observe(const double* y, double threshold) const {
        model::Observables o{};
        double dist = 0.0, l1 = 0.0, curvature = 0.0, gradnorm = 0.0, balance = 0.0, null_weight = 0.0,
               false_mass = 0.0;
        const double k2x4 = 4.0 * kappa * kappa;
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const auto& cls = classes[k];
            const double* g = y + k * stride;
            const double m = g[cells], s = std::exp(0.5 * g[cells + 1]), q = std::exp(g[cells + 2]);
            double e2 = 0.0, a1 = 0.0, norm2 = 0.0, grad = 0.0, above = 0.0, mass = 0.0;
            for (std::size_t j = 0; j < cells; ++j) {
                const double x = m + s * centre[j];
                const double w = predictor(x, q), e = w - cls.target;
                const double pq2 = linear ? 1.0 : 2.0 * q * std::cosh(x);  // p^2 + q^2
                e2 += g[j] * e * e;
                a1 += g[j] * std::abs(w);
                norm2 += g[j] * pq2;
                grad += g[j] * e * e * pq2;
                mass += g[j];
                if (std::abs(w) > threshold) above += g[j];
            }
            dist += cls.weight * e2 * h;
            l1 += cls.weight * a1 * h;
            if (linear) {
                curvature += cls.weight * cls.lambda;
                gradnorm += cls.weight * cls.lambda * cls.lambda * e2 * h;
            } else {
                curvature += cls.weight * k2x4 * cls.lambda * norm2 * h;
                gradnorm += cls.weight * k2x4 * cls.lambda * cls.lambda * grad * h;
                balance += cls.weight * q * mass * h;
            }
            if (cls.target == 0.0) {
                null_weight += cls.weight;
                false_mass += cls.weight * above * h;
            }
        }
        o[model::risk] = risk(y);
        o[model::excess] = o[model::risk] - 0.5 * noise * noise;
        o[model::dist] = dist;
        o[model::l1] = l1;
        o[model::curvature] = curvature;
        o[model::gradnorm] = gradnorm;
        o[model::balance] = linear ? std::numeric_limits<double>::quiet_NaN() : balance;
        o[model::false_support] = null_weight > 0.0 ? false_mass / null_weight : std::numeric_limits<double>::quiet_NaN();
        return o;
    }

    std::vector<ClassDiagnostics> diagnose(const double* y) const {
        std::vector<ClassDiagnostics> out;
        const std::size_t edge = std::max<std::size_t>(1, cells / 20);
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const double* g = y + k * stride;
            ClassDiagnostics d{};
            d.min_density = g[0];
            for (std::size_t j = 0; j < cells; ++j) {
                d.mass += g[j] * h;
                d.min_density = std::min(d.min_density, g[j]);
                if (j < edge || j >= cells - edge) d.edge_mass += g[j] * h;
            }
            d.mean = g[cells];
            d.variance = std::exp(g[cells + 1]);
            d.q = std::exp(g[cells + 2]);
            out.push_back(d);
        }
        return out;
    }

    // The initial state: each class a narrow Gaussian at x0 (the delta of THEORY.md §3 smoothed
    // to variance v0), i.e. g = the standard normal's cell averages, renormalised to mass 1.
    void initial_state(double* y) const {
        constexpr double v0 = 1e-10;
        for (std::size_t k = 0; k < classes.size(); ++k) {
            double* g = y + k * stride;
            double mass = 0.0;
            for (std::size_t j = 0; j < cells; ++j) {
                const double a = -half_width + static_cast<double>(j) * h, b = a + h;
                g[j] = 0.5 * (std::erfc(a / std::sqrt(2.0)) - std::erfc(b / std::sqrt(2.0))) / h;
                mass += g[j] * h;
            }
            for (std::size_t j = 0; j < cells; ++j) g[j] /= mass;
            g[cells] = classes[k].x0;
            g[cells + 1] = std::log(v0);
            g[cells + 2] = linear ? 0.0 : std::log(classes[k].q0);
        }
    }
};

namespace {

PetscErrorCode ifunction(TS, PetscReal, Vec u, Vec udot, Vec f, void* context) {
    PetscFunctionBeginUser;
    auto* impl = static_cast<FokkerPlanckSolver::Impl*>(context);
    const PetscScalar *y, *ydot;
    PetscScalar* out;
    PetscCall(VecGetArrayRead(u, &y));
    PetscCall(VecGetArrayRead(udot, &ydot));
    PetscCall(VecGetArray(f, &out));
    impl->rhs(y, out);
    PetscInt n;
    PetscCall(VecGetLocalSize(u, &n));
    for (PetscInt i = 0; i < n; ++i) out[i] = ydot[i] - out[i];
    PetscCall(VecRestoreArray(f, &out));
    PetscCall(VecRestoreArrayRead(udot, &ydot));
    PetscCall(VecRestoreArrayRead(u, &y));
    PetscFunctionReturn(0);
}

PetscErrorCode ijacobian(TS, PetscReal, Vec u, Vec, PetscReal shift, Mat a, Mat p, void* context) {
    PetscFunctionBeginUser;
    auto* impl = static_cast<FokkerPlanckSolver::Impl*>(context);
    const PetscScalar* y;
    PetscCall(VecGetArrayRead(u, &y));
    PetscCall(impl->precondition(y, shift, p));
    PetscCall(VecRestoreArrayRead(u, &y));
    if (a != p) {  // the matrix-free operator only needs to learn its new base point
        PetscCall(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
        PetscCall(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
    }
    PetscFunctionReturn(0);
}

// After every accepted step: the divergence rule of the simulators, applied to the PDE's risk.
PetscErrorCode post_step(TS ts) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(TSGetApplicationContext(ts, &context));
    auto* impl = static_cast<FokkerPlanckSolver::Impl*>(context);
    Vec u;
    PetscReal t;
    PetscCall(TSGetSolution(ts, &u));
    PetscCall(TSGetTime(ts, &t));
    const PetscScalar* y;
    PetscCall(VecGetArrayRead(u, &y));
    const double r = impl->risk(y);
    PetscCall(VecRestoreArrayRead(u, &y));
    if (!std::isfinite(r) || r > impl->risk_limit) {
        impl->diverged = true;
        impl->diverged_at = t;
        PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
    } else if (impl->cancel != nullptr && impl->cancel->load(std::memory_order_relaxed)) {
        impl->cancelled = true;
        PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
    }
    PetscFunctionReturn(0);
}

}  // namespace

FokkerPlanckSolver::FokkerPlanckSolver(model::Parametrization param, double lr, double noise,
                                       std::vector<CoordinateClass> classes, const PdeSpec& spec)
    : impl_(std::make_unique<Impl>()) {
    if (spec.cells < 4) throw std::invalid_argument("pde.cells must be at least 4");
    if (!(spec.width > 0.0)) throw std::invalid_argument("pde.width must be positive");
    if (classes.empty()) throw std::invalid_argument("the PDE needs at least one coordinate class");
    auto& s = *impl_;
    s.linear = param == model::Parametrization::linear;
    s.kappa = model::kappa(param);
    s.lr = lr;
    s.noise = noise;
    s.classes = std::move(classes);
    s.cells = spec.cells;
    s.half_width = spec.width;
    s.h = 2.0 * spec.width / static_cast<double>(spec.cells);
    for (std::size_t j = 0; j < s.cells; ++j) s.centre.push_back(-s.half_width + (static_cast<double>(j) + 0.5) * s.h);
    for (std::size_t j = 0; j + 1 < s.cells; ++j) s.face.push_back(-s.half_width + static_cast<double>(j + 1) * s.h);
    s.flux.assign(s.cells, 0.0);
    s.drift_c.assign(s.classes.size() * s.cells, 0.0);
    s.error_c.assign(s.classes.size() * s.cells, 0.0);
    s.stride = s.cells + 3;
    s.rtol = spec.rtol;
    s.atol = spec.atol;
}

FokkerPlanckSolver::~FokkerPlanckSolver() = default;

const std::vector<CoordinateClass>& FokkerPlanckSolver::classes() const { return impl_->classes; }

PdeTrajectory FokkerPlanckSolver::run(const sim::RunSpec& spec) {
    auto& s = *impl_;
    const auto times = sim::snapshot_times(spec);
    const PetscInt n = static_cast<PetscInt>(s.classes.size() * s.stride);

    Vec y;
    Mat p;
    TS ts;
    SNES snes;
    check(VecCreateSeq(PETSC_COMM_SELF, n, &y), "VecCreateSeq");
    check(MatCreateSeqAIJ(PETSC_COMM_SELF, n, n, 3, nullptr, &p), "MatCreateSeqAIJ");
    check(TSCreate(PETSC_COMM_SELF, &ts), "TSCreate");
    struct Cleanup {
        Vec* y; Mat* p; TS* ts;
        ~Cleanup() { TSDestroy(ts); MatDestroy(p); VecDestroy(y); }
    } cleanup{&y, &p, &ts};

    PetscScalar* state;
    check(VecGetArray(y, &state), "VecGetArray");
    s.initial_state(state);
    PdeTrajectory out;
    const auto first = s.observe(state, spec.threshold);
    out.snapshots.push_back(first);
    out.classes.push_back(s.diagnose(state));
    check(VecRestoreArray(y, &state), "VecRestoreArray");
    s.risk_limit = spec.divergence_factor * first[model::risk];
    s.diverged = false;
    s.cancel = spec.cancel;
    s.cancelled = false;

    check(TSSetProblemType(ts, TS_NONLINEAR), "TSSetProblemType");
    // An L-stable fourth-order ESDIRK (ARKIMEX 4 with no explicit part): on these problems it
    // reaches 1e-5 relative in the risk with a fifth of the steps BDF2 needs for 1e-3, and as a
    // one-step method it restarts at every snapshot for free.
    check(TSSetType(ts, TSARKIMEX), "TSSetType");
    check(TSARKIMEXSetType(ts, TSARKIMEX4), "TSARKIMEXSetType");
    check(TSSetApplicationContext(ts, &s), "TSSetApplicationContext");
    check(TSSetIFunction(ts, nullptr, ifunction, &s), "TSSetIFunction");
    check(TSSetIJacobian(ts, p, p, ijacobian, &s), "TSSetIJacobian");
    check(TSSetPostStep(ts, post_step), "TSSetPostStep");
    check(TSSetTolerances(ts, s.atol, nullptr, s.rtol, nullptr), "TSSetTolerances");
    // The initial width is 1e-5: the first steps resolve its spreading, then the step grows.
    check(TSSetTimeStep(ts, 1e-10), "TSSetTimeStep");
    check(TSSetMaxSteps(ts, 10000000), "TSSetMaxSteps");
    check(TSSetMaxSNESFailures(ts, -1), "TSSetMaxSNESFailures");
    check(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP), "TSSetExactFinalTime");
    check(TSGetSNES(ts, &snes), "TSGetSNES");
    check(SNESSetUseMatrixFree(snes, PETSC_TRUE, PETSC_FALSE), "SNESSetUseMatrixFree");
    check(TSSetFromOptions(ts), "TSSetFromOptions");

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
        out.snapshots.push_back(s.observe(now, spec.threshold));
        out.classes.push_back(s.diagnose(now));
        check(VecRestoreArrayRead(y, &now), "VecRestoreArrayRead");
    }
    PetscInt steps;
    check(TSGetStepNumber(ts, &steps), "TSGetStepNumber");
    out.steps = static_cast<std::size_t>(steps);
    out.diverged = s.diverged;
    out.diverged_at = s.diverged_at;
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
