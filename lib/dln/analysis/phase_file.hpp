// The files of aggregation: reading a sweep file (serially, plain HDF5, no MPI: a login node can
// aggregate a sweep stopped by its time limit) and writing the phase file and its CSV. A file a
// running sweep holds open for writing is refused by HDF5 (even with file locking off), so it is
// reported as unreadable, as by dln status.
//
// phase.h5 (schema "dln-phase/1", documented in README.md "Aggregating a sweep") keeps the sweep's
// conventions: /axes/lr, /axes/dim, /axes/alpha and /time are dimension scales attached to every
// dataset; /<method>/<quantity> is [lr, dim, alpha] ([lr, alpha] for pde).
#pragma once

#include <ostream>
#include <string>

#include "dln/analysis/phase_summary.hpp"

namespace dln::analysis {

inline constexpr const char* kPhaseSchema = "dln-phase/1";

// Reads what aggregation needs from a dln-sweep/1 file. Datasets it does not know are ignored,
// so later additions to the sweep file do not break it. Throws std::invalid_argument naming the
// problem if path is not a readable sweep file (missing, not HDF5, another schema, wrong shapes).
SweepData read_sweep(const std::string& path);

void write_phase_h5(const std::string& path, const PhaseTable& table);

// One row per (method, lr, dim, alpha); dim is "inf" for the pde (the d -> infinity limit).
void write_phase_csv(std::ostream& out, const PhaseTable& table);

// Throws std::invalid_argument if dir cannot be made the output directory: it exists and is not
// a directory, or its parent does not exist. Touches nothing.
void check_output_directory(const std::string& dir);

// Creates dir if needed and writes dir/phase.h5 and dir/phase.csv, each first under a temporary
// name and then renamed, so a reader never sees half a file.
void write_phase_directory(const std::string& dir, const PhaseTable& table);

}  // namespace dln::analysis
