#include "dln/sim/sgd_simulator.hpp"

#include <cmath>

namespace dln::sim {

using model::Parametrization;

SgdSimulator::SgdSimulator(Problem problem, Parametrization parametrization, double lr,
                           double alpha, rng::SampleStream stream)
    : problem_(std::move(problem)),
      param_(parametrization),
      lr_(lr),
      stream_(stream),
      dim_(problem_.dim()),
      sample_scale_(dim_),
      delta_(dim_),
      x_(dim_) {
    const double d = static_cast<double>(dim_);
    for (std::size_t i = 0; i < dim_; ++i) sample_scale_[i] = std::sqrt(problem_.lambda[i] / d);
    const auto init = model::standard_initialisation(param_, alpha);
    u_.assign(dim_, init.u);
    if (param_ != Parametrization::linear) v_.assign(dim_, init.v);
    update_risk_and_delta();
}

void SgdSimulator::update_risk_and_delta() {
    const bool linear = param_ == Parametrization::linear;
    double sum = 0.0;
    for (std::size_t i = 0; i < dim_; ++i) {
        const double w = model::predictor(param_, u_[i], linear ? 0.0 : v_[i]);
        delta_[i] = w - problem_.beta[i];
        sum += problem_.lambda[i] * delta_[i] * delta_[i];
    }
    risk_ = 0.5 * sum / static_cast<double>(dim_) + 0.5 * problem_.noise * problem_.noise;
}

void SgdSimulator::step() {
    // Pass 1: draw x_k and the residual r = <x, w - beta*> - sigma xi (y = <x, beta*> + sigma xi).
    stream_.fill_gaussians(x_, steps_);
    double inner = 0.0;
    for (std::size_t i = 0; i < dim_; ++i) {
        x_[i] *= sample_scale_[i];
        inner += x_[i] * delta_[i];
    }
    const double r = inner - problem_.noise * stream_.label_noise(steps_);
    residual_ = r;

    // Pass 2: the gradient step of 1/2 r^2 (both updates from the old state), then w - beta*
    // and the risk of the new state, fused into the same pass over memory.
    const double lambda_sum_scale = 0.5 / static_cast<double>(dim_);
    const double* lambda = problem_.lambda.data();
    const double* beta = problem_.beta.data();
    double sum = 0.0;
    switch (param_) {
        case Parametrization::u2v2: {
            const double g = 2.0 * lr_ * r;  // d(1/2 r^2)/du_i = 2 r x_i u_i, /dv_i = -2 r x_i v_i
            for (std::size_t i = 0; i < dim_; ++i) {
                const double a = g * x_[i];
                const double u = u_[i] - a * u_[i];
                const double v = v_[i] + a * v_[i];
                u_[i] = u;
                v_[i] = v;
                const double delta = u * u - v * v - beta[i];
                delta_[i] = delta;
                sum += lambda[i] * delta * delta;
            }
            break;
        }
        case Parametrization::uv: {
            const double g = lr_ * r;  // d(1/2 r^2)/du_i = r x_i v_i, /dv_i = r x_i u_i
            for (std::size_t i = 0; i < dim_; ++i) {
                const double a = g * x_[i];
                const double u = u_[i] - a * v_[i];
                const double v = v_[i] - a * u_[i];
                u_[i] = u;
                v_[i] = v;
                const double delta = u * v - beta[i];
                delta_[i] = delta;
                sum += lambda[i] * delta * delta;
            }
            break;
        }
        case Parametrization::linear: {
            const double g = lr_ * r;
            for (std::size_t i = 0; i < dim_; ++i) {
                const double w = u_[i] - g * x_[i];
                u_[i] = w;
                const double delta = w - beta[i];
                delta_[i] = delta;
                sum += lambda[i] * delta * delta;
            }
            break;
        }
    }
    risk_ = lambda_sum_scale * sum + 0.5 * problem_.noise * problem_.noise;
    ++steps_;
}

model::Observables SgdSimulator::observe(double threshold) const {
    return model::measure(param_, u_, v_, problem_.lambda, problem_.beta, problem_.noise, threshold);
}

Trajectory SgdSimulator::run(const RunSpec& spec) { return record_run(*this, spec, [this](double t) { return step_at(t, dim_); }); }

Trajectory simulate_sgd(const PointSpec& point, const RunSpec& run, std::uint32_t seed,
                        std::uint32_t replicate) {
    const rng::SampleStream stream(seed, point.dim, replicate);
    SgdSimulator sim(make_problem(point.data, point.dim, stream), point.parametrization, point.lr,
                     point.alpha, stream);
    return sim.run(run);
}

}  // namespace dln::sim
