// autograd/graph.hpp — the dynamic graph: grad mode, nodes, and recording an op.
//
// An op that wants gradients calls record(name, out, inputs, backward) after computing its
// output. When grad mode is on and some input requires grad, a Node is attached to the output:
// it holds the inputs' AutogradMeta (not their data) and a backward closure that maps the
// output's gradient to one gradient per input. Closures capture detached tensors, never the
// output itself (that would be a cycle). The engine (engine.cpp) runs nodes in reverse
// topological order, accumulates gradients, and frees each closure once it has run.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.hpp"

namespace humble {

using Tensors = std::vector<Tensor>;
// Given dL/d(output), returns dL/d(input) for every input, in order (undefined = no gradient).
using BackwardFn = std::function<Tensors(const Tensor& grad_output)>;

struct Node;

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;                    // accumulated for leaves (and non-leaves that retain_grad)
  std::shared_ptr<Node> grad_fn;  // the op that produced this tensor; null for leaves
  Shape shape;                    // of the tensor, to check incoming gradients
  Dtype dtype = Dtype::Float32;
};

struct Node {
  std::string name;
  std::vector<std::shared_ptr<AutogradMeta>> inputs;  // null where an input needs no gradient
  BackwardFn backward;                                // empty once run (unless the graph is retained)
  std::weak_ptr<AutogradMeta> output;                 // to fill .grad() when the output retains it

  Node();
  ~Node();  // unlinks the graph behind it iteratively: deep graphs never recurse
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  static int64_t live_count();  // nodes alive now, for graph-lifetime tests
};

// Grad mode is thread-local; NoGradGuard switches it off for its lifetime.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Attaches a node computing `backward` to `out` when grad mode is on and some input requires grad;
// returns `out`.
Tensor record(const char* name, Tensor out, const Tensors& inputs, BackwardFn backward);

}  // namespace humble
