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

HandoutShape handout_shape(std::size_t batch, double unit_seconds, std::size_t units, std::size_t replicates,
                           std::size_t workers) {
    if (batch != kBatchAuto) return {std::max<std::size_t>(batch, 1), 1};
    const std::size_t by_cost = auto_batch(unit_seconds);
    if (!(unit_seconds < kColumnsFirstSeconds)) return {by_cost, 1};
    const std::size_t share = kHandoutsPerWorker * std::max<std::size_t>(workers, 1);
    const std::size_t size = std::max<std::size_t>(1, std::min(by_cost, (units + share - 1) / share));
    replicates = std::max<std::size_t>(replicates, 1);
    if (size >= replicates) return {size / replicates, replicates};
    return {1, size};
}

namespace {

// The part (0 .. parts-1) of index i when n indices are split into near-equal consecutive parts
// of at most `most` each: the first n % parts parts one longer.
struct Split {
    std::size_t n, parts;
    Split(std::size_t n_, std::size_t most) : n(n_), parts((n_ + most - 1) / most) {}
    std::size_t part(std::size_t i) const {
        const std::size_t small = n / parts, longer = n % parts;  // `longer` parts of small + 1
        if (i < longer * (small + 1)) return i / (small + 1);
        return longer + (i - longer * (small + 1)) / small;
    }
};

std::size_t rank_in(const std::vector<std::size_t>& sorted, std::size_t value) {
    return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), value) - sorted.begin());
}

}  // namespace

std::vector<std::vector<Assignment>> form_batches(const SweepGrid& grid, const std::vector<Assignment>& todo,
                                                  std::size_t batch_max, std::size_t workers) {
    const auto& tasks = grid.tasks();
    std::vector<std::vector<Assignment>> batches;
    std::map<std::size_t, std::vector<Assignment>> families;
    std::vector<std::size_t> family_order;
    for (const auto& a : todo) {
        const auto& task = tasks[static_cast<std::size_t>(a.task)];
        if (task.method != model::Method::sgd || batch_max == 1) {
            batches.push_back({a});
            continue;
        }
        const auto key = grid.family_key(grid.unit(task.unit));
        if (!families.count(key)) family_order.push_back(key);
        families[key].push_back(a);
    }
    for (const auto& key : family_order) {
        const auto& family = families[key];
        std::vector<std::size_t> points, replicates;
        for (const auto& a : family) {
            const auto& unit = grid.unit(tasks[static_cast<std::size_t>(a.task)].unit);
            points.push_back(grid.point_key(unit));
            replicates.push_back(grid.replicate(unit));
        }
        for (auto* v : {&points, &replicates}) {
            std::sort(v->begin(), v->end());
            v->erase(std::unique(v->begin(), v->end()), v->end());
        }
        const auto shape = handout_shape(batch_max, handout_cost(grid, family) / static_cast<double>(family.size()),
                                         family.size(), replicates.size(), workers);
        const Split by_point(points.size(), shape.points), by_replicate(replicates.size(), shape.replicates);
        // Block-major, replicate-minor: a block of points' hand-outs follow each other.
        std::vector<std::vector<Assignment>> blocks(by_point.parts * by_replicate.parts);
        for (const auto& a : family) {
            const auto& unit = grid.unit(tasks[static_cast<std::size_t>(a.task)].unit);
            const std::size_t p = by_point.part(rank_in(points, grid.point_key(unit)));
            const std::size_t r = by_replicate.part(rank_in(replicates, grid.replicate(unit)));
            blocks[p * by_replicate.parts + r].push_back(a);
        }
        for (auto& block : blocks) {
            if (!block.empty()) batches.push_back(std::move(block));
        }
    }
    std::stable_sort(batches.begin(), batches.end(), [&](const auto& x, const auto& y) {
        return handout_cost(grid, x) > handout_cost(grid, y);
    });
    return batches;
}

std::vector<std::vector<std::size_t>> lockstep_groups(const SweepGrid& grid, const std::vector<Assignment>& handout) {
    const auto& tasks = grid.tasks();
    std::vector<std::vector<std::size_t>> groups;
    std::map<std::size_t, std::size_t> where;  // batch_key -> its group
    for (std::size_t i = 0; i < handout.size(); ++i) {
        const auto& task = tasks[static_cast<std::size_t>(handout[i].task)];
        if (task.method != model::Method::sgd) {
            groups.push_back({i});
            continue;
        }
        const auto key = grid.batch_key(grid.unit(task.unit));
        const auto [it, added] = where.emplace(key, groups.size());
        if (added) groups.emplace_back();
        groups[it->second].push_back(i);
    }
    return groups;
}

}  // namespace dln::sweep
