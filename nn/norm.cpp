// nn/norm.cpp — batch_norm and layer_norm from differentiable ops, and their layers.
#include "norm.hpp"

#include <cmath>
#include <numeric>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::nn {
namespace {

void check_vector(const char* op, const char* name, const Tensor& t, int64_t size) {
  if (t.defined() && t.shape() != Shape{size})
    throw ShapeError(str_cat("[", op, "] ", name, " is ", shape_str(t.shape()), ", expected (", size, ",)"));
}

// x must end in the dims of `normalized`.
void check_trailing(const char* op, const Tensor& x, const Shape& normalized) {
  const int64_t lead = x.dim() - static_cast<int64_t>(normalized.size());
  if (normalized.empty() || lead < 0 || !std::equal(normalized.begin(), normalized.end(), x.shape().begin() + lead)) {
    std::string expected = "(…";
    for (int64_t d : normalized) expected += str_cat(", ", d);
    throw ShapeError(str_cat("[", op, "] expected input ", expected, "), got ", shape_str(x.shape())));
  }
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  if (x.dim() < 2) throw ShapeError(str_cat("[batch_norm] expected input (N, C, …), got ", shape_str(x.shape())));
  const int64_t C = x.shape()[1], count = x.numel() / std::max<int64_t>(C, 1);
  check_vector("batch_norm", "running_mean", running_mean, C);
  check_vector("batch_norm", "running_var", running_var, C);
  check_vector("batch_norm", "weight", weight, C);
  check_vector("batch_norm", "bias", bias, C);
  const bool batch_stats = training || !running_mean.defined();
  if (batch_stats && count < 2)
    throw ValueError(
        str_cat("[batch_norm] needs more than one value per channel in training, got input ", shape_str(x.shape())));
  Shape stat_shape(x.dim(), 1);  // (1, C, 1, …)
  stat_shape[1] = C;
  std::vector<int64_t> dims(x.dim() - 1);
  std::iota(dims.begin() + 1, dims.end(), 2);  // every dim but 1: {0, 2, 3, …}
  Tensor centered, var;
  if (batch_stats) {
    const Tensor mu = mean(x, dims, true);
    centered = x - mu;
    var = mean(centered * centered, dims, true);  // biased
    if (training && running_mean.defined()) {
      NoGradGuard no_grad;
      Tensor unbiased = var.detach().reshape({C}) * (static_cast<double>(count) / static_cast<double>(count - 1));
      Tensor(running_mean).copy_(mu.detach().reshape({C}) * momentum + running_mean * (1 - momentum));
      Tensor(running_var).copy_(unbiased * momentum + running_var * (1 - momentum));
    }
  } else {
    // Running statistics come from a checkpoint or from training: a variance below 0 would be NaN here.
    const std::vector<double> variances = running_var.to_vector();
    for (int64_t c = 0; c < C; ++c)
      if (!(variances[c] >= 0) || !std::isfinite(variances[c]))
        throw ValueError(
            str_cat("[batch_norm] running_var[", c, "] = ", variances[c], "; expected a finite variance >= 0"));
    centered = x - running_mean.reshape(stat_shape);
    var = running_var.reshape(stat_shape);
  }
  Tensor out = centered / sqrt(var + eps);
  if (weight.defined()) out = out * weight.reshape(stat_shape);
  if (bias.defined()) out = out + bias.reshape(stat_shape);
  return out;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  check_trailing("layer_norm", x, normalized_shape);
  const int64_t k = static_cast<int64_t>(normalized_shape.size()), lead = x.dim() - k;
  for (const Tensor* t : {&weight, &bias})
    if (t->defined() && t->shape() != normalized_shape)
      throw ShapeError(str_cat("[layer_norm] weight and bias must be ", shape_str(normalized_shape), ", got ",
                               shape_str(t->shape())));
  std::vector<int64_t> dims(k);
  std::iota(dims.begin(), dims.end(), lead);
  const Tensor centered = x - mean(x, dims, true);
  Tensor out = centered / sqrt(mean(centered * centered, dims, true) + eps);
  if (weight.defined()) out = out * weight;
  if (bias.defined()) out = out + bias;
  return out;
}

BatchNorm::BatchNorm(const char* name, int64_t min_rank, int64_t max_rank, int64_t num_features, double eps,
                     double momentum, bool affine)
    : name_(name),
      min_rank_(min_rank),
      max_rank_(max_rank),
      num_features_(num_features),
      eps_(eps),
      momentum_(momentum) {
  if (num_features < 1) throw ValueError(str_cat("[", name, "] num_features must be >= 1, got ", num_features));
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    throw ValueError(
        str_cat("[", name, "] needs eps > 0 and momentum in [0, 1], got eps ", eps, ", momentum ", momentum));
  if (affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
  }
  running_mean = register_buffer("running_mean", zeros({num_features}));
  running_var = register_buffer("running_var", ones({num_features}));
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (x.dim() < min_rank_ || x.dim() > max_rank_ || x.shape()[1] != num_features_) {
    const char* tails[] = {"", "", ")", ", L)", ", H, W)"};
    std::string expected = str_cat("(N, ", num_features_, tails[min_rank_]);
    if (max_rank_ > min_rank_) expected += str_cat(" or (N, ", num_features_, tails[max_rank_]);
    throw ShapeError(str_cat("[", name_, "] expected input ", expected, ", got ", shape_str(x.shape())));
  }
  return batch_norm(x, running_mean, running_var, weight, bias, is_training(), momentum_, eps_);
}

std::string BatchNorm::repr() const {
  return str_cat(name_, "(", num_features_, ", eps=", eps_, ", momentum=", momentum_,
                 weight.defined() ? ")" : ", affine=false)");
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  if (normalized_shape_.empty() || !(eps > 0))
    throw ValueError(str_cat("[LayerNorm] needs a non-empty normalized_shape and eps > 0, got ",
                             shape_str(normalized_shape_), ", eps ", eps));
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_));
    bias = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  check_trailing("LayerNorm", x, normalized_shape_);
  return layer_norm(x, normalized_shape_, weight, bias, eps_);
}

std::string LayerNorm::repr() const {
  return str_cat("LayerNorm(", shape_str(normalized_shape_), ", eps=", eps_,
                 weight.defined() ? ")" : ", elementwise_affine=false)");
}

}  // namespace humble::nn
