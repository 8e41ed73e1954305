// Elementary functions for the simulation kernels, written so that every result is the same
// bit pattern on every build: plain IEEE double operations, std::fma where a product and a sum
// are fused, std::sqrt, integer bit manipulation and selects; no calls into libm's log, sin,
// cos, exp or sinh (whose scalar and vector versions, and versions across libms and CPUs,
// round differently). The project compiles with -ffp-contract=off, so the compiler fuses
// nothing on its own: a loop over these functions gives the same numbers whether it runs
// scalar, 4 lanes (AVX2), 8 lanes (AVX-512) or on another architecture, and whatever DLN_ARCH
// the build used. std::fma is a single instruction on x86-64-v3 and later and on aarch64; on a
// build without FMA (DLN_ARCH=x86-64) it is libm's correctly rounded fma: the same numbers, slowly.
//
// Accuracy (coefficients: Chebyshev interpolants computed with mpmath at 50 digits; the unit
// test test_sample_stream.cpp measures the errors against libm):
//   neg2log_uniform  relative error < 2e-14
//   sincos_turn      absolute error < 1e-15 (the polynomials: 5e-17)
//   exp_portable     relative error < 3e-16 on [-708, 709]; +inf above, 0 below -745
//   sinh_portable    relative error < 1e-15
//   expm1_portable   relative error < 1e-15
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

namespace dln::rng::math {

inline double from_bits(std::uint64_t b) {
    double d;
    std::memcpy(&d, &b, sizeof d);
    return d;
}
inline std::uint64_t to_bits(double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
}

// c[0] + x (c[1] + x (c[2] + ...)) by Horner's rule with fused steps, written out at compile time
// (a loop here would keep the callers' loops from vectorising); T is float or double.
template <class T, std::size_t N>
inline T horner(T x, const T (&c)[N]) {
    T p = c[N - 1];
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((p = std::fma(p, x, c[N - 2 - I])), ...);
    }(std::make_index_sequence<N - 1>{});
    return p;
}

// -2 log(u) for the uniform u = (a + 1/2) / 2^32 in (0, 1) of the 32-bit word a: the squared
// radius of Box-Muller. u is built exactly from the bits of a; u = 2^k m with m in [sqrt(1/2),
// sqrt(2)) by integer operations on its bits (no branch); log m = f P(f), f = m - 1 (exact),
// P a degree-16 polynomial (relative error 1.5e-14), evaluated in two halves to shorten the
// chain of dependent operations.
inline double neg2log_uniform(std::uint32_t a) {
    // P = sum_j c_j f^j split into its even and odd parts in f^2.
    static constexpr double even_c[] = {0.9999999999999978,  0.3333333333366278,  0.19999999913523026,
                                        0.14285723158995764, 0.11110667407062838, 0.091026777139586,
                                        0.07525682174652285, 0.07808645964311096, 0.03550255209682033};
    static constexpr double odd_c[] = {-0.5000000000005124,  -0.24999999980097665, -0.16666668870064102,
                                       -0.12499895335731784, -0.1000239910190662,  -0.0830874085245487,
                                       -0.07175470440668202, -0.07434589714878563};
    const double u = from_bits(0x3FF0000000000000ull | (std::uint64_t{a} << 20) | (1ull << 19)) - 1.0;
    const std::uint64_t ix = to_bits(u);
    constexpr std::uint64_t kSqrtHalf = 0x3FE6A09E667F3BCDull;  // the bits of sqrt(1/2)
    const std::uint64_t tmp = ix - kSqrtHalf;                    // exponent field: k + 1023 - 1023
    const double m = from_bits(ix - (tmp & 0xFFF0000000000000ull));
    // k + 1024 as a double, from its bits (tmp >> 52 is k mod 4096, k in [-33, 0]).
    const double k = from_bits(0x4330000000000000ull | (((tmp >> 52) + 1024u) & 0xFFFu)) - 4503599627371520.0;
    const double f = m - 1.0;
    const double f2 = f * f;
    const double log_m = f * std::fma(f, horner(f2, odd_c), horner(f2, even_c));
    constexpr double kLn2Hi = 0.6931471803691238, kLn2Lo = 1.9082149292705877e-10;
    return -2.0 * std::fma(k, kLn2Hi, std::fma(k, kLn2Lo, log_m));
}

// (cos, sin) of the angle 2 pi (b + 1/2) / 2^32 of the 32-bit word b. The nearest quarter turn
// q is taken from the top bits of b, the rest is an angle t in [-pi/4, pi/4) built exactly from
// the remaining bits; cos t and sin t / t are degree-6 and degree-5 polynomials in t^2, and the
// quarter turn swaps and negates them.
inline void sincos_turn(std::uint32_t b, double& cos_out, double& sin_out) {
    static constexpr double S[] = {1.0, -0.16666666666666616, 0.008333333333320363, -0.000198412698286503,
                                   2.755731337640011e-06, -2.5050716974099972e-08, 1.589473665168558e-10};
    static constexpr double C[] = {1.0, -0.4999999999999925, 0.041666666666472306, -0.0013888888869978658,
                            2.480157853856296e-05, -2.7555233884843263e-07, 2.0630454379417333e-09};
    const std::uint64_t shifted = std::uint64_t{b} + 0x20000000u;  // b + 2^29
    const std::uint64_t quarter = shifted >> 30;                    // nearest quarter turn, 0..4
    // b - quarter 2^30 + 2^29 in [0, 2^30), then minus 2^29 as a double: exact.
    const double t_int = from_bits(0x4330000000000000ull | (shifted - (quarter << 30))) - 4503600164241408.0;
    const double t = (t_int + 0.5) * 1.4629180792671596e-09;  // 2 pi / 2^32
    const double t2 = t * t;
    const double s = horner(t2, S) * t;
    const double c = horner(t2, C);
    const std::uint64_t q = quarter & 3u;
    const bool swap = (q & 1u) != 0;
    const double cq = swap ? s : c, sq = swap ? c : s;
    // quarter 1: (-sin, cos); 2: (-cos, -sin); 3: (sin, -cos).
    cos_out = from_bits(to_bits(cq) ^ ((((q + 1u) >> 1) & 1u) << 63));
    sin_out = from_bits(to_bits(sq) ^ ((q >> 1) << 63));
}

// Box-Muller: the words (a, b) to two independent standard Gaussians.
inline void box_muller(std::uint32_t a, std::uint32_t b, double& z0, double& z1) {
    const double radius = std::sqrt(neg2log_uniform(a));
    double c, s;
    sincos_turn(b, c, s);
    z0 = radius * c;
    z1 = radius * s;
}

// Single precision: the per-coordinate Gaussians of the simulators (SGD samples, SDE Brownian
// increments), which are drawn d times per step and are the kernels' main cost. This is the
// generator of cuRAND's curand_normal (Box-Muller in float on a 32-bit word) with this file's
// bit-exact polynomials: the uniform keeps its full 32-bit resolution near 0, where the tail is
// decided (|z| up to 6.8), and near 1, where the small radii are, and the results carry float's
// relative error (about 1e-7) instead of double's, far below anything a sample average over
// fewer than 1e14 draws can see.
// Accuracy (Chebyshev interpolants from mpmath, rounded to float; measured by the unit test):
//   neg2log_uniform_float  relative error < 3e-7 against -2 log((a + 1/2) / 2^32), every a
//   sincos_turn_float      absolute error < 2e-7

// -2 log(u) for u = (a + 1/2) / 2^32, with float's relative precision for every word a. u is
// rounded to float once (a 2^-32 is exact) and split as u = 2^k m, m in [sqrt(1/2), sqrt(2)),
// by integer operations on its bits; log m = f + f^2 P(f), f = m - 1 (exact), P of degree 8.
// Where k = 0 (u >= sqrt(1/2)), f = u - 1 is instead formed from a directly, so that the small
// radii near u = 1 keep their relative precision too (the rounded u would quantise -2 log u
// there in steps of 2^-23).
inline float neg2log_uniform_float(std::uint32_t a) {
    static constexpr float P[] = {-0.4999999701976776f, 0.3333333134651184f,  -0.2500078082084656f,
                                  0.20001234114170074f, -0.16626645624637604f, 0.14204855263233185f,
                                  -0.13127554953098297f, 0.12722672522068024f, -0.07673641294240952f};
    constexpr float kTwoM32 = 2.3283064365386963e-10f, kTwoM33 = 1.1641532182693481e-10f;
    const float u = static_cast<float>(a) * kTwoM32 + kTwoM33;
    const std::uint32_t ix = std::bit_cast<std::uint32_t>(u);
    const std::uint32_t tmp = ix - 0x3F3504F3u;  // the bits of sqrt(1/2)
    const std::int32_t k = static_cast<std::int32_t>(tmp) >> 23;  // k in [-33, 0]
    const float m = std::bit_cast<float>(ix - (tmp & 0xFF800000u));
    // u - 1 = (a - 2^32 + 1/2) 2^-32, and a - 2^32 is a, read as a signed integer (a >= 2^31
    // wherever k = 0). (Not -(~a + 1/2) 2^-32: GCC 12 computes ~a by a vpternlogd that reads
    // its destination, a false dependency that chains the loop's iterations, 2.5x slower.)
    const float near_one = static_cast<float>(static_cast<std::int32_t>(a)) * kTwoM32 + kTwoM33;
    // The choice by a bit mask, not a conditional: GCC would otherwise branch around the
    // conversions (they may raise FP flags), and the loops would not vectorise.
    const std::uint32_t pick = 0u - static_cast<std::uint32_t>(k == 0);
    const std::uint32_t f_bits =
        (std::bit_cast<std::uint32_t>(near_one) & pick) | (std::bit_cast<std::uint32_t>(m - 1.0f) & ~pick);
    const float f = std::bit_cast<float>(f_bits);
    const float log_m = std::fma(f * f, horner(f, P), f);
    const float kf = static_cast<float>(k);
    constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.1219444170128554e-4f;  // k ln2hi is exact
    return -2.0f * (kf * kLn2Hi + std::fma(kf, kLn2Lo, log_m));
}

// (cos, sin) of the angle 2 pi (b + 1/2) / 2^32 = q pi/2 + t: q the nearest quarter turn, t =
// pi (2 r + 1) / 2^32 with r in [-2^29, 2^29) the rest (one rounding, in the conversion of the
// odd integer 2 r + 1, and one in the product). sin t = t + t^3 S(t^2), cos t = 1 - t^2/2 +
// t^4 C(t^2), S and C of degree 2; the quarter turn swaps and negates them.
inline void sincos_turn_float(std::uint32_t b, float& cos_out, float& sin_out) {
    static constexpr float S[] = {-0.166666641831398f, 0.008332747966051102f, -0.00019587890710681677f};
    static constexpr float C[] = {0.0416666641831398f, -0.001388830249197781f, 2.454794230288826e-05f};
    const std::uint32_t shifted = b + 0x20000000u;  // mod 2^32: the quarter is only needed mod 4
    const std::uint32_t q = shifted >> 30;
    const std::int32_t r = static_cast<std::int32_t>(shifted & 0x3FFFFFFFu) - 0x20000000;
    const float t = static_cast<float>(2 * r + 1) * 7.31459059988282e-10f;  // pi / 2^32
    const float t2 = t * t;
    const float s = std::fma(t * t2, horner(t2, S), t);
    const float c = std::fma(t2, std::fma(t2, horner(t2, C), -0.5f), 1.0f);
    const bool swap = (q & 1u) != 0;
    const float cq = swap ? s : c, sq = swap ? c : s;
    // quarter 1: (-sin, cos); 2: (-cos, -sin); 3: (sin, -cos).
    cos_out = std::bit_cast<float>(std::bit_cast<std::uint32_t>(cq) ^ ((((q + 1u) >> 1) & 1u) << 31));
    sin_out = std::bit_cast<float>(std::bit_cast<std::uint32_t>(sq) ^ ((q >> 1) << 31));
}

// Box-Muller in float: the words (a, b) to two independent standard Gaussians.
inline void box_muller_float(std::uint32_t a, std::uint32_t b, float& z0, float& z1) {
    const float radius = std::sqrt(neg2log_uniform_float(a));
    float c, s;
    sincos_turn_float(b, c, s);
    z0 = radius * c;
    z1 = radius * s;
}

// (e^r - 1 - r) / r^2 on |r| <= ln 2 / 2, shared by exp_portable and expm1_portable.
inline constexpr double exp_reduced_poly[] = {0.5, 0.1666666666666667, 0.04166666666666667, 0.008333333333326141,
                                              0.0013888888888883752, 0.00019841269874800493, 2.4801587325533363e-05,
                                              2.7557255425746435e-06, 2.7557273661348637e-07, 2.510520637395701e-08,
                                              2.0914679376583935e-09};

// exp(x): x = n ln2 + r, |r| <= ln2/2, exp(r) = 1 + r + r^2 P(r), times 2^n built in two factors
// so that n down to -1075 (subnormal results) and up to 1024 are exact scalings. NaN in, NaN out.
inline double exp_portable(double x) {
    constexpr const auto& P = exp_reduced_poly;
    constexpr double kInvLn2 = 1.4426950408889634, kLn2Hi = 0.6931471803691238, kLn2Lo = 1.9082149292705877e-10;
    const double xc = x > 709.8 ? 709.8 : (x < -745.2 ? -745.2 : x);  // NaN passes through
    constexpr double kShift = 6755399441055744.0;                       // 1.5 * 2^52: rounds to an integer
    const double shifted = std::fma(xc, kInvLn2, kShift);
    const double n = shifted - kShift;
    const double r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, xc));
    const double er = std::fma(r * r, horner(r, P), 1.0 + r);
    // n in [-1075, 1024]: 2^n = 2^h 2^(n-h), h = n/2 rounded down, both factors normal.
    const std::int64_t ni = static_cast<std::int64_t>(to_bits(shifted) - 0x4338000000000000ull);  // n
    const std::int64_t h = ni >> 1;
    const double scale1 = from_bits(static_cast<std::uint64_t>(h + 1023) << 52);
    const double scale2 = from_bits(static_cast<std::uint64_t>(ni - h + 1023) << 52);
    const double y = er * scale1 * scale2;
    return x > 709.8 ? std::numeric_limits<double>::infinity() : y;
}

// sinh(x): x + x^3 P(x^2) for |x| <= 1 (no cancellation near 0), (e^x - e^-x)/2 beyond.
inline constexpr double sinh_small_poly[] = {0.16666666666666666, 0.008333333333333299, 0.00019841269841324198,
                                             2.7557319191381816e-06, 2.5052117695907823e-08, 1.6057679623801638e-10,
                                             7.746178593018827e-13};  // (sinh x - x) / x^3 on |x| <= 1
inline double sinh_portable(double x) {
    constexpr const auto& P = sinh_small_poly;
    const double t = x * x;
    const double small = std::fma(x * t, horner(t, P), x);
    const double ax = std::fabs(x);
    const double e = exp_portable(ax <= 1.0 ? 1.0 : ax);  // NaN goes to the large branch, and stays NaN
    const double large = std::copysign(0.5 * e - 0.5 / e, x);
    return ax <= 1.0 ? small : large;
}

// sinh(x) given e = exp_portable(x) (a caller that needs both): as sinh_portable for |x| <= 1,
// (e - 1/e)/2 beyond (the same numbers for x > 1; for x < -1 they may differ in the last bit).
inline double sinh_with_exp(double x, double e) {
    const double t = x * x;
    const double small = std::fma(x * t, horner(t, sinh_small_poly), x);
    const double large = 0.5 * e - 0.5 / e;
    return std::fabs(x) <= 1.0 ? small : large;
}

// e^x - 1 without cancellation near 0: r + r^2 P(r), exp_portable's own polynomial with n = 0,
// for |x| <= ln 2 / 2 (where that reduction leaves r = x); beyond, e^x - 1 cancels at most a
// factor 2.4 (|e^x - 1| >= 0.29 there). Both branches are computed and one selected, so that a
// loop over it vectorises (the PDE's Scharfetter-Gummel weights, fp_sg_flux.hpp).
inline double expm1_portable(double x) {
    constexpr const auto& P = exp_reduced_poly;
    const double small = std::fma(x * x, horner(x, P), x);
    const double large = exp_portable(x) - 1.0;
    return std::fabs(x) <= 0.34657359027997264 ? small : large;  // NaN goes to large, and stays NaN
}

}  // namespace dln::rng::math
