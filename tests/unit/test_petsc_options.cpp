// The rule by which a resume or a merge compares PETSC_OPTIONS: options that change results must
// agree, monitors and viewers (with their values) may differ.
#include <catch2/catch.hpp>

#include "dln/sweep/petsc_options.hpp"

using namespace dln::sweep;

TEST_CASE("PETSC_OPTIONS: diagnostic options are ignored with their values, the rest kept in order", "[petsc]") {
    CHECK(result_petsc_options("").empty());
    CHECK(result_petsc_options("  -ts_monitor  -log_view :perf.txt -ts_adapt_monitor -help").empty());
    CHECK(result_petsc_options("-ts_rtol 1e-8 -ts_monitor -ts_atol -1e-11") == "-ts_rtol 1e-8 -ts_atol -1e-11");
    CHECK(result_petsc_options("-ksp_monitor_true_residual -ts_type bdf -snes_view") == "-ts_type bdf");
    CHECK(result_petsc_options("-ts_type  bdf") == result_petsc_options("-ts_monitor -ts_type bdf"));
    CHECK(result_petsc_options("-ts_rtol 1e-8") != result_petsc_options("-ts_rtol 1e-6"));
    for (const char* name : {"ts_monitor", "snes_monitor_short", "ksp_view", "log_view", "info", "help",
                             "ksp_converged_reason", "options_left", "no_signal_handler"}) {
        CHECK(is_diagnostic_petsc_option(name));
    }
    for (const char* name : {"ts_rtol", "ts_type", "snes_mf_operator", "ksp_type", "ts_adapt_type", "pc_type"}) {
        CHECK_FALSE(is_diagnostic_petsc_option(name));
    }
    CHECK(show_petsc_options("") == "unset");
    CHECK(show_petsc_options("-ts_rtol 1e-8") == "'-ts_rtol 1e-8'");
}
