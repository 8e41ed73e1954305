// Counter-based random streams (Random123 Philox4x32-10) keyed by (seed, dim, replicate).
//
// Every number a trajectory consumes is a pure function of (seed, dim, replicate, purpose,
// step, position): nothing depends on the MPI rank, the order of work, or what else was drawn
// before. That is what makes a sweep reproducible at any rank count, lets grids be extended and
// merged, and gives every (lr, alpha) of a sweep the same data (common random numbers).
//
// Layout of the Gaussians of one step (this version's stream, 0.3.0; 0.1.0 paired the words
// differently and used libm's log/sin/cos, 0.2.0 ran the same Box-Muller in double, so their
// numbers differ). Coordinates come in chunks of kChunk = 256; chunk c uses the Philox counters
// (64 c + j, step low 32 bits, step high 16 bits | purpose << 16, dim), j = 0..63, under the key
// (seed, replicate), whose words w0..w3 give, by Box-Muller on the pairs (w0, w1) and (w2, w3),
//     z[256 c + j] = r(w0) cos(w1),  z[256 c + 64 + j]  = r(w0) sin(w1),
//     z[256 c + 128 + j] = r(w2) cos(w3),  z[256 c + 192 + j] = r(w2) sin(w3),
// with r(a) = sqrt(-2 log((a + 1/2) / 2^32)) and the angle 2 pi (b + 1/2) / 2^32, computed in
// float (math::box_muller_float, relative error about 1e-7) and widened to double exactly. The
// per-coordinate Gaussians are the kernels' main cost, and float halves it; the scalar draws
// (label noise, targets) stay in double. The numbers are the same bits on every build and CPU
// (integer Philox; portable_math's fixed operations).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dln::rng {

class SampleStream {
public:
    SampleStream(std::uint32_t seed, std::uint64_t dim, std::uint32_t replicate);

    // Gaussians per chunk (see the layout above).
    static constexpr std::size_t kChunk = 256;

    // The standard Gaussians z of step k (x_k = sqrt(lambda/d) z), one per coordinate.
    void fill_gaussians(std::span<double> out, std::uint64_t step) const;

    // The kChunk Gaussians of coordinates [kChunk chunk, kChunk (chunk + 1)) of step k, for the
    // simulators' blocked kernels (fill_gaussians is this, chunk after chunk). Coordinates at or
    // beyond dim are drawn like the others; callers ignore them. With scale (kChunk factors),
    // out[i] = z_i * scale[i], rounded as that product would be. With standard (then out and
    // scale are ignored), only standard[i] = z_i as the float it is computed in: double(z_i) is
    // the draw exactly, so double(standard[i]) * scale[i] is the out[i] above bit for bit, and a
    // caller may keep the draw in half the bytes and scale it later.
    void gaussian_chunk(std::uint16_t purpose, std::uint64_t step, std::uint64_t chunk, double* out,
                        const double* scale = nullptr, float* standard = nullptr) const;

    // The standard Gaussians of the homogenized SDE's Brownian increments at step k (one per
    // coordinate), from a stream of their own: dB_i = sqrt(dt) z_i.
    void fill_brownian(std::span<double> out, std::uint64_t step) const;

    // The label-noise draw xi_k ~ N(0, 1) of step k.
    double label_noise(std::uint64_t step) const;

    // A sequential source for drawing the target beta*: uniform() in (0, 1), gaussian().
    class Sequence {
    public:
        double uniform();
        double gaussian();

    private:
        friend class SampleStream;
        Sequence(const SampleStream& stream, std::uint16_t purpose) : stream_(stream), purpose_(purpose) {}
        std::uint32_t next_word();
        const SampleStream& stream_;
        std::uint16_t purpose_;
        std::uint32_t block_ = 0;
        std::array<std::uint32_t, 4> words_{};
        unsigned used_ = 4;
    };
    Sequence target_sequence() const { return Sequence(*this, kTargetPurpose); }

    // The raw Philox block (exposed for tests of the stream's layout and independence).
    std::array<std::uint32_t, 4> block(std::uint16_t purpose, std::uint64_t step, std::uint32_t index) const;

    static constexpr std::uint16_t kSamplePurpose = 0;
    static constexpr std::uint16_t kNoisePurpose = 1;
    static constexpr std::uint16_t kTargetPurpose = 2;
    static constexpr std::uint16_t kBrownianPurpose = 3;

private:
    void fill(std::span<double> out, std::uint16_t purpose, std::uint64_t step) const;
    std::uint32_t seed_;
    std::uint32_t dim_;
    std::uint32_t replicate_;
};

// (0, 1): never 0, so log() in Box-Muller is finite.
inline double to_unit_interval(std::uint32_t word) {
    return (static_cast<double>(word) + 0.5) * (1.0 / 4294967296.0);
}

}  // namespace dln::rng
