// dln status OUT.h5: how far a sweep file got (done, diverged, failed, pending per method), why
// units failed, and what its journal holds if the sweep has not ended cleanly. Reads the files
// without MPI, so it runs on a login node while the sweep runs elsewhere.
//
//   dln status out/quick.h5
//   dln status out/quick.h5 --journal     # also every journal record: run, rank, unit, status
//   dln status out/quick.h5 --json        # for scripts (slurm/sweep.sbatch): counts, failures, provenance
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include "cli.hpp"
#include "dln/io/provenance.hpp"
#include "dln/io/result_file.hpp"
#include "dln/io/sweep_journal.hpp"
#include "dln/sweep/status_report.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/unit_runner.hpp"

namespace po = boost::program_options;

namespace dln::app {
namespace {

const char* status_word(io::UnitStatus s) {
    switch (s) {
        case io::UnitStatus::done: return "done";
        case io::UnitStatus::diverged: return "diverged";
        case io::UnitStatus::failed: return "failed";
        default: return "pending";
    }
}

void print_journal(const io::SweepJournal& journal, bool every_record) {
    io::JournalContents contents;
    try {
        contents = journal.read();
    } catch (const io::JournalFormatError& e) {
        std::cout << e.what() << '\n';
        return;
    }
    std::set<int> runs;
    for (const auto& e : contents.entries) runs.insert(e.run);
    std::cout << journal.directory() << ": " << contents.entries.size() << " finished units from " << runs.size()
              << " run(s) not yet confirmed by a clean end";
    if (contents.torn > 0) std::cout << " (" << contents.torn << " record(s) cut short by a crash)";
    std::cout << "; dln sweep --resume folds them into the file\n";
    if (!every_record) return;
    // Each unit named by its coordinates, from the journal's own configuration.
    std::optional<sweep::SweepGrid> grid;
    try {
        grid.emplace(config::parse_ini_text(journal.config()));
    } catch (const std::exception&) {
        // Without a readable configuration the units are named by their positions.
    }
    std::printf("%4s %4s %-6s %-8s %s\n", "run", "rank", "method", "status", "unit");
    for (const auto& e : contents.entries) {
        std::string where = "position " + std::to_string(e.record.position);
        const auto method = model::parse_method(e.method);
        if (grid && method && grid->config().has_method(*method) && e.record.position < grid->method_units(*method)) {
            where = grid->describe(grid->unit_at(*method, e.record.position), *method);
        }
        std::printf("%4d %4d %-6s %-8s %s\n", e.run, e.rank, e.method.c_str(), status_word(e.record.status),
                    where.c_str());
    }
}

}  // namespace

int status_command(const Args& args) {
    try {
        po::options_description desc("Status", 110, 60);
        std::string path;
        bool every_record = false, json = false;
        desc.add_options()("file", po::value<std::string>(&path)->value_name("OUT.h5"), "the sweep file")(
            "journal", po::bool_switch(&every_record), "list every record of the sweep's journal, if it has one")(
            "json", po::bool_switch(&json),
            "print the status as one JSON document for scripts (README \"The result file\"): per method the "
            "counts, the failed units, the journal and the provenance");
        po::variables_map vm;
        po::positional_options_description positional;
        positional.add("file", 1);
        if (!parse_command_line(args, "usage: dln status OUT.h5 [--journal | --json]", desc, vm, &positional)) return 0;
        po::notify(vm);
        if (path.empty()) throw config::ConfigError("no sweep file given (usage: dln status OUT.h5)");
        if (json) {
            try {
                std::cout << sweep::status_json(path) << std::flush;
            } catch (const std::invalid_argument& e) {
                throw config::ConfigError(e.what());
            }
            return 0;
        }
        const io::SweepJournal journal(path);
        io::FileSummary summary;
        try {
            summary = io::summarize(path);
        } catch (const std::invalid_argument& e) {
            // A file a crash damaged is not bad input if its journal can rebuild it.
            if (!journal.exists()) throw config::ConfigError(e.what());
            std::cout << e.what() << '\n';
            print_journal(journal, every_record);
            return 0;
        }
        std::cout << path << ": " << summary.schema << ", written by dln " << summary.version << '\n';
        std::printf("%-8s %8s %8s %8s %8s %8s\n", "method", "units", "done", "diverged", "failed", "pending");
        for (const auto& m : summary.methods) {
            std::printf("%-8s %8zu %8zu %8zu %8zu %8zu\n", m.method.c_str(), m.total(), m.done, m.diverged, m.failed,
                        m.pending);
        }
        for (const auto& m : summary.methods) {
            // The PDE's points that finished without meeting pde.rtol.
            const auto unmet = sweep::tolerance_unmet(path, m.method);
            if (unmet > 0) {
                std::cout << "pde: " << unmet << " of " << m.done << " finished points did not meet the tolerance "
                          << "(pde.rtol; see /pde/error_estimate)\n";
            }
        }
        for (const auto& f : summary.failed) {
            std::cout << "failed " << f.method << ' ' << f.where << " (" << f.failures
                      << (f.failures == 1 ? " time" : " times") << "): " << f.message << '\n';
        }
        try {
            sweep::print_provenance(io::read_provenance(path), std::cout);
        } catch (const std::invalid_argument& e) {
            std::cout << "provenance: " << e.what() << '\n';
        }
        if (journal.exists()) {
            print_journal(journal, every_record);
            // The sweep may be running: say how current the file is. Its workers write what they
            // finished at least every --commit-seconds (plus the time of the hand-out in progress).
            std::error_code ec;
            const auto written = std::filesystem::last_write_time(path, ec);
            if (!ec) {
                const double age =
                    std::chrono::duration<double>(std::filesystem::file_time_type::clock::now() - written).count();
                std::printf("%s last written %.1f s ago; a running sweep writes its finished units into it at least "
                            "every --commit-seconds (0.2 s unless set) and its journal holds them first\n",
                            path.c_str(), age < 0 ? 0.0 : age);
            }
        }
        return 0;
    } catch (const config::ConfigError& e) {
        return report_bad_input("status", e.what());
    }
}

}  // namespace dln::app
