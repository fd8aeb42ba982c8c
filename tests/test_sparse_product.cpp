// tests/test_sparse_product.cpp — core/sparse_product: a linear layer's product over its input's non-zeros.
//
//   1. The kernel gives its plain reference's sums (within count·eps·Σ|a·b|), float and double, on
//      shapes that leave partial tiles and row blocks, with and without a bias row, and the same
//      bits on 1 and 2 threads; and the reference gives the dense product's.
//   2. It declines, writing nothing, an input that is not mostly zeros and a weight with ∞ or NaN
//      (0 · ∞ must stay NaN); worth_skipping_zeros wants a large product of a mostly-zero input.
//   3. linear on a mostly-zero input: the dense product's values, NaN where a weight is ∞ as
//      the dense product has it, a NaN input propagating, and its gradients unchanged.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <humble/core/sparse_product.hpp>
#include <humble/humble.hpp>
#include <limits>
#include <random>
#include <vector>

namespace test_sparse_product {

using namespace humble;

namespace {

// (rows, cols) values in [−1, 1], each zero with probability `zeros`.
template <class T>
std::vector<T> mostly_zero(int64_t rows, int64_t cols, double zeros, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(0, 1), v(-1, 1);
  std::vector<T> x(static_cast<std::size_t>(rows * cols));
  for (T& e : x) e = u(g) < zeros ? T{0} : static_cast<T>(v(g));
  return x;
}

// max |a − b| <= tol·(1 + max |b|), over tensors of one shape
bool close(const Tensor& a, const Tensor& b, double tol) {
  REQUIRE(a.shape() == b.shape());
  const Tensor ad = a.contiguous(), bd = b.contiguous();
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < ad.numel(); ++i) {
    worst = std::max(worst, std::fabs(double(ad.data<float>()[i]) - bd.data<float>()[i]));
    scale = std::max(scale, std::fabs(double(bd.data<float>()[i])));
  }
  return worst <= tol * (1 + scale);
}

template <class T>
void check_kernel_against_reference(int64_t m, int64_t n, int64_t k, bool with_row) {
  const auto a = mostly_zero<T>(m, k, 0.8, 1), b = mostly_zero<T>(n, k, 0.0, 2), row = mostly_zero<T>(1, n, 0.0, 3);
  const T* r = with_row ? row.data() : nullptr;
  std::vector<T> want(static_cast<std::size_t>(m * n)), one(want.size(), T(-7)), two(want.size(), T(-7));
  sparse::product_onto_row_reference<T>(m, n, k, a.data(), b.data(), r, want.data());
  set_num_threads(1);
  REQUIRE(sparse::product_onto_row<T>(m, n, k, a.data(), b.data(), r, one.data()));
  set_num_threads(2);
  REQUIRE(sparse::product_onto_row<T>(m, n, k, a.data(), b.data(), r, two.data()));
  const double eps = std::numeric_limits<T>::epsilon();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double magnitude = with_row ? std::fabs(row[j]) : 0, dense = with_row ? row[j] : 0;
      for (int64_t q = 0; q < k; ++q) {
        magnitude += std::fabs(double(a[i * k + q]) * b[j * k + q]);
        dense += double(a[i * k + q]) * b[j * k + q];
      }
      const std::size_t e = static_cast<std::size_t>(i * n + j);
      CHECK(std::fabs(double(one[e]) - want[e]) <= double(k) * eps * magnitude);
      CHECK(std::fabs(double(want[e]) - dense) <= double(k) * eps * magnitude);
      CHECK(one[e] == two[e]);  // the same bits
    }
}

}  // namespace

TEST_CASE("test_sparse_product: the kernel gives the reference's sums, the same bits on 1 and 2 threads") {
  for (const bool with_row : {true, false}) {
    check_kernel_against_reference<float>(130, 70, 97, with_row);  // partial row block and tile
    check_kernel_against_reference<float>(64, 32, 784, with_row);  // exactly one block and one tile
    check_kernel_against_reference<double>(130, 37, 97, with_row);
    check_kernel_against_reference<double>(3, 5, 200, with_row);
  }
}

TEST_CASE("test_sparse_product: it declines a dense input and a non-finite weight, writing nothing") {
  const int64_t m = 100, n = 80, k = 300;  // 4.8 MFLOP: large enough to skip zeros
  const auto dense = mostly_zero<float>(m, k, 0.5, 4), sparse_a = mostly_zero<float>(m, k, 0.9, 5);
  auto b = mostly_zero<float>(n, k, 0.0, 6);
  std::vector<float> c(static_cast<std::size_t>(m * n), -7.0f);
  CHECK_FALSE(sparse::product_onto_row<float>(m, n, k, dense.data(), b.data(), nullptr, c.data()));
  for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    b[17 * k + 3] = bad;
    CHECK_FALSE(sparse::product_onto_row<float>(m, n, k, sparse_a.data(), b.data(), nullptr, c.data()));
  }
  for (const float e : c) CHECK(e == -7.0f);

  CHECK(sparse::worth_skipping_zeros<float>(m, n, k, sparse_a.data()));
  CHECK_FALSE(sparse::worth_skipping_zeros<float>(m, n, k, dense.data()));
  CHECK_FALSE(sparse::worth_skipping_zeros<float>(4, 4, 4, sparse_a.data()));  // too small to pay
}

TEST_CASE("test_sparse_product: linear on a mostly-zero input matches the dense product, NaN and gradients included") {
  const int64_t m = 128, n = 64, k = 784;
  const auto values = mostly_zero<float>(m, k, 0.85, 8);
  const Tensor x = tensor(values, {m, k}), w = tensor(mostly_zero<float>(n, k, 0.0, 9), {n, k}),
               bias = tensor(mostly_zero<float>(1, n, 0.0, 10), {n});
  REQUIRE(sparse::worth_skipping_zeros<float>(m, n, k, values.data()));
  const Tensor want = matmul(x, w, false, true) + bias;  // dense GEMM
  CHECK(close(linear(x, w, bias), want, 1e-6));

  // 0 · ∞ = NaN, as in the dense product: the weight's ∞ meets zeros of x.
  Tensor w_inf = w.clone();
  w_inf.data<float>()[5 * k + 0] = std::numeric_limits<float>::infinity();
  const Tensor got_inf = linear(x, w_inf, bias), want_inf = matmul(x, w_inf, false, true) + bias;
  for (int64_t i = 0; i < m; ++i)
    CHECK(std::isnan(got_inf.data<float>()[i * n + 5]) == std::isnan(want_inf.data<float>()[i * n + 5]));
  CHECK(std::isnan(got_inf.data<float>()[5]));  // some row of x has a zero there

  // A NaN in the input is no zero: its row's outputs are NaN.
  Tensor x_nan = x.clone();
  x_nan.data<float>()[3 * k + 400] = std::numeric_limits<float>::quiet_NaN();
  const Tensor got_nan = linear(x_nan, w, bias);
  for (int64_t j = 0; j < n; ++j) CHECK(std::isnan(got_nan.data<float>()[3 * n + j]));
  CHECK_FALSE(std::isnan(got_nan.data<float>()[4 * n]));

  // The backward is the dense one's: dx = g @ w, dw = gᵀ @ x, dbias = Σ g.
  const Tensor xs = x.clone().requires_grad_(), ws = w.clone().requires_grad_(), bs = bias.clone().requires_grad_();
  sum(linear(xs, ws, bs) * linear(xs, ws, bs)).backward();
  const Tensor g = 2 * (matmul(x, w, false, true) + bias);
  CHECK(close(xs.grad(), matmul(g, w), 1e-6));
  CHECK(close(ws.grad(), matmul(g, x, true, false), 1e-6));
  CHECK(close(bs.grad(), sum(g, {0}), 1e-6));
}

}  // namespace test_sparse_product
