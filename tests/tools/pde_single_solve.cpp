// A single Fokker-Planck solve of the power-law point (u2v2, lr 0.5, alpha 0.1, c = 1 on 10%,
// a = 0.5), for diagnosing the stepper outside the error controller: the spectrum rule is
// chosen here, including the graded one the library does not offer (v = v0 sinh(s asinh(1/v0));
// v0 = 0 gives the library's uniform panels). PETSc options come from PETSC_OPTIONS.
//   pde_single_solve NODES V0 CELLS TS_RTOL T
// prints the steps, fallback entries, extent changes, R(T) and, per class, lambda, Q(T), v(T).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dln/pde/fokker_planck_solver.hpp"
#include "dln/pde/petsc_session.hpp"
#include "standalone_mpi.hpp"

using namespace dln;

namespace {

std::vector<std::pair<double, double>> graded_powerlaw(std::size_t nodes, double a, double v0) {
    std::vector<double> s, w;
    pde::composite_rule(nodes, s, w);
    const double A = std::asinh(1.0 / v0);
    std::vector<std::pair<double, double>> out;
    double total = 0.0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double v = v0 * std::sinh(s[i] * A), dv = v0 * A * std::cosh(s[i] * A) * w[i];
        const double lambda = (1.0 - a) * std::pow(v, -a / (1.0 - a));
        out.emplace_back(lambda, dv / lambda);
        total += dv / lambda;
    }
    double mean = 0.0;
    for (auto& [lambda, weight] : out) {  // as class_quadrature.cpp's normalise
        weight /= total;
        lambda *= total;
        mean += weight * lambda;
    }
    for (auto& [lambda, weight] : out) lambda /= mean;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: pde_single_solve NODES V0 CELLS TS_RTOL T\n");
        return 2;
    }
    const std::size_t nodes = std::stoul(argv[1]), cells = std::stoul(argv[3]);
    const double v0 = std::stod(argv[2]), ts_rtol = std::stod(argv[4]), end = std::stod(argv[5]);
    app::prepare_standalone_mpi();
    const pde::PetscSession petsc;
    model::DataSpec data;
    data.spectrum = model::Spectrum::powerlaw;
    data.exponent = 0.5;
    const auto param = model::Parametrization::u2v2;
    pde::QuadratureSpec quadrature;
    quadrature.spectrum_nodes = nodes;
    std::vector<pde::CoordinateClass> classes = pde::make_classes(data, param, 0.1, quadrature);
    if (v0 > 0.0) {  // the same targets on the graded spectrum rule
        const auto spectrum = graded_powerlaw(nodes, data.exponent, v0);
        const std::size_t per = classes.size() / nodes;
        for (std::size_t i = 0; i < nodes; ++i) {
            const double old_weight = [&] { double w = 0; for (std::size_t t = 0; t < per; ++t) w += classes[i * per + t].weight; return w; }();
            for (std::size_t t = 0; t < per; ++t) {
                auto& c = classes[i * per + t];
                c.weight = c.weight / old_weight * spectrum[i].second;
                c.lambda = spectrum[i].first;
            }
        }
    }
    pde::PdeSpec spec;
    spec.cells = cells;
    spec.rtol = ts_rtol;
    spec.atol = 1e-3 * ts_rtol;  // as error_control.cpp sets them
    pde::FokkerPlanckSolver solver(param, 0.5, 0.0, classes, spec);
    sim::RunSpec run;
    run.time = end;
    run.snapshots = static_cast<std::size_t>(std::lround(end * 10.0)) + 1;
    const pde::PdeTrajectory traj = solver.run(run);
    std::printf("classes %zu steps %zu fallback %zu extent_changes %zu frame_changes %zu diverged %d R(T) %.10g\n", classes.size(),
                traj.steps, traj.fallback_entries, traj.extent_changes, traj.frame_changes, traj.diverged ? 1 : 0,
                traj.snapshots.back()[model::risk]);
    if (const char* which = std::getenv("DLN_PRINT_CLASS"); which != nullptr) {  // one class at every snapshot
        const std::size_t k = std::stoul(which);
        std::printf("class %zu c %g lambda %g weight %.3g\n", k, classes[k].target, classes[k].lambda, classes[k].weight);
        for (std::size_t j = 0; j < traj.classes.size(); ++j) {
            const auto& d = traj.classes[j][k];
            std::printf("t %.2f m %.6g v %.4g Q %.4g mass %.3g edge %.3g min %.3g R %.6g\n", 0.1 * j, d.mean, d.variance,
                        d.q, d.mass, d.edge_mass, d.min_density, traj.snapshots[j][model::risk]);
        }
    }
    if (std::getenv("DLN_PRINT_CLASSES") != nullptr) {
        for (std::size_t k = 0; k < classes.size(); ++k) {
            const auto& d = traj.classes.back()[k];
            std::printf("class %zu c %g lambda %g weight %.3g Q %.3g v %.3g m %.3g\n", k, classes[k].target,
                        classes[k].lambda, classes[k].weight, d.q, d.variance, d.mean);
        }
    }
    return 0;
}
