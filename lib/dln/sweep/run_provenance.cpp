#include "dln/sweep/run_provenance.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <set>
#include <stdexcept>
#include <vector>

#include <unistd.h>

#include "dln/build_info.hpp"
#include "dln/version.hpp"

namespace dln::sweep {
namespace {

// The first line of a library's self-description, without surrounding blanks.
std::string first_line(const char* text) {
    std::string s(text);
    s = s.substr(0, s.find('\n'));
    const auto first = s.find_first_not_of(" \t\r");
    const auto last = s.find_last_not_of(" \t\r");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

io::BuildInfo this_build() {
    io::BuildInfo b;
    b.version = dln::version;
    b.commit = build::commit();
    b.dirty = build::dirty();
    b.compiler = build::compiler();
    b.flags = build::flags();
    b.arch = build::arch();
    b.build_type = build::build_type();
    char petsc[256] = {};
    // PetscGetVersion formats the library's own version: it needs no PetscInitialize.
    if (PetscGetVersion(petsc, sizeof petsc) == 0) b.petsc = first_line(petsc);
    b.hdf5 = io::hdf5_library_version();
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int length = 0;
    if (MPI_Get_library_version(mpi, &length) == MPI_SUCCESS) b.mpi = first_line(mpi);
    return b;
}

io::RunRecord start_run_record(MPI_Comm comm, const std::string& kind, const std::string& shard) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    std::vector<char> names(rank == 0 ? static_cast<std::size_t>(size) * MPI_MAX_PROCESSOR_NAME : 0);
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, names.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, comm);
    io::RunRecord r;
    if (rank != 0) return r;
    std::set<std::string> hosts;
    for (int k = 0; k < size; ++k) {
        const char* host = names.data() + static_cast<std::size_t>(k) * MPI_MAX_PROCESSOR_NAME;
        hosts.emplace(host, strnlen(host, MPI_MAX_PROCESSOR_NAME));
    }
    r.kind = kind;
    r.start = io::utc_now();
    r.hosts.assign(hosts.begin(), hosts.end());
    r.ranks = size;
    r.shard = shard;
    r.slurm_job_id = environment("SLURM_JOB_ID");
    r.slurm_array_task_id = environment("SLURM_ARRAY_TASK_ID");
    const std::string restarts = environment("SLURM_RESTART_COUNT");
    if (!restarts.empty()) {
        r.slurm_restart_count = std::strtoll(restarts.c_str(), nullptr, 10);
    } else if (!r.slurm_job_id.empty()) {
        r.slurm_restart_count = 0;  // Slurm sets it only in a requeued job
    }
    r.build = this_build();
    return r;
}

io::Provenance derived_file_provenance(const std::string& sweep_path, const std::string& kind) {
    io::Provenance p;
    try {
        p.runs = io::read_provenance(sweep_path).runs;
    } catch (const std::exception&) {
        // unreadable provenance: the derived file records only its own run
    }
    p.build = this_build();
    p.has_build = true;
    io::RunRecord r;
    r.kind = kind;
    r.start = r.end = io::utc_now();
    r.outcome = "complete";
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) r.hosts.emplace_back(host);
    r.ranks = 1;
    r.from = sweep_path;
    r.build = p.build;
    p.runs.push_back(std::move(r));
    return p;
}

int record_run_start(MPI_Comm comm, const std::string& path, const io::RunRecord& run, std::ostream& err,
                     const std::vector<io::RunRecord>& earlier, bool extension) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int number = 0;
    std::string error;
    if (rank == 0) {
        try {
            if (!earlier.empty()) io::append_runs(path, extension ? run.build : earlier.front().build, earlier);
            const auto before = io::read_provenance(path);
            if (!before.runs.empty() && !before.runs.back().build.same_source(run.build)) {
                err << "dln sweep: '" << path << "' was last written by dln " << before.runs.back().build.version
                    << " built from " << io::describe_source(before.runs.back().build) << ", this dln "
                    << run.build.version << " is built from " << io::describe_source(run.build)
                    << "; continuing (the same version computes the same results)" << std::endl;
            }
            number = io::append_run(path, run.build, run);
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "cannot record the run in '" + path + "'";
        }
    }
    long long length = static_cast<long long>(error.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
    error.resize(static_cast<std::size_t>(length));
    MPI_Bcast(error.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
    if (!error.empty()) throw std::runtime_error(error);
    return number;
}

void record_run_end(const std::string& path, int number, const std::string& outcome, std::ostream& err) {
    try {
        io::end_run(path, number, io::utc_now(), outcome);
    } catch (const std::exception& e) {
        err << "dln sweep: warning: the end of run " << number << " is not recorded in '" << path << "': " << e.what()
            << std::endl;
    }
}

}  // namespace dln::sweep
