// `dln merge OUT.h5 SHARD...`: the shards of a sweep (or partial runs of it) as one file,
// identical (every dataset but wall_seconds) to the file of an unsharded run.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <string>
#include <vector>

namespace dln::sweep {

struct MergeSummary {
    std::size_t units = 0;                   // in the merged sweep, all methods
    std::size_t missing = 0;                 // computed by no input: pending in the merged file
    std::vector<std::string> missing_units;  // the first few, as "sgd lr=1 dim=500 alpha=0.1 seed=0"
    std::vector<std::string> missing_shards; // "2/3": shards of the sweep not among the inputs
};

// Rank 0 of comm alone, before anything is touched: throws config::ConfigError naming what is
// wrong (an unreadable or damaged input, inputs of different configurations, the output among
// the inputs, an existing output without overwrite, a missing directory).
void check_merge(const std::string& output, const std::vector<std::string>& inputs, bool overwrite);

// Collective over comm (creating the file is): writes output from the inputs.
MergeSummary merge_sweep_files(MPI_Comm comm, const std::string& output, const std::vector<std::string>& inputs,
                               bool overwrite);

}  // namespace dln::sweep
