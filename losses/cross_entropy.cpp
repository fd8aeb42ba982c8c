// losses/cross_entropy.cpp — the fused label-smoothed cross-entropy node (math in the header).
//
// Legend: R rows (positions), C classes, and `stride` the distance between two classes of a row
// (1 for (N, C) logits, d1⋯dk otherwise). Forward, per row: pass 1 finds the max m and sums z;
// pass 2 sums exp(z − m), so lse = m + log Σ exp(z − m) and
//   NLL = A0·lse − A1 with A1 = Σ w t z, A0 = Σ w t;   CE(u, p) = B0·lse − B1 likewise with u.
// With class indices, no class weights and no ruled-out class (the usual case), A1 = z_y,
// A0 = 1 and Σ z is all B1 needs; otherwise a third pass gathers the weighted sums. No
// log-softmax tensor is materialised. The forward also checks each class-index target as it
// reads the row (no pass of its own over labels and logits). Backward is one pass writing
// (p·S − w⊙q′)·scale from what the forward saved per row: lse, S = Σ w q′, ε, ε·u, whether every
// class remains and, for index targets, the target class's S·p_y − w_y·q′_y.
//
// Speed (bench/ measures float32 (N, C) against PyTorch; docs/benchmarks.md):
//   - float32 rows go 8 values at a time in vectors (Floats8, core/fast_math.hpp), their sums in
//     double lanes (Doubles8); float64 rows run through the same code one value at a time;
//     every pass is stride 1 (a strided row is first copied into a scratch row); a long row's
//     first pass takes its max and Σ z together;
//   - short float32 rows (C < 16) go 8 at a time: the forward loads a group as C columns (8 × 8
//     transposes), one row per lane, and reduces across columns; the backward runs on the rows'
//     own layout, each lane taking its row's lse and scales by a permutation (FlatGroup), only
//     lse when the group's rows share their scales (Forward::plain);
//   - e^x is fast_exp_flush for float32 (within 1 ulp; terms below 1.2e−38 are 0) and std::exp
//     for float64; log Σ is fast_log (within 2 ulp); sums stay double. The gradient's argument
//     z − lse is (z − lse_hi) − lse_lo, lse split into two floats, so it stays in float;
//   - the gradient's bulk is computed in the logits' precision, the target class — where both terms
//     are largest and may nearly cancel — in double (by the forward: set_target_gradient);
//   - the row loops are built twice (HUMBLE_SIMD_CLONES): plain x86-64, and x86-64-v3 (AVX2, FMA)
//     where available.
// Rows run in parallel above a grain, each row (each group of short rows) written by one task, and
// the per-row losses are summed in a fixed order: the same bits for any thread count.
#include "cross_entropy.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
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
constexpr int kPadding = 16;  // zeros after weights and scratch rows, so that whole vectors are readable

// Everything the kernels read, validated once at the boundary.
struct Problem {
  int64_t rows = 0, classes = 0, stride = 1;
  double eps = 0;
  SmoothingTarget convention = SmoothingTarget::AllClasses;
  bool soft = false;                // probability targets
  const int64_t* labels = nullptr;  // (R) when !soft
  int64_t ignore_index = -100;
  std::vector<double> weight;  // (C) then kPadding zeros; empty = all ones
  Reduction reduction = Reduction::Mean;
  double denominator = 0;  // of the mean (mean_denominator), set by the forward

  int64_t offset(int64_t row) const {  // of the row's first class
    return stride == 1 ? row * classes : (row / stride) * classes * stride + row % stride;
  }
  bool ignored(int64_t row) const { return !soft && labels[row] == ignore_index; }
  int64_t label(int64_t row) const { return soft ? -1 : labels[row]; }  // −1 for probability targets
  double w(int64_t c) const { return weight.empty() ? 1.0 : weight[c]; }
};

// Per-row results of the forward pass: columns of one uninitialised float64 buffer that the
// rows' tasks fill in, zeros for ignored rows. A column is R′ long, R rounded up to a whole group
// of 8 rows (the rows past R hold zeros), so that a group's values load as one Doubles8. The
// backward keeps the buffer.
struct Forward {
  Tensor buffer;  // (columns, R′)
  // What the backward needs:
  double* lse = nullptr;              // lse_n
  double* target_weight = nullptr;    // S_n = Σ w q′, the scale of p in the gradient
  double* eps = nullptr;              // ε as applied to the row (0 when nothing is left to smooth onto)
  double* smoothing_q = nullptr;      // ε·u on a remaining class other than the target: ε/C′ or ε/(C′ − 1)
  double* target_gradient = nullptr;  // S·p_y − w_y·q′_y: the target class's gradient before scale (index targets)
  // The loss, and its parts for cross_entropy_parts only (else null):
  double* loss = nullptr;       // (1 − ε)·NLL_n + ε·CE(u, p)_n
  double* nll = nullptr;        // NLL_n, weighted
  double* smoothing = nullptr;  // CE(u, p)_n, weighted
  // Per row: 1 when no class is ruled out (no logit is −inf), so that no −inf logit needs keeping
  // out of the smoothing term (an ignored row's is 0).
  std::vector<uint8_t> all_remain;
  // Per group of eight short rows: 1 when the group took the usual case (index targets, no
  // weights, no row ignored, every logit finite), so that its rows share S, ε and ε·u.
  std::vector<uint8_t> plain;

  Forward(int64_t rows, bool with_parts) : all_remain((rows + 7) / 8 * 8, 0), plain((rows + 7) / 8, 0) {
    std::vector<double**> columns = {&lse, &target_weight, &eps, &smoothing_q, &target_gradient, &loss};
    if (with_parts) columns.insert(columns.end(), {&nll, &smoothing});
    const int64_t padded = (rows + 7) / 8 * 8;
    buffer = empty({static_cast<int64_t>(columns.size()), padded}, Dtype::Float64);
    for (std::size_t i = 0; i < columns.size(); ++i) {
      *columns[i] = buffer.data<double>() + static_cast<int64_t>(i) * padded;
      std::fill(*columns[i] + rows, *columns[i] + padded, 0.0);
    }
  }
};

std::string dims_of(const Tensor& logits, const Tensor& target) {
  return str_cat("(logits ", shape_str(logits.shape()), ", target ", shape_str(target.shape()), ")");
}

// What the forward learns about class-index targets as it checks them: how many rows are ignored,
// and the first bad row (a class outside [0, C) that is not ignore_index, or a class whose logit
// is −inf). Each task checks its rows in order and stops at its first bad one, so the smallest row
// reported is the first bad row of all, whatever the thread count.
struct TargetTally {
  std::atomic<int64_t> ignored{0};
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  void bad(int64_t row) {
    int64_t seen = first_bad.load();
    while (row < seen && !first_bad.compare_exchange_weak(seen, row)) {
    }
  }
};

enum class TargetStatus { Valid, Ignored, Bad };

// The class-index target of `row`, whose first class is at z_row (classes p.stride apart).
template <class T>
TargetStatus target_status(const Problem& p, const T* z_row, int64_t row) {
  const int64_t y = p.labels[row];
  if (y == p.ignore_index) return TargetStatus::Ignored;
  if (static_cast<uint64_t>(y) >= static_cast<uint64_t>(p.classes) ||  // y < 0 or y >= C
      z_row[y * p.stride] == -std::numeric_limits<T>::infinity())
    return TargetStatus::Bad;
  return TargetStatus::Valid;
}

[[noreturn]] void throw_bad_target(const Problem& p, int64_t row) {
  const int64_t y = p.labels[row];
  if (y < 0 || y >= p.classes)
    throw ValueError(str_cat("[cross_entropy] target[", row, "] = ", y, " is not a class in [0, ", p.classes,
                             ") nor ignore_index (", p.ignore_index, ")"));
  throw ValueError(str_cat("[cross_entropy] target[", row, "] = ", y, " is a class whose logit is -inf"));
}

// The mean's denominator once the targets are checked: Σ_n w_{y_n} over the rows not ignored
// (summed in fixed chunks, whatever the thread count), their number without weights, R for
// probability targets.
double mean_denominator(const Problem& p, int64_t ignored) {
  if (p.soft) return static_cast<double>(p.rows);
  if (p.weight.empty()) return static_cast<double>(p.rows - ignored);
  return deterministic_sum(p.rows, 16384, [&p](int64_t lo, int64_t hi) {
    double sum = 0;
    for (int64_t row = lo; row < hi; ++row)
      if (!p.ignored(row)) sum += p.weight[p.labels[row]];
    return sum;
  });
}

Problem validate(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  if (!logits.defined() || !target.defined()) throw ValueError("[cross_entropy] logits and target must be defined");
  if (!logits.is_floating_point())
    throw ValueError(str_cat("[cross_entropy] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  if (logits.dim() < 2)
    throw ShapeError(
        str_cat("[cross_entropy] logits must be (N, C) or (N, C, d1, ..., dk), got ", shape_str(logits.shape())));
  const double eps = options.label_smoothing;
  if (!std::isfinite(eps) || eps < 0 || eps > 1)
    throw ValueError(str_cat("[cross_entropy] label_smoothing must be a finite number in [0, 1], got ", eps));

  Problem p;
  p.classes = logits.shape()[1];
  p.stride = shape_numel(Shape(logits.shape().begin() + 2, logits.shape().end()));
  p.rows = logits.numel() / std::max<int64_t>(p.classes, 1);
  p.eps = eps;
  p.convention = options.smoothing_target;
  p.ignore_index = options.ignore_index;
  p.reduction = options.reduction;
  if (p.classes < 1)
    throw ShapeError(str_cat("[cross_entropy] logits need at least one class ", dims_of(logits, target)));
  if (p.convention == SmoothingTarget::OtherClasses && eps > 0 && p.classes < 2)
    throw ValueError(str_cat("[cross_entropy] smoothing onto OtherClasses needs C >= 2, got C = ", p.classes));

  if (options.weight.defined()) {
    const Tensor& w = options.weight;
    if (w.shape() != Shape{p.classes})
      throw ShapeError(str_cat("[cross_entropy] weight must be (", p.classes, ",) to match logits ",
                               shape_str(logits.shape()), ", got ", shape_str(w.shape())));
    if (w.dtype() != logits.dtype())
      throw ValueError(str_cat("[cross_entropy] weight must be ", dtype_name(logits.dtype()), " like the logits, got ",
                               dtype_name(w.dtype())));
    p.weight = w.to_vector();
    for (int64_t c = 0; c < p.classes; ++c)
      if (!(p.weight[c] >= 0) || !std::isfinite(p.weight[c]))
        throw ValueError(str_cat("[cross_entropy] weight[", c, "] must be finite and >= 0, got ", p.weight[c]));
    p.weight.resize(p.classes + kPadding, 0.0);  // the kernels read whole vectors
  }

  if (target.dtype() == Dtype::Int64) {
    Shape expected = logits.shape();
    expected.erase(expected.begin() + 1);
    if (target.shape() != expected)
      throw ShapeError(str_cat("[cross_entropy] class-index target must be ", shape_str(expected), " for logits ",
                               shape_str(logits.shape()), ", got ", shape_str(target.shape())));
    p.labels = target.data<int64_t>();  // checked by the forward, as it goes
    return p;
  }

  if (target.shape() != logits.shape())
    throw ShapeError(
        str_cat("[cross_entropy] a probability target must have the logits' shape ", dims_of(logits, target)));
  if (target.dtype() != logits.dtype())
    throw ValueError(str_cat("[cross_entropy] a probability target must have the logits' dtype ",
                             dtype_name(logits.dtype()), ", got ", dtype_name(target.dtype())));
  p.soft = true;
  const auto is_ruled_out = [&, f32 = logits.dtype() == Dtype::Float32, data = logits.raw_data()](int64_t row,
                                                                                                  int64_t c) {
    const int64_t i = p.offset(row) + c * p.stride;
    return f32 ? static_cast<const float*>(data)[i] == -std::numeric_limits<float>::infinity()
               : static_cast<const double*>(data)[i] == kNegInf;
  };
  const double tolerance = logits.dtype() == Dtype::Float32 ? 1e-4 : 1e-8;
  const std::vector<double> t = target.to_vector();
  for (int64_t row = 0; row < p.rows; ++row) {
    double total = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      const double v = t[p.offset(row) + c * p.stride];
      if (!(v >= 0) || !std::isfinite(v))
        throw ValueError(str_cat("[cross_entropy] target probability at row ", row, ", class ", c, " is ", v,
                                 "; expected a finite value >= 0"));
      if (v > 0 && is_ruled_out(row, c))
        throw ValueError(str_cat("[cross_entropy] target puts probability ", v, " on class ", c, " of row ", row,
                                 ", whose logit is -inf"));
      total += v;
    }
    if (std::abs(total - 1) > tolerance)
      throw ValueError(str_cat("[cross_entropy] target probabilities of row ", row, " sum to ", total,
                               "; expected 1 (within ", tolerance, ")"));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Vectors. Float32 rows are processed Lanes<float>::n = 8 values (or 8 short rows) at a time as
// Floats8, with their sums in Doubles8 (core/fast_math.hpp); float64 rows one value at a time,
// through the same code with V = Wide = double.

template <class T>
struct Lanes {  // float64
  using V = double;
  using Wide = double;
  static constexpr int n = 1;
};
template <>
struct Lanes<float> {
  using V = Floats8;
  using Wide = Doubles8;
  static constexpr int n = 8;
};

template <class V, class T>
[[gnu::always_inline]] inline V load(const T* from) {
  V v;
  std::memcpy(&v, from, sizeof(V));
  return v;
}
template <class V, class T>
[[gnu::always_inline]] inline void store(T* to, const V& v) {
  std::memcpy(to, &v, sizeof(V));
}
[[gnu::always_inline]] inline void store(double* to, const Doubles8& v) {  // two halves, not one 64-byte copy
  store(to, v.lo);
  store(to + 4, v.hi);
}
template <class Wide>
[[gnu::always_inline]] inline Wide load_wide(const double* from) {
  if constexpr (std::is_same_v<Wide, double>) {
    return *from;
  } else {
    return {load<Doubles4>(from), load<Doubles4>(from + 4)};
  }
}
template <class V>
[[gnu::always_inline]] inline auto lane(const V& v, int j) {
  if constexpr (std::is_arithmetic_v<V>) {
    return v;
  } else {
    return v[j];
  }
}
// e^x lane by lane: fast_exp_flush for float32 (every x here is z − max or z − lse, so ≤ 0; a
// term below 1.2e−38 is 0), std::exp for float64; exp_of rounds a double x once to T.
template <class V>
[[gnu::always_inline]] inline V exp_lanes(V x) {
  if constexpr (std::is_same_v<V, double>) {
    return std::exp(x);
  } else {
    return fast_exp_flush(x);
  }
}
template <class T>
T exp_of(double x) {
  return exp_lanes(static_cast<T>(x));
}

// The row's last, partial vector [c, n) as a whole one: read in place when the memory after the
// row is readable (up to readable_end; the extra lanes are then ignored), otherwise through a
// zero-padded copy.
template <class V, class T>
V tail_vector(const T* row, int64_t c, int64_t n, const T* readable_end) {
  constexpr int kWidth = sizeof(V) / sizeof(T);
  if (readable_end - (row + c) >= kWidth) return load<V>(row + c);
  T padded[kWidth] = {};
  std::copy(row + c, row + n, padded);
  return load<V>(padded);
}

// Pass 1 and 2 over a row: lse = m + log Σ exp(z − m), with m its max, and Σ z.
struct RowSums {
  double lse, sum_z;
};

// A contiguous row of n values: the max lane by lane (a > b ? a : b); the sums over whole
// vectors, in double lanes added in lane order at the end, then over the last, partial vector,
// whose exponentials are computed whole and added one lane at a time.
template <class T>
RowSums row_sums(const T* z, int64_t n, const T* readable_end) {
  using V = typename Lanes<T>::V;
  using Wide = typename Lanes<T>::Wide;
  constexpr int kWidth = Lanes<T>::n;
  const int64_t whole = n / kWidth * kWidth;
  const auto larger = [](auto a, auto b) { return a > b ? a : b; };  // a NaN passed over makes Σ exp NaN anyway
  V best_lanes = V{} - std::numeric_limits<T>::infinity();
  Wide lanes_exp{}, lanes_z{};
  for (int64_t c = 0; c < whole; c += kWidth) {  // pass 1, the row's first read: max and Σ z
    const V v = load<V>(z + c);
    best_lanes = larger(v, best_lanes);
    lanes_z += widen(v);
  }
  T m = lane(best_lanes, 0);
  for (int j = 1; j < kWidth; ++j) m = larger(lane(best_lanes, j), m);
  for (int64_t c = whole; c < n; ++c) m = larger(z[c], m);

  for (int64_t c = 0; c < whole; c += kWidth) lanes_exp += widen(exp_lanes(load<V>(z + c) - m));  // pass 2
  double sum_exp = 0, sum_z = 0;
  for (int j = 0; j < kWidth; ++j) {
    sum_exp += lane(lanes_exp, j);
    sum_z += lane(lanes_z, j);
  }
  if (whole < n) {
    const V v = tail_vector<V>(z, whole, n, readable_end), e = exp_lanes(v - m);
    for (int j = 0; j < n - whole; ++j) {
      sum_exp += lane(e, j);
      sum_z += lane(v, j);
    }
  }
  return {m + fast_log(sum_exp), sum_z};
}

// Short rows (C < kShortRow, stride 1, float32) go eight at a time, one row per lane, so that
// their passes are vector operations across rows: a group is first loaded as C columns,
// column c holding z_{row j, c} in lane j.
constexpr int kShortRow = 16;
template <class T>
bool short_rows(const Problem& p) {
  return Lanes<T>::n > 1 && p.stride == 1 && p.classes < kShortRow;
}
using Columns = Floats8[kShortRow];

// Transposes an 8 × 8 block of floats in place: v[i][j] ↔ v[j][i] (unpack, shuffle, then swap of
// 128-bit halves: 24 shuffles).
void transpose8(Floats8 (&v)[8]) {
  Floats8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(v[i], v[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(v[i], v[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + h + 2] = __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  const int order[4] = {0, 2, 1, 3};  // u[0..3] hold columns 0, 2, 1, 3 of the first four rows
  for (int k = 0; k < 4; ++k) {
    v[k] = __builtin_shufflevector(u[order[k]], u[order[k] + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    v[k + 4] = __builtin_shufflevector(u[order[k]], u[order[k] + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

using GroupBuffer = float[8 * kShortRow];

// A group of `count` (≤ 8) contiguous rows of C values as a whole group of eight: the rows
// themselves when all eight exist, else a copy in `padded` with the missing rows 0.
const float* whole_group(const float* rows, int64_t C, int count, GroupBuffer& padded) {
  if (count == 8) return rows;
  std::fill(std::copy(rows, rows + count * C, padded), padded + 8 * C, 0.0f);
  return padded;
}

// `count` (≤ 8) contiguous rows of C values at `group` into columns; missing rows read as 0. With
// C ≥ 8, through two 8 × 8 transposes, of the rows' first eight values and of their last eight
// (the columns in both come out the same); with C < 8, one column at a time.
void load_columns(const float* group, int64_t C, int count, Columns& column) {
  GroupBuffer padded;
  const float* rows = whole_group(group, C, count, padded);
  if (C < 8) {
    for (int64_t c = 0; c < C; ++c) {
      const float* r = rows + c;
      column[c] = Floats8{r[0], r[C], r[2 * C], r[3 * C], r[4 * C], r[5 * C], r[6 * C], r[7 * C]};
    }
    return;
  }
  for (const int64_t from : {int64_t{0}, C - 8}) {
    Floats8 block[8];
    for (int j = 0; j < 8; ++j) block[j] = load<Floats8>(rows + j * C + from);
    transpose8(block);
    std::copy(block, block + 8, column + from);
  }
}

// The sums of eight short rows, one per lane: lse and Σ z.
struct ShortRowSums {
  Doubles8 lse, sum_z;
};
ShortRowSums short_row_sums(const Columns& column, int64_t C) {
  Floats8 m = column[0];  // a NaN may be passed over here: it makes its row's Σ exp NaN anyway
  Doubles8 sum_exp{}, sum_z = widen(column[0]);
  for (int64_t c = 1; c < C; ++c) {
    m = column[c] > m ? column[c] : m;
    sum_z += widen(column[c]);
  }
  for (int64_t c = 0; c < C; ++c) sum_exp += widen(exp_lanes(column[c] - m));
  return {widen(m) + fast_log(sum_exp), sum_z};
}

// A row's forward results (as in Forward: lse, S, ε as applied, ε·u, and NLL_n, CE(u, p)_n), or
// those of eight rows (D = Doubles8) that share ε and ε·u.
template <class D>
struct RowForward {
  D lse{}, target_weight{}, nll{}, smoothing{};
  double eps = 0, smoothing_q = 0;
  bool all_remain = false;  // no class ruled out
  D target_gradient{};      // index targets only (set_target_gradient)
};

// The target class's gradient before scale, S·p_y − w_y·q′_y, of a row (or eight rows) with index
// target y, in double: the one element of a row's gradient whose terms may nearly cancel. q′_y =
// (1 − ε) + ε·u_y, where ε·u_y is smoothing_q under AllClasses and 0 under OtherClasses.
template <class D>
void set_target_gradient(const Problem& p, D w_y, D p_y, RowForward<D>& r) {
  const double target_q = (1 - r.eps) + (p.convention == SmoothingTarget::AllClasses ? r.smoothing_q : 0.0);
  r.target_gradient = r.target_weight * p_y - target_q * w_y;
}

// u = 1/C′ on every remaining class, or (1 − t)/(C′ − 1) on the others: that share, and ε as
// applied (0 when nothing is left to smooth onto), for a row with C′ = `remaining` classes.
struct Smoothing {
  double eps, share;
};
Smoothing smoothing_of(const Problem& p, int64_t remaining) {
  const bool all = p.convention == SmoothingTarget::AllClasses;
  return {(all || remaining > 1) ? p.eps : 0.0, all ? 1.0 / remaining : remaining > 1 ? 1.0 / (remaining - 1) : 0.0};
}

// The closed form (math at the top of the file) from a row's terms: NLL_n; A0 = Σ w t, A1 = Σ w t z;
// Σ w z and Σ w over the remaining (not ruled-out) classes, and how many remain.
template <class D>
RowForward<D> closed_form(const Problem& p, D lse, D nll, D a0, D a1, D wz, D w_total, int64_t remaining) {
  const bool all = p.convention == SmoothingTarget::AllClasses;
  const auto [eps, share] = smoothing_of(p, remaining);
  const D b1 = share * (all ? wz : wz - a1), b0 = share * (all ? w_total : w_total - a0);
  return {lse, (1 - eps) * a0 + eps * b0, nll, b0 * lse - b1, eps, eps * share, remaining == p.classes};
}

// The rest of a row's forward, from its sums. z: the row's C logits, contiguous; t: its C target
// probabilities, or null for index targets, whose class is y.
template <class T>
RowForward<double> finish_row(const Problem& p, const RowSums& sums, const T* z, const T* t, int64_t y) {
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
  // Index targets: NLL = w_y·(lse − z_y), the difference first — w_y·lse − w_y·z_y would cancel two
  // rounded products (with FMA, a confidently right row could get a loss of −1e-13 instead of 0).
  const double nll = t == nullptr ? a0 * (sums.lse - z[y]) : a0 * sums.lse - a1;
  RowForward<double> r = closed_form(p, sums.lse, nll, a0, a1, wz, w_total, remaining);
  if (t == nullptr) set_target_gradient(p, a0, static_cast<double>(exp_of<T>(z[y] - sums.lse)), r);
  return r;
}

// Stores the results of the row (or eight rows) from `row` into the forward's columns.
template <class D>
void store_forward(const RowForward<D>& r, int64_t row, Forward& out) {
  store(out.lse + row, r.lse);
  store(out.target_weight + row, r.target_weight);
  store(out.eps + row, D{} + r.eps);
  store(out.smoothing_q + row, D{} + r.smoothing_q);
  store(out.target_gradient + row, r.target_gradient);
  std::fill_n(out.all_remain.begin() + row, std::is_same_v<D, double> ? 1 : 8, r.all_remain);
  store(out.loss + row, (1 - r.eps) * r.nll + r.eps * r.smoothing);
  if (out.nll != nullptr) {
    store(out.nll + row, r.nll);
    store(out.smoothing + row, r.smoothing);
  }
}

// The C values of a strided row, copied into `scratch` (kPadding longer, so whole vectors are readable).
template <class T>
const T* gather_row(const Problem& p, const T* first, std::vector<T>& scratch) {
  scratch.resize(p.classes + kPadding);
  for (int64_t c = 0; c < p.classes; ++c) scratch[c] = first[c * p.stride];
  return scratch.data();
}

// parallel_for over the rows, handing out whole groups of eight rows when rows are short. A pass
// costs a few nanoseconds per logit, several times an elementwise kernel's, so its chunks are a
// quarter of theirs: small enough (tens of microseconds) that no thread waits long for the last.
template <class T>
void parallel_rows(const Problem& p, const std::function<void(int64_t, int64_t)>& body) {
  constexpr int64_t kGrain = kElementwiseGrain / 4;  // logits
  const int64_t unit = short_rows<T>(p) ? 8 : 1;
  const int64_t grain = std::max<int64_t>(1, kGrain / (p.classes * unit));
  parallel_for((p.rows + unit - 1) / unit, grain,
               [&](int64_t lo, int64_t hi) { body(lo * unit, std::min(hi * unit, p.rows)); });
}

bool any(const Int64x4& mask) { return (mask[0] | mask[1] | mask[2] | mask[3]) != 0; }
bool any(const Int32x8& mask) { return any(std::bit_cast<Int64x4>(mask)); }

bool all_finite(const Doubles8& x) {
  const auto not_finite = [](Doubles4 d) {  // exponent all ones
    return std::bit_cast<Int64x4>((std::bit_cast<Int64x4>(d) & 0x7FF0000000000000) == 0x7FF0000000000000);
  };
  return !any(not_finite(x.lo) | not_finite(x.hi));
}

// The class-index targets of a group of eight short rows, one per lane: y_j (0 where the row is
// ignored or its class is outside [0, C)), and masks of the rows ignored and of those whose class
// is outside [0, C).
struct TargetLanes {
  Int32x8 y, ignored, outside;
};
TargetLanes target_lanes(const Problem& p, const int64_t* labels) {
  const Int64x4 lo = load<Int64x4>(labels), hi = load<Int64x4>(labels + 4);
  const auto low_halves = [](const Int64x4& a, const Int64x4& b) {  // of the 64-bit lanes of a, then of b
    return __builtin_shufflevector(std::bit_cast<Int32x8>(a), std::bit_cast<Int32x8>(b), 0, 2, 4, 6, 8, 10, 12, 14);
  };
  const auto outside = [C = p.classes](const Int64x4& y) { return (y < 0) | (y >= C); };
  const Int32x8 ignored = low_halves(lo == p.ignore_index, hi == p.ignore_index);
  const Int32x8 outside_lanes = low_halves(outside(lo), outside(hi)) & ~ignored;
  return {low_halves(lo, hi) & ~(ignored | outside_lanes), ignored, outside_lanes};
}

// Lane j: column[y_j] in lane j, the logit of row j's class.
Floats8 target_logits(const Columns& column, int64_t C, const Int32x8& y) {
  // Compared as floats: GCC compares those with constants from memory, where it would rebuild each
  // integer constant in a register.
  const Floats8 y_lanes = __builtin_convertvector(y, Floats8);
  Floats8 z_y{};
  for (int64_t c = 0; c < C; ++c) z_y = select(y_lanes == static_cast<float>(c), column[c], z_y);
  return z_y;
}

// Checks the class-index target of `row`, whose first class is at z_row (p.stride apart): counts
// an ignored row and writes its zeros, reports a bad one. Probability targets are always valid.
template <class T>
TargetStatus check_target(const Problem& p, const T* z_row, int64_t row, Forward& out, int64_t& ignored,
                          TargetTally& tally) {
  const TargetStatus status = p.soft ? TargetStatus::Valid : target_status(p, z_row, row);
  if (status == TargetStatus::Ignored) {
    ++ignored;
    store_forward(RowForward<double>{}, row, out);
  }
  if (status == TargetStatus::Bad) tally.bad(row);
  return status;
}

// The forward of eight short rows from `first`, `count` of which exist, from their sums; false at a
// bad target. The usual case (all eight rows there, index targets, no weights, none ignored, every
// logit finite) finishes as vectors; any other group row by row.
bool finish_short_rows(const Problem& p, const float* z, const float* soft, const Columns& column, int64_t first,
                       int count, const Doubles8& lse, const Doubles8& sum_z, Forward& out, int64_t& ignored,
                       TargetTally& tally) {
  const int64_t C = p.classes;
  if (count == 8 && !p.soft && p.weight.empty() && all_finite(sum_z)) {
    const TargetLanes targets = target_lanes(p, p.labels + first);
    const Floats8 z_y = target_logits(column, C, targets.y);
    if (!any(targets.ignored | targets.outside)) {  // (every logit is finite: no target's is −inf)
      const Doubles8 one = Doubles8{} + 1.0, y_logit = widen(z_y);
      RowForward<Doubles8> r =
          closed_form(p, lse, lse - y_logit, one, y_logit, sum_z, Doubles8{} + static_cast<double>(C), C);
      set_target_gradient(p, one, widen(exp_lanes(narrow(y_logit - lse))), r);
      store_forward(r, first, out);
      out.plain[first / 8] = 1;
      return true;
    }
  }
  for (int j = 0; j < count; ++j) {
    const int64_t row = first + j;
    const float* zr = z + row * C;
    const TargetStatus status = check_target(p, zr, row, out, ignored, tally);
    if (status == TargetStatus::Bad) return false;
    if (status == TargetStatus::Valid)
      store_forward(finish_row(p, {lse[j], sum_z[j]}, zr, p.soft ? soft + row * C : nullptr, p.label(row)), row, out);
  }
  return true;
}

// The forward over rows [lo, hi), up to the first bad target.
template <class T>
HUMBLE_SIMD_CLONES void forward_rows(const Problem& p, const T* z, const T* soft, int64_t lo, int64_t hi, Forward& out,
                                     TargetTally& tally) {
  int64_t ignored = 0;
  if constexpr (std::is_same_v<T, float>) {
    if (short_rows<T>(p)) {
      Columns column;
      for (int64_t first = lo; first < hi; first += 8) {
        const int count = static_cast<int>(std::min<int64_t>(8, hi - first));
        load_columns(z + first * p.classes, p.classes, count, column);
        const auto [lse, sum_z] = short_row_sums(column, p.classes);
        if (!finish_short_rows(p, z, soft, column, first, count, lse, sum_z, out, ignored, tally)) break;
      }
      tally.ignored += ignored;
      return;
    }
  }
  std::vector<T> z_row, t_row;  // scratch for strided rows
  for (int64_t row = lo; row < hi; ++row) {
    const T* zr = z + p.offset(row);
    const TargetStatus status = check_target(p, zr, row, out, ignored, tally);
    if (status == TargetStatus::Bad) break;
    if (status == TargetStatus::Ignored) continue;
    const T* z_end = z + p.rows * p.classes;
    const T* tr = p.soft ? soft + p.offset(row) : nullptr;
    if (p.stride != 1) {
      zr = gather_row(p, zr, z_row);
      z_end = zr + z_row.size();
      if (tr != nullptr) tr = gather_row(p, tr, t_row);
    }
    store_forward(finish_row(p, row_sums(zr, p.classes, z_end), zr, tr, p.label(row)), row, out);
  }
  tally.ignored += ignored;
}

// The forward of every row; throws at the first bad target, and sets p's mean denominator.
template <class T>
Forward forward(Problem& p, const T* z, const T* soft, bool with_parts) {
  Forward out(p.rows, with_parts);
  TargetTally tally;
  parallel_rows<T>(p, [&](int64_t lo, int64_t hi) { forward_rows(p, z, soft, lo, hi, out, tally); });
  if (tally.first_bad.load() < p.rows) throw_bad_target(p, tally.first_bad.load());
  p.denominator = mean_denominator(p, tally.ignored.load());
  return out;
}

// The per-row values reduced as the options ask: (R) → (N, d1, ..., dk) or a scalar.
Tensor reduce_rows(const Problem& p, const double* values, const Shape& row_shape, Dtype dtype) {
  if (p.reduction == Reduction::None) return tensor(std::vector<double>(values, values + p.rows), row_shape, dtype);
  double total = deterministic_sum(p.rows, 4096, [values](int64_t lo, int64_t hi) {
    double lane[4] = {};  // four independent sums (an add's latency, not its throughput, bounds one)
    int64_t row = lo;
    for (; row + 4 <= hi; row += 4)
      for (int j = 0; j < 4; ++j) lane[j] += values[row + j];
    for (; row < hi; ++row) lane[0] += values[row];
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
  });
  if (p.reduction == Reduction::Mean) total = p.denominator > 0 ? total / p.denominator : 0.0;
  return scalar_tensor(total, dtype);
}

// The gradient for index targets, dz_c = (p_c·S − w_c·q′_c)·scale with p = exp(z − lse). Every
// remaining class but the target y has q′_c = ε·share, under either convention, and ruled-out
// ones have 0: the bulk of a row computes these in the logits' precision (no cancellation beyond
// an ulp of p_c or ε·share). The target class, where p_y·S and q′_y = (1 − ε) + ε·share
// (AllClasses) or 1 − ε (OtherClasses) may nearly cancel, is then overwritten with the forward's
// S·p_y − w_y·q′_y (computed in double) times scale.
struct IndexRow {
  double lse = 0;
  double k = 0;          // scale·S
  double smoothing = 0;  // scale·ε·share, the non-target q′_c·scale before w_c
  double target = 0;     // scale·(S·p_y − w_y·q′_y)
  int64_t y = 0;
  bool all_remain = false;  // no class ruled out, so no −inf logit to keep out of the smoothing term

  // scale is the row's share of dL/dloss: g[row] without reduction, else reduced_scale.
  IndexRow(const Problem& p, const Forward& f, const double* g, double reduced_scale, int64_t row) {
    const double scale = p.reduction == Reduction::None ? g[row] : reduced_scale;
    y = p.labels[row];
    lse = f.lse[row];
    k = scale * f.target_weight[row];
    smoothing = scale * f.smoothing_q[row];
    target = scale * f.target_gradient[row];
    all_remain = f.all_remain[row] != 0;
  }
};

// lse = hi + lo with hi exactly a float: lse with the last 29 of its 53 significand bits cleared;
// lo = lse − hi is then exact. (Bit masks, because GCC 12 folds a double → float → double round
// trip of a vector to nothing, which would make lo 0.)
double float_part(double lse) { return std::bit_cast<double>(std::bit_cast<int64_t>(lse) & ~int64_t{0x1FFFFFFF}); }
Doubles8 float_part(const Doubles8& lse) {
  const auto part = [](Doubles4 d) {
    return std::bit_cast<Doubles4>(std::bit_cast<Int64x4>(d) & ~int64_t{0x1FFFFFFF});
  };
  return {part(lse.lo), part(lse.hi)};
}

// k·exp(z − lse) − subtract for a vector of classes. lse comes as lse_hi + lse_lo, lse_hi = lse
// cut to T's precision: z − lse_hi rounds once (not at all when z and lse_hi are within a factor of 2,
// Sterbenz), so (z − lse_hi) − lse_lo is z − lse to about an ulp of it, in T. For float64,
// lse_lo is 0.
template <class V>
[[gnu::always_inline]] inline V scaled_softmax_minus(V z, V lse_hi, V lse_lo, V k, V subtract) {
  return k * exp_lanes((z - lse_hi) - lse_lo) - subtract;
}

// The bulk of the gradient for a vector of classes, each as if it were not the target:
// k·exp(z − lse) − w·smoothing, or 0 − 0 for a ruled-out class (z = −inf).
template <class V>
[[gnu::always_inline]] inline V bulk_gradient(V z, V lse_hi, V lse_lo, V k, V w_smoothing) {
  constexpr auto kNegInfT = -std::numeric_limits<std::remove_cvref_t<decltype(lane(z, 0))>>::infinity();
  return scaled_softmax_minus(z, lse_hi, lse_lo, k, select(z == kNegInfT, V{}, w_smoothing));
}

// One row's gradient dz = (p·S − w⊙q′)·scale into a contiguous dst; z is contiguous and
// readable up to z_end; t: its target probabilities, or null for index targets.
template <class T>
void gradient_row(const Problem& p, const Forward& f, const T* z, const T* z_end, const T* t, int64_t row,
                  const double* g, double reduced_scale, T* dst) {
  if (t != nullptr) {  // probability targets: q′_c = (1 − ε)·t_c + ε·u_c
    const double scale = p.reduction == Reduction::None ? g[row] : reduced_scale;
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
  using V = typename Lanes<T>::V;
  using Wide = typename Lanes<T>::Wide;
  constexpr int kWidth = Lanes<T>::n;
  const IndexRow r(p, f, g, reduced_scale, row);
  const V k = V{} + static_cast<T>(r.k), smoothing = V{} + static_cast<T>(r.smoothing);
  const auto w_smoothing = [&](int64_t c) {  // w_c·smoothing for the vector of classes from c
    return p.weight.empty() ? smoothing : narrow(load_wide<Wide>(p.weight.data() + c)) * smoothing;
  };
  const double hi = std::is_same_v<T, float> ? float_part(r.lse) : r.lse;
  const T lse_hi = static_cast<T>(hi), lse_lo = static_cast<T>(r.lse - hi);
  const auto bulk = [&](V z_c, int64_t c) {
    return r.all_remain ? scaled_softmax_minus(z_c, V{} + lse_hi, V{} + lse_lo, k, w_smoothing(c))
                        : bulk_gradient(z_c, V{} + lse_hi, V{} + lse_lo, k, w_smoothing(c));
  };
  const int64_t whole = p.classes / kWidth * kWidth;
  for (int64_t c = 0; c < whole; c += kWidth) store(dst + c, bulk(load<V>(z + c), c));
  if (whole < p.classes) {  // the last, partial vector: computed whole, stored in part
    const V d = bulk(tail_vector<V>(z, whole, p.classes, z_end), whole);
    for (int j = 0; j < p.classes - whole; ++j) dst[whole + j] = lane(d, j);
  }
  dst[r.y] = static_cast<T>(r.target);
}

// Where each value of a group of eight short rows sits in the rows' own layout (8·C values, C
// vectors): lane l of vector v is class (8v + l) mod C of the group's row (8v + l) / C.
struct FlatGroup {
  Int32x8 row[kShortRow];     // the lane's row within the group
  Floats8 weight[kShortRow];  // w of the lane's class (1 without weights)
  Int32x8 row_start;          // lane j: where row j starts, j·C
  // (Only the first min(C, 16) vectors are filled in: the layout serves short rows only.)
  explicit FlatGroup(const Problem& p) {
    for (int j = 0; j < 8; ++j) row_start[j] = static_cast<int32_t>(j * p.classes);
    for (int64_t v = 0; v < std::min<int64_t>(p.classes, kShortRow); ++v)
      for (int l = 0; l < 8; ++l) {
        const int64_t i = 8 * v + l;
        row[v][l] = static_cast<int32_t>(i / p.classes);
        weight[v][l] = static_cast<float>(p.w(i % p.classes));
      }
  }
};

// Lane l of the result is values[lanes[l]] (one vpermps with AVX2; clang lacks __builtin_shuffle).
Floats8 permute(const Floats8& values, const Int32x8& lanes) {
#if defined(__GNUC__) && !defined(__clang__)
  return __builtin_shuffle(values, lanes);
#else
  Floats8 out;
  for (int l = 0; l < 8; ++l) out[l] = values[lanes[l] & 7];
  return out;
#endif
}

// The gradient of eight short rows with index targets from `first`, `count` of which exist. The
// bulk runs on the rows' own layout, each lane taking its row's lse, k and ε·u by a permutation
// of the eight rows' values (the forward's columns and g are padded to whole groups of 8). In a
// plain group (Forward::plain) under a reduction, k and ε·u are the same for all eight rows and
// no class is ruled out, so only lse is permuted.
void short_rows_gradient(const Problem& p, const Forward& f, const FlatGroup& flat, const float* z, const double* g,
                         double reduced_scale, int64_t first, int count, float* dst) {
  const int64_t C = p.classes;
  GroupBuffer padded_z, padded_dz;
  int64_t padded_labels[8];
  const float* rows = whole_group(z + first * C, C, count, padded_z);
  const int64_t* labels = p.labels + first;
  if (count < 8) {  // the missing rows as ignored ones
    std::fill(std::copy(labels, labels + count, padded_labels), padded_labels + 8, p.ignore_index);
    labels = padded_labels;
  }
  float* out = count == 8 ? dst + first * C : padded_dz;
  const Doubles8 scale = p.reduction == Reduction::None ? load_wide<Doubles8>(g + first) : Doubles8{} + reduced_scale;
  const Doubles8 lse = load_wide<Doubles8>(f.lse + first), k = scale * load_wide<Doubles8>(f.target_weight + first);
  const Floats8 lse_hi = narrow(float_part(lse)), lse_lo = narrow(lse - float_part(lse)), k_lanes = narrow(k);
  const Floats8 smoothing = narrow(scale * load_wide<Doubles8>(f.smoothing_q + first));
  if (f.plain[first / 8] && p.reduction != Reduction::None) {
    const Floats8 k_all = Floats8{} + k_lanes[0], smoothing_all = Floats8{} + smoothing[0];
    for (int64_t v = 0; v < C; ++v)
      store(out + 8 * v, scaled_softmax_minus(load<Floats8>(rows + 8 * v), permute(lse_hi, flat.row[v]),
                                              permute(lse_lo, flat.row[v]), k_all, smoothing_all));
  } else {
    for (int64_t v = 0; v < C; ++v) {
      const Int32x8 row = flat.row[v];
      store(out + 8 * v, bulk_gradient(load<Floats8>(rows + 8 * v), permute(lse_hi, row), permute(lse_lo, row),
                                       permute(k_lanes, row), flat.weight[v] * permute(smoothing, row)));
    }
  }
  // The target classes: scale·(S·p_y − w_y·q′_y) from the forward; ignored rows get zeros.
  const TargetLanes targets = target_lanes(p, labels);
  int32_t index[8];  // of each row's target in the group
  store(index, flat.row_start + targets.y);
  float dz_y[8];
  store(dz_y, narrow(scale * load_wide<Doubles8>(f.target_gradient + first)));
  for (int j = 0; j < 8; ++j) out[index[j]] = dz_y[j];
  if (any(targets.ignored))
    for (int j = 0; j < 8; ++j)
      if (targets.ignored[j]) std::fill(out + j * C, out + (j + 1) * C, 0.0f);
  if (count < 8) std::copy(padded_dz, padded_dz + count * C, dst + first * C);
}

// The backward over rows [lo, hi).
template <class T>
HUMBLE_SIMD_CLONES void backward_rows(const Problem& p, const Forward& f, const FlatGroup& flat, const T* z,
                                      const T* soft, const double* g, double reduced_scale, T* dst, int64_t lo,
                                      int64_t hi) {
  if constexpr (std::is_same_v<T, float>) {
    if (short_rows<T>(p) && !p.soft) {
      for (int64_t first = lo; first < hi; first += 8)
        short_rows_gradient(p, f, flat, z, g, reduced_scale, first, static_cast<int>(std::min<int64_t>(8, hi - first)),
                            dst);
      return;
    }
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
  std::vector<double> g = grad_output.to_vector();
  g.resize((g.size() + 7) / 8 * 8, 0.0);                               // whole groups of 8 rows
  const double reduced_scale = p.reduction == Reduction::None   ? 0.0  // unused: each row has its own g
                               : p.reduction == Reduction::Mean ? (p.denominator > 0 ? g[0] / p.denominator : 0.0)
                                                                : g[0];
  const FlatGroup flat(p);
  parallel_rows<T>(
      p, [&](int64_t lo, int64_t hi) { backward_rows(p, stats, flat, z, soft, g.data(), reduced_scale, dst, lo, hi); });
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
  Problem p = validate(logits, target, options);
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
