// dln sweep: the grid lr x dim x alpha x replicate into one parallel HDF5 file.
//
//   mpirun -n 3 --oversubscribe dln sweep --config sweeps/quick.ini --output quick.h5
//   mpirun -n 3 --oversubscribe dln sweep --config sweeps/quick.ini --output quick.h5 --resume
//   dln sweep --config sweeps/quick.ini --dry-run          # the units, their cost, the core-hours
//   mpirun -n 3 dln sweep --config sweeps/quick.ini --shard 2/3 --output quick.2.h5   # then dln merge
//   mpirun -n 3 dln sweep --config bigger.ini --output bigger.h5 --from quick.h5   # computes only new units
//
// SIGUSR1 (what Slurm sends before a time limit; mpirun forwards it) or SIGTERM makes the sweep
// stop: the file is closed consistently, the exit status is 75, and --resume continues. After a
// kill -9, --resume replays OUT.h5.journal into the file, rebuilding it if it was damaged.
// PETSC_OPTIONS is recorded in the file; --resume refuses one whose result-changing options differ.
//
// Rank 0 hands out work units; with N ranks, N - 1 compute (rank 0 naps between messages and the
// workers ask ahead, so on a 2-core machine -n 3 keeps both cores busy). -n 1 also works: that rank does everything.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "cli.hpp"
#include "standalone_mpi.hpp"
#include "dln/config/config.hpp"
#include "dln/config/axis.hpp"
#include "dln/io/failpoint.hpp"
#include "dln/io/result_file.hpp"
#include "dln/io/storage_error.hpp"
#include "dln/io/sweep_journal.hpp"
#include "dln/pde/petsc_session.hpp"
#include "dln/sweep/petsc_options.hpp"
#include "dln/sweep/stop_request.hpp"
#include "dln/sweep/sweep_extension.hpp"
#include "dln/sweep/sweep_runner.hpp"

namespace po = boost::program_options;

namespace dln::app {
namespace {

// Rank 0 reads and checks everything before any file is touched. nullopt: exit with status.
// "k/K" with 1 <= k <= K into options, or a ConfigError naming --shard.
void parse_shard(const std::string& text, sweep::SweepOptions& options) {
    unsigned k = 0, count = 0;
    char slash = 0, rest = 0;
    if (std::sscanf(text.c_str(), "%u %c %u %c", &k, &slash, &count, &rest) != 3 || slash != '/' || k < 1 ||
        count < 1 || k > count || text.find('-') != std::string::npos) {
        throw config::ConfigError("--shard", "'" + text + "' is not k/K with 1 <= k <= K");
    }
    options.shard = k;
    options.shards = count;
}

std::optional<config::Config> read_on_root(const Args& args, sweep::SweepOptions& options, int& status) {
    std::string shard, batch = "auto", stripe = "0";
    bool dry_run = false;
    po::options_description desc("Sweep", 110, 60);
    desc.add_options()
        ("output,o", po::value<std::string>(&options.output)->value_name("FILE"), "the HDF5 file to create (required)")
        ("force", po::bool_switch(&options.overwrite), "overwrite FILE (and its journal) if it exists")
        ("resume", po::bool_switch(&options.resume),
         "continue the sweep in FILE: compute only units not done or diverged (failed ones once more); "
         "the configuration must be the one FILE was made with. Rebuilds FILE from FILE.journal if a "
         "crash damaged it; starts the sweep if there is nothing to resume")
        ("retry-failed", po::bool_switch(&options.retry_failed),
         "with --resume: retry every failed unit, also those that already failed twice")
        ("from", po::value<std::string>(&options.from)->value_name("OLD.h5"),
         "extend the finished sweep OLD.h5: the configuration may add values to its axes and raise run.seeds, "
         "nothing else; its done and diverged units are copied into FILE bit for bit (what computing them "
         "again would give), the others computed. OLD.h5 is only read. Works with --resume (give --from "
         "again), --shard and --dry-run")
        ("shard", po::value<std::string>(&shard)->value_name("k/K"),
         "compute only shard k of K (1 <= k <= K) into FILE: every K-th unit of the largest-first schedule; "
         "dln merge combines the shards")
        ("batch", po::value<std::string>(&batch)->value_name("B")->default_value("auto"),
         "run up to B sgd units of one dim and replicate together in lockstep, sharing every sample "
         "(1: each alone; auto: at least 16, more for units so short that handing them out would cost "
         "more than computing them, and units under 0.1 ms as a few points times all their replicates, "
         "adjacent rows of the file, one lockstep group per replicate); changes no result, only the speed")
        ("commit-seconds", po::value<double>(&options.commit_seconds)->value_name("S")->default_value(0.2),
         "each worker makes its finished units durable (one sync of its journal for all of them), reports "
         "them and writes them into FILE at least every S seconds (0: after every hand-out): how stale "
         "FILE and dln status may be while the sweep runs")
        ("stripe-size", po::value<std::string>(&stripe)->value_name("BYTES")->default_value("0"),
         "on a parallel file system, its stripe size (e.g. 1048576; Lustre: lfs getstripe -S DIR): datasets of "
         "64 KiB and more start on stripe boundaries (0: packed, for local disks); changes no result")
        ("dry-run", po::bool_switch(&dry_run), "print the units in the order they would be computed, with their "
         "estimated cost and the total in core-hours; touch nothing")
        ("quiet,q", po::bool_switch(&options.quiet), "no progress lines");
    desc.add(config::input_options()).add(config::config_options());
    po::variables_map vm;
    try {
        if (!parse_command_line(args, "usage: mpirun -n N dln sweep --config FILE --output OUT.h5 [--force | --resume] [--from OLD.h5]",
                                desc, vm)) {
            return std::nullopt;
        }
        po::notify(vm);
        auto config = config::resolve(vm);
        options.petsc_options = sweep::petsc_options_from_environment();
        if (vm.count("shard")) parse_shard(shard, options);
        if (batch == "auto") {
            options.batch = sweep::kBatchAuto;
        } else {
            std::size_t used = 0;
            long long b = 0;
            try {
                b = std::stoll(batch, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != batch.size() || b < 1 || b > 4096) {
                throw config::ConfigError("--batch", "'" + batch + "' is not auto or a number between 1 and 4096");
            }
            options.batch = static_cast<std::size_t>(b);
        }
        if (!(options.commit_seconds >= 0.0) || options.commit_seconds > 3600.0) {
            throw config::ConfigError("--commit-seconds", std::to_string(options.commit_seconds) +
                                                              " is not between 0 and 3600");
        }
        try {
            options.stripe_size = config::parse_count(stripe, 1ULL << 30);
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError("--stripe-size", std::string(e.what()) + " (a byte count up to 1 GiB)");
        }
        if (dry_run) {
            sweep::check_extension(config, options);
            sweep::print_schedule(config, options, std::cout);
            return std::nullopt;  // status 0: done
        }
        if (options.retry_failed && !options.resume) {
            throw config::ConfigError("--retry-failed", "needs --resume");
        }
        std::string note;
        options.plan = sweep::plan_output(config, options, note);
        if (!note.empty() && !options.quiet) std::cout << note << std::endl;
        return config;
    } catch (const config::ConfigError& e) {
        status = report_bad_input("sweep", e.what());
        return std::nullopt;
    }
}

}  // namespace

int sweep_command(const Args& args) {
    // First of all: a stop requested while MPI starts is kept, not fatal (stop_request.hpp).
    sweep::install_stop_handlers();
    prepare_standalone_mpi();
    MPI_Init(nullptr, nullptr);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    sweep::SweepOptions options;
    options.log = &std::cout;
    int status = 0;
    std::optional<config::Config> root_config;
    if (rank == 0) root_config = read_on_root(args, options, status);
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    config::Config config;
    if (!sweep::share_setup(MPI_COMM_WORLD, root_config ? &*root_config : nullptr, config, options)) {
        MPI_Finalize();
        return status;
    }
    try {
        // PetscInitialize and PetscFinalize are collective: every rank, even the master, holds one.
        std::optional<pde::PetscSession> petsc;
        if (config.has_method(model::Method::pde)) petsc.emplace(pde::PetscSignals::application);
        const auto summary = sweep::run_sweep(MPI_COMM_WORLD, config, options);
        if (rank == 0) {
            std::cout << "dln sweep: " << summary.units << " units in " << summary.seconds << " s: "
                      << summary.done << " done, " << summary.diverged << " diverged, " << summary.failed
                      << " failed";
            if (!options.from.empty()) std::cout << " (" << summary.copied << " copied from " << options.from << ")";
            std::cout << "; results in " << options.output << std::endl;
            if (summary.tolerance_unmet > 0) {
                std::cout << "dln sweep: " << summary.tolerance_unmet
                          << " pde points did not meet pde.rtol (see the warnings; dln status counts them)"
                          << std::endl;
            }
            if (summary.interrupted) {
                std::cout << "dln sweep: stopped on request with " << summary.pending
                          << " units pending; continue with --resume" << std::endl;
            } else if (!summary.ended) {
                std::cout << "dln sweep: " << summary.failed << " units failed; --resume retries those that "
                          << "failed for the first time" << std::endl;
            }
        }
        if (summary.interrupted) status = kExitInterrupted;
    } catch (const io::StorageError& e) {
        // A full disk or quota, a read-only file system: every unit reported done is in the journal.
        if (rank == 0 || !e.every_rank) {
            config::print_line(std::cerr, "dln sweep: error: " + config::one_line(e.what()) +
                                              "; every unit reported done is kept in '" + options.output +
                                              ".journal': make room and continue with --resume");
        } else {
            MPI_Barrier(MPI_COMM_WORLD);  // rank 0 reports it for all, then stops them: wait for that
        }
        // No MPI_Finalize: HDF5 closes what is still open at finalization, and a file whose
        // flush failed (ENOSPC while its creation was closing it) crashes HDF5 1.10 there.
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (size == 1) std::_Exit(kExitStorage);  // alone, MPI_Abort's notice would be noise
        MPI_Abort(MPI_COMM_WORLD, kExitStorage);
    } catch (const std::invalid_argument& e) {
        // Found by every rank at once (opening a damaged file is collective): bad input, reported once.
        if (rank == 0) {
            config::print_line(std::cerr, "dln sweep: error: " + config::one_line(e.what()));
            // A journal this run started and that holds no unit would only stand in the way.
            const io::SweepJournal journal(options.output);
            try {
                const auto contents = journal.read();
                if (journal.exists() && contents.entries.empty() && contents.torn == 0) journal.remove();
            } catch (const std::exception&) {
            }
        }
        status = kExitBadInput;
    } catch (const std::exception& e) {
        // Typically the file system: the collective state of the file is unknown, so stop all ranks.
        config::print_line(std::cerr, "dln sweep: error on rank " + std::to_string(rank) + ": " + config::one_line(e.what()));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    io::failpoint("finalizing");  // a stop requested from here on must not turn into a failure
    MPI_Finalize();
    return status;
}

}  // namespace dln::app
