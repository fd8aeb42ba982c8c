// examples/mnist/parallel_alone.cpp — the job of one process, for a build without MPI.
#include <cstdio>

#include "parallel.hpp"

namespace study {

int run_job(const std::function<int(Job&)>& body) {
  Job job;
  try {
    return body(job);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_smoothing: %s\n", e.what());
    return 1;
  }
}

}  // namespace study
