// losses/noise_correction.cpp — forward-corrected cross-entropy as one autograd node (formula and
// contract in noise_correction.hpp).
#include "noise_correction.hpp"

#include <cmath>
#include <memory>
#include <vector>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "reduction.hpp"

namespace humble::losses {
namespace {

constexpr const char* kOp = "forward_corrected_cross_entropy";

void check_arguments(const Tensor& logits, const Tensor& target, const Tensor& transition) {
  if (!logits.is_floating_point())
    throw ValueError(str_cat("[", kOp, "] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  if (logits.dim() != 2 || target.dtype() != Dtype::Int64 || target.shape() != Shape{logits.shape()[0]})
    throw ShapeError(str_cat("[", kOp, "] expects logits (N, C) and int64 target (N), got logits ",
                             shape_str(logits.shape()), ", target ", shape_str(target.shape()), " ",
                             dtype_name(target.dtype())));
  const int64_t classes = logits.shape()[1];
  check_class_indices(kOp, target, classes);
  if (!transition.defined() || transition.shape() != Shape{classes, classes})
    throw ShapeError(str_cat("[", kOp, "] transition must be (C, C) = (", classes, ", ", classes, "), got ",
                             transition.defined() ? shape_str(transition.shape()) : "undefined"));
  if (transition.dtype() != logits.dtype())
    throw ValueError(str_cat("[", kOp, "] transition is ", dtype_name(transition.dtype()), " but logits are ",
                             dtype_name(logits.dtype())));
  const std::vector<double> t = transition.to_vector();  // (C, C)
  std::vector<double> column_sums(static_cast<std::size_t>(classes), 0.0);
  for (int64_t i = 0; i < classes; ++i) {
    double row_sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) {
      const double value = t[i * classes + j];
      if (!(value >= 0.0 && value <= 1.0))
        throw ValueError(
            str_cat("[", kOp, "] transition[", i, ", ", j, "] = ", value, "; expected a number in [0, 1]"));
      row_sum += value;
      column_sums[j] += value;
    }
    if (std::abs(row_sum - 1.0) > 1e-6)
      throw ValueError(str_cat("[", kOp, "] transition row ", i, " sums to ", row_sum, "; expected 1 (within 1e-6)"));
  }
  for (int64_t j = 0; j < classes; ++j)
    if (column_sums[j] == 0.0)
      throw ValueError(str_cat("[", kOp, "] transition column ", j, " is all zero: label ", j,
                               " could never be observed; expected at least one positive entry"));
}

// The per-row loss as one node, computed in double (formulas in the header):
//   lse   = log Σ_i exp(z_i)                 (max-shifted by m = max_i z_i)
//   lse_T = log Σ_i T_{i,ỹ}·exp(z_i)         (max-shifted by the largest z_i with T_{i,ỹ} > 0;
//                                             classes with T_{i,ỹ} = 0 are left out, never 0·∞)
//   loss  = lse − lse_T = −log p̃_ỹ
//   dz_c  = g·(p_c − r_c),  p_c = exp(z_c − lse),  r_c = T_{c,ỹ}·exp(z_c − lse_T)   (both in [0, 1])
// Where the model is sure, p_c and r_c of its top class are both near 1 and their difference —
// what moves the logits — would keep only an ulp of 1. Since Σ_c p_c = Σ_c r_c = 1, a gradient
// row sums to 0: the class with the largest p_c + r_c takes minus the sum of the others, which
// are small and keep their relative precision. One node, like cross-entropy's, for that reason.
Tensor forward_corrected_rows(const Tensor& logits, const Tensor& target, const Tensor& transition) {
  const int64_t n = logits.shape()[0], classes = logits.shape()[1];
  const std::vector<double> z = logits.to_vector(), t = transition.to_vector();  // (N, C), (C, C)
  const int64_t* y = target.data<int64_t>();
  auto lse = std::make_shared<std::vector<double>>(n), lse_t = std::make_shared<std::vector<double>>(n);  // (N)
  std::vector<double> loss(static_cast<std::size_t>(n));                                                  // (N)
  for (int64_t row = 0; row < n; ++row) {
    const double* zr = z.data() + row * classes;
    const auto noise = [&](int64_t i) { return t[i * classes + y[row]]; };  // T_{i,ỹ}
    double top = -INFINITY, top_possible = -INFINITY;
    for (int64_t i = 0; i < classes; ++i) {
      top = std::max(top, zr[i]);
      if (noise(i) > 0) top_possible = std::max(top_possible, zr[i]);
    }
    double sum = 0, weighted = 0;
    for (int64_t i = 0; i < classes; ++i) {
      sum += std::exp(zr[i] - top);
      if (noise(i) > 0) weighted += noise(i) * std::exp(zr[i] - top_possible);
    }
    (*lse)[row] = top + std::log(sum);
    (*lse_t)[row] = top_possible + std::log(weighted);
    loss[row] = (*lse)[row] - (*lse_t)[row];
  }
  Tensor out = tensor(loss, {n}, logits.dtype());  // (N)
  return record(kOp, out, {logits},
                [logits = logits.detach(), target, transition = transition.detach(), lse, lse_t](const Tensor& g) {
                  const int64_t rows = logits.shape()[0], c = logits.shape()[1];
                  const std::vector<double> z = logits.to_vector(), t = transition.to_vector(),
                                            upstream = g.to_vector();
                  const int64_t* label = target.data<int64_t>();
                  std::vector<double> dz(z.size()), p(static_cast<std::size_t>(c)), r(p.size());  // (N, C), (C), (C)
                  for (int64_t row = 0; row < rows; ++row) {
                    int64_t pivot = 0;
                    for (int64_t i = 0; i < c; ++i) {
                      const double noise = t[i * c + label[row]];
                      p[i] = std::exp(z[row * c + i] - (*lse)[row]);
                      r[i] = noise > 0 ? noise * std::exp(z[row * c + i] - (*lse_t)[row]) : 0.0;
                      if (p[i] + r[i] > p[pivot] + r[pivot]) pivot = i;
                    }
                    double others = 0;
                    for (int64_t i = 0; i < c; ++i) {
                      if (i == pivot) continue;
                      dz[row * c + i] = upstream[row] * (p[i] - r[i]);
                      others += p[i] - r[i];
                    }
                    dz[row * c + pivot] = -upstream[row] * others;
                  }
                  return Tensors{tensor(dz, logits.shape(), logits.dtype())};
                });
}

}  // namespace

Tensor forward_corrected_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& transition,
                                       const ForwardCorrectionOptions& options) {
  check_arguments(logits, target, transition);
  return reduce(forward_corrected_rows(logits, target, transition), options.reduction);  // of (N) per-row losses
}

Tensor symmetric_noise_transition(int64_t num_classes, double rate, Dtype dtype) {
  if (num_classes < 2)
    throw ValueError(str_cat("[symmetric_noise_transition] num_classes must be >= 2, got ", num_classes));
  if (!(rate >= 0.0 && rate <= 1.0))
    throw ValueError(str_cat("[symmetric_noise_transition] rate must be in [0, 1], got ", rate));
  const double off_diagonal = rate / static_cast<double>(num_classes - 1);
  std::vector<double> values(static_cast<std::size_t>(num_classes * num_classes), off_diagonal);  // (C, C)
  for (int64_t i = 0; i < num_classes; ++i) values[i * num_classes + i] = 1.0 - rate;
  return tensor(values, {num_classes, num_classes}, dtype);
}

}  // namespace humble::losses
