// Internal to lib/dln/io: HDF5 error checks and an owning identifier, shared by the files that
// read and write sweep files.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

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

}  // namespace dln::io::hdf5
