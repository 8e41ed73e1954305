#include "dln/sweep/sweep_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace dln::sweep {

std::string shard_label(const SweepOptions& options) {
    if (options.shards <= 1) return {};
    return std::to_string(options.shard) + "/" + std::to_string(options.shards);
}

std::vector<Assignment> tasks_to_do(const SweepGrid& grid, const UnitStates* states, const SweepOptions& options) {
    const auto& tasks = grid.tasks();
    std::vector<Assignment> todo;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (i % options.shards != options.shard - 1) continue;  // another shard's
        Assignment assignment{static_cast<std::int64_t>(i), 0};
        if (states) {
            const auto method = tasks[i].method;
            const std::size_t where = grid.position(method, grid.unit(tasks[i].unit));
            const auto s = static_cast<int>(states->status.at(method).at(where));
            assignment.failures = states->failures.at(method).at(where);
            if (s == 1 || s == 2) continue;  // io::UnitStatus done, diverged
            if (s == 3 && assignment.failures >= kAttempts && !options.retry_failed) continue;  // failed
        }
        todo.push_back(assignment);
    }
    return todo;
}

std::size_t auto_batch(double unit_seconds) {
    if (!(unit_seconds > 0.0)) return kBatchMax;
    const double wanted = std::ceil(kAutoBatchSeconds / unit_seconds);
    if (wanted >= static_cast<double>(kBatchMax)) return kBatchMax;
    return std::max(kAutoBatchMin, static_cast<std::size_t>(wanted));
}

double handout_cost(const SweepGrid& grid, const std::vector<Assignment>& handout) {
    double c = 0.0;
    for (const auto& a : handout) c += grid.tasks()[static_cast<std::size_t>(a.task)].cost;
    return c;
}

std::vector<std::vector<Assignment>> form_batches(const SweepGrid& grid, const std::vector<Assignment>& todo,
                                                  std::size_t batch_max) {
    const auto& tasks = grid.tasks();
    std::vector<std::vector<Assignment>> batches;
    // Keyed by the unit with lr and alpha at their first values: one dim, model, data and replicate.
    std::map<std::size_t, std::vector<Assignment>> groups;
    std::vector<std::size_t> group_order;
    for (const auto& a : todo) {
        const auto& task = tasks[static_cast<std::size_t>(a.task)];
        if (task.method != model::Method::sgd || batch_max == 1) {
            batches.push_back({a});
            continue;
        }
        const auto key = grid.batch_key(grid.unit(task.unit));
        if (!groups.count(key)) group_order.push_back(key);
        groups[key].push_back(a);
    }
    for (const auto& key : group_order) {
        const auto& group = groups[key];
        std::size_t most = batch_max;
        if (most == kBatchAuto) most = auto_batch(handout_cost(grid, group) / static_cast<double>(group.size()));
        const std::size_t count = (group.size() + most - 1) / most;
        std::size_t begin = 0;
        for (std::size_t b = 0; b < count; ++b) {
            const std::size_t size = group.size() / count + (b < group.size() % count ? 1 : 0);
            batches.emplace_back(group.begin() + static_cast<std::ptrdiff_t>(begin),
                                 group.begin() + static_cast<std::ptrdiff_t>(begin + size));
            begin += size;
        }
    }
    std::stable_sort(batches.begin(), batches.end(), [&](const auto& x, const auto& y) {
        return handout_cost(grid, x) > handout_cost(grid, y);
    });
    return batches;
}

}  // namespace dln::sweep
