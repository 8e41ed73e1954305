// Combining sweep files that hold different units of one sweep (the shards of a job array, or
// partial runs) into one file.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "dln/io/result_file.hpp"

namespace dln::io {

struct MergeOutcome {
    // Per method, the status positions (row-major) that no input computed.
    std::map<std::string, std::vector<std::size_t>> missing;
};

// Serial, without MPI. output must be a file ResultFile::create() made with layout (and closed),
// and every input a complete sweep file of the same layout (ResultFile::check_layout). Copies
// each unit, every dataset of it (its scalar fields too), from an input that computed it: one where it is done or
// diverged if there is one, else one where it failed.
MergeOutcome merge_results(const std::string& output, const std::vector<std::string>& inputs,
                           const ResultLayout& layout);

}  // namespace dln::io
