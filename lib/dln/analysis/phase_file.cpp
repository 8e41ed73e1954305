#include "dln/analysis/phase_file.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "dln/io/hdf5_support.hpp"
#include "dln/version.hpp"

namespace dln::analysis {
namespace {

namespace fs = std::filesystem;

using io::hdf5::check;
using io::hdf5::Handle;

void check_status(herr_t status, const std::string& what) {
    if (status < 0) throw std::runtime_error("HDF5: " + what + " failed");
}

// ---- reading ------------------------------------------------------------------------------------

std::string read_string_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return {};
    Handle attr(check(H5Aopen(object, name, H5P_DEFAULT), std::string("opening attribute ") + name));
    Handle type(check(H5Aget_type(attr), "H5Aget_type"));
    if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) <= 0) return {};
    char* text = nullptr;
    check_status(H5Aread(attr, type, &text), std::string("reading attribute ") + name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
}

std::string show_shape(const std::vector<hsize_t>& shape) {
    std::string s = "{";
    for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return s + "}";
}

// Reads a whole dataset, after checking its shape: a file of another layout is bad input.
template <class T>
std::vector<T> read_dataset(hid_t file, const std::string& name, hid_t mem_type, const std::vector<hsize_t>& expected,
                            const std::string& path) {
    if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
        throw std::invalid_argument("'" + path + "' has no dataset " + name);
    }
    Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
    Handle space(check(H5Dget_space(ds), "H5Dget_space"));
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> shape(static_cast<std::size_t>(rank > 0 ? rank : 0));
    if (rank > 0) H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    if (shape != expected) {
        throw std::invalid_argument("'" + path + "': " + name + " has shape " + show_shape(shape) + ", expected " +
                                    show_shape(expected));
    }
    std::size_t n = 1;
    for (auto e : expected) n *= e;
    std::vector<T> values(n);
    if (n > 0) check_status(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "reading " + name);
    return values;
}

std::vector<hsize_t> dataset_shape(hid_t file, const std::string& name, const std::string& path) {
    if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
        throw std::invalid_argument("'" + path + "' has no dataset " + name);
    }
    Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
    Handle space(check(H5Dget_space(ds), "H5Dget_space"));
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank != 1) throw std::invalid_argument("'" + path + "': " + name + " is not one-dimensional");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    return {n};
}

// ---- writing ------------------------------------------------------------------------------------

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
    Handle type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
    check_status(H5Tset_size(type, H5T_VARIABLE), "H5Tset_size");
    check_status(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset");
    Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
    Handle attr(check(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT),
                      std::string("creating attribute ") + name));
    const char* text = value.c_str();
    check_status(H5Awrite(attr, type, &text), std::string("writing attribute ") + name);
}

void write_double_attribute(hid_t object, const char* name, double value) {
    Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
    Handle attr(check(H5Acreate2(object, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                      std::string("creating attribute ") + name));
    check_status(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), std::string("writing attribute ") + name);
}

class PhaseWriter {
public:
    PhaseWriter(const std::string& path, const PhaseTable& table)
        : table_(table), file_(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                                     "creating '" + path + "'")) {
        write_string_attribute(file_, "schema", kPhaseSchema);
        write_string_attribute(file_, "source", table.source);
        write_string_attribute(file_, "config", table.config);
        write_string_attribute(file_, "sweep_version", table.sweep_version);
        write_string_attribute(file_, "version", version);
        // The regime rule, so a reader of the file knows what its labels mean.
        write_double_attribute(file_, "epsilon", table.rule.epsilon);
        write_double_attribute(file_, "diverged_fraction", table.rule.diverged_fraction);
        write_double_attribute(file_, "collapse_balance", table.rule.collapse_balance);
        write_double_attribute(file_, "collapse_risk", table.rule.collapse_risk);
        write_double_attribute(file_, "falling_log", table.rule.falling_log);

        Handle axes(check(H5Gcreate2(file_, "axes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating /axes"));
        std::vector<std::int64_t> dims(table.dim.begin(), table.dim.end());
        lr_ = axis(axes, "lr", table.lr.data(), table.lr.size(), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
        dim_ = axis(axes, "dim", dims.data(), dims.size(), H5T_NATIVE_INT64, H5T_STD_I64LE);
        alpha_ = axis(axes, "alpha", table.alpha.data(), table.alpha.size(), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
        time_ = axis(file_, "time", table.time.data(), table.time.size(), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);

        regime_type_ = check(H5Tenum_create(H5T_NATIVE_INT8), "H5Tenum_create");
        for (std::size_t k = 0; k < regime_names.size(); ++k) {
            const auto value = static_cast<std::int8_t>(k);
            const std::string name(regime_names[k]);
            check_status(H5Tenum_insert(regime_type_, name.c_str(), &value), "H5Tenum_insert");
        }
    }
    PhaseWriter(const PhaseWriter&) = delete;
    PhaseWriter& operator=(const PhaseWriter&) = delete;
    ~PhaseWriter() {
        for (hid_t id : {lr_, dim_, alpha_, time_, regime_type_}) {
            if (id >= 0) H5Idec_ref(id);
        }
        if (file_ >= 0) H5Fclose(file_);
    }

    void close() {
        for (hid_t* id : {&lr_, &dim_, &alpha_, &time_, &regime_type_}) {
            H5Idec_ref(*id);
            *id = -1;
        }
        const herr_t status = H5Fclose(file_);
        file_ = -1;
        check_status(status, "closing the phase file");
    }

    void method(const MethodPhase& m) {
        Handle group(check(H5Gcreate2(file_, m.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                           "creating /" + m.name));
        const std::vector<hid_t> scales = m.per_dim ? std::vector<hid_t>{lr_, dim_, alpha_} : std::vector<hid_t>{lr_, alpha_};
        std::vector<hsize_t> shape = m.per_dim
            ? std::vector<hsize_t>{table_.lr.size(), table_.dim.size(), table_.alpha.size()}
            : std::vector<hsize_t>{table_.lr.size(), table_.alpha.size()};
        const auto& pts = m.points;
        auto per_point = [&](const char* name, auto get) {
            std::vector<double> v;
            v.reserve(pts.size());
            for (const auto& p : pts) v.push_back(get(p));
            dataset(group, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v.data(), shape, scales, false);
        };
        std::vector<std::int32_t> computed;
        std::vector<std::int8_t> regime;
        for (const auto& p : pts) {
            computed.push_back(static_cast<std::int32_t>(p.computed));
            regime.push_back(static_cast<std::int8_t>(p.regime));
        }
        dataset(group, "replicates", H5T_NATIVE_INT32, H5T_STD_I32LE, computed.data(), shape, scales, false);
        dataset(group, "regime", regime_type_, regime_type_, regime.data(), shape, scales, false);
        per_point("diverged_fraction", [](const PointSummary& p) { return p.diverged_fraction; });
        per_point("risk_final_mean", [](const PointSummary& p) { return p.risk_final_mean; });
        per_point("risk_final_std", [](const PointSummary& p) { return p.risk_final_std; });
        per_point("time_to_epsilon", [](const PointSummary& p) { return p.time_to_epsilon; });
        per_point("tail_rate", [](const PointSummary& p) { return p.tail.rate; });
        per_point("curvature_final", [](const PointSummary& p) { return p.curvature_final; });
        per_point("balance_final", [](const PointSummary& p) { return p.balance_final; });
        per_point("false_support_final", [](const PointSummary& p) { return p.false_support_final; });

        // The curves of the risk plot: survivors' mean excess risk and its range over replicates.
        const std::size_t n_time = table_.time.size();
        auto curves = [&](const char* name, std::vector<double> PointSummary::*member) {
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
            dataset(group, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, v.data(), shape, scales, true);
        };
        curves("excess_mean", &PointSummary::excess_mean);
        curves("excess_lo", &PointSummary::excess_lo);
        curves("excess_hi", &PointSummary::excess_hi);

        if (!m.gap.empty()) {
            dataset(group, "gap_pde", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, m.gap.data(), shape, scales, false);
            const std::vector<hsize_t> pair{table_.lr.size(), table_.alpha.size()};
            const std::vector<hid_t> pair_scales{lr_, alpha_};
            std::vector<double> exponent, prefactor;
            for (const auto& f : m.gap_fit) {
                exponent.push_back(f.exponent);
                prefactor.push_back(f.prefactor);
            }
            dataset(group, "gap_exponent", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, exponent.data(), pair, pair_scales, false);
            dataset(group, "gap_prefactor", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, prefactor.data(), pair, pair_scales, false);
        }
        if (!m.predicted_rate.empty()) {
            const std::vector<hsize_t> pair{table_.lr.size(), table_.alpha.size()};
            const std::vector<hid_t> pair_scales{lr_, alpha_};
            dataset(group, "predicted_rate", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, m.predicted_rate.data(), pair,
                    pair_scales, false);
            dataset(group, "pde_error_estimate", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, m.pde_error_estimate.data(), pair,
                    pair_scales, false);
        }
    }

private:
    hid_t axis(hid_t parent, const char* name, const void* values, std::size_t n, hid_t mem_type, hid_t file_type) {
        const hsize_t size = n;
        Handle space(check(H5Screate_simple(1, &size, nullptr), "H5Screate_simple"));
        const hid_t ds = check(H5Dcreate2(parent, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                               std::string("creating ") + name);
        if (n > 0) check_status(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), std::string("writing ") + name);
        check_status(H5DSset_scale(ds, name), std::string("making ") + name + " a dimension scale");
        return ds;
    }

    void dataset(hid_t group, const char* name, hid_t mem_type, hid_t file_type, const void* data,
                 std::vector<hsize_t> shape, const std::vector<hid_t>& scales, bool with_time) {
        if (with_time) shape.push_back(table_.time.size());
        Handle space(check(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "H5Screate_simple"));
        Handle ds(check(H5Dcreate2(group, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        std::string("creating ") + name));
        check_status(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), std::string("writing ") + name);
        for (std::size_t k = 0; k < scales.size(); ++k) {
            check_status(H5DSattach_scale(ds, scales[k], static_cast<unsigned>(k)), "attaching a scale");
        }
        if (with_time) check_status(H5DSattach_scale(ds, time_, static_cast<unsigned>(scales.size())), "attaching /time");
    }

    const PhaseTable& table_;
    hid_t file_;
    hid_t lr_ = -1, dim_ = -1, alpha_ = -1, time_ = -1, regime_type_ = -1;
};

std::string csv_number(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", x);
    return text;
}

}  // namespace

SweepData read_sweep(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // problems come back as exceptions
    if (!fs::is_regular_file(path)) throw std::invalid_argument("'" + path + "' is not a file");
    if (H5Fis_hdf5(path.c_str()) <= 0) throw std::invalid_argument("'" + path + "' is not a readable HDF5 file");
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file < 0) throw std::invalid_argument("cannot open '" + path + "'");

    SweepData data;
    data.source = path;
    data.schema = read_string_attribute(file, "schema");
    if (data.schema != "dln-sweep/1") {
        throw std::invalid_argument("'" + path + "' is not a dln sweep file (schema '" + data.schema + "')");
    }
    data.version = read_string_attribute(file, "version");
    data.config = read_string_attribute(file, "config");

    data.lr = read_dataset<double>(file, "/axes/lr", H5T_NATIVE_DOUBLE, dataset_shape(file, "/axes/lr", path), path);
    const auto dims = read_dataset<std::int64_t>(file, "/axes/dim", H5T_NATIVE_INT64,
                                                 dataset_shape(file, "/axes/dim", path), path);
    for (auto d : dims) {
        if (d < 1) throw std::invalid_argument("'" + path + "': /axes/dim holds " + std::to_string(d));
        data.dim.push_back(static_cast<std::uint64_t>(d));
    }
    data.alpha = read_dataset<double>(file, "/axes/alpha", H5T_NATIVE_DOUBLE, dataset_shape(file, "/axes/alpha", path), path);
    data.seeds = static_cast<std::size_t>(dataset_shape(file, "/axes/seed", path)[0]);
    data.time = read_dataset<double>(file, "/time", H5T_NATIVE_DOUBLE, dataset_shape(file, "/time", path), path);

    const hsize_t n_lr = data.lr.size(), n_dim = data.dim.size(), n_alpha = data.alpha.size(), n_seed = data.seeds,
                  n_time = data.time.size();
    for (const char* name : {"sgd", "sde", "pde"}) {
        const std::string group = std::string("/") + name;
        if (H5Lexists(file, name, H5P_DEFAULT) <= 0) continue;
        SweepData::Method m;
        m.name = name;
        const std::vector<hsize_t> unit_shape = m.per_dim() ? std::vector<hsize_t>{n_lr, n_dim, n_alpha, n_seed}
                                                            : std::vector<hsize_t>{n_lr, n_alpha};
        std::vector<hsize_t> curve_shape = unit_shape;
        curve_shape.push_back(n_time);
        const auto status = read_dataset<std::int8_t>(file, group + "/status", H5T_NATIVE_INT8, unit_shape, path);
        m.outcome.reserve(status.size());
        for (auto s : status) {
            // 1 done, 2 diverged; 0 pending and 3 failed carry no result.
            m.outcome.push_back(s == 1 ? Outcome::finished : s == 2 ? Outcome::diverged : Outcome::missing);
        }
        auto curve = [&](const char* observable) {
            return read_dataset<double>(file, group + "/" + observable, H5T_NATIVE_DOUBLE, curve_shape, path);
        };
        m.risk = curve("risk");
        m.excess = curve("excess");
        m.curvature = curve("curvature");
        m.balance = curve("balance");
        m.false_support = curve("false_support");
        if (!m.per_dim()) {
            // The PDE's accuracy fields (absent from files of older versions: then NaN downstream).
            auto optional_field = [&](const char* field) {
                const std::string full = group + "/" + field;
                if (H5Lexists(file, full.c_str(), H5P_DEFAULT) <= 0) return std::vector<double>{};
                return read_dataset<double>(file, full, H5T_NATIVE_DOUBLE, unit_shape, path);
            };
            m.error_estimate = optional_field("error_estimate");
            m.predicted_rate = optional_field("predicted_rate");
        }
        data.methods.push_back(std::move(m));
    }
    if (data.methods.empty()) throw std::invalid_argument("'" + path + "' holds no method group (sgd, sde, pde)");
    return data;
}

void write_phase_h5(const std::string& path, const PhaseTable& table) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    PhaseWriter writer(path, table);
    for (const auto& m : table.methods) writer.method(m);
    writer.close();
}

void write_phase_csv(std::ostream& out, const PhaseTable& table) {
    out << "method,lr,dim,alpha,replicates,regime,diverged_fraction,risk_final_mean,risk_final_std,"
           "time_to_epsilon,tail_rate,predicted_rate,curvature_final,balance_final,false_support_final,gap_pde,"
           "pde_error_estimate,gap_exponent\n";
    const std::size_t n_dim = table.dim.size(), n_alpha = table.alpha.size();
    for (const auto& m : table.methods) {
        const std::size_t dims = m.per_dim ? n_dim : 1;
        for (std::size_t l = 0; l < table.lr.size(); ++l) {
            for (std::size_t d = 0; d < dims; ++d) {
                for (std::size_t a = 0; a < n_alpha; ++a) {
                    const std::size_t p = m.per_dim ? (l * n_dim + d) * n_alpha + a : l * n_alpha + a;
                    const auto& s = m.points[p];
                    const double gap = m.gap.empty() ? kNaN : m.gap[p];
                    const double exponent = m.gap_fit.empty() ? kNaN : m.gap_fit[l * n_alpha + a].exponent;
                    const double predicted = m.predicted_rate.empty() ? kNaN : m.predicted_rate[l * n_alpha + a];
                    const double estimate = m.pde_error_estimate.empty() ? kNaN : m.pde_error_estimate[l * n_alpha + a];
                    out << m.name << ',' << csv_number(table.lr[l]) << ','
                        << (m.per_dim ? std::to_string(table.dim[d]) : std::string("inf")) << ','
                        << csv_number(table.alpha[a]) << ',' << s.computed << ',' << regime_name(s.regime);
                    for (double x : {s.diverged_fraction, s.risk_final_mean, s.risk_final_std, s.time_to_epsilon,
                                     s.tail.rate, predicted, s.curvature_final, s.balance_final,
                                     s.false_support_final, gap, estimate, exponent}) {
                        out << ',' << csv_number(x);
                    }
                    out << '\n';
                }
            }
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

void write_phase_directory(const std::string& dir, const PhaseTable& table) {
    check_output_directory(dir);
    fs::create_directory(dir);
    const fs::path h5 = fs::path(dir) / "phase.h5", csv = fs::path(dir) / "phase.csv";
    const std::string suffix = ".tmp-" + std::to_string(static_cast<long>(getpid()));
    const fs::path h5_tmp = h5.string() + suffix, csv_tmp = csv.string() + suffix;
    try {
        write_phase_h5(h5_tmp.string(), table);
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
