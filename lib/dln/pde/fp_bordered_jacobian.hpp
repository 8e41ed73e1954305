// The analytic Jacobian of the residual, as a sparse bordered system factored by LU.
//
// J = df/dy is dense within a class (every flux depends on the class's moments through the
// frame velocity) and across classes (through R), but only through 2K + 1 scalars:
// z = (phi_bar_k, (log v)'_k for each class, R). Writing them as unknowns of their own gives
// the bordered system
//     [ shift I - df/dy|z   -df/dz     ] [dy]   [b]
//     [ -dz/dy              I - dz/dz  ] [dz] = [0],
// which is sparse (tridiagonal per class, dense only in the 2K + 1 last rows and columns)
// and whose elimination of dz is exactly (shift I - J) dy = b. LU in the natural order
// fills in only those last rows and columns.
#pragma once

#include <petscmat.h>

#include <cstddef>
#include <vector>

#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

class BorderedJacobian {
public:
    explicit BorderedJacobian(const Problem& p) : p_(p) {}
    ~BorderedJacobian() { destroy(); }
    BorderedJacobian(const BorderedJacobian&) = delete;
    BorderedJacobian& operator=(const BorderedJacobian&) = delete;

    // Allocates the matrix for the problem; the next assemble() also factors symbolically.
    PetscErrorCode create();
    PetscErrorCode destroy();

    // Assembles the bordered matrix at y for shift I - df/dy and factors it.
    PetscErrorCode assemble(const double* y, double shift);
    bool factored() const { return symbolic_; }

    // x -> (shift I - J) x: eliminate dz from the bordered rows (the aux block I - dz/dz is the
    // identity except (log v)'_k's dependence on R, so dz follows in two sweeps).
    PetscErrorCode apply_operator(Vec x, Vec out);
    // x -> (shift I - J)^(-1) x through the factored bordered system.
    PetscErrorCode apply_inverse(Vec x, Vec out);

private:
    PetscInt aux_index(std::size_t k, int which) const {  // which: 0 phi_bar_k, 1 (log v)'_k
        return static_cast<PetscInt>(p_.layout.size() + 2 * k + static_cast<std::size_t>(which));
    }
    PetscInt risk_index() const { return static_cast<PetscInt>(p_.layout.size() + 2 * p_.classes.size()); }
    PetscInt bordered_size() const { return risk_index() + 1; }
    // wide_in_ = (x, 0): x in the state rows, zeros in the bordered ones.
    PetscErrorCode load_wide(Vec x);

    // Ends the current row (its entries in increasing column order).
    void set_row(PetscInt row) {
        if (!symbolic_) {
            row_of_.push_back(row);
            row_end_.push_back(values_.size());
        }
    }
    void entry(PetscInt column, double value) {
        if (!symbolic_) columns_.push_back(column);
        values_.push_back(value);
    }
    PetscErrorCode store_entries();

    const Problem& p_;
    Mat bordered_ = nullptr, factor_ = nullptr;
    Vec wide_in_ = nullptr, wide_out_ = nullptr;  // bordered-size work vectors
    bool symbolic_ = false;
    std::vector<double> drift_c_, error_c_, phi_m_c_, phi_lv_c_, slope_c_;  // scratch, [class][cell]
    std::vector<double> phi_f_, phi_m_f_, phi_lv_f_, velocity_f_, weight_f_;  // scratch, one class's faces
    std::vector<double> lv_dot_risk_;                                        // d (log v)'_k / dR, per class
    // The entries in the order assemble() produces them; the first assembly inserts them row
    // by row and records where each lands in the AIJ storage, later ones only scatter.
    std::vector<PetscInt> columns_, row_of_, csr_position_;
    std::vector<PetscScalar> values_;
    std::vector<std::size_t> row_end_;
};

}  // namespace dln::pde::fp
