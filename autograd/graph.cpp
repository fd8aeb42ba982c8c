// autograd/graph.cpp — grad mode, node bookkeeping and iterative graph teardown.
#include "graph.hpp"

#include "../core/profile.hpp"
#include "anomaly.hpp"

namespace humble {
namespace {

thread_local bool grad_mode = true;
std::atomic<int64_t> live_nodes{0};

}  // namespace

bool grad_enabled() { return grad_mode; }
NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

Node::Node() { ++live_nodes; }

// Releasing the last handle on a long chain would destroy node → meta → node → … recursively.
// Instead, every node whose last owner is this teardown is moved onto an explicit stack.
Node::~Node() {
  std::vector<std::shared_ptr<Node>> orphans;
  const auto adopt_inputs = [&orphans](Node& node) {
    for (auto& meta : node.inputs)
      if (meta && meta.use_count() == 1 && meta->grad_fn && meta->grad_fn.use_count() == 1)
        orphans.push_back(std::move(meta->grad_fn));
    node.inputs.clear();
  };
  adopt_inputs(*this);
  while (!orphans.empty()) {
    std::shared_ptr<Node> node = std::move(orphans.back());
    orphans.pop_back();
    adopt_inputs(*node);
  }  // each orphan dies here with no inputs left
  --live_nodes;
}

int64_t Node::live_count() { return live_nodes.load(); }

Tensor record(const char* name, Tensor out, const Tensors& inputs, const Tensors& saved, SavedBackwardFn backward) {
  profile::forward_op(name);  // every op passes here once, with or without a graph
  std::shared_ptr<const NodeOrigin> origin = anomaly_enabled() ? detail::check_output(name, out, inputs) : nullptr;
  if (!grad_mode) return out;
  auto node = std::make_shared<Node>();
  bool any = false;
  for (const Tensor& input : inputs) {
    const bool tracked = input.defined() && input.requires_grad();
    node->inputs.push_back(tracked ? input.impl()->autograd : nullptr);
    any = any || tracked;
  }
  if (!any) return out;
  node->name = name;
  for (const Tensor& t : saved) {
    node->saved.push_back(t.defined() ? t.detach() : Tensor());
    node->saved_versions.push_back(t.defined() ? t.version() : 0);
  }
  node->backward = std::move(backward);
  node->origin = std::move(origin);
  auto meta = std::make_shared<AutogradMeta>();
  meta->requires_grad = true;
  meta->grad_fn = std::move(node);
  meta->shape = out.shape();
  meta->dtype = out.dtype();
  out.impl()->autograd = std::move(meta);
  return out;
}

Tensor record(const char* name, Tensor out, const Tensors& inputs, BackwardFn backward) {
  return record(name, std::move(out), inputs, {},
                [backward = std::move(backward)](const Tensor& g, const Tensors&) { return backward(g); });
}

}  // namespace humble
