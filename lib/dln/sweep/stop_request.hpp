// How a sweep is asked to stop early: SIGUSR1 (what Slurm sends before a time limit, through
// slurm/sweep.sbatch and mpirun), SIGTERM (what Slurm sends every process at the limit) and
// SIGINT (Ctrl-C) set one flag that the sweep polls between units and inside them.
#pragma once

#include <atomic>

namespace dln::sweep {

// Catches the three signals for the rest of the process; calling it again re-asserts the handler
// (another library may have replaced it). Never undone, on purpose: a request that arrives before
// the sweep starts is kept, so the sweep stops at once instead of being killed in start-up, and
// one that arrives after the last unit (in MPI_Finalize, say) is harmless, where the default
// action would kill the rank and turn a finished sweep into a failed job. A SIGINT that comes
// after an earlier request (Ctrl-C twice, say) kills the process, as in most tools.
void install_stop_handlers();

// The flag the signals set; units poll it through their `cancel` argument (unit_runner.hpp).
const std::atomic<bool>& stop_flag();
inline bool stop_requested() { return stop_flag().load(); }

}  // namespace dln::sweep
