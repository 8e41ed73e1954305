// One replicate's instance of the data model: the spectrum lambda and the target beta*.
#pragma once

#include <cstddef>
#include <vector>

#include "dln/model/data_model.hpp"
#include "dln/rng/sample_stream.hpp"

namespace dln::sim {

struct Problem {
    std::vector<double> lambda;  // the spectrum, mean 1
    std::vector<double> beta;    // the target beta*
    double noise = 0.0;          // sigma
    std::size_t dim() const { return lambda.size(); }
};

// beta* is drawn from the replicate's own stream, so it depends on (seed, dim, replicate) only.
Problem make_problem(const model::DataSpec& data, std::size_t dim, const rng::SampleStream& stream);

}  // namespace dln::sim
