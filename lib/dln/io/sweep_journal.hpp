// The sweep's journal: every finished unit, kept safe independently of the HDF5 file.
//
// A parallel HDF5 file can be left unreadable by a job that dies mid-write (kill -9, a node
// failure, a time limit without warning). So before a unit goes into the file, the rank that
// computed it appends it to its own journal file and fsyncs it; a resume replays the journal into
// the file, rebuilding the file first if it is damaged. The journal lives next to the sweep file,
//     OUT.h5.journal/config.ini             the resolved configuration of the sweep
//     OUT.h5.journal/run-<k>.rank-<r>.log   what rank r finished in the k-th run (start or resume)
// and is removed once a sweep has ended cleanly with nothing left to compute. Each run writes new
// files, so nothing is ever appended after a record torn by a crash.
//
// A record is: magic "DLNJ", payload length (u32), payload, FNV-1a 64 of the payload, in the
// machine's byte order (the journal is read back by the same code on the same cluster).
#pragma once

#include <string>
#include <vector>

#include "dln/io/result_file.hpp"

namespace dln::io {

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
    // Creates the journal and stores the configuration atomically (a crash leaves all or none).
    void start(const std::string& config_ini) const;
    // The stored configuration; empty if the journal has none (it died while being started).
    std::string config() const;
    JournalContents read() const;
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
    void append(const std::string& method, const UnitRecord& record);

private:
    std::string path_;
    int fd_ = -1;  // opened on the first append: ranks that compute nothing leave no file
};

}  // namespace dln::io
