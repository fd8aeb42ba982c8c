// losses/cross_entropy_fast.cpp — the fast kernel of the cross-entropy node.
//
// Its specification is the reference path (cross_entropy_reference, losses/cross_entropy.cpp):
// the same loss and gradient for every configuration, within rounding, which tests/test_losses.cpp
// checks on the golden cases and on randomized ones (both dtypes, 1 and 2 threads). Per row, with
// d_c = z_c − m ≤ 0 (m = max z) and ls = log Σ exp d, so that lse − z_c = ls − d_c:
//   loss_n = (1 − ε)·NLL + ε·CE(u, p),  NLL = A0·ls − Σ w t d,  CE(u, p) = B0·ls − Σ w u d
//   with A0 = Σ w t and B0 = Σ w u; in the usual case (class indices, no weights, no ruled-out
//   class) A0 = 1, Σ w t d = d_y, B0 = 1 and Σ w u d = Σ d / C (AllClasses);
//   ∂loss_n/∂z_c = (p_c·S − w_c·q′_c)·scale,  p_c = exp(d_c − ls),  S = Σ w q′.
// Every term of the loss is ≥ 0 (d ≤ 0, ls ≥ 0): nothing cancels, and a constant added to a row
// changes nothing. What it optimises (bench/ measures float32 (N, C) against PyTorch;
// docs/benchmarks.md):
//   - two passes over a row do the whole forward: its max, then Σ exp d and Σ d; no log-softmax
//     tensor is made; a third pass gathers weighted sums only with weights, probabilities or −inf;
//   - float32 rows go 8 values at a time in vectors (Floats8, core/simd.hpp), their sums in double
//     lanes (Doubles8); float64 rows run through the same code one value at a time; every pass is
//     stride 1 (a strided row is first copied into a scratch row);
//   - short float32 rows (C < 16) go 8 at a time: the forward loads a group as C columns (8 × 8
//     transposes), one row per lane, and reduces across columns; the backward runs on the rows'
//     own layout, each lane taking its row's m, ls and scales by a permutation (FlatGroup), only
//     m and ls when the group's rows share their scales (FastForward::plain);
//   - e^x is fast_exp_flush for float32 (within 1 ulp; terms below 1.2e−38 are 0) and std::exp for
//     float64; log Σ is fast_log (within 2 ulp); sums stay double;
//   - the gradient's bulk is computed in the logits' precision, the target class — where both terms
//     are largest and may nearly cancel — in double, p_y included (by the forward: set_target_gradient);
//   - the row loops are built twice (HUMBLE_SIMD_CLONES): plain x86-64, and x86-64-v3 (AVX2, FMA)
//     where available.
// Rows run in parallel in fixed chunks, each row (each group of short rows) written by one task, and
// the per-row losses are summed as they are made, in row order within a chunk and then chunk by
// chunk: the same bits for any thread count. The targets
// arrive validated (cross_entropy.cpp) but for one check the rows make here as they are read: that
// every kept row can be computed — no NaN or +inf logit (searched for only in a row whose sums are
// not finite), no ruled-out class index (a separate pass for it would add 3.1 % at (65536, 10)).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

#include "../core/factories.hpp"
#include "../core/fast_math.hpp"
#include "../core/kernels.hpp"
#include "../core/parallel.hpp"
#include "../core/simd.hpp"
#include "cross_entropy_problem.hpp"

namespace humble::losses::detail {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int kPadding = 16;  // zeros after weights and scratch rows, so that whole vectors are readable

// e^x lane by lane: fast_exp_flush for float32 (every x here is z − m or z − m − ls, so ≤ 0; a
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

// Pass 1 and 2 over a row: m, ls = log Σ exp(z − m), and Σ (z − m).
struct RowSums {
  double max, log_sum, sum_d;
};

// A contiguous row of n values: the max lane by lane (a > b ? a : b); the sums over whole vectors,
// in double lanes added in lane order at the end, then over the last, partial vector, whose terms
// are computed whole and added one lane at a time.
template <class T>
RowSums row_sums(const T* z, int64_t n, const T* readable_end) {
  using V = typename Lanes<T>::V;
  using Wide = typename Lanes<T>::Wide;
  constexpr int kWidth = Lanes<T>::n;
  const int64_t whole = n / kWidth * kWidth;
  const auto larger = [](auto a, auto b) { return a > b ? a : b; };  // a NaN passed over makes Σ exp NaN anyway
  V best_lanes = V{} - std::numeric_limits<T>::infinity();
  for (int64_t c = 0; c < whole; c += kWidth) best_lanes = larger(load<V>(z + c), best_lanes);  // pass 1
  T m = lane(best_lanes, 0);
  for (int j = 1; j < kWidth; ++j) m = larger(lane(best_lanes, j), m);
  for (int64_t c = whole; c < n; ++c) m = larger(z[c], m);

  Wide lanes_exp{}, lanes_d{};
  for (int64_t c = 0; c < whole; c += kWidth) {  // pass 2
    const V d = load<V>(z + c) - m;
    lanes_exp += widen(exp_lanes(d));
    lanes_d += widen(d);
  }
  double sum_exp = 0, sum_d = 0;
  for (int j = 0; j < kWidth; ++j) {
    sum_exp += lane(lanes_exp, j);
    sum_d += lane(lanes_d, j);
  }
  if (whole < n) {
    const V d = tail_vector<V>(z, whole, n, readable_end) - m, e = exp_lanes(d);
    for (int j = 0; j < n - whole; ++j) {
      sum_exp += lane(e, j);
      sum_d += lane(d, j);
    }
  }
  return {m, fast_log(sum_exp), sum_d};
}

// Short rows (C < kShortRow, stride 1, float32) go eight at a time, one row per lane, so that their
// passes are vector operations across rows: a group is first loaded as C columns, column c holding
// z_{row j, c} in lane j.
constexpr int kShortRow = 16;
template <class T>
bool short_rows(const Problem& p) {
  return Lanes<T>::n > 1 && p.stride == 1 && p.classes < kShortRow;
}
using Columns = Floats8[kShortRow];
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

// The sums of eight short rows, one per lane: m, ls and Σ d.
struct ShortRowSums {
  Floats8 max;
  Doubles8 log_sum, sum_d;
};
ShortRowSums short_row_sums(const Columns& column, int64_t C) {
  Floats8 m = column[0];  // a NaN may be passed over here: it makes its row's Σ exp NaN anyway
  for (int64_t c = 1; c < C; ++c) m = column[c] > m ? column[c] : m;
  Doubles8 sum_exp{}, sum_d{};
  for (int64_t c = 0; c < C; ++c) {
    const Floats8 d = column[c] - m;
    sum_exp += widen(exp_lanes(d));
    sum_d += widen(d);
  }
  return {m, fast_log(sum_exp), sum_d};
}

// A row's forward results (FastForward's columns), or those of eight rows (D = Doubles8) that share
// ε and ε·u.
template <class D>
struct RowForward {
  D max{}, log_sum{}, target_weight{}, nll{}, smoothing{}, loss{};
  double eps = 0, smoothing_q = 0;
  bool all_remain = false;  // no class ruled out
  D target_gradient{};      // index targets only (set_target_gradient)
};

// The target class's gradient before scale, S·p_y − w_y·q′_y, of a row (or eight rows) with index
// target y, in double (p_y by fast_exp, in double too): the one element of a row's gradient whose
// terms may nearly cancel. q′_y =
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

// The closed form from a row's sums over its `remaining` classes: A0 = Σ w t, Σ w t d, B0 = Σ w u and
// Σ w u d, with u = share·v, v = 1 (AllClasses) or 1 − t (OtherClasses).
template <class D>
RowForward<D> closed_form(const Problem& p, const Smoothing& smoothing_as_applied, int64_t remaining, D max, D log_sum,
                          D a0, D wtd, D b0, D wud) {
  const auto [eps, share] = smoothing_as_applied;
  // S = (1 − ε)·A0 + ε·B0, written so that it is exactly A0 when B0 = A0 (e.g. 1, unweighted).
  const D target_weight = a0 + eps * (b0 - a0);
  const D nll = a0 * log_sum - wtd, smoothing = b0 * log_sum - wud;
  // A part weighted 0 adds nothing, even where it overflowed (the smoothing part of a float64 row
  // whose logits span more than DBL_MAX, with ε = 0).
  const D loss = eps == 0 ? nll : eps == 1 ? smoothing : (1 - eps) * nll + eps * smoothing;
  return {max, log_sum, target_weight, nll, smoothing, loss, eps, eps * share, remaining == p.classes};
}

// Class c's target probability t_c: t[c], or for an index target y, 1 at y and 0 elsewhere.
template <class T>
double target_at(const T* t, int64_t y, int64_t c) {
  return t != nullptr ? t[c] : c == y ? 1.0 : 0.0;
}

// loss_n = Σ_c w_c·(q′_c·(ls − d_c)) term by term, as the reference path adds it: for a float64 row
// whose closed form overflowed in a sum (Σ d, or an NLL weighted by 1 − ε) while the loss may fit.
// z: the row's C logits, contiguous; t: its target probabilities, or null for index targets; eps:
// the ε applied to the row (smoothing_of).
template <class T>
double loss_by_terms(const Problem& p, const RowSums& s, const T* z, const T* t, int64_t y, int64_t remaining,
                     double eps) {
  const bool all = p.convention == SmoothingTarget::AllClasses;
  double loss = 0;
  for (int64_t c = 0; c < p.classes; ++c) {
    if (z[c] == kNegInf) continue;  // ruled out: q′_c = 0
    const double tc = target_at(t, y, c);
    const double u = all ? 1.0 / remaining : remaining > 1 ? (1 - tc) / (remaining - 1) : 0.0;
    const double q = (1 - eps) * tc + eps * u;
    if (p.w(c) != 0 && q != 0) loss += p.w(c) * (q * ((s.max - z[c]) + s.log_sum));
  }
  return loss;
}

// The rest of a row's forward, from its sums. z: the row's C logits, contiguous; t: its C target
// probabilities, or null for index targets, whose class is y.
template <class T>
RowForward<double> finish_row(const Problem& p, const RowSums& s, const T* z, const T* t, int64_t y) {
  const bool all = p.convention == SmoothingTarget::AllClasses;
  double a0 = 1, wtd = z[y] - s.max, v = static_cast<double>(all ? p.classes : p.classes - 1),
         wvd = all ? s.sum_d : s.sum_d - wtd;
  int64_t remaining = p.classes;
  // Weights, probabilities, ±inf/NaN, or (OtherClasses) a Σ_{c≠y} d that Σ d − d_y would lose in
  // rounding: d_y is more than half of Σ d.
  if (!p.weight.empty() || t != nullptr || !std::isfinite(s.sum_d) || (!all && wvd > 0.5 * s.sum_d)) {
    a0 = wtd = v = wvd = 0;
    remaining = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      if (z[c] == kNegInf) continue;  // ruled out
      ++remaining;
      const double wc = p.w(c), d = z[c] - s.max;
      const double tc = target_at(t, y, c), vc = all ? 1.0 : 1 - tc;
      a0 += wc * tc;
      v += wc * vc;
      // A class weighted 0 adds 0, also where d overflowed to −inf (float64 logits spanning more
      // than DBL_MAX): 0·(−inf) would be NaN. The weight comes last: w·t of a subnormal w may
      // underflow where w·(t·d) does not.
      wtd += select(wc != 0 && tc != 0, wc * (tc * d), 0.0);
      wvd += select(wc != 0 && vc != 0, wc * (vc * d), 0.0);
    }
  }
  const Smoothing smoothing = smoothing_of(p, remaining);
  double b0 = smoothing.share * v, wud = smoothing.share * wvd;
  if (!std::isfinite(b0) || !std::isfinite(wud)) {  // Σ w v or Σ w v d passed the range: Σ w u may not
    b0 = wud = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      if (z[c] == kNegInf) continue;
      const double wc = p.w(c), tc = target_at(t, y, c);
      const double uc = smoothing.share * (all ? 1.0 : 1 - tc);
      b0 += wc * uc;
      wud += select(wc != 0 && uc != 0, wc * (uc * (z[c] - s.max)), 0.0);
    }
  }
  RowForward<double> r = closed_form(p, smoothing, remaining, s.max, s.log_sum, a0, wtd, b0, wud);
  if (!std::isfinite(r.loss)) r.loss = loss_by_terms(p, s, z, t, y, remaining, smoothing.eps);
  if (t == nullptr) set_target_gradient(p, p.w(y), fast_exp((z[y] - s.max) - s.log_sum), r);
  return r;
}

// Stores the results of the row (or eight rows) from `row` into the forward's columns; returns their
// loss (the eight rows' added in row order).
template <class D>
double store_forward(const RowForward<D>& r, int64_t row, FastForward& out) {
  store(out.max + row, r.max);
  store(out.log_sum + row, r.log_sum);
  store(out.target_weight + row, r.target_weight);
  store(out.eps + row, D{} + r.eps);
  store(out.smoothing_q + row, D{} + r.smoothing_q);
  store(out.target_gradient + row, r.target_gradient);
  std::fill_n(out.all_remain.begin() + row, std::is_same_v<D, double> ? 1 : 8, r.all_remain);
  store(out.loss + row, r.loss);
  if (out.nll != nullptr) {
    store(out.nll + row, r.nll);
    store(out.smoothing + row, r.smoothing);
  }
  double total = 0;
  for (int j = 0; j < (std::is_same_v<D, double> ? 1 : 8); ++j) total += lane(r.loss, j);
  return total;
}

// The C values of a strided row, copied into `scratch` (kPadding longer, so whole vectors are readable).
template <class T>
const T* gather_row(const Problem& p, const T* first, std::vector<T>& scratch) {
  scratch.resize(p.classes + kPadding);
  for (int64_t c = 0; c < p.classes; ++c) scratch[c] = first[c * p.stride];
  return scratch.data();
}

// The rows in fixed chunks, whole groups of eight rows when rows are short, handed out to oneTBB's
// workers: each chunk is one task's, so what a chunk sums is the same for any thread count. A pass
// costs a few nanoseconds per logit, several times an elementwise kernel's, so a chunk is a quarter
// of their grain: small enough (tens of microseconds) that no thread waits long for the last.
struct RowChunks {
  int64_t rows_per_chunk, count;
};
template <class T>
RowChunks row_chunks(const Problem& p) {
  constexpr int64_t kGrain = kElementwiseGrain / 4;  // logits
  const int64_t unit = short_rows<T>(p) ? 8 : 1;
  const int64_t rows_per_chunk = std::max<int64_t>(1, kGrain / (p.classes * unit)) * unit;
  return {rows_per_chunk, (p.rows + rows_per_chunk - 1) / rows_per_chunk};
}
template <class T>
void parallel_rows(const Problem& p, const std::function<void(int64_t chunk, int64_t lo, int64_t hi)>& body) {
  const RowChunks chunks = row_chunks<T>(p);
  parallel_for(chunks.count, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t chunk = lo; chunk < hi; ++chunk)
      body(chunk, chunk * chunks.rows_per_chunk, std::min(p.rows, (chunk + 1) * chunks.rows_per_chunk));
  });
}

// The first unusable row (a NaN or +inf logit, or a ruled-out target; throw_bad_row), as the
// forward's tasks find them: each task stops at its first, so the smallest reported is the first of
// all, whatever the thread count.
struct FirstBadRow {
  std::atomic<int64_t> row;
  void report(int64_t r) {
    int64_t seen = row.load();
    while (r < seen && !row.compare_exchange_weak(seen, r)) {
    }
  }
};

// True (and reported) when the row cannot be computed; z: the row's C logits, contiguous. Its sums
// are NaN or ±inf whenever a logit is NaN or +inf, so only then are its logits searched.
template <class T>
bool bad_row(const Problem& p, const T* z, double sum_d, int64_t row, FirstBadRow& first) {
  constexpr T kInfT = std::numeric_limits<T>::infinity();
  bool bad = !p.soft && z[p.labels[row]] == -kInfT;
  if (!std::isfinite(sum_d))
    for (int64_t c = 0; c < p.classes && !bad; ++c) bad = std::isnan(z[c]) || z[c] == kInfT;
  if (bad) first.report(row);
  return bad;
}

// The class-index targets of a group of eight short rows, one per lane: y_j (0 where the row is
// ignored), and the mask of the rows ignored.
struct TargetLanes {
  Int32x8 y, ignored;
};
TargetLanes target_lanes(const Problem& p, const int64_t* labels) {
  const Int64x4 lo = load<Int64x4>(labels), hi = load<Int64x4>(labels + 4);
  const auto low_halves = [](const Int64x4& a, const Int64x4& b) {  // of the 64-bit lanes of a, then of b
    return __builtin_shufflevector(std::bit_cast<Int32x8>(a), std::bit_cast<Int32x8>(b), 0, 2, 4, 6, 8, 10, 12, 14);
  };
  const Int32x8 ignored = low_halves(lo == p.ignore_index, hi == p.ignore_index);
  return {low_halves(lo, hi) & ~ignored, ignored};
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

// The forward of eight short rows from `first`, `count` of which exist, from their sums; false at a
// ruled-out target. The usual case (all eight rows there, index targets, no weights, none ignored,
// every logit finite) finishes as vectors; any other group row by row.
bool finish_short_rows(const Problem& p, const float* z, const float* soft, const Columns& column, int64_t first,
                       int count, const ShortRowSums& s, FastForward& out, double& loss, FirstBadRow& bad_rows) {
  const int64_t C = p.classes;
  if (count == 8 && !p.soft && p.weight.empty() && all_finite(s.sum_d)) {
    const TargetLanes targets = target_lanes(p, p.labels + first);
    if (!any(targets.ignored)) {  // (every logit is finite: no target's is −inf)
      const bool all = p.convention == SmoothingTarget::AllClasses;
      const Floats8 d_y = target_logits(column, C, targets.y) - s.max;
      const Doubles8 one = Doubles8{} + 1.0, wtd = widen(d_y), rest = all ? s.sum_d : s.sum_d - wtd;
      const auto lost = [](Doubles4 rest_part, Doubles4 sum_part) {  // lanes where d_y is more than half of Σ d
        return std::bit_cast<Int64x4>(rest_part > 0.5 * sum_part);
      };
      // (OtherClasses) Σ d − d_y keeps Σ_{c≠y} d in every lane: else the group goes row by row.
      if (all || !any(lost(rest.lo, s.sum_d.lo) | lost(rest.hi, s.sum_d.hi))) {
        const Smoothing smoothing = smoothing_of(p, C);
        RowForward<Doubles8> r =
            closed_form(p, smoothing, C, widen(s.max), s.log_sum, one, wtd,
                        smoothing.share * (Doubles8{} + static_cast<double>(all ? C : C - 1)), smoothing.share * rest);
        set_target_gradient(p, one, fast_exp(wtd - s.log_sum), r);
        loss += store_forward(r, first, out);
        out.plain[first / 8] = 1;
        return true;
      }
    }
  }
  for (int j = 0; j < count; ++j) {
    const int64_t row = first + j;
    if (p.ignored(row)) {
      loss += store_forward(RowForward<double>{}, row, out);
      continue;
    }
    const float* zr = z + row * C;
    if (bad_row(p, zr, s.sum_d[j], row, bad_rows)) return false;
    const RowSums sums{s.max[j], s.log_sum[j], s.sum_d[j]};
    loss +=
        store_forward(finish_row(p, sums, zr, p.soft ? soft + row * C : nullptr, p.soft ? 0 : p.labels[row]), row, out);
  }
  return true;
}

// The forward over rows [lo, hi), up to the first ruled-out target; returns the sum of their losses,
// added in row order.
template <class T>
HUMBLE_SIMD_CLONES double forward_rows(const Problem& p, const T* z, const T* soft, int64_t lo, int64_t hi,
                                       FastForward& out, FirstBadRow& bad_rows) {
  double loss = 0;
  if constexpr (std::is_same_v<T, float>) {
    if (short_rows<T>(p)) {
      Columns column;
      for (int64_t first = lo; first < hi; first += 8) {
        const int count = static_cast<int>(std::min<int64_t>(8, hi - first));
        load_columns(z + first * p.classes, p.classes, count, column);
        if (!finish_short_rows(p, z, soft, column, first, count, short_row_sums(column, p.classes), out, loss,
                               bad_rows))
          break;
      }
      return loss;
    }
  }
  std::vector<T> z_row, t_row;  // scratch for strided rows
  for (int64_t row = lo; row < hi; ++row) {
    if (p.ignored(row)) {
      loss += store_forward(RowForward<double>{}, row, out);
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
    const RowSums sums = row_sums(zr, p.classes, z_end);
    if (bad_row(p, zr, sums.sum_d, row, bad_rows)) break;
    loss += store_forward(finish_row(p, sums, zr, tr, p.soft ? 0 : p.labels[row]), row, out);
  }
  return loss;
}

// ---------------------------------------------------------------------------------------------
// Backward

// The gradient for index targets, dz_c = (p_c·S − w_c·q′_c)·scale with p = exp((z − m) − ls). Every
// remaining class but the target y has q′_c = ε·share, under either convention, and ruled-out ones
// have 0: the bulk of a row computes these in the logits' precision (no cancellation beyond an ulp
// of p_c or ε·share). The target class, where p_y·S and q′_y = (1 − ε) + ε·share (AllClasses) or
// 1 − ε (OtherClasses) may nearly cancel, is then overwritten with the forward's S·p_y − w_y·q′_y
// (computed in double) times scale.
struct IndexRow {
  double max = 0, log_sum = 0;
  double k = 0;          // scale·S
  double smoothing = 0;  // scale·ε·share, the non-target q′_c·scale before w_c
  double target = 0;     // scale·(S·p_y − w_y·q′_y)
  int64_t y = 0;
  bool all_remain = false;  // no class ruled out, so no −inf logit to keep out of the smoothing term

  IndexRow(const Problem& p, const FastForward& f, double scale, int64_t row)
      : max(f.max[row]),
        log_sum(f.log_sum[row]),
        k(scale * f.target_weight[row]),
        smoothing(scale * f.smoothing_q[row]),
        target(scale * f.target_gradient[row]),
        y(p.labels[row]),
        all_remain(f.all_remain[row] != 0) {}
};

// k·exp((z − m) − ls) − subtract for a vector of classes: z − m rounds once in T (m is one of the
// row's own values), so p is exp of z − lse to about an ulp of it.
template <class V>
[[gnu::always_inline]] inline V scaled_softmax_minus(V z, V max, V log_sum, V k, V subtract) {
  return k * exp_lanes((z - max) - log_sum) - subtract;
}

// The bulk of the gradient for a vector of classes, each as if it were not the target:
// k·p − w·smoothing, or 0 − 0 for a ruled-out class (z = −inf).
template <class V>
[[gnu::always_inline]] inline V bulk_gradient(V z, V max, V log_sum, V k, V w_smoothing) {
  constexpr auto kNegInfT = -std::numeric_limits<std::remove_cvref_t<decltype(lane(z, 0))>>::infinity();
  return scaled_softmax_minus(z, max, log_sum, k, select(z == kNegInfT, V{}, w_smoothing));
}

// One row's gradient dz = (p·S − w⊙q′)·scale into a contiguous dst; z is contiguous and readable up
// to z_end; t: its target probabilities, or null for index targets.
template <class T>
void gradient_row(const Problem& p, const FastForward& f, const T* z, const T* z_end, const T* t, int64_t row,
                  double scale, T* dst) {
  if (t != nullptr) {  // probability targets: q′_c = (1 − ε)·t_c + ε·u_c
    const bool all = p.convention == SmoothingTarget::AllClasses;
    const double max = f.max[row], log_sum = f.log_sum[row], target_weight = f.target_weight[row], eps = f.eps[row],
                 smoothing_q = f.smoothing_q[row];
    for (int64_t c = 0; c < p.classes; ++c) {
      const double eps_u = z[c] == kNegInf ? 0.0 : all ? smoothing_q : smoothing_q * (1 - t[c]);
      const double q = (1 - eps) * t[c] + eps_u;
      dst[c] = static_cast<T>(scale * (exp_of<T>((z[c] - max) - log_sum) * target_weight - p.w(c) * q));
    }
    return;
  }
  using V = typename Lanes<T>::V;
  using Wide = typename Lanes<T>::Wide;
  constexpr int kWidth = Lanes<T>::n;
  const IndexRow r(p, f, scale, row);
  const V k = V{} + static_cast<T>(r.k), smoothing = V{} + static_cast<T>(r.smoothing);
  const V max = V{} + static_cast<T>(r.max), log_sum = V{} + static_cast<T>(r.log_sum);
  const auto w_smoothing = [&](int64_t c) {  // w_c·smoothing for the vector of classes from c
    return f.weight.empty() ? smoothing : narrow(load_wide<Wide>(f.weight.data() + c)) * smoothing;
  };
  const auto bulk = [&](V z_c, int64_t c) {
    return r.all_remain ? scaled_softmax_minus(z_c, max, log_sum, k, w_smoothing(c))
                        : bulk_gradient(z_c, max, log_sum, k, w_smoothing(c));
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

// The gradient of eight short rows with index targets from `first`, `count` of which exist. The
// bulk runs on the rows' own layout, each lane taking its row's m, ls, k and ε·u by a permutation of
// the eight rows' values (the forward's columns and g are padded to whole groups of 8). In a plain
// group (FastForward::plain) under a reduction, k and ε·u are the same for all eight rows and no
// class is ruled out, so only m and ls are permuted.
void short_rows_gradient(const Problem& p, const FastForward& f, const FlatGroup& flat, const float* z, const double* g,
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
  const Floats8 max = narrow(load_wide<Doubles8>(f.max + first)),
                log_sum = narrow(load_wide<Doubles8>(f.log_sum + first));
  const Floats8 k = narrow(scale * load_wide<Doubles8>(f.target_weight + first));
  const Floats8 smoothing = narrow(scale * load_wide<Doubles8>(f.smoothing_q + first));
  if (f.plain[first / 8] && p.reduction != Reduction::None) {
    const Floats8 k_all = Floats8{} + k[0], smoothing_all = Floats8{} + smoothing[0];
    for (int64_t v = 0; v < C; ++v)
      store(out + 8 * v, scaled_softmax_minus(load<Floats8>(rows + 8 * v), permute(max, flat.row[v]),
                                              permute(log_sum, flat.row[v]), k_all, smoothing_all));
  } else {
    for (int64_t v = 0; v < C; ++v) {
      const Int32x8 row = flat.row[v];
      store(out + 8 * v, bulk_gradient(load<Floats8>(rows + 8 * v), permute(max, row), permute(log_sum, row),
                                       permute(k, row), flat.weight[v] * permute(smoothing, row)));
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
HUMBLE_SIMD_CLONES void backward_rows(const Problem& p, const FastForward& f, const FlatGroup& flat, const T* z,
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
      gradient_row(p, f, zr, z_end, tr, row, p.reduction == Reduction::None ? g[row] : reduced_scale, dr);
    }
    if (p.stride != 1)
      for (int64_t c = 0; c < p.classes; ++c) dst[base + c * p.stride] = d_row[c];
  }
}

}  // namespace

FastForward::FastForward(const Problem& p, bool with_parts)
    : all_remain((p.rows + 7) / 8 * 8, 0), plain((p.rows + 7) / 8, 0) {
  std::vector<double**> columns = {&max, &log_sum, &target_weight, &eps, &smoothing_q, &target_gradient, &loss};
  if (with_parts) columns.insert(columns.end(), {&nll, &smoothing});
  const int64_t padded = (p.rows + 7) / 8 * 8;
  buffer = empty({static_cast<int64_t>(columns.size()), padded}, Dtype::Float64);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    *columns[i] = buffer.data<double>() + static_cast<int64_t>(i) * padded;
    std::fill(*columns[i] + p.rows, *columns[i] + padded, 0.0);
  }
  if (!p.weight.empty()) {
    weight = p.weight;
    weight.resize(p.classes + kPadding, 0.0);
  }
}

FastForward fast_forward(const Problem& p, const Tensor& logits, const Tensor& target, bool with_parts) {
  FastForward out(p, with_parts);
  FirstBadRow bad_rows{p.rows};
  dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
    const T* z = logits.data<T>();
    const T* soft = p.soft ? target.data<T>() : nullptr;
    out.chunk_loss.resize(row_chunks<T>(p).count);
    parallel_rows<T>(p, [&](int64_t chunk, int64_t lo, int64_t hi) {
      out.chunk_loss[chunk] = forward_rows(p, z, soft, lo, hi, out, bad_rows);
    });
  });
  if (bad_rows.row < p.rows) throw_bad_row(p, logits, bad_rows.row);
  return out;
}

Tensor fast_backward(const Problem& p, const FastForward& saved, const Tensor& logits, const Tensor& target,
                     const Tensor& grad_output) {
  Tensor dz = empty_like(logits);
  std::vector<double> g = grad_output.to_vector();
  g.resize((g.size() + 7) / 8 * 8, 0.0);                                                      // whole groups of 8 rows
  const double reduced_scale = p.reduction == Reduction::None ? 0.0 : p.reduced_scale(g[0]);  // (None: per row)
  const FlatGroup flat(p);
  dispatch_float(logits.dtype(), "cross_entropy", [&]<class T>() {
    const T* z = logits.data<T>();
    const T* soft = p.soft ? target.data<T>() : nullptr;
    T* dst = dz.data<T>();
    parallel_rows<T>(p, [&](int64_t, int64_t lo, int64_t hi) {
      backward_rows(p, saved, flat, z, soft, g.data(), reduced_scale, dst, lo, hi);
    });
  });
  return dz;
}

}  // namespace humble::losses::detail
