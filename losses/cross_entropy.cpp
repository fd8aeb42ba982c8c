// losses/cross_entropy.cpp — the fused label-smoothed cross-entropy node (math in the header).
//
// Legend: R rows (positions), C classes, and `stride` the distance between two classes of a row
// (1 for (N, C) logits, d1⋯dk otherwise). Forward, per row: pass 1 finds the max m and how many
// classes are ruled out (−inf); pass 2 sums exp(z − m) and the few weighted sums of z the closed
// form needs, so lse = m + log Σ exp(z − m) and
//   NLL = A0·lse − A1 with A1 = Σ w t z, A0 = Σ w t;   CE(u, p) = B0·lse − B1 likewise with u.
// No log-softmax tensor is materialised. Backward is one pass writing (p·S − w⊙q′)·scale with
// S = Σ w q′ saved per row. Rows run in parallel above a grain, each row written by one task, and
// the per-row losses are summed in row order: the same bits for any thread count.
#include "cross_entropy.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "../autograd/graph.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "../core/parallel.hpp"

namespace humble::losses {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Everything the kernels read, validated once at the boundary.
struct Problem {
  int64_t rows = 0, classes = 0, stride = 1;
  double eps = 0;
  SmoothingTarget convention = SmoothingTarget::AllClasses;
  bool soft = false;                // probability targets
  const int64_t* labels = nullptr;  // (R) when !soft
  int64_t ignore_index = -100;
  std::vector<double> weight;  // (C), empty = all ones
  Reduction reduction = Reduction::Mean;

  int64_t offset(int64_t row) const { return (row / stride) * classes * stride + row % stride; }
  bool ignored(int64_t row) const { return !soft && labels[row] == ignore_index; }
  double w(int64_t c) const { return weight.empty() ? 1.0 : weight[c]; }
};

// Per-row results of the forward pass.
struct RowStats {
  std::vector<double> lse, target_weight;  // lse_n; S_n = Σ w q′ (the scale of p in the gradient)
  std::vector<double> nll, smoothing;      // NLL_n and CE(u, p)_n, weighted
  std::vector<double> eps;                 // ε as applied to the row (0 when nothing is left to smooth onto)
};

std::string dims_of(const Tensor& logits, const Tensor& target) {
  return cat("(logits ", shape_str(logits.shape()), ", target ", shape_str(target.shape()), ")");
}

Problem validate(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  if (!logits.defined() || !target.defined()) throw ValueError("[cross_entropy] logits and target must be defined");
  if (!logits.is_floating_point())
    throw ValueError(cat("[cross_entropy] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  if (logits.dim() < 2)
    throw ShapeError(
        cat("[cross_entropy] logits must be (N, C) or (N, C, d1, ..., dk), got ", shape_str(logits.shape())));
  const double eps = options.label_smoothing;
  if (!std::isfinite(eps) || eps < 0 || eps > 1)
    throw ValueError(cat("[cross_entropy] label_smoothing must be a finite number in [0, 1], got ", eps));

  Problem p;
  p.classes = logits.shape()[1];
  p.stride = shape_numel(Shape(logits.shape().begin() + 2, logits.shape().end()));
  p.rows = logits.numel() / std::max<int64_t>(p.classes, 1);
  p.eps = eps;
  p.convention = options.smoothing_target;
  p.ignore_index = options.ignore_index;
  p.reduction = options.reduction;
  if (p.classes < 1) throw ShapeError(cat("[cross_entropy] logits need at least one class ", dims_of(logits, target)));
  if (p.convention == SmoothingTarget::OtherClasses && eps > 0 && p.classes < 2)
    throw ValueError(cat("[cross_entropy] smoothing onto OtherClasses needs C >= 2, got C = ", p.classes));

  if (options.weight.defined()) {
    const Tensor& w = options.weight;
    if (w.shape() != Shape{p.classes} || w.dtype() != logits.dtype())
      throw ShapeError(cat("[cross_entropy] weight must be (", p.classes, ",) ", dtype_name(logits.dtype()),
                           " to match logits ", shape_str(logits.shape()), ", got ", shape_str(w.shape()), " ",
                           dtype_name(w.dtype())));
    p.weight = w.to_vector();
    for (int64_t c = 0; c < p.classes; ++c)
      if (!(p.weight[c] >= 0) || !std::isfinite(p.weight[c]))
        throw ValueError(cat("[cross_entropy] weight[", c, "] must be finite and >= 0, got ", p.weight[c]));
  }

  const auto is_ruled_out = [&](int64_t row, int64_t c) {
    return dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
      return logits.data<T>()[p.offset(row) + c * p.stride] == -std::numeric_limits<T>::infinity();
    });
  };
  if (target.dtype() == Dtype::Int64) {
    Shape expected = logits.shape();
    expected.erase(expected.begin() + 1);
    if (target.shape() != expected)
      throw ShapeError(cat("[cross_entropy] class-index target must be ", shape_str(expected), " for logits ",
                           shape_str(logits.shape()), ", got ", shape_str(target.shape())));
    p.labels = target.data<int64_t>();
    for (int64_t row = 0; row < p.rows; ++row) {
      const int64_t y = p.labels[row];
      if (y == p.ignore_index) continue;
      if (y < 0 || y >= p.classes)
        throw ValueError(cat("[cross_entropy] target[", row, "] = ", y, " is not a class in [0, ", p.classes,
                             ") nor ignore_index (", p.ignore_index, ")"));
      if (is_ruled_out(row, y))
        throw ValueError(cat("[cross_entropy] target[", row, "] = ", y, " is a class whose logit is -inf"));
    }
    return p;
  }

  if (target.shape() != logits.shape() || target.dtype() != logits.dtype())
    throw ShapeError(cat("[cross_entropy] a probability target must have the logits' shape and dtype ",
                         dims_of(logits, target), ", got ", dtype_name(target.dtype()), " for ",
                         dtype_name(logits.dtype())));
  p.soft = true;
  const double tolerance = logits.dtype() == Dtype::Float32 ? 1e-4 : 1e-8;
  const std::vector<double> t = target.to_vector();
  for (int64_t row = 0; row < p.rows; ++row) {
    double total = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      const double v = t[p.offset(row) + c * p.stride];
      if (!(v >= 0) || !std::isfinite(v))
        throw ValueError(cat("[cross_entropy] target probability at row ", row, ", class ", c, " is ", v,
                             "; expected a finite value >= 0"));
      if (v > 0 && is_ruled_out(row, c))
        throw ValueError(cat("[cross_entropy] target puts probability ", v, " on class ", c, " of row ", row,
                             ", whose logit is -inf"));
      total += v;
    }
    if (std::abs(total - 1) > tolerance)
      throw ValueError(cat("[cross_entropy] target probabilities of row ", row, " sum to ", total,
                           "; expected 1 (within ", tolerance, ")"));
  }
  return p;
}

// Pass 1 and 2 over every row (math at the top of the file).
template <class T>
RowStats forward_rows(const Problem& p, const T* z, const T* soft) {
  RowStats s;
  for (auto* v : {&s.lse, &s.target_weight, &s.nll, &s.smoothing, &s.eps}) v->assign(p.rows, 0.0);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / p.classes);
  parallel_for(p.rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      if (p.ignored(row)) continue;
      const T* zr = z + p.offset(row);
      const auto at = [&](int64_t c) { return static_cast<double>(zr[c * p.stride]); };
      double m = kNegInf;
      int64_t remaining = 0;  // classes not ruled out
      for (int64_t c = 0; c < p.classes; ++c) {
        m = std::max(m, at(c));
        remaining += at(c) != kNegInf;
      }
      double sum_exp = 0, wz = 0, w_total = 0, a1 = 0, a0 = 0;  // Σ e^(z−m), Σ w z, Σ w, Σ w t z, Σ w t
      for (int64_t c = 0; c < p.classes; ++c) {
        const double zc = at(c);
        sum_exp += std::exp(zc - m);
        if (zc == kNegInf) continue;
        const double wc = p.w(c);
        wz += wc * zc;
        w_total += wc;
        if (p.soft) {
          const double t = soft[p.offset(row) + c * p.stride];
          a1 += wc * t * zc;
          a0 += wc * t;
        }
      }
      if (!p.soft) {
        const int64_t y = p.labels[row];
        a0 = p.w(y);
        a1 = a0 * at(y);
      }
      // u = 1/C′ on every remaining class, or (1 − t)/(C′ − 1) on the others.
      const bool all = p.convention == SmoothingTarget::AllClasses;
      const double share = all ? 1.0 / remaining : remaining > 1 ? 1.0 / (remaining - 1) : 0.0;
      const double b1 = share * (all ? wz : wz - a1), b0 = share * (all ? w_total : w_total - a0);
      const double eps = (all || remaining > 1) ? p.eps : 0.0;
      const double lse = m + std::log(sum_exp);
      s.lse[row] = lse;
      s.eps[row] = eps;
      s.nll[row] = a0 * lse - a1;
      s.smoothing[row] = b0 * lse - b1;
      s.target_weight[row] = (1 - eps) * a0 + eps * b0;
    }
  });
  return s;
}

// Σ_n w_{y_n} over non-ignored rows (index targets), or the row count (probability targets).
double mean_denominator(const Problem& p) {
  if (p.soft) return static_cast<double>(p.rows);
  double total = 0;
  for (int64_t row = 0; row < p.rows; ++row)
    if (!p.ignored(row)) total += p.w(p.labels[row]);
  return total;
}

// The per-row values reduced as the options ask: (R) → (N, d1, ..., dk) or a scalar.
Tensor reduce_rows(const Problem& p, const std::vector<double>& values, const Shape& row_shape, Dtype dtype,
                   double denominator) {
  if (p.reduction == Reduction::None) return tensor(values, row_shape, dtype);
  double total = 0;
  for (double v : values) total += v;  // in row order: thread-count independent
  if (p.reduction == Reduction::Mean) total = denominator > 0 ? total / denominator : 0.0;
  return scalar_tensor(total, dtype);
}

// dz = (p·S − w⊙q′)·scale_n, with p = exp(z − lse) and scale_n the row's share of dL/dloss.
template <class T>
Tensor backward_rows(const Problem& p, const RowStats& s, const Tensor& logits, const Tensor& soft_target,
                     const Tensor& grad_output, double denominator) {
  Tensor dz = empty_like(logits);
  const T* z = logits.data<T>();
  const T* soft = p.soft ? soft_target.data<T>() : nullptr;
  T* dst = dz.data<T>();
  const std::vector<double> g = grad_output.to_vector();
  const double reduced_scale = p.reduction == Reduction::Mean ? (denominator > 0 ? g[0] / denominator : 0.0) : g[0];
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / p.classes);
  parallel_for(p.rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t base = p.offset(row);
      if (p.ignored(row)) {
        for (int64_t c = 0; c < p.classes; ++c) dst[base + c * p.stride] = 0;
        continue;
      }
      const double scale = p.reduction == Reduction::None ? g[row] : reduced_scale;
      const double eps = s.eps[row], lse = s.lse[row], big_s = s.target_weight[row];
      int64_t remaining = 0;
      for (int64_t c = 0; c < p.classes; ++c)
        remaining += z[base + c * p.stride] != -std::numeric_limits<T>::infinity();
      const bool all = p.convention == SmoothingTarget::AllClasses;
      const double share = all ? 1.0 / remaining : remaining > 1 ? 1.0 / (remaining - 1) : 0.0;
      for (int64_t c = 0; c < p.classes; ++c) {
        const int64_t i = base + c * p.stride;
        const double zc = z[i];
        const double t = p.soft ? soft[i] : (c == p.labels[row] ? 1.0 : 0.0);
        const double u = zc == kNegInf ? 0.0 : all ? share : share * (1 - t);
        const double q = (1 - eps) * t + eps * u;
        dst[i] = static_cast<T>(scale * (std::exp(zc - lse) * big_s - p.w(c) * q));
      }
    }
  });
  return dz;
}

Shape row_shape_of(const Tensor& logits) {
  Shape shape = logits.shape();
  shape.erase(shape.begin() + 1);
  return shape;
}

}  // namespace

CrossEntropyParts cross_entropy_parts(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  const Problem p = validate(logits, target, options);
  return dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
    // The node keeps both inputs alive: p.labels points into the target's storage.
    const Tensor z = logits.detach(), kept_target = target.detach(), soft = p.soft ? kept_target : Tensor();
    auto stats = std::make_shared<RowStats>(forward_rows<T>(p, z.data<T>(), p.soft ? soft.data<T>() : nullptr));
    const double denominator = mean_denominator(p);
    const Shape rows = row_shape_of(logits);
    std::vector<double> loss(p.rows), nll_part(p.rows), smoothing_part(p.rows);
    for (int64_t row = 0; row < p.rows; ++row) {
      nll_part[row] = (1 - stats->eps[row]) * stats->nll[row];
      smoothing_part[row] = stats->eps[row] * stats->smoothing[row];
      loss[row] = nll_part[row] + smoothing_part[row];
    }
    CrossEntropyParts parts;
    parts.nll_part = reduce_rows(p, nll_part, rows, logits.dtype(), denominator);
    parts.smoothing_part = reduce_rows(p, smoothing_part, rows, logits.dtype(), denominator);
    parts.nll = reduce_rows(p, stats->nll, rows, logits.dtype(), denominator);
    // cross_entropy: loss_n = (1 − ε)·NLL_n + ε·CE(u, p)_n;  dz = (p·S − w⊙q′)·scale
    parts.loss = record("cross_entropy", reduce_rows(p, loss, rows, logits.dtype(), denominator), {logits, target},
                        [p, stats, z, kept_target, soft, denominator](const Tensor& g) -> Tensors {
                          return {backward_rows<T>(p, *stats, z, soft, g, denominator), Tensor()};
                        });
    return parts;
  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  return cross_entropy_parts(logits, target, options).loss;
}

}  // namespace humble::losses
