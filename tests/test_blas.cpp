// tests/test_blas.cpp — core/blas: the GEMM split over threads, and choosing OpenBLAS's kernels.
//
//   1. split_for cuts by rows, columns or K by the shape and the machine's cores; every cut gives
//      the plain loop's result (within K·eps·Σ|a·b|) and the same bits on 1 and 2 threads; so does
//      gemm_onto_row, a linear layer's product onto its bias rows, written panel by panel.
//   2. The kernel-selection rules, table-driven over CPUs and OpenBLAS's choices (a CPU's best
//      set, what counts as a fallback, a user's OPENBLAS_CORETYPE kept), and cpu_features()
//      against the flags the kernel reports in /proc/cpuinfo.
//   3. The GEMM check a new kernel set must pass rejects a GEMM that is slightly off, or ignores beta.
//   4. blas_info(), and this test binary itself (started through run_on_best_blas_kernels) runs
//      on kernels at least as good as the best for this CPU, unless the user chose others.
// The end-to-end restart and warning are in tests/blas_probe/check_selection.cmake.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <humble/humble.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace test_blas {

using namespace humble;

namespace {

// C = op(A) op(B) through blas::gemm at `threads` threads (alpha 1, beta 0).
template <class T>
std::vector<T> product(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const std::vector<T>& a,
                       const std::vector<T>& b, int threads) {
  set_num_threads(threads);
  std::vector<T> c(static_cast<std::size_t>(m * n), T(-7));
  blas::gemm<T>(ta, tb, m, n, k, T{1}, a.data(), ta ? m : k, b.data(), tb ? k : n, T{0}, c.data(), n);
  return c;
}

std::string cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line + " ";
  return "";
}

}  // namespace

TEST_CASE("test_blas: split_for cuts along C's longer side, or K, by the shape and the machine's cores") {
  // Two panels per core, between 2 and 8.
  const int64_t panels = std::clamp<int64_t>(2 * static_cast<int64_t>(std::thread::hardware_concurrency()), 2, 8);
  CHECK(blas::split_for(8, 8, 8).dim == blas::Split::None);         // too little work
  CHECK(blas::split_for(128, 512, 784).dim == blas::Split::Cols);   // the MLP's first layer: 128 rows, 512 columns
  CHECK(blas::split_for(128, 512, 784).parts == panels);            // 512 columns hold 8 panels of 64
  CHECK(blas::split_for(1000, 512, 784).dim == blas::Split::Rows);  // the same layer at inference, 1000 rows
  CHECK(blas::split_for(1000, 512, 784).parts == panels);
  CHECK(blas::split_for(128, 130, 784).dim == blas::Split::Cols);   // wider than long
  CHECK(blas::split_for(128, 100, 784).dim == blas::Split::Rows);   // 100 columns hold no two panels of 64
  CHECK(blas::split_for(128, 100, 784).parts == 2);                 // 128 rows hold two
  CHECK(blas::split_for(16, 12800, 150).dim == blas::Split::Cols);  // few rows, many columns
  CHECK(blas::split_for(6, 25, 100352).dim == blas::Split::Depth);  // a small C over a long K
  CHECK(blas::split_for(6, 25, 100352).parts >= 2);
  CHECK(blas::split_for(4096, 4096, 4096).parts == panels);  // never more than two per core
  CHECK(blas::split_for(16, 16, 1 << 20).parts == 8);        // K slices: 8 at most, on any machine
}

TEST_CASE("test_blas: every cut agrees with a plain loop and gives the same bits on 1 and 2 threads") {
  struct Case {
    bool ta, tb;
    int64_t m, n, k;
  };
  const std::vector<Case> cases = {{false, true, 300, 70, 129},  {true, false, 200, 96, 150},
                                   {false, false, 20, 700, 300}, {true, true, 24, 600, 200},
                                   {false, true, 21, 19, 9000},  {true, false, 30, 17, 6000},
                                   {false, false, 3, 5, 2}};
  Generator gen(3);
  for (const Case& c : cases) {
    CAPTURE(c.m);
    CAPTURE(c.n);
    CAPTURE(c.k);
    CAPTURE(c.ta);
    CAPTURE(c.tb);
    const std::vector<double> av = randn({c.m * c.k}, gen).to_vector(), bv = randn({c.k * c.n}, gen).to_vector();
    const std::vector<float> a(av.begin(), av.end()), b(bv.begin(), bv.end());
    const std::vector<float> one = product(c.ta, c.tb, c.m, c.n, c.k, a, b, 1);
    CHECK(product(c.ta, c.tb, c.m, c.n, c.k, a, b, 2) == one);
    CHECK(product<double>(c.ta, c.tb, c.m, c.n, c.k, av, bv, 2) ==
          product<double>(c.ta, c.tb, c.m, c.n, c.k, av, bv, 1));
    int64_t bad = 0;
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double want = 0, magnitude = 0;
        for (int64_t l = 0; l < c.k; ++l) {
          const double x = c.ta ? a[l * c.m + i] : a[i * c.k + l], y = c.tb ? b[j * c.k + l] : b[l * c.n + j];
          want += x * y;
          magnitude += std::abs(x * y);
        }
        if (!(std::abs(one[i * c.n + j] - want) <= static_cast<double>(c.k + 2) * 0x1p-24 * magnitude)) ++bad;
      }
    CHECK(bad == 0);
  }
  set_num_threads(2);
}

TEST_CASE("test_blas: gemm_onto_row gives, on every cut, the bits of C set to the row and then accumulated onto") {
  struct Case {
    int64_t m, n, k;
    blas::Split::Dim dim;
  };
  const std::vector<Case> cases = {{3, 5, 2, blas::Split::None},
                                   {300, 100, 200, blas::Split::Rows},
                                   {20, 700, 300, blas::Split::Cols},
                                   {21, 19, 20000, blas::Split::Depth}};
  Generator gen(4);
  for (const Case& c : cases) {
    CAPTURE(c.m);
    CAPTURE(c.n);
    CAPTURE(c.k);
    REQUIRE(blas::split_for(c.m, c.n, c.k).dim == c.dim);
    const std::vector<double> av = randn({c.m * c.k}, gen).to_vector(), bv = randn({c.n * c.k}, gen).to_vector();
    const std::vector<double> rv = randn({c.n}, gen).to_vector();
    const std::vector<float> a(av.begin(), av.end()), b(bv.begin(), bv.end()), row(rv.begin(), rv.end());
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      set_num_threads(threads);
      std::vector<float> want(static_cast<std::size_t>(c.m * c.n)), got(want.size(), -7.0f);
      for (int64_t i = 0; i < c.m; ++i) std::copy(row.begin(), row.end(), want.begin() + i * c.n);
      blas::gemm<float>(false, true, c.m, c.n, c.k, 1.0f, a.data(), c.k, b.data(), c.k, 1.0f, want.data(), c.n);
      blas::gemm_onto_row<float>(false, true, c.m, c.n, c.k, a.data(), c.k, b.data(), c.k, row.data(), got.data(), c.n);
      CHECK(got == want);
    }
  }
  set_num_threads(2);
}

TEST_CASE("test_blas: kernel levels, the best set for a CPU, and when to move") {
  CHECK(blas::kernel_level("Prescott") == 0);
  CHECK(blas::kernel_level("NEHALEM") == 0);  // OPENBLAS_CORETYPE is case-insensitive
  CHECK(blas::kernel_level("Sandybridge") == 1);
  CHECK(blas::kernel_level("Haswell") == 2);
  CHECK(blas::kernel_level("Zen") == 2);
  CHECK(blas::kernel_level("SkylakeX") == 3);
  CHECK(blas::kernel_level("Cooperlake") == 3);
  CHECK(blas::kernel_level("Unknown") == -1);

  const blas::CpuFeatures sse{}, avx{.avx = true}, avx2{.avx = true, .avx2 = true, .fma = true},
      avx2_no_fma{.avx = true, .avx2 = true}, avx512{.avx = true, .avx2 = true, .fma = true, .avx512 = true},
      bf16{.avx = true, .avx2 = true, .fma = true, .avx512 = true, .avx512_bf16 = true};
  CHECK(blas::best_kernels(sse).empty());
  CHECK(blas::best_kernels(avx) == "Sandybridge");
  CHECK(blas::best_kernels(avx2_no_fma) == "Sandybridge");
  CHECK(blas::best_kernels(avx2) == "Haswell");
  CHECK(blas::best_kernels(avx512) == "SkylakeX");
  CHECK(blas::best_kernels(bf16) == "Cooperlake");

  // The Intel Xeon OpenBLAS 0.3.21 does not know: generic kernels on an AVX-512 CPU.
  CHECK(blas::kernels_to_use("Prescott", avx512, false) == "SkylakeX");
  CHECK(blas::kernels_to_use("Prescott", avx512, true).empty());  // the user asked for Prescott
  CHECK(blas::kernels_to_use("Haswell", avx512, false) == "SkylakeX");
  CHECK(blas::kernels_to_use("Prescott", avx2, false) == "Haswell");
  CHECK(blas::kernels_to_use("Zen", avx2, false).empty());         // a Zen 3: already its best
  CHECK(blas::kernels_to_use("Cooperlake", bf16, false).empty());  // this machine's own choice
  CHECK(blas::kernels_to_use("SkylakeX", bf16, false).empty());    // same level: no move
  CHECK(blas::kernels_to_use("Prescott", sse, false).empty());     // nothing better exists
  CHECK(blas::kernels_to_use("Unknown", avx512, false).empty());   // a set it does not know
}

TEST_CASE("test_blas: cpu_features agrees with the flags in /proc/cpuinfo") {
  const std::string flags = cpuinfo_flags();
  REQUIRE(!flags.empty());
  const auto has = [&](const char* flag) { return flags.find(std::string(" ") + flag + " ") != std::string::npos; };
  const blas::CpuFeatures cpu = blas::cpu_features();
  CHECK(cpu.avx == has("avx"));
  CHECK(cpu.avx2 == has("avx2"));
  CHECK(cpu.fma == has("fma"));
  CHECK(cpu.avx512 == (has("avx512f") && has("avx512cd") && has("avx512bw") && has("avx512dq") && has("avx512vl")));
  CHECK(cpu.avx512_bf16 == (cpu.avx512 && has("avx512_bf16")));
}

namespace {

void gemm_off_by_a_little(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  blas::gemm<float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  c[(m - 1) * ldc + n - 1] *= 1.0001f;  // one element, 1e-4 off
}

void gemm_ignoring_beta(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                        const double* b, int64_t ldb, double, double* c, int64_t ldc) {
  blas::gemm<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, 0.0, c, ldc);
}

}  // namespace

TEST_CASE("test_blas: the GEMM check passes OpenBLAS and rejects a GEMM slightly off or ignoring beta") {
  CHECK(blas::gemm_agrees_with_loop<float>(blas::gemm<float>));
  CHECK(blas::gemm_agrees_with_loop<double>(blas::gemm<double>));
  CHECK_FALSE(blas::gemm_agrees_with_loop<float>(gemm_off_by_a_little));
  CHECK_FALSE(blas::gemm_agrees_with_loop<double>(gemm_ignoring_beta));
}

TEST_CASE("test_blas: blas_info, and this program runs on the best kernels for its CPU") {
  set_num_threads(2);
  const BlasInfo info = blas_info();
  CHECK(info.vendor == "OpenBLAS");
  CHECK(info.version.find('.') != std::string::npos);
  CHECK(info.threads == 2);
  CHECK(blas::kernel_level(info.kernels) >= 0);
  const std::string best = blas::best_kernels(blas::cpu_features());
  const char* chosen = std::getenv("OPENBLAS_CORETYPE");
  if (best.empty() || (chosen && !std::getenv("HUMBLE_TEST_OPENBLAS_FALLBACK") && info.replaced.empty())) {
    MESSAGE("kernels ", info.kernels, " (OPENBLAS_CORETYPE ", chosen ? chosen : "unset", ", best ", best, ")");
  } else {
    CHECK(blas::kernel_level(info.kernels) >= blas::kernel_level(best));
  }
  set_num_threads(1);
  CHECK(blas_info().threads == 1);
  set_num_threads(2);
}

}  // namespace test_blas
