#include "dln/pde/fp_problem.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace dln::pde::fp {

Grid uniform_grid(std::size_t cells, double half_width) {
    Grid grid;
    grid.cells = cells;
    grid.half_width = half_width;
    grid.h = 2.0 * half_width / static_cast<double>(cells);
    for (std::size_t j = 0; j < cells; ++j) grid.centre.push_back(-half_width + (static_cast<double>(j) + 0.5) * grid.h);
    for (std::size_t j = 0; j + 1 < cells; ++j) grid.face.push_back(-half_width + static_cast<double>(j + 1) * grid.h);
    return grid;
}

Problem make_problem(model::Parametrization param, double lr, double noise, std::vector<CoordinateClass> classes,
                     const PdeSpec& spec) {
    if (spec.cells < 4) throw std::invalid_argument("pde.cells must be at least 4");
    if (!(spec.width > 0.0)) throw std::invalid_argument("pde.width must be positive");
    if (classes.empty()) throw std::invalid_argument("the PDE needs at least one coordinate class");
    Problem p;
    p.linear = param == model::Parametrization::linear;
    p.kappa = model::kappa(param);
    p.lr = lr;
    p.noise = noise;
    p.classes = std::move(classes);
    p.width = spec.width;
    p.grids.assign(p.classes.size(), uniform_grid(spec.cells, spec.width));
    p.layout = StateLayout(p.classes.size(), spec.cells);
    return p;
}

void initial_state(const Problem& p, double* y) {
    constexpr double v0 = 1e-10;
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
        const Grid& grid = p.grid(k);
        const double h = grid.h;
        double* g = y + p.layout.g(k);
        const std::size_t cells = p.layout.cells(k);
        double mass = 0.0;
        for (std::size_t j = 0; j < cells; ++j) {
            const double a = -grid.half_width + static_cast<double>(j) * h, b = a + h;
            g[j] = 0.5 * (std::erfc(a / std::sqrt(2.0)) - std::erfc(b / std::sqrt(2.0))) / h;
            mass += g[j] * h;
        }
        for (std::size_t j = 0; j < cells; ++j) g[j] /= mass;
        y[p.layout.mean(k)] = p.classes[k].x0;
        y[p.layout.log_variance(k)] = std::log(v0);
        y[p.layout.log_q(k)] = p.linear ? 0.0 : std::log(p.classes[k].q0);
    }
}

}  // namespace dln::pde::fp
