#include "dln/analysis/phase_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "dln/io/netcdf_file.hpp"
#include "dln/io/result_file.hpp"
#include "dln/model/method.hpp"
#include "dln/version.hpp"

namespace dln::analysis {
namespace {

namespace fs = std::filesystem;

// The configuration key of the replicate axis (its coordinate's dln_key): summarised, not kept.
constexpr const char* kReplicateKey = "run.seeds";

// ---- reading ------------------------------------------------------------------------------------

Axis to_axis(const io::Dimension& d, const std::string& where) {
    Axis a;
    a.name = d.name;
    a.key = d.key;
    a.long_name = d.long_name;
    switch (d.kind) {
        case io::Dimension::Kind::float64: a.values = d.numbers; break;
        case io::Dimension::Kind::int64:
            a.values = d.numbers;
            a.integer = true;
            break;
        case io::Dimension::Kind::string:
            a.categorical = true;
            a.labels = d.labels;
            break;
        case io::Dimension::Kind::none:
            throw std::invalid_argument(where + ": dimension " + d.name + " has no coordinate variable");
    }
    return a;
}

io::Dimension to_dimension(const Axis& a) {
    if (a.categorical) return io::Dimension::names(a.name, a.labels, a.long_name, a.key);
    return io::Dimension::numeric(a.name, a.values, a.long_name, a.key, a.integer);
}

std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string s = "{";
    for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + "}";
}

// One method group: its axes from the dimensions of its status variable (seed last, if any),
// its curves from the variables of those dimensions and time.
SweepData::Method read_method(const io::NcReader& f, const std::string& name, Axis& time, bool& have_time) {
    const std::string where = "'" + f.path() + "' /" + name;
    SweepData::Method m;
    m.name = name;
    const auto unit_dims = f.dimensions(name, "status");
    std::vector<std::size_t> unit_shape;
    for (std::size_t k = 0; k < unit_dims.size(); ++k) {
        const auto& d = unit_dims[k];
        unit_shape.push_back(d.size());
        if (d.key == kReplicateKey) {
            if (k + 1 != unit_dims.size()) throw std::invalid_argument(where + ": the seed axis is not the last");
            m.replicates = d.size();
        } else {
            m.axes.push_back(to_axis(d, where));
        }
    }
    const std::size_t units = grid_size(m.axes) * m.replicates;

    // Every curve has the unit dimensions and then time, the same time in every group.
    const auto curve_dims = f.dimensions(name, "risk");
    if (curve_dims.size() != unit_dims.size() + 1) {
        throw std::invalid_argument(where + "/risk does not have the dimensions of /" + name + "/status and time");
    }
    for (std::size_t k = 0; k < unit_dims.size(); ++k) {
        if (curve_dims[k].name != unit_dims[k].name || curve_dims[k].size() != unit_dims[k].size()) {
            throw std::invalid_argument(where + "/risk does not have the dimensions of /" + name + "/status and time");
        }
    }
    const Axis here = to_axis(curve_dims.back(), where);
    if (!have_time) {
        time = here;
        have_time = true;
    } else if (!time.same_as(here)) {
        throw std::invalid_argument(where + " has other snapshot times than the groups before it");
    }
    std::vector<std::size_t> curve_shape = unit_shape;
    curve_shape.push_back(time.size());

    const auto status = f.read_int8(name, "status");
    if (status.size() != units) throw std::invalid_argument(where + "/status does not match its dimensions");
    m.outcome.reserve(units);
    for (const auto s : status) {
        // done and diverged carry a result; pending and failed do not (missing values).
        const auto code = static_cast<io::UnitStatus>(s);
        m.outcome.push_back(code == io::UnitStatus::done       ? Outcome::finished
                            : code == io::UnitStatus::diverged ? Outcome::diverged
                                                               : Outcome::missing);
    }
    auto read_shaped = [&](const char* variable, const std::vector<std::size_t>& shape) {
        const auto got = f.shape(name, variable);
        if (got != shape) {
            throw std::invalid_argument(where + "/" + variable + " has shape " + shape_text(got) + ", expected " +
                                        shape_text(shape));
        }
        return f.read(name, variable);
    };
    m.risk = read_shaped("risk", curve_shape);
    m.excess = read_shaped("excess", curve_shape);
    m.curvature = read_shaped("curvature", curve_shape);
    m.balance = read_shaped("balance", curve_shape);
    m.false_support = read_shaped("false_support", curve_shape);
    // The PDE's accuracy fields, per point (a method without them: NaN downstream).
    if (f.has_variable(name, "error_estimate")) m.error_estimate = read_shaped("error_estimate", unit_shape);
    if (f.has_variable(name, "predicted_rate")) m.predicted_rate = read_shaped("predicted_rate", unit_shape);
    return m;
}

// ---- writing ------------------------------------------------------------------------------------

io::Variable variable(const std::string& name, io::ValueType type, std::vector<std::string> dims,
                      std::string long_name, std::string units = {}) {
    io::Variable v;
    v.name = name;
    v.type = type;
    v.dims = std::move(dims);
    v.long_name = std::move(long_name);
    v.units = std::move(units);
    v.fill_nan = type == io::ValueType::float64;
    return v;
}

// Which replicates the quantiles are taken over, and what a NaN does (README "Aggregating a sweep").
constexpr const char* kQuantileReplicates =
    "survivors: replicates that finished without diverging (diverged ones are excluded and counted in "
    "diverged_fraction; pending and failed ones are missing); NaN where there is no survivor or a "
    "survivor's value is NaN";

// A fraction as a percentage for names and labels: 0.1 -> "10", 0.025 -> "2.5".
std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", 100.0 * fraction);
    return text;
}

void write_method(io::NcWriter& file, const PhaseTable& table, const MethodPhase& m) {
    auto group = file.group(m.name);
    std::vector<std::string> point_dims;
    for (const auto& a : m.axes) {
        group.dimension(to_dimension(a));
        point_dims.push_back(a.name);
    }
    group.dimension(to_dimension(table.time));
    std::vector<std::string> curve_dims = point_dims;
    curve_dims.push_back(table.time.name);
    std::vector<std::string> reference_dims;
    for (const std::size_t k : m.reference_axes) reference_dims.push_back(m.axes[k].name);

    const auto& pts = m.points;
    std::vector<double> replicates, regime;
    for (const auto& p : pts) {
        replicates.push_back(static_cast<double>(p.computed));
        regime.push_back(static_cast<double>(p.regime));
    }
    group.variable(variable("replicates", io::ValueType::int32, point_dims,
                            "replicates with a result (done or diverged)"),
                   &replicates);
    auto regime_var = variable("regime", io::ValueType::int8, point_dims, "regime of the survivors' mean curves");
    std::string meanings;
    for (std::size_t k = 0; k < regime_names.size(); ++k) {
        regime_var.flag_values.push_back(static_cast<std::int8_t>(k));
        if (k > 0) meanings += ' ';
        meanings.append(regime_names[k]);
    }
    regime_var.flag_meanings = meanings;
    group.variable(regime_var, &regime);

    auto per_point = [&](const char* name, const char* long_name, const char* units, auto get) {
        std::vector<double> v;
        v.reserve(pts.size());
        for (const auto& p : pts) v.push_back(get(p));
        group.variable(variable(name, io::ValueType::float64, point_dims, long_name, units), &v);
    };
    per_point("diverged_fraction", "fraction of the replicates diverged", "",
              [](const PointSummary& p) { return p.diverged_fraction; });
    per_point("risk_final_mean", "survivors' mean risk at T", "", [](const PointSummary& p) { return p.risk_final_mean; });
    per_point("risk_final_std", "survivors' sample standard deviation of the risk at T", "",
              [](const PointSummary& p) { return p.risk_final_std; });
    per_point("time_to_epsilon", "first time the survivors' mean excess risk is <= epsilon", "",
              [](const PointSummary& p) { return p.time_to_epsilon; });
    per_point("tail_rate", "late-time exponential rate of the survivors' mean excess risk", "",
              [](const PointSummary& p) { return p.tail.rate; });
    per_point("curvature_final", "survivors' mean curvature at T", "", [](const PointSummary& p) { return p.curvature_final; });
    per_point("balance_final", "survivors' mean balance at T", "", [](const PointSummary& p) { return p.balance_final; });
    per_point("false_support_final", "survivors' mean false support at T", "",
              [](const PointSummary& p) { return p.false_support_final; });

    // Quantiles over the survivors, with how they were estimated on each variable.
    const std::string band_text = percent(table.band.lo) + "-" + percent(table.band.hi) + "%";
    auto quantile_variable = [&](const std::string& name, const std::string& long_name, double p,
                                 const std::vector<std::string>& dims) {
        auto v = variable(name, io::ValueType::float64, dims, long_name);
        v.number_attributes = {{"quantile", p}, {"band_lo", table.band.lo}, {"band_hi", table.band.hi}};
        v.text_attributes = {{"quantile_definition", kQuantileDefinition},
                             {"replicates_used", kQuantileReplicates}};
        return v;
    };
    auto per_point_quantile = [&](const char* name, const std::string& long_name, double p, double PointSummary::*member) {
        std::vector<double> v;
        v.reserve(pts.size());
        for (const auto& s : pts) v.push_back(s.*member);
        group.variable(quantile_variable(name, long_name, p, point_dims), &v);
    };
    per_point_quantile("risk_final_median", "survivors' median risk at T", 0.5, &PointSummary::risk_final_median);
    per_point_quantile("risk_final_band_lo", "survivors' " + percent(table.band.lo) + "% quantile of the risk at T",
                       table.band.lo, &PointSummary::risk_final_band_lo);
    per_point_quantile("risk_final_band_hi", "survivors' " + percent(table.band.hi) + "% quantile of the risk at T",
                       table.band.hi, &PointSummary::risk_final_band_hi);
    {
        auto v = variable("band_width", io::ValueType::float64, point_dims,
                          "time average of the relative width (hi - lo) / median of the survivors' " + band_text +
                              " band of the excess risk");
        v.number_attributes = {{"band_lo", table.band.lo}, {"band_hi", table.band.hi}};
        v.text_attributes = {{"quantile_definition", kQuantileDefinition}, {"replicates_used", kQuantileReplicates}};
        std::vector<double> w;
        for (const auto& s : pts) w.push_back(s.band_width);
        group.variable(v, &w);
    }

    // The curves of the risk plot: survivors' mean excess risk and its range over replicates.
    const std::size_t n_time = table.time.size();
    auto curves = [&](const char* name, const char* long_name, std::vector<double> PointSummary::*member) {
        std::vector<double> v;
        v.reserve(pts.size() * n_time);
        for (const auto& p : pts) {
            const auto& c = p.*member;
            if (c.size() == n_time) {
                v.insert(v.end(), c.begin(), c.end());
            } else {
                v.insert(v.end(), n_time, kNaN);  // no survivor
            }
        }
        group.variable(variable(name, io::ValueType::float64, curve_dims, long_name), &v);
    };
    curves("excess_mean", "survivors' mean excess risk", &PointSummary::excess_mean);
    curves("excess_lo", "survivors' lowest excess risk", &PointSummary::excess_lo);
    curves("excess_hi", "survivors' highest excess risk", &PointSummary::excess_hi);
    struct Observable {
        const char* name;
        const char* long_name;
        QuantileCurves PointSummary::*member;
    };
    for (const Observable& o : {Observable{"excess", "excess risk", &PointSummary::excess_q},
                                Observable{"curvature", "curvature", &PointSummary::curvature_q},
                                Observable{"balance", "balance", &PointSummary::balance_q},
                                Observable{"false_support", "false support", &PointSummary::false_support_q}}) {
        const std::string name = o.name, long_name = o.long_name;
        for (const auto& [suffix, p, what] :
             {std::tuple{"_median", 0.5, std::string("median")},
              std::tuple{"_band_lo", table.band.lo, percent(table.band.lo) + "% quantile"},
              std::tuple{"_band_hi", table.band.hi, percent(table.band.hi) + "% quantile"}}) {
            std::vector<double> v;
            v.reserve(pts.size() * n_time);
            for (const auto& s : pts) {
                const QuantileCurves& q = s.*o.member;
                const auto& c = suffix == std::string("_median") ? q.median : suffix == std::string("_band_lo") ? q.lo : q.hi;
                if (c.size() == n_time) {
                    v.insert(v.end(), c.begin(), c.end());
                } else {
                    v.insert(v.end(), n_time, kNaN);  // no survivor
                }
            }
            group.variable(quantile_variable(name + suffix, "survivors' " + what + " of the " + long_name, p, curve_dims),
                           &v);
        }
    }

    if (!m.gap.empty()) {
        group.variable(variable("gap_pde", io::ValueType::float64, point_dims,
                                "sup over time of the relative gap of the mean excess risk to the PDE's"),
                       &m.gap);
        std::vector<double> exponent, prefactor;
        for (const auto& fit : m.gap_fit) {
            exponent.push_back(fit.exponent);
            prefactor.push_back(fit.prefactor);
        }
        group.variable(variable("gap_exponent", io::ValueType::float64, reference_dims, "p of gap_pde = c d^p"),
                       &exponent);
        group.variable(variable("gap_prefactor", io::ValueType::float64, reference_dims, "c of gap_pde = c d^p"),
                       &prefactor);
        std::vector<double> width_exponent, width_se, width_prefactor;
        for (const auto& fit : m.band_width_fit) {
            width_exponent.push_back(fit.exponent);
            width_se.push_back(fit.exponent_se);
            width_prefactor.push_back(fit.prefactor);
        }
        const std::string along = m.axes[m.limit_axis].name;
        group.variable(variable("band_width_exponent", io::ValueType::float64, reference_dims,
                                "p of band_width = c " + along + "^p, least squares of log band_width on log " + along),
                       &width_exponent);
        group.variable(variable("band_width_exponent_se", io::ValueType::float64, reference_dims,
                                "standard error of band_width_exponent from the fit's residuals (n - 2 degrees of freedom)"),
                       &width_se);
        group.variable(variable("band_width_prefactor", io::ValueType::float64, reference_dims,
                                "c of band_width = c " + along + "^p"),
                       &width_prefactor);
    }
    if (!m.predicted_rate.empty()) {
        group.variable(variable("predicted_rate", io::ValueType::float64, reference_dims,
                                "the PDE's late-time rate predicted by its linearisation at T"),
                       &m.predicted_rate);
        group.variable(variable("pde_error_estimate", io::ValueType::float64, reference_dims,
                                "the PDE point's error estimate"),
                       &m.pde_error_estimate);
    }
}

std::string csv_number(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", x);
    return text;
}

std::string csv_text(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace

SweepData read_sweep(const std::string& path) {
    const io::NcReader f(path);  // refuses what is not a file or not HDF5

    SweepData data;
    data.source = path;
    data.schema = f.attribute("schema");
    data.version = f.attribute("version");
    data.config = f.attribute("config");
    if (data.schema != io::ResultFile::schema) {
        // io's line for a dln-sweep/1 file (and any other schema), as every command says it.
        throw std::invalid_argument(io::other_schema_message(path, data.schema, data.version, io::ResultFile::schema));
    }
    bool have_time = false;
    for (const auto name : model::method_names) {
        const std::string group(name);
        if (!f.has_group(group)) continue;
        data.methods.push_back(read_method(f, group, data.time, have_time));
    }
    if (data.methods.empty()) throw std::invalid_argument("'" + path + "' holds no method group (sgd, sde, pde)");
    return data;
}

void write_phase_h5(const std::string& path, const PhaseTable& table) {
    io::NcWriter file(path, true);
    file.attribute("schema", kPhaseSchema);
    file.attribute("source", table.source);
    file.attribute("config", table.config);
    file.attribute("sweep_version", table.sweep_version);
    file.attribute("version", version);
    file.attribute("Conventions", "CF-1.8");
    file.attribute("title", "dln phase diagram");
    // The regime rule, so a reader of the file knows what its labels mean.
    file.attribute("epsilon", table.rule.epsilon);
    file.attribute("diverged_fraction", table.rule.diverged_fraction);
    file.attribute("collapse_balance", table.rule.collapse_balance);
    file.attribute("collapse_risk", table.rule.collapse_risk);
    file.attribute("falling_log", table.rule.falling_log);
    // The quantile band of every *_median / *_band_lo / *_band_hi variable (also on each).
    file.attribute("band_lo", table.band.lo);
    file.attribute("band_hi", table.band.hi);
    file.attribute("quantile_definition", kQuantileDefinition);
    for (const auto& m : table.methods) write_method(file, table, m);
    file.close();
}

void write_phase_csv(std::ostream& out, const PhaseTable& table) {
    const auto columns = table.all_axes();
    out << "method";
    for (const auto& a : columns) out << ',' << csv_text(a.name);
    out << ",replicates,regime,diverged_fraction,risk_final_mean,risk_final_std,"
           "time_to_epsilon,tail_rate,predicted_rate,curvature_final,balance_final,false_support_final,gap_pde,"
           "pde_error_estimate,gap_exponent,risk_final_median,risk_final_band_lo,risk_final_band_hi,band_width,"
           "band_width_exponent,band_width_exponent_se\n";
    const MethodPhase* reference = table.reference();
    for (const auto& m : table.methods) {
        // Column c is axis where[c] of m, or none (m lacks it: its limit, "inf").
        std::vector<std::size_t> where(columns.size(), MethodPhase::npos);
        for (std::size_t c = 0; c < columns.size(); ++c) {
            for (std::size_t k = 0; k < m.axes.size(); ++k) {
                if (m.axes[k].name == columns[c].name) where[c] = k;
            }
        }
        for (std::size_t p = 0; p < m.points.size(); ++p) {
            const auto index = grid_index(m.axes, p);
            const auto& s = m.points[p];
            const std::size_t q = reference != nullptr ? m.reference_point(p, reference->axes) : 0;
            auto per_reference = [&](const std::vector<double>& v) { return v.empty() ? kNaN : v[q]; };
            const double gap = m.gap.empty() ? kNaN : m.gap[p];
            const double exponent = m.gap_fit.empty() ? kNaN : m.gap_fit[q].exponent;
            const PowerLawFit width_fit = m.band_width_fit.empty() ? PowerLawFit{} : m.band_width_fit[q];
            out << m.name;
            for (std::size_t c = 0; c < columns.size(); ++c) {
                out << ',' << (where[c] == MethodPhase::npos ? std::string("inf") : csv_text(m.axes[where[c]].label(index[where[c]])));
            }
            out << ',' << s.computed << ',' << regime_name(s.regime);
            for (double x : {s.diverged_fraction, s.risk_final_mean, s.risk_final_std, s.time_to_epsilon, s.tail.rate,
                             per_reference(m.predicted_rate), s.curvature_final, s.balance_final, s.false_support_final,
                             gap, per_reference(m.pde_error_estimate), exponent, s.risk_final_median,
                             s.risk_final_band_lo, s.risk_final_band_hi, s.band_width, width_fit.exponent,
                             width_fit.exponent_se}) {
                out << ',' << csv_number(x);
            }
            out << '\n';
        }
    }
}

void check_output_directory(const std::string& dir) {
    if (dir.empty()) throw std::invalid_argument("no output directory given");
    std::error_code ec;
    const fs::path path(dir);
    if (fs::exists(path, ec)) {
        if (!fs::is_directory(path, ec)) throw std::invalid_argument("'" + dir + "' exists and is not a directory");
        return;
    }
    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec)) {
        throw std::invalid_argument("directory '" + parent.string() + "' of '" + dir + "' does not exist");
    }
}

void write_phase_directory(const std::string& dir, const PhaseTable& table, const io::Provenance& provenance) {
    check_output_directory(dir);
    fs::create_directory(dir);
    const fs::path h5 = fs::path(dir) / "phase.h5", csv = fs::path(dir) / "phase.csv";
    const std::string suffix = ".tmp-" + std::to_string(static_cast<long>(getpid()));
    const fs::path h5_tmp = h5.string() + suffix, csv_tmp = csv.string() + suffix;
    try {
        write_phase_h5(h5_tmp.string(), table);
        if (!provenance.runs.empty()) io::append_runs(h5_tmp.string(), provenance.build, provenance.runs);
        {
            std::ofstream out(csv_tmp);
            if (!out) throw std::runtime_error("cannot write '" + csv_tmp.string() + "'");
            write_phase_csv(out, table);
            out.close();
            if (!out) throw std::runtime_error("writing '" + csv_tmp.string() + "' failed");
        }
        fs::rename(h5_tmp, h5);
        fs::rename(csv_tmp, csv);
    } catch (...) {
        std::error_code ignored;
        fs::remove(h5_tmp, ignored);
        fs::remove(csv_tmp, ignored);
        throw;
    }
}

}  // namespace dln::analysis
