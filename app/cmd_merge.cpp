// dln merge OUT.h5 SHARD.h5...: the shards of a sweep (dln sweep --shard k/K, one per job-array
// task) as one file, identical in every dataset but wall_seconds to the file of an unsharded run.
//
//   dln merge out/quick.h5 out/quick.shard-*.h5
//
// Units that no input computed stay pending; they are listed, and the exit status is then 1 (the
// merged file is written all the same, and a later merge with the missing shard completes it).
#include <mpi.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "standalone_mpi.hpp"
#include "dln/config/config.hpp"
#include "dln/pde/petsc_session.hpp"
#include "dln/sweep/sweep_merge.hpp"

namespace po = boost::program_options;

namespace dln::app {

int merge_command(const Args& args) {
    std::string output;
    std::vector<std::string> inputs;
    bool overwrite = false;
    try {
        po::options_description desc("Merge", 110, 60);
        desc.add_options()("output", po::value<std::string>(&output)->value_name("OUT.h5"), "the merged file")(
            "inputs", po::value<std::vector<std::string>>(&inputs)->value_name("SHARD.h5..."), "the shard files")(
            "force", po::bool_switch(&overwrite), "overwrite OUT.h5 if it exists");
        po::positional_options_description positional;
        positional.add("output", 1).add("inputs", -1);
        po::variables_map vm;
        if (!parse_command_line(args, "usage: dln merge OUT.h5 SHARD.h5... [--force]", desc, vm, &positional)) return 0;
        po::notify(vm);
        if (output.empty()) throw config::ConfigError("no output file given (usage: dln merge OUT.h5 SHARD.h5...)");
        sweep::check_merge(output, inputs, overwrite);
    } catch (const config::ConfigError& e) {
        return report_bad_input("merge", e.what());
    }
    prepare_standalone_mpi();
    MPI_Init(nullptr, nullptr);  // the file is created through MPI-IO, as a sweep's is
    int status = 0;
    try {
        const auto summary = sweep::merge_sweep_files(MPI_COMM_SELF, output, inputs, overwrite);
        std::cout << "dln merge: " << inputs.size() << " files into " << output << ": "
                  << summary.units - summary.missing << " of " << summary.units << " units" << std::endl;
        if (summary.missing > 0) {
            // One write for the whole report, so that nothing interleaves with it.
            std::ostringstream report;
            report << "dln merge: " << summary.missing << " units computed by no input, pending in " << output;
            for (const auto& shard : summary.missing_shards) {
                report << (&shard == &summary.missing_shards.front() ? "; shards missing: " : ", ") << shard;
            }
            for (const auto& unit : summary.missing_units) report << "\n  missing " << unit;
            if (summary.missing > summary.missing_units.size()) {
                report << "\n  and " << summary.missing - summary.missing_units.size() << " more";
            }
            config::print_line(std::cerr, report.str());
            status = 1;
        }
    } catch (const std::invalid_argument& e) {  // a damaged input found while merging
        std::error_code ignored;
        std::filesystem::remove(output, ignored);  // half merged: it must not pass for a merged file
        status = report_bad_input("merge", e.what());
    } catch (const std::exception& e) {
        config::print_line(std::cerr, std::string("dln merge: error: ") + e.what());
        status = 1;
    }
    MPI_Finalize();
    return status;
}

}  // namespace dln::app
