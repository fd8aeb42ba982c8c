// losses/family.cpp — the loss family, composed from stable autograd ops (formulas in the header).
#include "family.hpp"

#include <cmath>

#include "../autograd/ops.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::losses {
namespace {

void check_same(const char* op, const char* name, const Tensor& input, const Tensor& other) {
  if (!input.is_floating_point())
    throw ValueError(str_cat("[", op, "] input must be float32 or float64, got ", dtype_name(input.dtype())));
  if (other.shape() != input.shape())
    throw ShapeError(
        str_cat("[", op, "] ", name, " is ", shape_str(other.shape()), " but input is ", shape_str(input.shape())));
  if (other.dtype() != input.dtype())
    throw ValueError(
        str_cat("[", op, "] ", name, " is ", dtype_name(other.dtype()), " but input is ", dtype_name(input.dtype())));
}

// An optional per-element factor must broadcast to the input's shape (without enlarging it).
void check_broadcasts(const char* op, const char* name, const Tensor& factor, const Tensor& input) {
  if (!factor.defined()) return;
  if (factor.dtype() != input.dtype())
    throw ValueError(
        str_cat("[", op, "] ", name, " is ", dtype_name(factor.dtype()), " but input is ", dtype_name(input.dtype())));
  bool fits = factor.dim() <= input.dim();
  for (int64_t i = 1; fits && i <= factor.dim(); ++i) {
    const int64_t size = factor.shape()[factor.dim() - i];
    fits = size == 1 || size == input.shape()[input.dim() - i];
  }
  if (!fits)
    throw ShapeError(str_cat("[", op, "] ", name, " ", shape_str(factor.shape()), " does not broadcast to input ",
                             shape_str(input.shape())));
}

void check_nonnegative(const char* op, const char* name, double value) {
  if (!std::isfinite(value) || value < 0)
    throw ValueError(str_cat("[", op, "] ", name, " must be a finite number >= 0, got ", value));
}

// log p_y per row (N) for class-index targets, validated.
Tensor target_log_probs(const char* op, const Tensor& logits, const Tensor& target) {
  if (!logits.is_floating_point())
    throw ValueError(str_cat("[", op, "] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  if (logits.dim() != 2 || target.dtype() != Dtype::Int64 || target.shape() != Shape{logits.shape()[0]})
    throw ShapeError(str_cat("[", op, "] expects logits (N, C) and int64 target (N), got logits ",
                             shape_str(logits.shape()), ", target ", shape_str(target.shape()), " ",
                             dtype_name(target.dtype())));
  check_class_indices(op, target, logits.shape()[1]);
  return gather(log_softmax(logits, 1), 1, target.reshape({-1, 1})).reshape({-1});  // (N)
}

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyOptions& options) {
  constexpr const char* op = "binary_cross_entropy_with_logits";
  check_same(op, "target", logits, target);
  check_smoothing(op, "label_smoothing", options.label_smoothing);
  const double eps = options.label_smoothing;
  for (double t : target.to_vector())
    if (!(t >= 0 && t <= 1)) throw ValueError(str_cat("[", op, "] target values must lie in [0, 1], got ", t));
  check_broadcasts(op, "pos_weight", options.pos_weight, logits);
  check_broadcasts(op, "weight", options.weight, logits);
  const Tensor y = target * (1 - eps) + eps / 2;  // smoothed towards ½
  Tensor log_weight = options.pos_weight.defined() ? (options.pos_weight - 1.0) * y + 1.0 : ones_like(y);
  Tensor loss = (1.0 - y) * logits + log_weight * softplus(-logits);
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(loss, options.reduction);
}

Tensor confidence_penalty(const Tensor& logits, const Tensor& target, const ConfidencePenaltyOptions& options) {
  check_nonnegative("confidence_penalty", "beta", options.beta);
  const Tensor log_p_y = target_log_probs("confidence_penalty", logits, target);
  const Tensor log_p = log_softmax(logits, 1);
  const Tensor entropy = -sum(exp(log_p) * log_p, {1});  // H(p) per row (N)
  return reduce(-log_p_y - entropy * options.beta, options.reduction);
}

Tensor focal_loss(const Tensor& logits, const Tensor& target, const FocalLossOptions& options) {
  check_nonnegative("focal_loss", "gamma", options.gamma);
  const Tensor log_p_y = target_log_probs("focal_loss", logits, target);
  Tensor loss = -pow(1.0 - exp(log_p_y), options.gamma) * log_p_y;  // (N)
  if (options.alpha.defined()) {
    if (options.alpha.shape() != Shape{logits.shape()[1]})
      throw ShapeError(
          str_cat("[focal_loss] alpha must be (", logits.shape()[1], ",), got ", shape_str(options.alpha.shape())));
    if (options.alpha.dtype() != logits.dtype())
      throw ValueError(str_cat("[focal_loss] alpha must be ", dtype_name(logits.dtype()), " like the logits, got ",
                               dtype_name(options.alpha.dtype())));
    loss = loss * index_select(options.alpha, target);
  }
  return reduce(loss, options.reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KlDivOptions& options) {
  check_same("kl_div", "target", input, target);
  if (input.dim() < 1) throw ShapeError("[kl_div] input needs a batch dimension");
  Tensor pointwise;
  if (options.log_target) {
    pointwise = exp(target) * (target - input);
  } else {
    // t·log t with 0·log 0 = 0: log is taken of t where t > 0 and of 1 elsewhere.
    const Tensor safe_log = log(where(gt(target, zeros({}, target.dtype())), target, ones({}, target.dtype())));
    pointwise = target * (safe_log - input);
  }
  if (options.reduction == Reduction::Mean) return sum(pointwise) / static_cast<double>(input.shape()[0]);
  return reduce(pointwise, options.reduction);
}

Tensor distillation_loss(const Tensor& student_logits, const Tensor& teacher_logits, double temperature) {
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw ValueError(str_cat("[distillation_loss] temperature must be a finite number > 0, got ", temperature));
  const Tensor teacher = softmax(teacher_logits.detach() / temperature, 1);
  return kl_div(log_softmax(student_logits / temperature, 1), teacher) * (temperature * temperature);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const MseLossOptions& options) {
  check_same("mse_loss", "target", input, target);
  const Tensor diff = input - target;
  return reduce(diff * diff, options.reduction);
}

}  // namespace humble::losses
