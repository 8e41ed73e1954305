// Extending a finished sweep (`dln sweep --config BIG.ini --output NEW.h5 --from OLD.h5`): the
// rule that says which configurations extend which, and where each unit of the bigger grid is
// in the old file, as plain functions (no MPI, no files); and, on rank 0, the copy itself.
//
// Why a copy is a fresh run: a unit's trajectory is a pure function of its own axis values, the
// replicate index and the keys that are no axis (README "Reproducibility": the random numbers
// depend on run.seed, d, the replicate, the step and the position only; the PDE on its point
// alone). Adding values to an axis, or replicates (run.seeds: replicates 0 .. seeds - 1 keep
// their indices), changes none of that for the units the old grid had, so copying them is
// bitwise what computing them again would give. Changing any other key would not be.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "dln/config/config.hpp"
#include "dln/io/result_file.hpp"
#include "dln/sweep/sweep_grid.hpp"
#include "dln/sweep/sweep_options.hpp"
#include "dln/sweep/sweep_schedule.hpp"

namespace dln::sweep {

// Why `bigger` does not extend `old`: one entry per offending key, "key" or "key (what)", in the
// order of config::keys(); empty if it does. It extends old when every key is the same but for
// an axis (sweep.lr, sweep.dim, sweep.alpha, a [model] or [data] key) that holds every value it
// held in old (bit for bit; in any order, with any values added; a key of one value may become
// an axis that holds it), and run.seeds, which may grow. The same configuration extends itself.
std::vector<std::string> extension_refusals(const config::Config& old, const config::Config& bigger);

// Where the units of the bigger grid are in the old one, per method.
class CellMap {
public:
    static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    // old and bigger must pass extension_refusals (std::invalid_argument otherwise).
    CellMap(const SweepGrid& old, const SweepGrid& bigger);
    // The position in old's group of the method of the unit at `position` in bigger's group
    // (row-major over SweepGrid::method_axes), or none for a unit the old grid does not have.
    std::size_t old_position(model::Method method, std::size_t position) const;

private:
    const SweepGrid& old_;
    const SweepGrid& bigger_;
    // Per axis of bigger: its index on the old axis of the same key for each of its values
    // (none: a value old lacks); an axis that old does not have maps its value old had to 0.
    std::vector<std::vector<std::size_t>> to_old_;
    std::vector<std::size_t> old_axis_of_;  // per axis of old: the axis of bigger with its key
};

// The units of bigger whose results old holds (done or diverged), as the file of a resume would
// say them (status 1 or 2, failures 0; every other unit pending): old failed and pending units
// are left to compute. old_status: per method of old, ResultFile::read_status of its group.
UnitStates carried_states(const CellMap& map, const SweepGrid& bigger,
                          const std::map<model::Method, std::vector<std::int8_t>>& old_status);

// Rank 0, before any file is touched: throws config::ConfigError naming --from (or the keys)
// unless options.from is a readable, undamaged sweep file of this dln version (and, with a pde,
// of PETSC_OPTIONS that agree in every result-changing option) whose configuration `config`
// extends, and not the output itself.
void check_extension(const config::Config& config, const SweepOptions& options);

// Rank 0 (no MPI calls; the file is open on every rank): writes into file every unit of this
// shard that options.from holds done or diverged and that status (per method, the file's)
// says is pending, copied exactly (io::read_unit_records), and marks it in status. Returns how
// many units it copied. OLD is opened read-only.
std::size_t copy_from_old(const SweepGrid& grid, const SweepOptions& options, io::ResultFile& file,
                          std::map<model::Method, std::vector<std::int8_t>>& status);

// The states of the units of this sweep as options.from would leave them (carried_states), read
// from the file: what --dry-run counts out.
UnitStates states_from_old(const SweepGrid& grid, const SweepOptions& options);

}  // namespace dln::sweep
