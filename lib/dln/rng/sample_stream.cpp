#include "dln/rng/sample_stream.hpp"

#include <Random123/philox.h>

#include <cmath>
#include <stdexcept>

namespace dln::rng {
namespace {

constexpr double kTwoPi = 6.28318530717958647692;

// Box-Muller: two uniforms to two independent standard Gaussians.
inline void box_muller(std::uint32_t a, std::uint32_t b, double& z0, double& z1) {
    const double radius = std::sqrt(-2.0 * std::log(to_unit_interval(a)));
    const double angle = kTwoPi * to_unit_interval(b);
    z0 = radius * std::cos(angle);
    z1 = radius * std::sin(angle);
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
    const Philox::ctr_type ctr = {{index, static_cast<std::uint32_t>(step),
                                   static_cast<std::uint32_t>((step >> 32) & 0xffffu) |
                                       (static_cast<std::uint32_t>(purpose) << 16),
                                   dim_}};
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

void SampleStream::fill(std::span<double> out, std::uint16_t purpose, std::uint64_t step) const {
    const std::size_t n = out.size();
    std::size_t i = 0;
    for (std::uint32_t b = 0; i < n; ++b) {
        const auto w = block(purpose, step, b);
        double z[4];
        box_muller(w[0], w[1], z[0], z[1]);
        box_muller(w[2], w[3], z[2], z[3]);
        for (int j = 0; j < 4 && i < n; ++j) out[i++] = z[j];
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
