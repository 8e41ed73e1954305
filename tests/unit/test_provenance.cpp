// The provenance attributes of a sweep file (io/provenance.hpp) round-trip: runs are appended in
// order, the root build is written once (by the first run), an end is only where one was recorded.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "dln/io/netcdf_file.hpp"
#include "dln/io/provenance.hpp"

using namespace dln::io;

namespace {

BuildInfo build(const std::string& commit, int dirty) {
    BuildInfo b;
    b.version = "9.9.9";
    b.commit = commit;
    b.dirty = dirty;
    b.compiler = "GNU 12.2.0";
    b.flags = "-O3 -march=native";
    b.arch = "native";
    b.build_type = "Release";
    b.petsc = "Petsc Release Version 3.18.5";
    b.hdf5 = hdf5_library_version();
    b.mpi = "Open MPI v4.1.4";
    return b;
}

void check_same(const BuildInfo& a, const BuildInfo& b) {
    CHECK(a.version == b.version);
    CHECK(a.commit == b.commit);
    CHECK(a.dirty == b.dirty);
    CHECK(a.compiler == b.compiler);
    CHECK(a.flags == b.flags);
    CHECK(a.arch == b.arch);
    CHECK(a.build_type == b.build_type);
    CHECK(a.petsc == b.petsc);
    CHECK(a.hdf5 == b.hdf5);
    CHECK(a.mpi == b.mpi);
}

}  // namespace

TEST_CASE("provenance: runs append in order, the root build once, ends only where recorded", "[provenance]") {
    const auto path = (std::filesystem::temp_directory_path() / "dln_test_provenance.h5").string();
    {
        NcWriter file(path, true);
        file.attribute("version", "9.9.9");
        file.close();
    }
    CHECK(read_provenance(path).runs.empty());
    CHECK_FALSE(read_provenance(path).has_build);

    RunRecord first;
    first.kind = "start";
    first.start = "2026-12-01T10:00:00Z";
    first.hosts = {"a", "b"};
    first.ranks = 9;
    first.shard = "2/3";
    first.build = build("1111111111111111111111111111111111111111", 0);
    CHECK(append_run(path, first.build, first) == 1);
    RunRecord second = first;
    second.kind = "resume";
    second.start = "2026-12-01T11:00:00Z";
    second.hosts = {"c"};
    second.ranks = 3;
    second.slurm_job_id = "4242";
    second.slurm_array_task_id = "2";
    second.slurm_restart_count = 1;
    second.build = build("2222222222222222222222222222222222222222", 1);
    CHECK(append_run(path, second.build, second) == 2);
    end_run(path, 2, "2026-12-01T11:30:00Z", "complete");

    const auto p = read_provenance(path);
    REQUIRE(p.has_build);
    check_same(p.build, first.build);  // the first run's, not replaced by the second
    REQUIRE(p.runs.size() == 2);
    CHECK(p.runs[0].kind == "start");
    CHECK(p.runs[0].start == first.start);
    CHECK(p.runs[0].end.empty());  // never ended: killed, as far as the file knows
    CHECK(p.runs[0].outcome.empty());
    CHECK(p.runs[0].hosts == first.hosts);
    CHECK(p.runs[0].ranks == 9);
    CHECK(p.runs[0].shard == "2/3");
    CHECK(p.runs[0].slurm_job_id.empty());
    CHECK(p.runs[0].slurm_restart_count == -1);
    check_same(p.runs[0].build, first.build);
    CHECK(p.runs[1].kind == "resume");
    CHECK(p.runs[1].end == "2026-12-01T11:30:00Z");
    CHECK(p.runs[1].outcome == "complete");
    CHECK(p.runs[1].hosts == second.hosts);
    CHECK(p.runs[1].slurm_job_id == "4242");
    CHECK(p.runs[1].slurm_array_task_id == "2");
    CHECK(p.runs[1].slurm_restart_count == 1);
    check_same(p.runs[1].build, second.build);
    CHECK_FALSE(p.runs[1].build.same_source(p.runs[0].build));
    CHECK(describe_source(second.build) == "commit 222222222222 (dirty)");
    std::filesystem::remove(path);
}

TEST_CASE("provenance: times are UTC ISO 8601 to the second", "[provenance]") {
    const auto now = utc_now();
    REQUIRE(now.size() == 20);
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char z = 0;
    CHECK(std::sscanf(now.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) == 7);
    CHECK(z == 'Z');
    CHECK(y >= 2024);
}
