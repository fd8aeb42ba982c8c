// core/blas.hpp — the one door to OpenBLAS (CBLAS): GEMM on humble's threads, what OpenBLAS runs
// on, and getting its best kernels.
//
// gemm computes C = alpha · op(A) · op(B) + beta · C for row-major matrices, where op transposes
// when asked: transposes are passed to BLAS as flags, never materialised. OpenBLAS itself runs
// single-threaded; a large GEMM is cut into panels of C's rows or of its columns (along C's longer
// side, so that the operand every panel packs again is the smaller one; or, for a small C over a
// long inner dimension, into slices of K whose partial products are then added in order), and the
// panels run as oneTBB tasks. So the library has one pool of threads (OpenBLAS's and oneTBB's
// never take turns on the same cores), and since the cut depends on the shape and the machine's
// core count alone, a GEMM gives the same bits on any number of threads. gemm may be called from
// inside parallel_for tasks.
//
// Kernels. OpenBLAS (DYNAMIC_ARCH) picks its kernel set once, when it loads: from the CPU, or from
// the environment variable OPENBLAS_CORETYPE. A CPU it does not recognise gets its generic SSE3
// kernels ("Prescott"), 3–6× slower than the AVX2 ("Haswell") or AVX-512 ("SkylakeX") ones the
// CPU could run. humble reads the CPU's features itself (CPUID, independently of OpenBLAS):
//   - run_on_best_blas_kernels(argv), called first thing in main (every program of humble's does),
//     restarts the program with OPENBLAS_CORETYPE set to the best set the CPU supports, once a
//     probe run of the program on those kernels has checked a GEMM against a plain loop;
//   - any other program that got a slower set than its CPU supports prints one warning on stderr,
//     at its first GEMM, naming the fix.
// A kernel set the user chose with OPENBLAS_CORETYPE is always kept. (Tests reproduce an
// unrecognised CPU with OPENBLAS_CORETYPE=Prescott plus HUMBLE_TEST_OPENBLAS_FALLBACK=1, which
// makes humble take that variable as OpenBLAS's own choice rather than the user's.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace humble {

struct BlasInfo {
  std::string vendor;    // "OpenBLAS"
  std::string version;   // "0.3.21"
  std::string kernels;   // the kernel set in use: "SkylakeX", "Haswell", "Prescott", …
  int threads = 1;       // threads one GEMM runs on (humble's; OpenBLAS's own stay at 1)
  std::string replaced;  // the set OpenBLAS had picked, when run_on_best_blas_kernels moved it ("" else)
};
BlasInfo blas_info();

// When OpenBLAS runs a slower kernel set than this CPU supports and the user set no
// OPENBLAS_CORETYPE: checks the best set in a probe run of this program, then restarts the
// program on it (execve of /proc/self/exe with the same argv, so call it before anything else in
// main, with main's argv). Returns normally when there is nothing to do, or (after one warning)
// when the best set failed its check. Never returns into a half-run program.
void run_on_best_blas_kernels(char** argv);

}  // namespace humble

namespace humble::blas {

// op(A): (M, K), op(B): (K, N), C: (M, N); lda/ldb/ldc are the row strides as stored.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

// C = op(A) · op(B) + `row` added to every row of C (N values, as a linear layer's bias): each
// panel of the cut below first sets its part of C to the row, then accumulates the product onto it.
template <class T>
void gemm_onto_row(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
                   int64_t ldb, const T* row, T* c, int64_t ldc);

// How gemm cuts C (by the shape, and the machine's core count): `parts` panels along `dim`.
struct Split {
  enum Dim { None, Rows, Cols, Depth } dim = None;
  int64_t parts = 1;
};
Split split_for(int64_t m, int64_t n, int64_t k);

// Kernel selection, exposed for tests.
struct CpuFeatures {
  bool avx = false, avx2 = false, fma = false;
  bool avx512 = false;  // F, CD, BW, DQ and VL, as OpenBLAS's SkylakeX kernels need
  bool avx512_bf16 = false;
};
CpuFeatures cpu_features();  // this CPU, from CPUID (with the OS's consent to use the registers)
// 0 generic (SSE2/SSE3), 1 AVX, 2 AVX2 + FMA, 3 AVX-512; −1 for a name it does not know.
int kernel_level(std::string_view kernels);
// The fastest of OpenBLAS's kernel sets for `cpu` ("Cooperlake", "SkylakeX", "Haswell",
// "Sandybridge"), or "" when the CPU has no AVX (the generic set is then the best).
std::string best_kernels(const CpuFeatures& cpu);
// The kernel set to move to from OpenBLAS's choice `kernels`: best_kernels(cpu) when `kernels` is a
// known set below it and the user did not choose `kernels`; "" otherwise (keep it).
std::string kernels_to_use(std::string_view kernels, const CpuFeatures& cpu, bool user_chose);

// The check a new kernel set must pass: `gemm` on odd shapes, every combination of transposes,
// alpha and beta, against a plain loop in double, within K·eps·Σ|a·b| per element.
template <class T>
using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t);
template <class T>
bool gemm_agrees_with_loop(GemmFn<T> gemm);

}  // namespace humble::blas
