// Philox4x32-10 (Salmon et al., SC11; the constants and rounds of Random123's philox.h) on a run
// of consecutive counters at once: the counters (first + j, c1, c2, c3), j = 0..n-1, under one
// key. Integer arithmetic only, so every path below gives the same words as Random123's scalar
// r123::Philox4x32 (the unit test checks it): the SIMD path only decides how fast.
//
// Output in structure-of-arrays form: out[w * n + j] is word w of counter first + j.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

// GCC 12.2's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* (GCC bug
// 105593, fixed in 12.3): silence it for this header only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dln::rng::detail {

inline constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

// One counter, scalar: the reference the SIMD paths reproduce.
inline void philox4x32_10(std::uint32_t c[4], std::uint32_t k0, std::uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = std::uint64_t{kPhiloxM0} * c[0];
        const std::uint64_t p1 = std::uint64_t{kPhiloxM1} * c[2];
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k0;
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = static_cast<std::uint32_t>(p1);
        c[2] = n2;
        c[3] = static_cast<std::uint32_t>(p0);
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
}

// n must be a multiple of 32.
inline void philox4x32_10_run(std::uint32_t first, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                              std::uint32_t k0, std::uint32_t k1, std::size_t n, std::uint32_t* out) {
    // Four independent vectors of counters per iteration: one vector's rounds form a chain of
    // dependent multiplies, and four chains keep the multiplier busy (measured: 0.52 ns per
    // word with one, 0.36 with four, 0.38 with eight, AVX-512 on Zen 4).
    constexpr int kChains = 4;
#if defined(__AVX512F__)
    // Eight counters per vector, one per 64-bit lane: _mm512_mul_epu32 multiplies the low 32 bits
    // of each lane into a full 64-bit product, which is exactly Philox's mulhilo. The lanes' high
    // halves may carry garbage between rounds; the multiply ignores them and the store drops them.
    constexpr std::size_t kLanes = 8;
    const __m512i m0 = _mm512_set1_epi64(kPhiloxM0), m1 = _mm512_set1_epi64(kPhiloxM1);
    const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    for (std::size_t j = 0; j < n; j += kLanes * kChains) {
        __m512i x0[kChains], x1[kChains], x2[kChains], x3[kChains];
        for (int u = 0; u < kChains; ++u) {
            x0[u] = _mm512_add_epi64(_mm512_set1_epi64(first + static_cast<std::uint32_t>(j + kLanes * u)), iota);
            x1[u] = _mm512_set1_epi64(c1);
            x2[u] = _mm512_set1_epi64(c2);
            x3[u] = _mm512_set1_epi64(c3);
        }
        std::uint32_t a = k0, b = k1;
        for (int round = 0; round < 10; ++round) {
            const __m512i ka = _mm512_set1_epi64(a), kb = _mm512_set1_epi64(b);
            for (int u = 0; u < kChains; ++u) {
                const __m512i p0 = _mm512_mul_epu32(x0[u], m0), p1 = _mm512_mul_epu32(x2[u], m1);
                x0[u] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), x1[u], ka, 0x96);  // xor3
                x2[u] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), x3[u], kb, 0x96);
                x1[u] = p1;
                x3[u] = p0;
            }
            a += kPhiloxW0;
            b += kPhiloxW1;
        }
        for (int u = 0; u < kChains; ++u) {
            const std::size_t at = j + kLanes * static_cast<std::size_t>(u);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + at), _mm512_cvtepi64_epi32(x0[u]));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + n + at), _mm512_cvtepi64_epi32(x1[u]));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * n + at), _mm512_cvtepi64_epi32(x2[u]));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 3 * n + at), _mm512_cvtepi64_epi32(x3[u]));
        }
    }
#elif defined(__AVX2__)
    // The same with four counters per vector.
    constexpr std::size_t kLanes = 4;
    const __m256i m0 = _mm256_set1_epi64x(kPhiloxM0), m1 = _mm256_set1_epi64x(kPhiloxM1);
    const __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);  // the low halves of four lanes
    for (std::size_t j = 0; j < n; j += kLanes * kChains) {
        __m256i x[4][kChains];
        for (int u = 0; u < kChains; ++u) {
            x[0][u] = _mm256_add_epi64(_mm256_set1_epi64x(first + static_cast<std::uint32_t>(j + kLanes * u)), iota);
            x[1][u] = _mm256_set1_epi64x(c1);
            x[2][u] = _mm256_set1_epi64x(c2);
            x[3][u] = _mm256_set1_epi64x(c3);
        }
        std::uint32_t a = k0, b = k1;
        for (int round = 0; round < 10; ++round) {
            const __m256i ka = _mm256_set1_epi64x(a), kb = _mm256_set1_epi64x(b);
            for (int u = 0; u < kChains; ++u) {
                const __m256i p0 = _mm256_mul_epu32(x[0][u], m0), p1 = _mm256_mul_epu32(x[2][u], m1);
                x[0][u] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x[1][u]), ka);
                x[2][u] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x[3][u]), kb);
                x[1][u] = p1;
                x[3][u] = p0;
            }
            a += kPhiloxW0;
            b += kPhiloxW1;
        }
        for (int w = 0; w < 4; ++w) {
            for (int u = 0; u < kChains; ++u) {
                const __m256i packed = _mm256_permutevar8x32_epi32(x[w][u], pick);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + static_cast<std::size_t>(w) * n + j + kLanes * u),
                                 _mm256_castsi256_si128(packed));
            }
        }
    }
#else
    (void)kChains;
    for (std::size_t j = 0; j < n; ++j) {
        std::uint32_t c[4] = {first + static_cast<std::uint32_t>(j), c1, c2, c3};
        philox4x32_10(c, k0, k1);
        for (int w = 0; w < 4; ++w) out[static_cast<std::size_t>(w) * n + j] = c[w];
    }
#endif
}

}  // namespace dln::rng::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
