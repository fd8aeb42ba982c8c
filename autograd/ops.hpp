// autograd/ops.hpp — the general tensor ops, differentiable (and a few not).
//
// Each op validates its arguments, computes its output with a core/ kernel, and records its
// backward right beside it (see the .cpp files: elementwise, reduce, linalg, shape, softmax).
// Ops that exist for one kind of layer sit with that layer in nn/ (conv2d and the pools in
// nn/conv.hpp, dropout in nn/layers.hpp, batch_norm and layer_norm in nn/norm.hpp); losses in
// losses/ (docs/architecture.md, "Adding an op, a layer, a loss").
// Binary ops broadcast like NumPy and need both operands of one dtype. Int64 tensors take part
// in arithmetic, comparisons and indexing but never require gradients.
#pragma once

#include <cstdint>
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
Tensor gelu(const Tensor& x);      // exact: x·Φ(x)
Tensor softplus(const Tensor& x);  // log(1 + eˣ), without overflow
Tensor pow(const Tensor& x, double exponent);
Tensor clamp(const Tensor& x, double low, double high);

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
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);

// Comparisons: 1 where true, 0 elsewhere, in the inputs' dtype; never differentiable.
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

// Broadcasting's two directions: sum_to reduces a broadcast gradient back to `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// Matrix products on BLAS: (M, K) @ (K, N); batched (B, M, K) @ (B, K, N), either side may be 2-D.
Tensor matmul(const Tensor& a, const Tensor& b);
// op(a) @ op(b), transposing the last two dims by flag (no copy is made).
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
// x (N, K) @ weightᵀ (K, M) + bias (M): the bias is written first and the GEMM adds onto it.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// Shape ops.
Tensor reshape(const Tensor& x, Shape shape);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, std::vector<int64_t> dims);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor index_select(const Tensor& x, const Tensor& index);         // rows of dim 0, index Int64 (K)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);  // out[..i..] = x[..index[..i..]..]
Tensor one_hot(const Tensor& labels, int64_t num_classes, Dtype dtype = Dtype::Float32);

// Softmax family, max-shifted, rows in parallel (autograd/softmax.cpp).
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace humble
