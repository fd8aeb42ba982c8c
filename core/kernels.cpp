// core/kernels.cpp — broadcasting helpers and the (A, R, B) reduction kernel.
#include "kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "error.hpp"
#include "simd.hpp"

namespace humble {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(str_cat("[", op, "] shapes ", shape_str(a), " and ", shape_str(b), " do not broadcast: dim ", i,
                               " is ", da, " vs ", db));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const std::size_t lead = out.size() - shape.size();
  int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[lead + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

int64_t normalize_dim(const char* op, int64_t dim, int64_t rank) {
  const int64_t bound = std::max<int64_t>(rank, 1);
  if (dim < -bound || dim >= bound)
    throw ShapeError(str_cat("[", op, "] dim ", dim, " is out of range for a tensor of rank ", rank, " (expected ",
                             -bound, " to ", bound - 1, ")"));
  return dim < 0 ? dim + bound : dim;
}

namespace {

constexpr int64_t kColumnChunk = 256;  // output columns per task in (A, R, B) reductions

template <class T>
using Accumulator = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// acc[j] = Σ_r x[r, b0 + j] over x (R, B), adding row after row. The loop over 32 columns at a time
// keeps their sums in registers while it walks the rows; each column's additions are the same, in
// the same order, as in a loop over rows per column.
template <class T>
[[gnu::always_inline]] inline void sum_columns(const T* x, int64_t R, int64_t B, int64_t b0, int64_t b1,
                                               Accumulator<T>* acc) {
  constexpr int64_t kBlock = 32;
  int64_t j = b0;
  for (; j + kBlock <= b1; j += kBlock) {
    Accumulator<T> block[kBlock] = {};
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < kBlock; ++c) block[c] += x[r * B + j + c];
    for (int64_t c = 0; c < kBlock; ++c) acc[j - b0 + c] = block[c];
  }
  std::fill(acc + (j - b0), acc + (b1 - b0), Accumulator<T>{0});  // the last, narrower block
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = j; c < b1; ++c) acc[c - b0] += x[r * B + c];
}
HUMBLE_SIMD_CLONES void sum_columns_float(const float* x, int64_t R, int64_t B, int64_t b0, int64_t b1, double* acc) {
  sum_columns(x, R, B, b0, b1, acc);
}
HUMBLE_SIMD_CLONES void sum_columns_double(const double* x, int64_t R, int64_t B, int64_t b0, int64_t b1, double* acc) {
  sum_columns(x, R, B, b0, b1, acc);
}

// Reduces x (A, R, B) into out (A, B) for columns [b0, b1) of one a.
template <class T, class Out>
void reduce_columns(const T* x, int64_t R, int64_t B, int64_t b0, int64_t b1, ReduceKind kind, Out* out) {
  const int64_t width = b1 - b0;
  std::vector<Accumulator<T>> acc(static_cast<std::size_t>(width));
  std::vector<int64_t> index(static_cast<std::size_t>(width), 0);
  const auto at = [&](int64_t r, int64_t j) { return x[r * B + b0 + j]; };
  switch (kind) {
    case ReduceKind::Sum:
      if constexpr (std::is_same_v<T, float>)
        sum_columns_float(x, R, B, b0, b1, acc.data());
      else if constexpr (std::is_same_v<T, double>)
        sum_columns_double(x, R, B, b0, b1, acc.data());
      else
        sum_columns(x, R, B, b0, b1, acc.data());
      for (int64_t j = 0; j < width; ++j) out[b0 + j] = static_cast<Out>(acc[j]);
      return;
    case ReduceKind::Max:
    case ReduceKind::Min:
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin: {
      const bool want_max = kind == ReduceKind::Max || kind == ReduceKind::ArgMax;
      for (int64_t j = 0; j < width; ++j) acc[j] = at(0, j);
      for (int64_t r = 1; r < R; ++r)
        for (int64_t j = 0; j < width; ++j) {
          const T v = at(r, j);
          // NaN wins, like PyTorch: a NaN anywhere makes the max NaN.
          const bool better = want_max ? v > acc[j] : v < acc[j];
          if (better || (v != v && acc[j] == acc[j])) {
            acc[j] = v;
            index[j] = r;
          }
        }
      const bool want_index = kind == ReduceKind::ArgMax || kind == ReduceKind::ArgMin;
      for (int64_t j = 0; j < width; ++j)
        out[b0 + j] = want_index ? static_cast<Out>(index[j]) : static_cast<Out>(acc[j]);
      return;
    }
    case ReduceKind::LogSumExp: {
      // lse = m + log Σ exp(x − m) with m the max (±inf rows pass through unchanged).
      std::vector<double> m(static_cast<std::size_t>(width), -std::numeric_limits<double>::infinity());
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < width; ++j) m[j] = std::max<double>(m[j], at(r, j));
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < width; ++j)
          if (std::isfinite(m[j])) acc[j] += std::exp(static_cast<double>(at(r, j)) - m[j]);
      for (int64_t j = 0; j < width; ++j)
        out[b0 + j] = static_cast<Out>(std::isfinite(m[j]) ? m[j] + std::log(acc[j]) : m[j]);
      return;
    }
  }
}

}  // namespace

Tensor reduce_block(const char* op, const Tensor& input, int64_t first, int64_t last, ReduceKind kind, bool keepdim) {
  const Tensor x = contiguous_values(input);
  const Shape& shape = x.shape();
  const int64_t A = shape_numel(Shape(shape.begin(), shape.begin() + first));
  const int64_t R = shape_numel(Shape(shape.begin() + first, shape.begin() + last + 1));
  const int64_t B = shape_numel(Shape(shape.begin() + last + 1, shape.end()));
  Shape out_shape(shape.begin(), shape.begin() + first);
  if (keepdim) out_shape.insert(out_shape.end(), static_cast<std::size_t>(last - first + 1), 1);
  out_shape.insert(out_shape.end(), shape.begin() + last + 1, shape.end());

  const bool gives_index = kind == ReduceKind::ArgMax || kind == ReduceKind::ArgMin;
  if (R == 0 && kind != ReduceKind::Sum)
    throw ShapeError(str_cat("[", op, "] cannot reduce an empty dimension of shape ", shape_str(shape)));
  if (kind == ReduceKind::LogSumExp && !x.is_floating_point())
    throw ValueError(str_cat("[", op, "] expects a float tensor, got int64"));
  Tensor out = empty(out_shape, gives_index ? Dtype::Int64 : x.dtype());
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    if (kind == ReduceKind::Sum && A == 1 && B == 1) {  // one big sum: fixed chunks, added in order
      const double total = deterministic_sum(R, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        Accumulator<T> s = 0;
        for (int64_t i = lo; i < hi; ++i) s += px[i];
        return static_cast<double>(s);
      });
      out.data<T>()[0] = static_cast<T>(total);
      return;
    }
    const int64_t column_tasks = (B + kColumnChunk - 1) / kColumnChunk;
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, R * std::min(B, kColumnChunk)));
    parallel_for(A * column_tasks, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t a = task / column_tasks, b0 = (task % column_tasks) * kColumnChunk;
        const int64_t b1 = std::min(B, b0 + kColumnChunk);
        if (gives_index)
          reduce_columns(px + a * R * B, R, B, b0, b1, kind, out.data<int64_t>() + a * B);
        else
          reduce_columns(px + a * R * B, R, B, b0, b1, kind, out.data<T>() + a * B);
      }
    });
  });
  return out;
}

}  // namespace humble
