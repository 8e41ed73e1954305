// The discretised problem the Fokker-Planck solver's parts share: the model's constants, the
// coordinate classes, the co-moving grid and where each class's unknowns lie in the state.
#pragma once

#include <cstddef>
#include <vector>

#include "dln/model/parametrization.hpp"
#include "dln/pde/class_quadrature.hpp"
#include "dln/pde/fokker_planck_solver.hpp"

namespace dln::pde::fp {

// A class's co-moving grid in xi: uniform on [-half_width, half_width] with its own cell count
// (PdeSpec::class_cells), cell centres and interior faces. Every class starts on pde.width; a class whose balance has collapsed is moved
// to a narrower one that ends where the drift confines its mass (fp_extent.hpp).
struct Grid {
    std::size_t cells = 0;
    double half_width = 0.0, h = 0.0;
    std::vector<double> centre, face;
};

// The uniform grid of `cells` cells on [-half_width, half_width].
Grid uniform_grid(std::size_t cells, double half_width);

// Where each class's unknowns lie in the state vector: its cells' g, then m, log v and log Q.
// Each class has its own cell count; the blocks follow one another (offsets by prefix sums), so
// with equal counts N class k starts at k (N + 3), as it did when the count was one number.
class StateLayout {
public:
    StateLayout() = default;
    StateLayout(std::size_t classes, std::size_t cells) : StateLayout(std::vector<std::size_t>(classes, cells)) {}
    explicit StateLayout(std::vector<std::size_t> cells);
    std::size_t classes() const { return cells_.size(); }
    std::size_t cells(std::size_t k) const { return cells_[k]; }
    std::size_t g(std::size_t k) const { return start_[k]; }  // the first cell of class k
    std::size_t mean(std::size_t k) const { return g(k) + cells_[k]; }
    std::size_t log_variance(std::size_t k) const { return mean(k) + 1; }
    std::size_t log_q(std::size_t k) const { return mean(k) + 2; }
    std::size_t size() const { return start_.empty() ? 0 : start_.back(); }
    // Where class k's cells start in a [class][cell] array of every class's cells only (the
    // solver's per-cell scratch), and that array's length.
    std::size_t cell_offset(std::size_t k) const { return cell_start_[k]; }
    std::size_t total_cells() const { return cell_start_.empty() ? 0 : cell_start_.back(); }
    std::size_t max_cells() const;  // the most cells of any class (one class's scratch)

private:
    std::vector<std::size_t> cells_;
    std::vector<std::size_t> start_, cell_start_;  // prefix sums, one longer than cells_
};

struct Problem {
    bool linear = false;
    double kappa = 0.0, lr = 0.0, noise = 0.0;
    double width = 0.0;  // pde.width: every class's initial half-width, and the widest any may have
    std::vector<CoordinateClass> classes;
    std::vector<Grid> grids;  // [class]
    StateLayout layout;
    const Grid& grid(std::size_t k) const { return grids[k]; }
};

// Checks the spec (std::invalid_argument) and lays out the grid and the state.
Problem make_problem(model::Parametrization param, double lr, double noise, std::vector<CoordinateClass> classes,
                     const PdeSpec& spec);

// The initial state: each class a narrow Gaussian at x0 (the delta of THEORY.md §3 smoothed
// to variance v0), i.e. g = the standard normal's cell averages, renormalised to mass 1.
void initial_state(const Problem& p, double* y);

}  // namespace dln::pde::fp
