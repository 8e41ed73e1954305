#include "dln/pde/fp_jacobian_free.hpp"

#include <cmath>

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/pde/fp_risk.hpp"
#include "dln/pde/fp_sg_flux.hpp"

namespace dln::pde::fp {

JacobianFreeFallback::JacobianFreeFallback(const Problem& p, Residual& residual)
    : p_(p), residual_(residual), scratch_(p.layout.max_cells(), 0.0), drift_c_(p.layout.total_cells(), 0.0) {}

PetscErrorCode JacobianFreeFallback::destroy() {
    PetscFunctionBeginUser;
    PetscCall(VecDestroy(&base_));
    PetscCall(VecDestroy(&f_base_));
    PetscCall(VecDestroy(&y_));
    PetscCall(VecDestroy(&f_y_));
    PetscFunctionReturn(0);
}

PetscErrorCode JacobianFreeFallback::set_base(Vec u) {
    PetscFunctionBeginUser;
    if (base_ == nullptr) {
        PetscCall(VecDuplicate(u, &base_));
        PetscCall(VecDuplicate(u, &f_base_));
        PetscCall(VecDuplicate(u, &y_));
        PetscCall(VecDuplicate(u, &f_y_));
    }
    PetscCall(VecCopy(u, base_));
    const PetscScalar* y;
    PetscScalar* f;
    PetscCall(VecGetArrayRead(base_, &y));
    PetscCall(VecGetArray(f_base_, &f));
    residual_.evaluate(y, f);
    PetscCall(VecRestoreArray(f_base_, &f));
    PetscCall(VecRestoreArrayRead(base_, &y));
    PetscFunctionReturn(0);
}

PetscErrorCode JacobianFreeFallback::apply_operator(Vec x, Vec out) {
    PetscFunctionBeginUser;
    PetscReal unorm, xnorm;
    PetscCall(VecNorm(base_, NORM_2, &unorm));
    PetscCall(VecNorm(x, NORM_2, &xnorm));
    if (xnorm == 0.0) {
        PetscCall(VecSet(out, 0.0));
        PetscFunctionReturn(0);
    }
    const double step = 1.490116119384765625e-8 * std::sqrt(1.0 + unorm) / xnorm;
    PetscCall(VecWAXPY(y_, step, x, base_));
    const PetscScalar* y;
    PetscScalar* f;
    PetscCall(VecGetArrayRead(y_, &y));
    PetscCall(VecGetArray(f_y_, &f));
    residual_.evaluate(y, f);
    PetscCall(VecRestoreArray(f_y_, &f));
    PetscCall(VecRestoreArrayRead(y_, &y));
    PetscCall(VecWAXPY(out, -1.0, f_base_, f_y_));  // f(u + step x) - f(u)
    PetscCall(VecAXPBY(out, shift_, -1.0 / step, x));
    PetscFunctionReturn(0);
}

void JacobianFreeFallback::assemble_preconditioner(const double* y, double shift) {
    const std::size_t n = p_.classes.size(), size = p_.layout.size();
    lower_.assign(size, 0.0);
    diag_.assign(size, 0.0);
    upper_.assign(size, 0.0);
    const double r = risk(p_, y);
    for (std::size_t k = 0; k < n; ++k) {
        const Grid& grid = p_.grid(k);
        const std::size_t cells = p_.layout.cells(k);
        const double h = grid.h;
        const std::vector<double>& face = grid.face;
        const double* g = y + p_.layout.g(k);
        Coefficients c = frame(p_, k, y, r);
        double* phi = drift_c_.data() + p_.layout.cell_offset(k);
        drift_points(p_, c, p_.classes[k], grid.centre.data(), cells, phi, nullptr);
        moments(grid, g, phi, c);
        drift_points(p_, c, p_.classes[k], face.data(), cells - 1, scratch_.data(), nullptr);
        const std::size_t o = p_.layout.g(k);
        for (std::size_t f = 0; f + 1 < cells; ++f) {  // face f between cells f and f + 1
            const SgFace sg(face_velocity(scratch_[f], c, face[f]), c.diffusion, h);
            const double minus = sg.minus(), plus = sg.plus();  // J = minus g_f - plus g_{f+1}
            diag_[o + f] += minus / h;
            upper_[o + f] = -plus / h;
            diag_[o + f + 1] += plus / h;
            lower_[o + f + 1] = -minus / h;
        }
        for (std::size_t j = 0; j < cells; ++j) diag_[o + j] += shift;
        diag_[p_.layout.mean(k)] = shift + c.stiffness;
        diag_[p_.layout.log_variance(k)] = shift + 2.0 * c.diffusion / c.xi_variance;
        diag_[p_.layout.log_q(k)] = shift;
    }
}

PetscErrorCode JacobianFreeFallback::apply_preconditioner(Vec x, Vec out) {
    PetscFunctionBeginUser;
    const PetscScalar* b;
    PetscScalar* u;
    PetscCall(VecGetArrayRead(x, &b));
    PetscCall(VecGetArray(out, &u));
    std::vector<double>& c = scratch_;  // the modified upper diagonal
    for (std::size_t k = 0; k < p_.classes.size(); ++k) {
        const std::size_t o = p_.layout.g(k), cells = p_.layout.cells(k);
        double denominator = diag_[o];
        c[0] = upper_[o] / denominator;
        u[o] = b[o] / denominator;
        for (std::size_t j = 1; j < cells; ++j) {
            denominator = diag_[o + j] - lower_[o + j] * c[j - 1];
            c[j] = upper_[o + j] / denominator;
            u[o + j] = (b[o + j] - lower_[o + j] * u[o + j - 1]) / denominator;
        }
        for (std::size_t j = cells - 1; j-- > 0;) u[o + j] -= c[j] * u[o + j + 1];
        for (const std::size_t i : {p_.layout.mean(k), p_.layout.log_variance(k), p_.layout.log_q(k)})
            u[i] = b[i] / diag_[i];
    }
    PetscCall(VecRestoreArray(out, &u));
    PetscCall(VecRestoreArrayRead(x, &b));
    PetscFunctionReturn(0);
}

}  // namespace dln::pde::fp
