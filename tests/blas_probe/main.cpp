// tests/blas_probe — a humble program for tests/blas_probe/check_selection.cmake: with --select it
// calls run_on_best_blas_kernels first, as humble's programs do; then it runs one GEMM (a library
// user's first GEMM, where the warning about slow kernels would appear) and prints
//   kernels=<in use> best=<best for this CPU> replaced=<what OpenBLAS had picked, if moved>
//   os_threads=<threads the process runs after that GEMM>
// With --one-thread it first calls set_num_threads(1), so that oneTBB starts no worker: the process
// should then run on its main thread alone (OpenBLAS's own threads stopped).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <humble/humble.hpp>
#include <iterator>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--select") == 0) humble::run_on_best_blas_kernels(argv);
  if (argc > 1 && std::strcmp(argv[1], "--one-thread") == 0) humble::set_num_threads(1);
  humble::Generator gen(0);
  const humble::Tensor product = humble::matmul(humble::randn({64, 64}, gen), humble::randn({64, 64}, gen));
  const humble::BlasInfo info = humble::blas_info();
  const auto os_threads =
      std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator());
  std::printf("kernels=%s best=%s replaced=%s sum=%s os_threads=%ld\n", info.kernels.c_str(),
              humble::blas::best_kernels(humble::blas::cpu_features()).c_str(), info.replaced.c_str(),
              std::isfinite(humble::sum(product).item()) ? "finite" : "not finite", static_cast<long>(os_threads));
  return 0;
}
