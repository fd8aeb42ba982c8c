// core/simd.hpp — vectors for kernels written with GCC's vector extensions, and what they need.
//
// Floats8, Doubles4, Int32x8, Int64x4  32-byte vectors: the usual operators work lane by lane,
//               comparisons give −1/0 integer masks; in a HUMBLE_SIMD_CLONES function they are
//               AVX2 registers, in the plain x86-64 build pairs of SSE2 ones.
// Doubles8      two Doubles4, the width of a Floats8 (widen, narrow convert lane by lane).
// Lanes<T>      the vector a kernel on T uses: Floats8 (sums in Doubles8) for float, plain double
//               (width 1) for double, so one template serves both dtypes.
// load, store, load_wide, lane   unaligned loads and stores, and lane j of a vector or scalar.
// tail_vector   the last, partial vector of a row, read in place when readable, else zero-padded.
// transpose8    an 8 × 8 block of floats transposed in registers.
// permute       lane l of the result is lane lanes[l] of the input.
// select(c, a, b)  c ? a : b through bit masks; any(mask), all_finite(x).
//
// Why the odd spellings: under the default -ftrapping-math, GCC will not vectorize a loop whose
// body keeps a float `?:` or std::max (its PRE pass copies the arithmetic that follows into each
// arm, leaving control flow); bit masks do not have that problem. (On the vector types
// themselves, `a > b ? a : b` is one max instruction.) HUMBLE_SIMD_CLONES marks a hot function for
// an extra x86-64-v3 build (AVX2 and FMA) picked at load time (GCC target_clones), so binaries
// built for plain x86-64 still use 256-bit vectors and fused multiply-adds where the CPU has them;
// it also inlines everything the function calls (flatten), so its helpers get the same build. A
// file whose kernels multiply and add is compiled with -ffp-contract=fast (CMakeLists.txt), which
// lets the v3 build fuse a·b + c: its results can differ from the plain build's in the last bits
// (each build gives the same bits on every run and thread count). Kernels must therefore not rely
// on a·b − c·d cancelling exactly; write w·(a − b), not w·a − w·b. Defining HUMBLE_NO_SIMD_CLONES
// builds the plain version only (so that it can be tested on a machine that would pick v3).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
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

// The vector of T a kernel works in (V), its sums' vector (Wide), and its width n.
template <class T>
struct Lanes {  // float64: one value at a time
  using V = double;
  using Wide = double;
  static constexpr int n = 1;
};
template <>
struct Lanes<float> {
  using V = Floats8;
  using Wide = Doubles8;
  static constexpr int n = 8;
};

template <class V, class T>
[[gnu::always_inline]] inline V load(const T* from) {
  V v;
  std::memcpy(&v, from, sizeof(V));
  return v;
}
template <class V, class T>
[[gnu::always_inline]] inline void store(T* to, const V& v) {
  std::memcpy(to, &v, sizeof(V));
}
[[gnu::always_inline]] inline void store(double* to, const Doubles8& v) {  // two halves, not one 64-byte copy
  store(to, v.lo);
  store(to + 4, v.hi);
}
template <class Wide>
[[gnu::always_inline]] inline Wide load_wide(const double* from) {
  if constexpr (std::is_same_v<Wide, double>) {
    return *from;
  } else {
    return {load<Doubles4>(from), load<Doubles4>(from + 4)};
  }
}
template <class V>
[[gnu::always_inline]] inline auto lane(const V& v, int j) {
  if constexpr (std::is_arithmetic_v<V>) {
    return v;
  } else {
    return v[j];
  }
}

// The row's last, partial vector [c, n) as a whole one: read in place when the memory after the
// row is readable (up to readable_end; the extra lanes are then ignored), otherwise through a
// zero-padded copy.
template <class V, class T>
V tail_vector(const T* row, int64_t c, int64_t n, const T* readable_end) {
  constexpr int kWidth = sizeof(V) / sizeof(T);
  if (readable_end - (row + c) >= kWidth) return load<V>(row + c);
  T padded[kWidth] = {};
  std::memcpy(padded, row + c, static_cast<std::size_t>(n - c) * sizeof(T));
  return load<V>(padded);
}

// Transposes an 8 × 8 block of floats in place: v[i][j] ↔ v[j][i] (unpack, shuffle, then swap of
// 128-bit halves: 24 shuffles).
inline void transpose8(Floats8 (&v)[8]) {
  Floats8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(v[i], v[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(v[i], v[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + h + 2] = __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  const int order[4] = {0, 2, 1, 3};  // u[0..3] hold columns 0, 2, 1, 3 of the first four rows
  for (int k = 0; k < 4; ++k) {
    v[k] = __builtin_shufflevector(u[order[k]], u[order[k] + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    v[k + 4] = __builtin_shufflevector(u[order[k]], u[order[k] + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// Lane l of the result is values[lanes[l]] (one vpermps with AVX2; clang lacks __builtin_shuffle).
inline Floats8 permute(const Floats8& values, const Int32x8& lanes) {
#if defined(__GNUC__) && !defined(__clang__)
  return __builtin_shuffle(values, lanes);
#else
  Floats8 out;
  for (int l = 0; l < 8; ++l) out[l] = values[lanes[l] & 7];
  return out;
#endif
}

inline bool any(const Int64x4& mask) { return (mask[0] | mask[1] | mask[2] | mask[3]) != 0; }
inline bool any(const Int32x8& mask) { return any(std::bit_cast<Int64x4>(mask)); }

// No lane is ±inf or NaN (exponent all ones).
inline bool all_finite(const Doubles8& x) {
  const auto not_finite = [](Doubles4 d) {
    return std::bit_cast<Int64x4>((std::bit_cast<Int64x4>(d) & 0x7FF0000000000000) == 0x7FF0000000000000);
  };
  return !any(not_finite(x.lo) | not_finite(x.hi));
}

}  // namespace humble
