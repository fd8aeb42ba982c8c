// core/blas.cpp — CBLAS calls (the only file that includes <cblas.h>), the GEMM split over
// parallel_for, and OpenBLAS's kernel selection (contract in core/blas.hpp).
#include "blas.hpp"

#include <cblas.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "parallel.hpp"
#include "profile.hpp"

extern "C" char** environ;
// OpenBLAS's exit (and fork) handler of its pthreads build: it stops the library's threads. Weak,
// since its serial and OpenMP builds have no such threads and no such function.
extern "C" int blas_thread_shutdown_() __attribute__((weak));

namespace humble::blas {
namespace {

constexpr int64_t kMinPanel = 64;                  // rows or columns per panel, at least
constexpr int64_t kMinDepth = 1024;                // inner-dimension slice, at least
constexpr int64_t kMaxParts = 8;                   // panels per GEMM, at most
constexpr double kFlopsPerPart = 4.0 * (1 << 20);  // a panel's work, at least (2·m·n·k)

// Panels of rows or columns per GEMM, at most: two per core of the machine (enough to even out
// the threads' shares; every panel more packs an operand once more). A property of the machine,
// not of set_num_threads, so a GEMM's cut is the same on any number of threads.
int64_t max_panels() {
  static const int64_t panels =
      std::clamp<int64_t>(2 * static_cast<int64_t>(std::thread::hardware_concurrency()), 2, kMaxParts);
  return panels;
}

// Panel boundaries: multiples of 16 (the kernels' register tiles) but for the last.
int64_t cut(int64_t total, int64_t part, int64_t parts) {
  return part == parts ? total : total * part / parts / 16 * 16;
}

template <class T>
void call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const auto op = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, op(ta), op(tb), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  else
    cblas_dgemm(CblasRowMajor, op(ta), op(tb), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// The user chose the kernels when OPENBLAS_CORETYPE is set (and no test asks to pretend otherwise).
bool user_chose_kernels() {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  return coretype && *coretype && !std::getenv("HUMBLE_TEST_OPENBLAS_FALLBACK");
}

std::string current_kernels() { return openblas_get_corename(); }

// Set when run_on_best_blas_kernels has already told the user about the kernels.
std::atomic<bool> kernels_reported{false};

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// OpenBLAS on one thread: humble splits GEMMs itself. OpenBLAS's pthreads build starts its own
// threads when it loads, and they spin, calling sched_yield, for 2^28 cycles (about a tenth of a
// second) before they sleep: they are stopped too. (Should anyone ask OpenBLAS for more threads
// again, it starts them again.)
void run_openblas_on_one_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
  });
}

// Once per process, before the first GEMM: OpenBLAS on one thread, and one warning when it runs a
// slower kernel set than the CPU supports.
void prepare() {
  static std::once_flag once;
  std::call_once(once, [] {
    run_openblas_on_one_thread();
    const std::string kernels = current_kernels();
    const std::string better = kernels_to_use(kernels, cpu_features(), user_chose_kernels());
    if (!better.empty() && !kernels_reported)
      std::fprintf(stderr,
                   "humble: [blas] OpenBLAS runs its \"%s\" kernels on this CPU, which supports its faster "
                   "\"%s\" set: GEMMs run several times slower. Set OPENBLAS_CORETYPE=%s in the environment before "
                   "the program starts (or call humble::run_on_best_blas_kernels(argv) first thing in main).\n",
                   kernels.c_str(), better.c_str(), better.c_str());
  });
}

// environ with `overrides` ("NAME=value") replacing or adding their variables.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  std::vector<std::string> env(overrides);
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      return entry.substr(0, entry.find('=') + 1) == std::string_view(o).substr(0, o.find('=') + 1);
    });
    if (!replaced) env.emplace_back(entry);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// Runs this program as a probe on `kernels` (it checks a GEMM and exits); true when it passed.
bool probe_passes(char** argv, const std::string& kernels) {
  std::vector<std::string> env = environment_with({"OPENBLAS_CORETYPE=" + kernels, "HUMBLE_BLAS_PROBE=" + kernels});
  std::vector<char*> envp = pointers(env);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) return false;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

Split split_for(int64_t m, int64_t n, int64_t k) {
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t parts = std::min<int64_t>(kMaxParts, static_cast<int64_t>(flops / kFlopsPerPart));
  if (parts < 2) return {};
  // Each panel of rows packs all of op(B) (K × N) again, each panel of columns all of op(A) (M × K):
  // cut along the longer side of C, so that the operand packed again is the smaller one.
  const int64_t panels = std::min(parts, max_panels());
  const bool rows_fit = m >= 2 * kMinPanel, cols_fit = n >= 2 * kMinPanel;
  if (rows_fit && (m >= n || !cols_fit)) return {Split::Rows, std::min(panels, m / kMinPanel)};
  if (cols_fit) return {Split::Cols, std::min(panels, n / kMinPanel)};
  if (k >= 2 * kMinDepth) return {Split::Depth, std::min(parts, k / kMinDepth)};
  return {};
}

namespace {

// Sets C's rows [r0, r1), columns [c0, c1) to row[c0, c1).
template <class T>
void write_rows(const T* row, int64_t r0, int64_t r1, int64_t c0, int64_t c1, T* c, int64_t ldc) {
  for (int64_t i = r0; i < r1; ++i) std::copy(row + c0, row + c1, c + i * ldc + c0);
}

// gemm, and gemm_onto_row when `row` is given: each panel then first sets its part of C to the row
// and accumulates onto it (gemm_onto_row passes beta = 1).
template <class T>
void multiply(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
              int64_t ldb, T beta, T* c, int64_t ldc, const T* row) {
  prepare();
  const profile::GemmTimer timer;
  const Split split = split_for(m, n, k);
  const auto start = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    if (row) write_rows(row, r0, r1, c0, c1, c, ldc);
  };
  // Element (row, col) of op(A) and op(B) as pointers: where a panel's operand starts.
  const auto at_a = [&](int64_t i, int64_t j) { return ta ? a + j * lda + i : a + i * lda + j; };
  const auto at_b = [&](int64_t i, int64_t j) { return tb ? b + j * ldb + i : b + i * ldb + j; };
  switch (split.dim) {
    case Split::None:
      start(0, m, 0, n);
      call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    case Split::Rows:
      parallel_for(split.parts, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t p = lo; p < hi; ++p) {
          const int64_t r0 = cut(m, p, split.parts), r1 = cut(m, p + 1, split.parts);
          start(r0, r1, 0, n);
          call(ta, tb, r1 - r0, n, k, alpha, at_a(r0, 0), lda, b, ldb, beta, c + r0 * ldc, ldc);
        }
      });
      return;
    case Split::Cols:
      parallel_for(split.parts, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t p = lo; p < hi; ++p) {
          const int64_t c0 = cut(n, p, split.parts), c1 = cut(n, p + 1, split.parts);
          start(0, m, c0, c1);
          call(ta, tb, m, c1 - c0, k, alpha, a, lda, at_b(0, c0), ldb, beta, c + c0, ldc);
        }
      });
      return;
    case Split::Depth: {
      // C = beta·C + alpha·Σ_p op(A)[:, K_p] op(B)[K_p, :]: slice 0 into C, the others into
      // buffers of their own, added to C afterwards in slice order.
      std::vector<T> partial(static_cast<std::size_t>((split.parts - 1) * m * n));
      parallel_for(split.parts, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t p = lo; p < hi; ++p) {
          const int64_t k0 = cut(k, p, split.parts), k1 = cut(k, p + 1, split.parts);
          if (p == 0) {
            start(0, m, 0, n);
            call(ta, tb, m, n, k1 - k0, alpha, a, lda, b, ldb, beta, c, ldc);
          } else {
            call(ta, tb, m, n, k1 - k0, alpha, at_a(0, k0), lda, at_b(k0, 0), ldb, T{0},
                 partial.data() + (p - 1) * m * n, n);
          }
        }
      });
      for (int64_t p = 1; p < split.parts; ++p)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) c[i * ldc + j] += partial[(p - 1) * m * n + i * n + j];
      return;
    }
  }
}

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc) {
  multiply<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr);
}

template <class T>
void gemm_onto_row(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                   const T* row, T* c, int64_t ldc) {
  multiply<T>(ta, tb, m, n, k, T{1}, a, lda, b, ldb, T{1}, c, ldc, row);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);
template void gemm_onto_row<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                                   const float*, float*, int64_t);
template void gemm_onto_row<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                                    int64_t, const double*, double*, int64_t);

CpuFeatures cpu_features() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
  f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
  return f;
}

int kernel_level(std::string_view kernels) {
  static const std::vector<std::pair<std::string_view, int>> levels = {
      {"Katmai", 0},        {"Coppermine", 0},  {"Northwood", 0},    {"Prescott", 0},   {"Banias", 0},
      {"Atom", 0},          {"Core2", 0},       {"Penryn", 0},       {"Dunnington", 0}, {"Nehalem", 0},
      {"Athlon", 0},        {"Opteron", 0},     {"Opteron_SSE3", 0}, {"Barcelona", 0},  {"Nano", 0},
      {"Bobcat", 0},        {"Sandybridge", 1}, {"Bulldozer", 1},    {"Piledriver", 1}, {"Steamroller", 1},
      {"Excavator", 1},     {"Haswell", 2},     {"Zen", 2},          {"SkylakeX", 3},   {"Cooperlake", 3},
      {"SapphireRapids", 3}};
  for (const auto& [name, level] : levels)
    if (same_name(name, kernels)) return level;
  return -1;
}

std::string best_kernels(const CpuFeatures& cpu) {
  if (cpu.avx512) return cpu.avx512_bf16 ? "Cooperlake" : "SkylakeX";
  if (cpu.avx2 && cpu.fma) return "Haswell";
  if (cpu.avx) return "Sandybridge";
  return "";
}

std::string kernels_to_use(std::string_view kernels, const CpuFeatures& cpu, bool user_chose) {
  const std::string best = best_kernels(cpu);
  const int level = kernel_level(kernels);
  if (user_chose || best.empty() || level < 0 || level >= kernel_level(best)) return "";
  return best;
}

template <class T>
bool gemm_agrees_with_loop(GemmFn<T> gemm) {
  struct Case {
    int64_t m, n, k;
  };
  // Small, odd, split by rows (flops above a panel's), and split along K.
  const Case cases[] = {{1, 1, 1}, {37, 41, 53}, {300, 70, 129}, {21, 19, 4100}};
  const double eps = std::numeric_limits<T>::epsilon();
  uint64_t seed = 12345;
  const auto next = [&] {  // uniform in [−1, 1), from a 64-bit LCG's high bits
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<T>(static_cast<double>(seed >> 11) / 4503599627370496.0 - 1.0);
  };
  for (const Case& s : cases)
    for (int flags = 0; flags < 4; ++flags) {
      const bool ta = flags & 1, tb = flags & 2;
      const T alpha = flags == 3 ? T(-0.5) : T(1), beta = flags >= 2 ? T(0.25) : T(0);
      std::vector<T> a(static_cast<std::size_t>(s.m * s.k)), b(static_cast<std::size_t>(s.k * s.n)),
          c(static_cast<std::size_t>(s.m * s.n));
      for (T& v : a) v = next();
      for (T& v : b) v = next();
      for (T& v : c) v = next();
      const std::vector<T> c0 = c;
      gemm(ta, tb, s.m, s.n, s.k, alpha, a.data(), ta ? s.m : s.k, b.data(), tb ? s.k : s.n, beta, c.data(), s.n);
      for (int64_t i = 0; i < s.m; ++i)
        for (int64_t j = 0; j < s.n; ++j) {
          double want = static_cast<double>(beta) * c0[i * s.n + j], magnitude = std::abs(want);
          for (int64_t l = 0; l < s.k; ++l) {
            const double x = ta ? a[l * s.m + i] : a[i * s.k + l], y = tb ? b[j * s.k + l] : b[l * s.n + j];
            want += static_cast<double>(alpha) * x * y;
            magnitude += std::abs(static_cast<double>(alpha) * x * y);
          }
          const double error = std::abs(static_cast<double>(c[i * s.n + j]) - want);
          if (!(error <= static_cast<double>(s.k + 2) * eps * magnitude)) return false;
        }
    }
  return true;
}

template bool gemm_agrees_with_loop<float>(GemmFn<float>);
template bool gemm_agrees_with_loop<double>(GemmFn<double>);

}  // namespace humble::blas

namespace humble {

BlasInfo blas_info() {
  BlasInfo info;
  info.vendor = "OpenBLAS";
  const std::string config = openblas_get_config();  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …"
  const std::size_t start = config.find(' ') + 1;
  info.version = config.substr(start, config.find(' ', start) - start);
  info.kernels = blas::current_kernels();
  info.threads = get_num_threads();
  if (const char* replaced = std::getenv("HUMBLE_BLAS_REPLACED")) {
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    if (coretype && blas::same_name(coretype, info.kernels)) info.replaced = replaced;
  }
  return info;
}

void run_on_best_blas_kernels(char** argv) {
  using namespace blas;
  run_openblas_on_one_thread();  // first thing in main: OpenBLAS's threads stop before they spin long
  if (const char* probe = std::getenv("HUMBLE_BLAS_PROBE")) {  // a probe run: check, report, stop
    const bool loaded = same_name(current_kernels(), probe);
    std::_Exit(loaded && gemm_agrees_with_loop<float>(gemm<float>) && gemm_agrees_with_loop<double>(gemm<double>) ? 0
                                                                                                                  : 1);
  }
  const std::string kernels = current_kernels();
  const std::string best = kernels_to_use(kernels, cpu_features(), user_chose_kernels());
  if (best.empty() || argv == nullptr || argv[0] == nullptr) return;
  kernels_reported = true;
  if (!probe_passes(argv, best)) {
    std::fprintf(stderr,
                 "humble: [blas] OpenBLAS runs its \"%s\" kernels on this CPU; its faster \"%s\" kernels did not "
                 "pass a GEMM check against a plain loop here, so the program stays on \"%s\".\n",
                 kernels.c_str(), best.c_str(), kernels.c_str());
    return;
  }
  std::vector<std::string> env = environment_with({"OPENBLAS_CORETYPE=" + best, "HUMBLE_BLAS_REPLACED=" + kernels});
  std::vector<char*> envp = pointers(env);
  std::fflush(nullptr);
  execve("/proc/self/exe", argv, envp.data());  // returns only on failure
  std::fprintf(stderr,
               "humble: [blas] OpenBLAS runs its \"%s\" kernels on this CPU; restarting on its faster \"%s\" "
               "kernels failed (%s), so the program stays on \"%s\": set OPENBLAS_CORETYPE=%s before it starts.\n",
               kernels.c_str(), best.c_str(), std::strerror(errno), kernels.c_str(), best.c_str());
}

}  // namespace humble
