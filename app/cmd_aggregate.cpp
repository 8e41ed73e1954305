// dln aggregate OUT.h5 [--out DIR] [--epsilon E] [--band LO,HI]: a sweep file (complete or partial) into the
// phase file DIR/phase.h5 and the table DIR/phase.csv. Reads without MPI, like dln status.
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "dln/analysis/phase_file.hpp"
#include "dln/sweep/run_provenance.hpp"

namespace po = boost::program_options;

namespace dln::app {
namespace {

constexpr const char* kUsage =
    "usage: dln aggregate OUT.h5 [--out DIR] [--epsilon E] [--band LO,HI]\n"
    "\n"
    "Summarises a sweep file (dln-sweep/2, complete or partial: pending and failed units are missing\n"
    "values) per grid point of every axis (lr, dim, alpha and any extra axes) and method into\n"
    "DIR/phase.h5 and DIR/phase.csv: final risk (replicate mean and\n"
    "spread), the median and a quantile band over replicates of every curve, time to reach excess risk <= E, the fitted exponential rate of the tail, the fraction\n"
    "of replicates diverged, final curvature, balance and false support, the regime (converged,\n"
    "converging, stalled, collapsed, diverged), and the sup-over-time relative gap to the PDE with\n"
    "its power law in d. README.md \"Aggregating a sweep\" gives every definition.";

// OUT.h5 -> OUT_phase (next to it): one directory per sweep file, so two sweeps never collide.
std::string default_directory(const std::string& sweep) {
    std::filesystem::path p(sweep);
    return (p.parent_path() / (p.stem().string() + "_phase")).string();
}

}  // namespace

int aggregate_command(const Args& args) {
    try {
        po::options_description desc("Aggregate", 110, 60);
        std::string path, dir;
        std::string epsilon_text = "1e-3";
        std::string band_text = "10,90";
        desc.add_options()
            ("file", po::value<std::string>(&path)->value_name("OUT.h5"), "the sweep file")
            ("out,o", po::value<std::string>(&dir)->value_name("DIR"),
             "directory for phase.h5 and phase.csv (made if missing; its parent must exist) "
             "[default: OUT_phase next to OUT.h5]")
            ("epsilon", po::value<std::string>(&epsilon_text)->value_name("E"),
             "the excess-risk level of time_to_epsilon and of the regime 'converged' (> 0) [default: 1e-3]")
            ("band", po::value<std::string>(&band_text)->value_name("LO,HI"),
             "the quantile band over replicates, in percent, 0 <= LO < 50 < HI <= 100 (Hyndman-Fan type 7, "
             "numpy's default; over the replicates that did not diverge) [default: 10,90]");
        po::positional_options_description positional;
        positional.add("file", 1);
        po::variables_map vm;
        if (!parse_command_line(args, kUsage, desc, vm, &positional)) return 0;
        po::notify(vm);
        if (path.empty()) throw config::ConfigError("no sweep file given (usage: dln aggregate OUT.h5 [--out DIR])");

        analysis::RegimeRule rule;
        try {
            std::size_t used = 0;
            rule.epsilon = std::stod(epsilon_text, &used);
            if (used != epsilon_text.size()) throw std::invalid_argument("trailing text");
        } catch (const std::exception&) {
            throw config::ConfigError("--epsilon", "'" + epsilon_text + "' is not a number");
        }
        if (!(rule.epsilon > 0.0) || !std::isfinite(rule.epsilon)) {
            throw config::ConfigError("--epsilon", epsilon_text + " is not a positive finite number");
        }
        analysis::QuantileBand band;
        try {
            band = analysis::parse_band(band_text);
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError("--band", e.what());
        }
        if (dir.empty()) dir = default_directory(path);

        // Everything is checked and read before anything is written.
        analysis::SweepData sweep;
        try {
            analysis::check_output_directory(dir);
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError("--out", e.what());
        }
        analysis::PhaseTable table;
        try {
            sweep = analysis::read_sweep(path);
            table = analysis::aggregate(sweep, rule, band);  // refuses groups whose axes do not fit together
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(e.what());
        }
        analysis::write_phase_directory(dir, table, sweep::derived_file_provenance(path, "aggregate"));

        std::cout << "dln aggregate: " << path << " -> " << dir << "/phase.h5, " << dir << "/phase.csv\n";
        for (const auto& m : table.methods) {
            std::size_t counts[analysis::regime_names.size()] = {};
            for (const auto& p : m.points) ++counts[static_cast<std::size_t>(p.regime)];
            std::cout << "  " << m.name << ": " << m.points.size() << " points over (";
            for (std::size_t k = 0; k < m.axes.size(); ++k) std::cout << (k ? ", " : "") << m.axes[k].name;
            std::cout << "):";
            for (std::size_t k = 0; k < analysis::regime_names.size(); ++k) {
                if (counts[k] > 0) std::cout << ' ' << counts[k] << ' ' << analysis::regime_names[k];
            }
            std::cout << '\n';
        }
        return 0;
    } catch (const config::ConfigError& e) {
        return report_bad_input("aggregate", e.what());
    } catch (const std::exception& e) {
        config::print_line(std::cerr, std::string("dln aggregate: error: ") + e.what());
        return 1;
    }
}

}  // namespace dln::app
