#include "dln/sweep/sweep_runner.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <map>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "dln/io/result_file.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/unit_runner.hpp"

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
    double wall_seconds = 0.0;
};

// Raised by SIGUSR1, SIGTERM or SIGINT: what Slurm and a user send to end a job early. The
// master then hands out nothing more and the workers abandon the units in flight, so the file is
// closed consistently and the sweep can be resumed.
std::atomic<bool> g_stop{false};

extern "C" void request_stop(int) { g_stop.store(true); }

class SignalGuard {
public:
    SignalGuard() {
        g_stop.store(false);
        struct sigaction action {};
        action.sa_handler = request_stop;
        sigemptyset(&action.sa_mask);
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &previous_[i]);
    }
    ~SignalGuard() {
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
    }

private:
    static constexpr int kSignals[3] = {SIGUSR1, SIGTERM, SIGINT};
    struct sigaction previous_[3];
};

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
        const char* word = "done";
        switch (status) {
            case io::UnitStatus::diverged: ++summary_.diverged; word = "diverged"; break;
            case io::UnitStatus::failed: ++summary_.failed; word = "FAILED"; break;
            default: ++summary_.done; break;
        }
        if (!log_) return;
        const auto& task = tasks_[static_cast<std::size_t>(report.task)];
        const double elapsed = seconds();
        const double eta = elapsed / static_cast<double>(finished_) *
                           static_cast<double>(todo_ - finished_);
        char line[320];
        std::snprintf(line, sizeof line, "[%zu/%zu] %s %s: %s in %.2f s (elapsed %.1f s, eta %.0f s, failed %zu)\n",
                      finished_, todo_, grid_.config().methods[task.method].c_str(),
                      grid_.describe(grid_.unit(task.unit), grid_.config().methods[task.method]).c_str(), word, report.wall_seconds, elapsed,
                      eta, summary_.failed);
        *log_ << line << std::flush;
    }

    SweepSummary finish() {
        summary_.seconds = seconds();
        summary_.pending = todo_ - finished_;
        summary_.interrupted = g_stop.load();
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
    SweepSummary summary_;
};

Report compute_and_write(const SweepGrid& grid, const std::vector<Task>& tasks, std::size_t index,
                         io::ResultFile& file) {
    const Task& task = tasks[index];
    const auto& method = grid.config().methods[task.method];
    const auto& unit = grid.unit(task.unit);
    io::UnitRecord record;
    try {
        record = compute_unit(grid, unit, method, &g_stop);
    } catch (const sim::Cancelled&) {
        Report abandoned;
        abandoned.task = static_cast<std::int64_t>(index);
        abandoned.status = kAbandoned;
        return abandoned;
    } catch (const std::exception& e) {
        // One bad unit must not end a sweep of hundreds: record it as failed and go on.
        std::cerr << "dln: " << method << ' ' << grid.describe(unit, method) << " failed: " << e.what() << '\n';
        record = {};
        record.index = unit.index;
        record.status = io::UnitStatus::failed;
        record.values.assign(model::observable_count * grid.config().snapshots, std::nan(""));
        record.diverged_at = std::nan("");
    }
    file.write(method, record);
    Report done;
    done.task = static_cast<std::int64_t>(index);
    done.status = static_cast<std::int32_t>(record.status);
    done.wall_seconds = record.wall_seconds;
    return done;
}

void master(MPI_Comm comm, int size, const std::vector<std::size_t>& todo, Progress& progress) {
    std::size_t next = 0;
    int running = size - 1;
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
        Report report;
        MPI_Recv(&report, sizeof report, MPI_BYTE, status.MPI_SOURCE, kTagReport, comm, MPI_STATUS_IGNORE);
        if (report.task >= 0) progress.record(report);
        if (report.stopping) {  // the worker has left; it waits for nothing
            --running;
            continue;
        }
        std::int64_t task = -1;
        if (next < todo.size() && !g_stop.load()) {
            task = static_cast<std::int64_t>(todo[next++]);
        } else {
            --running;
        }
        MPI_Send(&task, 1, MPI_INT64_T, status.MPI_SOURCE, kTagTask, comm);
    }
}

void worker(MPI_Comm comm, const SweepGrid& grid, const std::vector<Task>& tasks, io::ResultFile& file) {
    Report report;
    while (true) {
        report.stopping = g_stop.load() ? 1 : 0;
        MPI_Send(&report, sizeof report, MPI_BYTE, 0, kTagReport, comm);
        if (report.stopping) return;
        std::int64_t task = -1;
        MPI_Recv(&task, 1, MPI_INT64_T, 0, kTagTask, comm, MPI_STATUS_IGNORE);
        if (task < 0) return;
        report = compute_and_write(grid, tasks, static_cast<std::size_t>(task), file);
    }
}

// The tasks still to compute: all of them, or on resume those not done or diverged (a failed
// unit is tried again). Read on rank 0 only, which hands them out.
std::vector<std::size_t> tasks_to_do(const SweepGrid& grid, const io::ResultFile* file) {
    const auto& tasks = grid.tasks();
    const auto& c = grid.config();
    std::map<std::string, std::vector<std::int8_t>> status;
    if (file) {
        for (const auto& method : c.methods) status[method] = file->read_status(method);
    }
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (file) {
            const auto& method = c.methods[tasks[i].method];
            const auto& unit = grid.unit(tasks[i].unit);
            const std::size_t where = method == "pde" ? unit.index[0] * c.alpha.size() + unit.index[2] : unit.id;
            const auto s = static_cast<io::UnitStatus>(status.at(method).at(where));
            if (s == io::UnitStatus::done || s == io::UnitStatus::diverged) continue;
        }
        todo.push_back(i);
    }
    return todo;
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
    int flags[3] = {options.overwrite, options.quiet, options.resume};
    MPI_Bcast(flags, 3, MPI_INT, 0, comm);
    options.overwrite = flags[0] != 0;
    options.quiet = flags[1] != 0;
    options.resume = flags[2] != 0;
    if (rank != 0) options.log = nullptr;  // progress comes from rank 0 only
    return true;
}

SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const SweepGrid grid(config);
    const auto& tasks = grid.tasks();
    const SignalGuard signals;

    auto file = options.resume ? io::ResultFile::open(comm, options.output, result_layout(grid))
                               : io::ResultFile::create(comm, options.output, result_layout(grid), options.overwrite);
    const auto todo = rank == 0 ? tasks_to_do(grid, options.resume ? &file : nullptr) : std::vector<std::size_t>{};
    Progress progress(grid, tasks, todo.size(), options);
    if (size == 1) {
        for (std::size_t i : todo) {
            if (g_stop.load()) break;
            const auto report = compute_and_write(grid, tasks, i, file);
            progress.record(report);
            if (report.status == kAbandoned) break;
        }
    } else if (rank == 0) {
        master(comm, size, todo, progress);
    } else {
        worker(comm, grid, tasks, file);
    }
    file.close();
    auto summary = progress.finish();
    // Every rank learns whether the sweep was interrupted, whoever received the signal.
    int interrupted = summary.interrupted ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &interrupted, 1, MPI_INT, MPI_MAX, comm);
    summary.interrupted = interrupted != 0;
    return summary;
}

}  // namespace dln::sweep
