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

// exp(x) and sinh(x), the latter without cancellation near 0 (expm1) and without dividing by
// 1 + expm1(x), which is 0 in floating point below x = -37.
inline void exp_sinh(double x, double& e, double& sh) {
    if (std::abs(x) < 0.5) {
        const double em = std::expm1(x);
        e = 1.0 + em;
        sh = em * (2.0 + em) / (2.0 * e);
    } else {
        e = std::exp(x);
        sh = 0.5 * (e - 1.0 / e);
    }
}

// B'(x) = B(1 - B)/x - B, and its series where 1 - B cancels.
inline double bernoulli_slope(double x, double b) {
    if (std::abs(x) < 1e-3) return -0.5 + x / 6.0 - x * x * x / 180.0;
    return b * (1.0 - b) / x - b;
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
    // The Jacobian. J = df/dy is dense within a class (every flux depends on the class's moments
    // through the frame velocity) and across classes (through R), but only through 2K + 1
    // scalars: z = (phi_bar_k, (log v)'_k for each class, R). Writing them as unknowns of their
    // own gives the bordered system
    //     [ shift I - df/dy|z   -df/dz     ] [dy]   [b]
    //     [ -dz/dy              I - dz/dz  ] [dz] = [0],
    // which is sparse (tridiagonal per class, dense only in the 2K + 1 last rows and columns)
    // and whose elimination of dz is exactly (shift I - J) dy = b. LU in the natural order
    // fills in only those last rows and columns.
    Mat bordered = nullptr, factor = nullptr;
    Vec wide_in = nullptr, wide_out = nullptr;  // bordered-size work vectors
    bool symbolic = false;
    double jacobian_time = 0.0, jacobian_shift = 0.0;  // where the current factorisation was made
    double newton_tolerance = 1e-2;                    // in the TS error norm
    double weight_atol = 0.0, weight_rtol = 0.0;       // that norm's tolerances (after the options)
    // The fallback. Where the balance has collapsed (lr = 8) the classes' tails reach sinh(200)
    // and the Jacobian's entries 1e100: the LU's border (the Schur complement of the scalars)
    // is then formed with catastrophic cancellation, and Newton diverges even for tiny steps.
    // After three failed Newton solves in a row (each retried shorter, with a fresh Jacobian)
    // the run switches for good to the solver used before the analytic Jacobian: GMRES on a
    // finite-difference operator at the current iterate, preconditioned by each class's
    // tridiagonal flux part and the frame's diagonal.
    KSP ksp = nullptr;
    bool robust = false;
    bool refresh = false;          // re-assemble at the next Newton iterate, whatever the step
    int failures_in_a_row = 0;     // failed Newton solves since the last accepted step
    double previous_update = -1.0; // the last Newton update's norm (the chord's contraction)
    double shift_now = 0.0;
    Vec fd_base = nullptr, fd_f = nullptr, fd_y = nullptr, fd_fy = nullptr;
    std::vector<double> tri_lower, tri_diag, tri_upper;  // [class][row], the fallback's preconditioner
    std::vector<double> phi_m_c, phi_lv_c, slope_c;  // scratch, [class][cell]
    std::vector<double> phi_f, phi_m_f, phi_lv_f;    // scratch, one class's faces
    std::vector<double> lv_dot_risk;                 // d (log v)'_k / dR, per class
    // The entries in the order assemble_jacobian produces them; the first assembly inserts them
    // row by row and records where each lands in the AIJ storage, later ones only scatter.
    std::vector<PetscInt> columns, row_of, csr_position;
    std::vector<PetscScalar> values;
    std::vector<std::size_t> row_end;

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
        double mass, xi_mean, covariance;  // sum of g, E xi and Cov(xi, phi) under g (for the Jacobian)
        double d_per_risk;             // D v / R: the diffusion in x per unit of risk
        double drift_at_m;             // b(m)
    };

    // At points xi of a class's grid, with two exponentials per point: the drift increments
    // phi = (b(m + s xi) - b(m))/s = -2A cosh(m + s xi/2) sinh(s xi/2)/s and, if error is given,
    // the predictor's error w(m + s xi) - c. sinh(s xi/2) comes from expm1 near 0, so nothing
    // cancels when the class is narrow; exp(m + s xi) = exp(m + s xi/2) exp(s xi/2).
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
            double exp_half, sinh_half;
            exp_sinh(half, exp_half, sinh_half);
            const double e = std::exp(c.m + half);
            phi[j] = scale * (e + 1.0 / e) * sinh_half;  // -2A cosh(m + half) sinh(half) / s
            if (error != nullptr) {
                const double y = e * exp_half;            // exp(m + s xi)
                error[j] = amplitude * 0.5 * (y - 1.0 / y) - cls.target;
            }
        }
    }

    // drift_points with the derivatives the Jacobian needs: d phi/dm, d phi/d log v and, at the
    // centres (if error is given), the predictor's slope dw/dx. (d phi/d log Q = phi for the
    // networks, 0 for linear; d error/d log Q = error + c, resp. 0.)
    void drift_derivatives(const Coefficients& c, const CoordinateClass& cls, const double* xi, std::size_t n,
                           double* phi, double* phi_m, double* phi_lv, double* error, double* slope) const {
        if (linear) {
            for (std::size_t j = 0; j < n; ++j) {
                phi[j] = -c.rate * xi[j];
                phi_m[j] = phi_lv[j] = 0.0;
                if (error != nullptr) {
                    error[j] = c.m + c.s * xi[j] - cls.target;
                    slope[j] = 1.0;
                }
            }
            return;
        }
        const double scale = -c.rate / c.s, amplitude = 2.0 * kappa * c.q;
        for (std::size_t j = 0; j < n; ++j) {
            const double half = 0.5 * c.s * xi[j];
            double exp_half, sinh_half;
            exp_sinh(half, exp_half, sinh_half);
            const double e = std::exp(c.m + half);
            const double y = e * exp_half;  // exp(m + s xi)
            const double cosh_x = 0.5 * (y + 1.0 / y);
            phi[j] = scale * (e + 1.0 / e) * sinh_half;
            phi_m[j] = scale * (e - 1.0 / e) * sinh_half;
            // d/d log v = (s/2) d/ds, and d phi/ds = -(A xi/s) cosh(m + s xi) - phi/s.
            phi_lv[j] = -0.5 * c.rate * xi[j] * cosh_x - 0.5 * phi[j];
            if (error != nullptr) {
                error[j] = amplitude * 0.5 * (y - 1.0 / y) - cls.target;
                slope[j] = amplitude * cosh_x;
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
            // dw = -g lambda (w - c) dt + g sqrt(2 R lambda) dB
            c.rate = lr * cls.lambda;
            c.d_per_risk = lr * lr * cls.lambda;
            drift_at_m = -c.rate * (c.m - cls.target);
            c.lq_dot = 0.0;
        } else {
            // dl = -4 k g lambda (2 k Q sinh l - c) dt + 4 k g sqrt(2 R lambda) dB
            c.rate = 8.0 * kappa * kappa * lr * cls.lambda * c.q;
            c.d_per_risk = 16.0 * kappa * kappa * lr * lr * cls.lambda;
            drift_at_m = -c.rate * std::sinh(c.m) + 4.0 * kappa * lr * cls.lambda * cls.target;
            c.lq_dot = -q_rate(cls) * risk;
        }
        d = c.d_per_risk * risk;
        c.drift_at_m = drift_at_m;
    }

    // (log Q)' = -q_rate R.
    double q_rate(const CoordinateClass& cls) const { return linear ? 0.0 : 8.0 * kappa * kappa * lr * lr * cls.lambda; }

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
        c.mass = mass;
        c.xi_mean = xi_mean;
        c.covariance = covariance;
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

    PetscInt aux_index(std::size_t k, int which) const {  // which: 0 phi_bar_k, 1 (log v)'_k
        return static_cast<PetscInt>(classes.size() * stride + 2 * k + static_cast<std::size_t>(which));
    }
    PetscInt risk_index() const { return static_cast<PetscInt>(classes.size() * (stride + 2)); }
    PetscInt bordered_size() const { return risk_index() + 1; }

    PetscErrorCode create_bordered() {
        PetscFunctionBeginUser;
        const std::size_t n = classes.size();
        std::vector<PetscInt> nnz(static_cast<std::size_t>(bordered_size()));
        for (std::size_t k = 0; k < n; ++k) {
            for (std::size_t j = 0; j < cells; ++j) nnz[k * stride + j] = 9;  // 3 tridiagonal, 3 frame, 3 aux
            nnz[k * stride + cells] = 4;
            nnz[k * stride + cells + 1] = 2;
            nnz[k * stride + cells + 2] = 2;
            nnz[static_cast<std::size_t>(aux_index(k, 0))] = static_cast<PetscInt>(stride + 1);
            nnz[static_cast<std::size_t>(aux_index(k, 1))] = static_cast<PetscInt>(stride + 2);
        }
        nnz.back() = static_cast<PetscInt>(n * stride + 1);
        PetscCall(MatCreateSeqAIJ(PETSC_COMM_SELF, bordered_size(), bordered_size(), 0, nnz.data(), &bordered));
        PetscCall(MatSetOption(bordered, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
        PetscCall(MatCreateVecs(bordered, &wide_in, &wide_out));
        PetscCall(MatGetFactor(bordered, MATSOLVERPETSC, MAT_FACTOR_LU, &factor));
        phi_m_c.assign(n * cells, 0.0);
        phi_lv_c.assign(n * cells, 0.0);
        slope_c.assign(n * cells, 0.0);
        phi_f.assign(cells, 0.0);
        phi_m_f.assign(cells, 0.0);
        phi_lv_f.assign(cells, 0.0);
        lv_dot_risk.assign(n, 0.0);
        columns.clear();
        row_of.clear();
        row_end.clear();
        csr_position.clear();
        values.clear();
        PetscFunctionReturn(0);
    }

    PetscErrorCode destroy_bordered() {
        PetscFunctionBeginUser;
        PetscCall(VecDestroy(&fd_base));
        PetscCall(VecDestroy(&fd_f));
        PetscCall(VecDestroy(&fd_y));
        PetscCall(VecDestroy(&fd_fy));
        PetscCall(MatDestroy(&factor));
        PetscCall(MatDestroy(&bordered));
        PetscCall(VecDestroy(&wide_in));
        PetscCall(VecDestroy(&wide_out));
        PetscFunctionReturn(0);
    }

    // Ends the current row (its entries in increasing column order).
    void set_row(PetscInt row) {
        if (!symbolic) {
            row_of.push_back(row);
            row_end.push_back(values.size());
        }
    }
    void entry(PetscInt column, double value) {
        if (!symbolic) columns.push_back(column);
        values.push_back(value);
    }

    // Moves the collected entries into the matrix.
    PetscErrorCode store_entries() {
        PetscFunctionBeginUser;
        if (!symbolic) {
            std::size_t begin = 0;
            for (std::size_t i = 0; i < row_of.size(); ++i) {
                const std::size_t end = row_end[i];
                PetscCall(MatSetValues(bordered, 1, &row_of[i], static_cast<PetscInt>(end - begin), columns.data() + begin,
                                       values.data() + begin, INSERT_VALUES));
                begin = end;
            }
            PetscCall(MatAssemblyBegin(bordered, MAT_FINAL_ASSEMBLY));
            PetscCall(MatAssemblyEnd(bordered, MAT_FINAL_ASSEMBLY));
            // Every row was inserted whole and sorted, with exactly its preallocated length, so
            // its entries lie in the storage in the order they were produced.
            const PetscInt* ia;
            const PetscInt* ja;
            PetscInt nrows;
            PetscBool done;
            PetscCall(MatGetRowIJ(bordered, 0, PETSC_FALSE, PETSC_FALSE, &nrows, &ia, &ja, &done));
            PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no row structure");
            csr_position.assign(values.size(), 0);
            begin = 0;
            for (std::size_t i = 0; i < row_of.size(); ++i) {
                const std::size_t end = row_end[i];
                const PetscInt first = ia[row_of[i]];
                PetscCheck(ia[row_of[i] + 1] - first == static_cast<PetscInt>(end - begin), PETSC_COMM_SELF,
                           PETSC_ERR_PLIB, "bordered row length");
                for (std::size_t t = begin; t < end; ++t) {
                    csr_position[t] = first + static_cast<PetscInt>(t - begin);
                    PetscCheck(ja[csr_position[t]] == columns[t], PETSC_COMM_SELF, PETSC_ERR_PLIB, "bordered column");
                }
                begin = end;
            }
            PetscCall(MatRestoreRowIJ(bordered, 0, PETSC_FALSE, PETSC_FALSE, &nrows, &ia, &ja, &done));
        } else {
            PetscScalar* a;
            PetscCall(MatSeqAIJGetArrayWrite(bordered, &a));
            for (std::size_t t = 0; t < values.size(); ++t) a[csr_position[t]] = values[t];
            PetscCall(MatSeqAIJRestoreArrayWrite(bordered, &a));
        }
        values.clear();
        PetscFunctionReturn(0);
    }

    // Assembles the bordered matrix at y for shift I - df/dy and factors it.
    PetscErrorCode assemble_jacobian(const double* y, double shift) {
        PetscFunctionBeginUser;
        const std::size_t n = classes.size();
        const PetscInt r_col = risk_index();
        Coefficients c{};
        double d, drift_at_m;
        // The centres of every class, and R with its derivatives (the last row).
        double r = 0.0;
        for (std::size_t k = 0; k < n; ++k) {
            const double* g = y + k * stride;
            frame(classes[k], g, 0.0, c, d, drift_at_m);
            const std::size_t o = k * cells;
            drift_derivatives(c, classes[k], centre.data(), cells, drift_c.data() + o, phi_m_c.data() + o,
                              phi_lv_c.data() + o, error_c.data() + o, slope_c.data() + o);
            double acc = 0.0;
            for (std::size_t j = 0; j < cells; ++j) acc += g[j] * error_c[o + j] * error_c[o + j];
            r += classes[k].weight * classes[k].lambda * acc * h;
        }
        r = 0.5 * r + 0.5 * noise * noise;
        for (std::size_t k = 0; k < n; ++k) {
            const double* g = y + k * stride;
            const std::size_t o = k * cells;
            const double w = 0.5 * classes[k].weight * classes[k].lambda * h;  // dR/dg_j = w e_j^2
            const double s_k = std::exp(0.5 * g[cells + 1]);
            double dm = 0.0, dlv = 0.0, dq = 0.0;
            const auto base = static_cast<PetscInt>(k * stride);
            for (std::size_t j = 0; j < cells; ++j) {
                const double e = error_c[o + j];
                entry(base + static_cast<PetscInt>(j), -w * e * e);
                dm += g[j] * e * slope_c[o + j];
                dlv += g[j] * e * slope_c[o + j] * 0.5 * s_k * centre[j];
                if (!linear) dq += g[j] * e * (e + classes[k].target);
            }
            entry(base + static_cast<PetscInt>(cells), -2.0 * w * dm);
            entry(base + static_cast<PetscInt>(cells) + 1, -2.0 * w * dlv);
            entry(base + static_cast<PetscInt>(cells) + 2, -2.0 * w * dq);
        }
        entry(r_col, 1.0);
        set_row(r_col);

        for (std::size_t k = 0; k < n; ++k) {
            const auto& cls = classes[k];
            const double* g = y + k * stride;
            const std::size_t o = k * cells;
            const double* phi = drift_c.data() + o;
            frame(cls, g, r, c, d, drift_at_m);
            moments(g, phi, d, drift_at_m, c);
            const auto base = static_cast<PetscInt>(k * stride);
            const PetscInt m_col = base + static_cast<PetscInt>(cells), lv_col = m_col + 1, q_col = m_col + 2;
            const PetscInt a_col = aux_index(k, 0), b_col = aux_index(k, 1);
            const double a = c.mean_shift, b = c.lv_dot, dd = c.diffusion;
            const double dd_risk = c.d_per_risk / c.v;  // dD/dR
            drift_derivatives(c, cls, face.data(), cells - 1, phi_f.data(), phi_m_f.data(), phi_lv_f.data(), nullptr,
                              nullptr);
            // Per face: the flux's weights on g_j, g_{j+1} and its derivatives in m, log v, log Q,
            // phi_bar, (log v)' and R (flux[] holds the last, the rest are recomputed per row).
            struct FaceTerms { double minus, plus, m, lv, q, a, b, r; };
            auto face_terms = [&](std::size_t f) {
                FaceTerms t{};
                const double v = phi_f[f] - a - 0.5 * b * face[f];
                double jv, jd;  // dJ/dV, dJ/dD
                if (dd < 1e-300) {
                    t.minus = std::max(v, 0.0);
                    t.plus = -std::min(v, 0.0);
                    jv = v > 0.0 ? g[f] : g[f + 1];
                    jd = 0.0;
                } else {
                    const double p = v * h / dd, bp = bernoulli(p), slope = bernoulli_slope(p, bp);
                    t.minus = dd / h * (bp + p);  // B(-P) = B(P) + P
                    t.plus = dd / h * bp;
                    const double flux_value = t.minus * g[f] - t.plus * g[f + 1];
                    jv = (slope + 1.0) * g[f] - slope * g[f + 1];  // B'(-P) = -B'(P) - 1
                    jd = (flux_value - v * jv) / dd;
                }
                t.m = jv * phi_m_f[f];
                t.lv = jv * phi_lv_f[f] - jd * dd;
                t.q = linear ? 0.0 : jv * phi_f[f];
                t.a = -jv;
                t.b = -0.5 * jv * face[f];
                t.r = jd * dd_risk;
                return t;
            };
            FaceTerms left{}, right{};
            for (std::size_t j = 0; j < cells; ++j) {
                // f_j = -(J_right - J_left)/h; the row holds shift - df_j/d(.) = shift + (dJ_right - dJ_left)/h.
                const bool has_left = j > 0, has_right = j + 1 < cells;
                left = right;
                right = has_right ? face_terms(j) : FaceTerms{};
                if (!has_left) left = FaceTerms{};
                const auto row = base + static_cast<PetscInt>(j);
                if (has_left) entry(row - 1, -left.minus / h);
                entry(row, shift + (right.minus + left.plus) / h);
                if (has_right) entry(row + 1, -right.plus / h);
                entry(m_col, (right.m - left.m) / h);
                entry(lv_col, (right.lv - left.lv) / h);
                entry(q_col, (right.q - left.q) / h);
                entry(a_col, (right.a - left.a) / h);
                entry(b_col, (right.b - left.b) / h);
                entry(r_col, (right.r - left.r) / h);
                set_row(row);
            }
            // m' = b(m) + s phi_bar.
            const double drift_m = linear ? -c.rate : -c.rate * std::cosh(c.m);
            const double drift_q = linear ? 0.0 : c.drift_at_m - 4.0 * kappa * lr * cls.lambda * cls.target;  // -A sinh m
            entry(m_col, shift - drift_m);
            entry(lv_col, -0.5 * c.s * a);
            entry(q_col, -drift_q);
            entry(a_col, -c.s);
            set_row(m_col);
            // (log v)' = lv_dot, (log Q)' = -q_rate R.
            entry(lv_col, shift);
            entry(b_col, -1.0);
            set_row(lv_col);
            entry(q_col, shift);
            entry(r_col, q_rate(cls));
            set_row(q_col);
            // phi_bar = sum g phi / sum g.
            double am = 0.0, alv = 0.0, bm = 0.0, blv = 0.0;
            for (std::size_t j = 0; j < cells; ++j) {
                entry(base + static_cast<PetscInt>(j), -(phi[j] - a) / c.mass);
                am += g[j] * phi_m_c[o + j];
                alv += g[j] * phi_lv_c[o + j];
                bm += g[j] * (centre[j] - c.xi_mean) * phi_m_c[o + j];
                blv += g[j] * (centre[j] - c.xi_mean) * phi_lv_c[o + j];
            }
            entry(m_col, -am / c.mass);
            entry(lv_col, -alv / c.mass);
            entry(q_col, linear ? 0.0 : -a);
            entry(a_col, 1.0);
            set_row(a_col);
            // (log v)' = (2 cov + 2 D) / var, D = d_per_risk R / v.
            const double var = c.xi_variance;
            for (std::size_t j = 0; j < cells; ++j) {
                const double dx = centre[j] - c.xi_mean;
                const double dcov = (dx * (phi[j] - a) - c.covariance) / c.mass;
                const double dvar = (dx * dx - var) / c.mass;
                entry(base + static_cast<PetscInt>(j), -(2.0 * dcov - b * dvar) / var);
            }
            entry(m_col, -2.0 * bm / c.mass / var);
            entry(lv_col, -(2.0 * blv / c.mass - 2.0 * dd) / var);
            entry(q_col, linear ? 0.0 : -2.0 * c.covariance / var);
            entry(b_col, 1.0);
            lv_dot_risk[k] = 2.0 * dd_risk / var;
            entry(r_col, -lv_dot_risk[k]);
            set_row(b_col);
        }
        PetscCall(store_entries());
        MatFactorInfo info;
        PetscCall(MatFactorInfoInitialize(&info));
        if (!symbolic) {
            IS rows, cols;
            PetscCall(MatGetOrdering(bordered, MATORDERINGNATURAL, &rows, &cols));
            info.fill = 2.0;
            PetscCall(MatLUFactorSymbolic(factor, bordered, rows, cols, &info));
            PetscCall(ISDestroy(&rows));
            PetscCall(ISDestroy(&cols));
            symbolic = true;
        }
        PetscCall(MatLUFactorNumeric(factor, bordered, &info));
        PetscFunctionReturn(0);
    }

    // x -> (shift I - J)^(-1) x through the factored bordered system.
    PetscErrorCode apply_inverse(Vec x, Vec out) {
        PetscFunctionBeginUser;
        if (robust) {
            PetscCall(apply_tridiagonal(x, out));
            PetscFunctionReturn(0);
        }
        const PetscInt n = static_cast<PetscInt>(classes.size() * stride);
        const PetscScalar* in;
        PetscScalar *wide, *result;
        PetscCall(VecGetArrayRead(x, &in));
        PetscCall(VecGetArray(wide_in, &wide));
        std::copy(in, in + n, wide);
        std::fill(wide + n, wide + bordered_size(), 0.0);
        PetscCall(VecRestoreArray(wide_in, &wide));
        PetscCall(VecRestoreArrayRead(x, &in));
        PetscCall(MatSolve(factor, wide_in, wide_out));
        PetscCall(VecGetArrayRead(wide_out, &in));
        PetscCall(VecGetArray(out, &result));
        std::copy(in, in + n, result);
        PetscCall(VecRestoreArray(out, &result));
        PetscCall(VecRestoreArrayRead(wide_out, &in));
        PetscFunctionReturn(0);
    }

    // The fallback's preconditioner at y: per class, the tridiagonal part of shift I - df/dg
    // at fixed coefficients, and the frame's own relaxation rates.
    void assemble_tridiagonal(const double* y, double shift) {
        const std::size_t n = classes.size();
        tri_lower.assign(n * stride, 0.0);
        tri_diag.assign(n * stride, 0.0);
        tri_upper.assign(n * stride, 0.0);
        const double r = risk(y);
        Coefficients c{};
        double d, drift_at_m;
        for (std::size_t k = 0; k < n; ++k) {
            const double* g = y + k * stride;
            frame(classes[k], g, r, c, d, drift_at_m);
            double* phi = drift_c.data() + k * cells;
            drift_points(c, classes[k], centre.data(), cells, phi, nullptr);
            moments(g, phi, d, drift_at_m, c);
            drift_points(c, classes[k], face.data(), cells - 1, flux.data(), nullptr);
            const std::size_t o = k * stride;
            for (std::size_t f = 0; f + 1 < cells; ++f) {  // face f between cells f and f + 1
                const double v = flux[f] - c.mean_shift - 0.5 * c.lv_dot * face[f];
                double minus, plus;  // J = minus g_f - plus g_{f+1}
                if (c.diffusion < 1e-300) {
                    minus = std::max(v, 0.0);
                    plus = -std::min(v, 0.0);
                } else {
                    const double p = v * h / c.diffusion, b = bernoulli(p);
                    minus = c.diffusion / h * (b + p);
                    plus = c.diffusion / h * b;
                }
                tri_diag[o + f] += minus / h;
                tri_upper[o + f] = -plus / h;
                tri_diag[o + f + 1] += plus / h;
                tri_lower[o + f + 1] = -minus / h;
            }
            for (std::size_t j = 0; j < cells; ++j) tri_diag[o + j] += shift;
            tri_diag[o + cells] = shift + c.stiffness;
            tri_diag[o + cells + 1] = shift + 2.0 * c.diffusion / c.xi_variance;
            tri_diag[o + cells + 2] = shift;
        }
    }

    // Solves with assemble_tridiagonal's matrix (Thomas: the flux part is a column diagonally
    // dominant M-matrix, so no pivoting).
    PetscErrorCode apply_tridiagonal(Vec x, Vec out) {
        PetscFunctionBeginUser;
        const PetscScalar* b;
        PetscScalar* u;
        PetscCall(VecGetArrayRead(x, &b));
        PetscCall(VecGetArray(out, &u));
        std::vector<double>& c = flux;  // scratch for the modified upper diagonal
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const std::size_t o = k * stride;
            double denominator = tri_diag[o];
            c[0] = tri_upper[o] / denominator;
            u[o] = b[o] / denominator;
            for (std::size_t j = 1; j < cells; ++j) {
                denominator = tri_diag[o + j] - tri_lower[o + j] * c[j - 1];
                c[j] = tri_upper[o + j] / denominator;
                u[o + j] = (b[o + j] - tri_lower[o + j] * u[o + j - 1]) / denominator;
            }
            for (std::size_t j = cells - 1; j-- > 0;) u[o + j] -= c[j] * u[o + j + 1];
            for (std::size_t i = cells; i < stride; ++i) u[o + i] = b[o + i] / tri_diag[o + i];
        }
        PetscCall(VecRestoreArray(out, &u));
        PetscCall(VecRestoreArrayRead(x, &b));
        PetscFunctionReturn(0);
    }

    // The fallback's base point: the Newton iterate u and f(u).
    PetscErrorCode set_difference_base(Vec u) {
        PetscFunctionBeginUser;
        if (fd_base == nullptr) {
            PetscCall(VecDuplicate(u, &fd_base));
            PetscCall(VecDuplicate(u, &fd_f));
            PetscCall(VecDuplicate(u, &fd_y));
            PetscCall(VecDuplicate(u, &fd_fy));
        }
        PetscCall(VecCopy(u, fd_base));
        const PetscScalar* y;
        PetscScalar* f;
        PetscCall(VecGetArrayRead(fd_base, &y));
        PetscCall(VecGetArray(fd_f, &f));
        rhs(y, f);
        PetscCall(VecRestoreArray(fd_f, &f));
        PetscCall(VecRestoreArrayRead(fd_base, &y));
        PetscFunctionReturn(0);
    }

    // x -> (shift I - J) x by a forward difference of f at the base point (PETSc's "wp" step).
    PetscErrorCode apply_difference(Vec x, Vec out) {
        PetscFunctionBeginUser;
        PetscReal unorm, xnorm;
        PetscCall(VecNorm(fd_base, NORM_2, &unorm));
        PetscCall(VecNorm(x, NORM_2, &xnorm));
        if (xnorm == 0.0) {
            PetscCall(VecSet(out, 0.0));
            PetscFunctionReturn(0);
        }
        const double step = 1.490116119384765625e-8 * std::sqrt(1.0 + unorm) / xnorm;
        PetscCall(VecWAXPY(fd_y, step, x, fd_base));
        const PetscScalar* y;
        PetscScalar* f;
        PetscCall(VecGetArrayRead(fd_y, &y));
        PetscCall(VecGetArray(fd_fy, &f));
        rhs(y, f);
        PetscCall(VecRestoreArray(fd_fy, &f));
        PetscCall(VecRestoreArrayRead(fd_y, &y));
        PetscCall(VecWAXPY(out, -1.0, fd_f, fd_fy));  // f(u + step x) - f(u)
        PetscCall(VecAXPBY(out, shift_now, -1.0 / step, x));
        PetscFunctionReturn(0);
    }

    // x -> (shift I - J) x: eliminate dz from the bordered rows (the aux block I - dz/dz is the
    // identity except (log v)'_k's dependence on R, so dz follows in two sweeps).
    PetscErrorCode apply_operator(Vec x, Vec out) {
        PetscFunctionBeginUser;
        if (robust) {
            PetscCall(apply_difference(x, out));
            PetscFunctionReturn(0);
        }
        const auto n = static_cast<std::size_t>(classes.size() * stride);
        const PetscScalar* in;
        PetscScalar *wide, *result;
        PetscCall(VecGetArrayRead(x, &in));
        PetscCall(VecGetArray(wide_in, &wide));
        std::copy(in, in + n, wide);
        std::fill(wide + n, wide + bordered_size(), 0.0);
        PetscCall(VecRestoreArray(wide_in, &wide));
        PetscCall(VecRestoreArrayRead(x, &in));
        PetscCall(MatMult(bordered, wide_in, wide_out));  // [(shift I - df/dy) x; -dz/dy x]
        PetscCall(VecGetArray(out, &result));
        PetscCall(VecGetArrayRead(wide_out, &in));
        std::copy(in, in + n, result);
        PetscCall(VecGetArray(wide_in, &wide));
        std::fill(wide, wide + n, 0.0);
        const auto rr = static_cast<std::size_t>(risk_index());
        wide[rr] = -in[rr];
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const auto ia = static_cast<std::size_t>(aux_index(k, 0)), ib = ia + 1;
            wide[ia] = -in[ia];
            wide[ib] = -in[ib] + lv_dot_risk[k] * wide[rr];
        }
        PetscCall(VecRestoreArray(wide_in, &wide));
        PetscCall(VecRestoreArrayRead(wide_out, &in));
        PetscCall(MatMult(bordered, wide_in, wide_out));  // [-df/dz dz; dz]
        PetscCall(VecGetArrayRead(wide_out, &in));
        for (std::size_t i = 0; i < n; ++i) result[i] += in[i];
        PetscCall(VecRestoreArrayRead(wide_out, &in));
        PetscCall(VecRestoreArray(out, &result));
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

// One Jacobian per step: ARKIMEX 4's implicit stages share one diagonal coefficient, so every
// Newton iteration of every stage of a step has the same shift, and the LU at the step's first
// iterate serves them all (a chord iteration: a few more residuals, far fewer factorisations).
// A new shift (a rejected or shortened step, another integrator) gets a new Jacobian.
PetscErrorCode ijacobian(TS ts, PetscReal, Vec u, Vec, PetscReal shift, Mat a, Mat p, void* context) {
    PetscFunctionBeginUser;
    auto* impl = static_cast<FokkerPlanckSolver::Impl*>(context);
    if (a != p) {  // -snes_mf_operator: the matrix-free operator only needs to learn its new base point
        PetscCall(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
        PetscCall(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
    }
    impl->shift_now = shift;
    if (impl->robust) {  // the fallback: a new base point and preconditioner every iteration
        PetscCall(impl->set_difference_base(u));
        const PetscScalar* y;
        PetscCall(VecGetArrayRead(u, &y));
        impl->assemble_tridiagonal(y, shift);
        PetscCall(VecRestoreArrayRead(u, &y));
        PetscFunctionReturn(0);
    }
    PetscReal step_start;
    PetscCall(TSGetTime(ts, &step_start));
    if (impl->symbolic && !impl->refresh && step_start == impl->jacobian_time && shift == impl->jacobian_shift) {
        PetscFunctionReturn(0);
    }
    impl->refresh = false;
    impl->jacobian_time = step_start;
    impl->jacobian_shift = shift;
    const PetscScalar* y;
    PetscCall(VecGetArrayRead(u, &y));
    PetscCall(impl->assemble_jacobian(y, shift));
    PetscCall(VecRestoreArrayRead(u, &y));
    PetscFunctionReturn(0);
}

// The Jacobian operator (a shell over the bordered matrix) and the preconditioner that solves
// with it exactly (its LU).
PetscErrorCode jacobian_mult(Mat a, Vec x, Vec y) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(MatShellGetContext(a, &context));
    PetscCall(static_cast<FokkerPlanckSolver::Impl*>(context)->apply_operator(x, y));
    PetscFunctionReturn(0);
}

PetscErrorCode jacobian_solve(PC pc, Vec x, Vec y) {
    PetscFunctionBeginUser;
    void* context;
    PetscCall(PCShellGetContext(pc, &context));
    PetscCall(static_cast<FokkerPlanckSolver::Impl*>(context)->apply_inverse(x, y));
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
    auto* impl = static_cast<FokkerPlanckSolver::Impl*>(context);
    if (*reason < 0) {  // the TS retries the step shorter, with a fresh Jacobian
        impl->refresh = true;
        if (++impl->failures_in_a_row >= 3 && !impl->robust) {  // and from the third time on with the fallback
            impl->robust = true;
            PetscCall(KSPSetType(impl->ksp, KSPGMRES));
        }
        PetscFunctionReturn(0);
    }
    if (it == 0) impl->previous_update = -1.0;
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
        const double e = dy[i] / (impl->weight_atol + impl->weight_rtol * std::abs(y[i]));
        sum += e * e;
    }
    PetscCall(VecRestoreArrayRead(dx, &dy));
    PetscCall(VecRestoreArrayRead(x, &y));
    const double update = std::sqrt(sum / static_cast<double>(n));
    if (update < impl->newton_tolerance) {
        *reason = SNES_CONVERGED_SNORM_RELATIVE;
    } else if (impl->previous_update > 0.0 && update > 0.5 * impl->previous_update) {
        impl->refresh = true;  // the chord iteration contracts too slowly: a new Jacobian here
    }
    impl->previous_update = update;
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
    impl->failures_in_a_row = 0;
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
    Mat jacobian;
    TS ts;
    SNES snes;
    KSP ksp;
    PC pc;
    check(VecCreateSeq(PETSC_COMM_SELF, n, &y), "VecCreateSeq");
    check(MatCreateShell(PETSC_COMM_SELF, n, n, n, n, &s, &jacobian), "MatCreateShell");
    check(MatShellSetOperation(jacobian, MATOP_MULT, reinterpret_cast<void (*)(void)>(jacobian_mult)),
          "MatShellSetOperation");
    s.symbolic = false;
    check(s.create_bordered(), "the bordered Jacobian");
    check(TSCreate(PETSC_COMM_SELF, &ts), "TSCreate");
    struct Cleanup {
        Vec* y; Mat* jacobian; TS* ts; Impl* s;
        ~Cleanup() { TSDestroy(ts); MatDestroy(jacobian); VecDestroy(y); s->destroy_bordered(); }
    } cleanup{&y, &jacobian, &ts, &s};

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
    check(TSSetTolerances(ts, s.atol, nullptr, s.rtol, nullptr), "TSSetTolerances");
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
    s.robust = false;
    s.refresh = false;
    s.failures_in_a_row = 0;
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
