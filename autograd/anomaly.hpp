// autograd/anomaly.hpp — anomaly mode: the first NaN or Inf an op produces throws, naming the op.
//
// While a DetectAnomalyGuard lives (thread-local, like NoGradGuard), record() checks every op's
// output and the engine checks every gradient an op's backward returns for its inputs. The first
// NaN or ±Inf throws AnomalyError naming the op, forward or backward, the element, and where the
// op was called: in forward the current stack, in backward the stack saved when its node was
// recorded (nodes recorded while the mode was off have none). Outputs that are meant to hold −inf
// (e.g. masked logits) throw too: the mode is for hunting the step where a run first goes bad.
// Without a guard, record() and the engine test one thread-local flag and do nothing else.
//
// Stacks are printed as function names where the binary exports its symbols (link executables
// with -rdynamic, CMake's ENABLE_EXPORTS), otherwise as `binary(+0xoffset)`, which
// `addr2line -Cfe binary 0xoffset` turns into a file and line.
#pragma once

#include <memory>
#include <vector>

#include "graph.hpp"

namespace humble {

class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

bool anomaly_enabled();

namespace detail {
// For record(): throws when `out` holds NaN/Inf; otherwise returns the stack of this call, for the
// node. (Inside a backward closure it checks nothing: the engine checks what the closure returns.)
std::shared_ptr<const NodeOrigin> check_output(const char* op, const Tensor& out, const Tensors& inputs);
// For the engine: node.backward(grad), then a check of every input gradient it returns.
Tensors checked_backward(const Node& node, const Tensor& grad);
}  // namespace detail

}  // namespace humble
