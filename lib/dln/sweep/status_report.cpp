#include "dln/sweep/status_report.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "dln/io/netcdf_file.hpp"
#include "dln/io/result_file.hpp"
#include "dln/io/sweep_journal.hpp"
#include "dln/model/method.hpp"
#include "dln/sweep/unit_runner.hpp"

namespace dln::sweep {
namespace {

std::string dirty_word(int dirty) { return dirty == 1 ? "dirty" : dirty == 0 ? "clean" : "dirty state unknown"; }

std::string build_line(const io::BuildInfo& b) {
    std::string line = "dln " + b.version + ", commit " + b.commit + " (" + dirty_word(b.dirty) + "), " + b.compiler +
                       " " + b.build_type + " " + b.flags + ", DLN_ARCH '" + b.arch + "'; PETSc '" + b.petsc +
                       "', HDF5 " + b.hdf5 + ", MPI '" + b.mpi + "'";
    return line;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
    return out;
}

// ---- JSON -----------------------------------------------------------------------------------

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += static_cast<char>(c);  // UTF-8 passes through
                }
        }
    }
    return out + "\"";
}

std::string string_or_null(const std::string& text) { return text.empty() ? "null" : quoted(text); }

std::string number(double x) {
    if (!std::isfinite(x)) return "null";
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", x);
    return text;
}

// An object built field by field, in order.
class Object {
public:
    Object& field(const std::string& name, const std::string& json) {
        text_ += (text_.empty() ? "" : ", ") + quoted(name) + ": " + json;
        return *this;
    }
    Object& field(const std::string& name, std::size_t n) { return field(name, std::to_string(n)); }
    std::string str() const { return "{" + text_ + "}"; }

private:
    std::string text_;
};

std::string array(const std::vector<std::string>& items) {
    std::string out = "[";
    out += join(items, ", ");
    return out += "]";
}

std::string build_json(const io::BuildInfo& b) {
    return Object()
        .field("version", quoted(b.version))
        .field("commit", quoted(b.commit))
        .field("dirty", b.dirty == 1 ? "true" : b.dirty == 0 ? "false" : "null")
        .field("compiler", quoted(b.compiler))
        .field("flags", quoted(b.flags))
        .field("arch", quoted(b.arch))
        .field("build_type", quoted(b.build_type))
        .field("petsc", quoted(b.petsc))
        .field("hdf5", quoted(b.hdf5))
        .field("mpi", quoted(b.mpi))
        .str();
}

std::string provenance_json(const io::Provenance& p) {
    std::vector<std::string> runs;
    for (std::size_t k = 0; k < p.runs.size(); ++k) {
        const auto& r = p.runs[k];
        std::vector<std::string> hosts;
        for (const auto& h : r.hosts) hosts.push_back(quoted(h));
        std::string slurm = "null";
        if (!r.slurm_job_id.empty()) {
            slurm = Object()
                        .field("job_id", quoted(r.slurm_job_id))
                        .field("array_task_id", string_or_null(r.slurm_array_task_id))
                        .field("restart_count", std::to_string(r.slurm_restart_count))
                        .str();
        }
        runs.push_back(Object()
                           .field("run", k + 1)
                           .field("kind", quoted(r.kind))
                           .field("start", quoted(r.start))
                           .field("end", string_or_null(r.end))
                           .field("outcome", string_or_null(r.outcome))
                           .field("hosts", array(hosts))
                           .field("ranks", std::to_string(r.ranks))
                           .field("shard", string_or_null(r.shard))
                           .field("from", string_or_null(r.from))
                           .field("slurm", slurm)
                           .field("build", build_json(r.build))
                           .str());
    }
    return Object().field("build", p.has_build ? build_json(p.build) : "null").field("runs", array(runs)).str();
}

std::string journal_json(const io::SweepJournal& journal) {
    if (!journal.exists()) return "null";
    Object o;
    o.field("directory", quoted(journal.directory()));
    try {
        const auto contents = journal.read();
        std::set<int> runs;
        for (const auto& e : contents.entries) runs.insert(e.run);
        o.field("units", contents.entries.size()).field("runs", runs.size()).field("torn", contents.torn);
        o.field("error", "null");
    } catch (const io::JournalFormatError& e) {
        o.field("units", "null").field("runs", "null").field("torn", "null").field("error", quoted(e.what()));
    }
    return o.str();
}

// A failed unit's coordinates by name: numbers as numbers, labels as strings.
std::string coordinates_json(const std::vector<io::Dimension>& dims, std::size_t position) {
    Object at;
    std::vector<std::string> values(dims.size());
    for (std::size_t k = dims.size(); k-- > 0;) {
        const std::size_t i = position % dims[k].size();
        position /= dims[k].size();
        values[k] = dims[k].kind == io::Dimension::Kind::string ? quoted(dims[k].labels[i]) : number(dims[k].numbers[i]);
    }
    for (std::size_t k = 0; k < dims.size(); ++k) at.field(dims[k].name, values[k]);
    return at.str();
}

}  // namespace

std::size_t tolerance_unmet(const std::string& path, const std::string& method) {
    if (method != model::name(model::Method::pde)) return 0;
    // An older file has no such field: none counted.
    const auto met = io::read_unit_field(path, method, pde_met_tolerance_field);
    const auto status = io::read_unit_field(path, method, "status");
    std::size_t unmet = 0;
    for (std::size_t u = 0; u < met.size() && u < status.size(); ++u) {
        if (status[u] == static_cast<double>(io::UnitStatus::done) && met[u] == 0.0) ++unmet;
    }
    return unmet;
}

void print_provenance(const io::Provenance& p, std::ostream& out) {
    if (!p.has_build && p.runs.empty()) {
        out << "provenance: none recorded (a file of a dln before provenance)\n";
        return;
    }
    if (p.has_build) out << "built by: " << build_line(p.build) << '\n';
    char line[512];
    std::snprintf(line, sizeof line, "%4s %-8s %-20s %-20s %-10s %5s %-6s %s\n", "run", "kind", "start", "end",
                  "outcome", "ranks", "shard", "hosts, slurm");
    out << line;
    for (std::size_t k = 0; k < p.runs.size(); ++k) {
        const auto& r = p.runs[k];
        std::string where = join(r.hosts, ",");
        if (!r.slurm_job_id.empty()) {
            where += "; job " + r.slurm_job_id;
            if (!r.slurm_array_task_id.empty()) where += " task " + r.slurm_array_task_id;
            where += " restart " + std::to_string(r.slurm_restart_count);
        }
        std::snprintf(line, sizeof line, "%4zu %-8s %-20s %-20s %-10s %5lld %-6s %s\n", k + 1, r.kind.c_str(),
                      r.start.c_str(), r.end.empty() ? "-" : r.end.c_str(),
                      r.outcome.empty() ? "no end" : r.outcome.c_str(), static_cast<long long>(r.ranks),
                      r.shard.empty() ? "-" : r.shard.c_str(), where.c_str());
        out << line;
        if (p.has_build && !(r.build.same_source(p.build) && r.build.flags == p.build.flags &&
                             r.build.petsc == p.build.petsc && r.build.hdf5 == p.build.hdf5 &&
                             r.build.mpi == p.build.mpi && r.build.compiler == p.build.compiler)) {
            out << "     run " << k + 1 << " by another build: " << build_line(r.build) << '\n';
        }
    }
    for (std::size_t k = 0; k < p.runs.size(); ++k) {
        if (p.runs[k].end.empty()) {
            out << "run " << k + 1 << " has no end: it was killed or crashed, or is still running\n";
            break;
        }
    }
}

std::string status_json(const std::string& path) {
    const io::SweepJournal journal(path);
    io::FileSummary summary;
    try {
        summary = io::summarize(path);
    } catch (const std::invalid_argument& e) {
        if (!journal.exists()) throw;
        return Object()
                   .field("file", quoted(path))
                   .field("readable", "false")
                   .field("error", quoted(e.what()))
                   .field("journal", journal_json(journal))
                   .str() +
               "\n";
    }
    std::size_t finished = 0;
    std::vector<std::string> methods;
    for (const auto& m : summary.methods) {
        finished += m.done + m.diverged + m.failed;
        methods.push_back(Object()
                              .field("method", quoted(m.method))
                              .field("units", m.total())
                              .field("done", m.done)
                              .field("diverged", m.diverged)
                              .field("failed", m.failed)
                              .field("pending", m.pending)
                              .field("tolerance_unmet", tolerance_unmet(path, m.method))
                              .str());
    }
    std::vector<std::string> failed;
    const io::NcReader file(path);
    std::map<std::string, std::vector<io::Dimension>> dims;  // per method, read once
    for (const auto& f : summary.failed) {
        if (!dims.count(f.method)) dims[f.method] = file.dimensions(f.method, "status");
        failed.push_back(Object()
                             .field("method", quoted(f.method))
                             .field("position", f.position)
                             .field("at", coordinates_json(dims[f.method], f.position))
                             .field("where", quoted(f.where))
                             .field("failures", std::to_string(f.failures))
                             .field("message", quoted(f.message))
                             .str());
    }
    return Object()
               .field("file", quoted(path))
               .field("readable", "true")
               .field("schema", quoted(summary.schema))
               .field("version", quoted(summary.version))
               .field("shard", string_or_null(summary.shard))
               .field("finished", finished)
               .field("methods", array(methods))
               .field("failed", array(failed))
               .field("journal", journal_json(journal))
               .field("provenance", provenance_json(io::read_provenance(path)))
               .str() +
           "\n";
}

}  // namespace dln::sweep
