#include "dln/sim/problem.hpp"

namespace dln::sim {

Problem make_problem(const model::DataSpec& data, std::size_t dim, const rng::SampleStream& stream) {
    Problem problem;
    problem.lambda = model::spectrum(data, dim);
    auto source = stream.target_sequence();
    problem.beta = model::draw_target(data, dim, source);
    problem.noise = data.noise;
    return problem;
}

}  // namespace dln::sim
