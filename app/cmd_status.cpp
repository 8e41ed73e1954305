// dln status OUT.h5: how far a sweep file got (done, diverged, failed, pending per method).
// Reads the file without MPI, so it runs on a login node while the sweep runs elsewhere.
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "dln/io/result_file.hpp"

namespace po = boost::program_options;

namespace dln::app {

int status_command(const Args& args) {
    try {
        po::options_description desc("Status", 110, 60);
        std::string path;
        desc.add_options()("file", po::value<std::string>(&path)->value_name("OUT.h5"), "the sweep file");
        po::variables_map vm;
        po::positional_options_description positional;
        positional.add("file", 1);
        desc.add_options()("help,h", "print this help and exit");
        try {
            po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
        } catch (const po::error& e) {
            throw config::ConfigError(e.what());
        }
        if (vm.count("help")) {
            std::cout << "usage: dln status OUT.h5\n" << desc << '\n';
            return 0;
        }
        po::notify(vm);
        if (path.empty()) throw config::ConfigError("no sweep file given (usage: dln status OUT.h5)");
        io::FileSummary summary;
        try {
            summary = io::summarize(path);
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(e.what());
        }
        std::cout << path << ": " << summary.schema << ", written by dln " << summary.version << '\n';
        std::printf("%-8s %8s %8s %8s %8s %8s\n", "method", "units", "done", "diverged", "failed", "pending");
        for (const auto& m : summary.methods) {
            std::printf("%-8s %8zu %8zu %8zu %8zu %8zu\n", m.method.c_str(), m.total(), m.done, m.diverged, m.failed,
                        m.pending);
        }
        return 0;
    } catch (const config::ConfigError& e) {
        return report_bad_input("status", e.what());
    }
}

}  // namespace dln::app
