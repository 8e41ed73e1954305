// The subcommands of `dln`, one file each. Each takes the arguments after its own name and
// returns the process exit status: 0 success, 2 bad input (one line on stderr naming it).
#pragma once

#include <string>
#include <vector>

namespace dln::app {

using Args = std::vector<std::string>;

int run_command(const Args& args);    // dln run: one grid point, CSV on stdout
int sweep_command(const Args& args);  // dln sweep: a grid under MPI into one HDF5 file
int status_command(const Args& args); // dln status: how far a sweep file got
int merge_command(const Args& args);  // dln merge: shard files of a sweep as one file
int aggregate_command(const Args& args);  // dln aggregate: a sweep file into phase.h5 and phase.csv
int plot_command(const Args& args);       // dln plot: the figures of a phase file


inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 75;  // EX_TEMPFAIL: stopped on request; --resume continues
inline constexpr int kExitStorage = 74;      // EX_IOERR: the storage refused a write (full disk); --resume continues

}  // namespace dln::app
