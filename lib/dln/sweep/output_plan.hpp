// Rank 0, before any file is touched: what a sweep does with its output (a plain function of the
// configuration, the options and what is on disk; no MPI).
#pragma once

#include <string>

#include "dln/config/config.hpp"
#include "dln/sweep/sweep_options.hpp"

namespace dln::sweep {

// How to treat options.output. Throws config::ConfigError naming the option and the problem (a
// missing directory, an existing file without --force, a resume with another configuration or
// result-changing PETSC_OPTIONS, a damaged file without a journal to rebuild it from, a journal of
// another record format, a --from file this configuration does not extend: check_extension). note receives a line worth telling the user (a rebuild, a resume with
// nothing to resume).
OutputPlan plan_output(const config::Config& config, const SweepOptions& options, std::string& note);

}  // namespace dln::sweep
