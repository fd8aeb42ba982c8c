// autograd/gradcheck.hpp — checks an op's analytic gradient against central differences.
//
// The function's output is projected onto a fixed random direction r, L = Σ out ⊙ r, so the
// whole vector-Jacobian product is exercised; each input element x_i is nudged by ±h and
// (L(x + h) − L(x − h)) / 2h is compared with the analytic dL/dx_i. Use Float64 inputs.
// The inputs themselves are differentiated and nudged (in place, under no-grad, each restored
// bit for bit), never copies: so f may read them from anywhere — passing a module's parameters()
// as inputs and calling the module inside f checks the module's own gradients (nn::gradcheck
// does exactly that). An input's .grad() is put back as it was.
#pragma once

#include <functional>
#include <string>

#include "graph.hpp"

namespace humble {

struct GradcheckOptions {
  double step = 1e-6;  // h
  double atol = 1e-7;
  double rtol = 1e-5;    // pass when |analytic − numeric| <= atol + rtol·|numeric|
  uint64_t seed = 1234;  // of the projection direction r
};

struct GradcheckResult {
  bool passed = true;
  std::string message;  // on failure: the input, the element, both values
};

// Every input that requires grad is checked: it must be a contiguous float64 leaf, and at least one
// input must require grad (throws ValueError otherwise: a check of nothing would pass vacuously).
GradcheckResult gradcheck(const std::function<Tensor(const Tensors&)>& f, const Tensors& inputs,
                          const GradcheckOptions& options = {});

}  // namespace humble
