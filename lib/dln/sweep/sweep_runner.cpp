// The sweep's driver: the master's loop, the worker's loop (ask ahead, compute, commit in
// groups) and the one-rank loop. The schedule (sweep_schedule.hpp), the output plan
// (output_plan.hpp) and the messages (sweep_protocol.hpp) are apart, each testable alone.
#include "dln/sweep/sweep_runner.hpp"

#include "dln/config/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
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
#include "dln/sweep/sweep_extension.hpp"
#include "dln/sweep/run_provenance.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/sweep_protocol.hpp"
#include "dln/sweep/sweep_schedule.hpp"
#include "dln/sweep/stop_request.hpp"
#include "dln/sweep/unit_runner.hpp"
#include "dln/version.hpp"

namespace dln::sweep {
namespace {

using Task = SweepGrid::Task;
using protocol::Report;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Progress {
public:
    Progress(const SweepGrid& grid, const std::vector<Task>& tasks, std::size_t todo, const SweepOptions& options)
        : grid_(grid), tasks_(tasks), log_(options.quiet ? nullptr : options.log),
          start_(std::chrono::steady_clock::now()), todo_(todo) {
        summary_.units = todo;
    }

    void record(const protocol::Report& report) {
        if (report.status == protocol::kAbandoned) {
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

// A hand-out computed, one lockstep group (one replicate) after another: its records in hand-out
// order, or nothing if a stop request abandoned it. One bad unit must not end a sweep of
// hundreds: a unit (or a lockstep group) that throws is recorded as failed and the sweep goes on.
std::optional<std::vector<io::UnitRecord>> compute(const SweepGrid& grid, const std::vector<Assignment>& handout) {
    const auto& tasks = grid.tasks();
    std::vector<io::UnitRecord> records(handout.size());
    std::vector<const WorkUnit*> units;
    for (const auto& group : lockstep_groups(grid, handout)) {
        const auto method = tasks[static_cast<std::size_t>(handout[group.front()].task)].method;
        units.clear();
        for (const std::size_t i : group) units.push_back(&grid.unit(tasks[static_cast<std::size_t>(handout[i].task)].unit));
        try {
            if (units.size() == 1) {
                records[group.front()] = compute_unit(grid, *units.front(), method, &stop_flag());
            } else {
                auto computed = compute_sgd_batch(grid, units, &stop_flag());
                for (std::size_t m = 0; m < group.size(); ++m) records[group[m]] = std::move(computed[m]);
            }
        } catch (const sim::Cancelled&) {
            return std::nullopt;
        } catch (const std::exception& e) {
            for (std::size_t m = 0; m < group.size(); ++m) {
                records[group[m]] = failed_record(grid, *units[m], method, e.what());
            }
        }
        for (std::size_t m = 0; m < group.size(); ++m) {
            auto& record = records[group[m]];
            if (record.status == io::UnitStatus::failed) {
                record.failures =
                    static_cast<std::int8_t>(std::min<std::int64_t>(handout[group[m]].failures + 1, 127));
                config::print_line(std::cerr, "dln: " + std::string(model::name(method)) + ' ' + grid.describe(*units[m], method) +
                                                  " failed: " + record.message);
            }
            // The worker that computed it says so, once; the master counts it in the summary.
            if (!record.warning.empty()) config::print_line(std::cerr, "dln sweep: warning: " + record.warning);
        }
    }
    return records;
}

// Group commit. Finished units wait here until flush(), which makes them durable in the journal
// with one fdatasync, then reports them (only units on disk are ever reported done), then writes
// them into the file in one write per dataset. The journal comes first, so a unit in the file is
// always in the journal too, and a crash anywhere loses nothing that was reported.
class Committer {
public:
    using Sink = std::function<void(std::vector<Report>&)>;
    Committer(const SweepGrid& grid, io::ResultFile& file, io::JournalWriter& journal, Sink sink)
        : grid_(grid), file_(file), journal_(journal), sink_(std::move(sink)) {}

    void add(std::span<const Assignment> batch, std::vector<io::UnitRecord>& records) {
        if (reports_.empty()) first_ = Clock::now();
        const auto method = grid_.tasks()[static_cast<std::size_t>(batch.front().task)].method;
        const std::string group(model::name(method));
        auto& pending = records_[group];
        for (std::size_t i = 0; i < batch.size(); ++i) {
            journal_.add(group, records[i]);
            Report done;
            done.task = batch[i].task;
            done.status = static_cast<std::int32_t>(records[i].status);
            done.failures = records[i].failures;
            done.unmet = records[i].warning.empty() ? 0 : 1;
            done.wall_seconds = records[i].wall_seconds;
            reports_.push_back(done);
            pending.push_back(std::move(records[i]));
        }
        units_ += batch.size();
    }
    bool pending() const { return !reports_.empty(); }
    std::size_t size() const { return reports_.size(); }
    double age() const { return pending() ? seconds_since(first_) : 0.0; }

    void flush() {
        if (reports_.empty()) return;
        journal_.commit();
        io::failpoint("journaled");
        sink_(reports_);
        for (auto& [group, records] : records_) {
            if (!records.empty()) file_.write_many(group, records);
            records.clear();
        }
        reports_.clear();
    }
    std::size_t units() const { return units_; }

private:
    const SweepGrid& grid_;
    io::ResultFile& file_;
    io::JournalWriter& journal_;
    Sink sink_;
    std::vector<Report> reports_;
    std::map<std::string, std::vector<io::UnitRecord>> records_;
    Clock::time_point first_;
    std::size_t units_ = 0;
};

// The most finished units a worker keeps before it commits them, whatever the time.
constexpr std::size_t kCommitUnits = 8192;

// Whether to commit what is pending before computing a hand-out that should take `cost`
// seconds: when waiting for it would leave the pending units unreported beyond the bound.
bool commit_before(const Committer& c, double cost, const SweepOptions& options) {
    return c.pending() && c.age() + cost > options.commit_seconds;
}
bool commit_after(const Committer& c, const SweepOptions& options) {
    return c.pending() && (c.age() >= options.commit_seconds || c.size() >= kCommitUnits);
}

// A worker asks ahead for hand-outs worth about this many estimated seconds (at least one, at
// most kPrefetchMax), so it never waits for the master between them.
constexpr double kPrefetchSeconds = 0.005;
constexpr std::size_t kPrefetchMax = 64;

void master(MPI_Comm comm, int size, const std::vector<std::vector<Assignment>>& batches, Progress& progress) {
    std::size_t next = 0;
    int running = size - 1;
    const std::size_t workers = static_cast<std::size_t>(size - 1);
    std::size_t unreported = 0;  // units not yet reported, handed out or not
    for (const auto& b : batches) unreported += b.size();
    // Per worker: hand-outs asked for and not yet answered, and units handed out and not yet
    // reported. A worker that holds units gets more only while it holds under half its fair
    // share of what is left, so asking ahead never leaves another worker idle at the end; one
    // that holds none always gets one, so every request is answered in the end.
    struct Worker {
        std::int32_t wants = 0;
        std::size_t held = 0;
    };
    std::vector<Worker> state(static_cast<std::size_t>(size));
    static const std::vector<Assignment> none;
    protocol::HandoutOutbox outbox;
    auto serve = [&](int w) {
        auto& s = state[static_cast<std::size_t>(w)];
        while (s.wants > 0) {
            if (next < batches.size() && !stop_requested()) {
                const std::size_t fair = unreported / (2 * workers);
                if (s.held > 0 && s.held + batches[next].size() > fair) return;  // later, after its reports
                outbox.send(comm, w, batches[next]);
                s.held += batches[next].size();
                ++next;
            } else {
                outbox.send(comm, w, none);
            }
            --s.wants;
        }
    };
    protocol::WorkerMessage message;
    // While messages arrive the master takes them one after another; when none is waiting it
    // sleeps, a little longer each time up to 1 ms, which keeps it off the CPU (on N cores, N
    // workers and the master share them without loss). The workers ask ahead, so the master's
    // wake-up latency is hidden behind the hand-outs they hold.
    auto nap = std::chrono::microseconds(20);
    while (running > 0) {
        // A stop answers every request still deferred by the fair share: a stopping worker waits
        // for those answers and may send nothing more that would make the master serve it.
        if (stop_requested()) {
            for (int w = 1; w < size; ++w) serve(w);
        }
        int source = 0;
        if (!protocol::receive(comm, message, source, false)) {
            std::this_thread::sleep_for(nap);
            nap = std::min(nap * 2, std::chrono::microseconds(1000));
            continue;
        }
        nap = std::chrono::microseconds(20);
        auto& s = state[static_cast<std::size_t>(source)];
        for (const auto& report : message.reports) {
            progress.record(report);
            s.held -= std::min<std::size_t>(s.held, 1);
            unreported -= std::min<std::size_t>(unreported, 1);
        }
        s.wants += message.want;
        serve(source);
        if (message.leaving) --running;
    }
}

void worker(MPI_Comm comm, const SweepGrid& grid, io::ResultFile& file, io::JournalWriter& journal,
            const SweepOptions& options, std::size_t& units) {
    Committer committer(grid, file, journal, [&](std::vector<Report>& reports) {
        protocol::WorkerMessage m;
        m.reports = reports;
        protocol::send(comm, m);
    });
    std::deque<std::vector<Assignment>> queue;
    std::size_t outstanding = 0;  // asked for, not yet received
    bool ended = false;           // the master has no more work
    auto ask = [&](std::size_t n) {
        if (n == 0 || ended) return;
        protocol::WorkerMessage m;
        m.want = static_cast<std::int32_t>(n);
        protocol::send(comm, m);
        outstanding += n;
    };
    auto take = [&] {
        auto handout = protocol::receive_handout(comm);
        --outstanding;
        if (handout.empty()) {
            ended = true;
        } else {
            queue.push_back(std::move(handout));
        }
    };
    std::vector<Report> abandoned;
    ask(2);
    while (true) {
        while (outstanding > 0 && protocol::handout_waiting(comm)) take();
        if (stop_requested()) break;
        if (queue.empty()) {
            if (ended && outstanding == 0) break;
            committer.flush();  // nothing to do until the master answers: report what is done
            take();
            continue;
        }
        auto handout = std::move(queue.front());
        queue.pop_front();
        const double cost = handout_cost(grid, handout);
        if (!ended) {  // ask ahead before computing and writing
            const double want = cost > 0.0 ? std::ceil(kPrefetchSeconds / cost) : static_cast<double>(kPrefetchMax);
            const std::size_t slots = std::clamp<std::size_t>(static_cast<std::size_t>(std::min(want, 1e6)), 1, kPrefetchMax);
            const std::size_t held = queue.size() + outstanding;
            if (held < slots) ask(slots - held);
        }
        if (commit_before(committer, cost, options)) committer.flush();
        auto records = compute(grid, handout);
        if (!records) {
            for (const auto& a : handout) abandoned.push_back({a.task, protocol::kAbandoned});
            break;
        }
        committer.add(handout, *records);
        if (commit_after(committer, options)) committer.flush();
    }
    committer.flush();  // what finished before a stop is kept and reported
    units = committer.units();
    // Every hand-out asked for is answered: receive them (a stopping worker computes none), then leave.
    while (outstanding > 0) take();
    protocol::WorkerMessage leaving;
    leaving.leaving = true;
    leaving.stopping = stop_requested();
    leaving.reports = std::move(abandoned);
    protocol::send(comm, leaving);
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

// This run for the file's provenance (run_provenance.hpp): what the output plan makes of it.
io::RunRecord this_run_record(MPI_Comm comm, const SweepOptions& options, const io::ResultLayout& layout) {
    const bool extends = options.plan == OutputPlan::create && !options.from.empty();
    const char* kind = options.plan == OutputPlan::resume    ? "resume"
                       : options.plan == OutputPlan::rebuild ? "rebuild"
                       : extends                             ? "extend"
                                                             : "start";
    auto record = start_run_record(comm, kind, layout.shard);
    if (extends) record.from = options.from;
    return record;
}

// The runs a damaged file still shows (its attributes often survive a crash that tore its data),
// to carry into the file rebuilt from the journal; none if it shows none.
std::vector<io::RunRecord> runs_of_damaged(const std::string& path) {
    try {
        return io::read_provenance(path).runs;
    } catch (const std::exception&) {
        return {};
    }
}

const char* run_outcome(const SweepSummary& summary) {
    return summary.ended ? "complete" : summary.interrupted ? "stopped" : "incomplete";
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
    std::string fields = rank == 0 ? protocol::encode_options(options) : std::string();
    broadcast_string(comm, fields);
    if (rank != 0) {
        protocol::decode_options(fields, options);
        options.log = nullptr;  // progress comes from rank 0 only
    }
    return true;
}

void print_schedule(const config::Config& config, const SweepOptions& options, std::ostream& out) {
    const SweepGrid grid(config);
    std::optional<UnitStates> carried;
    if (!options.from.empty()) carried = states_from_old(grid, options);
    const auto todo = tasks_to_do(grid, carried ? &*carried : nullptr, options);
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
    if (carried) out << " (the others are copied from " << options.from << ")";
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
    layout.alignment = options.stripe_size;
    // The runs the new file carries first: a damaged file's (it is rebuilt), or an extension's old
    // file's (they computed the units it copies).
    std::vector<io::RunRecord> earlier_runs;
    if (rank == 0 && options.plan == OutputPlan::rebuild) earlier_runs = runs_of_damaged(options.output);
    if (rank == 0 && options.plan == OutputPlan::create && !options.from.empty())
        earlier_runs = io::read_provenance(options.from).runs;
    if (options.plan != OutputPlan::resume) {
        io::ResultFile::create(comm, options.output, layout, options.overwrite || options.plan == OutputPlan::rebuild)
            .close();
    }
    const int run_number =
        record_run_start(comm, options.output, this_run_record(comm, options, layout), std::cerr, earlier_runs,
                         options.plan == OutputPlan::create && !options.from.empty());
    auto file = io::ResultFile::open(comm, options.output, layout);
    if (rank == 0) io::ResultFile::hold(options.output);  // the file made (or rebuilt): a second sweep on it is refused
    std::size_t replayed = 0, copied = 0;
    std::vector<Assignment> todo;
    if (rank == 0) {
        if (options.plan != OutputPlan::create) replayed = replay_journal(grid, journal, file, log);
        std::optional<UnitStates> states;
        if (options.plan != OutputPlan::create || !options.from.empty()) {
            states.emplace();
            for (const auto method : config.methods) {
                states->status[method] = file.read_status(std::string(model::name(method)));
                states->failures[method] = file.read_failures(std::string(model::name(method)));
            }
        }
        // An extension: what the old file holds is copied, not computed. The copy is not
        // journaled: a crash that loses part of it costs only time, since a resume with --from
        // copies it again (the old file does not change), and one without computes those units,
        // which gives the same bits.
        if (!options.from.empty()) {
            copied = copy_from_old(grid, options, file, states->status);
            if (log) *log << "dln sweep: copied " << copied << " units from " << options.from << '\n' << std::flush;
        }
        todo = tasks_to_do(grid, states ? &*states : nullptr, options);
    }
    Progress progress(grid, tasks, todo.size(), options);
    const auto batches = form_batches(grid, todo, options.batch, static_cast<std::size_t>(std::max(size - 1, 1)));
    std::size_t units = 0;  // computed by this rank
    if (size == 1) {
        Committer committer(grid, file, journal_writer, [&](std::vector<Report>& reports) {
            for (const auto& report : reports) progress.record(report);
        });
        for (const auto& batch : batches) {
            if (stop_requested()) break;
            if (commit_before(committer, handout_cost(grid, batch), options)) committer.flush();
            auto records = compute(grid, batch);
            if (!records) {
                for (const auto& a : batch) progress.record({a.task, protocol::kAbandoned});
                break;
            }
            committer.add(batch, *records);
            if (commit_after(committer, options)) committer.flush();
        }
        committer.flush();
        units = committer.units();
    } else if (rank == 0) {
        master(comm, size, batches, progress);
    } else {
        worker(comm, grid, file, journal_writer, options, units);
    }
    if (std::getenv("DLN_IO_STATS") != nullptr) {
        std::fprintf(stderr, "dln sweep: io stats rank %d units %zu syncs %zu writes %zu\n", rank, units,
                     io::journal_syncs(), io::hdf5_write_calls());
    }
    io::failpoint("closing");
    file.close();
    auto summary = progress.finish();
    summary.replayed = replayed;
    summary.copied = copied;
    // Every rank learns whether the sweep was interrupted, whoever received the signal; a request
    // that came when nothing was left to compute (rank 0 knows) interrupted nothing.
    int interrupted = summary.interrupted ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &interrupted, 1, MPI_INT, MPI_MAX, comm);
    if (rank == 0 && summary.pending == 0) interrupted = 0;
    MPI_Bcast(&interrupted, 1, MPI_INT, 0, comm);
    summary.interrupted = interrupted != 0;
    if (rank == 0) {
        summary.ended = summary.ended && !summary.interrupted;
        record_run_end(options.output, run_number, run_outcome(summary), std::cerr);
        if (summary.ended) {
            sync_file(options.output);
            journal.remove();
        }
    }
    return summary;
}

}  // namespace dln::sweep
