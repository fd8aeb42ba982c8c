// core/fast_math.hpp — branch-free float helpers written so that GCC vectorizes loops over them.
//
// fast_exp(x)   e^x in float, within 1 ulp of e^x for every float (0.99 ulp at worst, checked
//               exhaustively against a double exp), including subnormal results; −inf → 0,
//               +inf and x > 88.72 → inf, NaN → NaN. Cephes' expf (https://www.netlib.org/cephes/):
//               x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two for an exact reduction),
//               e^r by a degree-5 polynomial, then scaled by 2^n in two steps so that 2^n never
//               leaves the float range on its own.
// fast_log(x)   log x in double, within 2 ulp for normal x > 0 (not subnormal x); log 0 = −inf,
//               log inf = inf, NaN for NaN and x < 0. x = 2^k·f with f in [√½, √2),
//               log f = 2·atanh((f − 1)/(f + 1)) by its series to u^23, and k·ln 2 added in two
//               parts (fdlibm's split of ln 2).
// order_key(x)  an integer with the floats' order: integer max is a float max GCC vectorizes.
// select(c, a, b)  c ? a : b through bit masks.
//
// Why the odd spellings: under the default -ftrapping-math, GCC will not vectorize a loop whose
// body keeps a float `?:` or std::max (its PRE pass copies the arithmetic that follows into
// each arm, leaving control flow), nor a float max reduction (IEEE max is not associative).
// Bit masks and integer max have neither problem. HUMBLE_SIMD_CLONES marks a hot function for
// an extra AVX2 build picked at load time (GCC target_clones), so binaries built for plain
// x86-64 still use 256-bit vectors where the CPU has them; it also inlines everything the
// function calls (flatten), so its helpers get the same build. AVX2 without FMA on purpose: both
// builds then round every operation alike (FMA would turn w·lse − w·z into −1e-16 instead of 0).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HUMBLE_SIMD_CLONES __attribute__((target_clones("avx2", "default"), flatten))
#else
#define HUMBLE_SIMD_CLONES
#endif

namespace humble {

[[gnu::always_inline]] inline float select(bool cond, float a, float b) {
  const uint32_t mask = -static_cast<uint32_t>(cond);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & mask) | (std::bit_cast<uint32_t>(b) & ~mask));
}
[[gnu::always_inline]] inline double select(bool cond, double a, double b) {
  const uint64_t mask = -static_cast<uint64_t>(cond);
  return std::bit_cast<double>((std::bit_cast<uint64_t>(a) & mask) | (std::bit_cast<uint64_t>(b) & ~mask));
}

[[gnu::always_inline]] inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // kLn2Hi + kLn2Lo = ln 2; kLn2Hi·n is exact
  constexpr float kRound = 12582912.0f;                             // 1.5·2^23: adding it rounds to an integer
  x = select(x < -110.0f, -110.0f, x);                              // e^−110 and e^89 are already 0 and inf in float
  x = select(x > 89.0f, 89.0f, x);
  const float n = (x * kLog2e + kRound) - kRound;  // round(x / ln 2), in [−159, 129]
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float poly = 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  const float exp_r = poly * (r * r) + r + 1.0f;
  const int32_t k = static_cast<int32_t>(n), k1 = k >> 1, k2 = k - k1;  // 2^n = 2^k1 · 2^k2, each a normal float
  return exp_r * std::bit_cast<float>((k1 + 127) << 23) * std::bit_cast<float>((k2 + 127) << 23);
}

[[gnu::always_inline]] inline double fast_log(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kTwo52 = 4503599627370496.0;  // 2^52: (2^52 + e) − 2^52 turns a small integer's bits into a double
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  const double mantissa = std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);  // [1, 2)
  const bool high = mantissa > 1.4142135623730951;
  const double f = select(high, 0.5 * mantissa, mantissa);
  const uint64_t biased_exponent = (bits >> 52) + high;
  const double k = std::bit_cast<double>(biased_exponent | 0x4330000000000000) - (kTwo52 + 1023);
  const double u = (f - 1) / (f + 1), u2 = u * u;  // |u| < 0.172
  double poly = 1.0 / 23;
  poly = poly * u2 + 1.0 / 21;
  poly = poly * u2 + 1.0 / 19;
  poly = poly * u2 + 1.0 / 17;
  poly = poly * u2 + 1.0 / 15;
  poly = poly * u2 + 1.0 / 13;
  poly = poly * u2 + 1.0 / 11;
  poly = poly * u2 + 1.0 / 9;
  poly = poly * u2 + 1.0 / 7;
  poly = poly * u2 + 1.0 / 5;
  poly = poly * u2 + 1.0 / 3;
  const double log_f = 2 * u + 2 * u * u2 * poly;  // 2·atanh u = 2u + 2u³/3 + 2u⁵/5 + …
  const double inf = std::numeric_limits<double>::infinity();
  const double outside = select(x == 0, -inf, select(x == inf, inf, std::numeric_limits<double>::quiet_NaN()));
  return select((x > 0) & (x < inf), k * kLn2Hi + (k * kLn2Lo + log_f), outside);
}

// order_key(x): an integer whose signed order is the order of the floats x (−0 just below +0),
// so a max over keys is a max over values that GCC vectorizes; from_order_key inverts it.
[[gnu::always_inline]] inline int32_t order_key(float x) {
  const int32_t bits = std::bit_cast<int32_t>(x);
  return bits ^ ((bits >> 31) & 0x7FFFFFFF);
}
[[gnu::always_inline]] inline int64_t order_key(double x) {
  const int64_t bits = std::bit_cast<int64_t>(x);
  return bits ^ ((bits >> 63) & 0x7FFFFFFFFFFFFFFF);
}
[[gnu::always_inline]] inline float from_order_key(int32_t key) {
  return std::bit_cast<float>(key ^ ((key >> 31) & 0x7FFFFFFF));
}
[[gnu::always_inline]] inline double from_order_key(int64_t key) {
  return std::bit_cast<double>(key ^ ((key >> 63) & 0x7FFFFFFFFFFFFFFF));
}

}  // namespace humble
