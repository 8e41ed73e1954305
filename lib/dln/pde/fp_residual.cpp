#include "dln/pde/fp_residual.hpp"

#include "dln/pde/fp_class_coefficients.hpp"
#include "dln/pde/fp_risk.hpp"
#include "dln/pde/fp_sg_flux.hpp"

namespace dln::pde::fp {

Residual::Residual(const Problem& p)
    : p_(p), flux_(p.layout.max_cells(), 0.0), drift_c_(p.layout.total_cells(), 0.0),
      error_c_(p.layout.total_cells(), 0.0) {}

// The centres' drift increments and errors are computed once per class and shared by R, the
// moments and (at the faces) the fluxes.
void Residual::evaluate(const double* y, double* f) {
    const std::size_t n = p_.classes.size();
    double r = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const Grid& grid = p_.grid(k);
        const std::size_t cells = p_.layout.cells(k);
        const Coefficients c = frame(p_, k, y, 0.0);
        double* phi = drift_c_.data() + p_.layout.cell_offset(k);
        double* error = error_c_.data() + p_.layout.cell_offset(k);
        drift_points(p_, c, p_.classes[k], grid.centre.data(), cells, phi, error);
        r += class_risk(p_.classes[k], y + p_.layout.g(k), cells, grid.h, [error](std::size_t j) { return error[j]; });
    }
    r = risk_from_classes(r, p_.noise);
    for (std::size_t k = 0; k < n; ++k) {
        const Grid& grid = p_.grid(k);
        const std::size_t cells = p_.layout.cells(k);
        const double h = grid.h;
        const std::vector<double>& face = grid.face;
        const double* g = y + p_.layout.g(k);
        double* out = f + p_.layout.g(k);
        Coefficients c = frame(p_, k, y, r);
        moments(grid, g, drift_c_.data() + p_.layout.cell_offset(k), c);
        drift_points(p_, c, p_.classes[k], face.data(), cells - 1, flux_.data(), nullptr);  // phi at the faces
        for (std::size_t j = 0; j + 1 < cells; ++j) {
            const SgFace sg(face_velocity(flux_[j], c, face[j]), c.diffusion, h);
            flux_[j] = sg.flux(g[j], g[j + 1]);
        }
        for (std::size_t j = 0; j < cells; ++j) {
            const double right = j + 1 < cells ? flux_[j] : 0.0;
            const double left = j > 0 ? flux_[j - 1] : 0.0;
            out[j] = -(right - left) / h;
        }
        f[p_.layout.mean(k)] = c.m_dot;
        f[p_.layout.log_variance(k)] = c.lv_dot;
        f[p_.layout.log_q(k)] = c.lq_dot;
    }
}

}  // namespace dln::pde::fp
