// optim/sgd.hpp — stochastic gradient descent with momentum, dampening, Nesterov and weight decay.
//
// PyTorch's torch.optim.SGD, per parameter p with gradient g (μ momentum, τ dampening, λ decay):
//   d = g + λ·p
//   b = d on the first step, else μ·b + (1 − τ)·d          (only when μ ≠ 0)
//   d = d + μ·b (Nesterov) or d = b                         (only when μ ≠ 0)
//   p ← p − lr·d
// Nesterov needs μ > 0 and τ = 0 (Sutskever et al., 2013, in PyTorch's formulation).
#pragma once

#include "optimizer.hpp"

namespace humble::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = {});
  SGD(std::vector<ParamGroup> groups, SGDOptions options = {});

 private:
  void update(Tensor& p, const Tensor& g, State& s, const Group& group) override;
  SGDOptions options_;
};

}  // namespace humble::optim
