// tests/test_numeric_limits.cpp — finite input at the edges of the float range: the loss and the
// calibration metrics give the exact answer or a clear error, never a silent NaN or inf.
//
//   1. cross_entropy, both paths: [[1e308, 1e308]] (log 2, with and without ε), rows whose logits
//      span more than float64 holds, a loss past float32's range, huge class weights, NaN and +inf
//      logits, subnormal class weights under a mean (scaled exactly, or an error), a mean whose total
//      weight is 0 (loss and gradient exactly 0);
//   2. metrics: a subnormal temperature, a mean_confidence_wrong that is a mean of its own rows,
//      logits of 1e17 (whose NLL logsumexp − z_y would lose), ±1e308, the bin count's bounds.
// Each case failed (NaN, inf, a wrong value or undefined behaviour) before the fix it tests.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_numeric_limits {

using namespace humble;
using namespace test_support;
using namespace humble::losses;

namespace {

using Values = std::vector<double>;
constexpr double kMax = std::numeric_limits<double>::max();

struct Result {
  Values loss, grad;
  std::string error;
};

// The loss and gradient of logits z (shape) against class indices y on one path.
Result loss_of(const Values& z, Shape shape, const std::vector<double>& y, const CrossEntropyOptions& options,
               bool reference, Dtype dtype = Dtype::Float64) {
  Result r;
  r.error = message_of<std::invalid_argument>([&] {
    const Tensor x = tensor(z, shape, dtype, true);
    const Tensor t = tensor(y, {shape[0]}, Dtype::Int64);
    const Tensor loss = reference ? cross_entropy_reference(x, t, options) : cross_entropy(x, t, options);
    (options.reduction == Reduction::None ? sum(loss) : loss).backward();
    r.loss = loss.to_vector();
    r.grad = x.grad().to_vector();
  });
  return r;
}

// Runs a check on both paths.
void on_both_paths(const std::function<void(bool reference)>& check) {
  for (const bool reference : {false, true}) {
    CAPTURE(reference);
    check(reference);
  }
}

Tensor weights(const Values& w, Dtype dtype = Dtype::Float64) {
  return tensor(w, {static_cast<int64_t>(w.size())}, dtype);
}

}  // namespace

TEST_CASE("numeric limits: [[1e308, 1e308]] gives log 2 and the gradient of two equal logits, with and without ε") {
  on_both_paths([](bool reference) {
    for (const double eps : {0.0, 0.1}) {
      const Result r = loss_of({1e308, 1e308}, {1, 2}, {0}, {.label_smoothing = eps}, reference);
      REQUIRE(r.error.empty());
      CHECK(r.loss[0] == doctest::Approx(std::log(2.0)).epsilon(1e-15));
      // p = (1/2, 1/2), q′ = (1 − ε/2, ε/2): dz = p − q′.
      CHECK(r.grad[0] == doctest::Approx(-0.5 + eps / 2).epsilon(1e-15));
      CHECK(r.grad[1] == doctest::Approx(0.5 - eps / 2).epsilon(1e-15));
    }
  });
}

TEST_CASE("numeric limits: float64 logits spanning more than float64 holds give the exact loss or a clear error") {
  on_both_paths([](bool reference) {
    // y is the largest logit and ε = 0: the loss is exactly log(1 + e^(−2e308)) = 0 (the smoothing
    // part, which would overflow, has weight 0), the gradient p − onehot = 0.
    const Result exact = loss_of({1e308, -1e308}, {1, 2}, {0}, {}, reference);
    REQUIRE(exact.error.empty());
    CHECK(exact.loss[0] == 0);
    CHECK(exact.grad == Values{0, 0});
    // Otherwise (the NLL of y = 1 is 2e308; ε > 0 needs m − z of the far class): an error, not inf or NaN.
    for (const auto& [y, eps] : std::vector<std::pair<double, double>>{{1, 0.0}, {0, 0.1}})
      CHECK(loss_of({1e308, -1e308}, {1, 2}, {y}, {.label_smoothing = eps}, reference).error ==
            "[cross_entropy] the loss of row 0 does not fit in float64: the logits of a row span more, or the class "
            "weights are larger, than it holds");
  });
}

TEST_CASE(
    "numeric limits: float32 logits 6e38 apart are exact in float64 sums, and a float32 loss past 3.4e38 is an error") {
  on_both_paths([](bool reference) {
    // ε = 0.1, y = 0 (the top): loss = ε/2·(6e38) + log(1 + e^(−6e38)) = 3e37, which fits.
    const Result fits = loss_of({3e38, -3e38}, {1, 2}, {0}, {.label_smoothing = 0.1}, reference, Dtype::Float32);
    REQUIRE(fits.error.empty());
    CHECK(fits.loss[0] == doctest::Approx(0.05 * 2 * static_cast<double>(3e38f)).epsilon(1e-6));
    CHECK(fits.grad[0] == doctest::Approx(0.05).epsilon(1e-6));
    // y = 1: the NLL is 6e38, beyond float32.
    CHECK(loss_of({3e38, -3e38}, {1, 2}, {1}, {}, reference, Dtype::Float32).error ==
          "[cross_entropy] the mean loss does not fit in float32: the logits of a row span more, or the class weights "
          "are larger, than it holds");
  });
}

TEST_CASE("numeric limits: class weights whose weighted loss passes float64 are an error, not NaN") {
  on_both_paths([](bool reference) {
    const CrossEntropyOptions options{.reduction = Reduction::Sum, .weight = weights({1e308, 1e308})};
    CHECK(loss_of({0, 100}, {1, 2}, {0}, options, reference).error ==
          "[cross_entropy] the loss of row 0 does not fit in float64: the logits of a row span more, or the class "
          "weights are larger, than it holds");
  });
}

TEST_CASE("numeric limits: a NaN or +inf logit is an error naming the row and class, on both paths alike") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
    on_both_paths([&](bool reference) {
      CHECK(loss_of({nan, 2}, {1, 2}, {0}, {}, reference, dtype).error ==
            "[cross_entropy] the logit of row 0, class 0 is nan; expected a finite number or -inf (a ruled-out class)");
      // The first bad row in row order: row 1's +inf, even though row 2 has a NaN and a ruled-out target.
      CHECK(loss_of({1, 2, 3, 0, inf, 1, -inf, nan, 0}, {3, 3}, {0, 1, 0}, {}, reference, dtype).error ==
            "[cross_entropy] the logit of row 1, class 1 is inf; expected a finite number or -inf (a ruled-out class)");
      // A row of short float32 groups (C < 16, vectorised eight rows at a time) and a long row.
      Values many(9 * 3, 0.5);
      many[7 * 3 + 2] = nan;
      CHECK(loss_of(many, {9, 3}, Values(9, 0), {}, reference, dtype).error ==
            "[cross_entropy] the logit of row 7, class 2 is nan; expected a finite number or -inf (a ruled-out class)");
      Values wide(2 * 40, 0.5);
      wide[40 + 33] = inf;
      CHECK(
          loss_of(wide, {2, 40}, {3, 4}, {.label_smoothing = 0.1}, reference, dtype).error ==
          "[cross_entropy] the logit of row 1, class 33 is inf; expected a finite number or -inf (a ruled-out class)");
      // An ignored row is not read.
      CHECK(loss_of({nan, 2, 1, 2}, {2, 2}, {-100, 0}, {}, reference, dtype).error.empty());
    });
}

TEST_CASE("numeric limits: a weighted mean scales its weights by a power of two: the same bits, and no 1/Σw overflow") {
  on_both_paths([](bool reference) {
    // Scaling every weight by 2^-1000 changes nothing in a mean (it cancels), bit for bit.
    const Values z = {0.3, -1.2, 2.0, 0.7, 0.1, -0.4};
    const Values w = {0.5, 1.75, 1.25};
    const Result plain = loss_of(z, {2, 3}, {0, 2}, {.label_smoothing = 0.1, .weight = weights(w)}, reference);
    const Result tiny =
        loss_of(z, {2, 3}, {0, 2},
                {.label_smoothing = 0.1,
                 .weight = weights({std::ldexp(w[0], -1000), std::ldexp(w[1], -1000), std::ldexp(w[2], -1000)})},
                reference);
    REQUIRE(plain.error.empty());
    CHECK(tiny.loss == plain.loss);
    CHECK(tiny.grad == plain.grad);
    // Two subnormal weights: the plain loss log(1 + e) and its gradient, not 1 and −inf.
    const Result subnormal = loss_of({1, 2}, {1, 2}, {0}, {.weight = weights({5e-324, 5e-324})}, reference);
    REQUIRE(subnormal.error.empty());
    CHECK(subnormal.loss[0] == doctest::Approx(std::log1p(std::exp(1.0))).epsilon(1e-15));
    CHECK(subnormal.grad[0] == doctest::Approx(-1 / (1 + std::exp(-1.0))).epsilon(1e-15));
  });
}

TEST_CASE("numeric limits: a mean with a weight too small beside the largest is an error naming it") {
  on_both_paths([](bool reference) {
    for (const double eps : {0.0, 0.1}) {
      CHECK(
          loss_of({1, 2}, {1, 2}, {0}, {.label_smoothing = eps, .weight = weights({5e-324, 1})}, reference).error ==
          "[cross_entropy] weight[0] = 4.94066e-324 is too small beside the largest weight 1 for a mean: their ratio "
          "must be at least 2.22507e-308 (float64's smallest normal number); use 0, larger weights, or Reduction::Sum");
    }
    // float32 weights: the bound is float32's smallest normal number.
    CHECK(
        loss_of({1, 2}, {1, 2}, {0}, {.weight = weights({1e-39, 1}, Dtype::Float32)}, reference, Dtype::Float32)
            .error.starts_with("[cross_entropy] weight[0] = 1e-39 is too small beside the largest weight 1 for a mean: "
                               "their ratio must be at least 1.17549e-38 (float32's smallest normal number)"));
    // Under Sum the subnormal weight is used as it is: a loss of a few 5e-324, a finite gradient.
    const Result sum =
        loss_of({1, 2}, {1, 2}, {0}, {.reduction = Reduction::Sum, .weight = weights({5e-324, 1})}, reference);
    REQUIRE(sum.error.empty());
    CHECK(sum.loss[0] < 1e-300);
    CHECK(std::isfinite(sum.grad[0]));
    CHECK(std::isfinite(sum.grad[1]));
  });
}

TEST_CASE("numeric limits: a mean whose total weight is 0 is 0, and so is its gradient (no −inf)") {
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
    on_both_paths([&](bool reference) {
      for (const double eps : {0.0, 0.1}) {
        const Result r = loss_of({1, 2, 0.5, -1}, {2, 2}, {0, 0},
                                 {.label_smoothing = eps, .weight = weights({0, 1}, dtype)}, reference, dtype);
        REQUIRE(r.error.empty());
        CHECK(r.loss == Values{0});
        CHECK(r.grad == Values{0, 0, 0, 0});
      }
    });
}

// ---------------------------------------------------------------------------------------------
// Metrics

TEST_CASE("numeric limits: a subnormal temperature is an error, not a NaN ECE (nor a NaN cast to int64)") {
  const Tensor logits = tensor({1, 2, 3, 0}, {2, 2}, Dtype::Float64);
  const Tensor labels = tensor({1, 0}, {2}, Dtype::Int64);
  for (const double temperature : {1e-310, 5e-324}) {
    CAPTURE(temperature);
    const std::string expected_tail = "temperature must be finite and > 0 with a finite 1 / temperature, got ";
    CHECK(message_of<std::invalid_argument>([&] { metrics::evaluate(logits, labels, temperature); }) ==
          str_cat("[evaluate] ", expected_tail, temperature));
    CHECK(message_of<std::invalid_argument>([&] {
            metrics::reliability_bins(logits, labels, 15, temperature);
          }).starts_with("[reliability_bins] temperature must be finite and > 0"));
    CHECK(message_of<std::invalid_argument>([&] {
            metrics::confidences(logits, temperature);
          }).starts_with("[confidences] temperature must be finite and > 0"));
  }
  // The smallest temperature whose 1/T is finite works, and gives a finite result.
  const metrics::CalibrationReport smallest = metrics::evaluate(logits, labels, 1e-300);
  CHECK(std::isfinite(smallest.nll));
  CHECK(smallest.accuracy == 1.0);
}

TEST_CASE("numeric limits: mean_confidence_wrong is the mean of the wrong rows' confidences, never above 1") {
  // Many right rows of moderate confidence and a few wrong ones of confidence just below 1: computed
  // as (Σ all − Σ right) / wrong, the rounding of the large sums lands above 1 for some draws.
  int above_one_as_a_difference = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Generator gen(seed);
    std::vector<double> z, y;
    const int64_t rows = gen.uniform_int(3, 200), wrong = gen.uniform_int(1, 4);
    for (int64_t i = 0; i < rows + wrong; ++i) {
      const bool right = i >= wrong;  // the wrong rows first: the two sums round differently
      z.insert(z.end(), {right ? 0.1 + 2.9 * gen.uniform() : 36 + gen.uniform(), 0.0});
      y.push_back(right ? 0 : 1);
    }
    const Tensor logits = tensor(z, {rows + wrong, 2}, Dtype::Float64);
    const metrics::CalibrationReport r = metrics::evaluate(logits, tensor(y, {rows + wrong}, Dtype::Int64));
    CHECK(r.mean_confidence_wrong <= 1.0);
    CHECK(r.mean_confidence_wrong > 0.999999);
    const std::vector<double> confidence = metrics::confidences(logits);
    double all = 0, right = 0;
    for (std::size_t i = 0; i < confidence.size(); ++i) {
      all += confidence[i];
      if (y[i] == 0) right += confidence[i];
    }
    above_one_as_a_difference += (all - right) / static_cast<double>(wrong) > 1.0;
  }
  CHECK(above_one_as_a_difference > 0);  // the case is real
}

TEST_CASE("numeric limits: the NLL of large logits keeps its small terms, and ±1e308 logits are an error") {
  // NLL = (top − z_y) + log Σ exp(z − top) = 0 + log(1 + e^(−1)); logsumexp − z_y loses it at 1e17.
  const metrics::CalibrationReport r =
      metrics::evaluate(tensor({1e17, 1e17 - 16}, {1, 2}, Dtype::Float64), tensor({0}, {1}, Dtype::Int64));
  CHECK(r.nll == doctest::Approx(std::log1p(std::exp(-16.0))).epsilon(1e-12));
  CHECK(r.mean_logit_gap == 16);
  // A row spanning more than float64 (or whose span divided by T does).
  CHECK(message_of<std::invalid_argument>([] {
          metrics::evaluate(tensor({1e308, -1e308}, {1, 2}, Dtype::Float64), tensor({0}, {1}, Dtype::Int64));
        }) ==
        "[evaluate] logits row 0 spans from -1e+308 to 1e+308, which divided by the temperature 1 exceeds "
        "float64's range");
  CHECK(message_of<std::invalid_argument>([] {
          metrics::evaluate(tensor({1e300, -1e300}, {1, 2}, Dtype::Float64), tensor({0}, {1}, Dtype::Int64), 1e-10);
        }).starts_with("[evaluate] logits row 0 spans from -1e+300 to 1e+300, which divided by the temperature 1e-10"));
  CHECK(message_of<std::invalid_argument>([] {
          metrics::fit_temperature(tensor({kMax, -kMax}, {1, 2}, Dtype::Float64), tensor({0}, {1}, Dtype::Int64));
        }).starts_with("[fit_temperature] logits row 0 spans"));
}

TEST_CASE("numeric limits: bins must lie in [1, kMaxBins], so that a bin index never overflows") {
  const Tensor logits = tensor({1, 2, 3, 0}, {2, 2}, Dtype::Float64);
  const Tensor labels = tensor({1, 0}, {2}, Dtype::Int64);
  CHECK(message_of<std::invalid_argument>([&] { metrics::evaluate(logits, labels, 1.0, INT64_MAX); }) ==
        "[evaluate] bins must be in [1, 1048576], got 9223372036854775807");
  CHECK(message_of<std::invalid_argument>([&] {
          metrics::confidence_histogram({0.5}, metrics::kMaxBins + 1);
        }).starts_with("[confidence_histogram] bins must be in [1, 1048576]"));
  CHECK(metrics::reliability_bins(logits, labels, metrics::kMaxBins).size() == metrics::kMaxBins);
}

// ---------------------------------------------------------------------------------------------
// Int64 tensors from doubles

TEST_CASE("numeric limits: a double no int64 holds is an error where an int64 tensor is made, not a cast") {
  // NaN, ±inf and 2^63 have no int64 (casting them is undefined); 1.5 is not a class index.
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), double{INFINITY}, 9223372036854775808.0, 1.5}) {
    CAPTURE(bad);
    CHECK(message_of<std::invalid_argument>([&] {
            tensor({0, bad}, {2}, Dtype::Int64);
          }).starts_with(str_cat("[tensor] element 1 is ", bad, ", which no int64 holds")));
    CHECK(message_of<std::invalid_argument>([&] { zeros({2}, Dtype::Int64).fill_(bad); }) ==
          str_cat("[fill_] ", bad, " is not an integer in [-2^63, 2^63), and the tensor is int64"));
  }
  CHECK(tensor({-9223372036854775808.0}, {1}, Dtype::Int64).data<int64_t>()[0] == INT64_MIN);
  // to(Int64) truncates toward zero, like a C++ cast, where that is defined.
  CHECK(tensor({2.9, -2.9}, {2}, Dtype::Float64).to(Dtype::Int64).to_vector() == Values{2, -2});
  CHECK(message_of<std::invalid_argument>([] {
          tensor({1, INFINITY}, {2}).to(Dtype::Int64);
        }) == "[to] element 1 is inf, which no int64 holds (expected a number in [-2^63, 2^63))");
}

TEST_CASE("numeric limits: randint draws every int64 of its range exactly, far above 2^53") {
  // Through a double, 2^62 + 1 … + 3 would all round to 2^62.
  Generator gen(1);
  const int64_t low = int64_t{1} << 62;
  const Tensor draws = randint(low, low + 4, {400}, gen);
  std::vector<int> seen(4, 0);
  for (int64_t i = 0; i < 400; ++i) ++seen[static_cast<std::size_t>(draws.data<int64_t>()[i] - low)];
  for (const int count : seen) CHECK(count > 50);
}

}  // namespace test_numeric_limits
