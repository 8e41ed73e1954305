// f(y) of the semi-discrete system y' = f(y): the finite-volume fluxes of every class's g and
// the equations of its frame and Q.
#pragma once

#include <vector>

#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

class Residual {
public:
    explicit Residual(const Problem& p);
    void evaluate(const double* y, double* f);

private:
    const Problem& p_;
    std::vector<double> flux_;              // cells - 1 interior faces
    std::vector<double> drift_c_, error_c_;  // [class][cell]: drift increments and w - c at the centres
};

}  // namespace dln::pde::fp
