#include "dln/sim/sgd_engine.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// GCC 12.2's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* (GCC bug
// 105593, fixed in 12.3), as in rng/philox_lanes.hpp: silenced for this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

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

// out[j] = double(z[j]) * scale[j] for kLanes = 8 lanes, as one vector operation: GCC 12's
// vectoriser, left to itself, splits the widening of 8 floats into halves and the whole kernel
// around it into 256-bit vectors (twice the instructions on an AVX-512 CPU). The same IEEE
// products either way.
inline void widen_lanes(const float* z, const double* scale, double* out) {
#if defined(__AVX512F__)
    _mm512_storeu_pd(out, _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(z)), _mm512_loadu_pd(scale)));
#else
    using Floats = float __attribute__((vector_size(kLanes * sizeof(float))));
    using Doubles = double __attribute__((vector_size(kLanes * sizeof(double))));
    Floats f;
    Doubles s;
    std::memcpy(&f, z, sizeof f);
    std::memcpy(&s, scale, sizeof s);
    const Doubles x = __builtin_convertvector(f, Doubles) * s;
    std::memcpy(out, &x, sizeof x);
#endif
}

// One chunk of one member: the update with x (coefficient g = 2 lr r for u2v2, lr r otherwise),
// then the new state's sum lambda (w - beta*)^2 and <next, w - beta*> into the partial sums.
// Widen (streamed layout): x and next are not given but formed here from the float
// draws z and z_next, as double(z) * scale, the generator's own product, so the same bits.
// Under AddressSanitizer (GCC 12, -O2) the streamed kernel's stack temporaries were laid out at
// 32 bytes while the vectoriser stored to them with 64-byte aligned stores (vmovdqa64): a
// general-protection fault in a correct call (CI, 2026-12-01, the layout test at d = 300),
// with alignas(64) on them too. So this one function is not instrumented for ASan: its reads
// and writes are of the engine's arrays, which the resident layout's tests (the same accesses)
// and UBSan still check.
#if defined(__SANITIZE_ADDRESS__)
#define DLN_KERNEL_ATTRIBUTES DLN_NOINLINE __attribute__((no_sanitize_address))
#else
#define DLN_KERNEL_ATTRIBUTES DLN_NOINLINE
#endif
template <Parametrization P, bool Isotropic, bool Widen = false>
DLN_KERNEL_ATTRIBUTES void update_chunk(double g, const double* __restrict x, const double* __restrict next,
                         const double* __restrict beta, const double* __restrict lambda, double* __restrict u,
                         double* __restrict v, double (&risk)[kLanes], double (&inner)[kLanes],
                         const float* __restrict z = nullptr, const float* __restrict z_next = nullptr,
                         const double* __restrict scale = nullptr) {
#define DLN_X(k, j) (Widen ? xw[j] : x[k])
#define DLN_NEXT(k, j) (Widen ? nw[j] : next[k])
    if constexpr (P == Parametrization::linear) {
        // The update and the sums in two loops: written as one, GCC 12 leaves it scalar (and
        // the first, with x widened in it, too: x is widened into delta beforehand).
        alignas(64) double delta[kChunk];
        if constexpr (Widen) {
            for (std::size_t i = 0; i < kChunk; i += kLanes) widen_lanes(z + i, scale + i, delta + i);
            x = delta;
        }
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
            double nw[kLanes];
            if constexpr (Widen) widen_lanes(z_next + i, scale + i, nw);
            for (std::size_t j = 0; j < kLanes; ++j) {
                const double d = delta[i + j];
                r[j] = std::fma(Isotropic ? d : lambda[i + j] * d, d, r[j]);
                q[j] = std::fma(DLN_NEXT(i + j, j), d, q[j]);
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
        double xw[kLanes], nw[kLanes];
        if constexpr (Widen) {
            widen_lanes(z + i, scale + i, xw);
            widen_lanes(z_next + i, scale + i, nw);
        }
        for (std::size_t j = 0; j < kLanes; ++j) {
            const std::size_t k = i + j;
            const double a = g * DLN_X(k, j);
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
            q[j] = std::fma(DLN_NEXT(k, j), d, q[j]);
        }
    }
    for (std::size_t j = 0; j < kLanes; ++j) {
        risk[j] = r[j];
        inner[j] = q[j];
    }
#undef DLN_X
#undef DLN_NEXT
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

// x_k of one chunk from its stored float z (streamed layout): the generator's own product
// double(z) * sqrt(lambda/d), so the same bits as the x it wrote when it drew z.
DLN_NOINLINE void widen_chunk(const float* __restrict z, const double* __restrict scale, double* __restrict x) {
    for (std::size_t k = 0; k < kChunk; ++k) x[k] = static_cast<double>(z[k]) * scale[k];
}

// z_{k+1} of one chunk over z_k, once the kernel has read z_k.
DLN_NOINLINE void store_chunk(const float* __restrict from, float* __restrict to) {
    for (std::size_t k = 0; k < kChunk; ++k) to[k] = from[k];
}

}  // namespace

StaggeredArrays::StaggeredArrays(std::span<const unsigned> slots, std::span<const std::size_t> lengths) {
    constexpr std::size_t kPage = 4096 / sizeof(double), kSlot = 512 / sizeof(double);
    std::size_t total = 0;
    for (std::size_t j = 0; j < slots.size(); ++j) {
        const std::size_t offset = kSlot * (slots[j] % 8);
        start_.push_back(total + offset);
        total += (offset + lengths[j] + kPage - 1) / kPage * kPage;
    }
    total = std::max(total, kPage);
    block_.reset(static_cast<double*>(::operator new(total * sizeof(double), std::align_val_t{4096})));
    std::fill(block_.get(), block_.get() + total, 0.0);
}

SgdEngine::SgdEngine(Problem problem, Parametrization parametrization, std::span<const MemberSpec> members,
                     rng::SampleStream stream, Layout layout)
    : problem_(std::move(problem)),
      param_(parametrization),
      stream_(stream),
      dim_(problem_.dim()),
      chunks_((dim_ + kChunk - 1) / kChunk),
      isotropic_(std::all_of(problem_.lambda.begin(), problem_.lambda.end(), [](double l) { return l == 1.0; })),
      layout_(layout) {
    const std::size_t padded = chunks_ * kChunk;
    const bool two = param_ != Parametrization::linear;
    const bool sparse = sparse_enough(problem_.beta);
    if (layout_ == Layout::automatic) {
        // The bytes of one resident step (per padded coordinate: both samples, a dense beta*,
        // lambda and sqrt(lambda/d) unless isotropic, each member's state).
        const std::size_t arrays = 2 + (sparse ? 0 : 1) + (isotropic_ ? 0 : 2) +
                                   members.size() * (two ? 2 : 1);
        const bool fits = sizeof(double) * padded * arrays <= kResidentBytes;
        layout_ = fits || members.size() > 1 ? Layout::resident : Layout::streamed;
    }
    const bool streamed = layout_ == Layout::streamed;
    // Arrays 0-4 are scale, lambda, beta and the two sample buffers (streamed: the L1 chunks of
    // x_k and x_{k+1} for linear's kernel, then z in slot 7 and the L1 chunk of z_{k+1}); then
    // each member's u and v, which are used one member at a time, so all members share the
    // slots 5 and 6.
    std::vector<unsigned> slots = {0, 1, 2, 3, 4};
    std::vector<std::size_t> lengths = {padded, padded, padded, streamed ? kChunk : padded, streamed ? kChunk : padded};
    if (streamed) {
        slots.push_back(7);
        lengths.push_back(padded / 2);  // padded floats
        slots.push_back(2);
        lengths.push_back(kChunk / 2);
    }
    const std::size_t first_member = slots.size();
    for (std::size_t m = 0; m < members.size(); ++m) {
        slots.push_back(5);
        lengths.push_back(padded);
        if (two) {
            slots.push_back(6);
            lengths.push_back(padded);
        }
    }
    arrays_ = StaggeredArrays(slots, lengths);
    scale_ = arrays_[0];
    lambda_ = arrays_[1];
    beta_ = arrays_[2];
    if (streamed) {
        x_chunk_ = arrays_[3];
        next_chunk_ = arrays_[4];
        z_ = reinterpret_cast<float*>(arrays_[5]);  // operator new's storage, never read as double
        z_next_chunk_ = reinterpret_cast<float*>(arrays_[6]);
    } else {
        x_ = arrays_[3];
        ahead_ = arrays_[4];
    }
    const double d = static_cast<double>(dim_);
    for (std::size_t i = 0; i < dim_; ++i) {
        scale_[i] = std::sqrt(problem_.lambda[i] / d);
        lambda_[i] = problem_.lambda[i];
        beta_[i] = problem_.beta[i];
    }
    // Isotropic data: every whole chunk's scale is sqrt(1/d), one L1-resident chunk of it
    // (uniform_, the same bits as sqrt(lambda_i / d) with lambda_i = 1) instead of a stream.
    uniform_.assign(kChunk, std::sqrt(1.0 / d));
    if (sparse) {
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
    std::size_t next_array = first_member;
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
    dispatch<true>();
}

// The pass (Start: the first, which only measures) instantiated for this engine's
// parametrization, data and layout.
template <bool Start>
void SgdEngine::dispatch() {
    auto pass = [this](auto p, auto isotropic, auto layout) {
        if constexpr (Start) {
            start_as<decltype(p)::value, decltype(isotropic)::value, decltype(layout)::value>();
        } else {
            step_as<decltype(p)::value, decltype(isotropic)::value, decltype(layout)::value>();
        }
    };
    auto by_layout = [&](auto p, auto isotropic) {
        if (layout_ == Layout::streamed) {
            pass(p, isotropic, std::integral_constant<Layout, Layout::streamed>{});
        } else {
            pass(p, isotropic, std::integral_constant<Layout, Layout::resident>{});
        }
    };
    auto by_data = [&](auto p) { isotropic_ ? by_layout(p, std::true_type{}) : by_layout(p, std::false_type{}); };
    switch (param_) {
        case Parametrization::u2v2: by_data(std::integral_constant<Parametrization, Parametrization::u2v2>{}); break;
        case Parametrization::uv: by_data(std::integral_constant<Parametrization, Parametrization::uv>{}); break;
        case Parametrization::linear: by_data(std::integral_constant<Parametrization, Parametrization::linear>{}); break;
    }
}

template <Parametrization P, bool Isotropic, SgdEngine::Layout L>
void SgdEngine::start_as() {
    for (auto& m : members_) {
        for (std::size_t j = 0; j < kLanes; ++j) m.risk_sum[j] = m.inner_sum[j] = 0.0;
    }
    // Chunk by chunk, as a step: each member's sums run over the chunks in the same order.
    for (std::size_t c = 0; c < chunks_; ++c) {
        const std::size_t off = c * kChunk;
        double* x0 = next_chunk_;
        if constexpr (L == Layout::resident) {
            x0 = ahead_ + off;
            stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, 0, c, x0, chunk_scale(c));
        } else {
            stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, 0, c, nullptr, nullptr, z_ + off);
            widen_chunk(z_ + off, chunk_scale(c), x0);
        }
        for (auto& m : members_) {
            measure_chunk<P, Isotropic>(x0, beta_ + off, lambda_ + off,  // dense: not in the step loop
                                        m.u + off, P == Parametrization::linear ? nullptr : m.v + off,
                                        m.risk_sum, m.inner_sum);
        }
    }
    const double noise_part = 0.5 * problem_.noise * problem_.noise;
    for (auto& m : members_) {
        m.risk = 0.5 * total(m.risk_sum) / static_cast<double>(dim_) + noise_part;
        m.inner = total(m.inner_sum);
    }
}

void SgdEngine::step() { dispatch<false>(); }

template <Parametrization P, bool Isotropic, SgdEngine::Layout L>
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
    // Resident: this step uses ahead_ (x_k); the pass writes x_{k+1} over x_ (x_{k-1}), then
    // they swap. Streamed: chunk c of z_{k+1} is drawn into an L1 chunk, the kernel widens
    // z_k and z_{k+1} to x as it goes, then z_{k+1} replaces z_k.
    for (std::size_t c = 0; c < chunks_; ++c) {
        const std::size_t off = c * kChunk;
        const double* scale = chunk_scale(c);
        const double* beta = chunk_beta(c);
        if constexpr (L == Layout::streamed) {
            stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, k + 1, c, nullptr, nullptr, z_next_chunk_);
            for (std::size_t b = 0; b < members_.size(); ++b) {
                auto& m = members_[b];
                if (!m.live) continue;
                update_chunk<P, Isotropic, true>(m.g, nullptr, nullptr, beta, lambda_ + off, m.u + off,
                                                 P == Parametrization::linear ? nullptr : m.v + off, m.risk_sum,
                                                 m.inner_sum, z_ + off, z_next_chunk_, scale);
            }
            store_chunk(z_next_chunk_, z_ + off);
        } else {
            const double* x = ahead_ + off;
            double* next = x_ + off;
            stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, k + 1, c, next, scale);
            for (std::size_t b = 0; b < members_.size(); ++b) {
                auto& m = members_[b];
                if (!m.live) continue;
                update_chunk<P, Isotropic>(m.g, x, next, beta, lambda_ + off,
                                           m.u + off, P == Parametrization::linear ? nullptr : m.v + off,
                                           m.risk_sum, m.inner_sum);
            }
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
    if constexpr (L == Layout::resident) std::swap(x_, ahead_);
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

std::span<const double> SgdEngine::last_sample() const {
    if (layout_ == Layout::resident) return {x_, dim_};
    last_sample_.assign(chunks_ * kChunk, 0.0);
    if (steps_ > 0) {
        for (std::size_t c = 0; c < chunks_; ++c) {
            stream_.gaussian_chunk(rng::SampleStream::kSamplePurpose, steps_ - 1, c, last_sample_.data() + c * kChunk,
                                   chunk_scale(c));
        }
    }
    return {last_sample_.data(), dim_};
}

std::span<const double> SgdEngine::v(std::size_t m) const {
    if (param_ == Parametrization::linear) return {};
    return {members_[m].v, dim_};
}

model::Observables SgdEngine::observe(std::size_t m, double threshold) const {
    return model::measure(param_, u(m), v(m), problem_.lambda, problem_.beta, problem_.noise, threshold);
}

}  // namespace dln::sim
