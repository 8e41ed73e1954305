// The sweep under MPI: the master/worker hand-out fills every unit, divergence is a result
// and not an interruption, and what lands in the file is exactly what one unit computes alone.
#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "dln/sweep/sweep_runner.hpp"
#include "dln/sweep/unit_runner.hpp"
#include "mpi_test_support.hpp"

namespace {

std::vector<double> read_doubles(hid_t file, const std::string& name) {
    const hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    std::vector<double> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Sclose(space);
    H5Dclose(ds);
    return v;
}

}  // namespace

TEST_CASE("a sweep with a divergent learning rate records it and goes on", "[Parallel][sweep]") {
    // linear, lr = 2.5 > 2 diverges (its risk passes 1e6 R0 near t = 11); lr = 0.5 converges.
    const auto config = dln::config::parse_ini_text(
        "[model]\nparametrization = linear\n[data]\nnoise = 0.1\n"
        "[run]\ntime = 20\nsnapshots = 11\nseeds = 2\n"
        "[sweep]\nlr = 2.5, 0.5\ndim = 60, 120\nalpha = 0.1\n");
    dln::sweep::SweepOptions options;
    options.output = dln::testing::scratch_file("sweep");
    const auto summary = dln::sweep::run_sweep(MPI_COMM_WORLD, config, options);
    if (dln::testing::rank() == 0) {
        CHECK(summary.units == 8);
        CHECK(summary.diverged == 4);
        CHECK(summary.done == 4);
        CHECK(summary.failed == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (dln::testing::rank() != 0) return;

    const hid_t f = H5Fopen(options.output.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    std::vector<signed char> status(8);
    const hid_t st = H5Dopen2(f, "/sgd/status", H5P_DEFAULT);
    H5Dread(st, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status.data());
    H5Dclose(st);
    const auto diverged_at = read_doubles(f, "/sgd/diverged_at");
    const dln::sweep::SweepGrid grid(config);
    std::vector<std::vector<double>> observables;
    for (const auto name : dln::model::observable_names) observables.push_back(read_doubles(f, "/sgd/" + std::string(name)));
    H5Fclose(f);
    std::remove(options.output.c_str());

    for (std::size_t id = 0; id < grid.size(); ++id) {
        const auto& unit = grid.unit(id);
        const bool divergent = grid.point(unit).lr == 2.5;
        CHECK(status[id] == (divergent ? 2 : 1));
        CHECK(std::isfinite(diverged_at[id]) == divergent);
        // Bitwise what the unit gives when computed alone, in this process.
        const auto alone = dln::sweep::compute_unit(grid, unit, dln::model::Method::sgd);
        const std::size_t n_time = config.snapshots;
        for (std::size_t k = 0; k < dln::model::observable_count; ++k) {
            CHECK(std::memcmp(&observables[k][id * n_time], &alone.values[k * n_time], n_time * sizeof(double)) == 0);
        }
    }
}
