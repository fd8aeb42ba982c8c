// tests/blas_probe — a humble program for tests/blas_probe/check_selection.cmake: with --select it
// calls run_on_best_blas_kernels first, as humble's programs do; then it runs one GEMM (a library
// user's first GEMM, where the warning about slow kernels would appear) and prints
//   kernels=<in use> best=<best for this CPU> replaced=<what OpenBLAS had picked, if moved>
#include <cstdio>
#include <cstring>
#include <humble/humble.hpp>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--select") == 0) humble::run_on_best_blas_kernels(argv);
  humble::Generator gen(0);
  const humble::Tensor product = humble::matmul(humble::randn({64, 64}, gen), humble::randn({64, 64}, gen));
  const humble::BlasInfo info = humble::blas_info();
  std::printf("kernels=%s best=%s replaced=%s sum=%s\n", info.kernels.c_str(),
              humble::blas::best_kernels(humble::blas::cpu_features()).c_str(), info.replaced.c_str(),
              std::isfinite(humble::sum(product).item()) ? "finite" : "not finite");
  return 0;
}
