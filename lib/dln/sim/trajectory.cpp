#include "dln/sim/trajectory.hpp"

#include <cmath>

namespace dln::sim {

std::vector<double> snapshot_times(const RunSpec& run) {
    std::vector<double> t(run.snapshots);
    const double n = static_cast<double>(run.snapshots - 1);
    for (std::size_t j = 0; j < run.snapshots; ++j) t[j] = run.time * static_cast<double>(j) / n;
    if (!t.empty()) t.back() = run.time;
    return t;
}

std::uint64_t step_at(double t, std::size_t dim) {
    return static_cast<std::uint64_t>(std::llround(t * static_cast<double>(dim)));
}

}  // namespace dln::sim
