#pragma once

#include <mpi.h>
#include <unistd.h>

#include <string>

namespace dln::testing {

inline int rank() {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

inline int size() {
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
}

// A file name unique to this run (rank 0's pid, shared), so tests at several process counts can
// run at the same time.
inline std::string scratch_file(const std::string& stem) {
    long pid = static_cast<long>(getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    return "/tmp/dln-test-" + stem + "-" + std::to_string(pid) + ".h5";
}

}  // namespace dln::testing
