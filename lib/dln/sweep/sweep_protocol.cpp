#include "dln/sweep/sweep_protocol.hpp"

#include <iterator>
#include <sstream>
#include <stdexcept>

namespace dln::sweep::protocol {
namespace {

// MPI_Pack of typed fields into a growing buffer.
class Packer {
public:
    explicit Packer(MPI_Comm comm) : comm_(comm) {}
    template <class T>
    void put(const T& value, MPI_Datatype type) {
        int size = 0;
        MPI_Pack_size(1, type, comm_, &size);
        buffer_.resize(static_cast<std::size_t>(position_ + size));
        MPI_Pack(&value, 1, type, buffer_.data(), static_cast<int>(buffer_.size()), &position_, comm_);
    }
    const char* data() const { return buffer_.data(); }
    std::vector<char> release() {
        buffer_.resize(static_cast<std::size_t>(position_));
        return std::move(buffer_);
    }
    int size() const { return position_; }

private:
    MPI_Comm comm_;
    std::vector<char> buffer_;
    int position_ = 0;
};

class Unpacker {
public:
    Unpacker(MPI_Comm comm, std::vector<char> buffer) : comm_(comm), buffer_(std::move(buffer)) {}
    template <class T>
    T get(MPI_Datatype type) {
        T value{};
        MPI_Unpack(buffer_.data(), static_cast<int>(buffer_.size()), &position_, &value, 1, type, comm_);
        return value;
    }

private:
    MPI_Comm comm_;
    std::vector<char> buffer_;
    int position_ = 0;
};

std::vector<char> receive_packed(MPI_Comm comm, int source, int tag, int& from) {
    MPI_Status status;
    MPI_Probe(source, tag, comm, &status);
    int bytes = 0;
    MPI_Get_count(&status, MPI_PACKED, &bytes);
    std::vector<char> buffer(static_cast<std::size_t>(bytes));
    MPI_Recv(buffer.data(), bytes, MPI_PACKED, status.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE);
    from = status.MPI_SOURCE;
    return buffer;
}

}  // namespace

void send(MPI_Comm comm, const WorkerMessage& message) {
    Packer out(comm);
    out.put(message.want, MPI_INT32_T);
    out.put(static_cast<std::int32_t>(message.leaving), MPI_INT32_T);
    out.put(static_cast<std::int32_t>(message.stopping), MPI_INT32_T);
    out.put(static_cast<std::int64_t>(message.reports.size()), MPI_INT64_T);
    for (const auto& r : message.reports) {
        out.put(r.task, MPI_INT64_T);
        out.put(r.status, MPI_INT32_T);
        out.put(r.failures, MPI_INT32_T);
        out.put(r.unmet, MPI_INT32_T);
        out.put(r.wall_seconds, MPI_DOUBLE);
    }
    MPI_Send(out.data(), out.size(), MPI_PACKED, 0, kTagReport, comm);
}

bool receive(MPI_Comm comm, WorkerMessage& message, int& source, bool wait) {
    if (!wait) {
        int ready = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, kTagReport, comm, &ready, MPI_STATUS_IGNORE);
        if (!ready) return false;
    }
    Unpacker in(comm, receive_packed(comm, MPI_ANY_SOURCE, kTagReport, source));
    message.want = in.get<std::int32_t>(MPI_INT32_T);
    message.leaving = in.get<std::int32_t>(MPI_INT32_T) != 0;
    message.stopping = in.get<std::int32_t>(MPI_INT32_T) != 0;
    message.reports.resize(static_cast<std::size_t>(in.get<std::int64_t>(MPI_INT64_T)));
    for (auto& r : message.reports) {
        r.task = in.get<std::int64_t>(MPI_INT64_T);
        r.status = in.get<std::int32_t>(MPI_INT32_T);
        r.failures = in.get<std::int32_t>(MPI_INT32_T);
        r.unmet = in.get<std::int32_t>(MPI_INT32_T);
        r.wall_seconds = in.get<double>(MPI_DOUBLE);
    }
    return true;
}

Packer pack_handout(MPI_Comm comm, const std::vector<Assignment>& handout) {
    Packer out(comm);
    out.put(static_cast<std::int64_t>(handout.size()), MPI_INT64_T);
    for (const auto& a : handout) {
        out.put(a.task, MPI_INT64_T);
        out.put(a.failures, MPI_INT64_T);
    }
    return out;
}

void send_handout(MPI_Comm comm, int worker, const std::vector<Assignment>& handout) {
    const auto out = pack_handout(comm, handout);
    MPI_Send(out.data(), out.size(), MPI_PACKED, worker, kTagTask, comm);
}

void HandoutOutbox::send(MPI_Comm comm, int worker, const std::vector<Assignment>& handout) {
    reap();
    auto& p = pending_.emplace_back(Pending{pack_handout(comm, handout).release(), MPI_REQUEST_NULL});
    MPI_Isend(p.buffer.data(), static_cast<int>(p.buffer.size()), MPI_PACKED, worker, kTagTask, comm, &p.request);
}

void HandoutOutbox::reap() {
    for (auto it = pending_.begin(); it != pending_.end();) {
        int done = 0;
        MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
        it = done ? pending_.erase(it) : std::next(it);
    }
}

void HandoutOutbox::wait_all() {
    for (auto& p : pending_) MPI_Wait(&p.request, MPI_STATUS_IGNORE);
    pending_.clear();
}

HandoutOutbox::~HandoutOutbox() { wait_all(); }

bool handout_waiting(MPI_Comm comm) {
    int ready = 0;
    MPI_Iprobe(0, kTagTask, comm, &ready, MPI_STATUS_IGNORE);
    return ready != 0;
}

std::vector<Assignment> receive_handout(MPI_Comm comm) {
    int from = 0;
    Unpacker in(comm, receive_packed(comm, 0, kTagTask, from));
    std::vector<Assignment> handout(static_cast<std::size_t>(in.get<std::int64_t>(MPI_INT64_T)));
    for (auto& a : handout) {
        a.task = in.get<std::int64_t>(MPI_INT64_T);
        a.failures = in.get<std::int64_t>(MPI_INT64_T);
    }
    return handout;
}

std::string encode_options(const SweepOptions& o) {
    std::ostringstream out;
    out.precision(17);
    out << "overwrite=" << o.overwrite << "\nresume=" << o.resume << "\nretry_failed=" << o.retry_failed
        << "\nquiet=" << o.quiet << "\nshard=" << o.shard << "\nshards=" << o.shards << "\nbatch=" << o.batch
        << "\ncommit_seconds=" << o.commit_seconds << "\nstripe_size=" << o.stripe_size << "\nplan=" << static_cast<int>(o.plan) << '\n';
    return out.str();
}

void decode_options(const std::string& text, SweepOptions& o) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        const std::string name = line.substr(0, eq), value = line.substr(eq + 1);
        if (name == "overwrite") o.overwrite = value == "1";
        else if (name == "resume") o.resume = value == "1";
        else if (name == "retry_failed") o.retry_failed = value == "1";
        else if (name == "quiet") o.quiet = value == "1";
        else if (name == "shard") o.shard = static_cast<std::uint32_t>(std::stoul(value));
        else if (name == "shards") o.shards = static_cast<std::uint32_t>(std::stoul(value));
        else if (name == "batch") o.batch = static_cast<std::size_t>(std::stoull(value));
        else if (name == "commit_seconds") o.commit_seconds = std::stod(value);
        else if (name == "stripe_size") o.stripe_size = std::stoull(value);
        else if (name == "plan") o.plan = static_cast<OutputPlan>(std::stoi(value));
        else throw std::invalid_argument("unknown sweep option '" + name + "'");
    }
}

}  // namespace dln::sweep::protocol
