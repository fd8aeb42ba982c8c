// losses/cross_entropy.cpp — label-smoothed cross-entropy: its validation, its reference path, and
// the autograd node for both paths (the math is in cross_entropy.hpp; docs/label-smoothing.md maps
// each formula to the lines below).
//
// Legend: R rows (positions n of (N, d1, …, dk)), C classes; z a row's logits, t its target (the
// one-hot class y or given probabilities), u the uniform part, q′ the smoothed target, w class
// weights, m = max z and ls = log Σ exp(z − m), so that lse = m + ls.
//
// Read in this order:
//   1. validate()        every check, once, before any loop over the data, for both paths;
//   2. the reference path: reference_row() forms q′, reference_losses() the loss,
//                        reference_gradient() the gradient p·S − w⊙q′ — plain loops, in double;
//   3. the nodes:        cross_entropy_reference records the reference path; cross_entropy and
//                        cross_entropy_parts record the fast kernel (cross_entropy_fast.cpp), which
//                        computes the same numbers in vectors and in parallel.
#include "cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "../autograd/graph.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/parallel.hpp"
#include "cross_entropy_problem.hpp"

namespace humble::losses {
namespace {

using detail::Problem;
constexpr double kInf = std::numeric_limits<double>::infinity(), kNegInf = -kInf;

// Probability targets computed in float32 (even when passed as float64) sum to 1 only within a
// few of float32's ulps per class; the check guards against unnormalised rows, not rounding.
constexpr double kProbabilitySumTolerance = 1e-4;
constexpr int64_t kRowsPerChunk = 4096;  // of the sum of the per-row losses

std::string dims_of(const Tensor& logits, const Tensor& target) {
  return str_cat("(logits ", shape_str(logits.shape()), ", target ", shape_str(target.shape()), ")");
}

// ---------------------------------------------------------------------------------------------
// 1. Validation

std::vector<double> checked_weight(const Tensor& w, const Tensor& logits, int64_t classes) {
  if (w.shape() != Shape{classes})
    throw ShapeError(str_cat("[cross_entropy] weight must be (", classes, ",) to match logits ",
                             shape_str(logits.shape()), ", got ", shape_str(w.shape())));
  if (w.dtype() != logits.dtype())
    throw ValueError(str_cat("[cross_entropy] weight must be ", dtype_name(logits.dtype()), " like the logits, got ",
                             dtype_name(w.dtype())));
  std::vector<double> weight = w.to_vector();
  for (int64_t c = 0; c < classes; ++c)
    if (!(weight[c] >= 0) || !std::isfinite(weight[c]))
      throw ValueError(str_cat("[cross_entropy] weight[", c, "] must be finite and >= 0, got ", weight[c]));
  return weight;
}

// A weighted mean over class indices, Σ_n loss_n / Σ_n w_{y_n}, is the same for weights scaled by
// any constant: they are scaled by a power of two (exactly) so that the largest lies in [1, 2), and
// every other non-zero weight must then be a normal number of the dtype. Otherwise a weight of
// 5e-324 would be held to one bit (loss_n = w·NLL rounds to 5e-324), and 1/Σ w would overflow the
// gradient; within these bounds |dz| <= 2 / (smallest normal) fits the dtype.
void scale_weights_for_mean(Problem& p, Dtype dtype) {
  const double largest = *std::max_element(p.weight.begin(), p.weight.end());
  if (largest == 0) return;  // every weight 0: the mean is 0, and so is its gradient
  const int shift = -std::ilogb(largest);
  const double smallest_normal =
      dtype == Dtype::Float32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
  for (int64_t c = 0; c < p.classes; ++c)
    if (p.weight[c] > 0 && std::ldexp(p.weight[c], shift) < smallest_normal)
      throw ValueError(str_cat("[cross_entropy] weight[", c, "] = ", p.weight[c],
                               " is too small beside the largest weight ", largest,
                               " for a mean: their ratio must be at least ", smallest_normal, " (", dtype_name(dtype),
                               "'s smallest normal number); use 0, larger weights, or Reduction::Sum"));
  for (double& w : p.weight) w = std::ldexp(w, shift);
}

// Class indices: each a class or ignore_index (a vectorised pass: 0.9 % of the fast kernel's forward
// and backward at (65536, 10)). That no kept row has a NaN or +inf logit, nor a class that is ruled
// out, its logit −inf, each path checks as it reads the row: a separate pass over targets and logits
// costs 3.1 % there, more than the 3 % a check may add. The mean's denominator is Σ_n w_{y_n} over the kept rows: their
// number without weights, else Σ_c w_c·(kept rows of class c), the same bits however many rows are ignored.
void check_index_target(Problem& p, const Tensor& target, Dtype dtype) {
  const int64_t ignored = check_class_indices("cross_entropy", target, p.classes, p.ignore_index);
  p.labels = target.data<int64_t>();
  if (p.weight.empty()) {
    p.denominator = static_cast<double>(p.rows - ignored);
    return;
  }
  if (p.reduction == Reduction::Mean) scale_weights_for_mean(p, dtype);
  std::vector<int64_t> kept(p.classes, 0);  // (C)
  for (int64_t row = 0; row < p.rows; ++row)
    if (!p.ignored(row)) ++kept[p.labels[row]];
  p.denominator = 0;
  for (int64_t c = 0; c < p.classes; ++c) p.denominator += p.weight[c] * static_cast<double>(kept[c]);
}

// Probabilities: every row finite, >= 0, none on a ruled-out class, summing to 1; the mean divides by R.
template <class T>
void check_probability_target(Problem& p, const T* z, const T* t) {
  for (int64_t row = 0; row < p.rows; ++row) {
    double total = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      const int64_t i = p.offset(row) + c * p.stride;
      const double v = t[i];
      if (!(v >= 0) || !std::isfinite(v))
        throw ValueError(str_cat("[cross_entropy] target probability at row ", row, ", class ", c, " is ", v,
                                 "; expected a finite value >= 0"));
      if (v > 0 && z[i] == -std::numeric_limits<T>::infinity())
        throw ValueError(str_cat("[cross_entropy] target puts probability ", v, " on class ", c, " of row ", row,
                                 ", whose logit is -inf"));
      total += v;
    }
    if (!(std::abs(total - 1) <= kProbabilitySumTolerance))
      throw ValueError(str_cat("[cross_entropy] target probabilities of row ", row, " sum to ", exact(total),
                               "; expected 1 (within ", kProbabilitySumTolerance, ")"));
  }
  p.denominator = static_cast<double>(p.rows);
}

// The inputs as dense memory, which both paths read (a strided view is copied); both must be defined.
std::pair<Tensor, Tensor> dense_inputs(const Tensor& logits, const Tensor& target) {
  if (!logits.defined() || !target.defined()) throw ValueError("[cross_entropy] logits and target must be defined");
  return {contiguous_values(logits), contiguous_values(target)};
}

// logits and target as dense_inputs returns them.
Problem validate(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  if (!logits.is_floating_point())
    throw ValueError(str_cat("[cross_entropy] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  if (logits.dim() < 2)
    throw ShapeError(
        str_cat("[cross_entropy] logits must be (N, C) or (N, C, d1, ..., dk), got ", shape_str(logits.shape())));
  check_smoothing("cross_entropy", "label_smoothing", options.label_smoothing);

  Problem p;
  p.classes = logits.shape()[1];
  p.stride = shape_numel(Shape(logits.shape().begin() + 2, logits.shape().end()));
  p.rows = logits.numel() / std::max<int64_t>(p.classes, 1);
  p.eps = options.label_smoothing;
  p.convention = options.smoothing_target;
  p.reduction = options.reduction;
  p.ignore_index = options.ignore_index;
  if (p.classes < 1)
    throw ShapeError(str_cat("[cross_entropy] logits need at least one class ", dims_of(logits, target)));
  if (p.convention == SmoothingTarget::OtherClasses && p.eps > 0 && p.classes < 2)
    throw ValueError(str_cat("[cross_entropy] smoothing onto OtherClasses needs C >= 2, got C = ", p.classes));
  if (options.weight.defined()) p.weight = checked_weight(options.weight, logits, p.classes);

  p.soft = target.dtype() != Dtype::Int64;
  if (!p.soft) {
    Shape expected = logits.shape();
    expected.erase(expected.begin() + 1);
    if (target.shape() != expected)
      throw ShapeError(str_cat("[cross_entropy] class-index target must be ", shape_str(expected), " for logits ",
                               shape_str(logits.shape()), ", got ", shape_str(target.shape())));
  } else {
    if (target.shape() != logits.shape())
      throw ShapeError(
          str_cat("[cross_entropy] a probability target must have the logits' shape ", dims_of(logits, target)));
    if (target.dtype() != logits.dtype())
      throw ValueError(str_cat("[cross_entropy] a probability target must have the logits' dtype ",
                               dtype_name(logits.dtype()), ", got ", dtype_name(target.dtype())));
    if (options.ignore_index != CrossEntropyOptions{}.ignore_index)
      throw ValueError(str_cat("[cross_entropy] ignore_index (", options.ignore_index,
                               ") applies to class-index targets only; probability targets have no class to "
                               "ignore (leave it at -100)"));
  }
  if (p.soft)
    dispatch_float(logits.dtype(), "cross_entropy",
                   [&]<class T>() { check_probability_target(p, logits.data<T>(), target.data<T>()); });
  else
    check_index_target(p, target, logits.dtype());
  return p;
}

// ---------------------------------------------------------------------------------------------
// 2. The reference path: the formulas of cross_entropy.hpp, row by row, in double.

// One row: its logits z_c, the smoothed target q′_c, and m = max z, ls = log Σ exp(z − m).
struct ReferenceRow {
  std::vector<double> z, q;  // (C)
  double max = kNegInf, log_sum = 0;
};

ReferenceRow reference_row(const Problem& p, const std::vector<double>& logits, const std::vector<double>& target,
                           int64_t row) {
  const int64_t C = p.classes;
  ReferenceRow r{std::vector<double>(C), std::vector<double>(C)};
  for (int64_t c = 0; c < C; ++c) r.z[c] = logits[p.offset(row) + c * p.stride];

  // m = max z;  ls = log Σ exp(z − m):  lse = m + ls, the max taken out before anything is added.
  for (double z : r.z) r.max = std::max(r.max, z);
  double sum_exp = 0;
  for (double z : r.z) sum_exp += std::exp(z - r.max);
  r.log_sum = std::log(sum_exp);

  // t: the one-hot class y, or the given probabilities. C′ classes remain (logit > −inf).
  std::vector<double> t(C);
  int64_t remaining = 0;
  for (int64_t c = 0; c < C; ++c) {
    t[c] = p.soft ? target[p.offset(row) + c * p.stride] : (c == p.labels[row] ? 1.0 : 0.0);
    if (r.z[c] != kNegInf) ++remaining;
  }
  // u: 1/C′ on every remaining class (AllClasses), or (1 − t_c)/(C′ − 1) on the remaining others
  // (OtherClasses); nothing on a ruled-out class. With nothing left to smooth onto, ε is not applied.
  const bool all = p.convention == SmoothingTarget::AllClasses;
  const double eps = all || remaining > 1 ? p.eps : 0.0;
  for (int64_t c = 0; c < C; ++c) {
    const double u = r.z[c] == kNegInf ? 0.0
                     : all             ? 1.0 / remaining
                     : remaining > 1   ? (1 - t[c]) / (remaining - 1)
                                       : 0.0;
    r.q[c] = (1 - eps) * t[c] + eps * u;  // q′_c = (1 − ε)·t_c + ε·u_c
  }
  return r;
}

// The target's values when they are probabilities (index targets are read through p.labels).
std::vector<double> probabilities_of(const Problem& p, const Tensor& target) {
  return p.soft ? target.to_vector() : std::vector<double>{};
}

// A row the loss cannot be computed for: a logit that is NaN or +inf, or a ruled-out target class.
bool unusable(const Problem& p, const ReferenceRow& r, int64_t row) {
  for (double z : r.z)
    if (std::isnan(z) || z == kInf) return true;
  return !p.soft && r.z[p.labels[row]] == kNegInf;
}

// loss_n = Σ_c w_c q′_c (lse − z_c), with lse − z_c = (m − z_c) + ls, each term as w_c·(q′_c·(lse − z_c))
// (w_c·q′_c of a subnormal weight may underflow where the term does not); a class with w_c = 0 or
// q′_c = 0 adds nothing (a ruled-out one would add 0·inf). Ignored rows have loss 0; the first
// unusable row is an error.
std::vector<double> reference_losses(const Problem& p, const Tensor& logits, const std::vector<double>& z,
                                     const std::vector<double>& t) {
  std::vector<double> loss(p.rows, 0.0);  // (R)
  for (int64_t row = 0; row < p.rows; ++row) {
    if (p.ignored(row)) continue;
    const ReferenceRow r = reference_row(p, z, t, row);
    if (unusable(p, r, row)) detail::throw_bad_row(p, logits, row);
    for (int64_t c = 0; c < p.classes; ++c)
      if (p.w(c) != 0 && r.q[c] != 0) loss[row] += p.w(c) * (r.q[c] * ((r.max - r.z[c]) + r.log_sum));
  }
  return loss;
}

// ∂loss_n/∂z_c = p_c·S − w_c q′_c, with p_c = exp((z_c − m) − ls) and S = Σ_k w_k q′_k, times
// dL/dloss_n: row n's upstream gradient (no reduction) or the reduced loss's, shared by every row.
std::vector<double> reference_gradient(const Problem& p, const std::vector<double>& z, const std::vector<double>& t,
                                       const std::vector<double>& g) {
  std::vector<double> dz(z.size(), 0.0);  // like the logits
  for (int64_t row = 0; row < p.rows; ++row) {
    if (p.ignored(row)) continue;
    const ReferenceRow r = reference_row(p, z, t, row);
    const double scale = p.reduction == Reduction::None ? g[row] : p.reduced_scale(g[0]);
    double S = 0;
    for (int64_t c = 0; c < p.classes; ++c) S += p.w(c) * r.q[c];
    for (int64_t c = 0; c < p.classes; ++c) {
      const double p_c = std::exp((r.z[c] - r.max) - r.log_sum);
      dz[p.offset(row) + c * p.stride] = scale * (p_c * S - p.w(c) * r.q[c]);
    }
  }
  return dz;
}

// ---------------------------------------------------------------------------------------------
// 3. The nodes

Shape row_shape_of(const Tensor& logits) {
  Shape shape = logits.shape();
  shape.erase(shape.begin() + 1);
  return shape;
}

// Every value is >= 0 and the logits are known to be finite or −inf: a value that does not fit the
// dtype (the logits of a row span more than the dtype holds, or the class weights are that large)
// is an error, not an inf.
bool fits(double v, Dtype dtype) {
  return dtype == Dtype::Float32 ? std::isfinite(static_cast<float>(v)) : std::isfinite(v);
}

ValueError overflows(const std::string& which, Dtype dtype) {
  return ValueError(str_cat("[cross_entropy] ", which, " does not fit in ", dtype_name(dtype),
                            ": the logits of a row span more, or the class weights are larger, than it holds"));
}

// The total of the rows' values as the reduction asks: itself (Sum) or over the mean's denominator;
// `values` are the rows' own, to name the first that overflowed when the result does not fit.
Tensor reduced(const Problem& p, double total, const double* values, Dtype dtype, const char* what) {
  const double result = p.reduction == Reduction::Mean ? p.reduced_scale(total) : total;
  if (!fits(result, dtype)) {
    for (int64_t row = 0; row < p.rows; ++row)
      if (!std::isfinite(values[row])) throw overflows(str_cat("the ", what, " of row ", row), dtype);
    throw overflows(str_cat(p.reduction == Reduction::Mean ? "the mean " : "the summed ", what), dtype);
  }
  return scalar_tensor(result, dtype);
}

// The per-row values reduced as the options ask: (R) → (N, d1, ..., dk), or a scalar summed row
// after row within fixed chunks of rows, the chunks' sums added in order: the same bits for any
// thread count, and an ignored row (an exact 0) changes nothing within a chunk.
Tensor reduce_rows(const Problem& p, const double* values, const Shape& row_shape, Dtype dtype, const char* what) {
  if (p.reduction == Reduction::None) {
    for (int64_t row = 0; row < p.rows; ++row)
      if (!fits(values[row], dtype)) throw overflows(str_cat("the ", what, " of row ", row), dtype);
    return tensor(std::vector<double>(values, values + p.rows), row_shape, dtype);
  }
  return reduced(p,
                 deterministic_sum(p.rows, kRowsPerChunk,
                                   [values](int64_t lo, int64_t hi) {
                                     double sum = 0;
                                     for (int64_t row = lo; row < hi; ++row) sum += values[row];
                                     return sum;
                                   }),
                 values, dtype, what);
}

// The fast kernel's node; with `parts`, also the loss's parts (logged, never differentiated).
Tensor fast_node(const Tensor& logits_given, const Tensor& target_given, const CrossEntropyOptions& options,
                 CrossEntropyParts* parts) {
  const auto [logits, target] = dense_inputs(logits_given, target_given);
  const Problem p = validate(logits, target, options);
  const auto f = std::make_shared<const detail::FastForward>(detail::fast_forward(p, logits, target, parts != nullptr));
  const Shape rows = row_shape_of(logits);
  if (parts != nullptr) {
    std::vector<double> nll_part(p.rows), smoothing_part(p.rows);
    for (int64_t row = 0; row < p.rows; ++row) {  // a part weighted 0 is 0, even where it would overflow
      nll_part[row] = f->eps[row] == 1 ? 0.0 : (1 - f->eps[row]) * f->nll[row];
      smoothing_part[row] = f->eps[row] == 0 ? 0.0 : f->eps[row] * f->smoothing[row];
    }
    parts->nll_part = reduce_rows(p, nll_part.data(), rows, logits.dtype(), "NLL part");
    parts->smoothing_part = reduce_rows(p, smoothing_part.data(), rows, logits.dtype(), "smoothing part");
    parts->nll = reduce_rows(p, f->nll, rows, logits.dtype(), "NLL");
  }
  // The kernel summed its rows' losses as it made them, chunk by chunk.
  Tensor loss = p.reduction == Reduction::None
                    ? reduce_rows(p, f->loss, rows, logits.dtype(), "loss")
                    : reduced(p, std::accumulate(f->chunk_loss.begin(), f->chunk_loss.end(), 0.0), f->loss,
                              logits.dtype(), "loss");
  // cross_entropy: loss_n = (1 − ε)·NLL_n + ε·CE(u, p)_n;  dz = (p·S − w⊙q′)·dL/dloss_n
  // Both inputs are saved: the backward reads them (p.labels points into the target's storage), and
  // the engine refuses to run it if either was changed in place since.
  return record("cross_entropy", loss, {logits_given, target_given}, {logits, target},
                [p, f](const Tensor& g, const Tensors& saved) -> Tensors {
                  return {detail::fast_backward(p, *f, saved[0], saved[1], g), Tensor()};
                });
}

}  // namespace

void detail::throw_bad_row(const Problem& p, const Tensor& logits, int64_t row) {
  const std::vector<double> z = logits.to_vector();
  for (int64_t c = 0; c < p.classes; ++c)
    if (const double v = z[p.offset(row) + c * p.stride]; std::isnan(v) || v == kInf)
      throw ValueError(str_cat("[cross_entropy] the logit of row ", row, ", class ", c, " is ", v,
                               "; expected a finite number or -inf (a ruled-out class)"));
  throw ValueError(str_cat("[cross_entropy] target[", row, "] = ", p.labels[row], " is a class whose logit is -inf"));
}

// cross_entropy_reference: loss_n = Σ_c w_c q′_c ((m − z_c) + ls);  dz = (p·S − w⊙q′)·dL/dloss_n
Tensor cross_entropy_reference(const Tensor& logits_given, const Tensor& target_given,
                               const CrossEntropyOptions& options) {
  const auto [logits, target] = dense_inputs(logits_given, target_given);
  const Problem p = validate(logits, target, options);
  const std::vector<double> loss = reference_losses(p, logits, logits.to_vector(), probabilities_of(p, target));
  // Both inputs are saved, as for the fast kernel's node.
  return record("cross_entropy_reference", reduce_rows(p, loss.data(), row_shape_of(logits), logits.dtype(), "loss"),
                {logits_given, target_given}, {logits, target}, [p](const Tensor& g, const Tensors& saved) -> Tensors {
                  const Tensor& z = saved[0];
                  const std::vector<double> dz =
                      reference_gradient(p, z.to_vector(), probabilities_of(p, saved[1]), g.to_vector());
                  return {tensor(dz, z.shape(), z.dtype()), Tensor()};
                });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  return fast_node(logits, target, options, nullptr);
}

CrossEntropyParts cross_entropy_parts(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  CrossEntropyParts parts;
  parts.loss = fast_node(logits, target, options, &parts);
  return parts;
}

}  // namespace humble::losses
