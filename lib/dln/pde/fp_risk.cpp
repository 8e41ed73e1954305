#include "dln/pde/fp_risk.hpp"

#include <cmath>

#include "dln/pde/fp_class_coefficients.hpp"

namespace dln::pde::fp {

double risk(const Problem& p, const double* y) {
    double sum = 0.0;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const double* g = y + p.layout.g(k);
        const double m = y[p.layout.mean(k)], s = std::exp(0.5 * y[p.layout.log_variance(k)]),
                     q = std::exp(y[p.layout.log_q(k)]);
        const double* centre = p.grid(k).centre.data();
        const double target = p.classes[k].target;
        sum += class_risk(p.classes[k], g, p.layout.cells(k), p.grid(k).h,
                          [&](std::size_t j) { return predictor(p, m + s * centre[j], q) - target; });
    }
    return risk_from_classes(sum, p.noise);
}

}  // namespace dln::pde::fp
