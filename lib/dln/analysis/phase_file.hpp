// The files of aggregation: reading a sweep file (serially, no MPI: a login node can aggregate a
// sweep stopped by its time limit) and writing the phase file and its CSV, both through io's
// netCDF-4 layer (dln/io/netcdf_file.hpp): analysis makes no HDF5 call of its own. A file a
// running sweep holds open for writing is refused by HDF5 (even with file locking off), so it is
// reported as unreadable, as by dln status.
//
// phase.h5 (schema "dln-phase/2", documented in README.md "Aggregating a sweep") is netCDF-4
// conformant like the sweep file: one self-contained group per method holding its own
// coordinate variables (lr, [dim], alpha, the extra axes, time) and /<method>/<quantity> over
// the method's grid (lr, [dim], alpha, extras...), as the sweep file's group has it without seed.
#pragma once

#include "dln/io/provenance.hpp"

#include <ostream>
#include <string>

#include "dln/analysis/phase_summary.hpp"

namespace dln::analysis {

inline constexpr const char* kPhaseSchema = "dln-phase/2";

// Reads what aggregation needs from a sweep file of io's current schema (io::ResultFile::schema,
// dln-sweep/2): each method group's axes as its status variable's dimensions say, the replicate
// axis being the one whose dln_key is run.seeds. Variables it does not know are ignored, so
// later additions to the sweep file do not break it. Throws std::invalid_argument naming the
// problem if path is not a readable sweep file (missing, not HDF5, a dln-sweep/1 file (the
// one-line refusal of the spec), another schema, wrong shapes).
SweepData read_sweep(const std::string& path);

void write_phase_h5(const std::string& path, const PhaseTable& table);

// One row per method and grid point: method, every axis of any method in axis order (an axis
// the method lacks, the PDE's dim, is "inf": it is that axis's limit; categorical values as
// their names), then the quantities.
void write_phase_csv(std::ostream& out, const PhaseTable& table);

// Throws std::invalid_argument if dir cannot be made the output directory: it exists and is not
// a directory, or its parent does not exist. Touches nothing.
void check_output_directory(const std::string& dir);

// Creates dir if needed and writes dir/phase.h5 and dir/phase.csv, each first under a temporary
// name and then renamed, so a reader never sees half a file. phase.h5 gets provenance's root
// build and runs as its provenance attributes (README "The result file"), if it has runs.
void write_phase_directory(const std::string& dir, const PhaseTable& table, const io::Provenance& provenance = {});

}  // namespace dln::analysis
