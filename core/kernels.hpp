// core/kernels.hpp — elementwise and reduction kernels, without any graph.
//
// map applies f to every element; zip applies f to two tensors under NumPy broadcasting
// (shapes are aligned from the right; a dimension of size 1 stretches). Inputs may be views:
// every kernel here reads them through contiguous_values; outputs are fresh and contiguous. Both split the output
// into chunks for oneTBB; each output element is written by exactly one chunk, so results do not
// depend on the thread count. reduce works on a contiguous block of dims, seen as (A, R, B):
// out[a, b] = reduce over r of x[a, r, b], each output accumulated in a fixed order.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "dispatch.hpp"
#include "parallel.hpp"
#include "tensor.hpp"

namespace humble {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
int64_t normalize_dim(const char* op, int64_t dim, int64_t rank);  // −1 means the last dim

// Strides (in elements) of `shape` read as if broadcast to `out` (0 along stretched dims).
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out);

// Where row `row` (rows: the last dim) of `shape` starts under strides a and b (element offsets).
inline std::pair<int64_t, int64_t> row_start(const Shape& shape, const std::vector<int64_t>& a,
                                             const std::vector<int64_t>& b, int64_t row) {
  int64_t oa = 0, ob = 0, rest = row;
  for (auto d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d) {
    const int64_t index = rest % shape[d];
    rest /= shape[d];
    oa += index * a[d];
    ob += index * b[d];
  }
  return {oa, ob};
}

template <class T, class U = T, class F>
Tensor map(const Tensor& input, F f, Dtype out_dtype = dtype_of<U>()) {
  const Tensor x = contiguous_values(input);
  Tensor out = empty(x.shape(), out_dtype);
  const T* in = x.data<T>();
  U* dst = out.data<U>();
  parallel_for(x.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dst[i] = f(in[i]);
  });
  return out;
}

template <class T, class U = T, class F>
Tensor zip(const char* op, const Tensor& a_in, const Tensor& b_in, F f) {
  const Tensor a = contiguous_values(a_in), b = contiguous_values(b_in);
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(shape, dtype_of<U>());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  U* po = out.data<U>();
  const int64_t n = out.numel();
  if (a.shape() == b.shape()) {
    parallel_for(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
    return out;
  }
  // Rows of the last output dim; each row's start offsets come from its multi-index.
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t inner = rank ? shape.back() : 1;
  const int64_t rows = inner ? n / inner : 0;
  const auto sa = broadcast_strides(a.shape(), shape);
  const auto sb = broadcast_strides(b.shape(), shape);
  const int64_t ia = rank ? sa.back() : 0, ib = rank ? sb.back() : 0;
  parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t row = lo; row < hi; ++row) {
                   const auto [oa, ob] = row_start(shape, sa, sb, row);
                   U* o = po + row * inner;
                   for (int64_t j = 0; j < inner; ++j) o[j] = f(pa[oa + j * ia], pb[ob + j * ib]);
                 }
               });
  return out;
}

enum class ReduceKind { Sum, Max, Min, LogSumExp, ArgMax, ArgMin };

// Reduces dims [first, last] (inclusive, contiguous) of x. The result has those dims removed,
// or kept with size 1 when keepdim. ArgMax/ArgMin give Int64 indices into the reduced block.
Tensor reduce_block(const char* op, const Tensor& x, int64_t first, int64_t last, ReduceKind kind, bool keepdim);

}  // namespace humble
