// dln plot DIR [--pdf] [--x AXIS] [--y AXIS] [--at KEY=VALUE ...] [--point POINT ...]: the figures
// of a phase file (DIR/phase.h5,
// written by dln aggregate), drawn by plot_phase.py with matplotlib.
//
// The script sits next to the dln executable (CMake copies it there); a build moved without it
// falls back to the source tree it was configured from. The interpreter is the first of
// /usr/bin/python3 and python3 on PATH that imports both matplotlib and h5py: on Debian those are
// python3-matplotlib and python3-h5py, which another python3 earlier on PATH may not see.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "dln/io/netcdf_file.hpp"

extern char** environ;

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace dln::app {
namespace {

constexpr const char* kUsage =
    "usage: dln plot DIR [--pdf] [--x AXIS] [--y AXIS] [--at KEY=VALUE ...] [--point POINT ...]\n"
    "\n"
    "Draws the figures of DIR/phase.h5 (dln-phase/2, written by dln aggregate) into DIR as PNG (and\n"
    "PDF with --pdf): regime_map (the phase diagram over (lr, alpha), or over --x and --y, one panel\n"
    "per value of every other axis and the d -> infinity limit), one heatmap_<quantity> per summary\n"
    "quantity with the divergence boundary, risk_curves (SGD and SDE median and quantile band over\n"
    "replicates, the mean thin, PDE), gap_vs_dim (the SGD-PDE gap against d, with its fitted slope) and,\n"
    "for a sweep with the PDE, at least 3 d and 10 replicates, concentration (one band per d around the\n"
    "PDE, and the band's width against d with its fitted slope). An axis is named by its dimension\n"
    "name (lr, dim, alpha, noise, spectrum, ...) or its key (sweep.lr, data.noise, ...). Needs Python 3\n"
    "with matplotlib and h5py (Debian: python3-matplotlib python3-h5py).";

// Runs argv[0] with argv (searching PATH if it has no '/'); returns its exit status, -1 if it
// could not be started or did not exit normally. quiet sends its output to /dev/null.
int run(const std::vector<std::string>& argv, bool quiet) {
    std::vector<char*> raw;
    for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (quiet) {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = 0;
    const int error = posix_spawnp(&pid, raw[0], &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

std::optional<std::string> find_python() {
    std::vector<std::string> candidates{"/usr/bin/python3"};
    if (const char* path = std::getenv("PATH")) {
        std::stringstream dirs(path);
        for (std::string d; std::getline(dirs, d, ':');) {
            if (!d.empty()) candidates.push_back((fs::path(d) / "python3").string());
        }
    }
    for (const auto& python : candidates) {
        if (access(python.c_str(), X_OK) != 0) continue;
        if (run({python, "-c", "import matplotlib, h5py"}, true) == 0) return python;
    }
    return std::nullopt;
}

std::optional<std::string> find_script() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path beside = exe.parent_path() / "plot_phase.py";
        if (fs::is_regular_file(beside, ec)) return beside.string();
    }
    if (fs::is_regular_file(DLN_PLOT_SCRIPT_SOURCE, ec)) return std::string(DLN_PLOT_SCRIPT_SOURCE);
    return std::nullopt;
}

}  // namespace

int plot_command(const Args& args) {
    try {
        po::options_description desc("Plot", 110, 60);
        std::string dir;
        bool pdf = false;
        std::vector<std::string> points, at;
        std::string x_axis, y_axis;
        desc.add_options()
            ("dir", po::value<std::string>(&dir)->value_name("DIR"), "the directory dln aggregate wrote")
            ("pdf", po::bool_switch(&pdf), "also write every figure as PDF")
            ("x", po::value<std::string>(&x_axis)->value_name("AXIS"),
             "the horizontal axis of the maps: any axis of the phase file, by name or key [default: lr]")
            ("y", po::value<std::string>(&y_axis)->value_name("AXIS"), "the vertical axis of the maps [default: alpha]")
            ("at", po::value<std::vector<std::string>>(&at)->value_name("KEY=VALUE"),
             "fix an axis at one of its values (numbers compared as numbers, names by name; repeatable): the maps "
             "draw one panel per value of each axis neither --x, --y nor fixed (at most 12), and risk_curves, "
             "gap_vs_dim and concentration show the extra axes at these values [default: their first values]")
            ("point", po::value<std::vector<std::string>>(&points)->value_name("POINT"),
             "a grid point for risk_curves: LR,DIM,ALPHA[,EXTRA...] in axis order, or KEY=VALUE,... (nearest grid "
             "values; extra axes not given from --at or their first value; repeatable) [default: every lr at the "
             "largest d and the middle alpha]");
        po::positional_options_description positional;
        positional.add("dir", 1);
        po::variables_map vm;
        if (!parse_command_line(args, kUsage, desc, vm, &positional)) return 0;
        po::notify(vm);
        if (dir.empty()) throw config::ConfigError("no directory given (usage: dln plot DIR)");
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) throw config::ConfigError("'" + dir + "' is not a directory");
        if (!fs::is_regular_file(fs::path(dir) / "phase.h5", ec)) {
            throw config::ConfigError("'" + dir + "' holds no phase.h5 (write it with dln aggregate OUT.h5 --out " +
                                      dir + ")");
        }
        try {
            const io::NcReader phase((fs::path(dir) / "phase.h5").string());  // refuses a file damaged so that reading it crashes HDF5
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(e.what());
        }
        const auto script = find_script();
        if (!script) throw config::ConfigError("plot_phase.py is neither next to dln nor in the source tree");
        const auto python = find_python();
        if (!python) {
            throw config::ConfigError(
                "no Python 3 with matplotlib and h5py (tried /usr/bin/python3 and python3 on PATH); "
                "install them with: apt-get install python3-matplotlib python3-h5py");
        }
        std::vector<std::string> command{*python, *script, dir};
        if (pdf) command.emplace_back("--pdf");
        if (!x_axis.empty()) command.insert(command.end(), {"--x", x_axis});
        if (!y_axis.empty()) command.insert(command.end(), {"--y", y_axis});
        for (const auto& a : at) command.insert(command.end(), {"--at", a});
        for (const auto& p : points) command.insert(command.end(), {"--point", p});
        setenv("MPLBACKEND", "Agg", 1);  // files only, never a window
        const int status = run(command, false);
        if (status < 0) {
            std::cerr << "dln plot: error: " << *python << " " << *script << " did not complete (reading "
                      << (fs::path(dir) / "phase.h5").string() << "? write it again with dln aggregate)" << std::endl;
            return 1;
        }
        return status;  // the script reports its own bad input (one line, status 2)
    } catch (const config::ConfigError& e) {
        return report_bad_input("plot", e.what());
    }
}

}  // namespace dln::app
