// autograd/reduce.cpp — reductions and broadcasting, each forward beside its backward.
//
// A reduction over a set of dims runs core's (A, R, B) kernel once per contiguous block of those
// dims (last block first), keeping reduced dims as size 1 until the end. Backward brings g back
// to the input's shape with broadcast_to; broadcast_to's own backward is sum_to.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// Sorted, unique, non-negative dims; an empty list means all of them.
std::vector<int64_t> normalize_dims(const char* op, std::vector<int64_t> dims, int64_t rank) {
  if (dims.empty())
    for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
  for (auto& d : dims) d = normalize_dim(op, d, rank);
  std::sort(dims.begin(), dims.end());
  if (std::adjacent_find(dims.begin(), dims.end()) != dims.end())
    throw ShapeError(str_cat("[", op, "] a dim is listed twice"));
  return dims;
}

Shape kept_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape kept = shape;
  for (int64_t d : dims)
    if (d < static_cast<int64_t>(kept.size())) kept[d] = 1;  // a 0-d tensor's dim 0 is itself
  return kept;
}

Shape dropped_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape dropped;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) dropped.push_back(shape[d]);
  return dropped;
}

// The reduction with reduced dims kept as size 1 (no graph).
Tensor reduce_kept(const char* op, const Tensor& x, const std::vector<int64_t>& dims, ReduceKind kind) {
  if (x.dim() == 0) return x.clone().detach();
  Tensor out = x.detach();
  for (std::size_t end = dims.size(); end > 0;) {
    std::size_t begin = end - 1;
    while (begin > 0 && dims[begin - 1] + 1 == dims[begin]) --begin;
    out = reduce_block(op, out, dims[begin], dims[end - 1], kind, /*keepdim=*/true);
    end = begin;
  }
  return out;
}

Tensor finish(Tensor kept, const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  return keepdim ? kept : kept.reshape(dropped_shape(shape, dims));
}

// max/min over dims: out = extreme;  dx = g ⊙ [x = out] / (number of ties), spreading ties evenly
Tensor extreme(const char* op, const Tensor& x, std::vector<int64_t> given_dims, bool keepdim, ReduceKind kind) {
  const auto dims = normalize_dims(op, std::move(given_dims), x.dim());
  Tensor kept = reduce_kept(op, x, dims, kind);
  Tensor out = finish(kept, x.shape(), dims, keepdim);
  // kept shares out's storage: saving it also catches an in-place change of the output.
  return record(op, out, {x}, {x, kept}, [dims](const Tensor& g, const Tensors& s) -> Tensors {
    Tensor hits = eq(s[0], s[1]);
    Tensor ties = reduce_kept("max", hits, dims, ReduceKind::Sum);
    return {g.reshape(s[1].shape()) * hits / ties};
  });
}

}  // namespace

// sum: out = Σ x over dims;  dx = broadcast(g)
Tensor sum(const Tensor& x, std::vector<int64_t> given_dims, bool keepdim) {
  const auto dims = normalize_dims("sum", std::move(given_dims), x.dim());
  Tensor out = finish(reduce_kept("sum", x, dims, ReduceKind::Sum), x.shape(), dims, keepdim);
  return record("sum", out, {x}, [shape = x.shape(), kept = kept_shape(x.shape(), dims)](const Tensor& g) -> Tensors {
    return {broadcast_to(g.reshape(kept), shape)};
  });
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

// mean: out = Σ x / n over dims;  dx = broadcast(g) / n
Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  if (!x.is_floating_point()) throw ValueError("[mean] expects a float tensor, got int64; use .to(Dtype::Float64)");
  const auto normalized = normalize_dims("mean", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : normalized) count *= x.dim() ? x.shape()[d] : 1;
  return sum(x, std::move(dims), keepdim) / static_cast<double>(count);
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor max(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return extreme("max", x, std::move(dims), keepdim, ReduceKind::Max);
}
Tensor max(const Tensor& x) { return max(x, {}, false); }
Tensor min(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return extreme("min", x, std::move(dims), keepdim, ReduceKind::Min);
}
Tensor min(const Tensor& x) { return min(x, {}, false); }

// logsumexp: out = log Σ exp(x) over dims (max-shifted);  dx = g ⊙ exp(x − out)
Tensor logsumexp(const Tensor& x, std::vector<int64_t> given_dims, bool keepdim) {
  const auto dims = normalize_dims("logsumexp", std::move(given_dims), x.dim());
  Tensor kept = reduce_kept("logsumexp", x, dims, ReduceKind::LogSumExp);
  Tensor out = finish(kept, x.shape(), dims, keepdim);
  return record("logsumexp", out, {x}, {x, kept}, [](const Tensor& g, const Tensors& s) -> Tensors {
    return {g.reshape(s[1].shape()) * exp(s[0] - s[1])};
  });
}

// var: out = Σ (x − x̄)² / (n − c) over dims, c = 1 if unbiased else 0 (a composition: its backward
// is autograd's, dx = 2 (x − x̄) g / (n − c)); std = √var
Tensor var(const Tensor& x, std::vector<int64_t> dims, bool unbiased, bool keepdim) {
  if (!x.is_floating_point()) throw ValueError("[var] expects a float tensor, got int64; use .to(Dtype::Float64)");
  const auto normalized = normalize_dims("var", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : normalized) count *= x.dim() ? x.shape()[d] : 1;
  const Tensor centered = x - mean(x, dims, true);
  const double divisor = static_cast<double>(count - (unbiased ? 1 : 0));
  if (divisor <= 0) {  // PyTorch's answer for a single value with Bessel's correction (0/0)
    const Tensor squares = sum(centered * centered, std::move(dims), keepdim);
    return squares * std::numeric_limits<double>::quiet_NaN();
  }
  return sum(centered * centered, std::move(dims), keepdim) / divisor;
}
// std: out = √var;  dvar = g / (2·out), and 0 where out = 0 (as PyTorch: no NaN from a constant line)
Tensor std(const Tensor& x, std::vector<int64_t> dims, bool unbiased, bool keepdim) {
  const Tensor v = var(x, std::move(dims), unbiased, keepdim);
  Tensor out = dispatch_float(v.dtype(), "std", [&]<class T>() { return map<T>(v, [](T u) { return std::sqrt(u); }); });
  return record("std", out, {v}, {out}, [](const Tensor& g, const Tensors& s) -> Tensors {
    return {dispatch_float(g.dtype(), "std", [&]<class T>() {
      return zip<T>("std", g, s[0], [](T gv, T y) { return y == 0 ? T{0} : gv / (2 * y); });
    })};
  });
}

// cumsum: out[a, i, b] = Σ_{j ≤ i} x[a, j, b] (x seen as (A, S, B), sums in order, double or int64
// accumulators);  dx[a, j, b] = Σ_{i ≥ j} g[a, i, b], the cumsum of g reversed along dim
Tensor cumsum(const Tensor& input, int64_t dim) {
  const int64_t d = normalize_dim("cumsum", dim, input.dim());
  const Tensor x = contiguous_values(input);
  const Shape& shape = x.shape();
  const int64_t S = x.dim() ? shape[d] : 1;
  const int64_t A = x.dim() ? shape_numel(Shape(shape.begin(), shape.begin() + d)) : 1;
  const int64_t B = x.dim() ? shape_numel(Shape(shape.begin() + d + 1, shape.end())) : 1;
  const auto scan = [A, S, B](const Tensor& in, bool reversed) {
    Tensor out = empty(in.shape(), in.dtype());
    dispatch_all(in.dtype(), [&]<class T>() {
      using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
      const T* src = in.data<T>();
      T* dst = out.data<T>();
      parallel_for(A * B, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(S, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t line = lo; line < hi; ++line) {
                       const int64_t base = (line / B) * S * B + line % B;
                       Acc total = 0;
                       for (int64_t k = 0; k < S; ++k) {
                         const int64_t i = base + (reversed ? S - 1 - k : k) * B;
                         total += src[i];
                         dst[i] = static_cast<T>(total);
                       }
                     }
                   });
    });
    return out;
  };
  return record("cumsum", scan(x, false), {input}, [scan](const Tensor& g) -> Tensors { return {scan(g, true)}; });
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = normalize_dim("argmax", dim, x.dim());
  return reduce_block("argmax", x.dim() ? x : x.reshape({1}), d, d, ReduceKind::ArgMax, keepdim && x.dim());
}

Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = normalize_dim("argmin", dim, x.dim());
  return reduce_block("argmin", x.dim() ? x : x.reshape({1}), d, d, ReduceKind::ArgMin, keepdim && x.dim());
}

// sum_to: out = x summed over the dims that broadcasting stretched to reach x's shape.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0) throw ShapeError(str_cat("[sum_to] cannot sum ", shape_str(x.shape()), " to ", shape_str(shape)));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] != x.shape()[d]) {
      if (shape[d - lead] != 1)
        throw ShapeError(str_cat("[sum_to] cannot sum ", shape_str(x.shape()), " to ", shape_str(shape)));
      dims.push_back(d);
    }
  }
  return sum(x, dims, true).reshape(shape);
}

// broadcast_to: out[i] = x[i mapped into x's shape];  dx = sum_to(g, x.shape)
Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes("broadcast_to", x.shape(), shape) != shape)
    throw ShapeError(str_cat("[broadcast_to] cannot broadcast ", shape_str(x.shape()), " to ", shape_str(shape)));
  Tensor out = dispatch_all(x.dtype(), [&]<class T>() {
    return zip<T>("broadcast_to", x, empty(shape, x.dtype()), [](T u, T) { return u; });
  });
  return record("broadcast_to", out, {x}, [sx = x.shape()](const Tensor& g) -> Tensors { return {sum_to(g, sx)}; });
}

}  // namespace humble
