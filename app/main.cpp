// dln: SGD on diagonal linear networks in high dimension, and its high-dimensional limit.
//
//   dln run [--config FILE] [--lr 0.5 --dim 1000 --alpha 0.1 ...]   one grid point, CSV on stdout
//   mpirun -n 3 dln sweep --config sweeps/quick.ini --output quick.h5  a sweep into one HDF5 file
//   dln status quick.h5                                              how far a sweep file got
//   dln merge quick.h5 quick.shard-*.h5                              shards of a sweep as one file
//   dln aggregate quick.h5 --out quick_phase                          phase.h5 and phase.csv
//   dln plot quick_phase                                             the figures, as PNG
//   dln <command> --help                                             every key, with its default
#include <iostream>
#include <string>

#include "commands.hpp"
#include "dln/version.hpp"

namespace {

constexpr const char* kUsage =
    "usage: dln <command> [options]\n"
    "\n"
    "commands:\n"
    "  run        compute one grid point and print its observables as CSV\n"
    "  sweep      compute a grid (under mpirun) into one parallel HDF5 file\n"
    "  status     how far a sweep file got: done, diverged, failed, pending per method\n"
    "  merge      combine the shard files of a sweep (sweep --shard k/K) into one file\n"
    "  aggregate  a sweep file into per-point summaries and regimes (phase.h5, phase.csv)\n"
    "  plot       the figures of an aggregated sweep: phase diagram, heatmaps, risk curves, gap vs d\n"
    "\n"
    "dln <command> --help lists the command's options and every configuration key.\n"
    "dln --version prints the version.";

int dispatch(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    const dln::app::Args rest(argv + (argc > 1 ? 2 : 1), argv + argc);
    if (command == "run") return dln::app::run_command(rest);
    if (command == "sweep") return dln::app::sweep_command(rest);
    if (command == "status") return dln::app::status_command(rest);
    if (command == "merge") return dln::app::merge_command(rest);
    if (command == "aggregate") return dln::app::aggregate_command(rest);
    if (command == "plot") return dln::app::plot_command(rest);
    if (command == "--version" || command == "-V") {
        std::cout << "dln " << dln::version << '\n';
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage << '\n';
        return 0;
    }
    std::cerr << "dln: error: " << (command.empty() ? "no command given" : "unknown command '" + command + "'")
              << " (commands: run, sweep, status, merge, aggregate, plot; see dln --help)\n";
    return dln::app::kExitBadInput;
}

}  // namespace

// A caller that ignores SIGPIPE gets EPIPE instead of the signal: the output was lost, so the
// status must say so rather than 0.
int main(int argc, char** argv) {
    const int status = dispatch(argc, argv);
    if (!std::cout.flush()) {
        std::cerr << "dln: error: could not write to standard output (the reader is gone or the device refused it)\n";
        return status == 0 ? dln::app::kExitStorage : status;
    }
    return status;
}
