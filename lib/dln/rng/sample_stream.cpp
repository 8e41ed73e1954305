#include "dln/rng/sample_stream.hpp"

#include <Random123/philox.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dln/rng/philox_lanes.hpp"
#include "dln/rng/portable_math.hpp"

namespace dln::rng {
namespace {

using math::box_muller;

constexpr std::size_t kCounters = SampleStream::kChunk / 4;  // Philox counters per chunk

std::uint32_t step_high_and_purpose(std::uint64_t step, std::uint16_t purpose) {
    return static_cast<std::uint32_t>((step >> 32) & 0xffffu) | (static_cast<std::uint32_t>(purpose) << 16);
}

}  // namespace

SampleStream::SampleStream(std::uint32_t seed, std::uint64_t dim, std::uint32_t replicate)
    : seed_(seed), dim_(static_cast<std::uint32_t>(dim)), replicate_(replicate) {
    if (dim == 0 || dim > 0xffffffffULL) throw std::invalid_argument("dimension must be in [1, 2^32)");
}

std::array<std::uint32_t, 4> SampleStream::block(std::uint16_t purpose, std::uint64_t step,
                                                 std::uint32_t index) const {
    // Counter: (position, step low 32 bits, step high 16 bits | purpose << 16, dim);
    // key: (seed, replicate). Steps up to 2^48 are distinct.
    using Philox = r123::Philox4x32;
    const Philox::ctr_type ctr = {{index, static_cast<std::uint32_t>(step), step_high_and_purpose(step, purpose), dim_}};
    const Philox::key_type key = {{seed_, replicate_}};
    const Philox::ctr_type out = Philox()(ctr, key);
    return {out[0], out[1], out[2], out[3]};
}

void SampleStream::fill_gaussians(std::span<double> out, std::uint64_t step) const {
    fill(out, kSamplePurpose, step);
}

void SampleStream::fill_brownian(std::span<double> out, std::uint64_t step) const {
    fill(out, kBrownianPurpose, step);
}

namespace {

// Box-Muller (in float, rng/portable_math.hpp) of one chunk's words, widened to double and
// times scale[i] if Scaled (the product rounded after z, as double(z) * scale would be); or,
// if Standard, only the float z, into standard.
template <bool Scaled, bool Standard>
void box_muller_chunk(const std::uint32_t* words, const double* __restrict scale, double* __restrict out,
                      float* __restrict standard) {
    const std::uint32_t* w0 = words;
    const std::uint32_t* w1 = words + kCounters;
    const std::uint32_t* w2 = words + 2 * kCounters;
    const std::uint32_t* w3 = words + 3 * kCounters;
    // Two vectorised passes (the squared radii, then the angles): each loop body is short
    // enough for the CPU to overlap many iterations of the polynomial chains. The operations
    // per pair are exactly those of math::box_muller_float, so the scalar reference gives the
    // same bits.
    alignas(64) float r2[2 * kCounters];
    for (std::size_t j = 0; j < kCounters; ++j) r2[j] = math::neg2log_uniform_float(w0[j]);
    for (std::size_t j = 0; j < kCounters; ++j) r2[kCounters + j] = math::neg2log_uniform_float(w2[j]);
    for (std::size_t half = 0; half < 2; ++half) {
        const std::uint32_t* angle = half == 0 ? w1 : w3;
        const float* squared = r2 + half * kCounters;
        double* cos_out = out + 2 * half * kCounters;
        double* sin_out = cos_out + kCounters;
        for (std::size_t j = 0; j < kCounters; ++j) {
            float c, s;
            math::sincos_turn_float(angle[j], c, s);
            const float radius = std::sqrt(squared[j]);
            const float fc = radius * c, fs = radius * s;
            if constexpr (Standard) {
                standard[2 * half * kCounters + j] = fc;
                standard[(2 * half + 1) * kCounters + j] = fs;
                continue;
            }
            const double zc = static_cast<double>(fc), zs = static_cast<double>(fs);
            if constexpr (Scaled) {
                cos_out[j] = zc * scale[2 * half * kCounters + j];
                sin_out[j] = zs * scale[(2 * half + 1) * kCounters + j];
            } else {
                cos_out[j] = zc;
                sin_out[j] = zs;
            }
        }
    }
}

}  // namespace

void SampleStream::gaussian_chunk(std::uint16_t purpose, std::uint64_t step, std::uint64_t chunk, double* out,
                                  const double* scale, float* standard) const {
    alignas(64) std::uint32_t words[4 * kCounters];
    detail::philox4x32_10_run(static_cast<std::uint32_t>(chunk * kCounters), static_cast<std::uint32_t>(step),
                              step_high_and_purpose(step, purpose), dim_, seed_, replicate_, kCounters, words);
    if (standard != nullptr) {
        box_muller_chunk<false, true>(words, nullptr, nullptr, standard);
    } else if (scale != nullptr) {
        box_muller_chunk<true, false>(words, scale, out, nullptr);
    } else {
        box_muller_chunk<false, false>(words, nullptr, out, nullptr);
    }
}

void SampleStream::fill(std::span<double> out, std::uint16_t purpose, std::uint64_t step) const {
    const std::size_t n = out.size();
    alignas(64) double tail[kChunk];
    for (std::size_t c = 0; c * kChunk < n; ++c) {
        const std::size_t begin = c * kChunk;
        if (begin + kChunk <= n) {
            gaussian_chunk(purpose, step, c, out.data() + begin);
        } else {
            gaussian_chunk(purpose, step, c, tail);
            std::copy(tail, tail + (n - begin), out.data() + begin);
        }
    }
}

double SampleStream::label_noise(std::uint64_t step) const {
    const auto w = block(kNoisePurpose, step, 0);
    double z0, z1;
    box_muller(w[0], w[1], z0, z1);
    return z0;
}

std::uint32_t SampleStream::Sequence::next_word() {
    if (used_ == 4) {
        words_ = stream_.block(purpose_, 0, block_++);
        used_ = 0;
    }
    return words_[used_++];
}

double SampleStream::Sequence::uniform() { return to_unit_interval(next_word()); }

double SampleStream::Sequence::gaussian() {
    const std::uint32_t a = next_word();
    const std::uint32_t b = next_word();
    double z0, z1;
    box_muller(a, b, z0, z1);
    return z0;
}

}  // namespace dln::rng
