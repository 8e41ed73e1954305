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

}  // namespace dln::io::hdf5
