#include "dln/sim/sgd_engine.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "dln/sim/noinline.hpp"

namespace dln::sim {

using model::Parametrization;

namespace {

constexpr std::size_t kChunk = rng::SampleStream::kChunk;
constexpr std::size_t kLanes = SgdEngine::kLanes;

// The sum of the 8 partial sums, in a fixed order.
double total(const double (&partial)[kLanes]) {
    return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
           ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

// w - beta* of one coordinate (the predictors of THEORY.md §1, rounded the same way in the
// update and in the first pass).
template <Parametrization P>
inline double delta_of(double u, double v, double beta) {
    if constexpr (P == Parametrization::u2v2) return std::fma(u, u, -(v * v)) - beta;
    if constexpr (P == Parametrization::uv) return u * v - beta;
    return u - beta;
}

// One chunk of one member: the update with x (coefficient g = 2 lr r for u2v2, lr r otherwise),
// then the new state's sum lambda (w - beta*)^2 and <next, w - beta*> into the partial sums.
template <Parametrization P, bool Isotropic>
DLN_NOINLINE void update_chunk(double g, const double* __restrict x, const double* __restrict next,
                         const double* __restrict beta, const double* __restrict lambda, double* __restrict u,
                         double* __restrict v, double (&risk)[kLanes], double (&inner)[kLanes]) {
    if constexpr (P == Parametrization::linear) {
        // The update and the sums in two loops: written as one, GCC 12 leaves it scalar.
        alignas(64) double delta[kChunk];
        for (std::size_t k = 0; k < kChunk; ++k) {
            const double w = u[k] - g * x[k];  // w - lr r x
            u[k] = w;
            delta[k] = w - beta[k];
        }
        double r[kLanes], q[kLanes];
        for (std::size_t j = 0; j < kLanes; ++j) {
            r[j] = risk[j];
            q[j] = inner[j];
        }
        for (std::size_t i = 0; i < kChunk; i += kLanes) {
            for (std::size_t j = 0; j < kLanes; ++j) {
                const double d = delta[i + j];
                r[j] = std::fma(Isotropic ? d : lambda[i + j] * d, d, r[j]);
                q[j] = std::fma(next[i + j], d, q[j]);
            }
        }
        for (std::size_t j = 0; j < kLanes; ++j) {
            risk[j] = r[j];
            inner[j] = q[j];
        }
        (void)v;
        return;
    }
    double r[kLanes], q[kLanes];
    for (std::size_t j = 0; j < kLanes; ++j) {
        r[j] = risk[j];
        q[j] = inner[j];
    }
    for (std::size_t i = 0; i < kChunk; i += kLanes) {
        for (std::size_t j = 0; j < kLanes; ++j) {
            const std::size_t k = i + j;
            const double a = g * x[k];
            double un, vn = 0.0;
            if constexpr (P == Parametrization::u2v2) {
                un = std::fma(-a, u[k], u[k]);  // u - 2 lr r x u
                vn = std::fma(a, v[k], v[k]);   // v + 2 lr r x v
            } else if constexpr (P == Parametrization::uv) {
                un = std::fma(-a, v[k], u[k]);  // u - lr r x v, from the old v
                vn = std::fma(-a, u[k], v[k]);  // v - lr r x u, from the old u
            } else {
                un = u[k] - a;  // w - lr r x
            }
            u[k] = un;
            if constexpr (P != Parametrization::linear) v[k] = vn;
            const double d = delta_of<P>(un, vn, beta[k]);
            r[j] = std::fma(Isotropic ? d : lambda[k] * d, d, r[j]);  // lambda = 1: the same bits
            q[j] = std::fma(next[k], d, q[j]);
        }
    }
    for (std::size_t j = 0; j < kLanes; ++j) {
        risk[j] = r[j];
        inner[j] = q[j];
    }
}

// The same sums for the state as it is (the start of a run).
template <Parametrization P, bool Isotropic>
DLN_NOINLINE void measure_chunk(const double* __restrict next, const double* __restrict beta,
                          const double* __restrict lambda, const double* __restrict u, const double* __restrict v,
                          double (&risk)[kLanes], double (&inner)[kLanes]) {
    for (std::size_t i = 0; i < kChunk; i += kLanes) {
        for (std::size_t j = 0; j < kLanes; ++j) {
            const std::size_t k = i + j;
            const double d = delta_of<P>(u[k], P == Parametrization::linear ? 0.0 : v[k], beta[k]);
            risk[j] = std::fma(Isotropic ? d : lambda[k] * d, d, risk[j]);
            inner[j] = std::fma(next[k], d, inner[j]);
        }
    }
}

// Stores beta* sparse when its nonzeros take less than half the dense array's bytes and the
// dense array would not stay in L2 with the rest of a step's data (d >= kSparseBetaDim): the
// expansion costs about 0.3 cycles per coordinate, which only pays when beta* streams from L3
// or memory. w - (+0.0) is w bit for bit, so the kernel still subtracts every beta*_i.
constexpr std::size_t kSparseBetaDim = std::size_t{1} << 15;
bool sparse_enough(const std::vector<double>& beta) {
    if (beta.size() < kSparseBetaDim) return false;
    std::size_t nonzero = 0;
    for (double b : beta) nonzero += std::bit_cast<std::uint64_t>(b) != 0 ? 1 : 0;
    return 9 * nonzero < 4 * beta.size();
}

}  // namespace

StaggeredArrays::StaggeredArrays(std::span<const unsigned> slots, std::size_t length) {
    constexpr std::size_t kPage = 4096 / sizeof(double), kSlot = 512 / sizeof(double);
    stride_ = (length + kPage - 1) / kPage * kPage + kPage;
    const std::size_t total = stride_ * slots.size();
    block_.reset(static_cast<double*>(::operator new(total * sizeof(double), std::align_val_t{4096})));
    std::fill(block_.get(), block_.get() + total, 0.0);
    for (unsigned slot : slots) offset_.push_back(kSlot * (slot % 8));
}

SgdEngine::SgdEngine(Problem problem, Parametrization parametrization, std::span<const MemberSpec> members,
                     rng::SampleStream stream)
    : problem_(std::move(problem)),
      param_(parametrization),
      stream_(stream),
      dim_(problem_.dim()),
      chunks_((dim_ + kChunk - 1) / kChunk),
      isotropic_(true) {
    const std::size_t padded = chunks_ * kChunk;
    // Arrays 0-4 are scale, lambda, beta and the two sample buffers; then each member's u and v,
    // which are used one member at a time, so all members share the slots 5 and 6.
    const bool two = param_ != Parametrization::linear;
    std::vector<unsigned> slots = {0, 1, 2, 3, 4};
    for (std::size_t m = 0; m < members.size(); ++m) {
        slots.push_back(5);
        if (two) slots.push_back(6);
    }
    arrays_ = StaggeredArrays(slots, padded);
    scale_ = arrays_[0];
    lambda_ = arrays_[1];
    beta_ = arrays_[2];
    x_ = arrays_[3];
    ahead_ = arrays_[4];
    const double d = static_cast<double>(dim_);
    for (std::size_t i = 0; i < dim_; ++i) {
        scale_[i] = std::sqrt(problem_.lambda[i] / d);
        lambda_[i] = problem_.lambda[i];
        beta_[i] = problem_.beta[i];
        if (problem_.lambda[i] != 1.0) isotropic_ = false;
    }
    // Isotropic data: every whole chunk's scale is sqrt(1/d), one L1-resident chunk of it
    // (uniform_, the same bits as sqrt(lambda_i / d) with lambda_i = 1) instead of a stream.
    uniform_.assign(kChunk, std::sqrt(1.0 / d));
    if (sparse_enough(problem_.beta)) {
        sparse_beta_ = true;
        beta_chunk_.assign(kChunk, 0.0);
        for (std::size_t c = 0; c < chunks_; ++c) {
            beta_first_.push_back(static_cast<std::uint32_t>(beta_value_.size()));
            for (std::size_t k = 0; k < kChunk && c * kChunk + k < dim_; ++k) {
                const double b = problem_.beta[c * kChunk + k];
                if (std::bit_cast<std::uint64_t>(b) == 0) continue;  // +0.0 only: -0.0 is stored
                beta_pos_.push_back(static_cast<std::uint8_t>(k));
                beta_value_.push_back(b);
            }
        }
        beta_first_.push_back(static_cast<std::uint32_t>(beta_value_.size()));
    }
    members_.reserve(members.size());
    std::size_t next_array = 5;
    for (const auto& spec : members) {
        Member m;
        m.lr = spec.lr;
        const auto init = model::standard_initialisation(param_, spec.alpha);
        m.u = arrays_[next_array++];  // the padding stays 0: its x is 0, so it never moves
        std::fill(m.u, m.u + dim_, init.u);
        if (two) {
            m.v = arrays_[next_array++];
            std::fill(m.v, m.v + dim_, init.v);
        }
        members_.push_back(m);
    }
    // x_0 and each member's R(0) and <x_0, w0 - beta*>.
    auto start = [this]<Parametrization P>() { isotropic_ ? start_as<P, true>() : start_as<P, false>(); };
    switch (param_) {
        case Parametrization::u2v2: start.template operator()<Parametrization::u2v2>(); break;
        case Parametrization::uv: start.template operator()<Parametrization::uv>(); break;
        case Parametrization::linear: start.template operator()<Parametrization::linear>(); break;
    }
}

template <Parametrization P, bool Isotropic>
void SgdEngine::start_as() {
    for (std::size_t c = 0; c < chunks_; ++c) {
        const std::size_t off = c * kChunk;
        stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, 0, c, ahead_ + off, chunk_scale(c));
    }
    const double noise_part = 0.5 * problem_.noise * problem_.noise;
    for (auto& m : members_) {
        double risk[kLanes] = {}, inner[kLanes] = {};
        for (std::size_t c = 0; c < chunks_; ++c) {
            const std::size_t off = c * kChunk;
            measure_chunk<P, Isotropic>(ahead_ + off, beta_ + off, lambda_ + off,  // dense: not in the step loop
                                        m.u + off, P == Parametrization::linear ? nullptr : m.v + off,
                                        risk, inner);
        }
        m.risk = 0.5 * total(risk) / static_cast<double>(dim_) + noise_part;
        m.inner = total(inner);
    }
}

void SgdEngine::step() {
    switch (param_) {
        case Parametrization::u2v2: isotropic_ ? step_as<Parametrization::u2v2, true>() : step_as<Parametrization::u2v2, false>(); break;
        case Parametrization::uv: isotropic_ ? step_as<Parametrization::uv, true>() : step_as<Parametrization::uv, false>(); break;
        case Parametrization::linear: isotropic_ ? step_as<Parametrization::linear, true>() : step_as<Parametrization::linear, false>(); break;
    }
}

template <Parametrization P, bool Isotropic>
void SgdEngine::step_as() {
    const std::uint64_t k = steps_;
    const double sigma = problem_.noise;
    // sigma xi: skipped when sigma = 0 (inner - 0 is inner, bit for bit).
    const double label = sigma != 0.0 ? sigma * stream_.label_noise(k) : 0.0;
    for (std::size_t b = 0; b < members_.size(); ++b) {
        auto& m = members_[b];
        if (!m.live) continue;
        m.residual = sigma != 0.0 ? m.inner - label : m.inner;
        const double factor = P == Parametrization::u2v2 ? 2.0 * m.lr : m.lr;
        m.g = factor * m.residual;
        for (std::size_t j = 0; j < kLanes; ++j) m.risk_sum[j] = m.inner_sum[j] = 0.0;
    }
    // This step uses ahead_ (x_k); the pass writes x_{k+1} over x_ (x_{k-1}), then they swap.
    const double* x = ahead_;
    double* next = x_;
    for (std::size_t c = 0; c < chunks_; ++c) {
        const std::size_t off = c * kChunk;
        stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, k + 1, c, next + off, chunk_scale(c));
        const double* beta = chunk_beta(c);
        for (std::size_t b = 0; b < members_.size(); ++b) {
            auto& m = members_[b];
            if (!m.live) continue;
            update_chunk<P, Isotropic>(m.g, x + off, next + off, beta, lambda_ + off,
                                       m.u + off, P == Parametrization::linear ? nullptr : m.v + off,
                                       m.risk_sum, m.inner_sum);
        }
        release_beta(c);
    }
    const double noise_part = 0.5 * sigma * sigma;
    for (std::size_t b = 0; b < members_.size(); ++b) {
        auto& m = members_[b];
        if (!m.live) continue;
        m.risk = 0.5 * total(m.risk_sum) / static_cast<double>(dim_) + noise_part;
        m.inner = total(m.inner_sum);
    }
    std::swap(x_, ahead_);
    ++steps_;
}

const double* SgdEngine::chunk_scale(std::size_t c) const {
    const bool whole = (c + 1) * kChunk <= dim_;  // a partial last chunk keeps its 0s on the padding
    return isotropic_ && whole ? uniform_.data() : scale_ + c * kChunk;
}

const double* SgdEngine::chunk_beta(std::size_t c) {
    if (!sparse_beta_) return beta_ + c * kChunk;
    for (std::uint32_t j = beta_first_[c]; j < beta_first_[c + 1]; ++j) beta_chunk_[beta_pos_[j]] = beta_value_[j];
    return beta_chunk_.data();
}

void SgdEngine::release_beta(std::size_t c) {
    if (!sparse_beta_) return;
    for (std::uint32_t j = beta_first_[c]; j < beta_first_[c + 1]; ++j) beta_chunk_[beta_pos_[j]] = 0.0;
}

std::size_t SgdEngine::live_count() const {
    std::size_t n = 0;
    for (const auto& m : members_) n += m.live ? 1 : 0;
    return n;
}

std::span<const double> SgdEngine::v(std::size_t m) const {
    if (param_ == Parametrization::linear) return {};
    return {members_[m].v, dim_};
}

model::Observables SgdEngine::observe(std::size_t m, double threshold) const {
    return model::measure(param_, u(m), v(m), problem_.lambda, problem_.beta, problem_.noise, threshold);
}

}  // namespace dln::sim
