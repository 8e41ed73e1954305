#include "dln/io/result_read.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "dln/io/hdf5_support.hpp"

namespace dln::io {
namespace {

using hdf5::check;
using hdf5::Handle;

// The largest integer below which every int64 is exactly a double.
constexpr std::int64_t kExactInDouble = std::int64_t{1} << 53;

}  // namespace

std::vector<UnitRecord> read_unit_records(const std::string& path, const ResultLayout& layout,
                                          const std::string& group, std::span<const std::size_t> positions) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const auto& g = layout.group(group);
    std::vector<std::size_t> sorted(positions.begin(), positions.end());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (std::size_t p : sorted) {
        if (p >= g.units()) throw std::invalid_argument("position outside /" + group + " of '" + path + "'");
    }
    std::vector<UnitRecord> records(sorted.size());
    if (sorted.empty()) return records;
    Handle file(hdf5::open_serially(path, H5F_ACC_RDONLY));
    if (file < 0) throw std::runtime_error("cannot open '" + path + "' to read its units");
    const std::size_t n_time = layout.time.size();
    std::vector<std::size_t> dims;
    for (const auto& d : g.dims) dims.push_back(d.size());
    auto open = [&](const std::string& name) {
        const std::string full = "/" + group + "/" + name;
        return check(H5Dopen2(file, full.c_str(), H5P_DEFAULT), "opening " + full + " of '" + path + "'");
    };
    // A hyperslab union of many blocks costs more than linearly in HDF5 1.10: a few thousand rows
    // per read keep each selection cheap.
    constexpr std::size_t kRowsPerRead = 4096;
    for (std::size_t begin = 0; begin < sorted.size(); begin += kRowsPerRead) {
        const std::size_t n = std::min(kRowsPerRead, sorted.size() - begin);
        const std::span<const std::size_t> rows(sorted.data() + begin, n);
        // Reads the rows (inner values per unit: 0 for a scalar per unit) into data, in row-major
        // order, which is the order of sorted.
        auto read_rows = [&](const std::string& name, hid_t mem_type, void* data, hsize_t inner) {
            Handle ds(open(name));
            Handle space(check(H5Dget_space(ds), "H5Dget_space"));
            hdf5::select_rows(space, dims, rows, inner);
            const hsize_t elements = n * std::max<hsize_t>(inner, 1);
            Handle mem_space(check(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple"));
            check(H5Dread(ds, mem_type, mem_space, space, H5P_DEFAULT, data), "reading /" + group + "/" + name, 0);
        };
        for (std::size_t i = 0; i < n; ++i) {
            auto& r = records[begin + i];
            r.position = sorted[begin + i];
            r.values.resize(g.curves.size() * n_time);
            if (!g.scalars.empty()) r.scalars.resize(g.scalars.size());
        }
        std::vector<double> f64(n * std::max<std::size_t>(n_time, 1));
        for (std::size_t k = 0; k < g.curves.size(); ++k) {
            read_rows(g.curves[k].name, H5T_NATIVE_DOUBLE, f64.data(), n_time);
            for (std::size_t i = 0; i < n; ++i) {
                std::copy_n(f64.data() + i * n_time, n_time, records[begin + i].values.data() + k * n_time);
            }
        }
        std::vector<std::int8_t> i8(n);
        std::vector<std::int64_t> i64(n);
        read_rows("status", H5T_NATIVE_INT8, i8.data(), 0);
        for (std::size_t i = 0; i < n; ++i) records[begin + i].status = static_cast<UnitStatus>(i8[i]);
        read_rows("failures", H5T_NATIVE_INT8, i8.data(), 0);
        for (std::size_t i = 0; i < n; ++i) records[begin + i].failures = i8[i];
        read_rows("diverged_at", H5T_NATIVE_DOUBLE, f64.data(), 0);
        for (std::size_t i = 0; i < n; ++i) records[begin + i].diverged_at = f64[i];
        read_rows("wall_seconds", H5T_NATIVE_DOUBLE, f64.data(), 0);
        for (std::size_t i = 0; i < n; ++i) records[begin + i].wall_seconds = f64[i];
        {
            Handle char_type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
            check(H5Tset_size(char_type, 1), "H5Tset_size", 0);
            std::vector<char> messages(n * failure_length, '\0');
            read_rows("failure", char_type, messages.data(), failure_length);
            for (std::size_t i = 0; i < n; ++i) {
                const char* m = messages.data() + i * failure_length;
                records[begin + i].message.assign(m, std::find(m, m + failure_length, '\0'));
            }
        }
        for (std::size_t k = 0; k < g.scalars.size(); ++k) {
            const auto& field = g.scalars[k];
            if (field.type == ScalarType::float64) {
                read_rows(field.name, H5T_NATIVE_DOUBLE, f64.data(), 0);
                for (std::size_t i = 0; i < n; ++i) records[begin + i].scalars[k] = f64[i];
                continue;
            }
            if (field.type == ScalarType::int8) {
                read_rows(field.name, H5T_NATIVE_INT8, i8.data(), 0);
                for (std::size_t i = 0; i < n; ++i) records[begin + i].scalars[k] = i8[i];
                continue;
            }
            read_rows(field.name, H5T_NATIVE_INT64, i64.data(), 0);
            for (std::size_t i = 0; i < n; ++i) {
                if (i64[i] >= kExactInDouble || i64[i] <= -kExactInDouble) {
                    throw std::runtime_error("/" + group + "/" + field.name + " of '" + path + "' holds " +
                                             std::to_string(i64[i]) + ", not exactly a double");
                }
                records[begin + i].scalars[k] = static_cast<double>(i64[i]);
            }
        }
    }
    return records;
}

}  // namespace dln::io
