#include "dln/config/config.hpp"

#include <algorithm>
#include <ostream>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dln/config/axis.hpp"
#include "dln/pde/error_control.hpp"  // AccuracySpec: the PDE's defaults (a header of plain structs)
#include "dln/sim/trajectory.hpp"      // RunSpec: the run's defaults

namespace po = boost::program_options;

namespace dln::config {

void print_line(std::ostream& out, const std::string& line) {
    out << (line + '\n');
    out.flush();
}

std::string one_line(const std::string& text, std::size_t max_bytes) {
    std::string out;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        // The length of a well-formed UTF-8 sequence starting here (1 for ASCII), 0 if none.
        std::size_t len = 0;
        const unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f) len = 1;
        else if (c >= 0xc2 && c <= 0xdf) len = 2;
        else if (c >= 0xe0 && c <= 0xef) len = 3;
        else if (c >= 0xf0 && c <= 0xf4) len = 4;
        bool ok = len > 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);  // overlong, surrogates
        if (ok && len == 4) ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
        std::string piece;
        if (ok) {
            piece.assign(text, i, len);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            piece = hex;
            len = 1;
        }
        if (out.size() + piece.size() > max_bytes) return out + "...";
        out += piece;
        i += len;
    }
    return out;
}

namespace {

// A default as the key table shows it: the shortest text that reads back as the same double.
std::string text(double x) {
    char buffer[32];
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buffer, sizeof buffer, "%.*g", digits, x);
        if (std::strtod(buffer, nullptr) == x) break;
    }
    return buffer;
}

}  // namespace

// The defaults of the run and of the PDE are those of sim::RunSpec and pde::AccuracySpec: one
// definition, so a RunSpec{} in a test runs with the same tau as a user does.
const std::vector<Key>& keys() {
    static const std::vector<Key> table = {
        {"model.parametrization", "u2v2", "u2v2 (w = u*u - v*v), uv (w = u*v) or linear (w)"},
        {"data.spectrum", "isotropic",
         "isotropic (K = I), powerlaw (lambda_i ~ ((i-1/2)/d)^-a, mean 1), marchenko-pastur (lambda_i the "
         "(i-1/2)/d quantile of the MP law of ratio r: mean 1, variance r) or file (quantiles of the "
         "eigenvalues listed in data.spectrum_file, used as given)"},
        {"data.exponent", "0", "a, the power-law exponent, 0 <= a < 1"},
        {"data.ratio", "0.5", "r, the Marchenko-Pastur ratio d/n, 0 < r <= 1"},
        {"data.spectrum_file", "", "text file of eigenvalues (> 0, whitespace separated, # comments) for "
                                   "data.spectrum = file; stored as an absolute path"},
        {"data.spectrum_checksum", "", "derived, do not set: fnv1a64 checksum of the eigenvalues read from "
                                       "data.spectrum_file (lets --resume detect a changed file)"},
        {"data.noise", "0", "sigma, the label-noise standard deviation (>= 0)"},
        {"data.sparsity", "0.1", "s, the fraction of nonzero target coordinates, in [0, 1]"},
        {"data.target", "constant", "law of a nonzero target coordinate: constant (b), rademacher (+-b), gaussian N(0, b^2)"},
        {"data.scale", "1", "b, the size of a nonzero target coordinate (>= 0)"},
        {"run.time", text(sim::RunSpec{}.time), "T, the time horizon; one unit of time is d samples (d SGD steps)"},
        {"run.snapshots", std::to_string(sim::RunSpec{}.snapshots), "number of uniform snapshot times on [0, T], both ends included (>= 2)"},
        {"run.methods", "sgd", "comma list of sgd, sde, pde"},
        {"run.seeds", "1", "replicates per grid point (>= 1)"},
        {"run.seed", "1", "global seed, 0 .. 4294967295; data depend on (seed, dim, replicate) only"},
        {"run.threshold", text(sim::RunSpec{}.threshold), "tau of false_support: |w_i| > tau on a null coordinate counts (>= 0)"},
        {"sde.dt", "auto", "time step of the homogenized SDE: auto (1/d, one SGD step) or a positive number"},
        {"pde.rtol", text(pde::AccuracySpec{}.rtol), "relative accuracy of the PDE's excess risk at every snapshot (in (0, 0.1]); the solver chooses its resolution for it"},
        {"pde.cells", "auto", "finite volumes per coordinate class on the co-moving grid: auto (chosen for pde.rtol) or a number >= 4"},
        {"pde.width", "auto", "half-width L of the co-moving grids, in class standard deviations: auto (chosen for pde.rtol, from 12) or a number"},
        {"pde.target_nodes", "auto", "quadrature nodes of a gaussian target law: auto (chosen for pde.rtol) or a number >= 1"},
        {"pde.spectrum_nodes", "auto", "quadrature nodes of a continuous spectrum: auto (chosen for pde.rtol) or a number >= 1"},
        {"pde.max_cells", std::to_string(pde::AccuracySpec{}.max_cells), "the most cells per class that auto may choose (>= 4)"},
        {"pde.max_classes", std::to_string(pde::AccuracySpec{}.max_classes), "the most coordinate classes that auto may choose (>= 1)"},
        {"pde.max_width", text(pde::AccuracySpec{}.max_width), "the widest half-width that auto may choose (>= 16)"},
        {"sweep.lr", "0.5", "learning rates gamma (> 0): a value, a comma list, linspace(a,b,n) or logspace(a,b,n)"},
        {"sweep.dim", "1000", "dimensions d (whole numbers >= 1), same forms as sweep.lr"},
        {"sweep.alpha", "0.1", "initialisation scales alpha (> 0), same forms as sweep.lr"},
    };
    return table;
}

po::options_description config_options() {
    po::options_description desc("Configuration keys (also [section] key = value in a --config file)", 110, 60);
    for (const auto& key : keys()) {
        const std::string help = std::string(key.help) + " [default: " + key.default_value + "]";
        desc.add_options()(key.name, po::value<std::string>()->value_name("V"), help.c_str());
    }
    return desc;
}

po::options_description input_options() {
    po::options_description desc("Input", 110, 60);
    desc.add_options()
        ("config,c", po::value<std::string>()->value_name("FILE"), "INI sweep file; command-line keys win over it")
        ("lr", po::value<std::string>()->value_name("AXIS"), "shorthand for --sweep.lr")
        ("dim", po::value<std::string>()->value_name("AXIS"), "shorthand for --sweep.dim")
        ("alpha", po::value<std::string>()->value_name("AXIS"), "shorthand for --sweep.alpha")
        ("method", po::value<std::string>()->value_name("LIST"), "shorthand for --run.methods");
    return desc;
}

bool Config::has_method(model::Method m) const {
    return std::find(methods.begin(), methods.end(), m) != methods.end();
}

namespace {

using Values = std::map<std::string, std::string>;

std::string show(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return text;
}

Values defaults() {
    Values values;
    for (const auto& key : keys()) values[key.name] = key.default_value;
    return values;
}

// Rewrites Boost's messages into one line that names the key.
[[noreturn]] void rethrow_as_config_error(const po::error& e, const std::string& where) {
    if (const auto* unknown = dynamic_cast<const po::unknown_option*>(&e)) {
        throw ConfigError(unknown->get_option_name(), "unknown key" + where);
    }
    throw ConfigError(std::string(e.what()) + where);
}

void overlay_ini(Values& values, std::istream& in, const std::string& where) {
    try {
        const auto desc = config_options();  // parsed options keep a pointer to it
        const auto parsed = po::parse_config_file(in, desc, false);
        po::variables_map file_vm;
        po::store(parsed, file_vm);
        for (const auto& [name, value] : file_vm) values[name] = trim(value.as<std::string>());
    } catch (const po::error& e) {
        rethrow_as_config_error(e, where);
    }
}

template <class F>
auto checked(const std::string& key, const Values& values, F parse) {
    try {
        return parse(values.at(key));
    } catch (const std::invalid_argument& e) {
        throw ConfigError(key, e.what());
    }
}

double number(const Values& v, const std::string& key) {
    return checked(key, v, [](const std::string& s) { return parse_number(s); });
}

void require(bool ok, const std::string& key, const std::string& reason) {
    if (!ok) throw ConfigError(key, reason);
}

std::string to_ini(const Values& values) {
    std::ostringstream out;
    std::string section;
    for (const auto& key : keys()) {
        const std::string name = key.name;
        const auto dot = name.find('.');
        if (name.substr(0, dot) != section) {
            section = name.substr(0, dot);
            out << (out.tellp() > 0 ? "\n" : "") << '[' << section << "]\n";
        }
        out << name.substr(dot + 1) << " = " << values.at(name) << '\n';
    }
    return out.str();
}

// The eigenvalues of a spectrum file, sorted ascending; ConfigError naming data.spectrum_file
// (one line) for a file that is missing, unreadable, empty, or lists a value that is not a
// finite number > 0.
std::vector<double> read_eigenvalues(const std::string& path) {
    const std::string key = "data.spectrum_file";
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw ConfigError(key, "'" + path + "' is a directory");
    std::ifstream in(path);
    if (!in) throw ConfigError(key, "cannot read '" + path + "'");
    std::vector<double> values;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        for (std::string word; words >> word;) {
            double x = 0.0;
            try {
                x = parse_number(word);
            } catch (const std::invalid_argument& e) {
                throw ConfigError(key, "'" + path + "' line " + std::to_string(number) + ": " + e.what());
            }
            if (!(x > 0.0)) {
                throw ConfigError(key, "'" + path + "' line " + std::to_string(number) + ": eigenvalue " + word +
                                           " is not > 0");
            }
            values.push_back(x);
        }
    }
    if (in.bad()) throw ConfigError(key, "cannot read '" + path + "'");
    if (values.empty()) throw ConfigError(key, "'" + path + "' lists no eigenvalues");
    std::sort(values.begin(), values.end());
    return values;
}

// FNV-1a (64 bit) of the sorted eigenvalues written with %.17g, one per line: it identifies the
// values themselves (not the file's comments or layout) and is the same on every platform.
std::string eigenvalue_checksum(const std::vector<double>& values) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    char text[40];
    for (double x : values) {
        const int n = std::snprintf(text, sizeof text, "%.17g\n", x);
        for (int i = 0; i < n; ++i) {
            h ^= static_cast<unsigned char>(text[i]);
            h *= 0x100000001b3ULL;
        }
    }
    std::snprintf(text, sizeof text, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
    return text;
}

// The [model] and [data] keys that can be sweep axes, in axis order, with the dimension names
// and descriptions files give them.
struct ModelKey {
    const char* key;
    const char* name;
    const char* long_name;
    bool categorical;
};
constexpr ModelKey model_keys[] = {
    {"model.parametrization", "parametrization", "parametrization of the predictor w", true},
    {"data.spectrum", "spectrum", "spectrum of the covariance K", true},
    {"data.exponent", "exponent", "power-law exponent a of the spectrum", false},
    {"data.ratio", "ratio", "Marchenko-Pastur ratio r of the spectrum", false},
    {"data.noise", "noise", "label-noise standard deviation sigma", false},
    {"data.sparsity", "sparsity", "fraction s of nonzero target coordinates", false},
    {"data.target", "target", "law of a nonzero target coordinate", true},
    {"data.scale", "scale", "size b of a nonzero target coordinate", false},
};

// Sets one categorical key of a point, validating the name: the one definition of each key's
// rule, used for every value of an axis and for the point of every unit.
void set_model_name(const std::string& key, const std::string& text, ModelPoint& p) {
    try {
        if (key == "model.parametrization") {
            p.parametrization = model::parse_parametrization(text);
        } else if (key == "data.spectrum") {
            p.data.spectrum = model::parse_spectrum(text);
        } else if (key == "data.target") {
            p.data.target = model::parse_target_law(text);
        } else {
            throw std::logic_error("not a categorical key: " + key);
        }
    } catch (const std::invalid_argument& e) {
        throw ConfigError(key, e.what());
    }
}

void set_model_number(const std::string& key, double x, ModelPoint& p) {
    const std::string shown = show(x);
    if (key == "data.exponent") {
        require(x >= 0.0 && x < 1.0, key, shown + " is outside [0, 1)");
        p.data.exponent = x;
    } else if (key == "data.ratio") {
        require(x > 0.0 && x <= 1.0, key, shown + " is outside (0, 1]");
        p.data.ratio = x;
    } else if (key == "data.noise") {
        require(x >= 0.0, key, shown + " is negative");
        p.data.noise = x;
    } else if (key == "data.sparsity") {
        require(x >= 0.0 && x <= 1.0, key, shown + " is outside [0, 1]");
        p.data.sparsity = x;
    } else if (key == "data.scale") {
        require(x >= 0.0, key, shown + " is negative");
        p.data.scale = x;
    } else {
        throw std::logic_error("not a numeric key: " + key);
    }
}

// The values of a categorical key: a comma list of names, each once.
std::vector<std::string> name_list(const std::string& key, const std::string& text) {
    std::vector<std::string> names;
    std::stringstream list(text);
    for (std::string item; std::getline(list, item, ',');) {
        item = trim(item);
        require(!item.empty(), key, "'" + text + "' has an empty name in its list");
        require(std::find(names.begin(), names.end(), item) == names.end(), key, "'" + item + "' is listed twice");
        names.push_back(item);
    }
    require(!names.empty(), key, "is empty");
    if (!text.empty() && text.back() == ',') throw ConfigError(key, "'" + text + "' ends with a comma");
    return names;
}

// A key that cannot be an axis given a list: one line saying which keys can.
void refuse_list(const Values& v, const std::string& key) {
    const std::string& text = v.at(key);
    if (text.find(',') != std::string::npos || text.find("space(") != std::string::npos) {
        throw ConfigError(key, "'" + text + "' is a list, but only sweep.lr, sweep.dim, sweep.alpha and the keys of "
                               "[model] and [data] (not data.spectrum_file) can be sweep axes");
    }
}

// The model and data keys: the point at the first value of each, and an axis for each key given
// more than one value.
void resolve_model(Values& v, Config& c, std::vector<SweepAxis>& extra) {
    refuse_list(v, "data.spectrum_file");
    refuse_list(v, "data.spectrum_checksum");
    const auto spectra = name_list("data.spectrum", v.at("data.spectrum"));
    bool uses_file = false;
    for (const auto& name : spectra) {
        ModelPoint probe;
        set_model_name("data.spectrum", name, probe);
        uses_file = uses_file || probe.data.spectrum == model::Spectrum::file;
    }
    ModelPoint base;
    {
        const std::string path = trim(v.at("data.spectrum_file"));
        const std::string stored = trim(v.at("data.spectrum_checksum"));
        if (uses_file) {
            require(!path.empty(), "data.spectrum_file", "data.spectrum = file needs a file of eigenvalues");
            base.data.eigenvalues = read_eigenvalues(path);
            // The resolved text names the file absolutely and records what it held, so that a
            // resume from another directory finds it and a changed file shows as a changed key.
            std::error_code ec;
            auto absolute = std::filesystem::absolute(path, ec);
            v["data.spectrum_file"] = ec ? path : absolute.lexically_normal().string();
            const std::string checksum = eigenvalue_checksum(base.data.eigenvalues);
            require(stored.empty() || stored == checksum, "data.spectrum_file",
                    "'" + path + "' no longer holds the eigenvalues this configuration was resolved with (checksum " +
                        checksum + ", recorded " + stored + ")");
            v["data.spectrum_checksum"] = checksum;
        } else {
            require(path.empty(), "data.spectrum_file",
                    "is set, but data.spectrum is " + v.at("data.spectrum") + " (only file reads it)");
            require(stored.empty(), "data.spectrum_checksum", "is derived from data.spectrum_file; do not set it");
        }
    }
    for (const auto& k : model_keys) {
        SweepAxis axis;
        axis.key = k.key;
        axis.name = k.name;
        axis.long_name = k.long_name;
        axis.categorical = k.categorical;
        if (k.categorical) {
            axis.labels = name_list(k.key, v.at(k.key));
            for (const auto& name : axis.labels) {
                ModelPoint p = base;
                set_model_name(k.key, name, p);
            }
            set_model_name(k.key, axis.labels.front(), base);
        } else {
            axis.values = checked(k.key, v, [](const std::string& s) { return parse_axis(s); });
            for (double x : axis.values) {
                ModelPoint p = base;
                set_model_number(k.key, x, p);
                axis.labels.push_back(show(x));
            }
            set_model_number(k.key, axis.values.front(), base);
        }
        if (axis.size() > 1) extra.push_back(std::move(axis));
    }
    c.parametrization = base.parametrization;
    c.data = base.data;
}

SweepAxis numeric_axis(const char* key, const char* name, const char* long_name, std::vector<double> values,
                       bool integer) {
    SweepAxis axis;
    axis.key = key;
    axis.name = name;
    axis.long_name = long_name;
    axis.integer = integer;
    for (double x : values) axis.labels.push_back(show(x));
    axis.values = std::move(values);
    return axis;
}

Config validate(Values v) {
    Config c;
    std::vector<SweepAxis> extra;
    resolve_model(v, c, extra);

    for (const char* key : {"run.time", "run.snapshots", "run.seeds", "run.seed", "run.threshold", "sde.dt", "pde.rtol",
                            "pde.cells", "pde.width", "pde.target_nodes", "pde.spectrum_nodes", "pde.max_cells",
                            "pde.max_classes", "pde.max_width"}) {
        refuse_list(v, key);
    }
    c.time = number(v, "run.time");
    require(c.time > 0.0, "run.time", v.at("run.time") + " is not positive");
    c.snapshots = checked("run.snapshots", v, [](const std::string& s) { return parse_count(s, 1'000'000); });
    require(c.snapshots >= 2, "run.snapshots", "needs at least 2 (both ends of [0, T])");
    c.seeds = static_cast<std::uint32_t>(
        checked("run.seeds", v, [](const std::string& s) { return parse_count(s, 1'000'000); }));
    require(c.seeds >= 1, "run.seeds", "needs at least 1 replicate");
    c.seed = static_cast<std::uint32_t>(
        checked("run.seed", v, [](const std::string& s) { return parse_count(s, 0xffffffffULL); }));
    c.threshold = number(v, "run.threshold");
    require(c.threshold >= 0.0, "run.threshold", v.at("run.threshold") + " is negative");

    c.methods.clear();
    std::stringstream list(v.at("run.methods"));
    for (std::string item; std::getline(list, item, ',');) {
        item = trim(item);
        const auto method = model::parse_method(item);
        require(method.has_value(), "run.methods", "'" + item + "' is not one of sgd, sde, pde");
        require(!c.has_method(*method), "run.methods", "'" + item + "' is listed twice");
        c.methods.push_back(*method);
    }
    require(!c.methods.empty(), "run.methods", "names no method");

    if (trim(v.at("sde.dt")) != "auto") {
        c.sde_dt = number(v, "sde.dt");
        require(c.sde_dt > 0.0, "sde.dt", v.at("sde.dt") + " is not positive (or auto)");
    }
    c.pde_rtol = number(v, "pde.rtol");
    require(c.pde_rtol > 0.0 && c.pde_rtol <= 0.1, "pde.rtol", v.at("pde.rtol") + " is outside (0, 0.1]");
    // A resolution key is auto (0 here: the controller chooses) or an explicit count.
    auto resolution = [&](const std::string& key, std::uint64_t max, std::size_t least, const char* unit) {
        if (trim(v.at(key)) == "auto") return std::size_t{0};
        const auto n = checked(key, v, [max](const std::string& s) { return parse_count(s, max); });
        require(n >= least, key, "needs at least " + std::to_string(least) + " " + unit + " (or auto)");
        return static_cast<std::size_t>(n);
    };
    c.pde_cells = resolution("pde.cells", 100'000'000, 4, "cells");
    if (trim(v.at("pde.width")) != "auto") {
        c.pde_width = number(v, "pde.width");
        require(c.pde_width > 0.0, "pde.width", v.at("pde.width") + " is not positive (or auto)");
    }
    c.pde_max_width = number(v, "pde.max_width");
    require(c.pde_max_width >= 16.0, "pde.max_width", v.at("pde.max_width") + " is below 16 (the first width and one step)");
    c.pde_target_nodes = resolution("pde.target_nodes", 100'000, 1, "node");
    c.pde_spectrum_nodes = resolution("pde.spectrum_nodes", 100'000, 1, "node");
    c.pde_max_cells = resolution("pde.max_cells", 100'000'000, 4, "cells");
    require(c.pde_max_cells > 0, "pde.max_cells", "must be a number, not auto");
    c.pde_max_classes = resolution("pde.max_classes", 1'000'000, 1, "class");
    require(c.pde_max_classes > 0, "pde.max_classes", "must be a number, not auto");

    auto axis = [&](const std::string& key) {
        return checked(key, v, [](const std::string& s) { return parse_axis(s); });
    };
    c.lr = axis("sweep.lr");
    for (double x : c.lr) require(x > 0.0, "sweep.lr", "learning rate " + show(x) + " is not positive");
    c.alpha = axis("sweep.alpha");
    for (double x : c.alpha) require(x > 0.0, "sweep.alpha", "alpha " + show(x) + " is not positive");
    for (double x : axis("sweep.dim")) {
        require(x >= 1.0, "sweep.dim", "dimension " + show(x) + " is not a whole number >= 1");
        const double rounded = std::round(x);
        require(std::abs(x - rounded) <= 1e-9 * rounded, "sweep.dim",
                "dimension " + show(x) + " is not a whole number");
        // A trajectory holds about six arrays of d doubles; 1e9 is already 48 GB.
        require(rounded <= 1e9, "sweep.dim", "dimension " + show(x) + " exceeds 1e9");
        c.dim.push_back(static_cast<std::uint64_t>(rounded));
    }
    std::vector<double> dims(c.dim.begin(), c.dim.end()), replicates;
    for (std::uint32_t r = 0; r < c.seeds; ++r) replicates.push_back(r);
    c.axes.push_back(numeric_axis("sweep.lr", "lr", "learning rate gamma", c.lr, false));
    c.axes.push_back(numeric_axis("sweep.dim", "dim", "dimension d", dims, true));
    c.axes.push_back(numeric_axis("sweep.alpha", "alpha", "initialisation scale alpha", c.alpha, false));
    for (auto& extra_axis : extra) c.axes.push_back(std::move(extra_axis));
    c.axes.push_back(numeric_axis("run.seeds", "seed", "replicate", replicates, true));
    double units = 1.0;
    std::string product;
    for (const auto& a : c.axes) {
        units *= static_cast<double>(a.size());
        product += (product.empty() ? "" : " x ") + (a.name == "seed" ? std::string("seeds") : a.name);
    }
    // Every rank keeps the schedule, about 100 bytes per unit: 1e7 units are a gigabyte per rank.
    require(units <= 1e7, "sweep",
            "the grid has " + show(units) + " trajectories (" + product +
                "), more than the 1e7 a rank can schedule in memory");
    // Every unit is a row of snapshots in the file.
    require(units * static_cast<double>(c.snapshots) <= 1e10, "sweep",
            "the grid has " + show(units) + " trajectories of " + std::to_string(c.snapshots) +
                " snapshots, more than the 1e10 values allowed");
    c.ini = to_ini(v);
    return c;
}

}  // namespace

Config resolve(const po::variables_map& command_line) {
    Values values = defaults();
    if (command_line.count("config")) {
        const auto path = command_line["config"].as<std::string>();
        std::error_code ec;
        // An ifstream opens a directory without complaint and reads nothing from it.
        if (std::filesystem::is_directory(path, ec)) throw ConfigError("--config", "'" + path + "' is a directory");
        std::ifstream in(path);
        if (!in) throw ConfigError("--config", "cannot read '" + path + "'");
        overlay_ini(values, in, " (in " + path + ")");
    }
    for (const auto& key : keys()) {
        if (command_line.count(key.name)) values[key.name] = trim(command_line[key.name].as<std::string>());
    }
    const std::pair<const char*, const char*> shorthands[] = {
        {"lr", "sweep.lr"}, {"dim", "sweep.dim"}, {"alpha", "sweep.alpha"}, {"method", "run.methods"}};
    for (const auto& [shorthand, key] : shorthands) {
        if (!command_line.count(shorthand)) continue;
        require(!command_line.count(key), key, std::string("given twice, as --") + key + " and --" + shorthand);
        values[key] = trim(command_line[shorthand].as<std::string>());
    }
    return validate(values);
}

void require_single_point(const Config& config) {
    for (std::size_t k = 0; k < config.seed_axis(); ++k) {
        const auto& axis = config.axes[k];
        require(axis.size() == 1, axis.key, "dln run computes one point, but the axis has " +
                                               std::to_string(axis.size()) + " values (use dln sweep for a grid)");
    }
}

const std::vector<std::string>& axis_keys() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& k : model_keys) n.emplace_back(k.key);
        return n;
    }();
    return names;
}

ModelPoint Config::model_at(const std::vector<std::size_t>& extra_index) const {
    ModelPoint p{parametrization, data};
    for (std::size_t e = 0; e < extra_index.size(); ++e) {
        const auto& axis = axes.at(first_extra_axis + e);
        const std::size_t i = extra_index[e];
        if (axis.categorical) {
            set_model_name(axis.key, axis.labels.at(i), p);
        } else {
            set_model_number(axis.key, axis.values.at(i), p);
        }
    }
    return p;
}

std::vector<std::string> differing_keys(const std::string& ini_a, const std::string& ini_b) {
    // Both texts come from to_ini (every key, one per line); a text written by an older dln may
    // lack keys added since, which then count as different unless equal to their default.
    auto values = [](const std::string& text) {
        Values v = defaults();
        std::istringstream in(text);
        overlay_ini(v, in, "");
        return v;
    };
    const Values a = values(ini_a), b = values(ini_b);
    std::vector<std::string> keys_differing;
    for (const auto& key : keys()) {
        if (a.at(key.name) != b.at(key.name)) keys_differing.emplace_back(key.name);
    }
    return keys_differing;
}

Config parse_ini_text(const std::string& text) {
    Values values = defaults();
    std::istringstream in(text);
    overlay_ini(values, in, "");
    return validate(values);
}

}  // namespace dln::config
