// A write that the storage refused: a full disk or quota (ENOSPC, EDQUOT), a read-only or failing
// file system (EROFS, EIO). Not the program's fault nor the input's: `dln sweep` stops with exit
// status 74 (EX_IOERR) and one line, and every unit it reported done is in the journal, so
// `--resume` continues once the storage is fixed.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dln::io {

struct StorageError : std::runtime_error {
    explicit StorageError(const std::string& what, bool on_every_rank = false)
        : std::runtime_error(what), every_rank(on_every_rank) {}
    // Thrown on every rank at once (a collective step failed, the file's creation say): rank 0
    // alone reports it. Otherwise on one rank only, which reports it and must stop them all.
    bool every_rank;
};

// "<what> '<path>': <the reason errno gives>", the reason left out when errno says nothing.
inline StorageError storage_error(const std::string& what, const std::string& path, int error = errno) {
    std::string message = what + " '" + path + "'";
    if (error != 0) message += std::string(": ") + std::strerror(error);
    return StorageError(message);
}

}  // namespace dln::io
