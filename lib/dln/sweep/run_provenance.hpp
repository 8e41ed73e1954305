// This process's build and this run's record for the sweep file's provenance (io/provenance.hpp).
#pragma once

#include <mpi.h>

#include <ostream>
#include <string>
#include <vector>

#include "dln/io/provenance.hpp"

namespace dln::sweep {

// dln's version and build (dln/build_info.hpp) and the PETSc, HDF5 and MPI libraries it runs with.
io::BuildInfo this_build();

// Collective over comm: a run starting now, of this kind (start, resume, rebuild, merge) and
// shard, with the distinct host names of all ranks and, under Slurm, its job's identifiers.
// Valid on rank 0.
io::RunRecord start_run_record(MPI_Comm comm, const std::string& kind, const std::string& shard);

// Collective; rank 0 writes. Records run as the next run of the sweep file at path, which no
// rank may have open, and returns its number on rank 0 (0 elsewhere). A file last written by a
// build of other source (commit or dirty state) gets a line on err saying so: same version, so
// the results are the same by design, but a figure made from the file should say which builds.
// Throws std::runtime_error on every rank if rank 0 could not write it.
// earlier (rank 0's): runs to record first, those of a damaged file that this one replaces (the
// file's root build is then theirs: they created it) or of the file an extension copies from
// (extension: the root build is this run's, which created the new file).
int record_run_start(MPI_Comm comm, const std::string& path, const io::RunRecord& run, std::ostream& err,
                     const std::vector<io::RunRecord>& earlier = {}, bool extension = false);

// Without MPI: the provenance of a file derived from the sweep file at sweep_path (dln
// aggregate's phase.h5): the sweep's runs, which computed every number it summarises, then one
// run of this process, of this kind, ended now, naming the sweep file (from). Its root build is
// this process's, which creates the derived file. A sweep file without provenance gives only
// this process's run.
io::Provenance derived_file_provenance(const std::string& sweep_path, const std::string& kind);

// Rank 0 only, after every rank closed the file: the run's clean end. A failure to write it
// costs only the end time: it is reported on err, not thrown.
void record_run_end(const std::string& path, int number, const std::string& outcome, std::ostream& err);

}  // namespace dln::sweep
