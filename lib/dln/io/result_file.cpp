#include "dln/io/result_file.hpp"

#include "dln/io/failpoint.hpp"
#include "dln/io/hdf5_support.hpp"
#include "dln/io/storage_error.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

#include "dln/version.hpp"

namespace dln::io {
namespace {

using hdf5::check;
using hdf5::Handle;

// The per-unit datasets of a group that follow the curves, in this order.
enum Extra : std::size_t { status_ds, diverged_at_ds, wall_seconds_ds, failures_ds, failure_ds, extra_count };
constexpr const auto& extra_names = unit_dataset_names;
static_assert(std::size(unit_dataset_names) == extra_count);

constexpr const char* kTime = "time";
constexpr const char* kFailureLength = "failure_length";

ValueType value_type(ScalarType type) {
    switch (type) {
        case ScalarType::int64: return ValueType::int64;
        case ScalarType::int8: return ValueType::int8;
        default: return ValueType::float64;
    }
}

hid_t memory_type(ScalarType type) {
    switch (type) {
        case ScalarType::int64: return H5T_NATIVE_INT64;
        case ScalarType::int8: return H5T_NATIVE_INT8;
        default: return H5T_NATIVE_DOUBLE;
    }
}

// A scalar's value in the bytes of its memory type (whole numbers for the integer types; NaN is
// the fill there, 0).
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

std::vector<std::string> dim_names(const GroupLayout& g) {
    std::vector<std::string> names;
    for (const auto& d : g.dims) names.push_back(d.name);
    return names;
}

// The names of a group's datasets in the order Impl keeps them: curves, the unit datasets, scalars.
std::vector<std::string> dataset_names(const GroupLayout& g) {
    std::vector<std::string> names;
    for (const auto& c : g.curves) names.push_back(c.name);
    for (const char* extra : extra_names) names.emplace_back(extra);
    for (const auto& f : g.scalars) names.push_back(f.name);
    return names;
}

void create_serially(const std::string& path, const ResultLayout& layout, bool overwrite) {
    NcWriter file(path, overwrite, layout.alignment);
    failpoint("create");
    file.attribute("schema", ResultFile::schema);
    file.attribute("Conventions", "CF-1.8");
    file.attribute("title", "dln sweep");
    file.attribute("version", layout.version);
    file.attribute("config", layout.config);
    if (!layout.shard.empty()) file.attribute("shard", layout.shard);
    file.attribute("petsc_options", layout.petsc_options);
    for (const auto& g : layout.groups) {
        auto group = file.group(g.name);
        for (const auto& d : g.dims) group.dimension(d);
        group.dimension(Dimension::numeric(kTime, layout.time, "time t, in units of d samples (d SGD steps)", "run.time"));
        group.dimension(Dimension::count(kFailureLength, failure_length));
        const auto unit_dims = dim_names(g);
        auto with = [&](std::initializer_list<const char*> more) {
            auto dims = unit_dims;
            for (const char* m : more) dims.emplace_back(m);
            return dims;
        };
        for (const auto& c : g.curves) {
            Variable v{c.name, ValueType::float64, with({kTime}), c.long_name};
            v.fill_nan = true;
            group.variable(v);
        }
        Variable status{extra_names[status_ds], ValueType::int8, unit_dims, "what became of the unit"};
        status.flag_values = {0, 1, 2, 3};
        status.flag_meanings = unit_status_meanings;
        group.variable(status);
        Variable diverged_at{extra_names[diverged_at_ds], ValueType::float64, unit_dims,
                             "time of the divergence (NaN if none)"};
        diverged_at.fill_nan = true;
        group.variable(diverged_at);
        Variable wall{extra_names[wall_seconds_ds], ValueType::float64, unit_dims, "wall time of computing the unit", "s"};
        wall.fill_nan = true;
        group.variable(wall);
        group.variable({extra_names[failures_ds], ValueType::int8, unit_dims, "how often the unit failed"});
        group.variable({extra_names[failure_ds], ValueType::chars, with({kFailureLength}), "why the unit last failed"});
        for (const auto& f : g.scalars) {
            Variable v{f.name, value_type(f.type), unit_dims, f.long_name, f.units};
            v.fill_nan = f.type == ScalarType::float64;
            v.flag_values = f.flag_values;
            v.flag_meanings = f.flag_meanings;
            group.variable(v);
        }
    }
    file.close();
}

}  // namespace

std::size_t GroupLayout::units() const {
    std::size_t n = 1;
    for (const auto& d : dims) n *= d.size();
    return n;
}

const GroupLayout& ResultLayout::group(const std::string& name) const {
    for (const auto& g : groups) {
        if (g.name == name) return g;
    }
    throw std::out_of_range("the sweep file has no group " + name);
}

struct ResultFile::Impl {
    hid_t file = -1;
    std::string path;  // for error messages
    ResultLayout layout;
    // The datasets stay open from open() to close(), so writers never open or close objects:
    // those are metadata operations and would have to be collective. Per group, in the order
    // of dataset_names.
    std::map<std::string, std::vector<hid_t>> datasets;
};

ResultFile::ResultFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultFile::ResultFile(ResultFile&&) noexcept = default;
ResultFile& ResultFile::operator=(ResultFile&&) noexcept = default;
ResultFile::~ResultFile() = default;

namespace {

// The outputs this process holds: a shared flock on each, kept open until the process exits
// (a crash or kill -9 releases it). Readers' HDF5 takes shared locks too, which do not conflict.
std::map<std::string, int>& held_outputs() {
    static std::map<std::string, int> held;
    return held;
}

void release_output(const std::string& path) {
    auto& held = held_outputs();
    if (auto it = held.find(path); it != held.end()) {
        ::close(it->second);
        held.erase(it);
    }
}

void hold_output(const std::string& path) {
    release_output(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        ::close(fd);
        return;
    }
    held_outputs()[path] = fd;
}

// Whether another process holds path: an exclusive flock is refused while any shared one is held.
bool held_elsewhere(const std::string& path) {
    release_output(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool busy = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return busy;
}

}  // namespace

void ResultFile::check_can_create(const std::string& path, bool overwrite) {
    namespace fs = std::filesystem;
    if (path.empty()) throw std::invalid_argument("no output file given");
    const fs::path file(path);
    const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw std::invalid_argument("directory '" + dir.string() + "' of '" + path + "' does not exist");
    }
    // Before any compute: a read-only file system refuses even root (EROFS), unlike permissions.
    if (::access(dir.c_str(), W_OK) != 0) {
        throw std::invalid_argument("directory '" + dir.string() + "' of '" + path + "' is not writable (" +
                                    std::strerror(errno) + ")");
    }
    if (fs::exists(file, ec) && !overwrite) {
        throw std::invalid_argument("'" + path + "' exists; pass --force to overwrite it");
    }
    if (fs::is_directory(file, ec)) throw std::invalid_argument("'" + path + "' is a directory");
}

void ResultFile::hold(const std::string& path) { hold_output(path); }

int ResultFile::hold_descriptor(const std::string& path) {
    const auto& held = held_outputs();
    const auto it = held.find(path);
    return it == held.end() ? -1 : it->second;
}

void ResultFile::hold_unless_in_use(const std::string& path) {
    if (held_elsewhere(path)) {
        throw std::invalid_argument("'" + path + "' is open in another process (a sweep writing it, or a reader): "
                                    "wait for it to end or stop it first");
    }
    hold_output(path);
}

ResultFile ResultFile::create(MPI_Comm comm, const std::string& path, const ResultLayout& layout, bool overwrite) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    // Rank 0 builds the whole layout serially (variable-length strings and attributes need no
    // collective calls then); the others wait, and learn whether it worked.
    // Under a name of its own, renamed to path once complete: a failure while it is created (a
    // full disk, a quota) leaves no partial file that looks like a sweep file, and an old file
    // that --force replaces stays whole until then.
    std::string error;
    if (rank == 0) {
        const std::string creating = path + ".creating";
        try {
            create_serially(creating, layout, true);
            if (!overwrite && std::filesystem::exists(path)) throw std::runtime_error("it appeared meanwhile");
            std::filesystem::rename(creating, path);
        } catch (const std::exception& e) {
            const int cause = errno;
            std::error_code ignored;
            std::filesystem::remove(creating, ignored);
            const bool has_reason = dynamic_cast<const StorageError*>(&e) != nullptr || cause == 0;
            error = "cannot create '" + path + "' (" + e.what() +
                    (has_reason ? std::string() : std::string(": ") + std::strerror(cause)) + ")";
        }
    }
    long long length = static_cast<long long>(error.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
    error.resize(static_cast<std::size_t>(length));
    MPI_Bcast(error.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
    if (!error.empty()) throw StorageError(error, true);
    return open(comm, path, layout);
}

ResultFile ResultFile::open(MPI_Comm comm, const std::string& path, const ResultLayout& layout) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"));
    // ROMIO's data sieving would turn a write of many scattered rows into read-modify-write of
    // the span between them, racing with the other ranks' rows in it unless the file system
    // locks byte ranges (many parallel ones do not): off, so each row is written as it is.
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "romio_ds_write", "disable");
    const herr_t set = H5Pset_fapl_mpio(fapl, comm, info);
    MPI_Info_free(&info);
    check(set, "H5Pset_fapl_mpio", 0);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
    if (file < 0) throw std::runtime_error("cannot open the HDF5 file '" + path + "' for writing");
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    impl->path = path;
    impl->layout = layout;
    for (const auto& g : layout.groups) {
        for (const auto& name : dataset_names(g)) {
            const std::string full = "/" + g.name + "/" + name;
            const hid_t ds = H5Dopen2(file, full.c_str(), H5P_DEFAULT);
            if (ds < 0) {  // it read as sound (--resume checks it first): damaged where only a writer looks
                for (const auto& [group_name, opened] : impl->datasets) {
                    for (hid_t d : opened) H5Dclose(d);
                }
                H5Fclose(file);
                throw std::invalid_argument("'" + path + "' is damaged (HDF5: opening " + full +
                                            " for writing failed): move it away and --resume rebuilds it from "
                                            "its journal, or start again with --force");
            }
            impl->datasets[g.name].push_back(ds);
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

std::vector<std::int8_t> ResultFile::read_status(const std::string& group) const {
    const auto& g = impl_->layout.group(group);
    return read_int8(impl_->datasets.at(group)[g.curves.size() + status_ds], group + "/status");
}

std::vector<std::int8_t> ResultFile::read_failures(const std::string& group) const {
    const auto& g = impl_->layout.group(group);
    return read_int8(impl_->datasets.at(group)[g.curves.size() + failures_ds], group + "/failures");
}

namespace {
std::size_t write_calls = 0;
}  // namespace

std::size_t hdf5_write_calls() { return write_calls; }

void ResultFile::write(const std::string& group, const UnitRecord& record) {
    write_many(group, std::span<const UnitRecord>(&record, 1));
}

void ResultFile::write_many(const std::string& group, std::span<const UnitRecord> records) {
    if (!impl_ || impl_->file < 0) throw std::logic_error("writing to a closed result file");
    if (records.empty()) return;
    const auto& layout = impl_->layout;
    const auto& g = layout.group(group);
    const auto& datasets = impl_->datasets.at(group);
    const std::size_t n_time = layout.time.size();
    // Checked before anything is written.
    for (const auto& record : records) {
        if (record.position >= g.units()) throw std::invalid_argument("UnitRecord position outside /" + group);
        if (record.values.size() != g.curves.size() * n_time) {
            throw std::invalid_argument("UnitRecord has the wrong number of values");
        }
        if (!record.scalars.empty() && record.scalars.size() != g.scalars.size()) {
            throw std::invalid_argument("UnitRecord has " + std::to_string(record.scalars.size()) +
                                        " scalar values, /" + group + " has " + std::to_string(g.scalars.size()) +
                                        " scalar fields");
        }
    }
    // A hyperslab selection is traversed in the file's row-major order whatever order its blocks
    // were added in, so the memory buffers follow the records sorted by position.
    std::map<std::size_t, const UnitRecord*> by_position;
    for (const auto& record : records) by_position[record.position] = &record;
    std::vector<const UnitRecord*> sorted;
    for (const auto& [position, record] : by_position) sorted.push_back(record);
    const std::size_t n = sorted.size();
    std::vector<std::size_t> dims, positions;
    for (const auto& d : g.dims) dims.push_back(d.size());
    for (const auto* record : sorted) positions.push_back(record->position);
    auto select = [&](hid_t space, hsize_t inner) { hdf5::select_rows(space, dims, positions, inner); };
    const std::size_t base = g.curves.size();
    Handle curve_space(check(H5Dget_space(datasets[0]), "H5Dget_space"));
    Handle unit_space(check(H5Dget_space(datasets[base + status_ds]), "H5Dget_space"));
    Handle failure_space(check(H5Dget_space(datasets[base + failure_ds]), "H5Dget_space"));
    select(curve_space, n_time);
    select(unit_space, 0);
    select(failure_space, failure_length);
    auto write_rows = [&](hid_t ds, hid_t file_space, hid_t mem_type, const void* data, std::size_t per_unit) {
        const hsize_t elements = n * per_unit;
        Handle mem_space(check(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple"));
        // Independent transfer (the default): other ranks are busy computing their own units.
        // A raw-data write fails only when the storage does (a full disk, say).
        if (H5Dwrite(ds, mem_type, mem_space, file_space, H5P_DEFAULT, data) < 0) {
            throw storage_error("cannot write units into", impl_->path);
        }
        ++write_calls;
    };
    std::vector<double> curve(n * n_time);
    for (std::size_t k = 0; k < g.curves.size(); ++k) {
        for (std::size_t i = 0; i < n; ++i) {
            std::copy_n(sorted[i]->values.data() + k * n_time, n_time, curve.data() + i * n_time);
        }
        write_rows(datasets[k], curve_space, H5T_NATIVE_DOUBLE, curve.data(), n_time);
    }
    failpoint("writing");
    if (n > 1) failpoint("writing-many");  // a group commit's write, not a replayed unit's
    std::vector<double> diverged_at(n), wall(n);
    std::vector<std::int8_t> failures(n), status(n);
    std::vector<char> messages(n * failure_length, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        diverged_at[i] = sorted[i]->diverged_at;
        wall[i] = sorted[i]->wall_seconds;
        failures[i] = sorted[i]->failures;
        status[i] = static_cast<std::int8_t>(sorted[i]->status);
        sorted[i]->message.copy(messages.data() + i * failure_length, failure_length - 1);
    }
    write_rows(datasets[base + diverged_at_ds], unit_space, H5T_NATIVE_DOUBLE, diverged_at.data(), 1);
    write_rows(datasets[base + wall_seconds_ds], unit_space, H5T_NATIVE_DOUBLE, wall.data(), 1);
    write_rows(datasets[base + failures_ds], unit_space, H5T_NATIVE_INT8, failures.data(), 1);
    Handle char_type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
    check(H5Tset_size(char_type, 1), "H5Tset_size", 0);
    write_rows(datasets[base + failure_ds], failure_space, char_type, messages.data(), failure_length);
    for (std::size_t k = 0; k < g.scalars.size(); ++k) {
        const auto type = g.scalars[k].type;
        std::vector<double> f64(n);
        std::vector<std::int64_t> i64(n);
        std::vector<std::int8_t> i8(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto bytes = scalar_bytes(sorted[i]->scalars.empty() ? std::nan("") : sorted[i]->scalars[k]);
            f64[i] = bytes.f64;
            i64[i] = bytes.i64;
            i8[i] = bytes.i8;
        }
        const void* data = type == ScalarType::int64 ? static_cast<const void*>(i64.data())
                           : type == ScalarType::int8 ? static_cast<const void*>(i8.data())
                                                      : static_cast<const void*>(f64.data());
        write_rows(datasets[base + extra_count + k], unit_space, memory_type(type), data, 1);
    }
    write_rows(datasets[base + status_ds], unit_space, H5T_NATIVE_INT8, status.data(), 1);
}

void ResultFile::close() {
    if (!impl_ || impl_->file < 0) return;
    for (const auto& [name, datasets] : impl_->datasets) {
        for (hid_t ds : datasets) H5Dclose(ds);
    }
    impl_->datasets.clear();
    const herr_t status = H5Fclose(impl_->file);
    impl_->file = -1;
    if (status < 0) throw storage_error("cannot close (flush)", impl_->path);
}

// ---- reading, serially ----------------------------------------------------------------------

std::string other_schema_message(const std::string& path, const std::string& schema, const std::string& version,
                                 const std::string& expected) {
    if (schema == "dln-sweep/1" || schema == "dln-phase/1") {
        return "'" + path + "' is a " + schema + " file (written by dln " + (version.empty() ? "?" : version) +
               "); this dln " + dln::version + " reads " + expected +
               " only: recompute it with this dln, or read it with the dln that wrote it";
    }
    if (schema.empty()) return "'" + path + "' is not a dln file (it has no schema attribute)";
    return "'" + path + "' is not a " + expected + " file (schema '" + schema + "')";
}

namespace {

// The units of each group of a readable sweep file (every group with a status variable: io does
// not know which methods there are), counted; failed units named by their coordinates.
void count_units(const NcReader& file, FileSummary& summary) {
    for (const auto& method : file.groups()) {
        if (!file.has_variable(method, "status")) continue;
        const auto status = file.read_int8(method, "status");
        const auto dims = file.dimensions(method, "status");
        FileSummary::MethodCounts counts;
        counts.method = method;
        std::vector<double> failures;
        std::vector<std::string> messages;
        for (std::size_t u = 0; u < status.size(); ++u) {
            switch (static_cast<UnitStatus>(status[u])) {
                case UnitStatus::done: ++counts.done; break;
                case UnitStatus::diverged: ++counts.diverged; break;
                case UnitStatus::failed: {
                    ++counts.failed;
                    if (messages.empty()) {
                        failures = file.read(method, "failures");
                        messages = file.read_strings(method, "failure");
                    }
                    FileSummary::FailedUnit unit;
                    unit.method = method;
                    std::ostringstream where;
                    std::size_t rest = u;
                    std::vector<std::string> parts(dims.size());
                    for (std::size_t k = dims.size(); k-- > 0;) {
                        const std::size_t i = rest % dims[k].size();
                        rest /= dims[k].size();
                        std::ostringstream part;
                        part << dims[k].name << '=';
                        if (dims[k].kind == Dimension::Kind::string) {
                            part << dims[k].labels[i];
                        } else {
                            part << dims[k].numbers[i];
                        }
                        parts[k] = part.str();
                    }
                    for (std::size_t k = 0; k < parts.size(); ++k) where << (k ? " " : "") << parts[k];
                    unit.where = where.str();
                    unit.position = u;
                    unit.failures = static_cast<int>(failures.at(u));
                    unit.message = messages.at(u);
                    summary.failed.push_back(unit);
                    break;
                }
                default: ++counts.pending; break;
            }
        }
        summary.methods.push_back(counts);
    }
}

}  // namespace

FileSummary summarize(const std::string& path) {
    NcReader file(path);
    FileSummary summary;
    summary.schema = file.attribute("schema");
    summary.version = file.attribute("version");
    if (summary.schema != ResultFile::schema) {
        throw std::invalid_argument(other_schema_message(path, summary.schema, summary.version, ResultFile::schema));
    }
    summary.config = file.attribute("config");
    summary.shard = file.attribute("shard");
    summary.petsc_options = file.attribute("petsc_options");
    try {
        count_units(file, summary);
    } catch (const std::exception& e) {
        throw std::invalid_argument("'" + path + "' is damaged (" + e.what() + ")");
    }
    return summary;
}

void ResultFile::check_layout(const std::string& path, const ResultLayout& layout) {
    summarize(path);  // a readable dln sweep file at all
    NcReader file(path);
    auto expect = [&](const std::string& group, const std::string& name, std::vector<std::size_t> shape) {
        if (!file.has_variable(group, name)) throw std::invalid_argument("'" + path + "' has no /" + group + "/" + name);
        if (file.shape(group, name) != shape) {
            throw std::invalid_argument("'" + path + "': /" + group + "/" + name + " does not have the sweep's shape");
        }
    };
    for (const auto& g : layout.groups) {
        std::vector<std::size_t> shape;
        for (const auto& d : g.dims) shape.push_back(d.size());
        auto with = [&](std::size_t n) {
            auto s = shape;
            s.push_back(n);
            return s;
        };
        for (const auto& d : g.dims) expect(g.name, d.name, {d.size()});
        expect(g.name, kTime, {layout.time.size()});
        // The coordinates too: --resume rewrites only the units, so a damaged coordinate (a bit
        // flip in /sgd/time, say) would stay in the finished file. Written from the same
        // configuration, they are equal bit for bit.
        auto coordinates_differ = [&](const std::string& name) {
            return std::invalid_argument("'" + path + "': the coordinates /" + g.name + "/" + name +
                                         " are not the sweep's (damaged?)");
        };
        const auto stored = file.dimensions(g.name, extra_names[status_ds]);
        if (stored.size() != g.dims.size()) throw coordinates_differ(extra_names[status_ds]);
        for (std::size_t k = 0; k < g.dims.size(); ++k) {
            const auto& d = g.dims[k];
            if (d.kind == Dimension::Kind::string) {
                if (stored[k].labels != d.labels) throw coordinates_differ(d.name);
            } else if (d.kind != Dimension::Kind::none) {
                if (stored[k].numbers.size() != d.numbers.size() ||
                    std::memcmp(stored[k].numbers.data(), d.numbers.data(), d.numbers.size() * sizeof(double)) != 0) {
                    throw coordinates_differ(d.name);
                }
            }
        }
        const auto times = file.read(g.name, kTime);
        if (times.size() != layout.time.size() ||
            std::memcmp(times.data(), layout.time.data(), times.size() * sizeof(double)) != 0) {
            throw coordinates_differ(kTime);
        }
        for (const auto& c : g.curves) expect(g.name, c.name, with(layout.time.size()));
        for (const char* name : extra_names) {
            expect(g.name, name, std::string(name) == extra_names[failure_ds] ? with(failure_length) : shape);
        }
        for (const auto& f : g.scalars) expect(g.name, f.name, shape);
    }
}

std::vector<double> read_unit_field(const std::string& path, const std::string& group, const std::string& name) {
    NcReader file(path);
    if (!file.has_variable(group, name)) return {};
    return file.read(group, name);
}

}  // namespace dln::io
