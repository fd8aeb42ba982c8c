// core/sparse_product.hpp — a linear layer's product that skips the zeros of its input.
//
// C (M, N) = row + A (M, K) · Bᵀ, with B (N, K) a weight as a linear layer stores it and `row` its
// bias (N values, or null for none):  C[i, j] = row[j] + Σ_{k : A[i, k] ≠ 0} A[i, k] · B[j, k].
// Many inputs are mostly zeros — 81 % of MNIST's pixels are 0, and a ReLU zeroes about half of
// what it sees — and a term A[i, k] · B[j, k] with A[i, k] = 0 adds nothing to the sum, as long as
// B[j, k] is finite (0 · ∞ is NaN). A dense GEMM still multiplies every one of them; this product
// lists each row's non-zeros once, then walks only those, so its work is the input's density times a
// dense GEMM's.
//
// product_onto_row_reference is the specification, three plain loops in that order. The kernel,
// product_onto_row, computes the same sums in the same order of k, eight or four lanes at a time:
//   1. it lists each row of A's non-zeros (their k and value), and packs B into tiles of 4 vectors'
//      width of C's columns (tile t holds B[t·kTile + l, k] at [t][k][l], zero-padded past N), so that the
//      B values a non-zero meets lie next to each other;
//   2. each (block of rows, tile) is one task: per row, four vector accumulators start from the row's
//      tile of `row` and take a fused multiply-add for every listed non-zero.
// Each element of C is one task's and summed in k order, so the bits do not depend on the thread
// count; they may differ from a dense GEMM's in the last place (another order of the same sum).
//
// worth_skipping_zeros decides, for `linear`: a product large enough to be worth the packing, an
// input whose sampled rows are at least kMostlyZero zeros (the kernel then counts exactly, and
// product_onto_row returns false, having written nothing, when the count or a non-finite weight
// says the dense GEMM must do it).
#pragma once

#include <cstdint>

namespace humble::sparse {

// Skipping pays from here: at MNIST's 19 % density the product takes half a dense GEMM's time, and
// the listing and packing cost about a tenth of one (docs/benchmarks.md).
inline constexpr double kMostlyZero = 0.7;

template <class T>
bool worth_skipping_zeros(int64_t m, int64_t n, int64_t k, const T* a);

// C = row + A · Bᵀ by the kernel above; false (C untouched) when A is not mostly zeros after all
// or B holds a non-finite value, in which case the caller must use a dense GEMM.
template <class T>
bool product_onto_row(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* row, T* c);

// The same sums, plainly.
template <class T>
void product_onto_row_reference(int64_t m, int64_t n, int64_t k, const T* a, const T* b, const T* row, T* c);

}  // namespace humble::sparse
