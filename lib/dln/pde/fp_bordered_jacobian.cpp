#include "dln/pde/fp_bordered_jacobian.hpp"

#include <algorithm>
#include <cmath>

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/pde/fp_risk.hpp"
#include "dln/pde/fp_sg_flux.hpp"

namespace dln::pde::fp {

PetscErrorCode BorderedJacobian::create() {
    PetscFunctionBeginUser;
    const std::size_t n = p_.classes.size();
    const StateLayout& layout = p_.layout;
    std::vector<PetscInt> nnz(static_cast<std::size_t>(bordered_size()));
    for (std::size_t k = 0; k < n; ++k) {
        for (std::size_t j = 0; j < layout.cells(k); ++j) nnz[layout.g(k) + j] = 9;  // 3 tridiagonal, 3 frame, 3 aux
        nnz[layout.mean(k)] = 4;
        nnz[layout.log_variance(k)] = 2;
        nnz[layout.log_q(k)] = 2;
        const auto block = static_cast<PetscInt>(layout.cells(k) + 3);
        nnz[static_cast<std::size_t>(aux_index(k, 0))] = block + 1;
        nnz[static_cast<std::size_t>(aux_index(k, 1))] = block + 2;
    }
    nnz.back() = static_cast<PetscInt>(layout.size() + 1);
    symbolic_ = false;
    PetscCall(MatCreateSeqAIJ(PETSC_COMM_SELF, bordered_size(), bordered_size(), 0, nnz.data(), &bordered_));
    PetscCall(MatSetOption(bordered_, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
    PetscCall(MatCreateVecs(bordered_, &wide_in_, &wide_out_));
    PetscCall(MatGetFactor(bordered_, MATSOLVERPETSC, MAT_FACTOR_LU, &factor_));
    const std::size_t all_cells = layout.total_cells(), one_class = layout.max_cells();
    drift_c_.assign(all_cells, 0.0);
    error_c_.assign(all_cells, 0.0);
    phi_m_c_.assign(all_cells, 0.0);
    phi_lv_c_.assign(all_cells, 0.0);
    slope_c_.assign(all_cells, 0.0);
    phi_f_.assign(one_class, 0.0);
    phi_m_f_.assign(one_class, 0.0);
    phi_lv_f_.assign(one_class, 0.0);
    velocity_f_.assign(one_class, 0.0);
    weight_f_.assign(one_class, 0.0);
    lv_dot_risk_.assign(n, 0.0);
    columns_.clear();
    row_of_.clear();
    row_end_.clear();
    csr_position_.clear();
    values_.clear();
    PetscFunctionReturn(0);
}

PetscErrorCode BorderedJacobian::destroy() {
    PetscFunctionBeginUser;
    PetscCall(MatDestroy(&factor_));
    PetscCall(MatDestroy(&bordered_));
    PetscCall(VecDestroy(&wide_in_));
    PetscCall(VecDestroy(&wide_out_));
    symbolic_ = false;
    PetscFunctionReturn(0);
}

// Moves the collected entries into the matrix.
PetscErrorCode BorderedJacobian::store_entries() {
    PetscFunctionBeginUser;
    if (!symbolic_) {
        std::size_t begin = 0;
        for (std::size_t i = 0; i < row_of_.size(); ++i) {
            const std::size_t end = row_end_[i];
            PetscCall(MatSetValues(bordered_, 1, &row_of_[i], static_cast<PetscInt>(end - begin), columns_.data() + begin,
                                   values_.data() + begin, INSERT_VALUES));
            begin = end;
        }
        PetscCall(MatAssemblyBegin(bordered_, MAT_FINAL_ASSEMBLY));
        PetscCall(MatAssemblyEnd(bordered_, MAT_FINAL_ASSEMBLY));
        // Every row was inserted whole and sorted, with exactly its preallocated length, so
        // its entries lie in the storage in the order they were produced.
        const PetscInt* ia;
        const PetscInt* ja;
        PetscInt nrows;
        PetscBool done;
        PetscCall(MatGetRowIJ(bordered_, 0, PETSC_FALSE, PETSC_FALSE, &nrows, &ia, &ja, &done));
        PetscCheck(done, PETSC_COMM_SELF, PETSC_ERR_PLIB, "no row structure");
        csr_position_.assign(values_.size(), 0);
        begin = 0;
        for (std::size_t i = 0; i < row_of_.size(); ++i) {
            const std::size_t end = row_end_[i];
            const PetscInt first = ia[row_of_[i]];
            PetscCheck(ia[row_of_[i] + 1] - first == static_cast<PetscInt>(end - begin), PETSC_COMM_SELF,
                       PETSC_ERR_PLIB, "bordered row length");
            for (std::size_t t = begin; t < end; ++t) {
                csr_position_[t] = first + static_cast<PetscInt>(t - begin);
                PetscCheck(ja[csr_position_[t]] == columns_[t], PETSC_COMM_SELF, PETSC_ERR_PLIB, "bordered column");
            }
            begin = end;
        }
        PetscCall(MatRestoreRowIJ(bordered_, 0, PETSC_FALSE, PETSC_FALSE, &nrows, &ia, &ja, &done));
    } else {
        PetscScalar* a;
        PetscCall(MatSeqAIJGetArrayWrite(bordered_, &a));
        for (std::size_t t = 0; t < values_.size(); ++t) a[csr_position_[t]] = values_[t];
        PetscCall(MatSeqAIJRestoreArrayWrite(bordered_, &a));
    }
    values_.clear();
    PetscFunctionReturn(0);
}

PetscErrorCode BorderedJacobian::assemble(const double* y, double shift) {
    PetscFunctionBeginUser;
    const std::size_t n = p_.classes.size();
    const double kappa = p_.kappa, lr = p_.lr;
    const bool linear = p_.linear;
    const PetscInt r_col = risk_index();
    // The centres of every class, and R with its derivatives (the last row).
    double r = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const Coefficients c = frame(p_, k, y, 0.0);
        const std::size_t o = p_.layout.cell_offset(k), cells = p_.layout.cells(k);
        drift_derivatives(p_, c, p_.classes[k], p_.grid(k).centre.data(), cells, drift_c_.data() + o,
                          phi_m_c_.data() + o, phi_lv_c_.data() + o, error_c_.data() + o, slope_c_.data() + o);
        const double* error = error_c_.data() + o;
        r += class_risk(p_.classes[k], y + p_.layout.g(k), cells, p_.grid(k).h,
                        [error](std::size_t j) { return error[j]; });
    }
    r = risk_from_classes(r, p_.noise);
    for (std::size_t k = 0; k < n; ++k) {
        const double h = p_.grid(k).h;
        const std::vector<double>& centre = p_.grid(k).centre;
        const double* g = y + p_.layout.g(k);
        const std::size_t o = p_.layout.cell_offset(k), cells = p_.layout.cells(k);
        const double w = risk_weight(p_.classes[k], h);  // dR/dg_j = w e_j^2
        const double s_k = std::exp(0.5 * y[p_.layout.log_variance(k)]);
        double dm = 0.0, dlv = 0.0, dq = 0.0;
        const auto base = static_cast<PetscInt>(p_.layout.g(k));
        for (std::size_t j = 0; j < cells; ++j) {
            const double e = error_c_[o + j];
            entry(base + static_cast<PetscInt>(j), -w * e * e);
            dm += g[j] * e * slope_c_[o + j];
            dlv += g[j] * e * slope_c_[o + j] * 0.5 * s_k * centre[j];
            if (!linear) dq += g[j] * e * (e + p_.classes[k].target);
        }
        const auto m_col = static_cast<PetscInt>(p_.layout.mean(k));
        entry(m_col, -2.0 * w * dm);
        entry(m_col + 1, -2.0 * w * dlv);
        entry(m_col + 2, -2.0 * w * dq);
    }
    entry(r_col, 1.0);
    set_row(r_col);

    for (std::size_t k = 0; k < n; ++k) {
        const auto& cls = p_.classes[k];
        const Grid& grid = p_.grid(k);
        const double h = grid.h;
        const std::vector<double>& centre = grid.centre;
        const std::vector<double>& face = grid.face;
        const double* g = y + p_.layout.g(k);
        const std::size_t o = p_.layout.cell_offset(k), cells = p_.layout.cells(k);
        const double* phi = drift_c_.data() + o;
        Coefficients c = frame(p_, k, y, r);
        moments(grid, g, phi, c);
        const auto base = static_cast<PetscInt>(p_.layout.g(k));
        const auto m_col = static_cast<PetscInt>(p_.layout.mean(k)), lv_col = static_cast<PetscInt>(p_.layout.log_variance(k)),
                   q_col = static_cast<PetscInt>(p_.layout.log_q(k));
        const PetscInt a_col = aux_index(k, 0), b_col = aux_index(k, 1);
        const double a = c.mean_shift, b = c.lv_dot, dd = c.diffusion;
        const double dd_risk = c.d_per_risk / c.v;  // dD/dR
        drift_derivatives(p_, c, cls, face.data(), cells - 1, phi_f_.data(), phi_m_f_.data(), phi_lv_f_.data(), nullptr,
                          nullptr);
        // The faces' velocities and Scharfetter-Gummel weights first, in loops that vectorise.
        for (std::size_t f = 0; f + 1 < cells; ++f) velocity_f_[f] = face_velocity(phi_f_[f], c, face[f]);
        for (std::size_t f = 0; f + 1 < cells; ++f) weight_f_[f] = SgFace::weight(velocity_f_[f], dd, h);
        // Per face: the flux's weights on g_j, g_{j+1} and its derivatives in m, log v, log Q,
        // phi_bar, (log v)' and R.
        struct FaceTerms { double minus, plus, m, lv, q, a, b, r; };
        auto face_terms = [&](std::size_t f) {
            FaceTerms t{};
            const SgFace sg(velocity_f_[f], dd, h, weight_f_[f]);
            t.minus = sg.minus();
            t.plus = sg.plus();
            const SgFace::Slopes d = sg.slopes(g[f], g[f + 1]);
            const double jv = d.velocity, jd = d.diffusion;  // dJ/dV, dJ/dD
            t.m = jv * phi_m_f_[f];
            t.lv = jv * phi_lv_f_[f] - jd * dd;
            t.q = linear ? 0.0 : jv * phi_f_[f];
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
        entry(r_col, q_rate(p_, cls));
        set_row(q_col);
        // phi_bar = sum g phi / sum g.
        double am = 0.0, alv = 0.0, bm = 0.0, blv = 0.0;
        for (std::size_t j = 0; j < cells; ++j) {
            entry(base + static_cast<PetscInt>(j), -(phi[j] - a) / c.mass);
            am += g[j] * phi_m_c_[o + j];
            alv += g[j] * phi_lv_c_[o + j];
            bm += g[j] * (centre[j] - c.xi_mean) * phi_m_c_[o + j];
            blv += g[j] * (centre[j] - c.xi_mean) * phi_lv_c_[o + j];
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
        lv_dot_risk_[k] = 2.0 * dd_risk / var;
        entry(r_col, -lv_dot_risk_[k]);
        set_row(b_col);
    }
    PetscCall(store_entries());
    MatFactorInfo info;
    PetscCall(MatFactorInfoInitialize(&info));
    if (!symbolic_) {
        IS rows, cols;
        PetscCall(MatGetOrdering(bordered_, MATORDERINGNATURAL, &rows, &cols));
        info.fill = 2.0;
        PetscCall(MatLUFactorSymbolic(factor_, bordered_, rows, cols, &info));
        PetscCall(ISDestroy(&rows));
        PetscCall(ISDestroy(&cols));
        symbolic_ = true;
    }
    PetscCall(MatLUFactorNumeric(factor_, bordered_, &info));
    PetscFunctionReturn(0);
}

PetscErrorCode BorderedJacobian::load_wide(Vec x) {
    PetscFunctionBeginUser;
    const auto n = p_.layout.size();
    const PetscScalar* in;
    PetscScalar* wide;
    PetscCall(VecGetArrayRead(x, &in));
    PetscCall(VecGetArray(wide_in_, &wide));
    std::copy(in, in + n, wide);
    std::fill(wide + n, wide + bordered_size(), 0.0);
    PetscCall(VecRestoreArray(wide_in_, &wide));
    PetscCall(VecRestoreArrayRead(x, &in));
    PetscFunctionReturn(0);
}

PetscErrorCode BorderedJacobian::apply_inverse(Vec x, Vec out) {
    PetscFunctionBeginUser;
    const auto n = static_cast<PetscInt>(p_.layout.size());
    const PetscScalar* in;
    PetscScalar* result;
    PetscCall(load_wide(x));
    PetscCall(MatSolve(factor_, wide_in_, wide_out_));
    PetscCall(VecGetArrayRead(wide_out_, &in));
    PetscCall(VecGetArray(out, &result));
    std::copy(in, in + n, result);
    PetscCall(VecRestoreArray(out, &result));
    PetscCall(VecRestoreArrayRead(wide_out_, &in));
    PetscFunctionReturn(0);
}

PetscErrorCode BorderedJacobian::apply_operator(Vec x, Vec out) {
    PetscFunctionBeginUser;
    const std::size_t n = p_.layout.size();
    const PetscScalar* in;
    PetscScalar *wide, *result;
    PetscCall(load_wide(x));
    PetscCall(MatMult(bordered_, wide_in_, wide_out_));  // [(shift I - df/dy) x; -dz/dy x]
    PetscCall(VecGetArray(out, &result));
    PetscCall(VecGetArrayRead(wide_out_, &in));
    std::copy(in, in + n, result);
    PetscCall(VecGetArray(wide_in_, &wide));
    std::fill(wide, wide + n, 0.0);
    const auto rr = static_cast<std::size_t>(risk_index());
    wide[rr] = -in[rr];
    for (std::size_t k = 0; k < p_.classes.size(); ++k) {
        const auto ia = static_cast<std::size_t>(aux_index(k, 0)), ib = ia + 1;
        wide[ia] = -in[ia];
        wide[ib] = -in[ib] + lv_dot_risk_[k] * wide[rr];
    }
    PetscCall(VecRestoreArray(wide_in_, &wide));
    PetscCall(VecRestoreArrayRead(wide_out_, &in));
    PetscCall(MatMult(bordered_, wide_in_, wide_out_));  // [-df/dz dz; dz]
    PetscCall(VecGetArrayRead(wide_out_, &in));
    for (std::size_t i = 0; i < n; ++i) result[i] += in[i];
    PetscCall(VecRestoreArrayRead(wide_out_, &in));
    PetscCall(VecRestoreArray(out, &result));
    PetscFunctionReturn(0);
}

}  // namespace dln::pde::fp
