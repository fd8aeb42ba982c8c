// optim/rmsprop.hpp — RMSprop, optionally centred and with momentum.
//
// PyTorch's torch.optim.RMSprop, per parameter p with gradient g (α smoothing, μ momentum, λ decay):
//   g ← g + λ·p
//   s ← α·s + (1 − α)·g²
//   centred: a ← a + (1 − α)·(g − a), then σ = √(s − a²) + ε;  otherwise σ = √s + ε
//   μ > 0: b ← μ·b + g / σ, p ← p − lr·b;  otherwise p ← p − lr·g / σ
// Reference: Hinton, Coursera lecture 6e (2012); Graves (2013) for the centred form.
#pragma once

#include "optimizer.hpp"

namespace humble::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options = {});

 private:
  void update(Tensor& p, const Tensor& g, State& s, const Group& group) override;
  RMSpropOptions options_;
};

}  // namespace humble::optim
