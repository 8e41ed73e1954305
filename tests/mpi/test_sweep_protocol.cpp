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

TEST_CASE("a large hand-out and a large report cross without deadlock", "[Parallel][protocol]") {
    // Both messages far above any eager limit (100,000 assignments: 1.6 MB; 100,000 reports:
    // 2.8 MB), so each blocking send waits for its receive. The worker sends its report before it
    // receives; the master sends its hand-outs before it receives the report. A master that
    // blocked in sending (protocol::send_handout) would wait forever here; the outbox does not.
    const int rank = dln::testing::rank(), size = dln::testing::size();
    constexpr std::size_t n = 100000;
    std::vector<Assignment> handout(n);
    for (std::size_t i = 0; i < n; ++i) handout[i] = {static_cast<std::int64_t>(i), static_cast<std::int64_t>(i % 3)};
    protocol::WorkerMessage report;
    report.reports.resize(n);
    for (std::size_t i = 0; i < n; ++i) report.reports[i] = {static_cast<std::int64_t>(i), 1, 0, 0, 1e-6};
    if (rank != 0) {
        protocol::send(MPI_COMM_WORLD, report);
        CHECK(protocol::receive_handout(MPI_COMM_WORLD) == handout);
        CHECK(protocol::receive_handout(MPI_COMM_WORLD).empty());
    } else {
        protocol::HandoutOutbox outbox;
        for (int w = 1; w < size; ++w) {
            outbox.send(MPI_COMM_WORLD, w, handout);
            outbox.send(MPI_COMM_WORLD, w, {});  // arrives after the first: sends to one worker keep their order
        }
        for (int k = 1; k < size; ++k) {
            protocol::WorkerMessage got;
            int source = -1;
            REQUIRE(protocol::receive(MPI_COMM_WORLD, got, source, true));
            CHECK(got.reports == report.reports);
        }
        outbox.wait_all();
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
