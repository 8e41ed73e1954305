// The one description of every configuration key. A key `section.key` of an INI sweep file is
// also the command-line option `--section.key=value`; the command line wins over the file, and
// every key has a default, so an empty configuration is a sensible run.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

#include "dln/model/data_model.hpp"
#include "dln/model/method.hpp"
#include "dln/model/parametrization.hpp"

namespace dln::config {

// Text a user gave, made fit for one line of a message: control characters and bytes that are
// not UTF-8 as \xNN, and at most max_bytes bytes (a cut marked "..."), never inside a character.
std::string one_line(const std::string& text, std::size_t max_bytes = 400);

// Writes line and a newline to out in one call, then flushes. std::cerr is unit-buffered, so
// `cerr << a << b` is one write(2) per part, and under mpirun the parts of one rank's message were
// seen interleaved with another process's output (Open MPI's MPI_ABORT notice, in a CI run of
// e2e: full_disk). One write keeps a message whole.
void print_line(std::ostream& out, const std::string& line);

// A configuration error: what() is one line naming the key and the reason, whatever bytes the
// input held (one_line).
class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string& key, const std::string& reason)
        : std::runtime_error(one_line(key + ": " + reason)) {}
    explicit ConfigError(const std::string& message) : std::runtime_error(one_line(message)) {}
};

struct Key {
    const char* name;           // section.key
    std::string default_value;  // as text
    const char* help;
};

// Every key, in the order the resolved INI text lists them.
const std::vector<Key>& keys();

// One axis of the sweep: a key and its values, in the order given (README "Sweep axes").
struct SweepAxis {
    std::string key;    // sweep.lr, sweep.dim, sweep.alpha, a [model] or [data] key, run.seeds
    std::string name;   // the dimension's name in files: the key without its section (seed for run.seeds)
    std::string long_name;
    bool categorical = false;
    bool integer = false;              // dim and seed
    std::vector<double> values;        // numeric axes (seed: the replicates 0 .. seeds - 1)
    std::vector<std::string> labels;   // every value as text (the names of a categorical axis)
    std::size_t size() const { return labels.size(); }
};

// The model and data of one point of the extra axes.
struct ModelPoint {
    model::Parametrization parametrization = model::Parametrization::u2v2;
    model::DataSpec data;
};

// The resolved, validated configuration. Only resolve() and parse_ini_text() make one, from the
// key table's defaults (keys()); the members carry no defaults of their own, so that each default
// is written once.
struct Config {
    // At the first value of every extra axis (the only value of a key that is no axis).
    model::Parametrization parametrization{};
    model::DataSpec data;
    double time = 0.0;
    std::size_t snapshots = 0;
    std::vector<model::Method> methods;
    std::uint32_t seeds = 0;
    std::uint32_t seed = 0;
    double threshold = 0.0;
    double sde_dt = 0.0;  // 0: one SGD step, 1/d
    double pde_rtol = 0.0;
    std::size_t pde_cells = 0;           // 0: auto
    double pde_width = 0.0;              // 0: auto
    double pde_max_width = 0.0;
    std::size_t pde_target_nodes = 0;    // 0: auto
    std::size_t pde_spectrum_nodes = 0;  // 0: auto
    std::size_t pde_max_cells = 0;
    std::size_t pde_max_classes = 0;
    std::vector<double> lr;
    std::vector<std::uint64_t> dim;
    std::vector<double> alpha;
    // Every axis of the grid in file order: lr, dim, alpha, the extra axes (the [model] and
    // [data] keys given more than one value, in the order of keys()), seed.
    std::vector<SweepAxis> axes;
    static constexpr std::size_t lr_axis = 0, dim_axis = 1, alpha_axis = 2, first_extra_axis = 3;
    std::size_t seed_axis() const { return axes.size() - 1; }
    std::size_t extra_axis_count() const { return axes.size() - 4; }

    // The resolved configuration as INI text, every key present (stored in result files).
    std::string ini;

    bool has_method(model::Method m) const;
    // The model and data at one index per extra axis (in axis order).
    ModelPoint model_at(const std::vector<std::size_t>& extra_index) const;
};

// The [model] and [data] keys that can be sweep axes, in axis order.
const std::vector<std::string>& axis_keys();

// The options `--section.key` for every key (typed as text: values are validated in resolve).
boost::program_options::options_description config_options();
// --config FILE, and the shorthands --lr, --dim, --alpha, --method.
boost::program_options::options_description input_options();

// Reads the command line (already parsed into vm, with input_options and config_options), the
// config file it names (if any), applies the shorthands and validates every key. Throws
// ConfigError, whose message names the key, on any problem.
Config resolve(const boost::program_options::variables_map& command_line);

// `dln run` computes one grid point: every axis must hold exactly one value.
void require_single_point(const Config& config);

// The keys whose resolved values differ between two resolved INI texts (empty: the same sweep).
std::vector<std::string> differing_keys(const std::string& ini_a, const std::string& ini_b);

// Parses INI text (e.g. a file's stored config) alone, with the same validation.
Config parse_ini_text(const std::string& text);

}  // namespace dln::config
