#include "dln/sweep/sweep_extension.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "dln/config/axis.hpp"
#include "dln/io/result_read.hpp"
#include "dln/sweep/petsc_options.hpp"
#include "dln/sweep/unit_runner.hpp"
#include "dln/version.hpp"

namespace po = boost::program_options;

namespace dln::sweep {
namespace {

// The values of a key in a configuration: its axis, or its one value as the resolved text has it
// (a key of one value is no axis; whether it is a number is known only from its text then).
struct KeyValues {
    bool categorical = false, known_kind = false;
    std::vector<std::optional<double>> numbers;  // nullopt: not a number
    std::vector<std::string> labels;
};

// The value of a key in a resolved configuration's INI text, read with the key table's options
// (config::config_options), as config::differing_keys reads it.
std::string key_text(const std::string& ini, const std::string& key) {
    std::istringstream in(ini);
    const auto desc = config::config_options();
    po::variables_map vm;
    po::store(po::parse_config_file(in, desc, false), vm);
    if (vm.count(key)) return config::trim(vm[key].as<std::string>());
    for (const auto& k : config::keys()) {
        if (key == k.name) return k.default_value;
    }
    return {};
}

KeyValues key_values(const config::Config& c, const std::string& key) {
    KeyValues out;
    for (const auto& axis : c.axes) {
        if (axis.key != key) continue;
        out.categorical = axis.categorical;
        out.known_kind = true;
        out.labels = axis.labels;
        for (double x : axis.values) out.numbers.emplace_back(x);
        return out;
    }
    const std::string text = key_text(c.ini, key);
    out.labels.push_back(text);
    try {
        out.numbers.emplace_back(config::parse_number(text));
    } catch (const std::invalid_argument&) {
        out.numbers.emplace_back(std::nullopt);
    }
    return out;
}

// Whether value i of a and value j of b are one value: the same name, or bit for bit the same
// number (what the computation sees), never merely numbers that print alike.
bool same_value(const KeyValues& a, std::size_t i, const KeyValues& b, std::size_t j) {
    const bool categorical = (a.known_kind && a.categorical) || (b.known_kind && b.categorical);
    if (!categorical && a.numbers[i] && b.numbers[j]) {
        return std::bit_cast<std::uint64_t>(*a.numbers[i]) == std::bit_cast<std::uint64_t>(*b.numbers[j]);
    }
    return a.labels[i] == b.labels[j];
}

std::size_t find_value(const KeyValues& in, const KeyValues& of, std::size_t i) {
    for (std::size_t j = 0; j < in.labels.size(); ++j) {
        if (same_value(of, i, in, j)) return j;
    }
    return CellMap::none;
}

// The shortest text that reads back as the same double: a dropped 0.30000000000000004 must not
// show as 0.3.
std::string exact(double x) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
    return std::string(buffer, end);
}

bool is_axis_key(const std::string& key) {
    if (key == "sweep.lr" || key == "sweep.dim" || key == "sweep.alpha") return true;
    const auto& model_keys = config::axis_keys();
    return std::find(model_keys.begin(), model_keys.end(), key) != model_keys.end();
}

}  // namespace

std::vector<std::string> extension_refusals(const config::Config& old, const config::Config& bigger) {
    std::vector<std::string> refusals;
    for (const auto& key : config::differing_keys(old.ini, bigger.ini)) {
        if (key == "run.seeds") {
            if (bigger.seeds < old.seeds) {
                refusals.push_back(key + " (" + std::to_string(old.seeds) + " -> " + std::to_string(bigger.seeds) +
                                   ": replicates can be added, not removed)");
            }
            continue;
        }
        if (!is_axis_key(key)) {
            refusals.push_back(key);
            continue;
        }
        const auto a = key_values(old, key), b = key_values(bigger, key);
        if (!a.known_kind && !b.known_kind) {  // one value each: "0.10" is 0.1
            if (!same_value(a, 0, b, 0)) refusals.push_back(key + " (" + a.labels.front() + " -> " + b.labels.front() + ")");
            continue;
        }
        std::string dropped;
        for (std::size_t i = 0; i < a.labels.size(); ++i) {
            if (find_value(b, a, i) != CellMap::none) continue;
            const bool number = a.numbers[i] && !(a.known_kind && a.categorical);
            dropped += (dropped.empty() ? "" : ", ") + (number ? exact(*a.numbers[i]) : a.labels[i]);
        }
        if (!dropped.empty()) refusals.push_back(key + " (drops " + dropped + ")");
    }
    return refusals;
}

CellMap::CellMap(const SweepGrid& old, const SweepGrid& bigger) : old_(old), bigger_(bigger) {
    if (!extension_refusals(old.config(), bigger.config()).empty()) {
        throw std::invalid_argument("CellMap: the configuration does not extend the old one");
    }
    const auto& axes = bigger.config().axes;
    const auto& old_axes = old.config().axes;
    for (const auto& axis : axes) {
        const auto b = key_values(bigger.config(), axis.key), a = key_values(old.config(), axis.key);
        std::vector<std::size_t> to(axis.size());
        for (std::size_t i = 0; i < to.size(); ++i) to[i] = find_value(a, b, i);
        to_old_.push_back(std::move(to));
    }
    for (const auto& axis : old_axes) {
        const auto at = std::find_if(axes.begin(), axes.end(), [&](const auto& x) { return x.key == axis.key; });
        if (at == axes.end()) throw std::invalid_argument("CellMap: the axis " + axis.key + " is gone");
        old_axis_of_.push_back(static_cast<std::size_t>(at - axes.begin()));
    }
}

std::size_t CellMap::old_position(model::Method method, std::size_t position) const {
    const auto& unit = bigger_.unit_at(method, position);
    // An axis of the bigger grid only: the old grid had one of its values (index 0 of to_old_).
    for (std::size_t k : bigger_.method_axes(method)) {
        if (to_old_[k][bigger_.index(unit, k)] == none) return none;
    }
    std::size_t q = 0;
    for (std::size_t k : old_.method_axes(method)) {
        const std::size_t j = to_old_[old_axis_of_[k]][bigger_.index(unit, old_axis_of_[k])];
        q = q * old_.config().axes[k].size() + j;
    }
    return q;
}

UnitStates carried_states(const CellMap& map, const SweepGrid& bigger,
                          const std::map<model::Method, std::vector<std::int8_t>>& old_status) {
    UnitStates states;
    for (const auto method : bigger.config().methods) {
        const std::size_t units = bigger.method_units(method);
        auto& status = states.status[method];
        status.assign(units, static_cast<std::int8_t>(io::UnitStatus::pending));
        states.failures[method].assign(units, 0);
        const auto& old = old_status.at(method);
        for (std::size_t p = 0; p < units; ++p) {
            const std::size_t q = map.old_position(method, p);
            if (q == CellMap::none) continue;
            const auto s = static_cast<io::UnitStatus>(old.at(q));
            if (s == io::UnitStatus::done || s == io::UnitStatus::diverged) status[p] = old[q];
        }
    }
    return states;
}

void check_extension(const config::Config& config, const SweepOptions& options) {
    namespace fs = std::filesystem;
    if (options.from.empty()) return;
    const std::string& from = options.from;
    std::error_code ec;
    if (fs::exists(options.output, ec) && fs::equivalent(from, options.output, ec)) {
        throw config::ConfigError("--from", "'" + from + "' is also the output; an extension writes a new file "
                                            "and never modifies the old one");
    }
    io::FileSummary stored;
    try {
        stored = io::summarize(from);
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError("--from", e.what());
    }
    // Another version may draw other random numbers: its units are not this dln's fresh run.
    if (stored.version != version) {
        throw config::ConfigError("--from", "'" + from + "' was written by dln " + stored.version + ", this is dln " +
                                                version + ", whose results may differ; it cannot be extended");
    }
    if (config.has_method(model::Method::pde) &&
        result_petsc_options(stored.petsc_options) != result_petsc_options(options.petsc_options)) {
        throw config::ConfigError("--from", "'" + from + "' was computed with PETSC_OPTIONS " +
                                                show_petsc_options(stored.petsc_options) + ", this run has PETSC_OPTIONS " +
                                                show_petsc_options(options.petsc_options) +
                                                "; they differ in options that change results: extend with the same");
    }
    std::optional<config::Config> old;
    try {
        old = config::parse_ini_text(stored.config);
    } catch (const config::ConfigError& e) {
        throw config::ConfigError("--from", "'" + from + "' holds a configuration this dln rejects (" + e.what() + ")");
    }
    const auto refusals = extension_refusals(*old, config);
    if (!refusals.empty()) {
        std::string list;
        for (const auto& r : refusals) list += (list.empty() ? "" : ", ") + r;
        throw config::ConfigError("--from", "this configuration does not extend '" + from + "': " + list +
                                                " differ; an extension may only add values to sweep axes (sweep.lr, "
                                                "sweep.dim, sweep.alpha, [model] and [data] keys) and raise run.seeds");
    }
    try {
        io::ResultFile::check_layout(from, result_layout(SweepGrid(*old)));
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError("--from", e.what());
    }
}

namespace {

struct OldSweep {
    config::Config config;
    std::map<model::Method, std::vector<std::int8_t>> status;
};

OldSweep read_old(const std::string& from) {
    OldSweep old{config::parse_ini_text(io::summarize(from).config), {}};
    for (const auto method : old.config.methods) {
        const auto values = io::read_unit_field(from, std::string(model::name(method)), "status");
        auto& status = old.status[method];
        for (double v : values) status.push_back(static_cast<std::int8_t>(v));
    }
    return old;
}

}  // namespace

UnitStates states_from_old(const SweepGrid& grid, const SweepOptions& options) {
    const auto old = read_old(options.from);
    const SweepGrid old_grid(old.config);
    return carried_states(CellMap(old_grid, grid), grid, old.status);
}

std::size_t copy_from_old(const SweepGrid& grid, const SweepOptions& options, io::ResultFile& file,
                          std::map<model::Method, std::vector<std::int8_t>>& status) {
    const auto old = read_old(options.from);
    const SweepGrid old_grid(old.config);
    const CellMap map(old_grid, grid);
    const auto carried = carried_states(map, grid, old.status);
    const auto old_layout = result_layout(old_grid);
    // Per method, old position -> new position of the units to copy: this shard's, pending here.
    std::map<model::Method, std::map<std::size_t, std::size_t>> wanted;
    for (const auto& a : tasks_to_do(grid, nullptr, options)) {
        const auto& task = grid.tasks()[static_cast<std::size_t>(a.task)];
        const std::size_t p = grid.position(task.method, grid.unit(task.unit));
        if (carried.status.at(task.method)[p] == 0 || status.at(task.method).at(p) != 0) continue;
        wanted[task.method][map.old_position(task.method, p)] = p;
    }
    std::size_t copied = 0;
    constexpr std::size_t kUnitsPerWrite = 4096;  // bounds the memory of the records in flight
    for (const auto& [method, positions] : wanted) {
        const std::string group(model::name(method));
        std::vector<std::size_t> from;
        for (const auto& [q, p] : positions) from.push_back(q);
        for (std::size_t begin = 0; begin < from.size(); begin += kUnitsPerWrite) {
            const std::size_t n = std::min(kUnitsPerWrite, from.size() - begin);
            auto records = io::read_unit_records(options.from, old_layout, group,
                                                 std::span<const std::size_t>(from.data() + begin, n));
            for (auto& r : records) {
                if (r.status != io::UnitStatus::done && r.status != io::UnitStatus::diverged) {
                    throw std::runtime_error("'" + options.from + "' changed while it was being copied");
                }
                r.position = positions.at(r.position);
                status.at(method)[r.position] = static_cast<std::int8_t>(r.status);
            }
            file.write_many(group, records);
            copied += records.size();
        }
    }
    return copied;
}

}  // namespace dln::sweep
