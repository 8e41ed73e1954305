// Reading the units of a finished sweep file back as the records the sweep wrote (serial, no
// MPI, read-only): what `dln sweep --from OLD.h5` copies into a bigger sweep.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "dln/io/result_file.hpp"

namespace dln::io {

// The records of the units at `positions` (row-major in the group's dims) of group `group` of
// the sweep file at path, which must have `layout` (ResultFile::check_layout), in ascending
// position order (repeated positions once). Opens the file read-only: it is never modified.
// Every value is exactly what the file holds: float64 and int8 datasets are read in their own
// types, int64 scalars too and then widened to double, which is exact below 2^53 (a larger value
// throws std::runtime_error rather than be rounded). Rows are read by hyperslab, a few thousand
// at a time, so memory stays bounded whatever the file's size.
std::vector<UnitRecord> read_unit_records(const std::string& path, const ResultLayout& layout,
                                          const std::string& group, std::span<const std::size_t> positions);

}  // namespace dln::io
