// The messages between the master (rank 0) and the workers of a sweep, typed field by field
// (MPI_Pack with explicit MPI datatypes), so they depend on no struct's memory layout.
//
//   worker -> master (kTagReport): WorkerMessage
//       want      how many more hand-outs the worker asks for (the master answers each, in order)
//       leaving   the worker has left: every hand-out it asked for has been answered and received
//       stopping  it left because a stop was requested
//       reports   units it finished, each already durable in its journal (group commit)
//   master -> worker (kTagTask): one hand-out, a list of Assignment (empty: no more work)
//
// A worker asks ahead (it holds the hand-out it computes and the next ones), so it never waits
// for the master between hand-outs, and it writes its results after asking.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "dln/sweep/sweep_options.hpp"
#include "dln/sweep/sweep_schedule.hpp"

namespace dln::sweep::protocol {

inline constexpr int kTagReport = 1;
inline constexpr int kTagTask = 2;

inline constexpr std::int32_t kAbandoned = -1;  // a unit given up when the sweep was asked to stop

struct Report {
    std::int64_t task = -1;
    std::int32_t status = 0;    // io::UnitStatus, or kAbandoned
    std::int32_t failures = 0;  // of a failed unit: how often it has failed now
    std::int32_t unmet = 0;     // a finished pde unit that did not meet pde.rtol
    double wall_seconds = 0.0;
    bool operator==(const Report&) const = default;
};

struct WorkerMessage {
    std::int32_t want = 0;
    bool leaving = false;
    bool stopping = false;
    std::vector<Report> reports;
};

// Worker: to rank 0.
void send(MPI_Comm comm, const WorkerMessage& message);
// Rank 0: the next worker message and its sender. With wait false, returns false at once if
// none has arrived.
bool receive(MPI_Comm comm, WorkerMessage& message, int& source, bool wait);

// Rank 0: a hand-out to a worker (empty: no more work), sent before this returns.
void send_handout(MPI_Comm comm, int worker, const std::vector<Assignment>& handout);

// Rank 0's hand-outs in flight, sent without waiting for the worker to receive them. A worker
// that sends a large report (a commit of thousands of units) blocks until the master receives
// it; a master blocked meanwhile in sending that worker a large hand-out (both above MPI's eager
// limit) would never receive it: a deadlock, seen with hand-outs of 2400 units. Each buffer lives
// until its send completes; sends to one worker arrive in the order they were made.
class HandoutOutbox {
public:
    HandoutOutbox() = default;
    HandoutOutbox(const HandoutOutbox&) = delete;
    HandoutOutbox& operator=(const HandoutOutbox&) = delete;
    ~HandoutOutbox();  // waits for every send
    void send(MPI_Comm comm, int worker, const std::vector<Assignment>& handout);
    void reap();       // frees the buffers of completed sends
    void wait_all();

private:
    struct Pending {
        std::vector<char> buffer;
        MPI_Request request;
    };
    std::list<Pending> pending_;
};
// Worker: whether a hand-out has arrived, and the next one (waiting for it).
bool handout_waiting(MPI_Comm comm);
std::vector<Assignment> receive_handout(MPI_Comm comm);

// The options every rank needs, as "name=value" lines, and back: each field by its name, so a
// new option cannot shift the others. decode throws std::invalid_argument on an unknown name.
std::string encode_options(const SweepOptions& options);
void decode_options(const std::string& text, SweepOptions& options);

}  // namespace dln::sweep::protocol
