#include "dln/sweep/sweep_runner.hpp"

#include <algorithm>
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

struct Report {
    std::int64_t task = -1;  // -1: the worker's first request
    std::int32_t status = 0;
    double wall_seconds = 0.0;
};

class Progress {
public:
    Progress(const SweepGrid& grid, const std::vector<Task>& tasks, const SweepOptions& options)
        : grid_(grid), tasks_(tasks), log_(options.quiet ? nullptr : options.log),
          start_(std::chrono::steady_clock::now()) {
        summary_.units = tasks.size();
    }

    void record(const Report& report) {
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
                           static_cast<double>(tasks_.size() - finished_);
        char line[320];
        std::snprintf(line, sizeof line, "[%zu/%zu] %s %s: %s in %.2f s (elapsed %.1f s, eta %.0f s, failed %zu)\n",
                      finished_, tasks_.size(), grid_.config().methods[task.method].c_str(),
                      grid_.describe(grid_.unit(task.unit), grid_.config().methods[task.method]).c_str(), word, report.wall_seconds, elapsed,
                      eta, summary_.failed);
        *log_ << line << std::flush;
    }

    SweepSummary finish() {
        summary_.seconds = seconds();
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
        record = compute_unit(grid, unit, method);
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
    return {static_cast<std::int64_t>(index), static_cast<std::int32_t>(record.status), record.wall_seconds};
}

void master(MPI_Comm comm, int size, const std::vector<Task>& tasks, Progress& progress) {
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
        std::int64_t task = -1;
        if (next < tasks.size()) {
            task = static_cast<std::int64_t>(next++);
        } else {
            --running;
        }
        MPI_Send(&task, 1, MPI_INT64_T, status.MPI_SOURCE, kTagTask, comm);
    }
}

void worker(MPI_Comm comm, const SweepGrid& grid, const std::vector<Task>& tasks, io::ResultFile& file) {
    Report report;
    while (true) {
        MPI_Send(&report, sizeof report, MPI_BYTE, 0, kTagReport, comm);
        std::int64_t task = -1;
        MPI_Recv(&task, 1, MPI_INT64_T, 0, kTagTask, comm, MPI_STATUS_IGNORE);
        if (task < 0) return;
        report = compute_and_write(grid, tasks, static_cast<std::size_t>(task), file);
    }
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
    int flags[2] = {options.overwrite, options.quiet};
    MPI_Bcast(flags, 2, MPI_INT, 0, comm);
    options.overwrite = flags[0] != 0;
    options.quiet = flags[1] != 0;
    if (rank != 0) options.log = nullptr;  // progress comes from rank 0 only
    return true;
}

SweepSummary run_sweep(MPI_Comm comm, const config::Config& config, const SweepOptions& options) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const SweepGrid grid(config);
    const auto& tasks = grid.tasks();
    Progress progress(grid, tasks, options);

    auto file = io::ResultFile::create(comm, options.output, result_layout(grid), options.overwrite);
    if (size == 1) {
        for (std::size_t i = 0; i < tasks.size(); ++i) progress.record(compute_and_write(grid, tasks, i, file));
    } else if (rank == 0) {
        master(comm, size, tasks, progress);
    } else {
        worker(comm, grid, tasks, file);
    }
    file.close();
    return progress.finish();
}

}  // namespace dln::sweep
