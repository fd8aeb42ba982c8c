// tests/test_losses.cpp — label-smoothed cross-entropy: PyTorch parity, the math, what humble adds.
//
// Legend: N rows, C classes, ε label smoothing, q′ the smoothed target, p = softmax(z).
// Four groups of tests, in this order:
//   1. golden parity: every cross_entropy case of tests/golden/losses.json (written by
//      tests/golden/gen_losses.py from torch.nn.functional.cross_entropy), value and dL/dlogits;
//   2. the math: dL/dz = p − q′, rows summing to 0, ε = 0 is plain cross-entropy, ignored rows
//      change nothing, one-hot probabilities equal indices, the composed form equals the fused
//      node, gradient descent lands on optimal_logit_gap, the hand-derived C = 2 literal, and the
//      worked example of docs/label-smoothing.md;
//   3. beyond PyTorch: every validation error (and the first bad target named on every path),
//      ruled-out (−inf) classes, all rows ignored, OtherClasses, cross_entropy_parts, the same bits
//      for 1 and 2 threads, float32 short and long rows against the float64 kernel;
//   4. finite-difference gradchecks (Float64) of every configuration.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "golden/losses_fixture.hpp"
#include "support.hpp"

namespace test_losses {

using namespace humble;
using namespace test_support;
using namespace humble::losses;
using namespace humble::loss_golden;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Dtype dtype_named(const std::string& name) { return name == "float64" ? Dtype::Float64 : Dtype::Float32; }

// Golden tolerance: |a − b| <= rtol·max(|b|, floor), with rtol the required 1e-10 in Float64 (torch and
// humble only round differently) and 1e-5 in Float32 (torch accumulates in float, humble in double).
// Values are compared purely relatively (floor 0: a reference of exactly 0 must be met exactly).
// Gradients get a tiny absolute floor, because an element p_c·S − w_c·q′_c cancels to ~0 where the
// softmax meets the target (a nearly uniform row at ε = 1, say) and is then known only to an ulp or
// so of its *terms*: floor = 1e-6·max|b| in Float64 and 1e-2·max|b| in Float32 over the gradient
// tensor, i.e. an absolute slack of 1e-16·max|b| and 1e-7·max|b|. It only matters for elements a
// million (Float64) or a hundred (Float32) times smaller than the tensor's largest.
constexpr double kValueFloor = 0;
struct Tolerance {
  double rtol, gradient_floor_fraction;
};
Tolerance golden_tolerance(Dtype dtype) {
  return dtype == Dtype::Float64 ? Tolerance{1e-10, 1e-6} : Tolerance{1e-5, 1e-2};
}

void check_value(const Values& actual, const Values& expected, Dtype dtype, const std::string& what) {
  check_close(actual, expected, golden_tolerance(dtype).rtol, kValueFloor, what);
}
void check_value(double actual, double expected, Dtype dtype, const std::string& what) {
  check_value(Values{actual}, Values{expected}, dtype, what);
}
void check_gradient(const Values& actual, const Values& expected, Dtype dtype, const std::string& what) {
  double largest = 0;
  for (double b : expected) largest = std::max(largest, std::abs(b));
  const Tolerance tol = golden_tolerance(dtype);
  check_close(actual, expected, tol.rtol, tol.gradient_floor_fraction * largest, what);
}

// |a − b| <= atol elementwise.
void check_near(const Values& actual, const Values& expected, double atol, const std::string& what = "") {
  REQUIRE(actual.size() == expected.size());
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < actual.size(); ++i)
    if (!(std::abs(actual[i] - expected[i]) <= worst)) worst = std::abs(actual[i] - expected[i]), at = i;
  CHECK_MESSAGE(worst <= atol, what, " element ", at, ": ", digits(actual[at]), " vs ", digits(expected[at]));
}

// Every part must appear in the message: the op, the argument, the value received.
double log_sum_exp(const Values& z) {
  double m = -kInf;
  for (double v : z) m = std::max(m, v);
  double s = 0;
  for (double v : z) s += std::exp(v - m);
  return m + std::log(s);
}

// The node's two paths, the fast kernel and the readable reference: every test of the math, the
// validation and PyTorch parity below runs on both.
using LossFn = Tensor (*)(const Tensor&, const Tensor&, const CrossEntropyOptions&);
struct LossPath {
  std::string name;
  LossFn fn;
  Tensor operator()(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {}) const {
    return fn(logits, target, options);
  }
};
const std::vector<LossPath> kPaths = {{"cross_entropy", &cross_entropy},
                                      {"cross_entropy_reference", &cross_entropy_reference}};

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Golden parity with PyTorch

TEST_CASE("cross_entropy: value and dL/dlogits match torch.nn.functional.cross_entropy on every golden case") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const json& cases = golden().at("cross_entropy");
    REQUIRE(cases.size() > 400);
    int float32_cases = 0, float64_cases = 0;
    for (const json& c : cases) {
      const std::string name = c.at("name").get<std::string>() + " " + c.at("dtype").get<std::string>();
      INFO(name);
      const Dtype dtype = dtype_named(c.at("dtype"));
      (dtype == Dtype::Float64 ? float64_cases : float32_cases) += 1;
      const Shape shape = c.at("shape").get<Shape>();
      Shape row_shape = shape;
      row_shape.erase(row_shape.begin() + 1);

      const Tensor logits = tensor(c.at("logits").get<Values>(), shape, dtype, true);
      const bool soft = c.at("target_kind") == "probabilities";
      const Tensor target = tensor(c.at("target").get<Values>(), soft ? shape : row_shape, soft ? dtype : Dtype::Int64);
      CrossEntropyOptions options;
      options.label_smoothing = c.at("label_smoothing").get<double>();
      options.reduction = reduction_named(c.at("reduction"));
      options.ignore_index = c.at("ignore_index").get<int64_t>();
      if (!c.at("weight").is_null()) options.weight = tensor(c.at("weight").get<Values>(), {shape[1]}, dtype);

      const Tensor loss = path(logits, target, options);
      CHECK(loss.dtype() == dtype);
      if (options.reduction == Reduction::None) {
        CHECK(loss.shape() == row_shape);
        check_value(loss.to_vector(), c.at("value").get<Values>(), dtype, name + " value");
        loss.backward(tensor(c.at("grad_output").get<Values>(), row_shape, dtype));
      } else {
        CHECK(loss.dim() == 0);
        check_value(loss.item(), c.at("value").get<double>(), dtype, name + " value");
        loss.backward();
      }
      REQUIRE(logits.grad().defined());
      check_gradient(logits.grad().to_vector(), c.at("grad").get<Values>(), dtype, name + " grad");
    }
    CHECK(float32_cases > 200);
    CHECK(float64_cases > 200);
  }
}

// The example of docs/label-smoothing.md §5: 3 rows, the middle one ignored, C = 4, ε = 0.1.
TEST_CASE("cross_entropy: the worked example matches PyTorch and differs from the widely copied formulation") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const json& w = golden().at("worked_example");
    const double eps = w.at("label_smoothing");
    const Tensor z = f64(w.at("logits").get<Values>(), {3, 4}, true);  // (3, 4)
    const std::vector<int64_t> y = w.at("target").get<std::vector<int64_t>>();
    REQUIRE(y == std::vector<int64_t>{0, -100, 2});
    REQUIRE(w.at("logits").get<Values>() ==
            Values{2, 0.5, -1, 0, 0.1, 1.5, 0.3, -0.5, -0.2, 0.4, 2.2, 1});  // as printed
    const double torch_value = w.at("torch_value"), torch_widely_copied = w.at("widely_copied_value");

    const double humble_value = path(z, labels(y), {.label_smoothing = eps}).item();
    check_value(humble_value, torch_value, Dtype::Float64, "worked example");

    // The widely copied formulation: ε/C·mean_rows(−Σ_c log p) + (1 − ε)·nll_loss(log p, y, ignore_index).
    // Its smoothing term averages over all three rows, the ignored one included.
    const Tensor log_p = log_softmax(z, 1);                                                    // (3, 4)
    const Tensor smoothing = mean(-sum(log_p, {1})) * (eps / 4);                               // over all rows
    const Tensor picked = gather(log_p, 1, labels({0, 0, 2}).reshape({-1, 1})).reshape({-1});  // (3)
    const Tensor nll = -sum(picked * f64({1, 0, 1}, {3})) / 2.0;  // nll_loss: the two kept rows
    const double widely_copied = (smoothing + nll * (1 - eps)).item();
    check_value(widely_copied, torch_widely_copied, Dtype::Float64, "widely copied");

    // The correct one averages the smoothing term over the kept rows only — humble's (and PyTorch's) value.
    const Tensor kept_smoothing = -sum(sum(log_p, {1}) * f64({1, 0, 1}, {3})) / 2.0 * (eps / 4);
    CHECK(std::abs((kept_smoothing + nll * (1 - eps)).item() - humble_value) <= 1e-14);
    CHECK(std::abs(widely_copied - humble_value) > 1e-3);

    MESSAGE(
        "worked example (z = [[2, 0.5, -1, 0], [0.1, 1.5, 0.3, -0.5], [-0.2, 0.4, 2.2, 1]], y = [0, -100, 2], "
        "eps = 0.1, mean): PyTorch ",
        digits(torch_value), ", humble ", digits(humble_value), ", widely copied formulation ", digits(widely_copied));
  }
}

// ---------------------------------------------------------------------------------------------
// 2. The math

TEST_CASE("cross_entropy: the gradient is softmax − q′ (scaled by 1/N), and p·S − w⊙q′ with class weights") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(7);
    const int64_t n = 5, classes = 10;
    const double eps = 0.1;
    const Tensor z = randn({n, classes}, gen, Dtype::Float64) * 2.0;  // (N, C)
    const Tensor y = labels({3, 0, 9, 3, 5});
    const Tensor q = smoothed_targets(y, classes, eps, SmoothingTarget::AllClasses, Dtype::Float64);  // (N, C)

    const Tensor leaf = z.detach().clone().requires_grad_();
    path(leaf, y, {.label_smoothing = eps}).backward();
    check_near(leaf.grad().to_vector(), ((softmax(z, 1) - q) / static_cast<double>(n)).to_vector(), 1e-15, "mean");

    // Each gradient row sums to 0 (Σ p = Σ q′ = 1).
    const Values g = leaf.grad().to_vector();
    for (int64_t row = 0; row < n; ++row) {
      double total = 0;
      for (int64_t c = 0; c < classes; ++c) total += g[row * classes + c];
      CHECK(std::abs(total) <= 1e-16 * classes);
    }

    // With class weights w, sum reduction: dz = p·Σ_k w_k q′_k − w ⊙ q′.
    const Tensor w = uniform({classes}, 0.5, 2.0, gen, Dtype::Float64);  // (C)
    const Tensor weighted = z.detach().clone().requires_grad_();
    path(weighted, y, {.label_smoothing = eps, .reduction = Reduction::Sum, .weight = w}).backward();
    const Tensor wq = q * w;                                          // (N, C)
    const Tensor expected = softmax(z, 1) * sum(wq, {1}, true) - wq;  // (N, C)
    check_near(weighted.grad().to_vector(), expected.to_vector(), 1e-15, "weighted");
  }
}

TEST_CASE("cross_entropy: ε = 0 is plain cross-entropy, −mean log_softmax(z)[y]") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(11);
    const Tensor z = randn({6, 7}, gen, Dtype::Float64) * 3.0;  // (6, 7)
    const Tensor y = labels({0, 6, 2, 2, 5, 1});
    const Tensor fused_leaf = z.detach().clone().requires_grad_(), plain_leaf = z.detach().clone().requires_grad_();
    const Tensor fused = path(fused_leaf, y);
    const Tensor plain = -mean(gather(log_softmax(plain_leaf, 1), 1, y.reshape({-1, 1})));
    CHECK(std::abs(fused.item() - plain.item()) <= 1e-15 * std::abs(plain.item()));
    fused.backward();
    plain.backward();
    check_near(fused_leaf.grad().to_vector(), plain_leaf.grad().to_vector(), 1e-15);
  }
}

TEST_CASE("cross_entropy: adding ignored rows changes neither the value nor the other rows' gradients") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(13);
    const double eps = 0.1;
    const Tensor w = uniform({5}, 0.5, 2.0, gen, Dtype::Float64);    // (C)
    const Tensor base = randn({4, 5}, gen, Dtype::Float64);          // (4, 5)
    const Tensor noise = randn({3, 5}, gen, Dtype::Float64) * 10.0;  // the ignored rows' logits
    // Ignored rows at 0, 3 and 6 of 7: [x, b0, b1, x, b2, b3, x].
    const Tensor expanded =
        cat({noise.slice(0, 1), base.slice(0, 2), noise.slice(1, 2), base.slice(2, 4), noise.slice(2, 3)});
    const std::vector<int64_t> y = {4, 0, 2, 2};
    for (const Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
      for (const bool weighted : {false, true}) {
        CAPTURE(static_cast<int>(reduction));
        CAPTURE(weighted);
        const CrossEntropyOptions options{
            .label_smoothing = eps, .reduction = reduction, .weight = weighted ? w : Tensor()};
        const Tensor a = base.detach().clone().requires_grad_(), b = expanded.detach().clone().requires_grad_();
        const Tensor la = path(a, labels(y), options);
        const Tensor lb = path(b, labels({-100, y[0], y[1], -100, y[2], y[3], -100}), options);
        if (reduction == Reduction::None) {
          const Values va = la.to_vector(), vb = lb.to_vector();
          CHECK(Values{vb[1], vb[2], vb[4], vb[5]} == va);
          CHECK(Values{vb[0], vb[3], vb[6]} == Values{0, 0, 0});
          la.backward(ones({4}, Dtype::Float64));
          lb.backward(ones({7}, Dtype::Float64));
        } else {
          CHECK(la.item() ==
                lb.item());  // ignored rows add exact zeros (within a chunk of rows) to the same denominator
          la.backward();
          lb.backward();
        }
        const Values ga = a.grad().to_vector(), gb = b.grad().to_vector();
        for (int64_t row = 0; row < 7; ++row) {
          const int64_t kept = row == 0 || row == 3 || row == 6 ? -1 : row - (row > 3 ? 2 : 1);
          for (int64_t c = 0; c < 5; ++c) CHECK(gb[row * 5 + c] == (kept < 0 ? 0.0 : ga[kept * 5 + c]));
        }
      }
    }
  }
}

TEST_CASE("cross_entropy: a one-hot probability target equals the index target (unweighted)") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(17);
    const Tensor z = randn({5, 6}, gen, Dtype::Float64) * 2.0;  // (5, 6)
    const Tensor y = labels({1, 5, 0, 3, 3});
    const Tensor one_hot_y = one_hot(y, 6, Dtype::Float64);  // (5, 6)
    for (const double eps : {0.0, 0.1, 1.0}) {
      for (const Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        CAPTURE(eps);
        const CrossEntropyOptions options{.label_smoothing = eps, .reduction = reduction};
        const Tensor a = z.detach().clone().requires_grad_(), b = z.detach().clone().requires_grad_();
        const Tensor la = path(a, y, options), lb = path(b, one_hot_y, options);
        check_near(la.to_vector(), lb.to_vector(), 1e-15, "value");
        sum(la).backward();
        sum(lb).backward();
        check_near(a.grad().to_vector(), b.grad().to_vector(), 1e-15, "grad");
      }
    }
  }
}

TEST_CASE("cross_entropy: the composed form (1−ε)·NLL + ε·mean_c(−log p) equals the fused node") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(19);
    const double eps = 0.2;
    const Tensor z = randn({6, 7}, gen, Dtype::Float64) * 2.0;  // (N, C) = (6, 7)
    const Tensor y = labels({2, 0, 6, 6, 1, 4});

    const Tensor fused_leaf = z.detach().clone().requires_grad_();
    const Tensor fused = path(fused_leaf, y, {.label_smoothing = eps});

    const Tensor composed_leaf = z.detach().clone().requires_grad_();
    const Tensor log_p = log_softmax(composed_leaf, 1);              // (N, C)
    const Tensor nll = -mean(gather(log_p, 1, y.reshape({-1, 1})));  // −log p_y, averaged over rows
    const Tensor uniform_ce = mean(-mean(log_p, {1}));               // CE(u, p) = mean_c(−log p_c)
    const Tensor composed = nll * (1 - eps) + uniform_ce * eps;

    CHECK(std::abs(fused.item() - composed.item()) <= 1e-12 * std::abs(composed.item()));
    fused.backward();
    composed.backward();
    check_near(fused_leaf.grad().to_vector(), composed_leaf.grad().to_vector(), 1e-12);
  }
}

TEST_CASE("cross_entropy: gradient descent on one row lands on optimal_logit_gap and max_confidence") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const int64_t classes = 10, y = 3;
    const double eps = 0.1, lr = 2.0;  // the softmax Hessian's eigenvalues are <= 1/2: lr < 4 is stable
    Generator gen(23);
    Values z = randn({1, classes}, gen, Dtype::Float64).to_vector();
    // At the optimum the slowest direction has curvature ε/C = 0.01: error × (1 − 0.02) per step.
    for (int step = 0; step < 2000; ++step) {
      const Tensor leaf = f64(z, {1, classes}, true);
      path(leaf, labels({y}), {.label_smoothing = eps}).backward();
      const Values g = leaf.grad().to_vector();
      for (int64_t c = 0; c < classes; ++c) z[c] -= lr * g[c];
    }
    const double gap = optimal_logit_gap(classes, eps), confidence = max_confidence(classes, eps);
    CHECK(std::abs(gap - std::log(91.0)) <= 1e-15);  // log(1 + C(1 − ε)/ε) = log 91
    CHECK(std::abs(confidence - 0.91) <= 1e-15);
    for (int64_t c = 0; c < classes; ++c)
      if (c != y) CHECK(std::abs((z[y] - z[c]) - gap) <= 1e-9);
    const Values p = softmax(f64(z, {1, classes}), 1).to_vector();
    CHECK(std::abs(p[y] - confidence) <= 1e-9);
    // And the loss sits on its floor, H(q′).
    const double loss = path(f64(z, {1, classes}), labels({y}), {.label_smoothing = eps}).item();
    CHECK(std::abs(loss - loss_floor(classes, eps)) <= 1e-12);
  }
}

TEST_CASE("cross_entropy: C = 2, z = [ln 19, 0], y = 0, ε = 0.1 gives p = q′ = [0.95, 0.05], gradient 0, loss H(q′)") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({std::log(19.0), 0.0}, {1, 2}, true);
    const Tensor loss = path(z, labels({0}), {.label_smoothing = 0.1});
    const Values p = softmax(z.detach(), 1).to_vector();
    CHECK(std::abs(p[0] - 0.95) <= 1e-15);
    CHECK(std::abs(p[1] - 0.05) <= 1e-15);
    const Values q = smoothed_targets(labels({0}), 2, 0.1, SmoothingTarget::AllClasses, Dtype::Float64).to_vector();
    CHECK(std::abs(q[0] - 0.95) <= 1e-15);
    CHECK(std::abs(q[1] - 0.05) <= 1e-15);
    loss.backward();
    for (double g : z.grad().to_vector()) CHECK(std::abs(g) <= 1e-15);  // exactly 0 but for rounding
    const double entropy = -0.95 * std::log(0.95) - 0.05 * std::log(0.05);
    CHECK(std::abs(loss.item() - entropy) <= 1e-12);
    CHECK(std::abs(entropy - 0.198515) <= 5e-7);
    CHECK(std::abs(loss_floor(2, 0.1) - entropy) <= 1e-15);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Beyond PyTorch: validation

TEST_CASE("cross_entropy: label_smoothing outside [0, 1], NaN or infinite throws ValueError naming it") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor y = labels({0, 2});
    const auto with_eps = [&](double eps) { return [&, eps] { path(z, y, {.label_smoothing = eps}); }; };
    for (const auto& [eps, shown] : std::vector<std::pair<double, std::string>>{
             {-0.1, "-0.1"}, {1.5, "1.5"}, {std::nan(""), "nan"}, {kInf, "inf"}, {-kInf, "-inf"}}) {
      CAPTURE(shown);
      CHECK_THROWS_AS(with_eps(eps)(), ValueError);
      check_message(with_eps(eps), {"[cross_entropy]", "label_smoothing", shown});
    }
    CHECK_NOTHROW(path(z, y, {.label_smoothing = 0.0}));
    CHECK_NOTHROW(path(z, y, {.label_smoothing = 1.0}));
  }
}

TEST_CASE("cross_entropy: a target index out of range throws ValueError naming the row and the value") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64(Values(30, 0.5), {3, 10});
    CHECK_THROWS_AS(path(z, labels({0, 10, 1})), ValueError);
    check_message([&] { path(z, labels({0, 10, 1})); }, {"[cross_entropy]", "target[1] = 10", "[0, 10)"});
    CHECK_THROWS_AS(path(z, labels({-5, 0, 1})), ValueError);
    check_message([&] { path(z, labels({-5, 0, 1})); }, {"target[0] = -5", "ignore_index (-100)"});
    // -100 is the default ignore_index; with another ignore_index it is out of range.
    CHECK_NOTHROW(path(z, labels({-100, 0, 1})));
    CHECK_THROWS_AS(path(z, labels({-100, 0, 1}), {.ignore_index = -1}), ValueError);
  }
}

TEST_CASE("cross_entropy: the first bad target is the one named, on every path and for 1 and 2 threads") {
  // The forward checks each class-index target as it reads the row (float32 rows with C < 16 eight
  // at a time, others one by one), in parallel tasks: the error must still name the first bad row.
  // Bad rows sit in the first and the last of the parallel tasks, in a group with ignored rows and
  // in the last, partial group; 2^32 + 3 is a class that 32-bit lanes would read as 3.
  RestoreTwoThreads restore;
  const int64_t N = 50001, huge = (int64_t{1} << 32) + 3;
  struct Case {
    std::vector<std::pair<int64_t, int64_t>> bad;  // row, label (-1: rule out the target's logit; -2: C)
    std::vector<std::string> named;
  };
  const std::vector<Case> cases = {
      {{{45000, -1}, {41000, -5}, {30001, -2}}, {"target[30001] = ", "not a class in [0, "}},
      {{{45000, -1}}, {"target[45000] = ", "whose logit is -inf"}},
      {{{50000, huge}}, {"target[50000] = 4294967299"}},
      {{{49000, 3}, {7, huge}, {6, -100}, {5, -100}}, {"target[7] = 4294967299"}},
  };
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
    for (const int64_t C : {10, 40}) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(C);
      Generator gen(53);  // the same logits and targets for every path, case and thread count
      const Values good_z = randn({N, C}, gen, dtype).to_vector();
      const Values good_y = randint(0, std::min<int64_t>(C, 10), {N}, gen).to_vector();
      for (const Case& bad : cases) {
        CAPTURE(bad.named.front());
        Values z = good_z, y = good_y;
        for (const auto& [row, label] : bad.bad) {
          if (label == -1) z[row * C + static_cast<int64_t>(y[row])] = -kInf;
          if (label != -1) y[row] = static_cast<double>(label == -2 ? C : label);
        }
        const Tensor logits = tensor(z, {N, C}, dtype, true);
        const Tensor target = tensor(y, {N}, Dtype::Int64);
        for (const LossPath& path : kPaths)
          for (const int threads : {1, 2}) {
            CAPTURE(path.name);
            CAPTURE(threads);
            set_num_threads(threads);
            CHECK_THROWS_AS(path(logits, target, {.label_smoothing = 0.1}), ValueError);
            check_message([&] { path(logits, target, {.label_smoothing = 0.1}); }, bad.named);
          }
      }
    }
}

TEST_CASE("cross_entropy: an ignore_index that is a real class (0 <= ignore_index < C) ignores that class's rows") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(29);
    const Tensor z = randn({6, 4}, gen, Dtype::Float64);  // (6, 4)
    const Tensor w = f64({0.5, 1.0, 1.5, 2.0}, {4});
    const std::vector<int64_t> y = {2, 0, 2, 3, 1, 2};        // class 2 is ignored: rows 0, 2, 5
    const Tensor kept = cat({z.slice(1, 2), z.slice(3, 5)});  // rows 1, 3, 4
    for (const Reduction reduction : {Reduction::Mean, Reduction::Sum}) {
      const Tensor all = z.detach().clone().requires_grad_(), some = kept.detach().clone().requires_grad_();
      const Tensor la =
          path(all, labels(y), {.label_smoothing = 0.1, .reduction = reduction, .ignore_index = 2, .weight = w});
      const Tensor lk = path(some, labels({0, 3, 1}), {.label_smoothing = 0.1, .reduction = reduction, .weight = w});
      CHECK(la.item() == lk.item());
      la.backward();
      lk.backward();
      const Values ga = all.grad().to_vector(), gk = some.grad().to_vector();
      const int64_t source[6] = {-1, 0, -1, 1, 2, -1};
      for (int64_t row = 0; row < 6; ++row)
        for (int64_t c = 0; c < 4; ++c) CHECK(ga[row * 4 + c] == (source[row] < 0 ? 0.0 : gk[source[row] * 4 + c]));
    }
  }
}

TEST_CASE("cross_entropy: probability targets that are negative or do not sum to 1 throw ValueError") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor negative = f64({0.2, 0.8, 0.0, 1.2, -0.2, 0.0}, {2, 3});
    CHECK_THROWS_AS(path(z, negative), ValueError);
    check_message([&] { path(z, negative); }, {"[cross_entropy]", "row 1, class 1", "-0.2"});
    const Tensor short_of_one = f64({0.2, 0.7, 0.0, 0.5, 0.5, 0.0}, {2, 3});
    CHECK_THROWS_AS(path(z, short_of_one), ValueError);
    check_message([&] { path(z, short_of_one); },
                  {"[cross_entropy]", "row 0", "sum to 0.8999999999999999;"});  // 0.2 + 0.7
    const Tensor nan_target = f64({std::nan(""), 1.0, 0.0, 0.5, 0.5, 0.0}, {2, 3});
    CHECK_THROWS_AS(path(z, nan_target), ValueError);
    check_message([&] { path(z, nan_target); }, {"row 0, class 0", "nan"});
  }
}

TEST_CASE("cross_entropy: a weight of the wrong length, sign or dtype throws, naming weight and the value") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor y = labels({0, 2});
    const auto with_weight = [&](const Tensor& w) { return [&, w] { path(z, y, {.weight = w}); }; };

    const Tensor too_short = f64({1, 1}, {2});
    CHECK_THROWS_AS(with_weight(too_short)(), ShapeError);
    check_message(with_weight(too_short), {"[cross_entropy]", "weight", "(3,)", "(2,)"});
    const Tensor negative = f64({1, -0.5, 1}, {3});
    CHECK_THROWS_AS(with_weight(negative)(), ValueError);
    check_message(with_weight(negative), {"[cross_entropy]", "weight[1]", "-0.5"});
    const Tensor not_finite = f64({1, 1, kInf}, {3});
    CHECK_THROWS_AS(with_weight(not_finite)(), ValueError);
    check_message(with_weight(not_finite), {"weight[2]", "inf"});
    const Tensor float32 = tensor({1, 1, 1}, {3}, Dtype::Float32);
    CHECK_THROWS_AS(with_weight(float32)(), ValueError);
    check_message(with_weight(float32), {"[cross_entropy]", "weight", "float32", "float64"});
  }
}

TEST_CASE("cross_entropy: logits must be float and at least (N, C), and targets must fit them") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor y = labels({0, 2});
    const Tensor one_d = f64({1, 2, 3}, {3});
    CHECK_THROWS_AS(path(one_d, labels({0})), ShapeError);
    check_message([&] { path(one_d, labels({0})); }, {"[cross_entropy]", "logits", "(3,)"});

    const Tensor int_logits = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, Dtype::Int64);
    CHECK_THROWS_AS(path(int_logits, y), ValueError);
    check_message([&] { path(int_logits, y); }, {"[cross_entropy]", "logits", "int64"});

    const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK_THROWS_AS(path(z, labels({0, 1, 2})), ShapeError);
    check_message([&] { path(z, labels({0, 1, 2})); }, {"[cross_entropy]", "target", "(2,)", "(3,)"});
    const Tensor z4 = f64(Values(24, 0.0), {2, 3, 2, 2});  // index target must be (2, 2, 2)
    CHECK_THROWS_AS(path(z4, labels({0, 1})), ShapeError);
    check_message([&] { path(z4, labels({0, 1})); }, {"target", "(2, 2, 2)", "(2,)"});

    const Tensor soft_wrong_shape = f64({0.5, 0.5, 0.5, 0.5}, {2, 2});
    CHECK_THROWS_AS(path(z, soft_wrong_shape), ShapeError);
    check_message([&] { path(z, soft_wrong_shape); }, {"[cross_entropy]", "target", "(2, 2)", "(2, 3)"});
    const Tensor soft_float32 = tensor({1, 0, 0, 0, 1, 0}, {2, 3}, Dtype::Float32);
    CHECK_THROWS_AS(path(z, soft_float32), ValueError);
    check_message([&] { path(z, soft_float32); }, {"[cross_entropy]", "target", "float32", "float64"});
  }
}

TEST_CASE("cross_entropy: OtherClasses smoothing needs C >= 2") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({1, 2}, {2, 1});
    const CrossEntropyOptions options{.label_smoothing = 0.1, .smoothing_target = SmoothingTarget::OtherClasses};
    CHECK_THROWS_AS(path(z, labels({0, 0}), options), ValueError);
    check_message([&] { path(z, labels({0, 0}), options); }, {"[cross_entropy]", "OtherClasses", "C = 1"});
    CHECK(path(z, labels({0, 0}), {.smoothing_target = SmoothingTarget::OtherClasses}).item() == 0.0);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Beyond PyTorch: ruled-out classes, all rows ignored, OtherClasses, parts, threads

// PyTorch returns inf here (checked with torch 1.13: its smoothing term averages −log p over every
// class, and −log p of a class whose logit is −inf is inf), and its gradient still hands each
// ruled-out class −ε/C of smoothing mass. humble rules such classes out instead.
TEST_CASE("cross_entropy: classes with logit −inf are ruled out: finite loss, zero gradient, no smoothing mass") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const double eps = 0.1;
    const Values row1 = {0.3, -1.0, 0.2, 2.0, -0.7};
    const Tensor z = f64({2.0, -kInf, 0.5, -kInf, 1.0, 0.3, -1.0, 0.2, 2.0, -0.7}, {2, 5}, true);
    const Tensor loss = path(z, labels({0, 3}), {.label_smoothing = eps});

    // Row 0 by hand on its three remaining classes {0, 2, 4}: C′ = 3.
    const Values kept = {2.0, 0.5, 1.0};
    const double lse0 = log_sum_exp(kept), lse1 = log_sum_exp(row1);
    const double loss0 = (1 - eps) * (lse0 - 2.0) + eps / 3 * ((lse0 - 2.0) + (lse0 - 0.5) + (lse0 - 1.0));
    double smooth1 = 0;
    for (double v : row1) smooth1 += lse1 - v;
    const double loss1 = (1 - eps) * (lse1 - 2.0) + eps / 5 * smooth1;
    CHECK(std::isfinite(loss.item()));
    CHECK(std::abs(loss.item() - (loss0 + loss1) / 2) <= 1e-15);

    loss.backward();
    const Values g = z.grad().to_vector();
    for (double v : g) CHECK_FALSE(std::isnan(v));
    CHECK(g[1] == 0.0);
    CHECK(g[3] == 0.0);
    // The rest of row 0: (p − q′)/2 with p over the kept classes and q′ = 0.9·[c = 0] + 0.1/3.
    const double q_true = 1 - eps + eps / 3, q_other = eps / 3;
    CHECK(std::abs(g[0] - (std::exp(2.0 - lse0) - q_true) / 2) <= 1e-15);
    CHECK(std::abs(g[2] - (std::exp(0.5 - lse0) - q_other) / 2) <= 1e-15);
    CHECK(std::abs(g[4] - (std::exp(1.0 - lse0) - q_other) / 2) <= 1e-15);
    double row_sum = 0;
    for (int c = 0; c < 5; ++c) row_sum += g[c];
    CHECK(std::abs(row_sum) <= 1e-15);

    // With an ε so small that ε/4 and ε/5 round alike, the ruled-out class still gets exactly 0.
    const Tensor tiny = f64({-kInf, 0.0, 1.0, 2.0, 3.0}, {1, 5}, true);
    path(tiny, labels({1}),
         {.label_smoothing = 5 * std::numeric_limits<double>::denorm_min(), .reduction = Reduction::Sum})
        .backward();
    CHECK(tiny.grad().to_vector()[0] == 0.0);

    // A row where only the target is left: loss 0, gradient 0.
    const Tensor lone = f64({-kInf, 3.0, -kInf}, {1, 3}, true);
    const Tensor lone_loss = path(lone, labels({1}), {.label_smoothing = eps});
    CHECK(lone_loss.item() == 0.0);
    lone_loss.backward();
    CHECK(lone.grad().to_vector() == Values{0, 0, 0});
  }
}

TEST_CASE("cross_entropy: a target class whose logit is −inf throws ValueError") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    const Tensor z = f64({1.0, -kInf, 0.0, 0.5, 0.5, 0.5}, {2, 3});
    CHECK_THROWS_AS(path(z, labels({1, 0})), ValueError);
    check_message([&] { path(z, labels({1, 0})); }, {"[cross_entropy]", "target[0] = 1", "-inf"});
    const Tensor soft = f64({0.5, 0.5, 0.0, 1.0, 0.0, 0.0}, {2, 3});
    CHECK_THROWS_AS(path(z, soft), ValueError);
    check_message([&] { path(z, soft); }, {"[cross_entropy]", "class 1 of row 0", "-inf"});
    CHECK_NOTHROW(path(z, labels({-100, 0})));  // an ignored row may have −inf anywhere
  }
}

TEST_CASE("cross_entropy: with every row ignored, mean and sum give 0 and a zero gradient (PyTorch: NaN)") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    for (const Reduction reduction : {Reduction::Mean, Reduction::Sum}) {
      const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3}, true);
      const Tensor loss = path(z, labels({-100, -100}), {.label_smoothing = 0.1, .reduction = reduction});
      CHECK(loss.item() == 0.0);
      loss.backward();
      CHECK(z.grad().to_vector() == Values(6, 0.0));
    }
    const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(path(z, labels({-100, -100}), {.reduction = Reduction::None}).to_vector() == Values{0, 0});
  }
}

TEST_CASE("cross_entropy: no rows at all: an empty loss or 0, and an empty gradient, for both dtypes") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
      for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        CAPTURE(std::string(dtype_name(dtype)));
        const Tensor z = zeros({0, 4}, dtype).requires_grad_();  // (0, 4)
        const Tensor loss =
            path(z, tensor(Values{}, {0}, Dtype::Int64), {.label_smoothing = 0.1, .reduction = reduction});
        CHECK(loss.numel() == (reduction == Reduction::None ? 0 : 1));
        if (reduction != Reduction::None) CHECK(loss.item() == 0.0);
        loss.backward(ones_like(loss));
        CHECK(z.grad().shape() == Shape{0, 4});
      }
  }
}

TEST_CASE("cross_entropy: OtherClasses keeps 1 − ε on the true class and spreads ε over the others") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(31);
    const double eps = 0.2;
    const int64_t classes = 4;
    const Tensor z = randn({3, classes}, gen, Dtype::Float64) * 2.0;  // (3, 4)
    const std::vector<int64_t> y = {1, 3, 0};
    const CrossEntropyOptions options{
        .label_smoothing = eps, .reduction = Reduction::None, .smoothing_target = SmoothingTarget::OtherClasses};
    const Values losses = path(z, labels(y), options).to_vector();
    const Values zv = z.to_vector();
    for (int64_t row = 0; row < 3; ++row) {
      const Values zr(zv.begin() + row * classes, zv.begin() + (row + 1) * classes);
      const double lse = log_sum_exp(zr);
      double others = 0;  // Σ_{c≠y} −log p_c
      for (int64_t c = 0; c < classes; ++c)
        if (c != y[row]) others += lse - zr[c];
      const double expected = (1 - eps) * (lse - zr[y[row]]) + eps / (classes - 1) * others;
      CHECK(std::abs(losses[row] - expected) <= 1e-14 * expected);
    }

    // dL/dz = p − q′ with the OtherClasses q′, summed rows.
    const Tensor leaf = z.detach().clone().requires_grad_();
    path(leaf, labels(y),
         {.label_smoothing = eps, .reduction = Reduction::Sum, .smoothing_target = SmoothingTarget::OtherClasses})
        .backward();
    const Tensor q = smoothed_targets(labels(y), classes, eps, SmoothingTarget::OtherClasses, Dtype::Float64);
    check_near(leaf.grad().to_vector(), (softmax(z, 1) - q).to_vector(), 1e-15);

    // Its optimum: max_confidence 1 − ε, logit gap log((C − 1)(1 − ε)/ε).
    CHECK(std::abs(max_confidence(classes, eps, SmoothingTarget::OtherClasses) - 0.8) <= 1e-15);
    CHECK(std::abs(optimal_logit_gap(classes, eps, SmoothingTarget::OtherClasses) - std::log(3 * 0.8 / 0.2)) <= 1e-15);
    const double gap = std::log(3 * 0.8 / 0.2);
    const double at_optimum = path(f64({0, gap, 0, 0}, {1, 4}), labels({1}), options).item();
    CHECK(std::abs(at_optimum - loss_floor(classes, eps, SmoothingTarget::OtherClasses)) <= 1e-14);
  }
}

TEST_CASE("cross_entropy_parts: loss = nll_part + smoothing_part, nll_part = (1 − ε)·nll, nll is the ε = 0 loss") {
  Generator gen(37);
  const double eps = 0.3;
  const Tensor z = randn({5, 6}, gen, Dtype::Float64) * 2.0;     // (5, 6)
  const Tensor w = uniform({6}, 0.5, 2.0, gen, Dtype::Float64);  // (6)
  const Tensor y = labels({0, -100, 5, 2, 2});
  for (const Reduction reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    for (const bool weighted : {false, true}) {
      CAPTURE(static_cast<int>(reduction));
      CAPTURE(weighted);
      const CrossEntropyOptions options{
          .label_smoothing = eps, .reduction = reduction, .weight = weighted ? w : Tensor()};
      CrossEntropyOptions unsmoothed = options;
      unsmoothed.label_smoothing = 0;
      const CrossEntropyParts parts = cross_entropy_parts(z, y, options);
      const Values loss = parts.loss.to_vector(), nll_part = parts.nll_part.to_vector(),
                   smoothing_part = parts.smoothing_part.to_vector(), nll = parts.nll.to_vector();
      CHECK(loss == cross_entropy(z, y, options).to_vector());
      check_near(nll, cross_entropy(z, y, unsmoothed).to_vector(), 1e-15, "nll");
      for (std::size_t i = 0; i < loss.size(); ++i) {
        CHECK(std::abs(loss[i] - (nll_part[i] + smoothing_part[i])) <= 1e-15 * std::abs(loss[i]));
        CHECK(std::abs(nll_part[i] - (1 - eps) * nll[i]) <= 1e-15 * std::abs(nll[i]));
      }
    }
  }
  const Tensor leaf = z.detach().clone().requires_grad_();
  const CrossEntropyParts parts = cross_entropy_parts(leaf, y, {.label_smoothing = eps});
  CHECK(parts.loss.requires_grad());
  CHECK_FALSE(parts.nll.requires_grad());
  CHECK_FALSE(parts.nll_part.requires_grad());
  CHECK_FALSE(parts.smoothing_part.requires_grad());
}

TEST_CASE("cross_entropy: 1 and 2 threads give the same bits, for long rows, short rows and 3-D logits") {
  // Each problem is large enough to be split between threads; short rows end in a partial group of
  // eight.
  RestoreTwoThreads restore;
  struct Problem {
    Shape shape;
    bool weighted;
    Reduction reduction;
  };
  const std::vector<Problem> problems = {{{4096, 1000}, true, Reduction::Mean},
                                         {{20001, 10}, false, Reduction::Mean},
                                         {{20001, 10}, true, Reduction::None},
                                         {{300, 7, 41}, false, Reduction::Sum}};
  for (const Problem& problem : problems) {
    CAPTURE(shape_str(problem.shape));
    Generator gen(41);
    const int64_t C = problem.shape[1];
    const Tensor z = randn(problem.shape, gen, Dtype::Float32) * 3.0;  // (N, C, ...)
    Shape target_shape = problem.shape;
    target_shape.erase(target_shape.begin() + 1);
    Values y = randint(0, C, target_shape, gen).to_vector();
    for (std::size_t i = 0; i < y.size(); i += 7) y[i] = -100;  // some ignored rows
    const Tensor target = tensor(y, target_shape, Dtype::Int64);
    const Tensor w = problem.weighted ? uniform({C}, 0.5, 2.0, gen, Dtype::Float32) : Tensor();
    const auto run = [&](int threads) {
      set_num_threads(threads);
      const Tensor leaf = z.detach().clone().requires_grad_();
      const Tensor loss =
          cross_entropy(leaf, target, {.label_smoothing = 0.1, .reduction = problem.reduction, .weight = w});
      loss.backward(ones_like(loss));
      return std::make_pair(loss.to_vector(), leaf.grad());
    };
    const auto [value1, grad1] = run(1);
    const auto [value2, grad2] = run(2);
    CHECK(value1 == value2);
    CHECK(std::all_of(value1.begin(), value1.end(), [](double v) { return std::isfinite(v); }));
    REQUIRE(grad1.numel() == grad2.numel());
    CHECK(std::memcmp(grad1.data<float>(), grad2.data<float>(), sizeof(float) * grad1.numel()) == 0);
  }
}

TEST_CASE("cross_entropy: float32 rows, short (vectorised across rows) and long, agree with the float64 kernel") {
  // Every class count the short-row code treats apart (C < 8 column by column, C = 8 one 8 × 8
  // transpose, up to 15 two overlapping ones) and two long rows (16, and 40 with a partial last
  // vector), a partial last group (37 rows), ignored rows, weights, both conventions, a −inf logit
  // and per-row reductions: float32 against float64, which runs one value at a time, at the
  // golden float32 tolerance.
  Generator gen(47);
  for (int64_t C : {2, 3, 7, 8, 9, 10, 15, 16, 40})
    for (bool weighted : {false, true})
      for (SmoothingTarget convention : {SmoothingTarget::AllClasses, SmoothingTarget::OtherClasses})
        for (Reduction reduction : {Reduction::None, Reduction::Mean}) {
          CAPTURE(C);
          CAPTURE(weighted);
          const int64_t N = 37;
          Values z = (randn({N, C}, gen, Dtype::Float32) * 4.0).to_vector();  // floats, exact in both dtypes
          Values y = randint(0, C, {N}, gen).to_vector();
          y[5] = y[20] = -100;
          z[3 * C + (static_cast<int64_t>(y[3]) + 1) % C] = -kInf;  // row 3 rules out a class not its target
          const Tensor target = tensor(y, {N}, Dtype::Int64);
          const Values w = uniform({C}, 0.5, 2.0, gen, Dtype::Float32).to_vector();
          const auto run = [&](Dtype dtype) {
            const Tensor leaf = tensor(z, {N, C}, dtype, true);
            const Tensor loss = cross_entropy(leaf, target,
                                              {.label_smoothing = 0.2,
                                               .reduction = reduction,
                                               .weight = weighted ? tensor(w, {C}, dtype) : Tensor(),
                                               .smoothing_target = convention});
            loss.backward(ones_like(loss));
            return std::make_pair(loss.to_vector(), leaf.grad().to_vector());
          };
          const auto [value32, grad32] = run(Dtype::Float32);
          const auto [value64, grad64] = run(Dtype::Float64);
          check_value(value32, value64, Dtype::Float32, "value");
          check_gradient(grad32, grad64, Dtype::Float32, "gradient");
        }
}

// ---------------------------------------------------------------------------------------------
// 4. Gradchecks (Float64, central differences)

TEST_CASE("cross_entropy: gradcheck over weights, ignored rows, soft targets, 4-D inputs, OtherClasses, reductions") {
  for (const LossPath& path : kPaths) {
    CAPTURE(path.name);
    Generator gen(43);
    const Tensor w5 = uniform({5}, 0.5, 2.0, gen, Dtype::Float64);
    const Tensor z2 = randn({4, 5}, gen, Dtype::Float64).requires_grad_();        // (4, 5)
    const Tensor z4 = randn({2, 5, 3, 2}, gen, Dtype::Float64).requires_grad_();  // (2, 5, 3, 2)
    const Tensor y2 = labels({1, -100, 4, 0});
    const Tensor y4 = tensor({0, 4, -100, 2, 1, 1, 3, -100, 0, 2, 4, 4}, {2, 3, 2}, Dtype::Int64);
    const Tensor soft2 = softmax(randn({4, 5}, gen, Dtype::Float64), 1);
    const Tensor soft4 = softmax(randn({2, 5, 3, 2}, gen, Dtype::Float64), 1);
    struct Config {
      const char* name;
      Tensor logits, target;
      CrossEntropyOptions options;
    };
    const std::vector<Config> configs = {
        {"plain", z2, y2, {}},
        {"smoothed", z2, y2, {.label_smoothing = 0.1}},
        {"weights", z2, y2, {.label_smoothing = 0.3, .weight = w5}},
        {"custom ignore_index", z2, labels({1, 3, 4, 3}), {.label_smoothing = 0.2, .ignore_index = 3, .weight = w5}},
        {"soft", z2, soft2, {.label_smoothing = 0.1}},
        {"soft weights", z2, soft2, {.label_smoothing = 0.5, .weight = w5}},
        {"4-D", z4, y4, {.label_smoothing = 0.1, .weight = w5}},
        {"4-D soft", z4, soft4, {.label_smoothing = 0.1}},
        {"OtherClasses", z2, y2, {.label_smoothing = 0.2, .smoothing_target = SmoothingTarget::OtherClasses}},
        {"OtherClasses weights",
         z2,
         y2,
         {.label_smoothing = 0.2, .weight = w5, .smoothing_target = SmoothingTarget::OtherClasses}},
        {"eps = 1", z2, y2, {.label_smoothing = 1.0}},
    };
    for (const Config& config : configs) {
      for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        CrossEntropyOptions options = config.options;
        options.reduction = reduction;
        const Tensor target = config.target;
        const GradcheckResult result =
            gradcheck([&](const Tensors& x) { return path(x[0], target, options); }, {config.logits});
        CHECK_MESSAGE(result.passed, config.name, " reduction ", static_cast<int>(reduction), ": ", result.message);
      }
    }
  }
}

}  // namespace test_losses
