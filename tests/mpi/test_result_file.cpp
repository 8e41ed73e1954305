// The result file under MPI: collective creation, independent slab writes from every rank, and a
// layout that a plain (serial) HDF5 reader sees as documented; the per-unit scalar fields a layout
// declares, and their way through the journal.
#include <catch2/catch.hpp>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>

#include "dln/io/result_file.hpp"
#include "dln/io/sweep_journal.hpp"
#include "mpi_test_support.hpp"

using namespace dln::io;

namespace {

GroupLayout sgd_group() {
    GroupLayout g;
    g.name = "sgd";
    g.dims = {Dimension::numeric("lr", {0.5, 1.0, 2.0}, "learning rate", "sweep.lr"),
              Dimension::numeric("dim", {100, 200}, "dimension", "sweep.dim", true),
              Dimension::numeric("alpha", {0.1}, "alpha", "sweep.alpha"),
              Dimension::numeric("seed", {0, 1}, "replicate", "run.seeds", true)};
    g.curves = {{"risk", "the risk"}, {"l1", "mean |w|"}};
    return g;
}

ResultLayout small_layout() {
    ResultLayout layout;
    layout.time = {0.0, 0.5, 1.0};
    layout.groups = {sgd_group()};
    layout.config = "[run]\ntime = 1\n";
    layout.version = "test";
    return layout;
}

// A value that identifies (unit, observable, time).
double tag(std::size_t l, std::size_t d, std::size_t s, std::size_t k, std::size_t j) {
    return 1000.0 * static_cast<double>(l) + 100.0 * static_cast<double>(d) + 10.0 * static_cast<double>(s) +
           static_cast<double>(k) + 0.1 * static_cast<double>(j);
}

std::vector<double> read_all(hid_t file, const char* name, std::size_t n) {
    std::vector<double> v(n);
    const hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(ds);
    return v;
}

}  // namespace

TEST_CASE("every rank writes its own units into the one file", "[Parallel][io]") {
    const auto path = dln::testing::scratch_file("result-file");
    const auto layout = small_layout();
    auto file = ResultFile::create(MPI_COMM_WORLD, path, layout, false);
    // Units (l, d, 0, s) with an even linear index are written, round-robin over the ranks; the
    // odd ones stay pending.
    std::size_t unit = 0;
    for (std::size_t l = 0; l < 3; ++l)
        for (std::size_t d = 0; d < 2; ++d)
            for (std::size_t s = 0; s < 2; ++s, ++unit) {
                if (unit % 2 == 1 || (unit / 2) % static_cast<std::size_t>(dln::testing::size()) !=
                                         static_cast<std::size_t>(dln::testing::rank())) {
                    continue;
                }
                UnitRecord r;
                r.position = unit;  // row-major over (lr, dim, alpha, seed)
                r.status = l == 2 ? UnitStatus::diverged : UnitStatus::done;
                r.diverged_at = l == 2 ? 0.25 : std::nan("");
                r.wall_seconds = 1.0;
                for (std::size_t k = 0; k < 2; ++k)
                    for (std::size_t j = 0; j < 3; ++j) r.values.push_back(tag(l, d, s, k, j));
                file.write("sgd", r);
            }
    file.close();

    // A second create must not clobber it.
    CHECK_THROWS(ResultFile::create(MPI_COMM_WORLD, path, layout, false));
    CHECK_THROWS_WITH(ResultFile::check_can_create(path, false), Catch::Contains("--force"));
    CHECK_NOTHROW(ResultFile::check_can_create(path, true));
    CHECK_THROWS_WITH(ResultFile::check_can_create("/nonexistent-dir/x.h5", true), Catch::Contains("does not exist"));
    MPI_Barrier(MPI_COMM_WORLD);  // every rank has looked at the file before rank 0 removes it

    if (dln::testing::rank() == 0) {
        const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        REQUIRE(f >= 0);
        const auto risk = read_all(f, "/sgd/risk", 3 * 2 * 1 * 2 * 3);
        const auto l1 = read_all(f, "/sgd/l1", 3 * 2 * 1 * 2 * 3);
        std::vector<signed char> status(12);
        const hid_t st = H5Dopen2(f, "/sgd/status", H5P_DEFAULT);
        H5Dread(st, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status.data());
        // Each group holds its own coordinates (netCDF-4 conformance, README "The sweep file").
        const hid_t lr = H5Dopen2(f, "/sgd/lr", H5P_DEFAULT);
        const hid_t time = H5Dopen2(f, "/sgd/time", H5P_DEFAULT);
        CHECK(H5DSis_attached(st, lr, 0) > 0);
        const hid_t rk = H5Dopen2(f, "/sgd/risk", H5P_DEFAULT);
        CHECK(H5DSis_attached(rk, time, 4) > 0);
        for (hid_t h : {st, lr, time, rk}) H5Dclose(h);
        unit = 0;
        for (std::size_t l = 0; l < 3; ++l)
            for (std::size_t d = 0; d < 2; ++d)
                for (std::size_t s = 0; s < 2; ++s, ++unit) {
                    const bool written = unit % 2 == 0;
                    CHECK(status[unit] == (written ? (l == 2 ? 2 : 1) : 0));
                    for (std::size_t j = 0; j < 3; ++j) {
                        const double r = risk[unit * 3 + j], a = l1[unit * 3 + j];
                        if (written) {
                            CHECK(r == tag(l, d, s, 0, j));
                            CHECK(a == tag(l, d, s, 1, j));
                        } else {
                            CHECK(std::isnan(r));  // pending reads as NaN
                        }
                    }
                }
        char* schema = nullptr;
        const hid_t attr = H5Aopen(f, "schema", H5P_DEFAULT);
        const hid_t type = H5Aget_type(attr);
        H5Aread(attr, type, &schema);
        CHECK(std::string(schema) == ResultFile::schema);
        H5free_memory(schema);
        H5Tclose(type);
        H5Aclose(attr);
        H5Fclose(f);
        // What a netCDF reader sees: the dims by name with their coordinates and labels.
        NcReader reader(path);
        const auto dims = reader.dimensions("sgd", "risk");
        REQUIRE(dims.size() == 5);
        CHECK(dims[0].name == "lr");
        CHECK(dims[0].numbers == std::vector<double>{0.5, 1.0, 2.0});
        CHECK(dims[0].key == "sweep.lr");
        CHECK(dims[1].kind == Dimension::Kind::int64);
        CHECK(dims[3].name == "seed");
        CHECK(dims[4].name == "time");
        CHECK(reader.dimensions("sgd", "failure").back().kind == Dimension::Kind::none);
        std::remove(path.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a categorical dimension, labels and failure messages as netCDF sees them", "[Parallel][io]") {
    const auto path = dln::testing::scratch_file("result-categorical");
    ResultLayout layout = small_layout();
    auto& g = layout.groups.front();
    g.dims.insert(g.dims.begin() + 3, Dimension::names("target", {"constant", "gaussian"}, "target law", "data.target"));
    auto file = ResultFile::create(MPI_COMM_WORLD, path, layout, false);
    if (dln::testing::rank() == 0) {
        UnitRecord r;
        r.position = 3;  // lr 0, dim 0, alpha 0, target gaussian, seed 1
        r.status = UnitStatus::failed;
        r.failures = 1;
        r.values.assign(2 * 3, std::nan(""));
        r.message = "a reason, with UTF-8: \xce\xb3 = 2";
        file.write("sgd", r);
    }
    file.close();
    if (dln::testing::rank() == 0) {
        NcReader reader(path);
        const auto dims = reader.dimensions("sgd", "status");
        REQUIRE(dims.size() == 5);
        CHECK(dims[3].kind == Dimension::Kind::string);
        CHECK(dims[3].labels == std::vector<std::string>{"constant", "gaussian"});
        const auto messages = reader.read_strings("sgd", "failure");
        REQUIRE(messages.size() == g.units());
        CHECK(messages[3] == "a reason, with UTF-8: \xce\xb3 = 2");
        CHECK(messages[2].empty());
        const auto summary = summarize(path);
        REQUIRE(summary.failed.size() == 1);
        CHECK(summary.failed[0].where == "lr=0.5 dim=100 alpha=0.1 target=gaussian seed=1");
        CHECK(summary.failed[0].failures == 1);
        // h5py's dims[k].label: the HDF5 dimension labels.
        const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        const hid_t ds = H5Dopen2(f, "/sgd/risk", H5P_DEFAULT);
        char label[32] = {};
        H5DSget_label(ds, 3, label, sizeof label);
        CHECK(std::string(label) == "target");
        H5Dclose(ds);
        H5Fclose(f);
        std::remove(path.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a file of another schema is refused naming it and the version that wrote it", "[Parallel][io]") {
    const auto path = dln::testing::scratch_file("result-v1");  // collective
    if (dln::testing::rank() == 0) {
        {
            NcWriter old(path, true);
            old.attribute("schema", "dln-sweep/1");
            old.attribute("version", "0.4.0");
            old.close();
        }
        CHECK_THROWS_WITH(summarize(path), Catch::Contains("dln-sweep/1 file (written by dln 0.4.0)") &&
                                               Catch::Contains("reads dln-sweep/2 only"));
        std::remove(path.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("per-unit scalar fields: declared by the layout, filled, written, journaled", "[Parallel][io]") {
    const auto path = dln::testing::scratch_file("result-scalars");
    ResultLayout layout = small_layout();
    GroupLayout pde;
    pde.name = "pde";
    pde.dims = {layout.groups[0].dims[0], layout.groups[0].dims[2]};  // lr and alpha: no dim, no seed
    pde.curves = layout.groups[0].curves;
    pde.scalars = {{"estimate", ScalarType::float64, "an estimate", "1"},
                   {"count", ScalarType::int64, "a count", ""},
                   {"flag", ScalarType::int8, "a flag", "", {0, 1}, "no yes"}};
    layout.groups.push_back(pde);
    layout.petsc_options = "-ts_rtol 1e-8";
    auto file = ResultFile::create(MPI_COMM_WORLD, path, layout, false);
    // pde units are (lr, alpha): 3 x 1. Rank 0 writes lr 0 with values, lr 1 as failed (no values);
    // lr 2 stays pending.
    if (dln::testing::rank() == 0) {
        UnitRecord r;
        r.position = 0;
        r.status = UnitStatus::done;
        r.values.assign(2 * 3, 0.5);
        r.scalars = {4.25e-4, 240.0, 1.0};
        file.write("pde", r);
        UnitRecord failed = r;
        failed.position = 1;
        failed.status = UnitStatus::failed;
        failed.scalars.clear();
        file.write("pde", failed);
        UnitRecord wrong = r;
        wrong.scalars = {1.0};
        CHECK_THROWS_WITH(file.write("pde", wrong), Catch::Contains("scalar"));
        // The journal keeps the values, in record format 3.
        const SweepJournal journal(path);
        journal.start("[run]\ntime = 1\n", layout.petsc_options);
        {
            JournalWriter writer(journal, 1, 0);
            writer.append("pde", r);
            writer.append("pde", failed);
        }
        const auto contents = journal.read();
        REQUIRE(contents.entries.size() == 2);
        CHECK(contents.torn == 0);
        CHECK(contents.entries[0].record.scalars == r.scalars);
        CHECK(contents.entries[1].record.scalars.empty());
        CHECK(journal.petsc_options() == std::optional<std::string>(layout.petsc_options));
        CHECK(contents.entries[1].record.position == 1);
        // Records of formats 1 ("DLNJ") and 2 ("DLN2") are refused by name, not skipped as torn.
        for (const char* magic : {"DLN2", "DLNJ"}) {
            {
                std::ofstream old(journal.directory() + "/run-2.rank-0.log", std::ios::binary);
                old << magic << std::string(12, '\0');
            }
            CHECK_THROWS_AS(journal.read(), JournalFormatError);
            CHECK_THROWS_WITH(journal.read(), Catch::Contains(std::string("journal format ") +
                                                              (magic[3] == '2' ? "2" : "1")));
        }
        journal.remove();
    }
    file.close();
    CHECK_NOTHROW(ResultFile::check_layout(path, layout));
    auto without = layout;
    without.groups[1].scalars.clear();
    CHECK_NOTHROW(ResultFile::check_layout(path, without));  // more datasets than asked for is fine
    MPI_Barrier(MPI_COMM_WORLD);  // every rank has read the file before rank 0 removes it
    if (dln::testing::rank() == 0) {
        CHECK(summarize(path).petsc_options == layout.petsc_options);
        CHECK(read_unit_field(path, "pde", "estimate")[0] == 4.25e-4);
        CHECK(read_unit_field(path, "pde", "nonexistent").empty());
        const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        REQUIRE(f >= 0);
        CHECK(H5Lexists(f, "/sgd/estimate", H5P_DEFAULT) == 0);  // sgd declares none
        const hid_t estimate = H5Dopen2(f, "/pde/estimate", H5P_DEFAULT);
        const hid_t count = H5Dopen2(f, "/pde/count", H5P_DEFAULT);
        const hid_t flag = H5Dopen2(f, "/pde/flag", H5P_DEFAULT);
        const hid_t status = H5Dopen2(f, "/pde/status", H5P_DEFAULT);
        const hid_t lr = H5Dopen2(f, "/pde/lr", H5P_DEFAULT);
        const hid_t alpha = H5Dopen2(f, "/pde/alpha", H5P_DEFAULT);
        CHECK(H5Lexists(f, "/pde/dim", H5P_DEFAULT) == 0);  // the PDE has no dim axis
        CHECK(H5Aexists(flag, "flag_meanings") > 0);
        for (hid_t ds : {estimate, count, flag}) {
            const hid_t space = H5Dget_space(ds);
            hsize_t dims[2] = {};
            CHECK(H5Sget_simple_extent_ndims(space) == 2);
            H5Sget_simple_extent_dims(space, dims, nullptr);
            CHECK(dims[0] == 3);  // the shape of /pde/status: [n_lr, n_alpha]
            CHECK(dims[1] == 1);
            H5Sclose(space);
            CHECK(H5DSis_attached(ds, lr, 0) > 0);
            CHECK(H5DSis_attached(ds, alpha, 1) > 0);
            CHECK(H5Aexists(ds, "long_name") > 0);
        }
        CHECK(H5Aexists(estimate, "units") > 0);
        CHECK(H5Aexists(count, "units") == 0);
        const hid_t count_type = H5Dget_type(count), flag_type = H5Dget_type(flag);
        CHECK(H5Tget_size(count_type) == 8);
        CHECK(H5Tget_class(count_type) == H5T_INTEGER);
        CHECK(H5Tget_size(flag_type) == 1);
        H5Tclose(count_type);
        H5Tclose(flag_type);
        double e[3];
        std::int64_t c[3];
        signed char g[3];
        H5Dread(estimate, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, e);
        H5Dread(count, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, c);
        H5Dread(flag, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, g);
        CHECK(e[0] == 4.25e-4);
        CHECK(c[0] == 240);
        CHECK(g[0] == 1);
        for (int k : {1, 2}) {  // failed, pending: NaN / 0
            CHECK(std::isnan(e[k]));
            CHECK(c[k] == 0);
            CHECK(g[k] == 0);
        }
        for (hid_t h : {estimate, count, flag, status, lr, alpha}) H5Dclose(h);
        H5Fclose(f);
        std::remove(path.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

namespace {

// Every dataset of /sgd as bytes, for comparing two files (wall_seconds included: the records
// here carry fixed times).
std::vector<std::vector<char>> sgd_bytes(const std::string& path) {
    std::vector<std::vector<char>> out;
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    for (const char* name : {"risk", "l1", "status", "diverged_at", "wall_seconds", "failures", "failure"}) {
        const hid_t ds = H5Dopen2(f, (std::string("/sgd/") + name).c_str(), H5P_DEFAULT);
        REQUIRE(ds >= 0);
        const hid_t type = H5Dget_type(ds);
        const hid_t space = H5Dget_space(ds);
        std::vector<char> bytes(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) * H5Tget_size(type));
        H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
        out.push_back(std::move(bytes));
        H5Sclose(space);
        H5Tclose(type);
        H5Dclose(ds);
    }
    H5Fclose(f);
    return out;
}

}  // namespace

TEST_CASE("write_many: one write per dataset for many units, the same file as one write per unit",
          "[Parallel][io]") {
    const auto layout = small_layout();
    const std::size_t ranks = static_cast<std::size_t>(dln::testing::size());
    const std::size_t me = static_cast<std::size_t>(dln::testing::rank());
    // Rank r takes the units u with u % ranks == r, out of position order and not adjacent in the
    // file (a group commit's units rarely are), every status and a failure message among them.
    std::vector<UnitRecord> mine;
    for (std::size_t u = 12; u-- > 0;) {
        if (u % ranks != me || u == 5) continue;  // unit 5 stays pending
        UnitRecord r;
        r.position = u;
        r.status = u % 3 == 0 ? UnitStatus::done : u % 3 == 1 ? UnitStatus::diverged : UnitStatus::failed;
        r.diverged_at = r.status == UnitStatus::diverged ? 0.25 * static_cast<double>(u) : std::nan("");
        r.wall_seconds = 0.5 + static_cast<double>(u);
        r.failures = static_cast<std::int8_t>(r.status == UnitStatus::failed ? 1 : 0);
        if (r.status == UnitStatus::failed) r.message = "unit " + std::to_string(u) + " failed";
        for (std::size_t k = 0; k < 2; ++k)
            for (std::size_t j = 0; j < 3; ++j) r.values.push_back(tag(u / 4, (u / 2) % 2, u % 2, k, j));
        mine.push_back(r);
    }
    const auto one = dln::testing::scratch_file("write-one");
    const auto many = dln::testing::scratch_file("write-many");
    {
        auto file = ResultFile::create(MPI_COMM_WORLD, one, layout, false);
        for (const auto& r : mine) file.write("sgd", r);
        file.close();
    }
    {
        auto file = ResultFile::create(MPI_COMM_WORLD, many, layout, false);
        // A record that does not fit is refused before anything of the call is written.
        auto bad = mine;
        if (!bad.empty()) {
            bad.back().values.pop_back();
            CHECK_THROWS_WITH(file.write_many("sgd", bad), Catch::Contains("wrong number of values"));
            bad.back().position = 99;
            bad.back().values = mine.back().values;
            CHECK_THROWS_WITH(file.write_many("sgd", bad), Catch::Contains("outside"));
        }
        // Of two records of one unit the last wins: a stale copy first, then the real ones.
        std::vector<UnitRecord> with_stale;
        if (!mine.empty()) {
            with_stale.push_back(mine.front());
            with_stale.back().values.assign(6, -1.0);
            with_stale.back().status = UnitStatus::failed;
        }
        with_stale.insert(with_stale.end(), mine.begin(), mine.end());
        const auto before = hdf5_write_calls();
        file.write_many("sgd", with_stale);
        // One H5Dwrite per dataset of the group (2 curves, diverged_at, wall_seconds, failures,
        // failure, status), however many units: the point of write_many.
        CHECK(hdf5_write_calls() - before == (mine.empty() ? 0u : 7u));
        file.close();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0) {
        const auto a = sgd_bytes(one), b = sgd_bytes(many);
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
        const hid_t f = H5Fopen(many.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        REQUIRE(f >= 0);
        std::vector<signed char> status(12);
        const hid_t st = H5Dopen2(f, "/sgd/status", H5P_DEFAULT);
        H5Dread(st, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status.data());
        H5Dclose(st);
        const auto risk = read_all(f, "/sgd/risk", 12 * 3);
        H5Fclose(f);
        for (std::size_t u = 0; u < 12; ++u) {
            CHECK(status[u] == (u == 5 ? 0 : u % 3 == 0 ? 1 : u % 3 == 1 ? 2 : 3));
            if (u != 5) CHECK(risk[u * 3 + 2] == tag(u / 4, (u / 2) % 2, u % 2, 0, 2));
        }
        std::remove(one.c_str());
        std::remove(many.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
