// losses/cross_entropy.cpp — the fused label-smoothed cross-entropy node (math in the header).
//
// Legend: R rows (positions), C classes, and `stride` the distance between two classes of a row
// (1 for (N, C) logits, d1⋯dk otherwise). Forward, per row: pass 1 finds the max m; pass 2 sums
// exp(z − m) and z, so lse = m + log Σ exp(z − m) and
//   NLL = A0·lse − A1 with A1 = Σ w t z, A0 = Σ w t;   CE(u, p) = B0·lse − B1 likewise with u.
// With class indices, no class weights and no ruled-out class (the usual case), A1 = z_y,
// A0 = 1 and Σ z is all B1 needs; otherwise a third pass gathers the weighted sums. No
// log-softmax tensor is materialised. Backward is one pass writing (p·S − w⊙q′)·scale from what
// the forward saved per row: lse, S = Σ w q′, ε and ε·u.
//
// Speed (bench/ measures float32 (N, C) against PyTorch; docs/benchmarks.md):
//   - every pass is a stride-1 loop over a row that GCC vectorizes (a strided row is first copied
//     into a scratch row); sums run in kLanes independent double accumulators;
//   - short rows (C < kLanes) go kLanes at a time, one row per lane of a transposed copy, so that
//     they vectorize too, across rows;
//   - e^x is fast_exp for float32 (core/fast_math.hpp, within 1 ulp; its argument is rounded once
//     from double) and std::exp for float64; log Σ is fast_log (within 2 ulp); sums stay double;
//   - the gradient's bulk is computed in the logits' precision, its one cancellation-prone element
//     per row, the target class, in double (IndexRows);
//   - the row loops are built twice (HUMBLE_SIMD_CLONES): plain x86-64, and AVX2 where available.
// Rows run in parallel above a grain, each row (each group of short rows) written by one task, and
// the per-row losses are summed in row order: the same bits for any thread count.
#include "cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

#include "../autograd/graph.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/fast_math.hpp"
#include "../core/kernels.hpp"
#include "../core/parallel.hpp"

namespace humble::losses {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kLanes = 16;  // accumulators per sum, short rows per group: two AVX2 registers of floats

// Everything the kernels read, validated once at the boundary.
struct Problem {
  int64_t rows = 0, classes = 0, stride = 1;
  double eps = 0;
  SmoothingTarget convention = SmoothingTarget::AllClasses;
  bool soft = false;                // probability targets
  const int64_t* labels = nullptr;  // (R) when !soft
  int64_t ignore_index = -100;
  std::vector<double> weight;  // (C) then kLanes zeros; empty = all ones
  Reduction reduction = Reduction::Mean;
  double denominator = 0;  // of the mean: Σ_n w_{y_n} over non-ignored rows (index targets), or R

  int64_t offset(int64_t row) const {  // of the row's first class
    return stride == 1 ? row * classes : (row / stride) * classes * stride + row % stride;
  }
  bool ignored(int64_t row) const { return !soft && labels[row] == ignore_index; }
  double w(int64_t c) const { return weight.empty() ? 1.0 : weight[c]; }
};

// Per-row results of the forward pass: columns of one uninitialised float64 buffer that the
// rows' tasks fill in, zeros for ignored rows. A column is R′ long, R rounded up to whole groups
// of kLanes rows (the rows past R hold zeros). The backward keeps the buffer.
struct Forward {
  Tensor buffer;  // (columns, R′)
  // What the backward needs:
  double* lse = nullptr;            // lse_n
  double* target_weight = nullptr;  // S_n = Σ w q′, the scale of p in the gradient
  double* eps = nullptr;            // ε as applied to the row (0 when nothing is left to smooth onto)
  double* smoothing_q = nullptr;    // ε·u on a remaining class other than the target: ε/C′ or ε/(C′ − 1)
  // The loss, and its parts for cross_entropy_parts only (else null):
  double* loss = nullptr;       // (1 − ε)·NLL_n + ε·CE(u, p)_n
  double* nll = nullptr;        // NLL_n, weighted
  double* smoothing = nullptr;  // CE(u, p)_n, weighted

  Forward(int64_t rows, bool with_parts) {
    std::vector<double**> columns = {&lse, &target_weight, &eps, &smoothing_q, &loss};
    if (with_parts) columns.insert(columns.end(), {&nll, &smoothing});
    const int64_t padded = (rows + kLanes - 1) / kLanes * kLanes;
    buffer = empty({static_cast<int64_t>(columns.size()), padded}, Dtype::Float64);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      *columns[i] = buffer.data<double>() + static_cast<int64_t>(i) * padded;
      std::fill(*columns[i] + rows, *columns[i] + padded, 0.0);
    }
  }
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
    if (w.shape() != Shape{p.classes})
      throw ShapeError(cat("[cross_entropy] weight must be (", p.classes, ",) to match logits ",
                           shape_str(logits.shape()), ", got ", shape_str(w.shape())));
    if (w.dtype() != logits.dtype())
      throw ValueError(cat("[cross_entropy] weight must be ", dtype_name(logits.dtype()), " like the logits, got ",
                           dtype_name(w.dtype())));
    p.weight = w.to_vector();
    for (int64_t c = 0; c < p.classes; ++c)
      if (!(p.weight[c] >= 0) || !std::isfinite(p.weight[c]))
        throw ValueError(cat("[cross_entropy] weight[", c, "] must be finite and >= 0, got ", p.weight[c]));
    p.weight.resize(p.classes + kLanes, 0.0);  // the kernels read whole blocks of kLanes
  }

  const auto is_ruled_out = [&, f32 = logits.dtype() == Dtype::Float32, data = logits.raw_data()](int64_t row,
                                                                                                  int64_t c) {
    const int64_t i = p.offset(row) + c * p.stride;
    return f32 ? static_cast<const float*>(data)[i] == -std::numeric_limits<float>::infinity()
               : static_cast<const double*>(data)[i] == kNegInf;
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
      p.denominator += p.w(y);
    }
    return p;
  }

  if (target.shape() != logits.shape())
    throw ShapeError(cat("[cross_entropy] a probability target must have the logits' shape ", dims_of(logits, target)));
  if (target.dtype() != logits.dtype())
    throw ValueError(cat("[cross_entropy] a probability target must have the logits' dtype ",
                         dtype_name(logits.dtype()), ", got ", dtype_name(target.dtype())));
  p.soft = true;
  p.denominator = static_cast<double>(p.rows);
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

// e^x for the kernels: fast_exp for float32 (x rounded once from double), std::exp for float64.
template <class T>
T exp_of(double x) {
  if constexpr (std::is_same_v<T, float>) {
    return fast_exp(static_cast<float>(x));
  } else {
    return std::exp(x);
  }
}

// Pass 1 and 2 over a row: lse = m + log Σ exp(z − m), with m its max, and Σ z.
struct RowSums {
  double lse, sum_z;
};

// The row's last, partial block [c, n) as a whole block of kLanes values: read in place when the
// memory after the row is readable (up to readable_end; the extra lanes are then ignored),
// otherwise copied into `padded`.
template <class T>
const T* tail_block(const T* row, int64_t c, int64_t n, const T* readable_end, T (&padded)[kLanes]) {
  if (readable_end - (row + c) >= kLanes) return row + c;
  std::fill(std::copy(row + c, row + n, padded), padded + kLanes, T(0));
  return padded;
}

// A contiguous row of n values: the max as an integer max over order keys; the sums over whole
// blocks in kLanes accumulators (added pairwise at the end), then over the last, partial block,
// whose exponentials are computed as a whole block and added one at a time.
template <class T>
RowSums row_sums(const T* z, int64_t n, const T* readable_end) {
  auto best = order_key(-std::numeric_limits<T>::infinity());
  for (int64_t c = 0; c < n; ++c) best = std::max(best, order_key(z[c]));
  const T m = from_order_key(best);

  const int64_t whole = n / kLanes * kLanes;
  double sum_exp = 0, sum_z = 0;
  if (whole > 0) {
    double lane_exp[kLanes] = {}, lane_z[kLanes] = {};
    for (int64_t c = 0; c < whole; c += kLanes)
      for (int j = 0; j < kLanes; ++j) {
        lane_exp[j] += exp_of<T>(z[c + j] - m);
        lane_z[j] += z[c + j];
      }
    for (int width = kLanes / 2; width > 0; width /= 2)
      for (int j = 0; j < width; ++j) {
        lane_exp[j] += lane_exp[j + width];
        lane_z[j] += lane_z[j + width];
      }
    sum_exp = lane_exp[0];
    sum_z = lane_z[0];
  }
  if (whole < n) {
    T padded[kLanes], e[kLanes];
    const T* v = tail_block(z, whole, n, readable_end, padded);
    for (int j = 0; j < kLanes; ++j) e[j] = exp_of<T>(v[j] - m);
    for (int j = 0; j < n - whole; ++j) {
      sum_exp += e[j];
      sum_z += v[j];
    }
  }
  return {m + fast_log(sum_exp), sum_z};
}

// Short rows (C < kLanes, stride 1) go kLanes at a time, one row per lane, so that their passes
// vectorize across rows: each group is first copied transposed, block[c·kLanes + j] = z_{row j, c}.
bool short_rows(const Problem& p) { return p.stride == 1 && p.classes < kLanes; }

// `count` (≤ kLanes) contiguous rows of C values at `rows` into `block`, and back; missing rows
// read as 0. Whole groups go straight through (the fixed kLanes inner loop vectorizes), the last,
// partial group of the tensor through a padded copy.
template <class T>
void transpose_rows(const T* rows, int64_t C, int count, T (&block)[kLanes * kLanes]) {
  T padded[kLanes * kLanes];
  if (count < kLanes) {
    std::fill(std::copy(rows, rows + count * C, padded), padded + kLanes * C, T(0));
    rows = padded;
  }
  for (int64_t c = 0; c < C; ++c)
    for (int j = 0; j < kLanes; ++j) block[c * kLanes + j] = rows[j * C + c];
}
template <class T>
void untranspose_rows(const T (&block)[kLanes * kLanes], int64_t C, int count, T* rows) {
  T padded[kLanes * kLanes];
  T* to = count < kLanes ? padded : rows;
  for (int64_t c = 0; c < C; ++c)
    for (int j = 0; j < kLanes; ++j) to[j * C + c] = block[c * kLanes + j];
  if (count < kLanes) std::copy(padded, padded + count * C, rows);
}

template <class T>
void short_row_sums(const T (&block)[kLanes * kLanes], int64_t C, RowSums (&sums)[kLanes]) {
  using Key = decltype(order_key(T()));
  Key best[kLanes];
  std::fill(best, best + kLanes, order_key(-std::numeric_limits<T>::infinity()));
  for (int64_t c = 0; c < C; ++c)
    for (int j = 0; j < kLanes; ++j) best[j] = std::max(best[j], order_key(block[c * kLanes + j]));
  T m[kLanes];
  double sum_exp[kLanes] = {}, sum_z[kLanes] = {};
  for (int j = 0; j < kLanes; ++j) m[j] = from_order_key(best[j]);
  for (int64_t c = 0; c < C; ++c)
    for (int j = 0; j < kLanes; ++j) {
      sum_exp[j] += exp_of<T>(block[c * kLanes + j] - m[j]);
      sum_z[j] += block[c * kLanes + j];
    }
  double lse[kLanes];
  for (int j = 0; j < kLanes; ++j) lse[j] = m[j] + fast_log(sum_exp[j]);
  for (int j = 0; j < kLanes; ++j) sums[j] = {lse[j], sum_z[j]};
}

struct RowForward {
  double lse = 0, target_weight = 0, eps = 0, smoothing_q = 0;  // as in Forward
  double nll = 0, smoothing = 0;                                // NLL_n and CE(u, p)_n
};

// The rest of a row's forward, from its sums (math at the top of the file). z: the row's C logits,
// contiguous; t: its C target probabilities, or null for index targets, whose class is y.
template <class T>
RowForward finish_row(const Problem& p, const RowSums& sums, const T* z, const T* t, int64_t y) {
  // Σ w z and Σ w over the remaining classes, how many remain; A1 = Σ w t z, A0 = Σ w t.
  double wz = sums.sum_z, w_total = static_cast<double>(p.classes), a1 = 0, a0 = 0;
  int64_t remaining = p.classes;
  if (!p.weight.empty() || t != nullptr || !std::isfinite(sums.sum_z)) {  // weights, probabilities, or ±inf/NaN
    wz = w_total = 0;
    remaining = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      const double zc = z[c];
      if (zc == kNegInf) continue;  // ruled out
      ++remaining;
      const double wc = p.w(c);
      wz += wc * zc;
      w_total += wc;
      if (t != nullptr) {
        a1 += wc * t[c] * zc;
        a0 += wc * t[c];
      }
    }
  }
  if (t == nullptr) {
    a0 = p.w(y);
    a1 = a0 * z[y];
  }
  // u = 1/C′ on every remaining class, or (1 − t)/(C′ − 1) on the others.
  const bool all = p.convention == SmoothingTarget::AllClasses;
  const double share = all ? 1.0 / remaining : remaining > 1 ? 1.0 / (remaining - 1) : 0.0;
  const double b1 = share * (all ? wz : wz - a1), b0 = share * (all ? w_total : w_total - a0);
  const double eps = (all || remaining > 1) ? p.eps : 0.0;
  const double lse = sums.lse;
  // Index targets: NLL = w_y·(lse − z_y), the difference first — w_y·lse − w_y·z_y would cancel two
  // rounded products (with FMA, a confidently right row could get a loss of −1e-13 instead of 0).
  const double nll = t == nullptr ? a0 * (lse - z[y]) : a0 * lse - a1;
  return {lse, (1 - eps) * a0 + eps * b0, eps, eps * share, nll, b0 * lse - b1};
}

// The C values of a strided row, copied into `scratch` (kLanes longer, so whole blocks are readable).
template <class T>
const T* gather_row(const Problem& p, const T* first, std::vector<T>& scratch) {
  scratch.resize(p.classes + kLanes);
  for (int64_t c = 0; c < p.classes; ++c) scratch[c] = first[c * p.stride];
  return scratch.data();
}

// parallel_for over the rows, handing out whole groups of kLanes rows when rows are short.
void parallel_rows(const Problem& p, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t unit = short_rows(p) ? kLanes : 1;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (p.classes * unit));
  parallel_for((p.rows + unit - 1) / unit, grain,
               [&](int64_t lo, int64_t hi) { body(lo * unit, std::min(hi * unit, p.rows)); });
}

// The forward over rows [lo, hi).
template <class T>
HUMBLE_SIMD_CLONES void forward_rows(const Problem& p, const T* z, const T* soft, int64_t lo, int64_t hi,
                                     Forward& out) {
  const auto finish = [&](int64_t row, const RowSums& sums, const T* zr, const T* tr) {
    const RowForward r = p.ignored(row) ? RowForward{} : finish_row(p, sums, zr, tr, p.soft ? -1 : p.labels[row]);
    out.lse[row] = r.lse;
    out.target_weight[row] = r.target_weight;
    out.eps[row] = r.eps;
    out.smoothing_q[row] = r.smoothing_q;
    out.loss[row] = (1 - r.eps) * r.nll + r.eps * r.smoothing;
    if (out.nll != nullptr) {
      out.nll[row] = r.nll;
      out.smoothing[row] = r.smoothing;
    }
  };
  if (short_rows(p)) {
    T block[kLanes * kLanes];
    RowSums sums[kLanes];
    for (int64_t first = lo; first < hi; first += kLanes) {
      const int count = static_cast<int>(std::min<int64_t>(kLanes, hi - first));
      transpose_rows(z + first * p.classes, p.classes, count, block);
      short_row_sums(block, p.classes, sums);
      for (int j = 0; j < count; ++j) {
        const int64_t row = first + j;
        finish(row, sums[j], z + row * p.classes, p.soft ? soft + row * p.classes : nullptr);
      }
    }
    return;
  }
  std::vector<T> z_row, t_row;  // scratch for strided rows
  for (int64_t row = lo; row < hi; ++row) {
    if (p.ignored(row)) {
      finish(row, {}, nullptr, nullptr);
      continue;
    }
    const T* zr = z + p.offset(row);
    const T* z_end = z + p.rows * p.classes;
    const T* tr = p.soft ? soft + p.offset(row) : nullptr;
    if (p.stride != 1) {
      zr = gather_row(p, zr, z_row);
      z_end = zr + z_row.size();
      if (tr != nullptr) tr = gather_row(p, tr, t_row);
    }
    finish(row, row_sums(zr, p.classes, z_end), zr, tr);
  }
}

template <class T>
Forward forward(const Problem& p, const T* z, const T* soft, bool with_parts) {
  Forward out(p.rows, with_parts);
  parallel_rows(p, [&](int64_t lo, int64_t hi) { forward_rows(p, z, soft, lo, hi, out); });
  return out;
}

// The per-row values reduced as the options ask: (R) → (N, d1, ..., dk) or a scalar.
Tensor reduce_rows(const Problem& p, const double* values, const Shape& row_shape, Dtype dtype) {
  if (p.reduction == Reduction::None) return tensor(std::vector<double>(values, values + p.rows), row_shape, dtype);
  double total = 0;
  for (int64_t row = 0; row < p.rows; ++row) total += values[row];  // in row order: thread-count independent
  if (p.reduction == Reduction::Mean) total = p.denominator > 0 ? total / p.denominator : 0.0;
  return scalar_tensor(total, dtype);
}

// scale_n, the row's share of dL/dloss: g[n] without reduction, else reduced_scale.
double row_scale(const Problem& p, const double* g, double reduced_scale, int64_t row) {
  return p.reduction == Reduction::None ? g[row] : reduced_scale;
}

// The gradient for index targets, dz_c = (p_c·S − w_c·q′_c)·scale with p = exp(z − lse). Every
// remaining class but the target y has q′_c = ε·share, under either convention, and ruled-out
// ones have 0: the bulk of a row computes these in the logits' precision (no cancellation beyond
// an ulp of p_c or ε·share). The target class, where p_y·S and q′_y = (1 − ε) + ε·share
// (AllClasses) or 1 − ε (OtherClasses) may nearly cancel, is then redone in double.
// IndexRows does this for L rows at once, one per lane, on (C, L) blocks: element (c, j) at c·L + j
// (L = 1: a row as it is; L = kLanes: a transposed group of short rows).
template <class T, int L>
struct IndexRows {
  double lse[L];
  T k[L], smoothing[L];  // scale·S, scale·ε·share
  double target_k[L];    // scale·S again, in double
  double target_q[L];    // scale·w_y·q′_y
  int64_t y[L];

  // Rows first, …, first + L − 1, of which `count` exist; the lanes past them (the forward's
  // columns are padded) and those of ignored rows are computed but never stored.
  IndexRows(const Problem& p, const Forward& f, const double* g, double reduced_scale, int64_t first, int count) {
    const bool all = p.convention == SmoothingTarget::AllClasses;
    for (int j = 0; j < L; ++j) {
      const int64_t label = j < count ? p.labels[first + j] : 0;
      y[j] = label >= 0 && label < p.classes ? label : 0;  // an ignored row's label may be any number
    }
    for (int j = 0; j < L; ++j) {
      const int64_t row = first + j;
      const double scale = j < count ? row_scale(p, g, reduced_scale, row) : 0.0;
      lse[j] = f.lse[row];
      target_k[j] = scale * f.target_weight[row];
      k[j] = static_cast<T>(target_k[j]);
      smoothing[j] = static_cast<T>(scale * f.smoothing_q[row]);
      target_q[j] = scale * p.w(y[j]) * ((1 - f.eps[row]) + (all ? f.smoothing_q[row] : 0.0));
    }
  }
  void bulk(const T* z, T* dz, int64_t c, T w_c) const {  // class c of every lane, as if not a target
    for (int j = 0; j < L; ++j)
      dz[c * L + j] = k[j] * exp_of<T>(z[c * L + j] - lse[j]) -
                      select(z[c * L + j] == -std::numeric_limits<T>::infinity(), T(0), w_c * smoothing[j]);
  }
  void targets(const T* z, T* dz) const {
    T z_y[L], dz_y[L];
    for (int j = 0; j < L; ++j) z_y[j] = z[y[j] * L + j];
    for (int j = 0; j < L; ++j) dz_y[j] = static_cast<T>(target_k[j] * exp_of<T>(z_y[j] - lse[j]) - target_q[j]);
    for (int j = 0; j < L; ++j) dz[y[j] * L + j] = dz_y[j];
  }
};

// One row's gradient dz = (p·S − w⊙q′)·scale into a contiguous dst; z is contiguous and
// readable up to z_end.
template <class T>
void gradient_row(const Problem& p, const Forward& f, const T* z, const T* z_end, const T* t, int64_t row,
                  const double* g, double reduced_scale, T* dst) {
  const double scale = row_scale(p, g, reduced_scale, row);
  if (t != nullptr) {  // probability targets: q′_c = (1 − ε)·t_c + ε·u_c
    const bool all = p.convention == SmoothingTarget::AllClasses;
    const double lse = f.lse[row], target_weight = f.target_weight[row], eps = f.eps[row],
                 smoothing_q = f.smoothing_q[row];
    for (int64_t c = 0; c < p.classes; ++c) {
      const double eps_u = z[c] == kNegInf ? 0.0 : all ? smoothing_q : smoothing_q * (1 - t[c]);
      const double q = (1 - eps) * t[c] + eps_u;
      dst[c] = static_cast<T>(scale * (exp_of<T>(z[c] - lse) * target_weight - p.w(c) * q));
    }
    return;
  }
  const IndexRows<T, 1> rows(p, f, g, reduced_scale, row, 1);
  const auto write = [&](auto weight) {  // weight(c) is w_c, read for whole blocks (padded past C)
    const int64_t whole = p.classes / kLanes * kLanes;
    for (int64_t c = 0; c < whole; ++c) rows.bulk(z, dst, c, weight(c));
    if (whole < p.classes) {  // the last, partial block: computed whole, stored in part
      T padded[kLanes], out[kLanes];
      const T* v = tail_block(z, whole, p.classes, z_end, padded);
      for (int j = 0; j < kLanes; ++j) rows.bulk(v, out, j, weight(whole + j));
      for (int j = 0; j < p.classes - whole; ++j) dst[whole + j] = out[j];
    }
  };
  if (p.weight.empty()) {
    write([](int64_t) { return T(1); });
  } else {
    write([w = p.weight.data()](int64_t c) { return static_cast<T>(w[c]); });
  }
  rows.targets(z, dst);
}

// The backward over rows [lo, hi).
template <class T>
HUMBLE_SIMD_CLONES void backward_rows(const Problem& p, const Forward& f, const T* z, const T* soft, const double* g,
                                      double reduced_scale, T* dst, int64_t lo, int64_t hi) {
  if (short_rows(p) && !p.soft) {  // kLanes rows at a time, transposed (see short_rows)
    T block[kLanes * kLanes], out[kLanes * kLanes];
    for (int64_t first = lo; first < hi; first += kLanes) {
      const int count = static_cast<int>(std::min<int64_t>(kLanes, hi - first));
      const IndexRows<T, kLanes> rows(p, f, g, reduced_scale, first, count);
      transpose_rows(z + first * p.classes, p.classes, count, block);
      for (int64_t c = 0; c < p.classes; ++c) rows.bulk(block, out, c, static_cast<T>(p.w(c)));
      rows.targets(block, out);
      untranspose_rows(out, p.classes, count, dst + first * p.classes);
      for (int64_t row = first; row < first + count; ++row)
        if (p.ignored(row)) std::fill(dst + row * p.classes, dst + (row + 1) * p.classes, T(0));
    }
    return;
  }
  std::vector<T> z_row, t_row, d_row;  // scratch for strided rows
  for (int64_t row = lo; row < hi; ++row) {
    const int64_t base = p.offset(row);
    T* dr = dst + base;
    if (p.stride != 1) {
      d_row.resize(p.classes);
      dr = d_row.data();
    }
    if (p.ignored(row)) {
      std::fill(dr, dr + p.classes, T(0));
    } else {
      const T* zr = z + base;
      const T* z_end = z + p.rows * p.classes;
      const T* tr = p.soft ? soft + base : nullptr;
      if (p.stride != 1) {
        zr = gather_row(p, zr, z_row);
        z_end = zr + z_row.size();
        if (tr != nullptr) tr = gather_row(p, tr, t_row);
      }
      gradient_row(p, f, zr, z_end, tr, row, g, reduced_scale, dr);
    }
    if (p.stride != 1)
      for (int64_t c = 0; c < p.classes; ++c) dst[base + c * p.stride] = d_row[c];
  }
}

template <class T>
Tensor backward(const Problem& p, const Forward& stats, const Tensor& logits, const Tensor& soft_target,
                const Tensor& grad_output) {
  Tensor dz = empty_like(logits);
  const T* z = logits.data<T>();
  const T* soft = p.soft ? soft_target.data<T>() : nullptr;
  T* dst = dz.data<T>();
  const std::vector<double> g = grad_output.to_vector();
  const double reduced_scale = p.reduction == Reduction::Mean ? (p.denominator > 0 ? g[0] / p.denominator : 0.0) : g[0];
  parallel_rows(
      p, [&](int64_t lo, int64_t hi) { backward_rows(p, stats, z, soft, g.data(), reduced_scale, dst, lo, hi); });
  return dz;
}

Shape row_shape_of(const Tensor& logits) {
  Shape shape = logits.shape();
  shape.erase(shape.begin() + 1);
  return shape;
}

// The node; with `parts`, also the loss's parts (logged, never differentiated).
Tensor cross_entropy_node(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options,
                          CrossEntropyParts* parts) {
  const Problem p = validate(logits, target, options);
  return dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
    // The node keeps both inputs alive: p.labels points into the target's storage.
    const Tensor z = logits.detach(), kept_target = target.detach(), soft = p.soft ? kept_target : Tensor();
    const auto f = std::make_shared<const Forward>(
        forward<T>(p, z.data<T>(), p.soft ? soft.data<T>() : nullptr, parts != nullptr));
    const Shape rows = row_shape_of(logits);
    if (parts != nullptr) {
      std::vector<double> nll_part(p.rows), smoothing_part(p.rows);
      for (int64_t row = 0; row < p.rows; ++row) {
        nll_part[row] = (1 - f->eps[row]) * f->nll[row];
        smoothing_part[row] = f->eps[row] * f->smoothing[row];
      }
      parts->nll_part = reduce_rows(p, nll_part.data(), rows, logits.dtype());
      parts->smoothing_part = reduce_rows(p, smoothing_part.data(), rows, logits.dtype());
      parts->nll = reduce_rows(p, f->nll, rows, logits.dtype());
    }
    // cross_entropy: loss_n = (1 − ε)·NLL_n + ε·CE(u, p)_n;  dz = (p·S − w⊙q′)·scale
    return record("cross_entropy", reduce_rows(p, f->loss, rows, logits.dtype()), {logits, target},
                  [p, f, z, kept_target, soft](const Tensor& g) -> Tensors {
                    return {backward<T>(p, *f, z, soft, g), Tensor()};
                  });
  });
}

}  // namespace

CrossEntropyParts cross_entropy_parts(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  CrossEntropyParts parts;
  parts.loss = cross_entropy_node(logits, target, options, &parts);
  return parts;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  return cross_entropy_node(logits, target, options, nullptr);
}

}  // namespace humble::losses
