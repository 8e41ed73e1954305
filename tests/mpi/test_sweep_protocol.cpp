// The sweep's messages survive the trip field by field (MPI_Pack of typed fields).
#include <catch2/catch.hpp>

#include "dln/sweep/sweep_protocol.hpp"
#include "mpi_test_support.hpp"

using namespace dln::sweep;

TEST_CASE("worker messages and hand-outs arrive as sent", "[Parallel][protocol]") {
    const int rank = dln::testing::rank(), size = dln::testing::size();
    protocol::WorkerMessage sent;
    sent.want = 3;
    sent.stopping = true;
    sent.reports = {{7, 1, 0, 0, 0.25}, {9, 3, 2, 1, 1e-9}, {11, protocol::kAbandoned, 0, 0, 0.0}};
    const std::vector<Assignment> handout = {{4, 0}, {5, 1}, {1ll << 40, 2}};
    if (rank != 0) {
        protocol::send(MPI_COMM_WORLD, sent);
        CHECK(protocol::receive_handout(MPI_COMM_WORLD) == handout);
        CHECK(protocol::receive_handout(MPI_COMM_WORLD).empty());
    } else {
        for (int k = 1; k < size; ++k) {
            protocol::WorkerMessage got;
            int source = -1;
            REQUIRE(protocol::receive(MPI_COMM_WORLD, got, source, true));
            CHECK(source >= 1);
            CHECK(got.want == 3);
            CHECK(!got.leaving);
            CHECK(got.stopping);
            CHECK(got.reports == sent.reports);
            protocol::send_handout(MPI_COMM_WORLD, source, handout);
            protocol::send_handout(MPI_COMM_WORLD, source, {});
        }
        protocol::WorkerMessage none;
        int source = -1;
        CHECK(!protocol::receive(MPI_COMM_WORLD, none, source, false));
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
