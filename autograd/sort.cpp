// autograd/sort.cpp — sort, argsort and topk along one dim.
//
// Legend: x seen as (A, S, B) around the sorted dim of size S; each of the A·B lines is sorted on
// its own, stably (equal values keep their order), NaN counting as the largest value (PyTorch's
// order: last ascending, first descending). Only the order is computed here: the values are
// gather(x, dim, indices), so their gradient is gather's, g sent back to where each value came from.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// Int64 indices (x's shape) that sort every line of x along d.
Tensor sorting_indices(const Tensor& input, int64_t d, bool descending) {
  const Tensor x = contiguous_values(input);
  const Shape& shape = x.shape();
  const int64_t S = shape[d];
  const int64_t A = shape_numel(Shape(shape.begin(), shape.begin() + d));
  const int64_t B = shape_numel(Shape(shape.begin() + d + 1, shape.end()));
  Tensor indices = empty(shape, Dtype::Int64);
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    int64_t* pi = indices.data<int64_t>();
    // u before w: ascending, NaN last; descending, NaN first.
    const auto before = [descending](T u, T w) {
      const bool u_nan = u != u, w_nan = w != w;
      if (descending) return !w_nan && (u_nan || u > w);
      return !u_nan && (w_nan || u < w);
    };
    parallel_for(A * B, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(S, 1)), [&](int64_t lo, int64_t hi) {
      std::vector<int64_t> order(static_cast<std::size_t>(S));
      for (int64_t line = lo; line < hi; ++line) {
        const int64_t base = (line / B) * S * B + line % B;
        std::iota(order.begin(), order.end(), int64_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t i, int64_t j) { return before(px[base + i * B], px[base + j * B]); });
        for (int64_t k = 0; k < S; ++k) pi[base + k * B] = order[k];
      }
    });
  });
  return indices;
}

}  // namespace

// sort: values = gather(x, dim, indices);  dx = gather's backward (each g back to its source)
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  if (x.dim() == 0) return {x.clone(), zeros({}, Dtype::Int64)};
  const int64_t d = normalize_dim("sort", dim, x.dim());
  Tensor indices = sorting_indices(x, d, descending);
  return {gather(x, d, indices), indices};
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) { return sort(x, dim, descending).second; }

// topk: the first k of the sort, largest first (or smallest first);  dx as sort's
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  (void)sorted;  // the k values always come out in order, which `sorted = false` allows too
  const int64_t d = normalize_dim("topk", dim, x.dim());
  const int64_t size = x.dim() ? x.shape()[d] : 1;
  if (k < 0 || k > size)
    throw ValueError(
        str_cat("[topk] k must be in [0, ", size, "] for dim ", d, " of shape ", shape_str(x.shape()), ", got ", k));
  if (x.dim() == 0) return {x.clone(), zeros({}, Dtype::Int64)};
  const Tensor indices = contiguous_values(sorting_indices(x, d, largest).narrow(d, 0, k));
  return {gather(x, d, indices), indices};
}

}  // namespace humble
