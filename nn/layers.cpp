// nn/layers.cpp — Linear's initialisation and shape checks, Flatten, dropout's mask.
#include "layers.hpp"

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
