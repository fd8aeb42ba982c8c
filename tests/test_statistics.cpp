// tests/test_statistics.cpp — mean ± std, percentile intervals, the bootstrap and zero crossings
// (metrics/statistics.hpp), and the per-row predictions they resample (metrics/calibration.hpp).
//
// Hand-worked values where a formula allows them; the bootstrap against the normal theory of a
// Bernoulli mean (standard error sqrt(p(1 − p)/n)), and its pairing by construction.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_statistics {

using humble::ShapeError;
using humble::Tensor;
using humble::ValueError;
using test_support::contains;
using test_support::message_of;
namespace metrics = humble::metrics;

namespace {

double mean_at(const std::vector<double>& values, std::span<const int64_t> rows) {
  double sum = 0.0;
  for (const int64_t r : rows) sum += values[r];
  return sum / static_cast<double>(rows.size());
}

// N rows of C random logits (scale 3) with random labels, float64.
struct Sample {
  Tensor logits, labels;
};
Sample random_sample(int64_t n, int64_t c, uint64_t seed) {
  humble::Generator gen(seed);
  std::vector<double> z, y;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < c; ++k) z.push_back(3.0 * gen.normal());
    y.push_back(static_cast<double>(gen.uniform_int(0, c)));
  }
  return {humble::tensor(z, {n, c}, humble::Dtype::Float64), humble::tensor(y, {n}, humble::Dtype::Int64)};
}

}  // namespace

TEST_CASE("mean_std: sample standard deviation, by hand") {
  const std::vector<double> values{1, 2, 3, 4};
  const metrics::MeanStd s = metrics::mean_std(values);
  CHECK(s.mean == 2.5);
  CHECK(s.std == doctest::Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));  // Σ (x − 2.5)² = 5, n − 1 = 3
  CHECK(s.count == 4);
  CHECK(metrics::mean_std(std::vector<double>{7.0}).std == 0.0);
  CHECK(
      contains(message_of<ValueError>([] { metrics::mean_std(std::vector<double>{}); }), "[mean_std] values is empty"));
}

TEST_CASE("percentile_interval: quantiles interpolated between order statistics (NumPy's default)") {
  // numpy.quantile([1, 2, 3, 4], [0.25, 0.75]) = [1.75, 3.25]
  const metrics::Interval quartiles = metrics::percentile_interval({4, 1, 3, 2}, 0.5);
  CHECK(quartiles.low == doctest::Approx(1.75).epsilon(1e-15));
  CHECK(quartiles.high == doctest::Approx(3.25).epsilon(1e-15));
  std::vector<double> hundred(101);
  std::iota(hundred.begin(), hundred.end(), 0.0);
  const metrics::Interval ninety = metrics::percentile_interval(hundred, 0.9);
  CHECK(ninety.low == doctest::Approx(5.0));
  CHECK(ninety.high == doctest::Approx(95.0));
  CHECK(ninety.contains(50.0));
  CHECK_FALSE(ninety.contains(96.0));
  const metrics::Interval single = metrics::percentile_interval({0.3});
  CHECK((single.low == 0.3 && single.high == 0.3));
  CHECK(contains(message_of<ValueError>([] {
                   metrics::percentile_interval({1, 2}, 1.0);
                 }),
                 "level must be in (0, 1), got 1"));
  CHECK(contains(message_of<ValueError>([] { metrics::percentile_interval({1, NAN}); }), "values[1] = nan"));
  CHECK(contains(message_of<ValueError>([] { metrics::percentile_interval({}); }), "empty"));
}

TEST_CASE("bootstrap: the standard error of a Bernoulli mean matches sqrt(p(1 - p)/n)") {
  // 2000 draws with p = 0.3; the percentile interval of the mean is then close to p̂ ± 1.96·se.
  humble::Generator gen(5);
  std::vector<double> hits(2000);
  for (double& h : hits) h = gen.uniform() < 0.3 ? 1.0 : 0.0;
  const double p = std::accumulate(hits.begin(), hits.end(), 0.0) / 2000.0;
  const double se = std::sqrt(p * (1 - p) / 2000.0);
  const auto results =
      metrics::bootstrap(2000, [&](std::span<const int64_t> rows) { return std::vector<double>{mean_at(hits, rows)}; },
                         {.resamples = 2000, .seed = 11});
  REQUIRE(results.size() == 1);
  CHECK(results[0].estimate == doctest::Approx(p).epsilon(1e-15));
  // Monte-Carlo error with 2000 resamples: about 1.6 % on the standard error and 0.06·se on each
  // 2.5 % / 97.5 % quantile, so these bounds sit about 3 of those errors away.
  CHECK(results[0].standard_error == doctest::Approx(se).epsilon(0.05));
  CHECK(std::abs(results[0].interval.low - (p - 1.96 * se)) < 0.2 * se);
  CHECK(std::abs(results[0].interval.high - (p + 1.96 * se)) < 0.2 * se);
  CHECK(results[0].interval.contains(p));
}

TEST_CASE("bootstrap: statistics share their resamples, so a paired difference has no test-set noise") {
  humble::Generator gen(3);
  std::vector<double> a(500);
  for (double& v : a) v = gen.normal();
  const auto results = metrics::bootstrap(500, [&](std::span<const int64_t> rows) {
    const double mean_a = mean_at(a, rows), mean_b = mean_at(a, rows) + 0.25;
    return std::vector<double>{mean_a, mean_b, mean_b - mean_a};
  });
  REQUIRE(results.size() == 3);
  CHECK(results[0].interval.high - results[0].interval.low > 0.1);  // each mean alone: ± ~0.09
  CHECK(results[2].interval.low == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(results[2].interval.high == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(results[2].standard_error < 1e-12);
}

TEST_CASE("bootstrap: the same seed gives the same intervals, another seed others") {
  const std::vector<double> values{0.1, 0.5, 0.2, 0.9, 0.4, 0.3, 0.8, 0.7};
  const metrics::RowStatistics mean = [&](std::span<const int64_t> rows) {
    return std::vector<double>{mean_at(values, rows)};
  };
  const auto first = metrics::bootstrap(8, mean, {.resamples = 200, .seed = 4});
  const auto again = metrics::bootstrap(8, mean, {.resamples = 200, .seed = 4});
  const auto other = metrics::bootstrap(8, mean, {.resamples = 200, .seed = 5});
  CHECK(first[0].interval.low == again[0].interval.low);
  CHECK(first[0].interval.high == again[0].interval.high);
  CHECK((first[0].interval.low != other[0].interval.low || first[0].interval.high != other[0].interval.high));
}

TEST_CASE("bootstrap: validation names the argument and the value") {
  const metrics::RowStatistics one = [](std::span<const int64_t>) { return std::vector<double>{1.0}; };
  CHECK(contains(message_of<ValueError>([&] { metrics::bootstrap(0, one); }), "[bootstrap] rows must be >= 1, got 0"));
  CHECK(contains(message_of<ValueError>([&] { metrics::bootstrap(5, one, {.resamples = 0}); }),
                 "resamples must be >= 1, got 0"));
  CHECK(
      contains(message_of<ValueError>([&] { metrics::bootstrap(5, one, {.level = 0.0}); }), "level must be in (0, 1)"));
  int calls = 0;
  CHECK(contains(message_of<ValueError>([&] {
                   metrics::bootstrap(
                       5, [&](std::span<const int64_t>) { return std::vector<double>(++calls > 1 ? 2 : 1, 0.0); });
                 }),
                 "resample 0 gave 2 statistics, the full sample 1"));
  CHECK(contains(message_of<ValueError>(
                     [&] { metrics::bootstrap(5, [](std::span<const int64_t>) { return std::vector<double>{NAN}; }); }),
                 "statistic 0 is nan on the full sample"));
}

TEST_CASE("zero_crossing: linear interpolation between the first pair of opposite signs") {
  const std::vector<double> eps{0.0, 0.1, 0.2, 0.3};
  // signed gap +0.01 at ε = 0 and −0.03 at 0.1: zero at 0.1 · 0.01 / 0.04 = 0.025
  CHECK(*metrics::zero_crossing(eps, std::vector<double>{0.01, -0.03, -0.05, -0.07}) == doctest::Approx(0.025));
  CHECK(*metrics::zero_crossing(eps, std::vector<double>{0.02, 0.01, 0.0, -0.01}) == 0.2);  // an exact zero
  CHECK(*metrics::zero_crossing(eps, std::vector<double>{-0.02, 0.02, -0.01, 0.0}) == doctest::Approx(0.05));
  CHECK_FALSE(metrics::zero_crossing(eps, std::vector<double>{0.01, 0.02, 0.03, 0.04}).has_value());
  // A non-finite point is skipped: the crossing is read between its neighbours.
  CHECK(*metrics::zero_crossing(eps, std::vector<double>{0.01, NAN, -0.01, -0.02}) == doctest::Approx(0.1));
  CHECK(contains(message_of<ShapeError>([&] { metrics::zero_crossing(eps, std::vector<double>{1.0}); }),
                 "x has 4 values but y has 1"));
}

TEST_CASE("predictions and evaluate_rows: on all rows in order they are evaluate(), bit for bit") {
  const Sample sample = random_sample(3000, 10, 8);
  for (const double temperature : {1.0, 0.6, 2.5}) {
    const metrics::CalibrationReport report = metrics::evaluate(sample.logits, sample.labels, temperature);
    const metrics::Predictions predictions = metrics::predictions(sample.logits, sample.labels, temperature);
    REQUIRE(predictions.size() == 3000);
    std::vector<int64_t> rows(3000);
    std::iota(rows.begin(), rows.end(), int64_t{0});
    const metrics::RowSampleMetrics all = metrics::evaluate_rows(predictions, rows);
    CHECK(all.accuracy == report.accuracy);
    CHECK(all.nll == report.nll);
    CHECK(all.ece == report.ece);
    CHECK(metrics::evaluate_rows(predictions, rows, 4).ece ==
          metrics::evaluate(sample.logits, sample.labels, temperature, 4).ece);
  }
}

TEST_CASE("evaluate_rows: a sample with repeats equals evaluate() on the rows copied out") {
  const Sample sample = random_sample(200, 4, 9);
  const std::vector<int64_t> rows{5, 5, 17, 0, 199, 17, 17, 42, 3, 3, 3, 150};
  const Tensor index = humble::tensor(std::vector<double>(rows.begin(), rows.end()), {12}, humble::Dtype::Int64);
  const metrics::CalibrationReport copied =
      metrics::evaluate(humble::index_select(sample.logits, index), humble::index_select(sample.labels, index));
  const metrics::RowSampleMetrics resampled =
      metrics::evaluate_rows(metrics::predictions(sample.logits, sample.labels), rows);
  CHECK(resampled.accuracy == copied.accuracy);
  CHECK(resampled.nll == doctest::Approx(copied.nll).epsilon(1e-15));
  CHECK(resampled.ece == doctest::Approx(copied.ece).epsilon(1e-15));
}

TEST_CASE("predictions: per-row confidence, −log p_y and correctness of a hand-worked pair") {
  // Row 0: p = (0.9, 0.1), y = 0: correct, conf 0.9, NLL −log 0.9. Row 1: p = (0.3, 0.7), y = 0: wrong.
  const Tensor logits =
      humble::tensor({std::log(0.9), std::log(0.1), std::log(0.3), std::log(0.7)}, {2, 2}, humble::Dtype::Float64);
  const Tensor labels = humble::tensor({0, 0}, {2}, humble::Dtype::Int64);
  const metrics::Predictions p = metrics::predictions(logits, labels);
  CHECK(p.confidence[0] == doctest::Approx(0.9).epsilon(1e-15));
  CHECK(p.confidence[1] == doctest::Approx(0.7).epsilon(1e-15));
  CHECK(p.nll[0] == doctest::Approx(-std::log(0.9)).epsilon(1e-14));
  CHECK(p.nll[1] == doctest::Approx(-std::log(0.3)).epsilon(1e-14));
  CHECK(p.correct == std::vector<char>{1, 0});
  CHECK(contains(message_of<ValueError>([&] {
                   metrics::evaluate_rows(p, std::vector<int64_t>{0, 2});
                 }),
                 "[evaluate_rows] row 2 is outside [0, 2)"));
  CHECK(contains(message_of<ValueError>([&] { metrics::evaluate_rows(p, std::vector<int64_t>{}); }), "rows is empty"));
  CHECK(contains(message_of<ValueError>([&] { metrics::predictions(logits, labels, 0.0); }),
                 "[predictions] temperature"));
}

}  // namespace test_statistics
