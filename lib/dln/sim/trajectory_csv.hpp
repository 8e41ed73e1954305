// The CSV that `dln run` prints: one row per (method, replicate, snapshot).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "dln/model/observables.hpp"

namespace dln::sim {

void write_csv_header(std::ostream& out);

// Non-finite values (after a divergence) print as "nan".
void write_csv_rows(std::ostream& out, const std::string& method, std::size_t replicate,
                    const std::vector<double>& times, const std::vector<model::Observables>& snapshots);

}  // namespace dln::sim
