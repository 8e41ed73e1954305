// Internal to lib/dln/io: HDF5 error checks and an owning identifier, shared by the files that
// read and write sweep files.
#pragma once

#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace dln::io::hdf5 {

static_assert(std::is_same_v<hid_t, std::int64_t>, "HDF5 >= 1.10 uses 64-bit identifiers");

inline hid_t check(hid_t id, const std::string& what) {
    if (id < 0) throw std::runtime_error("HDF5: " + what + " failed");
    return id;
}

inline void check(herr_t status, const std::string& what, int) {
    if (status < 0) throw std::runtime_error("HDF5: " + what + " failed");
}

// Closes an HDF5 identifier of any kind when it leaves scope.
class Handle {
public:
    explicit Handle(hid_t id) : id_(id) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() {
        if (id_ >= 0) H5Idec_ref(id_);
    }
    operator hid_t() const { return id_; }

private:
    hid_t id_;
};

// Scalar variable-length UTF-8 strings: what netCDF-C reads as NC_STRING attributes
// (fixed-length strings would crash netCDF-C 4.9.0). Writing replaces an attribute of that name.
inline hid_t utf8_string_type() {
    const hid_t type = check(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type, H5T_VARIABLE), "H5Tset_size", 0);
    check(H5Tset_cset(type, H5T_CSET_UTF8), "H5Tset_cset", 0);
    return type;
}

inline void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
    Handle type(utf8_string_type());
    Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"));
    if (H5Aexists(object, name.c_str()) > 0) check(H5Adelete(object, name.c_str()), "H5Adelete", 0);
    Handle attr(check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                      "creating attribute " + name));
    const char* text = value.c_str();
    check(H5Awrite(attr, type, &text), "writing attribute " + name, 0);
}

// A scalar variable-length string attribute's value; empty when it is absent or of another kind.
inline std::string read_string_attribute(hid_t object, const std::string& name) {
    if (H5Aexists(object, name.c_str()) <= 0) return {};
    Handle attr(check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
    Handle type(check(H5Aget_type(attr), "H5Aget_type"));
    if (H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) <= 0) return {};
    Handle space(check(H5Aget_space(attr), "H5Aget_space"));
    if (H5Sget_simple_extent_npoints(space) != 1) return {};
    char* text = nullptr;
    // The file's own string type: HDF5 does not convert between the ASCII and UTF-8 sets.
    check(H5Aread(attr, type, &text), "reading attribute " + name, 0);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
}

// The file access properties of every serial open and create (dln status, aggregate and merge:
// their inputs, the file merge writes into alone, aggregate's phase.h5). HDF5 1.10 takes an
// flock on such a file, which fails with ENOSYS on file systems mounted without locks (some
// Lustre and NFS mounts). The lock guards nothing there (the sweep's MPI-IO writer takes none
// either), so ignore_when_disabled lets the open go on when locks are unsupported, while a lock
// refused for any other reason (held by another process) still fails it. An
// HDF5_USE_FILE_LOCKING in the environment still overrides this.
inline hid_t serial_file_access() {
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_file_locking(fapl, true, true) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

inline hid_t open_serially(const std::string& path, unsigned flags) {
    const Handle fapl(serial_file_access());
    return fapl < 0 ? -1 : H5Fopen(path.c_str(), flags, fapl);
}

// Selects in `space`, a dataset of the shape `dims` (a group's dims, plus `inner` values per unit
// when inner > 0), the rows at `positions` (row-major in dims, ascending, no repeats). A run of
// positions consecutive along the last dim is one block, so a run of adjacent rows costs one
// hyperslab, not one per row (a union of many blocks costs more than linearly in HDF5 1.10).
inline void select_rows(hid_t space, std::span<const std::size_t> dims, std::span<const std::size_t> positions,
                        hsize_t inner) {
    check(H5Sselect_none(space), "H5Sselect_none", 0);
    const std::size_t rank = dims.size();
    std::vector<hsize_t> offset(rank + (inner > 0 ? 1 : 0), 0), count(offset.size(), 1);
    if (inner > 0) count[rank] = inner;
    auto coordinates = [&](std::size_t position) {
        for (std::size_t k = rank; k-- > 0;) {
            offset[k] = position % dims[k];
            position /= dims[k];
        }
    };
    for (std::size_t i = 0; i < positions.size();) {
        // The run from i: consecutive positions that stay within one row of the last dim.
        std::size_t j = i + 1;
        const std::size_t last = rank > 0 ? dims[rank - 1] : 1;
        while (j < positions.size() && positions[j] == positions[j - 1] + 1 && positions[j] % last != 0) ++j;
        coordinates(positions[i]);
        if (rank > 0) count[rank - 1] = j - i;
        check(H5Sselect_hyperslab(space, H5S_SELECT_OR, offset.data(), nullptr, count.data(), nullptr),
              "selecting a slab", 0);
        i = j;
    }
}

}  // namespace dln::io::hdf5
