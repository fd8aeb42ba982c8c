// tests/test_matmul.cpp — matmul (BLAS) against a naive triple loop on odd shapes.
//
// Legend: op(a) (M, K), op(b) (K, N), out (M, N); an optional leading batch dim B on either side.
// The reference accumulates in double from the very same (float32 or float64) inputs. The
// tolerance bounds each element's error by its dot product's magnitude, Σ_k |a_ik|·|b_kj|
// (a dot product of K terms in precision u errs by at most ~K·u times that): rtol 1e-5 in float32
// (K·u ≈ 13 · 6e-8 ≈ 8e-7 here) and 1e-12 in float64 (K·u ≈ 7e-15 even for K = 65).
#include <doctest/doctest.h>

#include <cmath>
#include <humble/humble.hpp>
#include <string>
#include <vector>

namespace test_matmul {

using namespace humble;

namespace {

using Values = std::vector<double>;

struct Problem {
  int64_t batch_a, batch_b;  // 0 means that operand is 2-D
  int64_t m, k, n;
};

// Element (r, c) of op(t) for batch i, with t stored (rows, cols) row-major per batch.
double at(const Values& t, int64_t batch, int64_t rows, int64_t cols, int64_t i, bool transposed, int64_t r,
          int64_t c) {
  const int64_t base = batch ? i * rows * cols : 0;
  return transposed ? t[base + c * cols + r] : t[base + r * cols + c];
}

// Checks matmul(a, b, ta, tb) for one problem in one dtype against the naive loop.
void check_problem(const Problem& p, bool ta, bool tb, Dtype dtype, Generator& gen) {
  const Shape sa_2d = ta ? Shape{p.k, p.m} : Shape{p.m, p.k};
  const Shape sb_2d = tb ? Shape{p.n, p.k} : Shape{p.k, p.n};
  Shape sa = sa_2d, sb = sb_2d;
  if (p.batch_a) sa.insert(sa.begin(), p.batch_a);
  if (p.batch_b) sb.insert(sb.begin(), p.batch_b);
  const Tensor a = randn(sa, gen, dtype), b = randn(sb, gen, dtype);
  const Values av = a.to_vector(), bv = b.to_vector();

  const Tensor out = matmul(a, b, ta, tb);
  const int64_t batches = std::max(p.batch_a, p.batch_b);
  const Shape want_shape = batches ? Shape{batches, p.m, p.n} : Shape{p.m, p.n};
  REQUIRE(out.shape() == want_shape);
  CHECK(out.dtype() == dtype);
  const Values got = out.to_vector();
  const double rtol = dtype == Dtype::Float32 ? 1e-5 : 1e-12;
  int64_t bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < std::max<int64_t>(batches, 1); ++i)
    for (int64_t r = 0; r < p.m; ++r)
      for (int64_t c = 0; c < p.n; ++c) {
        double want = 0, magnitude = 0;
        for (int64_t j = 0; j < p.k; ++j) {
          const double x = at(av, p.batch_a, sa_2d[0], sa_2d[1], i, ta, r, j);
          const double y = at(bv, p.batch_b, sb_2d[0], sb_2d[1], i, tb, j, c);
          want += x * y;
          magnitude += std::abs(x * y);
        }
        const double error = std::abs(got[(i * p.m + r) * p.n + c] - want);
        worst = std::max(worst, error / magnitude);
        bad += !(error <= rtol * magnitude);
      }
  CAPTURE(worst);
  CHECK(bad == 0);
  // The inputs are read, never written.
  CHECK(a.to_vector() == av);
  CHECK(b.to_vector() == bv);
}

std::string describe(const Problem& p, bool ta, bool tb, Dtype dtype) {
  return str_cat("B=(", p.batch_a, ", ", p.batch_b, ") M=", p.m, " K=", p.k, " N=", p.n, ta ? " aᵀ" : "",
                 tb ? " bᵀ" : "", " ", dtype_name(dtype));
}

}  // namespace

TEST_CASE("matmul: a hand-computed product is exact in both dtypes") {
  // [[1, 2], [3, 4]] @ [[5, 6], [7, 8]] = [[19, 22], [43, 50]]: small integers, exact in float32.
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    const Tensor a = tensor({1, 2, 3, 4}, {2, 2}, dtype), b = tensor({5, 6, 7, 8}, {2, 2}, dtype);
    CHECK(matmul(a, b).to_vector() == Values{19, 22, 43, 50});
    CHECK(matmul(a, b, true, false).to_vector() == Values{26, 30, 38, 44});  // aᵀ b
    CHECK(matmul(a, b, false, true).to_vector() == Values{17, 23, 39, 53});  // a bᵀ
    CHECK(matmul(a, b, true, true).to_vector() == Values{23, 31, 34, 46});   // aᵀ bᵀ
    // A (1, 3) row times a (3, 1) column is a dot product; the other way round an outer product.
    const Tensor row = tensor({1, 2, 3}, {1, 3}, dtype), col = tensor({4, 5, 6}, {3, 1}, dtype);
    CHECK(matmul(row, col).shape() == Shape{1, 1});
    CHECK(matmul(row, col).item() == 32);
    CHECK(matmul(col, row).to_vector() == Values{4, 8, 12, 5, 10, 15, 6, 12, 18});
    // Zero-sized dims give zero-sized (or zero-filled, when K = 0) results.
    CHECK(matmul(zeros({0, 3}, dtype), zeros({3, 2}, dtype)).shape() == Shape{0, 2});
    CHECK(matmul(ones({2, 0}, dtype), ones({0, 3}, dtype)).to_vector() == Values(6, 0.0));
  }
}

TEST_CASE("matmul: agrees with a naive triple loop on odd shapes, every transpose flag, and batches") {
  const std::vector<Problem> problems = {
      {0, 0, 1, 1, 1},    {0, 0, 7, 13, 5}, {0, 0, 1, 17, 9},  // 1×1, odd sizes, a single row
      {0, 0, 9, 17, 1},   {0, 0, 9, 1, 11}, {0, 0, 1, 31, 1},  // a single column, K = 1, a dot product
      {0, 0, 64, 65, 33},                                      // past OpenBLAS's small-matrix paths
      {3, 3, 7, 13, 5},   {3, 0, 7, 13, 5}, {0, 3, 7, 13, 5},  // batched, 3-D @ 2-D, 2-D @ 3-D
      {1, 1, 1, 5, 1},    {2, 2, 1, 9, 4},                     // batch of one, rows of one
  };
  Generator gen(31);
  int checked = 0;
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64})
    for (const Problem& p : problems)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          CAPTURE(describe(p, ta, tb, dtype));
          check_problem(p, ta, tb, dtype, gen);
          ++checked;
        }
  CHECK(checked == 2 * 12 * 4);
}

TEST_CASE("matmul: the two-argument form and linear agree with the naive loop") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    Generator gen(5);
    const double rtol = dtype == Dtype::Float32 ? 1e-5 : 1e-12;
    // linear: x (N, K) @ wᵀ (K, M) + bias (M), with N = 7, K = 13, M = 5.
    const Tensor x = randn({7, 13}, gen, dtype), w = randn({5, 13}, gen, dtype), bias = randn({5}, gen, dtype);
    const Values xv = x.to_vector(), wv = w.to_vector(), bv = bias.to_vector();
    const Values with_bias = linear(x, w, bias).to_vector(), without = linear(x, w).to_vector();
    CHECK(matmul(x, transpose(w, 0, 1)).to_vector() == matmul(x, w, false, true).to_vector());
    int bad = 0;
    for (int r = 0; r < 7; ++r)
      for (int c = 0; c < 5; ++c) {
        double dot = 0, magnitude = 0;
        for (int j = 0; j < 13; ++j) {
          dot += xv[r * 13 + j] * wv[c * 13 + j];
          magnitude += std::abs(xv[r * 13 + j] * wv[c * 13 + j]);
        }
        bad += !(std::abs(without[r * 5 + c] - dot) <= rtol * magnitude);
        bad += !(std::abs(with_bias[r * 5 + c] - (dot + bv[c])) <= rtol * (magnitude + std::abs(bv[c])));
      }
    CHECK(bad == 0);
  }
}

}  // namespace test_matmul
