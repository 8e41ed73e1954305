// Where a sweep file came from (README "The result file", provenance): root attributes that
// netCDF and xarray read as they are. The build that created the file (build_*, the library
// versions) and, per run of the sweep that wrote into it (the first, each resume or requeue, a
// rebuild after a crash; in a merged file every shard's runs, then the merge), attributes
// run<N>_<field>, N = 1 .. the root attribute `runs`.
//
// Serial, plain HDF5 (no MPI): the sweep writes them from rank 0 while no other process has the
// file open (before the collective open, after the collective close), so no metadata operation
// is ever made by one rank of a parallel open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dln::io {

// A build of dln and the libraries it found at run time.
struct BuildInfo {
    std::string version;  // dln's
    std::string commit;   // git commit of the source tree ("unknown" outside a checkout)
    int dirty = -1;       // 1: built from a tree with uncommitted changes; 0: clean; -1: unknown
    std::string compiler, flags, arch, build_type;
    std::string petsc, hdf5, mpi;  // the versions found at run time (empty: not known)
    // The same commit and dirty state: the same source, as far as the file can tell.
    bool same_source(const BuildInfo& other) const { return commit == other.commit && dirty == other.dirty; }
};

// One run of a sweep (or a merge) that wrote into the file.
struct RunRecord {
    std::string kind;    // start, resume, rebuild (from the journal, after a crash), merge, extend
    std::string start;   // UTC, ISO 8601: 2026-12-01T13:24:27Z
    std::string end;     // empty: the run did not end cleanly (killed, crashed) or is still running
    std::string outcome; // with the end: complete, stopped (on request, units left), incomplete (failed units left)
    std::vector<std::string> hosts;  // the distinct host names of its ranks, sorted
    std::int64_t ranks = 0;
    std::string shard;   // "k/K" for a shard's run; empty for a whole sweep
    std::string from;    // an extension's old file (dln sweep --from), whose units it copied; else empty
    // Under Slurm (empty / -1 otherwise): SLURM_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_RESTART_COUNT.
    std::string slurm_job_id, slurm_array_task_id;
    std::int64_t slurm_restart_count = -1;
    BuildInfo build;
};

struct Provenance {
    bool has_build = false;  // false in files of dln 0.5.0 and older
    BuildInfo build;         // of the run that created the file
    std::vector<RunRecord> runs;
};

// Throws std::invalid_argument if path is not a readable HDF5 file; a file without provenance
// gives an empty one.
Provenance read_provenance(const std::string& path);

// Records run as the file's next run (and, in a file without them, build as its root build
// attributes). Returns its number, from 1. Throws std::runtime_error if the file cannot be
// opened for writing (it retries for a few seconds: `dln status` may be reading it).
int append_run(const std::string& path, const BuildInfo& build, const RunRecord& run);
// The same for many runs (a merge's inputs' and its own), in their order.
void append_runs(const std::string& path, const BuildInfo& build, const std::vector<RunRecord>& runs);
// The clean end of run `number`: its end time and outcome.
void end_run(const std::string& path, int number, const std::string& end, const std::string& outcome);

// Now, in UTC, ISO 8601 to the second.
std::string utc_now();
// The HDF5 library this process runs with (H5get_libversion): "1.10.8".
std::string hdf5_library_version();
// "commit abc1234 (dirty)", "commit unknown": a build's source in a few words.
std::string describe_source(const BuildInfo& build);

}  // namespace dln::io
