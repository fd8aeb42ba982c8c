// autograd/graph.hpp — the dynamic graph: grad mode, nodes, and recording an op.
//
// An op that wants gradients calls record(name, out, inputs, saved, backward) after computing
// its output. When grad mode is on and some input requires grad, a Node is attached to the
// output: it holds the inputs' AutogradMeta (not their data), the tensors the backward reads
// (`saved`, detached, each with its storage's version at that moment) and a backward closure
// that maps the output's gradient and the saved tensors to one gradient per input. Closures take
// tensor values only through `saved` (never by capture, never the output's handle: a cycle), so
// that one check covers every op: before a node runs, the engine (engine.cpp) compares each
// saved tensor's version with the one recorded and throws, naming the op and the tensor, when an
// in-place write changed it since. The engine runs nodes in reverse topological order,
// accumulates gradients, and frees each closure and its saved tensors once it has run; a leaf's
// grad-ready hooks run as soon as the pass can add nothing more to its gradient.
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
// The same, also given the op's saved tensors in the order they were recorded.
using SavedBackwardFn = std::function<Tensors(const Tensor& grad_output, const Tensors& saved)>;

struct Node;
struct NodeOrigin;  // where a node was recorded, kept in anomaly mode only (autograd/anomaly.hpp)

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;                    // accumulated for leaves (and non-leaves that retain_grad)
  std::shared_ptr<Node> grad_fn;  // the op that produced this tensor; null for leaves
  Shape shape;                    // of the tensor, to check incoming gradients
  Dtype dtype = Dtype::Float32;
  std::vector<std::pair<int64_t, std::function<void()>>> grad_ready_hooks;  // leaves: (id, hook)
};

struct Node {
  std::string name;
  std::vector<std::shared_ptr<AutogradMeta>> inputs;  // null where an input needs no gradient
  Tensors saved;                                      // detached; what backward reads
  std::vector<uint64_t> saved_versions;               // each saved tensor's version when recorded
  SavedBackwardFn backward;                           // empty once run (unless the graph is retained)
  std::weak_ptr<AutogradMeta> output;                 // to fill .grad() when the output retains it
  std::shared_ptr<const NodeOrigin> origin;           // null unless recorded in anomaly mode

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

// Attaches a node to `out` when grad mode is on and some input requires grad; returns `out`.
// `saved` are the tensors (inputs, the output, or anything else a user could change) whose values
// backward reads.
Tensor record(const char* name, Tensor out, const Tensors& inputs, const Tensors& saved, SavedBackwardFn backward);
// For an op whose backward reads no tensor values (shapes and scalars only).
Tensor record(const char* name, Tensor out, const Tensors& inputs, BackwardFn backward);

// Runs `hook` once in every backward pass that reaches the leaf `leaf` (which must require grad), as
// soon as no node left in that pass can add to leaf.grad(): .grad() then holds its final value for
// the pass (as it was before, when no gradient arrived). Hooks run on the thread that called
// backward(), leaf by leaf in the order they finish; an exception from one ends the pass. This is
// how distributed::DataParallel starts reducing gradients while the rest of backward still runs.
// Returns an id for remove_grad_ready_hook.
int64_t add_grad_ready_hook(const Tensor& leaf, std::function<void()> hook);
void remove_grad_ready_hook(const Tensor& leaf, int64_t id);  // an unknown id is ignored

}  // namespace humble
