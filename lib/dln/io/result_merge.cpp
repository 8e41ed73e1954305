#include "dln/io/result_merge.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "dln/io/hdf5_support.hpp"

namespace dln::io {
namespace {

using hdf5::check;
using hdf5::Handle;

// A whole dataset as raw bytes in its file type (every sweep file uses the same types).
struct RawDataset {
    std::vector<unsigned char> bytes;
    std::size_t per_unit = 0;  // bytes of one unit: one element, or one row over time
};

RawDataset read_raw(hid_t file, const std::string& name, std::size_t units) {
    Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
    Handle type(check(H5Dget_type(ds), "H5Dget_type"));
    Handle space(check(H5Dget_space(ds), "H5Dget_space"));
    const auto elements = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    RawDataset raw;
    raw.bytes.resize(elements * H5Tget_size(type));
    raw.per_unit = raw.bytes.size() / units;
    check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.bytes.data()), "reading " + name, 0);
    return raw;
}

void write_raw(hid_t file, const std::string& name, const RawDataset& raw) {
    Handle ds(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening " + name));
    Handle type(check(H5Dget_type(ds), "H5Dget_type"));
    check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.bytes.data()), "writing " + name, 0);
}

// How much an input's copy of a unit is worth: a result beats a failure beats nothing.
int rank_of(std::int8_t status) {
    switch (static_cast<UnitStatus>(status)) {
        case UnitStatus::done:
        case UnitStatus::diverged: return 2;
        case UnitStatus::failed: return 1;
        default: return 0;
    }
}

}  // namespace

MergeOutcome merge_results(const std::string& output, const std::vector<std::string>& inputs,
                           const ResultLayout& layout) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    Handle out(hdf5::open_serially(output, H5F_ACC_RDWR));
    if (out < 0) throw std::runtime_error("cannot open '" + output + "' to merge into it");
    std::vector<hid_t> files;
    std::vector<std::unique_ptr<Handle>> owned;
    for (const auto& path : inputs) {
        owned.push_back(std::make_unique<Handle>(hdf5::open_serially(path, H5F_ACC_RDONLY)));
        if (*owned.back() < 0) throw std::runtime_error("cannot open '" + path + "'");
        files.push_back(*owned.back());
    }
    MergeOutcome outcome;
    for (const auto& g : layout.groups) {
        // An input that passed the checks but fails here is damaged (bad input, not a fault of
        // the output): std::invalid_argument, exit status 2.
        auto read_input = [&](std::size_t f, const std::string& name) {
            try {
                return read_raw(files[f], name, g.units());
            } catch (const std::runtime_error& e) {
                throw std::invalid_argument("'" + inputs[f] + "' is damaged (" + e.what() + ")");
            }
        };
        const std::string& method = g.name;
        const std::string group = "/" + method + "/";
        const std::size_t units = g.units();
        // The input each unit comes from (-1: none computed it).
        std::vector<int> source(units, -1), best(units, 0);
        for (std::size_t f = 0; f < files.size(); ++f) {
            const auto status = read_input(f, group + "status");
            for (std::size_t u = 0; u < units; ++u) {
                const int r = rank_of(static_cast<std::int8_t>(status.bytes[u]));
                if (r > best[u]) {
                    best[u] = r;
                    source[u] = static_cast<int>(f);
                }
            }
        }
        std::vector<std::string> names;
        for (const auto& curve : g.curves) names.push_back(curve.name);
        for (const char* name : unit_dataset_names) names.emplace_back(name);
        for (const auto& field : g.scalars) names.push_back(field.name);
        for (const auto& name : names) {
            auto merged = read_raw(out, group + name, units);  // the fill values: NaN, pending, ""
            for (std::size_t f = 0; f < files.size(); ++f) {
                if (std::find(source.begin(), source.end(), static_cast<int>(f)) == source.end()) continue;
                const auto part = read_input(f, group + name);
                for (std::size_t u = 0; u < units; ++u) {
                    if (source[u] != static_cast<int>(f)) continue;
                    std::memcpy(merged.bytes.data() + u * merged.per_unit, part.bytes.data() + u * part.per_unit,
                                merged.per_unit);
                }
            }
            write_raw(out, group + name, merged);
        }
        for (std::size_t u = 0; u < units; ++u) {
            if (source[u] < 0) outcome.missing[method].push_back(u);
        }
    }
    return outcome;
}

}  // namespace dln::io
