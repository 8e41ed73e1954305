#include "dln/io/sweep_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "dln/io/failpoint.hpp"
#include "dln/io/storage_error.hpp"

namespace dln::io {
namespace fs = std::filesystem;
namespace {

// The record format is in the magic. Format 1 ("DLNJ", dln up to 0.3.0) had no scalar values;
// format 2 ("DLN2", dln 0.4.0) added them after the observables; format 3 ("DLN3", the sweep
// file dln-sweep/2) keys a unit by its row-major position in its group instead of four axis
// indices. An older record is refused by name (JournalFormatError), never mistaken for one cut
// short by a crash.
constexpr std::uint32_t kMagic = 0x334e4c44;    // "DLN3" read as a little-endian word
constexpr std::uint32_t kMagicV2 = 0x324e4c44;  // "DLN2": format 2
constexpr std::uint32_t kMagicV1 = 0x4a4e4c44;  // "DLNJ": format 1
// A file's header, its first record (since dln 0.6.0): the identity of the sweep
// (SweepJournal::identity), framed as a record is. Records copied from another sweep's journal
// (another configuration, the same layout) would otherwise replay into this file unnoticed.
// A file without one (written before) is read as before.
constexpr std::uint32_t kMagicHeader = 0x534e4c44;  // "DLNS"

std::uint64_t fnv1a(const char* data, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(data[i]);
        h *= 0x100000001b3ULL;
    }
    return h;
}

// The journal's writes fail only when the storage does (a full disk, say): StorageError.
StorageError system_error(const std::string& what, const std::string& path) { return storage_error(what, path); }

void write_all(int fd, const std::string& bytes, const std::string& path) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw system_error("cannot write the journal", path);
        }
        done += static_cast<std::size_t>(n);
    }
}

// A new directory entry is durable only once its directory is synced.
void sync_directory(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw system_error("cannot open the directory", dir);
    ::fsync(fd);
    ::close(fd);
}

template <class T>
void put(std::string& out, const T& value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

class Reader {
public:
    Reader(const char* data, std::size_t size) : data_(data), size_(size) {}
    template <class T>
    T get() {
        T value;
        need(sizeof value);
        std::memcpy(&value, data_ + at_, sizeof value);
        at_ += sizeof value;
        return value;
    }
    std::string bytes(std::size_t n) {
        need(n);
        std::string s(data_ + at_, n);
        at_ += n;
        return s;
    }
    std::size_t left() const { return size_ - at_; }

private:
    void need(std::size_t n) const {
        if (size_ - at_ < n) throw std::out_of_range("journal record ends early");
    }
    const char* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

std::string encode(const std::string& method, const UnitRecord& r) {
    std::string payload;
    put(payload, static_cast<std::uint8_t>(method.size()));
    payload += method;
    put(payload, static_cast<std::uint64_t>(r.position));
    put(payload, static_cast<std::int8_t>(r.status));
    put(payload, r.failures);
    put(payload, r.diverged_at);
    put(payload, r.wall_seconds);
    put(payload, static_cast<std::uint32_t>(r.values.size()));
    payload.append(reinterpret_cast<const char*>(r.values.data()), r.values.size() * sizeof(double));
    put(payload, static_cast<std::uint32_t>(r.scalars.size()));
    payload.append(reinterpret_cast<const char*>(r.scalars.data()), r.scalars.size() * sizeof(double));
    put(payload, static_cast<std::uint32_t>(r.message.size()));
    payload += r.message;

    std::string record;
    put(record, kMagic);
    put(record, static_cast<std::uint32_t>(payload.size()));
    record += payload;
    put(record, fnv1a(payload.data(), payload.size()));
    return record;
}

JournalEntry decode(const std::string& payload) {
    Reader in(payload.data(), payload.size());
    JournalEntry e;
    e.method = in.bytes(in.get<std::uint8_t>());
    e.record.position = static_cast<std::size_t>(in.get<std::uint64_t>());
    e.record.status = static_cast<UnitStatus>(in.get<std::int8_t>());
    e.record.failures = in.get<std::int8_t>();
    e.record.diverged_at = in.get<double>();
    e.record.wall_seconds = in.get<double>();
    e.record.values.resize(in.get<std::uint32_t>());
    const std::string raw = in.bytes(e.record.values.size() * sizeof(double));
    // Not for 0 bytes: an empty vector's data() may be null, and memcpy from or to null is undefined.
    if (!raw.empty()) std::memcpy(e.record.values.data(), raw.data(), raw.size());
    e.record.scalars.resize(in.get<std::uint32_t>());
    const std::string raw_scalars = in.bytes(e.record.scalars.size() * sizeof(double));
    if (!raw_scalars.empty()) std::memcpy(e.record.scalars.data(), raw_scalars.data(), raw_scalars.size());
    e.record.message = in.bytes(in.get<std::uint32_t>());
    if (in.left() != 0) throw std::out_of_range("journal record has trailing bytes");
    return e;
}

// (run, rank) of a journal file's name, run-<digits>.rank-<digits>.log, or false for other files
// (a number beyond int's range included). Parsed by hand: std::regex made this file take 70 s
// to compile in CI's sanitizer build (2026-12-02), for one pattern.
bool parse_name(const std::string& name, int& run, int& rank) {
    std::string_view rest(name);
    auto literal = [&](std::string_view text) {
        if (!rest.starts_with(text)) return false;
        rest.remove_prefix(text.size());
        return true;
    };
    auto number = [&](int& out) {
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
        if (digits == 0) return false;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + digits, out);
        if (ec != std::errc{}) return false;
        rest.remove_prefix(digits);
        return true;
    };
    return literal("run-") && number(run) && literal(".rank-") && number(rank) && rest == ".log";
}

}  // namespace

SweepJournal::SweepJournal(const std::string& output) : directory_(output + ".journal") {}

bool SweepJournal::exists() const {
    std::error_code ec;
    return fs::is_directory(directory_, ec);
}

namespace {

// Writes dir/name atomically (a crash leaves all or none).
void write_atomically(const std::string& dir, const std::string& name, const std::string& text) {
    const std::string tmp = dir + "/" + name + ".tmp", final_path = dir + "/" + name;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw system_error("cannot create", tmp);
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0 || ::close(fd) != 0) throw system_error("cannot sync", tmp);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) throw system_error("cannot rename", tmp);
}

}  // namespace

void SweepJournal::start(const std::string& config_ini, const std::string& petsc_options) const {
    std::error_code ec;
    fs::create_directory(directory_, ec);
    if (ec) throw StorageError("cannot create the journal '" + directory_ + "': " + ec.message());
    // petsc_options first: a journal with a config.ini is complete.
    write_atomically(directory_, "petsc_options", petsc_options);
    write_atomically(directory_, "config.ini", config_ini);
    sync_directory(directory_);
    const fs::path parent = fs::path(directory_).parent_path();
    sync_directory(parent.empty() ? "." : parent.string());
}

std::string SweepJournal::config() const {
    std::ifstream in(directory_ + "/config.ini", std::ios::binary);
    if (!in) return {};
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<std::string> SweepJournal::petsc_options() const {
    std::ifstream in(directory_ + "/petsc_options", std::ios::binary);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

JournalContents SweepJournal::read() const {
    struct Part {
        int run, rank;
        fs::path path;
    };
    std::vector<Part> parts;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(directory_, ec)) {
        int run = 0, rank = 0;
        if (parse_name(item.path().filename().string(), run, rank)) parts.push_back({run, rank, item.path()});
    }
    std::sort(parts.begin(), parts.end(),
              [](const Part& a, const Part& b) { return std::tie(a.run, a.rank) < std::tie(b.run, b.rank); });
    JournalContents contents;
    const std::uint64_t sweep = identity();
    for (const auto& part : parts) {
        std::ifstream in(part.path, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        Reader file(bytes.data(), bytes.size());
        bool first = true;
        while (file.left() > 0) {
            // A record the process died while writing is incomplete or fails its checksum; it is
            // always the file's last, because each run appends to files of its own.
            try {
                const auto magic = file.get<std::uint32_t>();
                const bool at_start = std::exchange(first, false);
                if (magic == kMagicHeader && at_start) {
                    const std::string payload = file.bytes(file.get<std::uint32_t>());
                    if (file.get<std::uint64_t>() != fnv1a(payload.data(), payload.size()) ||
                        payload.size() != sizeof(std::uint64_t)) {
                        throw std::out_of_range("bad header");
                    }
                    std::uint64_t theirs = 0;
                    std::memcpy(&theirs, payload.data(), sizeof theirs);
                    if (theirs != sweep) {
                        throw JournalFormatError("'" + part.path.string() +
                                                 "' holds records of another sweep (its configuration is not this "
                                                 "journal's config.ini): remove that file, or start again with --force");
                    }
                    continue;
                }
                // An older format is told by the first record's magic: a later one that reads
                // as old is a damaged record (one bit turns DLN3 into DLN2).
                if ((magic == kMagicV1 || magic == kMagicV2) && at_start) {
                    throw JournalFormatError("'" + part.path.string() + "' holds records of journal format " +
                                             (magic == kMagicV1 ? "1 (dln 0.3.0 or older)" : "2 (dln 0.4.0)") +
                                             "; this dln reads format 3 only: finish that sweep with the dln that "
                                             "started it, or start again with --force");
                }
                if (magic != kMagic) throw std::out_of_range("bad magic");
                const std::string payload = file.bytes(file.get<std::uint32_t>());
                if (file.get<std::uint64_t>() != fnv1a(payload.data(), payload.size())) {
                    throw std::out_of_range("bad checksum");
                }
                JournalEntry entry = decode(payload);
                entry.run = part.run;
                entry.rank = part.rank;
                contents.entries.push_back(std::move(entry));
            } catch (const std::out_of_range&) {
                ++contents.torn;
                break;
            }
        }
    }
    return contents;
}

std::uint64_t SweepJournal::identity() const {
    const std::string ini = config();
    if (ini.empty()) return 0;
    const std::string both = ini + '\0' + petsc_options().value_or("");
    return fnv1a(both.data(), both.size());
}

int SweepJournal::next_run() const {
    int last = 0;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(directory_, ec)) {
        int run = 0, rank = 0;
        if (parse_name(item.path().filename().string(), run, rank)) last = std::max(last, run);
    }
    return last + 1;
}

void SweepJournal::remove() const {
    std::error_code ec;
    fs::remove_all(directory_, ec);
    if (ec) throw std::runtime_error("cannot remove the journal '" + directory_ + "': " + ec.message());
}

JournalWriter::JournalWriter(const SweepJournal& journal, int run, int rank) {
    std::ostringstream name;
    name << journal.directory() << "/run-" << run << ".rank-" << rank << ".log";
    path_ = name.str();
    identity_ = journal.identity();
}

JournalWriter::~JournalWriter() {
    if (fd_ >= 0) ::close(fd_);
}

namespace {
std::size_t syncs = 0;
}  // namespace

std::size_t journal_syncs() { return syncs; }

void JournalWriter::append(const std::string& method, const UnitRecord& record) {
    add(method, record);
    commit();
}

void JournalWriter::add(const std::string& method, const UnitRecord& record) {
    buffer_ += encode(method, record);
    ++uncommitted_;
}

void JournalWriter::commit() {
    if (uncommitted_ == 0) return;
    if (fd_ < 0) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd_ < 0) throw system_error("cannot create the journal file", path_);
        sync_directory(fs::path(path_).parent_path().string());
        std::string header;
        put(header, kMagicHeader);
        put(header, static_cast<std::uint32_t>(sizeof identity_));
        put(header, identity_);
        put(header, fnv1a(reinterpret_cast<const char*>(&identity_), sizeof identity_));
        buffer_.insert(0, header);  // synced with the first records
    }
    // In two writes, with a failpoint between them, so a test can kill a commit that is half
    // written (the reader skips the torn record and everything after it: those units were never
    // reported) and one written but not synced.
    const std::size_t half = buffer_.size() / 2;
    write_all(fd_, buffer_.substr(0, half), path_);
    failpoint("group-commit-torn");
    write_all(fd_, buffer_.substr(half), path_);
    failpoint("group-commit");
    if (::fdatasync(fd_) != 0) throw system_error("cannot sync the journal file", path_);
    ++syncs;
    buffer_.clear();
    uncommitted_ = 0;
}

}  // namespace dln::io
