// The sweep's one parallel HDF5 file (schema "dln-sweep/2", README "The sweep file"): netCDF-4
// conformant, so xarray, h5netcdf, netCDF-C and h5py read it as it is (netcdf_file.hpp).
//
// io knows groups, dimensions and per-unit variables, not what they mean: the sweep declares
// the layout (which groups, which dimensions each has, which curves and fields). Rank 0 creates
// the whole file serially, every dataset allocated; then every rank opens it with the MPI-IO
// driver and writes its own units' slabs independently (raw data only: parallel HDF5 needs every
// metadata operation collective).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dln/io/netcdf_file.hpp"

namespace dln::io {

enum class UnitStatus : std::int8_t { pending = 0, done = 1, diverged = 2, failed = 3 };
// CF flag_meanings of the status variable, in the order of the codes 0, 1, 2, 3.
inline constexpr const char* unit_status_meanings = "pending done diverged failed";

// A per-unit scalar that a method reports besides its curves (the PDE's error estimate, say).
// A unit without values (pending, failed) reads as NaN (float64) or 0 (the integer types).
enum class ScalarType : std::int8_t { float64, int64, int8 };

struct ScalarField {
    std::string name;
    ScalarType type = ScalarType::float64;
    std::string long_name;
    std::string units;                     // empty for none
    std::vector<std::int8_t> flag_values;  // int8 codes, with flag_meanings
    std::string flag_meanings;
};

// A curve over the snapshot times: one variable per unit row.
struct CurveField {
    std::string name;
    std::string long_name;
};

// One group of the file: a method's units.
struct GroupLayout {
    std::string name;                  // sgd, sde, pde
    std::vector<Dimension> dims;       // the shape of its units, in order
    std::vector<CurveField> curves;    // [dims..., time]
    std::vector<ScalarField> scalars;  // [dims...], after the unit datasets
    std::size_t units() const;
};

struct ResultLayout {
    std::vector<double> time;
    std::vector<GroupLayout> groups;
    std::string config;         // resolved INI text (root attribute)
    std::string version;
    std::string shard;          // "k/K" for one shard of a sweep (root attribute); empty if whole
    std::string petsc_options;  // PETSC_OPTIONS as the sweep saw it (root attribute)
    // Not stored: datasets of at least 64 KiB start at multiples of this many bytes (0: packed);
    // a parallel file system's stripe size (NcWriter).
    std::uint64_t alignment = 0;
    const GroupLayout& group(const std::string& name) const;  // throws std::out_of_range
};

// The per-unit datasets of every group, after its curves, in file order.
inline constexpr const char* unit_dataset_names[] = {"status", "diverged_at", "wall_seconds", "failures", "failure"};

// One trajectory's results: values[curve * n_time + j].
struct UnitRecord {
    std::size_t position = 0;  // row-major in its group's dims
    UnitStatus status = UnitStatus::pending;
    double diverged_at = 0.0;
    double wall_seconds = 0.0;
    std::vector<double> values;
    std::int8_t failures = 0;  // how often the unit has failed (0 once it succeeds); retried while 1
    std::string message;       // why it failed (stored truncated to failure_length - 1 bytes)
    // The values of the group's scalar fields in their order; empty writes the fill values.
    std::vector<double> scalars;
    // Not stored or journaled: a line for the user from the computation of the unit.
    std::string warning;
};

// The longest failure message the file keeps, with its terminating zero.
inline constexpr std::size_t failure_length = 256;

// How far a sweep file got, per group: counts of each status. Read without MPI.
struct FileSummary {
    std::string schema, version, config, shard, petsc_options;
    struct MethodCounts {
        std::string method;
        std::size_t pending = 0, done = 0, diverged = 0, failed = 0;
        std::size_t total() const { return pending + done + diverged + failed; }
    };
    std::vector<MethodCounts> methods;  // in file order
    struct FailedUnit {
        std::string method, where;  // where: "lr=1 dim=500 alpha=0.1 seed=0", the group's own dims
        std::size_t position = 0;   // row-major in the group's dims
        int failures = 0;
        std::string message;
    };
    std::vector<FailedUnit> failed;
};

// Throws std::invalid_argument naming the problem if path is not a readable dln sweep file
// (a dln-sweep/1 file is named as such, with the version that wrote it).
FileSummary summarize(const std::string& path);

// Serial, without MPI: the values of /<group>/<name> of a sweep file in row-major order,
// converted to double; empty if the file has no such dataset.
std::vector<double> read_unit_field(const std::string& path, const std::string& group, const std::string& name);

class ResultFile {
public:
    // Collective over comm. Fails if the path exists, unless overwrite is set.
    static ResultFile create(MPI_Comm comm, const std::string& path, const ResultLayout& layout, bool overwrite);
    ResultFile(ResultFile&&) noexcept;
    ResultFile& operator=(ResultFile&&) noexcept;
    ResultFile(const ResultFile&) = delete;
    ResultFile& operator=(const ResultFile&) = delete;
    ~ResultFile();  // does not close: closing is collective, so it is explicit

    // Collective: reopens a file that create() made with this layout, to continue a sweep.
    static ResultFile open(MPI_Comm comm, const std::string& path, const ResultLayout& layout);

    // Independent: the status and failure count of every unit of a group, row-major.
    std::vector<std::int8_t> read_status(const std::string& group) const;
    std::vector<std::int8_t> read_failures(const std::string& group) const;

    // Serial, without MPI: throws std::invalid_argument naming the first problem if the file at
    // path is not a complete sweep file of this layout (a crash while creating it leaves one).
    static void check_layout(const std::string& path, const ResultLayout& layout);

    // Throws std::invalid_argument if create() would fail for a reason a user can fix: the
    // directory does not exist or is not writable, or the file exists and overwrite is not set.
    // Touches nothing.
    static void check_can_create(const std::string& path, bool overwrite);
    // Throws std::invalid_argument if another process has path open (a sweep writing it, or a
    // reader at that moment). Otherwise this process holds path from then on (a shared flock
    // until it exits; the sweep takes it again on the file it makes), so a second
    // sweep on the same output is refused while this one runs. Nothing at path: nothing to do.
    static void hold_unless_in_use(const std::string& path);
    // Holds path from then on without asking (rank 0, once the sweep has made its file).
    static void hold(const std::string& path);
    // The descriptor of this process's hold on path, or -1 if it holds none. Its own serial
    // writes to path (the provenance attributes) cannot take HDF5's exclusive flock while it holds
    // the shared one, so they turn the hold exclusive themselves (provenance.cpp).
    static int hold_descriptor(const std::string& path);

    // Independent: any rank, any time between create() and close(). The status goes last, so a
    // unit whose write was cut short reads as it was before.
    void write(const std::string& group, const UnitRecord& record);
    // The same for many units of a group at once: one H5Dwrite per dataset for all of them (a
    // selection of their rows), so a worker's group commit costs a dozen writes, not a dozen per
    // unit. Every dataset's status goes last, as above; of two records of one unit the last wins.
    void write_many(const std::string& group, std::span<const UnitRecord> records);

    // Collective.
    void close();

    static constexpr const char* schema = "dln-sweep/2";

private:
    struct Impl;  // the HDF5 identifiers, kept out of this header
    explicit ResultFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// This process's H5Dwrite calls of ResultFile so far, for DLN_IO_STATS.
std::size_t hdf5_write_calls();

// "'F' is a dln-sweep/1 file (written by dln V); this dln ... reads dln-sweep/2 only: ..." or
// "'F' is not a dln sweep file (schema 'S')": the line for a file of another schema.
std::string other_schema_message(const std::string& path, const std::string& schema, const std::string& version,
                                 const std::string& expected);

}  // namespace dln::io
