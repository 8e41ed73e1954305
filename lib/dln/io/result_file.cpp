#include "dln/io/result_file.hpp"

#include "dln/io/failpoint.hpp"
#include "dln/io/hdf5_support.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

namespace dln::io {
namespace {

using hdf5::check;
using hdf5::Handle;

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
    Handle type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
    check(H5Tset_size(type, H5T_VARIABLE), "H5Tset_size", 0);
    check(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset", 0);
    Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
    Handle attr(check(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT),
                      std::string("creating attribute ") + name));
    const char* text = value.c_str();
    check(H5Awrite(attr, type, &text), std::string("writing attribute ") + name, 0);
}

template <class T>
hid_t create_axis(hid_t parent, const char* name, const std::vector<T>& values, hid_t mem_type,
                  hid_t file_type, const char* scale_name) {
    const hsize_t n = values.size();
    Handle space(check(H5Screate_simple(1, &n, nullptr), "H5Screate_simple"));
    const hid_t ds = check(H5Dcreate2(parent, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                           std::string("creating ") + name);
    // Same values on every rank; HDF5 writes the raw data once per collective call.
    check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          std::string("writing ") + name, 0);
    check(H5DSset_scale(ds, scale_name), std::string("making ") + name + " a dimension scale", 0);
    return ds;
}

// The per-unit datasets of a method group that follow the observables, in this order.
enum Extra : std::size_t { status_ds, diverged_at_ds, wall_seconds_ds, failures_ds, failure_ds, extra_count };
constexpr const auto& extra_names = unit_dataset_names;
static_assert(std::size(unit_dataset_names) == extra_count);

// Fixed-length strings: parallel HDF5 cannot write variable-length data independently.
hid_t failure_string_type() {
    const hid_t type = check(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type, failure_length), "H5Tset_size", 0);
    check(H5Tset_strpad(type, H5T_STR_NULLTERM), "H5Tset_strpad", 0);
    check(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset", 0);
    return type;
}

hid_t scalar_type(ScalarType type) {
    switch (type) {
        case ScalarType::int64: return H5T_NATIVE_INT64;
        case ScalarType::int8: return H5T_NATIVE_INT8;
        default: return H5T_NATIVE_DOUBLE;
    }
}

// One scalar field's value in the bytes of its memory type (whole numbers for the integer types;
// a NaN there is the fill, 0).
struct ScalarBytes {
    double f64 = 0.0;
    std::int64_t i64 = 0;
    std::int8_t i8 = 0;
    const void* data(ScalarType type) const {
        return type == ScalarType::int64 ? static_cast<const void*>(&i64)
               : type == ScalarType::int8 ? static_cast<const void*>(&i8) : static_cast<const void*>(&f64);
    }
};

ScalarBytes scalar_bytes(double value) {
    ScalarBytes b;
    b.f64 = value;
    if (std::isfinite(value)) {
        b.i64 = static_cast<std::int64_t>(value);
        b.i8 = static_cast<std::int8_t>(value);
    }
    return b;
}

}  // namespace

const std::vector<ScalarField>& ResultLayout::scalars_of(const std::string& method) const {
    static const std::vector<ScalarField> none;
    const auto it = scalars.find(method);
    return it == scalars.end() ? none : it->second;
}

struct ResultFile::Impl {
    hid_t file = -1;
    ResultLayout layout;
    // The datasets stay open from create() to close(), so writers never open or close objects:
    // those are metadata operations and would have to be collective. Per method: the observable
    // datasets in layout order, then those of Extra, then the method's scalar fields.
    std::map<std::string, std::vector<hid_t>> datasets;
};

ResultFile::ResultFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultFile::ResultFile(ResultFile&&) noexcept = default;
ResultFile& ResultFile::operator=(ResultFile&&) noexcept = default;
ResultFile::~ResultFile() = default;

void ResultFile::check_can_create(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    if (path.empty()) throw std::invalid_argument("no output file given");
    const fs::path file(path);
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw std::invalid_argument("directory '" + dir.string() + "' of '" + path + "' does not exist");
    }
    if (fs::exists(file, ec) && !overwrite) {
        throw std::invalid_argument("'" + path + "' exists; pass --force to overwrite it");
    }
    if (fs::is_directory(file, ec)) throw std::invalid_argument("'" + path + "' is a directory");
}

ResultFile ResultFile::create(MPI_Comm comm, const std::string& path, const ResultLayout& layout,
                              bool overwrite) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported as exceptions
    Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"));
    check(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", 0);
    const hid_t file = H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (file < 0) throw std::runtime_error("cannot create the HDF5 file '" + path + "'");
    failpoint("create");

    write_string_attribute(file, "schema", schema);
    write_string_attribute(file, "config", layout.config);
    write_string_attribute(file, "version", layout.version);
    if (!layout.shard.empty()) write_string_attribute(file, "shard", layout.shard);
    write_string_attribute(file, "petsc_options", layout.petsc_options);

    Handle axes(check(H5Gcreate2(file, "axes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "creating /axes"));
    std::vector<std::int64_t> dims(layout.dim.begin(), layout.dim.end());
    std::vector<std::int64_t> seeds(layout.seeds);
    for (std::size_t s = 0; s < seeds.size(); ++s) seeds[s] = static_cast<std::int64_t>(s);
    Handle lr(create_axis(axes, "lr", layout.lr, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, "lr"));
    Handle dim(create_axis(axes, "dim", dims, H5T_NATIVE_INT64, H5T_STD_I64LE, "dim"));
    Handle alpha(create_axis(axes, "alpha", layout.alpha, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, "alpha"));
    Handle seed(create_axis(axes, "seed", seeds, H5T_NATIVE_INT64, H5T_STD_I64LE, "seed"));
    Handle time(create_axis(file, "time", layout.time, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, "time"));

    const double nan = std::nan("");
    const std::int8_t pending = static_cast<std::int8_t>(UnitStatus::pending);
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    impl->layout = layout;
    for (const auto& method : layout.methods) {
        // pde does not depend on the dimension or the replicate: its datasets drop those axes.
        const bool per_point = method == "pde";
        std::vector<hid_t> scales = per_point ? std::vector<hid_t>{lr, alpha}
                                              : std::vector<hid_t>{lr, dim, alpha, seed};
        std::vector<hsize_t> shape = per_point
            ? std::vector<hsize_t>{layout.lr.size(), layout.alpha.size()}
            : std::vector<hsize_t>{layout.lr.size(), layout.dim.size(), layout.alpha.size(), layout.seeds};
        Handle group(check(H5Gcreate2(file, method.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                           "creating /" + method));
        auto make = [&](const std::string& name, hid_t type, const void* fill, bool with_time) -> hid_t {
            std::vector<hsize_t> dims_here = shape;
            if (with_time) dims_here.push_back(layout.time.size());
            Handle space(check(H5Screate_simple(static_cast<int>(dims_here.size()), dims_here.data(), nullptr),
                               "H5Screate_simple"));
            Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"));
            // Unwritten entries read as pending / NaN; no compression: slabs are written independently.
            check(H5Pset_fill_value(dcpl, type, fill), "H5Pset_fill_value", 0);
            check(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time", 0);
            const hid_t ds = check(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                                   "creating /" + method + "/" + name);
            for (std::size_t k = 0; k < scales.size(); ++k) {
                check(H5DSattach_scale(ds, scales[k], static_cast<unsigned>(k)), "attaching a scale", 0);
            }
            if (with_time) {
                check(H5DSattach_scale(ds, time, static_cast<unsigned>(scales.size())), "attaching /time", 0);
            }
            impl->datasets[method].push_back(ds);
            return ds;
        };
        for (const auto& observable : layout.observables) make(observable, H5T_NATIVE_DOUBLE, &nan, true);
        const std::int8_t no_failures = 0;
        const char no_message[failure_length] = {};
        Handle string_type(failure_string_type());
        make(extra_names[status_ds], H5T_NATIVE_INT8, &pending, false);
        make(extra_names[diverged_at_ds], H5T_NATIVE_DOUBLE, &nan, false);
        make(extra_names[wall_seconds_ds], H5T_NATIVE_DOUBLE, &nan, false);
        make(extra_names[failures_ds], H5T_NATIVE_INT8, &no_failures, false);
        make(extra_names[failure_ds], string_type, no_message, false);
        for (const auto& field : layout.scalars_of(method)) {
            const auto fill = scalar_bytes(nan);
            const hid_t ds = make(field.name, scalar_type(field.type), fill.data(field.type), false);
            write_string_attribute(ds, "long_name", field.long_name);
            if (!field.units.empty()) write_string_attribute(ds, "units", field.units);
        }
    }
    // The layout goes to disk before any unit is written: from here on only raw data changes, so
    // a job killed mid-sweep leaves a readable file (and the journal has the units in flight).
    check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flushing the new file", 0);
    return ResultFile(std::move(impl));
}

ResultFile ResultFile::open(MPI_Comm comm, const std::string& path, const ResultLayout& layout) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"));
    check(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "H5Pset_fapl_mpio", 0);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
    if (file < 0) throw std::runtime_error("cannot open the HDF5 file '" + path + "' to resume it");
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    impl->layout = layout;
    for (const auto& method : layout.methods) {
        std::vector<std::string> names(layout.observables);
        for (const char* extra : extra_names) names.emplace_back(extra);
        for (const auto& field : layout.scalars_of(method)) names.push_back(field.name);
        for (const auto& name : names) {
            const std::string full = "/" + method + "/" + name;
            impl->datasets[method].push_back(check(H5Dopen2(file, full.c_str(), H5P_DEFAULT), "opening " + full));
        }
    }
    return ResultFile(std::move(impl));
}

namespace {

std::vector<std::int8_t> read_int8(hid_t ds, const std::string& what) {
    Handle space(check(H5Dget_space(ds), "H5Dget_space"));
    std::vector<std::int8_t> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Dread(ds, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "reading " + what, 0);
    return values;
}

}  // namespace

std::vector<std::int8_t> ResultFile::read_status(const std::string& method) const {
    return read_int8(impl_->datasets.at(method)[impl_->layout.observables.size() + status_ds], method + "/status");
}

std::vector<std::int8_t> ResultFile::read_failures(const std::string& method) const {
    return read_int8(impl_->datasets.at(method)[impl_->layout.observables.size() + failures_ds],
                     method + "/failures");
}

void ResultFile::write(const std::string& method, const UnitRecord& record) {
    if (!impl_ || impl_->file < 0) throw std::logic_error("writing to a closed result file");
    const auto& layout = impl_->layout;
    const auto& datasets = impl_->datasets.at(method);
    const bool per_point = method == "pde";
    std::vector<hsize_t> start = per_point
        ? std::vector<hsize_t>{record.index[0], record.index[2]}
        : std::vector<hsize_t>{record.index[0], record.index[1], record.index[2], record.index[3]};
    const std::size_t n_time = layout.time.size();
    if (record.values.size() != layout.observables.size() * n_time) {
        throw std::invalid_argument("UnitRecord has the wrong number of values");
    }
    auto write_slab = [&](hid_t ds, hid_t mem_type, const void* data, bool with_time) {
        std::vector<hsize_t> offset = start, count(start.size(), 1);
        if (with_time) {
            offset.push_back(0);
            count.push_back(n_time);
        }
        Handle file_space(check(H5Dget_space(ds), "H5Dget_space"));
        check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, offset.data(), nullptr, count.data(), nullptr),
              "selecting a slab", 0);
        const hsize_t n = with_time ? n_time : 1;
        Handle mem_space(check(H5Screate_simple(1, &n, nullptr), "H5Screate_simple"));
        // Independent transfer (the default): other ranks are busy computing their own units.
        check(H5Dwrite(ds, mem_type, mem_space, file_space, H5P_DEFAULT, data), "writing a slab", 0);
    };
    for (std::size_t k = 0; k < layout.observables.size(); ++k) {
        write_slab(datasets[k], H5T_NATIVE_DOUBLE, record.values.data() + k * n_time, true);
    }
    failpoint("writing");
    const std::size_t base = layout.observables.size();
    write_slab(datasets[base + diverged_at_ds], H5T_NATIVE_DOUBLE, &record.diverged_at, false);
    write_slab(datasets[base + wall_seconds_ds], H5T_NATIVE_DOUBLE, &record.wall_seconds, false);
    write_slab(datasets[base + failures_ds], H5T_NATIVE_INT8, &record.failures, false);
    char message[failure_length] = {};
    record.message.copy(message, failure_length - 1);
    Handle string_type(failure_string_type());
    write_slab(datasets[base + failure_ds], string_type, message, false);
    const auto& fields = layout.scalars_of(method);
    if (!record.scalars.empty() && record.scalars.size() != fields.size()) {
        throw std::invalid_argument("UnitRecord has " + std::to_string(record.scalars.size()) + " scalar values, /" +
                                    method + " has " + std::to_string(fields.size()) + " scalar fields");
    }
    for (std::size_t k = 0; k < fields.size(); ++k) {
        const auto bytes = scalar_bytes(record.scalars.empty() ? std::nan("") : record.scalars[k]);
        write_slab(datasets[base + extra_count + k], scalar_type(fields[k].type), bytes.data(fields[k].type), false);
    }
    const auto status = static_cast<std::int8_t>(record.status);
    write_slab(datasets[base + status_ds], H5T_NATIVE_INT8, &status, false);
}

namespace {

std::string read_string_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return {};
    Handle attr(check(H5Aopen(object, name, H5P_DEFAULT), std::string("opening attribute ") + name));
    Handle type(check(H5Aget_type(attr), "H5Aget_type"));
    if (H5Tis_variable_str(type) <= 0) return {};
    char* text = nullptr;
    // The file's own string type: HDF5 does not convert between the ASCII and UTF-8 character sets.
    check(H5Aread(attr, type, &text), std::string("reading attribute ") + name, 0);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
}

}  // namespace

namespace {

template <class T>
std::vector<T> read_all(hid_t file, const std::string& name, hid_t mem_type) {
    Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
    Handle space(check(H5Dget_space(ds), "H5Dget_space"));
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "reading " + name, 0);
    return values;
}

// A failed unit as a reader names it: its axis values, how often it failed, and why.
FileSummary::FailedUnit describe_failure(hid_t file, const std::string& method, std::size_t position) {
    const auto lr = read_all<double>(file, "/axes/lr", H5T_NATIVE_DOUBLE);
    const auto dim = read_all<std::int64_t>(file, "/axes/dim", H5T_NATIVE_INT64);
    const auto alpha = read_all<double>(file, "/axes/alpha", H5T_NATIVE_DOUBLE);
    const auto seeds = read_all<std::int64_t>(file, "/axes/seed", H5T_NATIVE_INT64).size();
    std::ostringstream where;
    if (method == "pde") {
        where << "lr=" << lr[position / alpha.size()] << " alpha=" << alpha[position % alpha.size()];
    } else {
        const std::size_t s = position % seeds, a = position / seeds % alpha.size();
        const std::size_t d = position / seeds / alpha.size() % dim.size();
        const std::size_t l = position / seeds / alpha.size() / dim.size();
        where << "lr=" << lr[l] << " dim=" << dim[d] << " alpha=" << alpha[a] << " seed=" << s;
    }
    FileSummary::FailedUnit unit;
    unit.method = method;
    unit.where = where.str();
    const std::string group = "/" + method + "/";
    if (H5Lexists(file, (group + "failures").c_str(), H5P_DEFAULT) > 0) {
        // Whole datasets: they are small (a byte, and failure_length bytes, per unit) and a
        // point selection would need every coordinate of the position.
        unit.failures = read_all<std::int8_t>(file, group + "failures", H5T_NATIVE_INT8).at(position);
        Handle type(failure_string_type());
        const auto text = read_all<std::array<char, failure_length>>(file, group + "failure", type).at(position);
        unit.message = std::string(text.data(), strnlen(text.data(), text.size()));
    }
    return unit;
}

void count_units(hid_t file, FileSummary& summary);

}  // namespace

FileSummary summarize(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (!std::filesystem::is_regular_file(path)) throw std::invalid_argument("'" + path + "' is not a file");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        throw std::invalid_argument("'" + path + "' is not a readable HDF5 file");
    }
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file < 0) throw std::invalid_argument("cannot open '" + path + "'");
    FileSummary summary;
    summary.schema = read_string_attribute(file, "schema");
    if (summary.schema != ResultFile::schema) {
        throw std::invalid_argument("'" + path + "' is not a dln sweep file (schema '" + summary.schema + "')");
    }
    summary.version = read_string_attribute(file, "version");
    summary.config = read_string_attribute(file, "config");
    summary.shard = read_string_attribute(file, "shard");
    summary.petsc_options = read_string_attribute(file, "petsc_options");
    try {
        count_units(file, summary);
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument("'" + path + "' is damaged (" + e.what() + ")");
    }
    return summary;
}

namespace {

void count_units(hid_t file, FileSummary& summary) {
    for (const char* method : {"sgd", "sde", "pde"}) {
        const std::string name = std::string("/") + method + "/status";
        if (H5Lexists(file, method, H5P_DEFAULT) <= 0 || H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) continue;
        Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
        const auto status = read_int8(ds, name);
        FileSummary::MethodCounts counts;
        counts.method = method;
        for (std::size_t u = 0; u < status.size(); ++u) {
            switch (static_cast<UnitStatus>(status[u])) {
                case UnitStatus::done: ++counts.done; break;
                case UnitStatus::diverged: ++counts.diverged; break;
                case UnitStatus::failed:
                    ++counts.failed;
                    summary.failed.push_back(describe_failure(file, method, u));
                    break;
                default: ++counts.pending; break;
            }
        }
        summary.methods.push_back(counts);
    }
}

}  // namespace

void ResultFile::check_layout(const std::string& path, const ResultLayout& layout) {
    summarize(path);  // a readable dln sweep file at all
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file < 0) throw std::invalid_argument("cannot open '" + path + "'");
    auto expect = [&](const std::string& name, std::vector<hsize_t> shape) {
        if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) {
            throw std::invalid_argument("'" + path + "' has no " + name);
        }
        Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
        Handle space(ds < 0 ? -1 : H5Dget_space(ds));
        std::vector<hsize_t> dims(shape.size());
        if (space < 0 || H5Sget_simple_extent_ndims(space) != static_cast<int>(shape.size()) ||
            H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0 || dims != shape) {
            throw std::invalid_argument("'" + path + "': " + name + " does not have the sweep's shape");
        }
    };
    expect("/axes/lr", {layout.lr.size()});
    expect("/axes/dim", {layout.dim.size()});
    expect("/axes/alpha", {layout.alpha.size()});
    expect("/axes/seed", {layout.seeds});
    expect("/time", {layout.time.size()});
    for (const auto& method : layout.methods) {
        std::vector<hsize_t> shape = method == "pde"
            ? std::vector<hsize_t>{layout.lr.size(), layout.alpha.size()}
            : std::vector<hsize_t>{layout.lr.size(), layout.dim.size(), layout.alpha.size(), layout.seeds};
        std::vector<hsize_t> with_time = shape;
        with_time.push_back(layout.time.size());
        for (const auto& name : layout.observables) expect("/" + method + "/" + name, with_time);
        for (const char* name : extra_names) expect("/" + method + "/" + name, shape);
        for (const auto& field : layout.scalars_of(method)) expect("/" + method + "/" + field.name, shape);
    }
}

std::vector<double> read_unit_field(const std::string& path, const std::string& method, const std::string& name) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (file < 0) throw std::invalid_argument("cannot open '" + path + "'");
    const std::string full = "/" + method + "/" + name;
    if (H5Lexists(file, method.c_str(), H5P_DEFAULT) <= 0 || H5Lexists(file, full.c_str(), H5P_DEFAULT) <= 0) return {};
    return read_all<double>(file, full, H5T_NATIVE_DOUBLE);  // HDF5 converts the integer types
}

void ResultFile::close() {
    if (!impl_ || impl_->file < 0) return;
    for (const auto& [method, datasets] : impl_->datasets) {
        for (hid_t ds : datasets) H5Dclose(ds);
    }
    impl_->datasets.clear();
    const herr_t status = H5Fclose(impl_->file);
    impl_->file = -1;
    if (status < 0) throw std::runtime_error("HDF5: closing the result file failed");
}

}  // namespace dln::io
