// core/fast_math.hpp — branch-free exp and log written so that GCC vectorizes loops over them.
//
// fast_exp_flush(x)  e^x in float for softmax terms (x ≤ 88): within 1 ulp of e^x where that is
//               a normal float (checked against a double exp), 0 below; −inf → 0, NaN → NaN.
//               Cephes' expf (https://www.netlib.org/cephes/): x = n·ln 2 + r with |r| ≤ ln 2 / 2
//               (ln 2 split in two for an exact reduction), e^r by a degree-5 polynomial, then
//               scaled by 2^n in one step.
// fast_exp(x)   e^x in double for x ≤ 0 (a softmax term), within 1 ulp of e^x where that is a
//               normal double, 0 below (x < ln DBL_MIN ≈ −708.4); −inf → 0, NaN → NaN. The same
//               reduction, x = n·ln 2 + r (fdlibm's split of ln 2), e^r by its Taylor series to r¹³.
// fast_log(x)   log x in double, within 2 ulp for normal x > 0 (not subnormal x); log 0 = −inf,
//               log inf = inf, NaN for NaN and x < 0. x = 2^k·f with f in [√½, √2),
//               log f = 2·atanh((f − 1)/(f + 1)) by its series to u^23, and k·ln 2 added in two
//               parts (fdlibm's split of ln 2).
// Both take scalars and vectors (core/simd.hpp: Floats8, Doubles4, Doubles8), with the same
// arithmetic in every lane, and use select() rather than branches (simd.hpp says why).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "simd.hpp"

namespace humble {

// e^x for the terms of a softmax, x ≤ 88 (a larger x gives a meaningless result), by Cephes' expf
// (https://www.netlib.org/cephes/): x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two, so that
// n·kLn2Hi is exact), e^r by a degree-5 polynomial, times 2^n in one step, so results below the
// smallest normal float (x < ln FLT_MIN ≈ −87.34) flush to 0 instead of going subnormal: a term
// below 1.2e−38 of a sum of at least 1 is nothing. −inf → 0, NaN → NaN.
template <class F>  // float or Floats8
[[gnu::always_inline]] inline F fast_exp_flush(F x) {
  using UInt = std::conditional_t<std::is_same_v<F, float>, uint32_t, UInt32x8>;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // kLn2Hi + kLn2Lo = ln 2; kLn2Hi·n is exact
  constexpr float kRound = 12582912.0f;         // 1.5·2^23: adding it rounds to an integer, found in the low bits
  constexpr float kLnMinNormal = -87.3365448f;  // ln FLT_MIN, rounded up
  const F shifted = x * kLog2e + kRound;
  const F n = shifted - kRound;  // round(x / ln 2)
  const F r = (x - n * kLn2Hi) - n * kLn2Lo;
  F poly = F{} + 1.9875691500e-4f;
  poly = poly * r + 1.3981999507e-3f;
  poly = poly * r + 8.3334519073e-3f;
  poly = poly * r + 4.1665795894e-2f;
  poly = poly * r + 1.6666665459e-1f;
  poly = poly * r + 5.0000001201e-1f;
  const F exp_r = poly * (r * r) + r + 1.0f;
  // n + 127 in the exponent field, from shifted's low bits; unsigned, so that it wraps (no
  // overflow) whatever x was: x < ln FLT_MIN gives garbage here, replaced by 0 below.
  const UInt biased_n = std::bit_cast<UInt>(shifted) - std::bit_cast<uint32_t>(kRound) + 127u;
  return select(x < kLnMinNormal, F{}, exp_r * std::bit_cast<F>(biased_n << 23));
}

template <class D>  // double or Doubles4
[[gnu::always_inline]] inline D fast_exp(D x) {
  using Int = typename IntOf<D>::type;
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;  // n·kLn2Hi is exact
  constexpr double kRound = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer, found in the low bits
  constexpr double kLnMinNormal = -708.3964185322641;  // ln DBL_MIN, rounded up
  const D shifted = x * kLog2e + kRound;
  const D n = shifted - kRound;  // round(x / ln 2)
  const D r = (x - n * kLn2Hi) - n * kLn2Lo;
  // Σ_k r^k / k! for k ≤ 13 (|r| ≤ ln 2 / 2, so the first term left out is below 2^-60 of the sum).
  D poly = D{} + 1.0 / 6227020800;
  for (const double inverse_factorial : {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
                                         1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0})
    poly = poly * r + inverse_factorial;
  // n + 1023 in the exponent field, from shifted's low bits (x < ln DBL_MIN gives garbage here,
  // replaced by 0 below).
  const Int biased_n = std::bit_cast<Int>(shifted) - std::bit_cast<int64_t>(kRound) + 1023;
  return select(x < kLnMinNormal, D{}, poly * std::bit_cast<D>(biased_n << 52));
}
[[gnu::always_inline]] inline Doubles8 fast_exp(const Doubles8& x) { return {fast_exp(x.lo), fast_exp(x.hi)}; }

template <class D>  // double or Doubles4
[[gnu::always_inline]] inline D fast_log(D x) {
  using Int = typename IntOf<D>::type;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kTwo52 = 4503599627370496.0;  // 2^52: (2^52 + e) − 2^52 turns a small integer's bits into a double
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const Int bits = std::bit_cast<Int>(x);
  const D mantissa = std::bit_cast<D>((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000);  // [1, 2)
  const auto high = mantissa > 1.4142135623730951;                                        // bool, or a mask
  const D f = select(high, 0.5 * mantissa, mantissa);
  const Int biased_exponent = ((bits >> 52) & 0x7FF) + (high & 1);
  const D k = std::bit_cast<D>(biased_exponent | 0x4330000000000000) - (kTwo52 + 1023);
  const D u = (f - 1) / (f + 1), u2 = u * u;  // |u| < 0.172
  // Σ_i u2^i / (2i + 3) for i ≤ 10, in Estrin's order (pairs, then pairs of pairs): a chain of 5
  // operations instead of Horner's 10, so that other work overlaps less of its latency.
  const D u4 = u2 * u2, u8 = u4 * u4;
  const D p0 = (1.0 / 3 + u2 * (1.0 / 5)) + u4 * (1.0 / 7 + u2 * (1.0 / 9));
  const D p1 = (1.0 / 11 + u2 * (1.0 / 13)) + u4 * (1.0 / 15 + u2 * (1.0 / 17));
  const D p2 = (1.0 / 19 + u2 * (1.0 / 21)) + u4 * (1.0 / 23);
  const D poly = (p0 + u8 * p1) + (u8 * u8) * p2;
  const D log_f = 2 * u + 2 * u * u2 * poly;  // 2·atanh u = 2u + 2u³/3 + 2u⁵/5 + …
  const D outside =
      select(x == 0, D{} - kInf, select(x == kInf, D{} + kInf, D{} + std::numeric_limits<double>::quiet_NaN()));
  return select((x > 0) & (x < kInf), k * kLn2Hi + (k * kLn2Lo + log_f), outside);
}

[[gnu::always_inline]] inline Doubles8 fast_log(const Doubles8& x) { return {fast_log(x.lo), fast_log(x.hi)}; }

}  // namespace humble
