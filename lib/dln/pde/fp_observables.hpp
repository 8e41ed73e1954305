// What a snapshot reports: the observables of THEORY.md §4 as integrals against the classes'
// densities, and each class's diagnostics.
#pragma once

#include <vector>

#include "dln/model/observables.hpp"
#include "dln/pde/fp_problem.hpp"

namespace dln::pde::fp {

model::Observables observe(const Problem& p, const double* y, double threshold);
std::vector<ClassDiagnostics> diagnose(const Problem& p, const double* y);

}  // namespace dln::pde::fp
