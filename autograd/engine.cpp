// autograd/engine.cpp — reverse-mode sweep, and the Tensor methods that touch gradients.
//
// backward(root): (1) collect every node reachable from the root with an explicit stack and
// count, for each, how many edges point to it; (2) pop nodes whose consumers have all delivered
// (Kahn's algorithm), run their backward on the summed output gradient, and pass each input
// gradient on — to the producing node, or into .grad() of a leaf. Gradients accumulate (+=), so
// a tensor used twice gets both contributions. The order vector owns every node while the sweep
// runs; unless retain_graph, each node's closure and edges are released right after it runs.
// Leaves with grad-ready hooks also count their incoming edges in (1); the hooks run in (2) when
// the last of those edges has delivered.
#include <unordered_map>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/profile.hpp"
#include "anomaly.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& meta = t.impl()->autograd;
  if (!meta) {
    meta = std::make_shared<AutogradMeta>();
    meta->shape = t.shape();
    meta->dtype = t.dtype();
  }
  return *meta;
}

// Sums into a pending gradient; the first one is shared, not copied (nothing writes to it).
void accumulate(Tensor& slot, const Tensor& grad) {
  NoGradGuard no_grad;
  slot = slot.defined() ? slot + grad : grad.detach();
}

// True when nothing but `t` refers to its data, which is exactly its storage.
bool owns_its_storage(const Tensor& t) {
  const auto& impl = t.impl();
  return impl.use_count() == 1 && impl->storage.use_count() == 1 && impl->offset == 0 && t.is_contiguous() &&
         impl->storage->bytes() == static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
}

// Sums into .grad(). Optimizers update .grad() in place, so a first gradient that anything else
// may hold is copied; one that only the engine holds (a fresh tensor from the node that made it)
// becomes .grad() as it is.
void accumulate_into_leaf(Tensor& slot, Tensor grad) {
  NoGradGuard no_grad;
  if (slot.defined()) {
    slot = slot + grad;
  } else {
    slot = owns_its_storage(grad) ? grad.detach() : grad.detach().clone();
  }
}

void check_gradient(const Node& node, std::size_t i, const AutogradMeta& input, const Tensor& grad) {
  if (grad.shape() != input.shape || grad.dtype() != input.dtype)
    throw_mismatch(grad.shape(), input.shape,
                   str_cat("[backward] ", node.name, " returned a gradient of ", shape_str(grad.shape()), " ",
                           dtype_name(grad.dtype()), " for input ", i, " of ", shape_str(input.shape), " ",
                           dtype_name(input.dtype)));
}

// A saved tensor changed in place since its op recorded it would give a wrong gradient.
void check_saved(const Node& node) {
  for (std::size_t i = 0; i < node.saved.size(); ++i) {
    const Tensor& t = node.saved[i];
    if (t.defined() && t.version() != node.saved_versions[i])
      throw ValueError(str_cat("[backward] a ", shape_str(t.shape()), " ", dtype_name(t.dtype()), " tensor that ",
                               node.name, " saved for its gradient was changed in place afterwards (version ",
                               t.version(), ", saved at ", node.saved_versions[i], "); change a clone() instead, or ",
                               "make the change before ", node.name, " uses the tensor"));
  }
}

// The one place every node's backward runs: dL/d(inputs) from dL/d(output) and the saved tensors.
Tensors run_node(Node& node, const Tensor& grad) {
  const profile::Frame frame(node.name, ".backward");
  return anomaly_enabled() ? detail::checked_backward(node, grad) : node.backward(grad, node.saved);
}

// A copy of the list, so that a hook may add or remove hooks.
void run_grad_ready_hooks(const AutogradMeta& leaf) {
  const auto hooks = leaf.grad_ready_hooks;
  for (const auto& [id, hook] : hooks) hook();
}

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  const profile::Frame frame("autograd.engine");
  AutogradMeta& root_meta = *root.impl()->autograd;
  if (!root_meta.grad_fn) {  // a leaf: its gradient is the seed itself
    accumulate_into_leaf(root_meta.grad, seed);
    run_grad_ready_hooks(root_meta);
    return;
  }
  // (1) Reachable nodes and their consumer counts; the edges into each hooked leaf.
  std::vector<std::shared_ptr<Node>> nodes{root_meta.grad_fn};
  std::unordered_map<Node*, int64_t> consumers{{root_meta.grad_fn.get(), 0}};
  std::unordered_map<const AutogradMeta*, int64_t> hooked_leaf_edges;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    for (const auto& input : nodes[i]->inputs) {
      if (input && input->grad_fn && consumers[input->grad_fn.get()]++ == 0) nodes.push_back(input->grad_fn);
      if (input && !input->grad_fn && !input->grad_ready_hooks.empty()) ++hooked_leaf_edges[input.get()];
    }

  // (2) Kahn's sweep from the root.
  std::unordered_map<Node*, Tensor> pending{{root_meta.grad_fn.get(), seed}};
  std::vector<std::shared_ptr<Node>> ready{root_meta.grad_fn};
  NoGradGuard no_grad;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor grad = std::move(pending[node.get()]);
    if (grad.defined()) grad = contiguous_values(grad);  // closures may read it as dense memory
    pending.erase(node.get());
    // A node no gradient reached (its consumers returned none) still runs, as a no-op, so that the
    // nodes behind it learn that this consumer has delivered.
    if (grad.defined() && !node->backward)
      throw ValueError(
          str_cat("[backward] the graph through ", node->name,
                  " was already freed by an earlier backward; pass retain_graph = true to the first call"));
    if (auto out = node->output.lock(); grad.defined() && out && out->retains_grad)
      accumulate_into_leaf(out->grad, grad);
    if (grad.defined()) check_saved(*node);
    Tensors input_grads = grad.defined() ? run_node(*node, grad) : Tensors{};
    for (std::size_t i = 0; i < node->inputs.size(); ++i) {
      const auto& input = node->inputs[i];
      if (!input) continue;
      const bool has_grad = i < input_grads.size() && input_grads[i].defined();
      if (has_grad) check_gradient(*node, i, *input, input_grads[i]);
      if (!input->grad_fn) {
        if (has_grad) accumulate_into_leaf(input->grad, std::move(input_grads[i]));
        const auto edges = hooked_leaf_edges.find(input.get());
        if (edges != hooked_leaf_edges.end() && --edges->second == 0) run_grad_ready_hooks(*input);
        continue;
      }
      Node* producer = input->grad_fn.get();
      if (has_grad) accumulate(pending[producer], input_grads[i]);
      if (--consumers[producer] == 0) ready.push_back(input->grad_fn);
    }
    if (!retain_graph) {
      node->backward = nullptr;
      node->inputs.clear();
      node->saved.clear();
    }
  }
}

}  // namespace

bool Tensor::requires_grad() const { return defined() && impl_->autograd && impl_->autograd->requires_grad; }

bool Tensor::is_leaf() const { return !checked().autograd || !impl_->autograd->grad_fn; }

Tensor& Tensor::requires_grad_(bool on) {
  if (!is_leaf())
    throw ValueError("[requires_grad_] only leaves can change requires_grad; use detach() on a computed tensor");
  if (on && !is_floating_point())
    throw ValueError(str_cat("[requires_grad_] only float tensors can require gradients, got ", dtype_name(dtype())));
  ensure_meta(*this).requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return checked().autograd ? impl_->autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& grad) const {
  checked();
  if (grad.defined() && (grad.shape() != shape() || grad.dtype() != dtype()))
    throw_mismatch(grad.shape(), shape(),
                   str_cat("[set_grad] gradient ", shape_str(grad.shape()), " ", dtype_name(grad.dtype()),
                           " does not match tensor ", shape_str(shape()), " ", dtype_name(dtype())));
  ensure_meta(*this).grad = grad;
}

int64_t add_grad_ready_hook(const Tensor& leaf, std::function<void()> hook) {
  if (!leaf.requires_grad() || !leaf.is_leaf())
    throw ValueError("[add_grad_ready_hook] the tensor must be a leaf that requires grad");
  static std::atomic<int64_t> next_id{0};
  const int64_t id = next_id++;
  ensure_meta(leaf).grad_ready_hooks.emplace_back(id, std::move(hook));
  return id;
}

void remove_grad_ready_hook(const Tensor& leaf, int64_t id) {
  if (!leaf.defined() || !leaf.impl()->autograd) return;
  auto& hooks = leaf.impl()->autograd->grad_ready_hooks;
  std::erase_if(hooks, [id](const auto& entry) { return entry.first == id; });
}

void Tensor::retain_grad() const {
  if (!requires_grad()) throw ValueError("[retain_grad] the tensor does not require grad");
  AutogradMeta& meta = *impl_->autograd;
  meta.retains_grad = true;
  if (meta.grad_fn) meta.grad_fn->output = impl_->autograd;
}

void Tensor::backward(bool retain_graph) const {
  if (numel() != 1)
    throw ShapeError(
        str_cat("[backward] needs a one-element tensor (or an explicit gradient), got shape ", shape_str(shape())));
  backward(ones(shape(), dtype()), retain_graph);
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  if (!requires_grad()) throw ValueError("[backward] the tensor does not require grad and has no graph");
  if (grad_output.shape() != shape() || grad_output.dtype() != dtype())
    throw_mismatch(
        grad_output.shape(), shape(),
        str_cat("[backward] grad_output is ", shape_str(grad_output.shape()), " ", dtype_name(grad_output.dtype()),
                " but the tensor is ", shape_str(shape()), " ", dtype_name(dtype())));
  run_backward(*this, grad_output, retain_graph);
}

}  // namespace humble
