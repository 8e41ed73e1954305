// The PETSc options a sweep records (README "The result file"): PETSC_OPTIONS changes how the PDE
// is solved, so a sweep stores the value it saw as the root attribute petsc_options, and a resume
// or a merge refuses a value whose result-changing options differ. Options that only report
// (monitors, viewers, logging, help) may differ; the rule is is_diagnostic_petsc_option.
#pragma once

#include <string>
#include <string_view>

namespace dln::sweep {

// The PETSC_OPTIONS environment variable ("" if unset). It is the only way options reach the
// PDE: dln's command line is its own, and the one option dln sets itself (-no_signal_handler in a
// sweep) is about signals. PETSc's option files (~/.petscrc, ./.petscrc, -options_file) are not
// resolved or recorded.
std::string petsc_options_from_environment();

// An option that changes no result, only what PETSc reports, by its name without the leading
// dash: any name containing "monitor" (-ts_monitor, -ts_adapt_monitor, -snes_monitor,
// -ksp_monitor_true_residual, ...), containing "_view" or starting with "view" (-ts_view,
// -ksp_view_mat, ...), starting with "log" (-log_view, -log_trace, ...), ending in
// "converged_reason", and help, info, version, options_left, options_view, malloc_dump,
// memory_view, no_signal_handler, history.
bool is_diagnostic_petsc_option(std::string_view name);

// The options of `text` that may change results, with their values, in order, one space apart:
// what a resume or merge compares. A token is an option when it starts with '-' followed by a
// letter or '_' (so "-1e-8" is a value); the tokens after it up to the next option are its values.
std::string result_petsc_options(const std::string& text);

// Shown in messages: the value in quotes, or "unset" for an empty one.
std::string show_petsc_options(const std::string& text);

}  // namespace dln::sweep
