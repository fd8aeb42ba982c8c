// tests/test_loss_reference.cpp — the fast cross-entropy kernel against its specification, the
// reference path, and what the reference path makes exact.
//
// Legend: N rows, C classes, ε label smoothing.
//   1. randomized: every C from 1 to 40 and 1000, ragged N around the vector widths (8 and 16),
//      (N, C) and (N, C, d1, d2) logits, weights, ignored rows, probability targets, ruled-out
//      (−inf) classes, both conventions, every reduction, ε ∈ {0, tiny, 0.1, 1}, float32 and
//      float64: value and gradient of the fast kernel equal the reference's within rounding, and
//      bad input gets the same error from both; the large problems at 1 and 2 threads;
//   2. float64 exactness: logits of 1e8, shift invariance (adding 1e7 to every logit);
//   3. misuse: ignore_index with probability targets, float64 targets rounded in float32, and a
//      row sum printed with the digits that show the problem.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <string>
#include <vector>

#include "golden/losses_fixture.hpp"
#include "loss_agreement.hpp"
#include "support.hpp"

namespace test_loss_reference {

using namespace humble;
using namespace test_support;
using namespace humble::losses;
using namespace humble::loss_golden;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The agreement asked of the fast kernel (tests/loss_agreement.hpp).
using loss_agreement::largest_of;
using loss_agreement::largest_term;

void check_matches(const Values& fast, const Values& reference, Dtype dtype, double scale, const std::string& what) {
  const loss_agreement::Tolerance tol = loss_agreement::tolerance_for(dtype);
  check_close(fast, reference, tol.rtol, tol.floor(scale), what);
}

// One randomized problem: logits (N, C) or (N, C, d1, d2), a target, options.
struct Case {
  Shape shape;
  bool soft, weighted, ignoring, ruling_out;
  CrossEntropyOptions options;
  Dtype dtype;
};

// The logits and target of a case, drawn from gen: normal logits scaled by 3; with ruling_out, a
// few classes of some rows at −inf (never an index target's own class; a probability target puts
// no mass there); with ignoring, some index targets at ignore_index.
std::pair<Tensor, Tensor> draw(const Case& c, Generator& gen) {
  const int64_t C = c.shape[1];
  Shape row_shape = c.shape;
  row_shape.erase(row_shape.begin() + 1);
  const int64_t rows = shape_numel(row_shape), stride = shape_numel(Shape(c.shape.begin() + 2, c.shape.end()));
  const auto at = [&](int64_t row, int64_t cls) { return (row / stride) * C * stride + row % stride + cls * stride; };
  Values z = (randn(c.shape, gen, Dtype::Float64) * 3.0).to_vector();
  Values y = randint(0, C, row_shape, gen).to_vector();
  if (c.ruling_out && C > 1)
    for (int64_t row = 0; row < rows; row += 3) {
      const auto cls = static_cast<int64_t>(y[row] + 1 + gen.uniform_int(0, C - 1)) % C;  // not y[row]
      z[at(row, cls)] = -kInf;
    }
  if (c.ignoring)
    for (int64_t row = 1; row < rows; row += 4) y[row] = static_cast<double>(c.options.ignore_index);
  const Tensor logits = tensor(z, c.shape, c.dtype);
  if (!c.soft) return {logits, tensor(y, row_shape, Dtype::Int64)};
  // Probabilities: a softmax of other normal logits, with the same classes ruled out, in double,
  // then rounded to the dtype and renormalised in double so that each row sums to 1.
  Values t = (randn(c.shape, gen, Dtype::Float64) * 2.0).to_vector();
  for (std::size_t i = 0; i < z.size(); ++i)
    if (z[i] == -kInf) t[i] = -kInf;
  const Values probabilities = softmax(tensor(t, c.shape, Dtype::Float64), 1).to_vector();
  return {logits, tensor(probabilities, c.shape, c.dtype)};
}

// Value and gradient of one path on a case (the gradient of Σ loss ⊙ r for a fixed r without
// reduction), or the error message.
struct Outcome {
  Values value, grad;
  std::string error;
};
Outcome run(const Case& c, const Tensor& logits, const Tensor& target, bool reference) {
  Outcome out;
  out.error = message_of([&] {
    const Tensor z = logits.detach().clone().requires_grad_();
    const Tensor loss = reference ? cross_entropy_reference(z, target, c.options) : cross_entropy(z, target, c.options);
    Generator gen(5);
    loss.backward(c.options.reduction == Reduction::None ? uniform(loss.shape(), 0.5, 1.5, gen, loss.dtype())
                                                         : ones_like(loss));
    out.value = loss.to_vector();
    out.grad = z.grad().to_vector();
  });
  return out;
}

void compare(const Case& c, Generator& gen, const std::string& name) {
  const auto [logits, target] = draw(c, gen);
  const Outcome fast = run(c, logits, target, false), reference = run(c, logits, target, true);
  CHECK_MESSAGE(fast.error == reference.error, name, ": fast '", fast.error, "', reference '", reference.error, "'");
  if (!fast.error.empty() || !reference.error.empty()) return;
  check_matches(fast.value, reference.value, c.dtype, largest_of(reference.value), name + " value");
  check_matches(fast.grad, reference.grad, c.dtype, largest_term(c.options, target, c.shape, 1.5), name + " gradient");
}

std::string describe(const Case& c) {
  const char* reductions[] = {"none", "mean", "sum"};
  return str_cat(shape_str(c.shape), " ", dtype_name(c.dtype), c.soft ? " soft" : " indices",
                 c.weighted ? " weighted" : "", c.ignoring ? " ignoring" : "", c.ruling_out ? " ruling out" : "",
                 c.options.smoothing_target == SmoothingTarget::OtherClasses ? " other-classes" : "",
                 " eps=", c.options.label_smoothing, " ", reductions[static_cast<int>(c.options.reduction)]);
}

const std::vector<double> kEpsilons = {0.0, 1e-300, 0.1, 1.0};  // 1e-300: so small that ε/C and ε/(C − 1) round alike

// The case of one combination of the switches (bit 0 probability targets, 1 weights, 2 ignored
// rows, 3 ruled-out classes, 4 OtherClasses), with ε, the reduction and (for some ignoring cases)
// a real class as ignore_index drawn from gen.
Case case_of(Shape shape, Dtype dtype, int combination, Generator& gen) {
  const int64_t C = shape[1];
  Case c{std::move(shape), (combination & 1) != 0, (combination & 2) != 0, false, (combination & 8) != 0, {}, dtype};
  c.ignoring = (combination & 4) && !c.soft;  // probability targets have no ignored rows
  c.options.smoothing_target = combination & 16 ? SmoothingTarget::OtherClasses : SmoothingTarget::AllClasses;
  c.options.label_smoothing = kEpsilons[gen.uniform_int(0, 4)];
  c.options.reduction = static_cast<Reduction>(gen.uniform_int(0, 3));
  if (c.ignoring && gen.uniform() < 0.5) c.options.ignore_index = gen.uniform_int(0, C);  // a real class
  if (c.weighted) c.options.weight = uniform({C}, 0.25, 1.75, gen, dtype);
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Randomized: the fast kernel against the reference

TEST_CASE(
    "cross_entropy_reference: the fast kernel matches it on every C from 1 to 40 and 1000, in every configuration") {
  // For each C and dtype, every combination of target kind, weights, ignored rows, ruled-out
  // classes and convention, with N, ε and the reduction drawn at random (N from counts around the
  // vector widths: a partial last group of 8 short rows, a partial last vector of a long row).
  Generator gen(2024);
  const std::vector<int64_t> row_counts = {1, 2, 7, 8, 9, 15, 16, 17, 23, 31, 33};
  int compared = 0;
  std::vector<int64_t> classes(40);
  for (int64_t C = 1; C <= 40; ++C) classes[C - 1] = C;
  classes.push_back(1000);
  for (const int64_t C : classes)
    for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
      for (int combination = 0; combination < 32; ++combination) {
        const int64_t N = C == 1000 ? 3 : row_counts[gen.uniform_int(0, static_cast<int64_t>(row_counts.size()))];
        const Case c = case_of({N, C}, dtype, combination, gen);
        const std::string name = describe(c);
        CAPTURE(name);
        compare(c, gen, name);
        ++compared;
      }
  CHECK(compared == 41 * 2 * 32);
}

TEST_CASE("cross_entropy_reference: the fast kernel matches it on (N, C, d1, d2) logits") {
  Generator gen(2025);
  int compared = 0;
  for (const Shape& shape : std::vector<Shape>{{2, 5, 3, 2}, {3, 1, 2, 2}, {1, 17, 3, 1}, {2, 40, 1, 9}})
    for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
      for (int combination = 0; combination < 32; ++combination) {
        const Case c = case_of(shape, dtype, combination, gen);
        const std::string name = describe(c);
        CAPTURE(name);
        compare(c, gen, name);
        ++compared;
      }
  CHECK(compared == 4 * 2 * 32);
}

TEST_CASE("cross_entropy_reference: the fast kernel matches it on problems split between 1 and 2 threads") {
  // Large enough that the fast kernel splits its rows between tasks: short rows (C = 10, N not a
  // multiple of 8), long rows (C = 1000) and strided rows (N, C, d), each at 1 and 2 threads.
  RestoreTwoThreads restore;
  Generator gen(2026);
  for (const Shape& shape : std::vector<Shape>{{4099, 10}, {37, 1000}, {61, 7, 23}})
    for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
      for (const bool soft : {false, true})
        for (const int threads : {1, 2}) {
          set_num_threads(threads);
          Case c{shape, soft, true, !soft, true, {}, dtype};
          c.options.label_smoothing = 0.1;
          c.options.weight = uniform({shape[1]}, 0.25, 1.75, gen, dtype);
          const std::string name = str_cat(describe(c), " threads=", threads);
          CAPTURE(name);
          compare(c, gen, name);
        }
}

// ---------------------------------------------------------------------------------------------
// 2. Float64 exactness

TEST_CASE("cross_entropy_reference: logits of 1e8 give the exact loss and gradient on both paths") {
  // [[1e8, 1e8]], y = 1, ε = 0.1: p = [½, ½], q′ = [0.05, 0.95], so loss = log 2 exactly and the
  // gradient is p − q′ = [0.45, −0.45], to within 2 ulp (the log's own rounding). Rounding
  // lse = 1e8 + log 2 to one double before z − lse would get log 2 wrong in its 9th digit.
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const Tensor z = f64({1e8, 1e8}, {1, 2}, true);
    const Tensor loss = reference ? cross_entropy_reference(z, labels({1}), {.label_smoothing = 0.1})
                                  : cross_entropy(z, labels({1}), {.label_smoothing = 0.1});
    CHECK(std::abs(loss.item() - std::log(2.0)) <= 2 * std::numeric_limits<double>::epsilon() * std::log(2.0));
    loss.backward();
    const Values g = z.grad().to_vector();
    CHECK(std::abs(g[0] - 0.45) <= 1e-16);
    CHECK(std::abs(g[1] + 0.45) <= 1e-16);
  }
}

TEST_CASE("cross_entropy_reference: adding 1e7 to every logit changes nothing (float64, both paths)") {
  // z′ = fl(z + 1e7) is z rounded to multiples of 2^-29; z′ − 1e7 is exact (Sterbenz). Both are the
  // same logits up to the offset, so loss and gradient must agree to about an ulp of the shifted
  // values: the max is subtracted before anything is added.
  Generator gen(61);
  const Tensor shifted = randn({16, 4}, gen, Dtype::Float64) * 3.0 + 1e7;  // (16, 4)
  const Tensor unshifted = shifted - 1e7;
  const Tensor y = randint(0, 4, {16}, gen);
  for (const bool reference : {false, true})
    for (const Reduction reduction : {Reduction::None, Reduction::Mean}) {
      CAPTURE(reference);
      const auto run_on = [&](const Tensor& logits) {
        const Tensor z = logits.detach().clone().requires_grad_();
        const CrossEntropyOptions options{.label_smoothing = 0.1, .reduction = reduction};
        const Tensor loss = reference ? cross_entropy_reference(z, y, options) : cross_entropy(z, y, options);
        loss.backward(ones_like(loss));
        return std::make_pair(loss.to_vector(), z.grad().to_vector());
      };
      const auto [value_a, grad_a] = run_on(shifted);
      const auto [value_b, grad_b] = run_on(unshifted);
      check_close(value_a, value_b, 4e-16, 0, "value");
      check_close(grad_a, grad_b, 4e-16, 1e-2, "gradient");
    }
}

TEST_CASE("cross_entropy_reference: a float64 row whose loss fits but whose sums over z − m pass the range") {
  // [DBL_MAX, 0, 0], y = 0, ε = 0.1: d = z − m = [0, −DBL_MAX, −DBL_MAX], whose sum overflows, and
  // ls = 0, so loss = Σ q′_c (ls − d_c) = 2·(ε/3)·DBL_MAX, which fits.
  constexpr double kMax = std::numeric_limits<double>::max();
  const double exact = 2 * (0.1 / 3) * kMax;
  // With weights (1.5, 1), y = 0, ε = 0.9 and a sum: NLL = 1.5·1.5e308 passes the range, but the
  // loss, 1.5·q′_0·1.5e308 with q′_0 = 0.1 + 0.45, fits.
  const double exact_weighted = 1.5 * (0.1 + 0.9 / 2) * 1.5e308;
  const CrossEntropyOptions weighted{.label_smoothing = 0.9, .reduction = Reduction::Sum, .weight = f64({1.5, 1}, {2})};
  // Three rows, the last spanning more than float64 holds: both paths name it, not the one before.
  const Tensor rows = f64({1, 2, 3, kMax, 0, 0, kMax, -kMax, 0}, {3, 3});
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const auto loss_of = [&](const Tensor& z, const Tensor& y, const CrossEntropyOptions& options) {
      return reference ? cross_entropy_reference(z, y, options) : cross_entropy(z, y, options);
    };
    const Tensor z = f64({kMax, 0, 0}, {1, 3}, true);
    const Tensor loss = loss_of(z, labels({0}), {.label_smoothing = 0.1});
    check_close(loss.to_vector(), {exact}, 1e-15, 0, "loss");
    loss.backward();
    check_close(z.grad().to_vector(), {2 * (0.1 / 3), -0.1 / 3, -0.1 / 3}, 1e-15, 1e-16, "gradient");  // p − q′

    const Tensor w_loss = loss_of(f64({-1.5e308, 0}, {1, 2}), labels({0}), weighted);
    check_close(w_loss.to_vector(), {exact_weighted}, 1e-15, 0, "weighted loss");

    CHECK_THROWS_WITH_AS(loss_of(rows, labels({0, 0, 0}), {.label_smoothing = 0.1, .reduction = Reduction::None}),
                         "[cross_entropy] the loss of row 2 does not fit in float64: the logits of a row span more, "
                         "or the class weights are larger, than it holds",
                         ValueError);
  }
}

TEST_CASE("cross_entropy_reference: a subnormal weight on a far logit keeps its term") {
  // weights (2.17e-311, 0.125), z = [−1.5e308, 0], y = 1, ε = 6.6e-45, summed: w_0·q′_0 = w_0·ε/2
  // underflows to 0, but the term w_0·q′_0·(lse − z_0) = 1.0733e-47 does not; the other is 0 (ls = 0).
  const double w0 = 2.172925741087659e-311, eps = 6.5861027823266405e-45;
  const double exact = w0 * ((eps / 2) * 1.5e308);
  const CrossEntropyOptions options{
      .label_smoothing = eps, .reduction = Reduction::Sum, .weight = f64({w0, 0.125}, {2})};
  // And a probability target whose tiny mass sits on that class: w_0·t_0 underflows, w_0·(t_0·d_0) does not.
  const Tensor t = f64({1e-300, 1 - 1e-300}, {1, 2});
  const double exact_soft = w0 * (1e-300 * 1.5e308);
  const CrossEntropyOptions soft_options{.reduction = Reduction::Sum, .weight = f64({w0, 0.125}, {2})};
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const Tensor z = f64({-1.5e308, 0}, {1, 2});
    const Tensor loss =
        reference ? cross_entropy_reference(z, labels({1}), options) : cross_entropy(z, labels({1}), options);
    check_close(loss.to_vector(), {exact}, 1e-15, 0, "loss");
    const Tensor soft = reference ? cross_entropy_reference(z, t, soft_options) : cross_entropy(z, t, soft_options);
    check_close(soft.to_vector(), {exact_soft}, 1e-15, 0, "probability-target loss");
  }
}

TEST_CASE("cross_entropy_reference: weights whose sum passes float64 give the loss and gradient that fit") {
  // weights (M/2, M/2, M/2) with M = DBL_MAX, z = [0, 0, 0], y = 0, ε = 0.1: Σ w = 1.5·M does not fit,
  // but S = Σ w q′ = M/2 does, so loss = (M/2)·log 3 and dz = (M/2)·(1/3 − q′).
  constexpr double kHalfMax = std::numeric_limits<double>::max() / 2;
  const double q_y = 0.9 + 0.1 / 3, q_other = 0.1 / 3;
  const CrossEntropyOptions options{
      .label_smoothing = 0.1, .reduction = Reduction::Sum, .weight = f64({kHalfMax, kHalfMax, kHalfMax}, {3})};
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const Tensor z = f64({0, 0, 0}, {1, 3}, true);
    const Tensor loss =
        reference ? cross_entropy_reference(z, labels({0}), options) : cross_entropy(z, labels({0}), options);
    check_close(loss.to_vector(), {kHalfMax * std::log(3.0)}, 1e-15, 0, "loss");
    loss.backward();
    check_close(z.grad().to_vector(),
                {kHalfMax * (1.0 / 3 - q_y), kHalfMax * (1.0 / 3 - q_other), kHalfMax * (1.0 / 3 - q_other)}, 1e-14, 0,
                "gradient");
  }
}

TEST_CASE("cross_entropy_reference: OtherClasses with a target logit far below the others (float32, 1 and 8 rows)") {
  // y's logit is −FLT_MAX, ε = 1: the loss is Σ_{c≠y} u_c (lse − z_c), over the other, ordinary
  // logits. Taken as Σ d − d_y it would be lost in the rounding of Σ d ≈ −3.4e38.
  const Values row{-0.875, -4.125, -std::numeric_limits<float>::max(), -16, -3.125, -3.125, -3.625, 13.25};
  const CrossEntropyOptions options{.label_smoothing = 1.0, .smoothing_target = SmoothingTarget::OtherClasses};
  for (const int64_t rows : {1, 8}) {
    CAPTURE(rows);
    Values z;
    for (int64_t r = 0; r < rows; ++r) z.insert(z.end(), row.begin(), row.end());
    const Tensor logits = tensor(z, {rows, 8}, Dtype::Float32);
    const Tensor y = tensor(Values(rows, 2.0), {rows}, Dtype::Int64);
    const Values fast = cross_entropy(logits, y, options).to_vector();
    const Values reference = cross_entropy_reference(logits, y, options).to_vector();
    check_matches(fast, reference, Dtype::Float32, largest_of(reference), "loss");
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Misuse

TEST_CASE("cross_entropy_reference: ignore_index with probability targets is an error naming the option") {
  const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor soft = f64({0.2, 0.8, 0.0, 0.5, 0.25, 0.25}, {2, 3});
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const auto call = [&](const CrossEntropyOptions& options) {
      return reference ? cross_entropy_reference(z, soft, options) : cross_entropy(z, soft, options);
    };
    CHECK_THROWS_AS(call({.ignore_index = 1}), ValueError);
    const std::string message = message_of([&] { call({.ignore_index = 1}); });
    CHECK(message.find("[cross_entropy] ignore_index (1)") == 0);
    CHECK(message.find("probability targets") != std::string::npos);
    CHECK_NOTHROW(call({}));  // the default, -100, is no choice
  }
}

TEST_CASE("cross_entropy_reference: float64 probability targets rounded in float32 are accepted") {
  // A float32 softmax cast to float64: each row sums to 1 only within float32's rounding.
  Generator gen(67);
  for (const int64_t C : {10, 1000}) {
    const Tensor t32 = softmax(randn({8, C}, gen, Dtype::Float32) * 3.0, 1);
    const Tensor t64 = t32.to(Dtype::Float64);
    const Tensor z = randn({8, C}, gen, Dtype::Float64);
    double worst = 0;
    const Values t = t64.to_vector();
    for (int64_t row = 0; row < 8; ++row) {
      double total = 0;
      for (int64_t c = 0; c < C; ++c) total += t[row * C + c];
      worst = std::max(worst, std::abs(total - 1));
    }
    CAPTURE(worst);
    CHECK(worst > 1e-8);  // beyond the old float64 tolerance, so this would have been rejected
    CHECK_NOTHROW(cross_entropy(z, t64, {.label_smoothing = 0.1}));
    CHECK_NOTHROW(cross_entropy_reference(z, t64, {.label_smoothing = 0.1}));
  }
}

TEST_CASE("cross_entropy_reference: a row sum off by more than the tolerance is printed with its digits") {
  const Tensor z = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor off = f64({0.3, 0.3, 0.3997, 0.5, 0.5, 0.0}, {2, 3});  // row 0 sums to 0.9997
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const std::string message = message_of([&] {
      if (reference)
        cross_entropy_reference(z, off);
      else
        cross_entropy(z, off);
    });
    CHECK(message == "[cross_entropy] target probabilities of row 0 sum to 0.9997; expected 1 (within 0.0001)");
  }
}

TEST_CASE("cross_entropy_reference: both paths take strided logits and refuse logits changed before backward") {
  Generator gen(71);
  const Tensor base = randn({5, 3}, gen, Dtype::Float64);  // (C, N): its transpose is a strided (N, C) view
  const Tensor y = labels({0, 2, 1});
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    const auto loss_of = [&](const Tensor& z) {
      return reference ? cross_entropy_reference(z, y, {.label_smoothing = 0.1})
                       : cross_entropy(z, y, {.label_smoothing = 0.1});
    };
    // A transposed view reads the same numbers as its contiguous copy, and its gradient reaches the base.
    const Tensor leaf = base.detach().clone().requires_grad_();
    const Tensor view = leaf.t();
    REQUIRE_FALSE(view.is_contiguous());
    const Tensor loss = loss_of(view);
    CHECK(loss.item() == loss_of(base.t().contiguous()).item());
    loss.backward();
    REQUIRE(leaf.grad().defined());
    CHECK(leaf.grad().shape() == Shape{5, 3});

    // Logits changed in place after the loss was computed: backward must refuse, naming the op.
    const Tensor z = randn({3, 5}, gen, Dtype::Float64).requires_grad_();
    Tensor h = z * 1.0;  // a computed tensor, which in-place ops may change
    const Tensor changed = loss_of(h);
    {
      NoGradGuard no_grad;
      h.add_(1.0);
    }
    CHECK_THROWS_WITH_AS(changed.backward(), doctest::Contains(reference ? "cross_entropy_reference" : "cross_entropy"),
                         ValueError);
  }
}

TEST_CASE("loss agreement: the gradient's tolerance stays finite under weights near the largest double") {
  // 2·max w of such weights is inf, and a tolerance of inf would let any gradient through.
  const double big = std::numeric_limits<double>::max();
  const Tensor target = tensor({0.0, 1.0}, {2}, Dtype::Int64);
  for (const auto reduction : {losses::Reduction::Sum, losses::Reduction::None}) {
    losses::CrossEntropyOptions options{.reduction = reduction, .weight = tensor({big, big}, {2}, Dtype::Float64)};
    CHECK(std::isfinite(largest_term(options, target, {2, 2}, 1.5)));
    CHECK(largest_term(options, target, {2, 2}, 1.5) == big);
  }
}

}  // namespace test_loss_reference
