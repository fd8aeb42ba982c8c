// core/blas.hpp — the one door to OpenBLAS (CBLAS).
//
// gemm computes C = alpha · op(A) · op(B) + beta · C for row-major matrices, where op transposes
// when asked: transposes are passed to BLAS as flags, never materialised. Call it outside
// parallel_for tasks: OpenBLAS runs its own threads.
#pragma once

#include <cstdint>

namespace humble::blas {

// op(A): (M, K), op(B): (K, N), C: (M, N); lda/ldb/ldc are the row strides as stored.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

void set_threads(int n);

}  // namespace humble::blas
