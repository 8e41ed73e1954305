// Catch2 under MPI: every rank runs the same test cases (each is collective); only rank 0 reports.
#define CATCH_CONFIG_RUNNER
#include <mpi.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    Catch::Session session;
    // The other ranks are quiet (their failures still count below), unless DLN_TEST_RANK_LOG names
    // a file prefix: then rank r reports into PREFIX.r, to see a failure that only rank r has.
    const char* rank_log = std::getenv("DLN_TEST_RANK_LOG");
    if (rank != 0) {
        session.configData().outputFilename = rank_log ? std::string(rank_log) + "." + std::to_string(rank) : "/dev/null";
    }
    int failed = session.run(argc, argv);
    // A failure on any rank fails the test.
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return failed;
}
