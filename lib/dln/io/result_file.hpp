// The sweep's one parallel HDF5 file (layout "dln-sweep/1", documented in README.md).
//
// Parallel HDF5 needs every metadata operation (create, open, close, attributes, dimension
// scales) to be collective, so create() and close() are called by every rank and build the
// whole layout up front; afterwards a rank writes its own units' slabs independently.
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dln::io {

enum class UnitStatus : std::int8_t { pending = 0, done = 1, diverged = 2, failed = 3 };

// A per-unit scalar that a method reports besides its observables (the PDE's error estimate,
// say): one dataset /<method>/<name> of the unit shape, with attributes long_name and, if set,
// units. io knows nothing of their meaning; the layout declares them and each record carries
// their values in this order. A unit without values (pending, failed) reads as the fill: NaN for
// float64, 0 for the integer types.
enum class ScalarType : std::int8_t { float64, int64, int8 };

struct ScalarField {
    std::string name;
    ScalarType type = ScalarType::float64;
    std::string long_name;  // the description (attribute long_name)
    std::string units;      // attribute units; empty for none
};

struct ResultLayout {
    std::vector<double> lr;
    std::vector<std::uint64_t> dim;
    std::vector<double> alpha;
    std::size_t seeds = 1;
    std::vector<double> time;
    std::vector<std::string> methods;      // groups /sgd, /sde, /pde
    std::vector<std::string> observables;  // one dataset per observable in each method group
    std::string config;                    // resolved INI text (root attribute)
    std::string version;
    std::string shard;                     // "k/K" for one shard of a sweep (root attribute); empty if whole
    std::string petsc_options;             // PETSC_OPTIONS as the sweep saw it (root attribute)
    // Per method, the per-unit scalar fields after the unit datasets (none for most methods).
    std::map<std::string, std::vector<ScalarField>> scalars;
    const std::vector<ScalarField>& scalars_of(const std::string& method) const;
};

// The per-unit datasets of a method group that follow its observables, in file order.
inline constexpr const char* unit_dataset_names[] = {"status", "diverged_at", "wall_seconds", "failures", "failure"};

// One trajectory's results: values[observable * n_time + j].
struct UnitRecord {
    std::array<std::size_t, 4> index{};  // (i_lr, i_dim, i_alpha, i_seed)
    UnitStatus status = UnitStatus::pending;
    double diverged_at = 0.0;
    double wall_seconds = 0.0;
    std::vector<double> values;
    std::int8_t failures = 0;  // how often the unit has failed (0 once it succeeds); retried while 1
    std::string message;       // why it failed (stored truncated to failure_length - 1 bytes)
    // The values of the method's scalar fields (ResultLayout::scalars), in their order; empty
    // writes the fill values (a failed unit). Integer fields hold whole numbers.
    std::vector<double> scalars;
    // Not stored or journaled: a line for the user from the computation of the unit (the PDE's
    // tolerance was not met, naming the point); empty if none.
    std::string warning;
};

// The longest failure message the file keeps, with its terminating zero.
inline constexpr std::size_t failure_length = 256;

// How far a sweep file got, per method: counts of each status. Read without MPI.
struct FileSummary {
    std::string schema, version, config, shard, petsc_options;
    struct MethodCounts {
        std::string method;
        std::size_t pending = 0, done = 0, diverged = 0, failed = 0;
        std::size_t total() const { return pending + done + diverged + failed; }
    };
    std::vector<MethodCounts> methods;  // in the order sgd, sde, pde, those present
    struct FailedUnit {
        std::string method, where;  // where: "lr=1 dim=500 alpha=0.1 seed=0" (pde: lr and alpha)
        int failures = 0;
        std::string message;
    };
    std::vector<FailedUnit> failed;
};

// Throws std::invalid_argument naming the problem if path is not a readable dln sweep file.
FileSummary summarize(const std::string& path);

// Serial, without MPI: the values of /<method>/<name> of a sweep file in row-major order,
// converted to double; empty if the file has no such dataset (an older file).
std::vector<double> read_unit_field(const std::string& path, const std::string& method, const std::string& name);

class ResultFile {
public:
    // Collective over comm. Fails if the path exists, unless overwrite is set.
    static ResultFile create(MPI_Comm comm, const std::string& path, const ResultLayout& layout,
                             bool overwrite);
    ResultFile(ResultFile&&) noexcept;
    ResultFile& operator=(ResultFile&&) noexcept;
    ResultFile(const ResultFile&) = delete;
    ResultFile& operator=(const ResultFile&) = delete;
    ~ResultFile();  // does not close: closing is collective, so it is explicit

    // Collective: reopens a file that create() made with this layout, to continue a sweep.
    static ResultFile open(MPI_Comm comm, const std::string& path, const ResultLayout& layout);

    // Independent: the status and failure count of every unit of a method, in the dataset's
    // (row-major) order.
    std::vector<std::int8_t> read_status(const std::string& method) const;
    std::vector<std::int8_t> read_failures(const std::string& method) const;

    // Serial, without MPI: throws std::invalid_argument naming the first problem if the file at
    // path is not a complete sweep file of this layout (a crash while creating it leaves one).
    static void check_layout(const std::string& path, const ResultLayout& layout);

    // Throws std::invalid_argument if create() would fail for a reason a user can fix: the
    // directory does not exist, or the file exists and overwrite is not set. Touches nothing.
    static void check_can_create(const std::string& path, bool overwrite);

    // Independent: any rank, any time between create() and close(). The status goes last, so a
    // unit whose write was cut short reads as it was before.
    void write(const std::string& method, const UnitRecord& record);

    // Collective.
    void close();

    static constexpr const char* schema = "dln-sweep/1";

private:
    struct Impl;  // the HDF5 identifiers, kept out of this header
    explicit ResultFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dln::io
