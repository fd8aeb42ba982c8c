// core/sparse_product.cpp — C = row + A · Bᵀ over A's non-zeros (the math and the plan: sparse_product.hpp).
//
// Legend: M rows of A and C, K columns of A (and of B), N columns of C (rows of B); a tile is
// kTile = 4 vectors of C's columns.
#include "sparse_product.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <type_traits>

#include "parallel.hpp"
#include "profile.hpp"
#include "simd.hpp"
#include "tensor.hpp"

namespace humble::sparse {
namespace {

// A float kernel works on Floats8, a double one on Doubles4: 32 bytes either way.
template <class T>
using Vector = std::conditional_t<std::is_same_v<T, float>, Floats8, Doubles4>;
template <class T>
inline constexpr int64_t kVectorLanes = static_cast<int64_t>(sizeof(Vector<T>) / sizeof(T));
template <class T>
inline constexpr int64_t kTile = 4 * kVectorLanes<T>;
inline constexpr int64_t kRowBlock = 64;  // rows per task
inline constexpr int64_t kSampledRows = 8;
inline constexpr double kMinFlops = 4e6;  // below this, listing and packing cost more than they save

// A's non-zeros, row by row: row i's count[i] entries start at i·K in `column` and `value`.
template <class T>
struct NonZeros {
  Storage columns, values, counts;  // from the allocator's cache: a training step asks for the same sizes
  NonZeros(int64_t m, int64_t k)
      : columns(static_cast<std::size_t>(m * k) * sizeof(int32_t)),
        values(static_cast<std::size_t>(m * k) * sizeof(T)),
        counts(static_cast<std::size_t>(m) * sizeof(int64_t)) {}
  int32_t* column(int64_t i, int64_t k) { return reinterpret_cast<int32_t*>(columns.data()) + i * k; }
  T* value(int64_t i, int64_t k) { return reinterpret_cast<T*>(values.data()) + i * k; }
  int64_t& count(int64_t i) { return reinterpret_cast<int64_t*>(counts.data())[i]; }
};

// Lists rows [r0, r1) of A; returns how many non-zeros they hold.
template <class T>
int64_t list_non_zeros(const T* a, int64_t k, int64_t r0, int64_t r1, NonZeros<T>& nz) {
  int64_t total = 0;
  for (int64_t i = r0; i < r1; ++i) {
    const T* row = a + i * k;
    int32_t* column = nz.column(i, k);
    T* value = nz.value(i, k);
    int64_t n = 0;
    for (int64_t j = 0; j < k; ++j) {  // written always, kept when non-zero: no branch to mispredict
      column[n] = static_cast<int32_t>(j);
      value[n] = row[j];
      n += row[j] != T{0};
    }
    nz.count(i) = n;
    total += n;
  }
  return total;
}

// Tile t of B: packed[(t·K + k)·kTile + l] = B[t·kTile + l, k] (0 past N). False when it holds a
// non-finite value.
template <class T>
bool pack_tile(const T* b, int64_t n, int64_t k, int64_t t, T* packed) {
  bool finite = true;
  T* tile = packed + t * k * kTile<T>;
  for (int64_t l = 0; l < kTile<T>; ++l) {
    const int64_t j = t * kTile<T> + l;
    if (j >= n) {
      for (int64_t q = 0; q < k; ++q) tile[q * kTile<T> + l] = T{0};
      continue;
    }
    for (int64_t q = 0; q < k; ++q) {
      tile[q * kTile<T> + l] = b[j * k + q];
      finite &= std::isfinite(b[j * k + q]);
    }
  }
  return finite;
}

// Rows [r0, r1) of C, tile t's columns: row's values plus every non-zero times its packed B values.
template <class T>
[[gnu::always_inline]] inline void multiply_block(NonZeros<T>& nz, int64_t n, int64_t k, const T* packed, const T* row,
                                                  int64_t t, int64_t r0, int64_t r1, T* c) {
  using V = Vector<T>;
  constexpr int64_t L = kVectorLanes<T>;
  const T* tile = packed + t * k * kTile<T>;
  const int64_t c0 = t * kTile<T>, width = std::min(kTile<T>, n - c0);
  T start[kTile<T>] = {};
  if (row) std::copy(row + c0, row + c0 + width, start);
  for (int64_t i = r0; i < r1; ++i) {
    V acc0 = load<V>(start), acc1 = load<V>(start + L), acc2 = load<V>(start + 2 * L), acc3 = load<V>(start + 3 * L);
    const int32_t* column = nz.column(i, k);
    const T* value = nz.value(i, k);
    for (int64_t p = 0, count = nz.count(i); p < count; ++p) {
      const T* w = tile + static_cast<int64_t>(column[p]) * kTile<T>;
      const T x = value[p];
      acc0 += x * load<V>(w);
      acc1 += x * load<V>(w + L);
      acc2 += x * load<V>(w + 2 * L);
      acc3 += x * load<V>(w + 3 * L);
    }
    T* out = c + i * n + c0;
    if (width == kTile<T>) {
      store(out, acc0);
      store(out + L, acc1);
      store(out + 2 * L, acc2);
      store(out + 3 * L, acc3);
    } else {
      T sums[kTile<T>];
      store(sums, acc0);
      store(sums + L, acc1);
      store(sums + 2 * L, acc2);
      store(sums + 3 * L, acc3);
      std::copy(sums, sums + width, out);
    }
  }
}

// Built twice (HUMBLE_SIMD_CLONES): plain x86-64, and x86-64-v3 with 256-bit registers and fused
// multiply-adds (this file is compiled with -ffp-contract=fast).
HUMBLE_SIMD_CLONES void multiply_blocks(NonZeros<float>& nz, int64_t n, int64_t k, const float* packed,
                                        const float* row, int64_t t, int64_t r0, int64_t r1, float* c) {
  multiply_block(nz, n, k, packed, row, t, r0, r1, c);
}
HUMBLE_SIMD_CLONES void multiply_blocks(NonZeros<double>& nz, int64_t n, int64_t k, const double* packed,
                                        const double* row, int64_t t, int64_t r0, int64_t r1, double* c) {
  multiply_block(nz, n, k, packed, row, t, r0, r1, c);
}

int64_t blocks(int64_t count, int64_t per_block) { return (count + per_block - 1) / per_block; }

}  // namespace

template <class T>
bool worth_skipping_zeros(int64_t m, int64_t n, int64_t k, const T* a) {
  if (2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kMinFlops) return false;
  const int64_t rows = std::min(m, kSampledRows);
  int64_t zeros = 0;
  for (int64_t s = 0; s < rows; ++s) {
    const T* row = a + (s * m / rows) * k;  // rows spread over A
    for (int64_t j = 0; j < k; ++j) zeros += row[j] == T{0};
  }
  return static_cast<double>(zeros) >= kMostlyZero * static_cast<double>(rows * k);
}

template <class T>
bool product_onto_row(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* row, T* c) {
  const profile::GemmTimer timer;
  const int64_t row_blocks = blocks(m, kRowBlock), tiles = blocks(n, kTile<T>);
  NonZeros<T> nz(m, k);
  std::atomic<int64_t> non_zeros{0};
  parallel_for(row_blocks, 1, [&](int64_t lo, int64_t hi) {
    non_zeros += list_non_zeros(a, k, lo * kRowBlock, std::min(m, hi * kRowBlock), nz);
  });
  if (static_cast<double>(non_zeros) > (1 - kMostlyZero) * static_cast<double>(m * k)) return false;

  Storage packed_storage(static_cast<std::size_t>(tiles * k * kTile<T>) * sizeof(T));
  T* packed = reinterpret_cast<T*>(packed_storage.data());
  std::atomic<bool> finite{true};
  parallel_for(tiles, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t)
      if (!pack_tile(b, n, k, t, packed)) finite = false;
  });
  if (!finite) return false;

  parallel_for(row_blocks * tiles, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t block = task / tiles, t = task % tiles;
      multiply_blocks(nz, n, k, packed, row, t, block * kRowBlock, std::min(m, (block + 1) * kRowBlock), c);
    }
  });
  return true;
}

template <class T>
void product_onto_row_reference(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* row, T* c) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T sum = row ? row[j] : T{0};
      for (int64_t q = 0; q < k; ++q)
        if (a[i * k + q] != T{0}) sum += a[i * k + q] * b[j * k + q];
      c[i * n + j] = sum;
    }
}

template bool worth_skipping_zeros<float>(int64_t, int64_t, int64_t, const float*);
template bool worth_skipping_zeros<double>(int64_t, int64_t, int64_t, const double*);
template bool product_onto_row<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*, float*);
template bool product_onto_row<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*, double*);
template void product_onto_row_reference<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                                float*);
template void product_onto_row_reference<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*,
                                                 double*);

}  // namespace humble::sparse
