// tests/distributed/main.cpp — doctest's runner for the MPI tests, one Context for the whole run.
//
// Every rank runs every test case in the same order (collectives inside them pair up); only rank 0
// reports passing cases. Run under mpirun with any number of ranks, or alone (a world of one).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "common.hpp"

namespace {
humble::distributed::Context* the_context = nullptr;
}

const humble::distributed::Context& context() { return *the_context; }

int main(int argc, char** argv) {
  humble::distributed::Context context;
  the_context = &context;
  doctest::Context runner(argc, argv);
  if (!context.is_root()) runner.setOption("minimal", true);  // other ranks report failures only
  return runner.run();
}
