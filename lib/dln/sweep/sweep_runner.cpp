#include "dln/sweep/sweep_runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <thread>
#include <tuple>
#include <vector>

#include "dln/io/failpoint.hpp"
#include "dln/io/result_file.hpp"
#include "dln/io/sweep_journal.hpp"
#include "dln/sweep/petsc_options.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/stop_request.hpp"
#include "dln/sweep/unit_runner.hpp"
#include "dln/version.hpp"

namespace dln::sweep {
namespace {

constexpr int kTagReport = 1;  // worker -> master: "finished this task, give me another"
constexpr int kTagTask = 2;    // master -> worker: a task index, or -1 to stop

using Task = SweepGrid::Task;

constexpr std::int32_t kAbandoned = -1;  // a unit given up when the sweep was asked to stop

struct Report {
    std::int64_t task = -1;  // -1: the worker's first request
    std::int32_t status = 0;  // io::UnitStatus, or kAbandoned
    std::int32_t stopping = 0;  // the worker leaves: it was asked to stop, and wants no reply
    std::int32_t failures = 0;  // of a failed unit: how often it has failed now
    std::int32_t unmet = 0;     // a finished pde unit that did not meet pde.rtol
    double wall_seconds = 0.0;
};

// A task to compute and how often it failed before (its record counts one more if it fails again).
struct Assignment {
    std::int64_t task = -1;  // -1: no more work
    std::int64_t failures = 0;
};

// How often a failed unit is computed before a resume leaves it alone: once, then one retry.
constexpr std::int8_t kAttempts = 2;

class Progress {
public:
    Progress(const SweepGrid& grid, const std::vector<Task>& tasks, std::size_t todo, const SweepOptions& options)
        : grid_(grid), tasks_(tasks), log_(options.quiet ? nullptr : options.log),
          start_(std::chrono::steady_clock::now()), todo_(todo) {
        summary_.units = todo;
    }

    void record(const Report& report) {
        if (report.status == kAbandoned) {
            ++summary_.abandoned;
            return;
        }
        const auto status = static_cast<io::UnitStatus>(report.status);
        ++finished_;
        if (report.unmet) ++summary_.tolerance_unmet;
        const char* word = "done";
        switch (status) {
            case io::UnitStatus::diverged: ++summary_.diverged; word = "diverged"; break;
            case io::UnitStatus::failed:
                ++summary_.failed;
                if (report.failures < kAttempts) ++retry_left_;
                word = "FAILED";
                break;
            default: ++summary_.done; break;
        }
        if (!log_) return;
        const auto& task = tasks_[static_cast<std::size_t>(report.task)];
        const double elapsed = seconds();
        const double eta = elapsed / static_cast<double>(finished_) *
                           static_cast<double>(todo_ - finished_);
        char line[320];
        std::snprintf(line, sizeof line, "[%zu/%zu] %s %s: %s in %.2f s (elapsed %.1f s, eta %.0f s, failed %zu)\n",
                      finished_, todo_, std::string(model::name(task.method)).c_str(),
                      grid_.describe(grid_.unit(task.unit), task.method).c_str(), word, report.wall_seconds, elapsed,
                      eta, summary_.failed);
        *log_ << line << std::flush;
    }

    SweepSummary finish() {
        summary_.seconds = seconds();
        summary_.pending = todo_ - finished_;
        summary_.interrupted = stop_requested();
        summary_.ended = summary_.pending == 0 && retry_left_ == 0;
        return summary_;
    }

private:
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    const SweepGrid& grid_;
    const std::vector<Task>& tasks_;
    std::ostream* log_;
    std::chrono::steady_clock::time_point start_;
    std::size_t todo_;
    std::size_t finished_ = 0;
    std::size_t retry_left_ = 0;  // units that failed for the first time: a resume retries them
    SweepSummary summary_;
};

// Journals a computed record, then writes it into the file: the journal comes first, so a unit
// in the file is always in the journal too, and a crash between the two loses nothing.
Report journal_and_write(model::Method method, io::UnitRecord& record, const Assignment& assignment,
                         io::ResultFile& file, io::JournalWriter& journal) {
    if (record.status == io::UnitStatus::failed) {
        record.failures = static_cast<std::int8_t>(std::min<std::int64_t>(assignment.failures + 1, 127));
    }
    const std::string group(model::name(method));
    journal.append(group, record);
    io::failpoint("journaled");
    file.write(group, record);
    Report done;
    done.task = assignment.task;
    done.status = static_cast<std::int32_t>(record.status);
    done.failures = record.failures;
    done.unmet = record.warning.empty() ? 0 : 1;
    done.wall_seconds = record.wall_seconds;
    return done;
}

// Computes a hand-out (one task, or sgd tasks of one dim and replicate in lockstep) and writes
// each of its units. One bad unit must not end a sweep of hundreds: a unit that throws is
// recorded as failed and the sweep goes on; a stop request abandons the whole hand-out.
std::vector<Report> compute_and_write(const SweepGrid& grid, const std::vector<Task>& tasks,
                                      std::span<const Assignment> batch, io::ResultFile& file,
                                      io::JournalWriter& journal) {
    const auto method = tasks[static_cast<std::size_t>(batch.front().task)].method;
    std::vector<const WorkUnit*> units;
    for (const auto& a : batch) units.push_back(&grid.unit(tasks[static_cast<std::size_t>(a.task)].unit));
    std::vector<io::UnitRecord> records;
    try {
        if (units.size() == 1) {
            records.push_back(compute_unit(grid, *units.front(), method, &stop_flag()));
        } else {
            records = compute_sgd_batch(grid, units, &stop_flag());
        }
    } catch (const sim::Cancelled&) {
        std::vector<Report> abandoned(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            abandoned[i].task = batch[i].task;
            abandoned[i].status = kAbandoned;
        }
        return abandoned;
    } catch (const std::exception& e) {
        records.clear();
        for (const auto* unit : units) records.push_back(failed_record(grid, *unit, method, e.what()));
    }
    std::vector<Report> reports;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (records[i].status == io::UnitStatus::failed) {
            std::cerr << "dln: " << model::name(method) << ' ' << grid.describe(*units[i], method)
                      << " failed: " << records[i].message << '\n';
        }
        // The worker that computed it says so, once; the master counts it in the summary.
        if (!records[i].warning.empty()) std::cerr << "dln sweep: warning: " << records[i].warning << '\n';
        reports.push_back(journal_and_write(method, records[i], batch[i], file, journal));
    }
    return reports;
}

// The hand-outs: sgd tasks of the same dim and replicate in batches of at most batch_max (near
// equal sizes), the other tasks alone, most expensive first. Batching changes no result (each
// member is bitwise its lone run), only how often the samples are drawn.
std::vector<std::vector<Assignment>> form_batches(const SweepGrid& grid, const std::vector<Assignment>& todo,
                                                  std::size_t batch_max) {
    const auto& tasks = grid.tasks();
    std::vector<std::vector<Assignment>> batches;
    // Keyed by the unit with lr and alpha at their first values: one dim, model, data and replicate.
    std::map<std::size_t, std::vector<Assignment>> groups;
    std::vector<std::size_t> group_order;
    for (const auto& a : todo) {
        const auto& task = tasks[static_cast<std::size_t>(a.task)];
        if (task.method != model::Method::sgd || batch_max <= 1) {
            batches.push_back({a});
            continue;
        }
        const auto key = grid.batch_key(grid.unit(task.unit));
        if (!groups.count(key)) group_order.push_back(key);
        groups[key].push_back(a);
    }
    for (const auto& key : group_order) {
        const auto& group = groups[key];
        const std::size_t count = (group.size() + batch_max - 1) / batch_max;
        std::size_t begin = 0;
        for (std::size_t b = 0; b < count; ++b) {
            const std::size_t size = group.size() / count + (b < group.size() % count ? 1 : 0);
            batches.emplace_back(group.begin() + static_cast<std::ptrdiff_t>(begin),
                                 group.begin() + static_cast<std::ptrdiff_t>(begin + size));
            begin += size;
        }
    }
    auto cost = [&](const std::vector<Assignment>& batch) {
        double c = 0.0;
        for (const auto& a : batch) c += tasks[static_cast<std::size_t>(a.task)].cost;
        return c;
    };
    std::stable_sort(batches.begin(), batches.end(),
                     [&](const auto& x, const auto& y) { return cost(x) > cost(y); });
    return batches;
}

void master(MPI_Comm comm, int size, const std::vector<std::vector<Assignment>>& batches, Progress& progress) {
    std::size_t next = 0;
    int running = size - 1;
    std::vector<Report> reports;
    while (running > 0) {
        int ready = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, kTagReport, comm, &ready, &status);
        if (!ready) {
            // Sleeping rather than spinning in a blocking receive keeps the master off the CPU, so
            // on a machine with N cores N workers and the master share them without loss.
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        int bytes = 0;
        MPI_Get_count(&status, MPI_BYTE, &bytes);
        reports.resize(static_cast<std::size_t>(bytes) / sizeof(Report));
        MPI_Recv(reports.data(), bytes, MPI_BYTE, status.MPI_SOURCE, kTagReport, comm, MPI_STATUS_IGNORE);
        bool stopping = false;
        for (const auto& report : reports) {
            if (report.task >= 0) progress.record(report);
            stopping = stopping || report.stopping;
        }
        if (stopping) {  // the worker has left; it waits for nothing
            --running;
            continue;
        }
        static const std::vector<Assignment> none;
        const std::vector<Assignment>* handout = &none;
        if (next < batches.size() && !stop_requested()) {
            handout = &batches[next++];
        } else {
            --running;
        }
        MPI_Send(handout->data(), static_cast<int>(2 * handout->size()), MPI_INT64_T, status.MPI_SOURCE, kTagTask, comm);
    }
}

void worker(MPI_Comm comm, const SweepGrid& grid, const std::vector<Task>& tasks, io::ResultFile& file,
            io::JournalWriter& journal) {
    std::vector<Report> reports(1);  // the first request: no task
    std::vector<Assignment> batch;
    while (true) {
        const int stopping = stop_requested() ? 1 : 0;
        for (auto& report : reports) report.stopping = stopping;
        MPI_Send(reports.data(), static_cast<int>(reports.size() * sizeof(Report)), MPI_BYTE, 0, kTagReport, comm);
        if (stopping) return;
        MPI_Status status;
        MPI_Probe(0, kTagTask, comm, &status);
        int count = 0;
        MPI_Get_count(&status, MPI_INT64_T, &count);
        batch.resize(static_cast<std::size_t>(count) / 2);
        MPI_Recv(batch.data(), count, MPI_INT64_T, 0, kTagTask, comm, MPI_STATUS_IGNORE);
        if (batch.empty()) return;
        reports = compute_and_write(grid, tasks, batch, file, journal);
    }
}

// The tasks still to compute: all of them, or on resume those pending, and those failed fewer
// than kAttempts times (all failed ones with retry_failed). Read on rank 0, which hands them out.
std::vector<Assignment> tasks_to_do(const SweepGrid& grid, const io::ResultFile* file, const SweepOptions& options) {
    const auto& tasks = grid.tasks();
    const auto& c = grid.config();
    std::map<model::Method, std::vector<std::int8_t>> status, failures;
    if (file) {
        for (const auto method : c.methods) {
            status[method] = file->read_status(std::string(model::name(method)));
            failures[method] = file->read_failures(std::string(model::name(method)));
        }
    }
    std::vector<Assignment> todo;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (i % options.shards != options.shard - 1) continue;  // another shard's
        Assignment assignment{static_cast<std::int64_t>(i), 0};
        if (file) {
            const auto method = tasks[i].method;
            const std::size_t where = grid.position(method, grid.unit(tasks[i].unit));
            const auto s = static_cast<io::UnitStatus>(status.at(method).at(where));
            assignment.failures = failures.at(method).at(where);
            if (s == io::UnitStatus::done || s == io::UnitStatus::diverged) continue;
            if (s == io::UnitStatus::failed && assignment.failures >= kAttempts && !options.retry_failed) continue;
        }
        todo.push_back(assignment);
    }
    return todo;
}

// Rank 0, on resume: writes every unit of the journal into the file, the last record of a unit
// winning (a unit that failed and then succeeded on a retry). Returns how many units it wrote.
std::size_t replay_journal(const SweepGrid& grid, const io::SweepJournal& journal, io::ResultFile& file,
                           std::ostream* log) {
    const auto contents = journal.read();
    std::map<std::pair<std::string, std::size_t>, const io::JournalEntry*> last;
    for (const auto& e : contents.entries) last[{e.method, e.record.position}] = &e;
    for (const auto& [key, entry] : last) {
        const auto method = model::parse_method(entry->method);
        if (!method || !grid.config().has_method(*method) || entry->record.position >= grid.method_units(*method)) {
            throw std::runtime_error("the journal '" + journal.directory() + "' holds units of method '" +
                                     entry->method + "', which this sweep does not compute");
        }
        file.write(entry->method, entry->record);
        io::failpoint("replay");
    }
    if (log && (!last.empty() || contents.torn > 0)) {
        *log << "dln sweep: replayed " << last.size() << " units from " << journal.directory();
        if (contents.torn > 0) *log << " (" << contents.torn << " record(s) cut short by a crash, skipped)";
        *log << '\n' << std::flush;
    }
    return last.size();
}

// After a clean close, before the journal goes: the file's data must be on disk, not only in the
// page cache, or a machine crash could lose what the journal no longer holds.
void sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("cannot open '" + path + "' to sync it");
    const int status = ::fsync(fd);
    ::close(fd);
    if (status != 0) throw std::runtime_error("cannot sync '" + path + "'");
}

void broadcast_string(MPI_Comm comm, std::string& text) {
    long long length = static_cast<long long>(text.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
}

}  // namespace

bool share_setup(MPI_Comm comm, const config::Config* on_root, config::Config& config, SweepOptions& options) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int ok = rank == 0 && on_root != nullptr;
    MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
    if (!ok) return false;
    std::string ini = rank == 0 ? on_root->ini : std::string();
    broadcast_string(comm, ini);
    config = rank == 0 ? *on_root : config::parse_ini_text(ini);
    broadcast_string(comm, options.output);
    broadcast_string(comm, options.petsc_options);
    int flags[8] = {options.overwrite, options.quiet, options.resume, options.retry_failed,
                    static_cast<int>(options.plan), static_cast<int>(options.shard), static_cast<int>(options.shards),
                    static_cast<int>(options.batch)};
    MPI_Bcast(flags, 8, MPI_INT, 0, comm);
    options.batch = static_cast<std::size_t>(flags[7]);
    options.shard = static_cast<std::uint32_t>(flags[5]);
    options.shards = static_cast<std::uint32_t>(flags[6]);
    options.overwrite = flags[0] != 0;
    options.quiet = flags[1] != 0;
    options.resume = flags[2] != 0;
    options.retry_failed = flags[3] != 0;
    options.plan = static_cast<OutputPlan>(flags[4]);
    if (rank != 0) options.log = nullptr;  // progress comes from rank 0 only
    return true;
}

std::string shard_label(const SweepOptions& options) {
    if (options.shards <= 1) return {};
    return std::to_string(options.shard) + "/" + std::to_string(options.shards);
}

void print_schedule(const config::Config& config, const SweepOptions& options, std::ostream& out) {
    const SweepGrid grid(config);
    const auto todo = tasks_to_do(grid, nullptr, options);
    double total = 0.0, largest = 0.0;
    std::map<std::string, std::pair<std::size_t, double>> per_method;
    char line[256];
    std::snprintf(line, sizeof line, "%6s %-6s %-44s %12s\n", "order", "method", "unit", "est_seconds");
    out << line;
    for (std::size_t k = 0; k < todo.size(); ++k) {
        const auto& task = grid.tasks()[static_cast<std::size_t>(todo[k].task)];
        const std::string method(model::name(task.method));
        std::snprintf(line, sizeof line, "%6zu %-6s %-44s %12.3g\n", k + 1, method.c_str(),
                      grid.describe(grid.unit(task.unit), task.method).c_str(), task.cost);
        out << line;
        total += task.cost;
        largest = std::max(largest, task.cost);
        per_method[method].first += 1;
        per_method[method].second += task.cost;
    }
    out << "# " << todo.size() << " units";
    if (options.shards > 1) out << " (shard " << shard_label(options) << " of " << grid.tasks().size() << ")";
    out << ":";
    for (const auto& [method, count] : per_method) {
        std::snprintf(line, sizeof line, " %s %zu (%.3g s)", method.c_str(), count.first, count.second);
        out << line;
    }
    std::snprintf(line, sizeof line,
                  "\n# estimated %.3g core-hours (%.3g s on one core of the development machine; scale by your "
                  "cores' speed); with W workers the makespan is about max(total / W, %.3g s)\n",
                  total / 3600.0, total, largest);
    out << line;
}

OutputPlan plan_output(const config::Config& config, const SweepOptions& options, std::string& note) {
    namespace fs = std::filesystem;
    const io::SweepJournal journal(options.output);
    auto checked_create = [&](bool overwrite) {
        try {
            io::ResultFile::check_can_create(options.output, overwrite);
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

SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const SweepGrid grid(config);
    const auto& tasks = grid.tasks();
    io::failpoint("starting");  // a stop requested before here must stop the sweep at once
    install_stop_handlers();  // again: PETSc, say, may have replaced them since
    std::ostream* log = options.quiet ? nullptr : options.log;

    // The journal exists before the file does, so whatever a crash leaves can be rebuilt.
    const io::SweepJournal journal(options.output);
    int run = 0;
    if (rank == 0) {
        if (options.plan == OutputPlan::create && journal.exists()) journal.remove();  // --force
        if (journal.config().empty()) journal.start(config.ini, options.petsc_options);
        run = journal.next_run();
    }
    MPI_Bcast(&run, 1, MPI_INT, 0, comm);
    io::JournalWriter journal_writer(journal, run, rank);

    auto layout = result_layout(grid);
    layout.shard = shard_label(options);
    layout.petsc_options = options.petsc_options;
    auto file = options.plan == OutputPlan::resume
                    ? io::ResultFile::open(comm, options.output, layout)
                    : io::ResultFile::create(comm, options.output, layout,
                                             options.overwrite || options.plan == OutputPlan::rebuild);
    std::size_t replayed = 0;
    std::vector<Assignment> todo;
    if (rank == 0) {
        if (options.plan != OutputPlan::create) replayed = replay_journal(grid, journal, file, log);
        todo = tasks_to_do(grid, options.plan == OutputPlan::create ? nullptr : &file, options);
    }
    Progress progress(grid, tasks, todo.size(), options);
    const auto batches = form_batches(grid, todo, options.batch);
    if (size == 1) {
        for (const auto& batch : batches) {
            if (stop_requested()) break;
            const auto reports = compute_and_write(grid, tasks, batch, file, journal_writer);
            for (const auto& report : reports) progress.record(report);
            if (reports.front().status == kAbandoned) break;
        }
    } else if (rank == 0) {
        master(comm, size, batches, progress);
    } else {
        worker(comm, grid, tasks, file, journal_writer);
    }
    io::failpoint("closing");
    file.close();
    auto summary = progress.finish();
    summary.replayed = replayed;
    // Every rank learns whether the sweep was interrupted, whoever received the signal; a request
    // that came when nothing was left to compute (rank 0 knows) interrupted nothing.
    int interrupted = summary.interrupted ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &interrupted, 1, MPI_INT, MPI_MAX, comm);
    if (rank == 0 && summary.pending == 0) interrupted = 0;
    MPI_Bcast(&interrupted, 1, MPI_INT, 0, comm);
    summary.interrupted = interrupted != 0;
    if (rank == 0) {
        summary.ended = summary.ended && !summary.interrupted;
        if (summary.ended) {
            sync_file(options.output);
            journal.remove();
        }
    }
    return summary;
}

}  // namespace dln::sweep
