#include "dln/sweep/output_plan.hpp"

#include <filesystem>

#include "dln/io/result_file.hpp"
#include "dln/io/sweep_journal.hpp"
#include "dln/sweep/petsc_options.hpp"
#include "dln/sweep/sweep_extension.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/unit_runner.hpp"
#include "dln/version.hpp"

namespace dln::sweep {
namespace {

OutputPlan plan_file(const config::Config& config, const SweepOptions& options, std::string& note) {
    namespace fs = std::filesystem;
    const io::SweepJournal journal(options.output);
    auto checked_create = [&](bool overwrite) {
        try {
            io::ResultFile::check_can_create(options.output, overwrite);
            io::ResultFile::hold_unless_in_use(options.output);  // not the file of a running sweep
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError("--output", e.what());
        }
    };
    if (!options.resume) {
        checked_create(options.overwrite);
        if (journal.exists() && !options.overwrite) {
            throw config::ConfigError("--output", "'" + journal.directory() +
                                                      "' holds the units of an unfinished sweep; continue it "
                                                      "with --resume or start again with --force");
        }
        return OutputPlan::create;
    }
    if (options.overwrite) throw config::ConfigError("--resume", "cannot be combined with --force");
    checked_create(true);  // the directory exists and the path is not a directory
    auto refuse_other_config = [&](const std::string& stored, const std::string& where) {
        const auto keys = config::differing_keys(stored, config.ini);
        if (keys.empty()) return;
        std::string list;
        for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
        throw config::ConfigError("--resume", "'" + where + "' was made with another configuration (" + list +
                                                  " differ); resume with the same keys");
    };
    // PETSC_OPTIONS changes the PDE's results: a sweep with a pde continues only under options that
    // agree with the stored ones in every option that is not diagnostic (petsc_options.hpp).
    auto refuse_other_petsc = [&](const std::string& stored, const std::string& where) {
        if (!config.has_method(model::Method::pde)) return;
        if (result_petsc_options(stored) == result_petsc_options(options.petsc_options)) return;
        throw config::ConfigError("--resume", "'" + where + "' was computed with PETSC_OPTIONS " +
                                                  show_petsc_options(stored) + ", this run has PETSC_OPTIONS " +
                                                  show_petsc_options(options.petsc_options) +
                                                  "; they differ in options that change results: resume with the same");
    };
    if (journal.exists()) {
        if (!journal.config().empty()) refuse_other_config(journal.config(), journal.directory());
        if (const auto stored = journal.petsc_options()) refuse_other_petsc(*stored, journal.directory());
        try {
            journal.read();  // a journal of another record format cannot be replayed: say so now
        } catch (const io::JournalFormatError& e) {
            throw config::ConfigError("--resume", e.what());
        }
    }
    std::error_code ec;
    if (fs::exists(options.output, ec)) {
        std::string damage;
        try {
            const auto stored = io::summarize(options.output);
            refuse_other_config(stored.config, options.output);
            refuse_other_petsc(stored.petsc_options, options.output);
            // Another version may draw other random numbers (0.2.0 and 0.3.0 changed the stream): a file
            // finished by this one would mix two streams.
            if (stored.version != version) {
                throw config::ConfigError("--resume", "'" + options.output + "' was written by dln " + stored.version +
                                                          ", this is dln " + version +
                                                          ", whose results may differ; start again with --force");
            }
            if (stored.shard != shard_label(options)) {
                throw config::ConfigError("--shard", "'" + options.output + "' holds " +
                                                         (stored.shard.empty() ? "a whole sweep" : "shard " + stored.shard) +
                                                         ", not " + (options.shards > 1 ? "shard " + shard_label(options) : "a whole sweep"));
            }
            io::ResultFile::check_layout(options.output, result_layout(SweepGrid(config)));
        } catch (const std::invalid_argument& e) {
            damage = e.what();
        }
        if (damage.empty()) return OutputPlan::resume;
        if (!journal.exists()) {
            throw config::ConfigError("--resume", damage + ", and there is no journal '" + journal.directory() +
                                                      "' to rebuild it from; start again with --force");
        }
        note = "dln sweep: " + damage + "; rebuilding it from " + journal.directory();
        return OutputPlan::rebuild;
    }
    if (journal.exists()) {
        note = "dln sweep: '" + options.output + "' is missing; rebuilding it from " + journal.directory();
        return OutputPlan::rebuild;
    }
    note = "dln sweep: nothing to resume at '" + options.output + "'; starting the sweep";
    return OutputPlan::create;
}

}  // namespace

OutputPlan plan_output(const config::Config& config, const SweepOptions& options, std::string& note) {
    check_extension(config, options);  // --from: before the output is looked at, so nothing is made
    const auto plan = plan_file(config, options, note);
    // An old sweep that did not end (failed units left to retry, a stop, a crash) or still runs:
    // what its file holds is copied, and its units not in the file are computed here.
    if (options.from.empty()) return plan;
    if (const io::SweepJournal old(options.from); old.exists()) {
        const std::string line = "dln sweep: '" + options.from + "' has a journal '" + old.directory() +
                                 "' (it did not end, or still runs): its units that are not in the file are computed";
        note = note.empty() ? line : line + "\n" + note;
    }
    return plan;
}

}  // namespace dln::sweep
