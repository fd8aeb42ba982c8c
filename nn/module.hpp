// nn/module.hpp — the base of every layer and model, the containers Sequential and Identity, and summary().
//
// A Module owns named parameters (trainable leaves), named buffers (state that is saved but not
// trained, e.g. BatchNorm's running statistics) and named submodules, all registered by name at
// construction, so paths come for free: "fc1.weight", and "0.weight", "1.bias", … inside a
// Sequential. train()/eval() switch layer behaviour only (dropout, batch norm), never grad mode.
// Modules hold tensor handles: a copied module shares its parameters, and nothing here ever
// rebinds a registered tensor (loading and optimizers write into its storage).
// Reference: the libtorch C++ frontend's torch::nn::Module (register_parameter/register_module).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../autograd/gradcheck.hpp"
#include "../core/named_tensors.hpp"
#include "../core/tensor.hpp"

namespace humble::nn {

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& input) = 0;
  Tensor operator()(const Tensor& input);  // forward(input); noted by summary() while it traces

  std::vector<Tensor> parameters() const;
  NamedTensors named_parameters() const;  // dotted paths, registration order, depth first
  int64_t num_parameters() const;         // elements of every parameter together
  std::vector<Tensor> buffers() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  // Every submodule (not this one), depth first in registration order, by dotted path: "features.0".
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules() const;

  void train(bool on = true);  // this module and every submodule
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();      // every parameter's .grad() becomes undefined
  void to(Dtype dtype);  // converts float parameters and buffers in place; handles stay valid, grads are cleared

  // Parameters then buffers, by dotted name (what nn::save writes).
  NamedTensors state_dict() const;
  // Throws ValueError/ShapeError naming the first missing, unexpected, wrongly typed or shaped entry,
  // or a parameter that holds NaN or ±inf.
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);  // checks everything first, then copies in place

  virtual std::string repr() const;  // one line with the options, e.g. "Linear(784, 256)"

 protected:
  // Registers `value` as a trainable leaf (requires_grad is set) and returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor value);
  Tensor register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void check_name(const std::string& name) const;
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, bool want_buffers, NamedTensors& out) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// The tree of modules, as PyTorch prints it: each module's repr(), its children indented under it
// by name, "Mlp(\n  (fc1): Linear(784, 256)\n  (fc2): Linear(256, 10)\n)".
std::ostream& operator<<(std::ostream& os, const Module& module);

// Runs its children in order; they are named "0", "1", …
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  void push_back(std::shared_ptr<Module> module);
  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return layers_.at(i); }
  // Layer `index` (negatives count from the end) as an M: seq.at<nn::Linear>(0)->weight. Throws
  // ShapeError for an index out of range and ValueError when the layer is not an M.
  template <class M = Module>
  std::shared_ptr<M> at(int64_t index) const {
    auto typed = std::dynamic_pointer_cast<M>(layers_[checked_index(index)]);
    if (!typed) throw_wrong_type(index, typeid(M).name());
    return typed;
  }
  Tensor forward(const Tensor& x) override;
  std::string repr() const override { return "Sequential"; }

 private:
  std::size_t checked_index(int64_t index) const;
  [[noreturn]] void throw_wrong_type(int64_t index, const char* mangled) const;
  std::vector<std::shared_ptr<Module>> layers_;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string repr() const override { return "Identity"; }
};

// A table of every submodule called during one forward pass on zeros of `input_shape`, in call
// order: path, repr, output shape and own parameter count; then the totals. Without side effects:
// the pass runs in eval mode under no-grad, and every module's mode, every buffer and the default
// generator's state are put back as they were (even when the forward throws).
std::string summary(Module& module, const Shape& input_shape, Dtype dtype = Dtype::Float32);

// gradcheck (autograd/gradcheck.hpp) of module(input) with respect to the input (when it requires
// grad) and every parameter, in place; buffers are restored afterwards. The module must be
// float64 (Module::to) and deterministic in its current mode (dropout: use eval()).
GradcheckResult gradcheck(Module& module, const Tensor& input, const GradcheckOptions& options = {});

}  // namespace humble::nn
