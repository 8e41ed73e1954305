#include "dln/pde/error_control.hpp"

#include <algorithm>
#include <cmath>

#include "dln/pde/late_time_rate.hpp"

namespace dln::pde {

double excess_risk_error(const sim::Trajectory& approx, const sim::Trajectory& reference, double noise) {
    const double floor_noise = 0.5 * noise * noise;
    const std::size_t n = std::min(approx.snapshots.size(), reference.snapshots.size());
    if (n == 0) return 0.0;
    const double e0 = reference.snapshots[0][model::risk] - floor_noise;
    double worst = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
        const double a = approx.snapshots[j][model::risk] - floor_noise;
        const double r = reference.snapshots[j][model::risk] - floor_noise;
        const bool fa = std::isfinite(a), fr = std::isfinite(r);
        if (fa != fr) return std::numeric_limits<double>::infinity();
        if (!fa) continue;
        worst = std::max(worst, std::abs(a - r) / std::max(std::abs(r), error_floor * std::abs(e0)));
    }
    return worst;
}

// PLACEHOLDER (interface only): one solve at fixed resolution; the controller replaces it.
PdeTrajectory solve_pde_to_tolerance(const sim::PointSpec& point, const sim::RunSpec& run, const AccuracySpec& spec) {
    PdeSpec one;
    one.cells = spec.cells ? spec.cells : 240;
    one.width = spec.width;
    one.quadrature.target_nodes = spec.target_nodes ? spec.target_nodes : 16;
    one.quadrature.spectrum_nodes = spec.spectrum_nodes ? spec.spectrum_nodes : 8;
    const auto classes = make_classes(point.data, point.parametrization, point.alpha, one.quadrature);
    FokkerPlanckSolver solver(point.parametrization, point.lr, point.data.noise, classes, one);
    auto out = solver.run(run);
    out.accuracy.cells = one.cells;
    out.accuracy.classes = classes.size();
    if (!out.diverged && !out.classes.empty()) {
        std::vector<double> q;
        for (const auto& d : out.classes.back()) q.push_back(d.q);
        out.accuracy.predicted_rate = late_time_rate(point.parametrization, point.lr, classes, q);
    }
    return out;
}

}  // namespace dln::pde
