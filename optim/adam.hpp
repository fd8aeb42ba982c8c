// optim/adam.hpp — Adam and AdamW (decoupled weight decay).
//
// PyTorch's torch.optim.Adam / AdamW, per parameter p with gradient g at step t (β₁, β₂, ε, λ):
//   Adam:  g ← g + λ·p                    AdamW:  p ← p·(1 − lr·λ)
//   m ← m + (1 − β₁)·(g − m)              (= β₁·m + (1 − β₁)·g, as torch's lerp)
//   v ← β₂·v + (1 − β₂)·g²
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)      (ε outside the bias-corrected root)
// References: Kingma & Ba (2015); Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019).
#pragma once

#include <utility>

#include "optimizer.hpp"

namespace humble::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = {});
  Adam(std::vector<ParamGroup> groups, AdamOptions options = {});

 protected:
  Adam(const char* name, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled);

 private:
  void update(Tensor& p, const Tensor& g, State& s, const Group& group) override;
  AdamOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});
};

}  // namespace humble::optim
