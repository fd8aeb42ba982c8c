// autograd/softmax.cpp — softmax and log_softmax along one dim, max-shifted, rows in parallel.
//
// Legend: x seen as (A, C, B) around the softmax dim of size C. For each (a, b):
//   m = max_c x,  s = Σ_c exp(x − m),  softmax = exp(x − m) / s,  log_softmax = x − m − log s.
// Classes at −inf get probability 0 (and log-probability −inf); a row that is −inf everywhere
// gives NaN, as in PyTorch. Each row is written by one task: the same bits for any thread count.
#include <cmath>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

struct Rows {
  int64_t outer, classes, inner;
};

Rows rows_around(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return {1, 1, 1};  // a 0-d tensor is one row of one class
  const Shape& s = x.shape();
  return {shape_numel(Shape(s.begin(), s.begin() + dim)), x.dim() ? s[dim] : 1,
          shape_numel(Shape(s.begin() + dim + 1, s.end()))};
}

Tensor softmax_kernel(const char* op, const Tensor& input, int64_t dim, bool take_log) {
  const Tensor x = contiguous_values(input);
  const int64_t d = normalize_dim(op, dim, x.dim());
  const Rows r = rows_around(x, d);
  Tensor out = empty_like(x);
  dispatch_float(x.dtype(), op, [&]<class T>() {
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    parallel_for(r.outer * r.inner, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(r.classes, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t row = lo; row < hi; ++row) {
                     const int64_t base = (row / r.inner) * r.classes * r.inner + row % r.inner;
                     const auto at = [&](int64_t c) { return base + c * r.inner; };
                     T m = src[at(0)];
                     for (int64_t c = 1; c < r.classes; ++c) m = std::max(m, src[at(c)]);
                     double s = 0;
                     for (int64_t c = 0; c < r.classes; ++c) s += std::exp(static_cast<double>(src[at(c)] - m));
                     const double log_s = std::log(s), inv_s = 1 / s;
                     for (int64_t c = 0; c < r.classes; ++c) {
                       const double shifted = static_cast<double>(src[at(c)] - m);
                       dst[at(c)] = static_cast<T>(take_log ? shifted - log_s : std::exp(shifted) * inv_s);
                     }
                   }
                 });
  });
  return out;
}

}  // namespace

// softmax: p = exp(x − m) / Σ exp(x − m);  dx = p ⊙ (g − Σ_c g ⊙ p)
Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor p = softmax_kernel("softmax", x, dim, false);
  const int64_t d = normalize_dim("softmax", dim, x.dim());
  return record("softmax", p, {x}, {p},
                [d](const Tensor& g, const Tensors& s) -> Tensors { return {s[0] * (g - sum(g * s[0], {d}, true))}; });
}

// log_softmax: out = x − m − log Σ exp(x − m);  dx = g − softmax(x) ⊙ Σ_c g
Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor out = softmax_kernel("log_softmax", x, dim, true);
  const int64_t d = normalize_dim("log_softmax", dim, x.dim());
  return record("log_softmax", out, {x}, {out},
                [d](const Tensor& g, const Tensors& s) -> Tensors { return {g - exp(s[0]) * sum(g, {d}, true)}; });
}

}  // namespace humble
