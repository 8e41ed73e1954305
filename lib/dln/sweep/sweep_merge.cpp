#include "dln/sweep/sweep_merge.hpp"

#include <filesystem>
#include <set>

#include "dln/config/config.hpp"
#include "dln/io/result_file.hpp"
#include "dln/io/result_merge.hpp"
#include "dln/sweep/petsc_options.hpp"
#include "dln/sweep/run_provenance.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/unit_runner.hpp"

namespace dln::sweep {
namespace {

constexpr std::size_t kMissingListed = 10;

// The layout every input must have: that of the first input's configuration, whole (no shard).
io::ResultLayout merged_layout(const io::FileSummary& first) {
    const SweepGrid grid(config::parse_ini_text(first.config));
    auto layout = result_layout(grid);
    layout.config = first.config;  // exactly the stored text
    layout.shard.clear();
    layout.petsc_options = first.petsc_options;
    return layout;
}

// The merged file's provenance: every input's runs in the order of the inputs (each naming its
// shard), then the merge's own run.
void record_merged_runs(const std::string& output, const std::vector<std::string>& inputs,
                        const std::vector<io::FileSummary>& summaries, io::RunRecord merge_run) {
    std::vector<io::RunRecord> runs;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        for (auto run : io::read_provenance(inputs[k]).runs) {
            if (run.shard.empty()) run.shard = summaries[k].shard;
            runs.push_back(std::move(run));
        }
    }
    merge_run.end = io::utc_now();
    runs.push_back(merge_run);
    io::append_runs(output, merge_run.build, runs);
}

}  // namespace

void check_merge(const std::string& output, const std::vector<std::string>& inputs, bool overwrite) {
    namespace fs = std::filesystem;
    if (inputs.empty()) throw config::ConfigError("no input files given (usage: dln merge OUT.h5 SHARD.h5...)");
    try {
        io::ResultFile::check_can_create(output, overwrite);
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError("OUT.h5", e.what());
    }
    std::vector<io::FileSummary> summaries;
    for (const auto& path : inputs) {
        std::error_code ec;
        if (fs::exists(output, ec) && fs::equivalent(output, path, ec)) {
            throw config::ConfigError("OUT.h5", "'" + output + "' is also an input");
        }
        try {
            summaries.push_back(io::summarize(path));
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(e.what());
        }
        if (summaries.back().version != summaries.front().version) {
            throw config::ConfigError("'" + path + "' was written by dln " + summaries.back().version + ", '" +
                                      inputs.front() + "' by dln " + summaries.front().version +
                                      "; their results may differ");
        }
        const auto& a = summaries.front().petsc_options;
        const auto& b = summaries.back().petsc_options;
        if (config::parse_ini_text(summaries.front().config).has_method(model::Method::pde) &&
            result_petsc_options(a) != result_petsc_options(b)) {
            throw config::ConfigError("'" + path + "' was computed with PETSC_OPTIONS " + show_petsc_options(b) +
                                      ", '" + inputs.front() + "' with PETSC_OPTIONS " + show_petsc_options(a) +
                                      "; they differ in options that change results");
        }
        const auto keys = config::differing_keys(summaries.front().config, summaries.back().config);
        if (!keys.empty()) {
            std::string list;
            for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
            throw config::ConfigError("'" + path + "' belongs to another sweep than '" + inputs.front() + "' (" +
                                      list + " differ)");
        }
    }
    const auto layout = merged_layout(summaries.front());
    for (const auto& path : inputs) {
        try {
            io::ResultFile::check_layout(path, layout);
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(e.what());
        }
    }
}

MergeSummary merge_sweep_files(MPI_Comm comm, const std::string& output, const std::vector<std::string>& inputs,
                               bool overwrite) {
    std::vector<io::FileSummary> summaries;
    for (const auto& path : inputs) summaries.push_back(io::summarize(path));
    const auto layout = merged_layout(summaries.front());
    auto merge_run = start_run_record(comm, "merge", "");
    auto file = io::ResultFile::create(comm, output, layout, overwrite);
    file.close();
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    MergeSummary summary;
    if (rank != 0) return summary;

    const auto outcome = io::merge_results(output, inputs, layout);
    const SweepGrid grid(config::parse_ini_text(layout.config));
    summary.units = grid.tasks().size();
    for (const auto& [group, positions] : outcome.missing) {
        summary.missing += positions.size();
        const auto method = *model::parse_method(group);  // the layout's groups are methods
        for (std::size_t p : positions) {
            if (summary.missing_units.size() == kMissingListed) break;
            summary.missing_units.push_back(group + " " + grid.describe(grid.unit_at(method, p), method));
        }
    }
    // Shards of one job array say which of them is absent.
    std::set<std::string> present;
    std::string count;
    for (const auto& s : summaries) {
        const auto slash = s.shard.find('/');
        if (slash == std::string::npos) continue;
        present.insert(s.shard.substr(0, slash));
        count = s.shard.substr(slash + 1);
    }
    if (!count.empty()) {
        for (int k = 1; k <= std::stoi(count); ++k) {
            if (!present.count(std::to_string(k))) summary.missing_shards.push_back(std::to_string(k) + "/" + count);
        }
    }
    merge_run.outcome = summary.missing == 0 ? "complete" : "incomplete";
    record_merged_runs(output, inputs, summaries, merge_run);
    return summary;
}

}  // namespace dln::sweep
