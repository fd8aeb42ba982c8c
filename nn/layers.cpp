// nn/layers.cpp — Linear's initialisation and shape checks, Flatten, dropout's mask.
#include "layers.hpp"

#include <cstring>

#include "../autograd/graph.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "init.hpp"

namespace humble::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features < 1 || out_features < 1)
    throw ValueError(
        str_cat("[Linear] in_features and out_features must be >= 1, got ", in_features, ", ", out_features));
  weight = register_parameter("weight", empty({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", empty({out_features}));
  init::default_linear(weight, this->bias, gen);
}

// out = x @ weightᵀ + bias, leading dims folded into the rows of one GEMM
Tensor Linear::forward(const Tensor& x) {
  if (x.dim() < 1 || x.shape().back() != in_features_)
    throw ShapeError(str_cat("[Linear] input ", shape_str(x.shape()), " does not match in_features ", in_features_,
                             ": expected (…, ", in_features_, ")"));
  if (x.dim() == 2) return linear(x, weight, bias);
  Shape out_shape = x.shape();
  out_shape.back() = out_features_;
  return linear(x.reshape({-1, in_features_}), weight, bias).reshape(out_shape);
}

std::string LeakyReLU::repr() const { return str_cat("LeakyReLU(negative_slope=", slope_, ")"); }

// embedding: out[p] = weight[indices[p]];  dweight[i] = Σ_{p : indices[p] = i} g[p] (0 for padding_idx)
Tensor embedding(const Tensor& indices_in, const Tensor& weight_in, std::optional<int64_t> padding_idx) {
  if (indices_in.dtype() != Dtype::Int64)
    throw ValueError(str_cat("[embedding] indices must be int64, got ", dtype_name(indices_in.dtype())));
  if (weight_in.dim() != 2)
    throw ShapeError(str_cat("[embedding] weight must be (V, D), got ", shape_str(weight_in.shape())));
  const Tensor weight = weight_in.contiguous();
  const int64_t V = weight.shape()[0], D = weight.shape()[1];
  const std::vector<int64_t> idx = indices_in.to_vector<int64_t>();
  for (std::size_t p = 0; p < idx.size(); ++p)
    if (idx[p] < 0 || idx[p] >= V)
      throw ValueError(str_cat("[embedding] index ", idx[p], " at position ", p, " is out of range [0, ", V, ")"));
  Shape shape = indices_in.shape();
  shape.push_back(D);
  Tensor out = empty(shape, weight.dtype());  // (…, D)
  const auto row_bytes = static_cast<std::size_t>(D) * dtype_size(weight.dtype());
  for (std::size_t p = 0; p < idx.size(); ++p)
    std::memcpy(static_cast<std::byte*>(out.raw_data()) + p * row_bytes,
                static_cast<const std::byte*>(weight.raw_data()) + static_cast<std::size_t>(idx[p]) * row_bytes,
                row_bytes);
  // The closure keeps the indices' values: a later change to the index tensor changes nothing here.
  return record("embedding", out, {weight}, [idx, V, D, padding_idx](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), "embedding", [&]<class T>() {
      Tensor dw = zeros({V, D}, g.dtype());
      T* pdw = dw.data<T>();
      const T* pg = g.data<T>();
      for (std::size_t p = 0; p < idx.size(); ++p)
        if (idx[p] != padding_idx)
          for (int64_t d = 0; d < D; ++d) pdw[idx[p] * D + d] += pg[static_cast<int64_t>(p) * D + d];
      return dw;
    })};
  });
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx, Generator& gen)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw ValueError(str_cat("[Embedding] num_embeddings and embedding_dim must be >= 1, got ", num_embeddings, ", ",
                             embedding_dim));
  if (padding_idx) {
    if (*padding_idx < -num_embeddings || *padding_idx >= num_embeddings)
      throw ValueError(str_cat("[Embedding] padding_idx ", *padding_idx, " is out of range for ", num_embeddings,
                               " embeddings (expected ", -num_embeddings, " to ", num_embeddings - 1, ")"));
    padding_idx_ = *padding_idx < 0 ? *padding_idx + num_embeddings : *padding_idx;
  }
  weight = register_parameter("weight", randn({num_embeddings, embedding_dim}, gen));
  if (padding_idx_) {
    NoGradGuard no_grad;
    weight[*padding_idx_].zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) { return embedding(indices, weight, padding_idx_); }

std::string Embedding::repr() const {
  return str_cat("Embedding(", num_embeddings_, ", ", embedding_dim_,
                 padding_idx_ ? str_cat(", padding_idx=", *padding_idx_) : std::string(), ")");
}

std::string Linear::repr() const {
  return str_cat("Linear(", in_features_, ", ", out_features_, bias.defined() ? ")" : ", bias=false)");
}

Tensor Flatten::forward(const Tensor& x) {
  if (x.dim() <= start_dim_)
    throw ShapeError(str_cat("[Flatten] input ", shape_str(x.shape()), " has no dim ", start_dim_, ": expected rank > ",
                             start_dim_));
  return x.flatten(start_dim_);
}

// dropout: out = x ⊙ m / (1 − p), m_i ~ Bernoulli(1 − p);  dx = g ⊙ m / (1 − p) (mul's backward)
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(str_cat("[dropout] p must lie in [0, 1], got ", p));
  if (!training || p == 0) return x;
  const double scale = p == 1 ? 0.0 : 1.0 / (1.0 - p);
  Tensor mask = empty(x.shape(), x.dtype());  // same shape as x
  dispatch_float(x.dtype(), "dropout", [&]<class T>() {
    T* m = mask.data<T>();
    for (int64_t i = 0; i < mask.numel(); ++i) m[i] = gen.uniform() >= p ? static_cast<T>(scale) : T{0};
  });
  return x * mask;
}

Dropout::Dropout(double p, Generator& gen) : p_(p), gen_(&gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(str_cat("[Dropout] p must lie in [0, 1], got ", p));
}

std::string Dropout::repr() const { return str_cat("Dropout(p=", p_, ")"); }

}  // namespace humble::nn
