// nn/norm.hpp — batch normalisation and layer normalisation: functional forms and layers.
//
// Legend: N batch, C channels (dim 1), "…" trailing dims (L, or H×W).
// batch_norm normalises each channel over every dim but 1: x̂ = (x − μ_C) / √(σ²_C + ε),
// out = γ ⊙ x̂ + β. In training μ, σ² are the batch's (σ² biased) and the running statistics move
// by running ← (1 − m)·running + m·batch, with the *unbiased* σ² (n/(n − 1)), as PyTorch does;
// in eval the running statistics are used instead. layer_norm normalises over the trailing
// normalized_shape dims of each sample (biased σ²). Both are compositions of differentiable ops,
// so their backward comes from autograd. References: Ioffe & Szegedy (2015), Ba et al. (2016).
#pragma once

#include "module.hpp"

namespace humble::nn {

// x (N, C, …); running_mean/running_var (C) may be undefined (then training statistics are used
// in both modes); weight/bias (C) may be undefined (no affine step).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);
// x (…, normalized_shape); weight/bias of normalized_shape or undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {}, const Tensor& bias = {},
                  double eps = 1e-5);

// BatchNorm1d and BatchNorm2d: γ = 1, β = 0, running_mean = 0, running_var = 1 at construction.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

  Tensor weight, bias;               // (C), parameters; undefined without affine
  Tensor running_mean, running_var;  // (C), buffers

 protected:
  BatchNorm(const char* name, int64_t min_rank, int64_t max_rank, int64_t num_features, double eps, double momentum,
            bool affine);

 private:
  const char* name_;
  int64_t min_rank_, max_rank_, num_features_;
  double eps_, momentum_;
};

class BatchNorm1d : public BatchNorm {  // (N, C) or (N, C, L)
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm("BatchNorm1d", 2, 3, num_features, eps, momentum, affine) {}
};

class BatchNorm2d : public BatchNorm {  // (N, C, H, W)
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true)
      : BatchNorm("BatchNorm2d", 4, 4, num_features, eps, momentum, affine) {}
};

// γ = 1, β = 0 of normalized_shape at construction.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

  Tensor weight, bias;  // (normalized_shape); undefined without elementwise_affine

 private:
  Shape normalized_shape_;
  double eps_;
};

}  // namespace humble::nn
