// core/fast_math.hpp — branch-free float helpers written so that GCC vectorizes loops over them.
//
// fast_exp_flush(x)  e^x in float for softmax terms (x ≤ 88): within 1 ulp of e^x where that is
//               a normal float (checked against a double exp), 0 below; −inf → 0, NaN → NaN.
//               Cephes' expf (https://www.netlib.org/cephes/): x = n·ln 2 + r with |r| ≤ ln 2 / 2
//               (ln 2 split in two for an exact reduction), e^r by a degree-5 polynomial, then
//               scaled by 2^n in one step.
// fast_log(x)   log x in double, within 2 ulp for normal x > 0 (not subnormal x); log 0 = −inf,
//               log inf = inf, NaN for NaN and x < 0. x = 2^k·f with f in [√½, √2),
//               log f = 2·atanh((f − 1)/(f + 1)) by its series to u^23, and k·ln 2 added in two
//               parts (fdlibm's split of ln 2).
// select(c, a, b)  c ? a : b through bit masks.
// Floats8, Doubles4  vectors (GCC vector extensions: the usual operators work lane by lane,
//               comparisons give −1/0 integer masks); fast_exp_flush, fast_log and select
//               take them as well as scalars, with the same arithmetic in every lane. In a
//               HUMBLE_SIMD_CLONES function they are AVX2 registers, in the plain x86-64 build
//               pairs of SSE2 ones. Doubles8 pairs two Doubles4 to match a Floats8 (widen, narrow).
//
// Why the odd spellings: under the default -ftrapping-math, GCC will not vectorize a loop whose
// body keeps a float `?:` or std::max (its PRE pass copies the arithmetic that follows into
// each arm, leaving control flow); bit masks do not have that problem. (On the vector types
// themselves, `a > b ? a : b` is one max instruction.) HUMBLE_SIMD_CLONES marks a hot function for
// an extra x86-64-v3 build (AVX2 and FMA) picked at load time (GCC target_clones), so binaries
// built for plain x86-64 still use 256-bit vectors and fused multiply-adds where the CPU has
// them; it also inlines everything the function calls (flatten), so its helpers get the same
// build. A file using it is compiled with -ffp-contract=fast (CMakeLists.txt), which lets the
// v3 build fuse a·b + c: its results can differ from the plain build's in the last bits (each
// build gives the same bits on every run and thread count). Kernels must therefore not rely on
// a·b − c·d cancelling exactly; write w·(a − b), not w·a − w·b. Defining HUMBLE_NO_SIMD_CLONES
// builds the plain version only (so that it can be tested on a machine that would pick v3).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(HUMBLE_NO_SIMD_CLONES)
#define HUMBLE_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default"), flatten))
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

using Floats8 = float __attribute__((vector_size(32)));
using Int32x8 = int32_t __attribute__((vector_size(32)));
using Doubles4 = double __attribute__((vector_size(32)));
using Int64x4 = int64_t __attribute__((vector_size(32)));
using UInt32x8 = uint32_t __attribute__((vector_size(32)));

// The integer type of a float type's width: what its bits and comparisons are.
template <class F>
struct IntOf;
template <>
struct IntOf<double> {
  using type = int64_t;
};
template <>
struct IntOf<Floats8> {
  using type = Int32x8;
};
template <>
struct IntOf<Doubles4> {
  using type = Int64x4;
};
template <class F>
concept FloatVector = std::is_same_v<F, Floats8> || std::is_same_v<F, Doubles4>;

template <FloatVector V>
[[gnu::always_inline]] inline V select(typename IntOf<V>::type mask, V a, V b) {
  return mask ? a : b;
}

// Eight doubles, the width of a Floats8, as two Doubles4 (GCC lowers a 64-byte vector type through
// memory on AVX2). widen and narrow convert lane by lane; on doubles they do nothing.
struct Doubles8 {
  Doubles4 lo{}, hi{};
  double operator[](int j) const { return j < 4 ? lo[j] : hi[j - 4]; }
  Doubles8& operator+=(const Doubles8& b) {
    lo += b.lo;
    hi += b.hi;
    return *this;
  }
  friend Doubles8 operator+(const Doubles8& a, const Doubles8& b) { return {a.lo + b.lo, a.hi + b.hi}; }
  friend Doubles8 operator-(const Doubles8& a, const Doubles8& b) { return {a.lo - b.lo, a.hi - b.hi}; }
  friend Doubles8 operator*(const Doubles8& a, const Doubles8& b) { return {a.lo * b.lo, a.hi * b.hi}; }
  friend Doubles8 operator+(const Doubles8& a, double b) { return {a.lo + b, a.hi + b}; }
  friend Doubles8 operator*(double a, const Doubles8& b) { return {a * b.lo, a * b.hi}; }
  friend Doubles8 operator-(double a, const Doubles8& b) { return {a - b.lo, a - b.hi}; }
};
// Spelled lane by lane: GCC 12 splits __builtin_convertvector between widths into 2-lane pieces.
[[gnu::always_inline]] inline Doubles8 widen(const Floats8& v) {
  return {Doubles4{v[0], v[1], v[2], v[3]}, Doubles4{v[4], v[5], v[6], v[7]}};
}
[[gnu::always_inline]] inline Floats8 narrow(const Doubles8& d) {
  const auto f = [](double x) { return static_cast<float>(x); };
  return Floats8{f(d.lo[0]), f(d.lo[1]), f(d.lo[2]), f(d.lo[3]), f(d.hi[0]), f(d.hi[1]), f(d.hi[2]), f(d.hi[3])};
}
[[gnu::always_inline]] inline double widen(double x) { return x; }
[[gnu::always_inline]] inline double narrow(double x) { return x; }

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
