// nn/layers.hpp — Linear, Flatten, the activations and Dropout.
//
// Legend: N batch, D_in/D_out features, "…" any leading dims.
// Linear keeps PyTorch's default initialisation: weight ~ U(±1/√D_in) (kaiming_uniform with
// a = √5: gain·√(3/fan_in) = √(1/3)·√(3/D_in)), bias ~ U(±1/√D_in); its bias add is fused into the
// GEMM (humble::linear). Dropout zeroes each element with probability p in training and scales
// the survivors by 1/(1 − p) ("inverted" dropout), so eval() is the identity.
#pragma once

#include <cmath>
#include <optional>

#include "../autograd/ops.hpp"
#include "../core/generator.hpp"
#include "module.hpp"

namespace humble::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;  // (…, D_in) → (…, D_out)
  std::string repr() const override;

  Tensor weight;  // (D_out, D_in)
  Tensor bias;    // (D_out); undefined without bias

 private:
  int64_t in_features_, out_features_;
};

// (N, d1, d2, …) → (N, d1·d2·…): dims from start_dim on become one.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1) : start_dim_(start_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string repr() const override { return "Flatten"; }

 private:
  int64_t start_dim_;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string repr() const override { return "ReLU"; }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {}
  Tensor forward(const Tensor& x) override { return leaky_relu(x, slope_); }
  std::string repr() const override;

 private:
  double slope_;
};

class GELU : public Module {  // exact: x·Φ(x)
 public:
  Tensor forward(const Tensor& x) override { return gelu(x); }
  std::string repr() const override { return "GELU"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
  std::string repr() const override { return "Tanh"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
  std::string repr() const override { return "Sigmoid"; }
};

// embedding: out[…, :] = weight[indices[…], :] for Int64 indices of any shape (each in [0, V));
// weight (V, D) → out (indices' shape…, D). The gradient of weight row i is the sum of g over the
// positions that picked i, except row padding_idx (when given), whose gradient is 0.
Tensor embedding(const Tensor& indices, const Tensor& weight, std::optional<int64_t> padding_idx = {});

// A lookup table of V vectors of size D, initialised N(0, 1) like PyTorch's, with the row
// padding_idx (negative: counted from the end) zeroed and kept out of training.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = {},
            Generator& gen = default_generator());
  Tensor forward(const Tensor& indices) override;  // Int64 (…) → (…, D)
  std::string repr() const override;

  Tensor weight;  // (V, D)

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;  // in [0, V)
};

// Functional dropout: the mask is drawn from `gen` in row-major order (one uniform per element).
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());

class Dropout : public Module {
 public:
  // `gen` must outlive the layer; checkpoints save its state (training::Checkpoint::generator).
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training(), *gen_); }
  std::string repr() const override;

 private:
  double p_;
  Generator* gen_;
};

}  // namespace humble::nn
