// losses/smoothing.cpp — the closed forms of losses/smoothing.hpp.
#include "smoothing.hpp"

#include <cmath>
#include <limits>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "reduction.hpp"

namespace humble::losses {
namespace {

struct SmoothedPair {
  double true_class, other_class;  // q′_y and q′_c for c ≠ y
};

SmoothedPair smoothed_pair(const char* op, int64_t num_classes, double eps, SmoothingTarget convention) {
  if (num_classes < 2) throw ValueError(str_cat("[", op, "] num_classes must be >= 2, got ", num_classes));
  check_smoothing(op, "eps", eps);
  const auto C = static_cast<double>(num_classes);
  if (convention == SmoothingTarget::AllClasses) return {1 - eps + eps / C, eps / C};
  return {1 - eps, eps / (C - 1)};
}

}  // namespace

Tensor smoothed_targets(const Tensor& target, int64_t num_classes, double eps, SmoothingTarget convention,
                        Dtype dtype) {
  const SmoothedPair q = smoothed_pair("smoothed_targets", num_classes, eps, convention);
  if (target.dtype() != Dtype::Int64 || target.dim() != 1)
    throw ValueError(str_cat("[smoothed_targets] target must be 1-D int64 class indices, got ",
                             shape_str(target.shape()), " ", dtype_name(target.dtype())));
  const int64_t n = target.numel();
  std::vector<double> values(static_cast<std::size_t>(n * num_classes), q.other_class);  // (N, C)
  const int64_t* y = target.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] < 0 || y[i] >= num_classes)
      throw ValueError(
          str_cat("[smoothed_targets] target[", i, "] = ", y[i], " is not a class in [0, ", num_classes, ")"));
    values[i * num_classes + y[i]] = q.true_class;
  }
  return tensor(values, {n, num_classes}, dtype);
}

double optimal_logit_gap(int64_t num_classes, double eps, SmoothingTarget convention) {
  const SmoothedPair q = smoothed_pair("optimal_logit_gap", num_classes, eps, convention);
  if (q.other_class == 0) return std::numeric_limits<double>::infinity();  // ε = 0: the gap grows forever
  return std::log(q.true_class / q.other_class);
}

double max_confidence(int64_t num_classes, double eps, SmoothingTarget convention) {
  return smoothed_pair("max_confidence", num_classes, eps, convention).true_class;
}

double loss_floor(int64_t num_classes, double eps, SmoothingTarget convention) {
  const SmoothedPair q = smoothed_pair("loss_floor", num_classes, eps, convention);
  const auto plogp = [](double p) { return p > 0 ? p * std::log(p) : 0.0; };                         // 0·log 0 = 0
  return 0.0 - (plogp(q.true_class) + static_cast<double>(num_classes - 1) * plogp(q.other_class));  // +0 at ε = 0
}

}  // namespace humble::losses
