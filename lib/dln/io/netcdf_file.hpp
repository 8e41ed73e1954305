// netCDF-4-conformant HDF5, written and read with plain HDF5 (serial, no MPI): the one place
// that knows how xarray, h5netcdf, netCDF-C (ncdump) and h5py see a file.
//
// What conformance takes (README "The sweep file"): each group that holds variables holds the
// coordinate variables of their dimensions too (netCDF-4 resolves a dimension only in a
// variable's own group and its ancestors, and xarray's open_dataset(group=G) loads coordinates
// only from G); a coordinate variable is an HDF5 dimension scale named as its dimension; every
// dimension of every variable has its scale attached and its label set (h5py's dims[k].label);
// a dimension without values is a scale whose NAME is netCDF's "This is a netCDF dimension but
// not a netCDF variable." marker; strings are variable-length UTF-8 (attributes and string
// coordinates) or char arrays with a length dimension (fixed-length HDF5 string types crash
// netCDF-C 4.9.0's reader); codes are integers with CF's flag_values and flag_meanings, not
// HDF5 enums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dln::io {

// A dimension of a group and its coordinate variable.
struct Dimension {
    enum class Kind : std::int8_t { float64, int64, string, none };  // none: a length without values
    std::string name;
    Kind kind = Kind::float64;
    std::vector<double> numbers;       // float64 and int64 (whole numbers) coordinates
    std::vector<std::string> labels;   // string coordinates
    std::size_t length = 0;            // for Kind::none
    std::string long_name;
    std::string key;                   // attribute dln_key (empty: none)
    std::size_t size() const;
    static Dimension numeric(std::string name, std::vector<double> values, std::string long_name, std::string key,
                             bool integer = false);
    static Dimension names(std::string name, std::vector<std::string> values, std::string long_name,
                           std::string key);
    static Dimension count(std::string name, std::size_t length);
};

enum class ValueType : std::int8_t { float64, int64, int32, int8, chars };

// A variable's description: its dimensions (names of the group's dimensions, in order), its
// type and attributes. chars: the last dimension is the string length.
struct Variable {
    std::string name;
    ValueType type = ValueType::float64;
    std::vector<std::string> dims;
    std::string long_name;
    std::string units;                       // empty: none
    std::vector<std::int8_t> flag_values;    // CF flags (int8 variables)
    std::string flag_meanings;               // space-separated, one per flag value
    bool fill_nan = false;                   // float64: unwritten values read as NaN
    // Further attributes of the variable (e.g. how a quantile was estimated), in this order.
    std::vector<std::pair<std::string, std::string>> text_attributes;
    std::vector<std::pair<std::string, double>> number_attributes;
};

class NcWriter;

// A group being written: dimensions first, then variables.
class NcGroup {
public:
    NcGroup(NcGroup&&) noexcept;
    ~NcGroup();
    void dimension(const Dimension& dim);
    // Creates the variable (allocated at once, so a file opened later with the MPI-IO driver
    // can write it independently) and writes data if given: doubles for float64, whole numbers
    // as doubles for the integer types, bytes for chars.
    void variable(const Variable& var, const std::vector<double>* data = nullptr);
    void chars(const Variable& var, const std::vector<char>& data);
    // Root-level attribute of this group.
    void attribute(const std::string& name, const std::string& value);
    void attribute(const std::string& name, double value);

private:
    friend class NcWriter;
    struct Impl;
    explicit NcGroup(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// A new file (truncating exclusive creation as asked). Serial. With alignment > 0, every
// dataset of at least 64 KiB starts at a multiple of alignment bytes (H5Pset_alignment): on a
// parallel file system, the stripe size, so no write of a dataset straddles two servers' stripes
// at its start.
class NcWriter {
public:
    NcWriter(const std::string& path, bool overwrite, std::uint64_t alignment = 0);
    NcWriter(NcWriter&&) noexcept;
    ~NcWriter();  // closes, ignoring errors; call close() to see them
    void attribute(const std::string& name, const std::string& value);
    void attribute(const std::string& name, double value);
    NcGroup group(const std::string& name);
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Throws std::invalid_argument if reading path's metadata (every object, attribute and dimension
// scale) crashes the HDF5 library or a dataset claims more bytes than the file holds: HDF5 1.10
// trusts a file's metadata, and a damaged file can make it segfault. Run in a child process, once
// per file and modification per process. NcReader calls it; so must any other serial reader.
void check_not_damaged(const std::string& path);

// Reading such a file (serially): attributes, a group's dimensions as written, and whole
// variables converted to double. Throws std::invalid_argument naming the file and the problem
// for anything missing or malformed.
class NcReader {
public:
    explicit NcReader(const std::string& path);
    NcReader(NcReader&&) noexcept;
    ~NcReader();
    const std::string& path() const;
    std::string attribute(const std::string& name) const;     // empty if absent
    double number_attribute(const std::string& name) const;   // NaN if absent
    bool has_group(const std::string& group) const;
    // The groups under the root, in the order they were created (name order if the file does not
    // track it).
    std::vector<std::string> groups() const;
    bool has_variable(const std::string& group, const std::string& name) const;
    // The dimensions of a variable, in order, with their coordinates (as written).
    std::vector<Dimension> dimensions(const std::string& group, const std::string& variable) const;
    std::vector<std::size_t> shape(const std::string& group, const std::string& variable) const;
    std::vector<double> read(const std::string& group, const std::string& variable) const;
    std::vector<std::int8_t> read_int8(const std::string& group, const std::string& variable) const;
    // A chars variable as strings (NUL padding removed), one per element of all but the last dim.
    std::vector<std::string> read_strings(const std::string& group, const std::string& variable) const;
    std::string group_attribute(const std::string& group, const std::string& name) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dln::io
