#include "dln/pde/fp_problem.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
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

StateLayout::StateLayout(std::vector<std::size_t> cells) : cells_(std::move(cells)) {
    start_.assign(cells_.size() + 1, 0);
    cell_start_.assign(cells_.size() + 1, 0);
    for (std::size_t k = 0; k < cells_.size(); ++k) {
        start_[k + 1] = start_[k] + cells_[k] + 3;
        cell_start_[k + 1] = cell_start_[k] + cells_[k];
    }
}

std::size_t StateLayout::max_cells() const {
    return cells_.empty() ? 0 : *std::max_element(cells_.begin(), cells_.end());
}

Problem make_problem(model::Parametrization param, double lr, double noise, std::vector<CoordinateClass> classes,
                     const PdeSpec& spec) {
    if (spec.cells < 4) throw std::invalid_argument("pde.cells must be at least 4");
    if (!(spec.width > 0.0)) throw std::invalid_argument("pde.width must be positive");
    if (classes.empty()) throw std::invalid_argument("the PDE needs at least one coordinate class");
    std::vector<std::size_t> cells = spec.class_cells.empty() ? std::vector<std::size_t>(classes.size(), spec.cells)
                                                              : spec.class_cells;
    if (cells.size() != classes.size()) {
        throw std::invalid_argument("per-class cell counts: " + std::to_string(cells.size()) + " counts for " +
                                    std::to_string(classes.size()) + " coordinate classes");
    }
    for (const std::size_t n : cells) {
        if (n < 4) throw std::invalid_argument("every class needs at least 4 cells");
    }
    Problem p;
    p.linear = param == model::Parametrization::linear;
    p.kappa = model::kappa(param);
    p.lr = lr;
    p.noise = noise;
    p.classes = std::move(classes);
    p.width = spec.width;
    for (const std::size_t n : cells) p.grids.push_back(uniform_grid(n, spec.width));
    p.layout = StateLayout(std::move(cells));
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
