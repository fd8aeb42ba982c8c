// tests/main.cpp — doctest's runner for every tests/test_*.cpp, on OpenBLAS's best kernels for
// this CPU (humble::run_on_best_blas_kernels) as every program of humble's.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <humble/humble.hpp>

int main(int argc, char** argv) {
  humble::run_on_best_blas_kernels(argv);
  return doctest::Context(argc, argv).run();
}
