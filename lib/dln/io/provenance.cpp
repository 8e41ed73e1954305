#include "dln/io/provenance.hpp"

#include "dln/io/hdf5_support.hpp"

#include <hdf5.h>

#include <chrono>
#include <ctime>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/file.h>

#include "dln/io/netcdf_file.hpp"
#include "dln/io/result_file.hpp"

namespace dln::io {
namespace {

using hdf5::check;
using hdf5::Handle;
using hdf5::read_string_attribute;
using hdf5::write_string_attribute;

constexpr const char* kRuns = "runs";

std::string run_key(int number, const char* field) { return "run" + std::to_string(number) + "_" + field; }

// 64-bit integers: what netCDF-C reads as NC_INT64 attributes (strings: hdf5::write_string_attribute).
void write_integer(hid_t object, const std::string& name, std::int64_t value) {
    Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
    if (H5Aexists(object, name.c_str()) > 0) check(H5Adelete(object, name.c_str()), "H5Adelete", 0);
    Handle attr(check(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                      "creating attribute " + name));
    check(H5Awrite(attr, H5T_NATIVE_INT64, &value), "writing attribute " + name, 0);
}

std::int64_t read_integer(hid_t object, const std::string& name, std::int64_t absent) {
    if (H5Aexists(object, name.c_str()) <= 0) return absent;
    Handle attr(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
    std::int64_t value = absent;
    check(H5Aread(attr, H5T_NATIVE_INT64, &value), "reading attribute " + name, 0);
    return value;
}

// The build's attributes under a prefix: "build_" and "" at the root (version is the root's own
// attribute already), "run<N>_" per run.
struct BuildKeys {
    std::string version, commit, dirty, compiler, flags, arch, build_type, petsc, hdf5, mpi;
};

BuildKeys root_keys() {
    return {"version", "build_commit", "build_dirty", "build_compiler", "build_flags", "build_arch", "build_type",
            "petsc_version", "hdf5_version", "mpi_version"};
}

BuildKeys run_keys(int n) {
    return {run_key(n, "version"),  run_key(n, "commit"),     run_key(n, "dirty"),         run_key(n, "compiler"),
            run_key(n, "flags"),    run_key(n, "arch"),       run_key(n, "build_type"),    run_key(n, "petsc_version"),
            run_key(n, "hdf5_version"), run_key(n, "mpi_version")};
}

void write_build(hid_t file, const BuildKeys& k, const BuildInfo& b) {
    write_string_attribute(file, k.version, b.version);
    write_string_attribute(file, k.commit, b.commit);
    write_integer(file, k.dirty, b.dirty);
    write_string_attribute(file, k.compiler, b.compiler);
    write_string_attribute(file, k.flags, b.flags);
    write_string_attribute(file, k.arch, b.arch);
    write_string_attribute(file, k.build_type, b.build_type);
    write_string_attribute(file, k.petsc, b.petsc);
    write_string_attribute(file, k.hdf5, b.hdf5);
    write_string_attribute(file, k.mpi, b.mpi);
}

BuildInfo read_build(hid_t file, const BuildKeys& k) {
    BuildInfo b;
    b.version = read_string_attribute(file, k.version);
    b.commit = read_string_attribute(file, k.commit);
    b.dirty = static_cast<int>(read_integer(file, k.dirty, -1));
    b.compiler = read_string_attribute(file, k.compiler);
    b.flags = read_string_attribute(file, k.flags);
    b.arch = read_string_attribute(file, k.arch);
    b.build_type = read_string_attribute(file, k.build_type);
    b.petsc = read_string_attribute(file, k.petsc);
    b.hdf5 = read_string_attribute(file, k.hdf5);
    b.mpi = read_string_attribute(file, k.mpi);
    return b;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');) {
        if (!part.empty()) out.push_back(part);
    }
    return out;
}

void write_run(hid_t file, int n, const RunRecord& r) {
    write_string_attribute(file, run_key(n, "kind"), r.kind);
    write_string_attribute(file, run_key(n, "start"), r.start);
    if (!r.end.empty()) write_string_attribute(file, run_key(n, "end"), r.end);
    if (!r.outcome.empty()) write_string_attribute(file, run_key(n, "outcome"), r.outcome);
    write_string_attribute(file, run_key(n, "hosts"), join(r.hosts));
    write_integer(file, run_key(n, "ranks"), r.ranks);
    if (!r.shard.empty()) write_string_attribute(file, run_key(n, "shard"), r.shard);
    if (!r.from.empty()) write_string_attribute(file, run_key(n, "from"), r.from);
    if (!r.slurm_job_id.empty()) write_string_attribute(file, run_key(n, "slurm_job_id"), r.slurm_job_id);
    if (!r.slurm_array_task_id.empty()) write_string_attribute(file, run_key(n, "slurm_array_task_id"), r.slurm_array_task_id);
    if (r.slurm_restart_count >= 0) write_integer(file, run_key(n, "slurm_restart_count"), r.slurm_restart_count);
    write_build(file, run_keys(n), r.build);
}

RunRecord read_run(hid_t file, int n) {
    RunRecord r;
    r.kind = read_string_attribute(file, run_key(n, "kind"));
    r.start = read_string_attribute(file, run_key(n, "start"));
    r.end = read_string_attribute(file, run_key(n, "end"));
    r.outcome = read_string_attribute(file, run_key(n, "outcome"));
    r.hosts = split(read_string_attribute(file, run_key(n, "hosts")));
    r.ranks = read_integer(file, run_key(n, "ranks"), 0);
    r.shard = read_string_attribute(file, run_key(n, "shard"));
    r.from = read_string_attribute(file, run_key(n, "from"));
    r.slurm_job_id = read_string_attribute(file, run_key(n, "slurm_job_id"));
    r.slurm_array_task_id = read_string_attribute(file, run_key(n, "slurm_array_task_id"));
    r.slurm_restart_count = read_integer(file, run_key(n, "slurm_restart_count"), -1);
    r.build = read_build(file, run_keys(n));
    return r;
}

// The file opened for writing. HDF5 locks a file it opens (a reader's shared lock keeps a writer
// out): `dln status` reading it for a moment must not fail the sweep, so try for a while.
// The file open for writing its attributes, alone: no reader may be in it meanwhile. Where this
// process holds the file (a sweep's rank 0, ResultFile::hold), HDF5's own exclusive flock would
// be refused by that shared hold, so the hold itself turns exclusive for the scope (refused
// while a reader holds a shared lock: then it waits, as below) and HDF5 opens without locking.
class WriteAccess {
public:
    explicit WriteAccess(const std::string& path) : hold_(ResultFile::hold_descriptor(path)) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        for (int attempt = 0;; ++attempt) {
            if (hold_ < 0) {
                file_ = hdf5::open_serially(path, H5F_ACC_RDWR);
            } else if (::flock(hold_, LOCK_EX | LOCK_NB) == 0) {
                const hdf5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
                if (fapl >= 0 && H5Pset_file_locking(fapl, false, true) >= 0) {
                    file_ = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
                }
                if (file_ < 0) ::flock(hold_, LOCK_SH);
            } else {
                // Linux converts a flock by dropping the old one first: a refused conversion
                // leaves none, so the shared hold is taken again.
                ::flock(hold_, LOCK_SH);
            }
            if (file_ >= 0) return;
            if (attempt == 50) throw std::runtime_error("cannot open '" + path + "' to record the run's provenance");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    WriteAccess(const WriteAccess&) = delete;
    WriteAccess& operator=(const WriteAccess&) = delete;
    ~WriteAccess() {
        H5Fclose(file_);
        if (hold_ >= 0) ::flock(hold_, LOCK_SH);  // back to a shared hold: readers may come in
    }
    operator hid_t() const { return file_; }

private:
    int hold_;
    hid_t file_ = -1;
};

int append_to(hid_t file, const BuildInfo& build, const RunRecord& run) {
    if (H5Aexists(file, root_keys().commit.c_str()) <= 0) {
        // The root's version is the file's own (written at its creation); the rest, once.
        const auto keys = root_keys();
        write_string_attribute(file, keys.commit, build.commit);
        write_integer(file, keys.dirty, build.dirty);
        write_string_attribute(file, keys.compiler, build.compiler);
        write_string_attribute(file, keys.flags, build.flags);
        write_string_attribute(file, keys.arch, build.arch);
        write_string_attribute(file, keys.build_type, build.build_type);
        write_string_attribute(file, keys.petsc, build.petsc);
        write_string_attribute(file, keys.hdf5, build.hdf5);
        write_string_attribute(file, keys.mpi, build.mpi);
    }
    const int n = static_cast<int>(read_integer(file, kRuns, 0)) + 1;
    write_run(file, n, run);
    // The count last: a run is listed only once all its attributes are there.
    write_integer(file, kRuns, n);
    return n;
}

}  // namespace

Provenance read_provenance(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (H5Fis_hdf5(path.c_str()) <= 0) throw std::invalid_argument("'" + path + "' is not a readable HDF5 file");
    check_not_damaged(path);  // the attributes are variable-length strings: what a damaged file crashes on
    Handle file(hdf5::open_serially(path, H5F_ACC_RDONLY));
    if (file < 0) throw std::invalid_argument("cannot open '" + path + "'");
    Provenance p;
    try {
        p.has_build = H5Aexists(file, root_keys().commit.c_str()) > 0;
        if (p.has_build) p.build = read_build(file, root_keys());
        const auto runs = read_integer(file, kRuns, 0);
        for (int n = 1; n <= runs; ++n) p.runs.push_back(read_run(file, n));
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument("'" + path + "': " + e.what());
    }
    return p;
}

int append_run(const std::string& path, const BuildInfo& build, const RunRecord& run) {
    const WriteAccess file(path);
    const int n = append_to(file, build, run);
    if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) throw std::runtime_error("HDF5: flushing '" + path + "' failed");
    return n;
}

void append_runs(const std::string& path, const BuildInfo& build, const std::vector<RunRecord>& runs) {
    const WriteAccess file(path);
    for (const auto& run : runs) append_to(file, build, run);
}

void end_run(const std::string& path, int number, const std::string& end, const std::string& outcome) {
    const WriteAccess file(path);
    write_string_attribute(file, run_key(number, "outcome"), outcome);
    write_string_attribute(file, run_key(number, "end"), end);
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string hdf5_library_version() {
    unsigned major = 0, minor = 0, release = 0;
    if (H5get_libversion(&major, &minor, &release) < 0) return {};
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string describe_source(const BuildInfo& build) {
    std::string s = "commit " + (build.commit.size() > 12 ? build.commit.substr(0, 12) : build.commit);
    if (build.dirty == 1) s += " (dirty)";
    if (build.dirty == -1 && build.commit != "unknown") s += " (dirty state unknown)";
    return s;
}

}  // namespace dln::io
