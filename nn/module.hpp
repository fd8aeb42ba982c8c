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
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  std::vector<Tensor> buffers() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }

  void train(bool on = true);  // this module and every submodule
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();      // every parameter's .grad() becomes undefined
  void to(Dtype dtype);  // converts float parameters and buffers in place; handles stay valid, grads are cleared

  // Parameters then buffers, by dotted name (what nn::save writes).
  NamedTensors state_dict() const;
  // Throws ValueError/ShapeError naming the first missing, unexpected, wrongly typed or shaped entry.
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);  // checks everything first, then copies in place

  virtual std::string repr() const;  // one line for summary(), e.g. "Linear(784, 256)"

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

// Runs its children in order; they are named "0", "1", …
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  void push_back(std::shared_ptr<Module> module);
  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return layers_.at(i); }
  Tensor forward(const Tensor& x) override;
  std::string repr() const override { return "Sequential"; }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string repr() const override { return "Identity"; }
};

// A table of every submodule called during one forward pass on zeros of `input_shape` (run under
// no-grad), in call order: path, repr, output shape and own parameter count; then the totals.
std::string summary(Module& module, const Shape& input_shape, Dtype dtype = Dtype::Float32);

}  // namespace humble::nn
