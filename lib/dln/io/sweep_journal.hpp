// The sweep's journal: every finished unit, kept safe independently of the HDF5 file.
//
// A parallel HDF5 file can be left unreadable by a job that dies mid-write (kill -9, a node
// failure, a time limit without warning). So before a unit goes into the file, the rank that
// computed it appends it to its own journal file and fsyncs it; a resume replays the journal into
// the file, rebuilding the file first if it is damaged. The journal lives next to the sweep file,
//     OUT.h5.journal/config.ini             the resolved configuration of the sweep
//     OUT.h5.journal/petsc_options          PETSC_OPTIONS as the sweep saw it
//     OUT.h5.journal/run-<k>.rank-<r>.log   what rank r finished in the k-th run (start or resume)
// and is removed once a sweep has ended cleanly with nothing left to compute. Each run writes new
// files, so nothing is ever appended after a record torn by a crash.
//
// A record is: magic "DLN3" (record format 3), payload length (u32), payload, FNV-1a 64 of the
// payload, in the machine's byte order (the journal is read back by the same code on the same
// cluster). The payload: method, the unit's row-major position in its group (u64), status, failures, diverged_at, wall_seconds, the
// observables (u32 count, doubles), the method's scalar fields (u32 count, doubles), the failure
// message (u32 length, bytes). Formats 1 ("DLNJ", no scalar fields) and 2 ("DLN2", four axis
// indices instead of a position) throw JournalFormatError.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dln/io/result_file.hpp"

namespace dln::io {

// A journal written in another record format (by another dln): it cannot be replayed.
struct JournalFormatError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct JournalEntry {
    std::string method;
    UnitRecord record;
    int run = 0;
    int rank = 0;
};

struct JournalContents {
    std::vector<JournalEntry> entries;  // in run order, then rank, then the order written
    std::size_t torn = 0;               // records cut short by a crash (skipped)
};

class SweepJournal {
public:
    explicit SweepJournal(const std::string& output);

    const std::string& directory() const { return directory_; }
    bool exists() const;
    // Creates the journal and stores the configuration and PETSC_OPTIONS atomically (a crash
    // leaves all or none of each; the configuration goes last).
    void start(const std::string& config_ini, const std::string& petsc_options) const;
    // The stored configuration; empty if the journal has none (it died while being started).
    std::string config() const;
    // The stored PETSC_OPTIONS; nullopt if the journal has none.
    std::optional<std::string> petsc_options() const;
    // Throws JournalFormatError if a file holds records of another format, or of another sweep
    // (its header names another configuration than this journal's config.ini).
    JournalContents read() const;
    // What names this sweep in each journal file's header: a hash of config.ini and
    // petsc_options as stored; 0 if the journal has no config.ini yet.
    std::uint64_t identity() const;
    // The number of the next run: one more than the largest present, 1 for a new journal.
    int next_run() const;
    // Removes the journal and everything in it.
    void remove() const;

private:
    std::string directory_;
};

class JournalWriter {
public:
    JournalWriter(const SweepJournal& journal, int run, int rank);
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;
    ~JournalWriter();

    // When this returns the record is on disk (fdatasync): it survives the death of the process.
    // Records added before it and not yet committed go with it, first.
    void append(const std::string& method, const UnitRecord& record);

    // Group commit: add() keeps records in memory; commit() writes all of them at once and syncs
    // once (fdatasync), so many units cost one sync. When commit() returns, every record added is
    // on disk. Records added and not committed are lost if the process dies (their units were not
    // reported done, so a resume computes them).
    void add(const std::string& method, const UnitRecord& record);
    void commit();
    std::size_t uncommitted() const { return uncommitted_; }

private:
    std::string path_;
    std::uint64_t identity_ = 0;  // the sweep's, written first into the file (its header)
    int fd_ = -1;  // opened on the first commit: ranks that compute nothing leave no file
    std::string buffer_;  // encoded records not yet written
    std::size_t uncommitted_ = 0;
};

// This process's journal syncs so far (fdatasync calls of JournalWriter), for DLN_IO_STATS.
std::size_t journal_syncs();

}  // namespace dln::io
