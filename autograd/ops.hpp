// autograd/ops.hpp — the general tensor ops, differentiable (and a few not).
//
// Each op validates its arguments, computes its output with a core/ kernel, and records its
// backward right beside it (see the .cpp files: elementwise, reduce, linalg, shape, softmax,
// sort, inplace). Inputs may be views; outputs are fresh and contiguous unless the op is a view.
// Ops that exist for one kind of layer sit with that layer in nn/ (conv2d and the pools in
// nn/conv.hpp, dropout in nn/layers.hpp, batch_norm and layer_norm in nn/norm.hpp); losses in
// losses/ (docs/architecture.md, "Adding an op, a layer, a loss").
// Int64 tensors take part in arithmetic, comparisons and indexing but never require gradients.
//
// Dtypes follow PyTorch's promotion for what humble has (float32, float64, int64):
//   int64 with int64 → int64, except true division (/) → float32;
//   int64 with a float tensor → that float dtype;  float32 with float64 → a ValueError (a model
//     picks one float dtype, so a mix is almost always a slip that would silently double memory
//     and time; convert one side with .to());
//   a tensor with a Scalar: an integer (2) keeps the tensor's dtype, a floating-point number
//     (2.0) makes an int64 tensor float32 and keeps a float tensor's dtype;
//   float functions (exp, log, sqrt, tanh, sigmoid, gelu, softplus, …) of int64 → float32.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "../core/tensor.hpp"

namespace humble {

// Unary.
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor gelu(const Tensor& x);                  // exact: x·Φ(x)
Tensor softplus(const Tensor& x);              // log(1 + eˣ), without overflow
Tensor pow(const Tensor& x, Scalar exponent);  // int64 to a negative integer power throws
Tensor clamp(const Tensor& x, Scalar low, Scalar high);
// out = value where mask ≠ 0, else x (mask of any dtype broadcasts to x's shape);  dx = g where mask = 0
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// Binary, with broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties share the gradient equally
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, Scalar s);
Tensor operator-(const Tensor& a, Scalar s);
Tensor operator*(const Tensor& a, Scalar s);
Tensor operator/(const Tensor& a, Scalar s);  // true division: int64 → float32
Tensor operator+(Scalar s, const Tensor& a);
Tensor operator-(Scalar s, const Tensor& a);
Tensor operator*(Scalar s, const Tensor& a);
Tensor operator/(Scalar s, const Tensor& a);

// Comparisons: 1 where true, 0 elsewhere, in the inputs' promoted dtype; never differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// out = cond ≠ 0 ? a : b (cond of any dtype; a, b broadcast to cond's shape), differentiable in a, b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Reductions. `dims` may be negative; an empty list means every dim.
Tensor sum(const Tensor& x);  // over all elements, shape ()
Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor max(const Tensor& x);  // ties share the gradient equally
Tensor max(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor logsumexp(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // Int64; first of ties
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
// var: Σ (x − mean)² / (n − 1) over dims (unbiased, Bessel's correction) or / n; std = √var.
// Float only; with n − 1 = 0 the unbiased result is NaN, as in PyTorch.
// (An empty dims list means every dim; there is deliberately no var(x, bool): var(x, {1}) must
// mean dim 1.)
Tensor var(const Tensor& x, std::vector<int64_t> dims = {}, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, std::vector<int64_t> dims = {}, bool unbiased = true, bool keepdim = false);
// cumsum: out[…, i, …] = Σ_{j ≤ i} x[…, j, …] along dim (int64 stays int64);  dx = reversed cumsum of g
Tensor cumsum(const Tensor& x, int64_t dim);

// Sorting along one dim (autograd/sort.cpp). Ties keep their order (stable); NaN sorts as the
// largest value, as in PyTorch. Values are differentiable: g goes back to where each came from.
// sort: (values, Int64 indices) with values[…, i, …] = x[…, indices[…, i, …], …]
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);
// topk: the k largest (or smallest) along dim, with Int64 indices, sorted when `sorted`; 0 <= k <= size.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);

// Broadcasting's two directions: sum_to reduces a broadcast gradient back to `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// Matrix products on BLAS: (M, K) @ (K, N); batched (B, M, K) @ (B, K, N), either side may be 2-D.
Tensor matmul(const Tensor& a, const Tensor& b);
// op(a) @ op(b), transposing the last two dims by flag (no copy is made).
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
// x (N, K) @ weightᵀ (K, M) + bias (M): each GEMM panel writes its part of the bias rows first and adds onto them.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// Shape ops: the Tensor methods of the same names (views sharing storage), and copies.
Tensor reshape(const Tensor& x, Shape shape);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, std::vector<int64_t> dims);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// index_select: out = x with dim replaced by index's picks: out[…, k, …] = x[…, index[k], …];
// index Int64 (K), negatives counting from the end.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_select(const Tensor& x, const Tensor& index);  // along dim 0
// x with rows index[k] of dim 0 replaced by (or, accumulating, increased by) values[k]; what
// Tensor::index_put_ writes in place. Without accumulate a repeated row throws.
Tensor index_put(const Tensor& x, const Tensor& index, const Tensor& values, bool accumulate = false);
// gather: out[..i..] = x[..index[..i..]..]; indices in [0, size) (class labels: −1 is refused)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor one_hot(const Tensor& labels, int64_t num_classes, Dtype dtype = Dtype::Float32);

// Softmax family, max-shifted, rows in parallel (autograd/softmax.cpp).
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace humble
