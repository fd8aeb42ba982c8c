// tests/test_metrics.cpp — calibration metrics and temperature fitting (metrics/calibration.hpp).
//
// The metrics are checked against a four-row example worked by hand below, plus edge cases
// (empty bins, empty correct/wrong groups, −inf logits, values on bin edges) and every validation
// error. Temperature fitting is checked on synthetic data whose right temperature is known:
// labels drawn from softmax(z) are calibrated for z, so the logits k·z need T = k.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <humble/humble.hpp>
#include <humble/metrics/calibration.hpp>
#include <limits>
#include <string>
#include <vector>

namespace test_metrics {

using humble::Dtype;
using humble::Tensor;
namespace metrics = humble::metrics;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

Tensor labels_of(const std::vector<double>& labels) {
  return humble::tensor(labels, {static_cast<int64_t>(labels.size())}, Dtype::Int64);
}

// Two classes with probabilities p and 1 − p: the logits log p, log(1 − p) give exactly those.
Tensor binary_logits(const std::vector<double>& first_class_probs, Dtype dtype = Dtype::Float64) {
  std::vector<double> values;
  for (const double p : first_class_probs) values.insert(values.end(), {std::log(p), std::log(1.0 - p)});
  return humble::tensor(values, {static_cast<int64_t>(first_class_probs.size()), 2}, dtype);
}

// The hand-worked example. Row: p = (p0, p1), label y, prediction, confidence, 15-bin bin.
//   0: (0.90, 0.10), y = 0, predicts 0, correct, conf 0.90, bin 13 = (13/15, 14/15]
//   1: (0.85, 0.15), y = 1, predicts 0, wrong,   conf 0.85, bin 12 = (12/15, 13/15]
//   2: (0.28, 0.72), y = 1, predicts 1, correct, conf 0.72, bin 10 = (10/15, 11/15]
//   3: (0.70, 0.30), y = 1, predicts 0, wrong,   conf 0.70, bin 10
const std::vector<double> kFirstClassProbs = {0.90, 0.85, 0.28, 0.70};
const std::vector<double> kLabels = {0, 1, 1, 1};

std::vector<double> scaled(const std::vector<double>& values, double factor) {
  std::vector<double> out;
  for (const double v : values) out.push_back(v * factor);
  return out;
}

// N rows of C classes with logits scale·g (g standard normal) and labels drawn from softmax(logits),
// so softmax(logits) is calibrated by construction.
struct Synthetic {
  std::vector<double> logits, labels;
  int64_t rows, classes;
};

Synthetic calibrated_synthetic(int64_t rows, int64_t classes, double scale, uint64_t seed) {
  humble::Generator gen(seed);
  Synthetic data{{}, {}, rows, classes};
  std::vector<double> probs(classes);
  for (int64_t i = 0; i < rows; ++i) {
    double sum = 0.0;
    for (int64_t c = 0; c < classes; ++c) {
      data.logits.push_back(scale * gen.normal());
      sum += probs[c] = std::exp(data.logits.back());
    }
    double u = gen.uniform() * sum;
    int64_t label = 0;
    while (label < classes - 1 && (u -= probs[label]) >= 0.0) ++label;
    data.labels.push_back(static_cast<double>(label));
  }
  return data;
}

Tensor logits_tensor(const Synthetic& data, double factor) {
  return humble::tensor(scaled(data.logits, factor), {data.rows, data.classes}, Dtype::Float64);
}

}  // namespace

TEST_CASE("metrics: every metric of the hand-worked four-row example") {
  const metrics::CalibrationReport report = metrics::evaluate(binary_logits(kFirstClassProbs), labels_of(kLabels));
  CHECK(report.count == 4);
  CHECK(report.temperature == 1.0);
  CHECK(report.accuracy == doctest::Approx(0.5).epsilon(1e-12));  // rows 0 and 2
  // NLL = −(ln 0.90 + ln 0.15 + ln 0.72 + ln 0.30) / 4 = 3.534957372 / 4 = 0.883739343
  CHECK(report.nll == doctest::Approx(0.883739343).epsilon(1e-8));
  // ECE: bin 13 (1 row) |1 − 0.90| = 0.10; bin 12 (1 row) |0 − 0.85| = 0.85;
  //      bin 10 (2 rows) |0.5 − (0.72 + 0.70)/2| = 0.21 → 0.10/4 + 0.85/4 + 0.21·2/4 = 0.3425
  CHECK(report.ece == doctest::Approx(0.3425).epsilon(1e-12));
  CHECK(report.mce == doctest::Approx(0.85).epsilon(1e-12));  // worst bin: 12
  // Adaptive ECE, 15 bins for 4 rows: one row per bin, sorted 0.70 (wrong), 0.72 (right), 0.85
  // (wrong), 0.90 (right) → (0.70 + 0.28 + 0.85 + 0.10) / 4 = 0.4825
  CHECK(report.adaptive_ece == doctest::Approx(0.4825).epsilon(1e-12));
  // Brier with two classes is 2 (1 − p_y)²: 2·(0.01 + 0.7225 + 0.0784 + 0.49) / 4 = 0.65045
  CHECK(report.brier == doctest::Approx(0.65045).epsilon(1e-12));
  CHECK(report.mean_confidence == doctest::Approx(0.7925).epsilon(1e-12));        // 3.17 / 4
  CHECK(report.signed_gap == doctest::Approx(0.2925).epsilon(1e-12));             // 0.7925 − 0.5
  CHECK(report.mean_confidence_correct == doctest::Approx(0.81).epsilon(1e-12));  // (0.90 + 0.72) / 2
  CHECK(report.mean_confidence_wrong == doctest::Approx(0.775).epsilon(1e-12));   // (0.85 + 0.70) / 2
  CHECK(report.frac_confidence_above_0_99 == 0.0);
  // Two classes: the gap is ln(p_max / p_min): (ln 9 + ln(85/15) + ln(72/28) + ln(70/30)) / 4
  //   = (2.197224577 + 1.734601055 + 0.944461609 + 0.847297860) / 4 = 1.430896275
  CHECK(report.mean_logit_gap == doctest::Approx(1.430896275).epsilon(1e-8));
}

TEST_CASE("metrics: number of bins changes ECE and adaptive ECE as worked by hand") {
  const Tensor logits = binary_logits(kFirstClassProbs);
  const Tensor labels = labels_of(kLabels);
  // One bin: |accuracy − mean confidence| = |0.5 − 0.7925|.
  const metrics::CalibrationReport one_bin = metrics::evaluate(logits, labels, 1.0, 1);
  CHECK(one_bin.ece == doctest::Approx(0.2925).epsilon(1e-12));
  CHECK(one_bin.adaptive_ece == doctest::Approx(0.2925).epsilon(1e-12));
  CHECK(one_bin.mce == doctest::Approx(0.2925).epsilon(1e-12));
  // Two equal-count bins: {0.70 wrong, 0.72 right} gap |0.5 − 0.71| = 0.21 and {0.85 wrong,
  // 0.90 right} gap |0.5 − 0.875| = 0.375 → (0.21 + 0.375) / 2 = 0.2925. Two equal-width bins put
  // every row in (0.5, 1], so ECE is again 0.2925.
  const metrics::CalibrationReport two_bins = metrics::evaluate(logits, labels, 1.0, 2);
  CHECK(two_bins.adaptive_ece == doctest::Approx(0.2925).epsilon(1e-12));
  CHECK(two_bins.ece == doctest::Approx(0.2925).epsilon(1e-12));
  const metrics::ReliabilityBins adaptive = metrics::adaptive_reliability_bins(logits, labels, 2);
  REQUIRE(adaptive.size() == 2);
  CHECK(adaptive[0].count == 2);
  CHECK(adaptive[0].lo == doctest::Approx(0.70).epsilon(1e-12));
  CHECK(adaptive[0].hi == doctest::Approx(0.72).epsilon(1e-12));
  CHECK(adaptive[1].mean_confidence == doctest::Approx(0.875).epsilon(1e-12));
  CHECK(adaptive[1].accuracy == doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE("metrics: reliability bins of the four-row example, empty bins included") {
  const metrics::ReliabilityBins bins = metrics::reliability_bins(binary_logits(kFirstClassProbs), labels_of(kLabels));
  REQUIRE(bins.size() == 15);
  int64_t rows = 0;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    CHECK(bins[b].lo == doctest::Approx(static_cast<double>(b) / 15.0));
    CHECK(bins[b].hi == doctest::Approx(static_cast<double>(b + 1) / 15.0));
    rows += bins[b].count;
  }
  CHECK(rows == 4);
  CHECK(bins[10].count == 2);
  CHECK(bins[10].mean_confidence == doctest::Approx(0.71).epsilon(1e-12));
  CHECK(bins[10].accuracy == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(bins[12].count == 1);
  CHECK(bins[12].accuracy == 0.0);
  CHECK(bins[13].accuracy == 1.0);
  CHECK(bins[0].count == 0);  // empty: zeros, not NaN
  CHECK(bins[0].mean_confidence == 0.0);
  CHECK(bins[0].accuracy == 0.0);
  CHECK(metrics::expected_calibration_error(bins) == doctest::Approx(0.3425).epsilon(1e-12));
  CHECK(metrics::maximum_calibration_error(bins) == doctest::Approx(0.85).epsilon(1e-12));
  CHECK(metrics::expected_calibration_error(metrics::ReliabilityBins(3)) == 0.0);  // no rows at all
  CHECK(metrics::maximum_calibration_error(metrics::ReliabilityBins(3)) == 0.0);
}

TEST_CASE("metrics: float32 logits agree with float64 on three classes") {
  // Row 0: logits (2, 1, 0), label 0: p = (e², e, 1) / (e² + e + 1) = (0.665241, 0.244728, 0.090031)
  // Row 1: logits (0, 0, 0), label 2: p = 1/3 each; argmax takes the first of ties, class 0: wrong.
  const std::vector<double> values = {2, 1, 0, 0, 0, 0};
  const Tensor labels = labels_of({0, 2});
  const auto f32 = metrics::evaluate(humble::tensor(values, {2, 3}, Dtype::Float32), labels);
  const auto f64 = metrics::evaluate(humble::tensor(values, {2, 3}, Dtype::Float64), labels);
  CHECK(f64.accuracy == 0.5);
  CHECK(f64.mean_confidence == doctest::Approx((0.665240956 + 1.0 / 3.0) / 2).epsilon(1e-8));
  // NLL = ((ln(e² + e + 1) − 2) + ln 3) / 2 = (0.407605964 + 1.098612289) / 2
  CHECK(f64.nll == doctest::Approx(0.753109126).epsilon(1e-8));
  // Brier row 0: 0.334759² + 0.244728² + 0.090031² = 0.180061; row 1: 2·(1/3)² + (2/3)² = 2/3
  CHECK(f64.brier == doctest::Approx((0.180061146 + 2.0 / 3.0) / 2).epsilon(1e-8));
  // Logit gap row 0: 2 − (1 + 0)/2 = 1.5; row 1: 0.
  CHECK(f64.mean_logit_gap == doctest::Approx(0.75).epsilon(1e-12));
  CHECK(f32.nll == doctest::Approx(f64.nll).epsilon(1e-6));
  CHECK(f32.ece == doctest::Approx(f64.ece).epsilon(1e-6));
  CHECK(f32.brier == doctest::Approx(f64.brier).epsilon(1e-6));
}

TEST_CASE("metrics: temperature divides the logits before the softmax") {
  const std::vector<double> logits = {3.0, -1.0, 0.5, 0.2, 2.5, -2.0, -0.3, 0.1, 0.4};
  const Tensor labels = labels_of({0, 2, 1});
  const auto at_two = metrics::evaluate(humble::tensor(logits, {3, 3}, Dtype::Float64), labels, 2.0);
  const auto halved = metrics::evaluate(humble::tensor(scaled(logits, 0.5), {3, 3}, Dtype::Float64), labels);
  CHECK(at_two.temperature == 2.0);
  CHECK(at_two.nll == doctest::Approx(halved.nll).epsilon(1e-12));
  CHECK(at_two.ece == doctest::Approx(halved.ece).epsilon(1e-12));
  CHECK(at_two.brier == doctest::Approx(halved.brier).epsilon(1e-12));
  CHECK(at_two.mean_confidence == doctest::Approx(halved.mean_confidence).epsilon(1e-12));
  CHECK(at_two.mean_logit_gap == doctest::Approx(halved.mean_logit_gap).epsilon(1e-12));
  const std::vector<double> confidences = metrics::confidences(humble::tensor(logits, {3, 3}, Dtype::Float64), 2.0);
  REQUIRE(confidences.size() == 3);
  // Row 0 at T = 2: logits (1.5, −0.5, 0.25): p_max = 1 / (1 + e^−2 + e^−1.25) = 0.716917
  CHECK(confidences[0] == doctest::Approx(1.0 / (1.0 + std::exp(-2.0) + std::exp(-1.25))).epsilon(1e-12));
}

TEST_CASE("metrics: all correct and all wrong and near-certain predictions") {
  // Every row correct with p = 0.995: the wrong group is empty and defined as 0.
  const auto all_correct = metrics::evaluate(binary_logits({0.995, 0.995, 0.995}), labels_of({0, 0, 0}));
  CHECK(all_correct.accuracy == 1.0);
  CHECK(all_correct.mean_confidence_correct == doctest::Approx(0.995).epsilon(1e-12));
  CHECK(all_correct.mean_confidence_wrong == 0.0);
  CHECK(all_correct.frac_confidence_above_0_99 == 1.0);
  CHECK(all_correct.ece == doctest::Approx(0.005).epsilon(1e-9));
  CHECK(all_correct.signed_gap == doctest::Approx(-0.005).epsilon(1e-9));  // underconfident
  const auto all_wrong = metrics::evaluate(binary_logits({0.6, 0.3}), labels_of({1, 0}));
  CHECK(all_wrong.accuracy == 0.0);
  CHECK(all_wrong.mean_confidence_correct == 0.0);
  CHECK(all_wrong.mean_confidence_wrong == doctest::Approx(0.65).epsilon(1e-12));
  CHECK(all_wrong.mce == doctest::Approx(0.7).epsilon(1e-12));  // bins of 0.6 and 0.7: worst 0.7
}

TEST_CASE("metrics: -inf logits give probability 0, never NaN") {
  // Row 0: (0, −inf, −inf), label 0: p = (1, 0, 0), NLL 0, Brier 0, logit gap +inf.
  // Row 1: (1, 1, −inf), label 1: p = (0.5, 0.5, 0), predicts class 0 (first of ties), wrong.
  const Tensor logits = humble::tensor({0, -kInf, -kInf, 1, 1, -kInf}, {2, 3}, Dtype::Float64);
  const auto report = metrics::evaluate(logits, labels_of({0, 1}));
  CHECK(report.accuracy == 0.5);
  CHECK(report.nll == doctest::Approx(std::log(2.0) / 2).epsilon(1e-12));
  CHECK(report.brier == doctest::Approx((0.0 + 0.25 + 0.25) / 2).epsilon(1e-12));
  CHECK(report.mean_confidence == doctest::Approx(0.75).epsilon(1e-12));
  CHECK(report.ece == doctest::Approx(0.25).epsilon(1e-12));  // bin of 1.0: gap 0; bin of 0.5: gap 0.5
  CHECK(report.mean_logit_gap == kInf);
  for (const double value : {report.accuracy, report.nll, report.ece, report.adaptive_ece, report.mce, report.brier,
                             report.signed_gap, report.mean_confidence_correct, report.mean_confidence_wrong}) {
    CHECK_FALSE(std::isnan(value));
  }
  // A label on a −inf logit has probability 0: NLL +inf, still not NaN.
  CHECK(metrics::evaluate(logits, labels_of({1, 1})).nll == kInf);
  CHECK(metrics::fit_temperature(logits, labels_of({1, 1})) == 1.0);
}

TEST_CASE("metrics: confidence_histogram puts a value on a bin edge in the lower bin") {
  // With 15 bins, 0.2 = 3/15 but 0.2 · 15 rounds to 3.0000000000000004: it must land in bin 2.
  const std::vector<int64_t> counts = metrics::confidence_histogram({0.0, 0.2, 0.2000001, 0.6, 0.8, 1.0}, 15);
  REQUIRE(counts.size() == 15);
  CHECK(counts[0] == 1);   // 0 joins the first bin
  CHECK(counts[2] == 1);   // 0.2 in (2/15, 3/15]
  CHECK(counts[3] == 1);   // 0.2000001
  CHECK(counts[8] == 1);   // 0.6 = 9/15
  CHECK(counts[11] == 1);  // 0.8 = 12/15
  CHECK(counts[14] == 1);  // 1.0
  CHECK(metrics::confidence_histogram({}, 4) == std::vector<int64_t>{0, 0, 0, 0});
}

TEST_CASE("metrics: every confidence lands in the bin whose edges hold it, edges and their neighbours included") {
  for (const int64_t bins : {1, 2, 3, 7, 10, 15, 100}) {
    std::vector<double> values{0.0, 1.0, std::nextafter(0.0, 1.0), std::nextafter(1.0, 0.0)};
    for (int64_t k = 1; k < bins; ++k) {
      const double edge = static_cast<double>(k) / static_cast<double>(bins);
      values.insert(values.end(), {edge, std::nextafter(edge, 0.0), std::nextafter(edge, 1.0)});
    }
    for (int i = 0; i < 200; ++i) values.push_back((i * 0.6180339887498949) - std::floor(i * 0.6180339887498949));
    for (const double value : values) {
      const std::vector<int64_t> counts = metrics::confidence_histogram({value}, bins);
      const auto bin = std::find(counts.begin(), counts.end(), 1) - counts.begin();
      const auto edge = [bins](int64_t b) { return static_cast<double>(b) / static_cast<double>(bins); };
      CAPTURE(bins);
      CAPTURE(value);
      CHECK((value <= edge(bin + 1) || bin == bins - 1));
      CHECK((value > edge(bin) || bin == 0));
    }
  }
}

TEST_CASE("metrics: validation errors name the function and the argument") {
  const Tensor logits = binary_logits(kFirstClassProbs);
  const Tensor labels = labels_of(kLabels);
  using humble::ShapeError;
  using humble::ValueError;
  // Shapes.
  CHECK_THROWS_AS(metrics::evaluate(humble::tensor({1, 2}, {2}, Dtype::Float64), labels), ShapeError);
  CHECK_THROWS_AS(metrics::evaluate(humble::zeros({0, 3}, Dtype::Float64), labels_of({})), ShapeError);
  CHECK_THROWS_AS(metrics::evaluate(humble::zeros({4, 1}, Dtype::Float64), labels), ShapeError);
  CHECK_THROWS_AS(metrics::evaluate(logits, labels_of({0, 1, 1})), ShapeError);
  CHECK_THROWS_AS(metrics::evaluate(logits, humble::tensor({0, 1, 1, 1}, {2, 2}, Dtype::Int64)), ShapeError);
  CHECK_THROWS_AS(metrics::reliability_bins(logits, labels_of({0})), ShapeError);
  CHECK_THROWS_AS(metrics::adaptive_reliability_bins(logits, labels_of({0})), ShapeError);
  CHECK_THROWS_AS(metrics::fit_temperature(logits, labels_of({0})), ShapeError);
  CHECK_THROWS_AS(metrics::confidences(humble::zeros({3}, Dtype::Float64)), ShapeError);
  // Dtypes and undefined tensors.
  CHECK_THROWS_AS(metrics::evaluate(logits, humble::tensor(kLabels, {4}, Dtype::Float32)), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(humble::zeros({4, 2}, Dtype::Int64), labels), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(Tensor(), labels), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(logits, Tensor()), ValueError);
  // Values.
  CHECK_THROWS_AS(metrics::evaluate(logits, labels_of({0, 1, 2, 0})), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(logits, labels_of({0, -1, 1, 0})), ValueError);
  CHECK_THROWS_AS(metrics::fit_temperature(logits, labels_of({0, 1, 2, 0})), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(humble::tensor({0, kNan}, {1, 2}, Dtype::Float64), labels_of({0})), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(humble::tensor({0, kInf}, {1, 2}, Dtype::Float64), labels_of({0})), ValueError);
  CHECK_THROWS_AS(metrics::evaluate(humble::tensor({-kInf, -kInf}, {1, 2}, Dtype::Float64), labels_of({0})),
                  ValueError);
  for (const double temperature : {0.0, -1.0, kNan, kInf}) {
    CHECK_THROWS_AS(metrics::evaluate(logits, labels, temperature), ValueError);
    CHECK_THROWS_AS(metrics::reliability_bins(logits, labels, 15, temperature), ValueError);
    CHECK_THROWS_AS(metrics::confidences(logits, temperature), ValueError);
  }
  CHECK_THROWS_AS(metrics::evaluate(logits, labels, 1.0, 0), ValueError);
  CHECK_THROWS_AS(metrics::reliability_bins(logits, labels, 0), ValueError);
  CHECK_THROWS_AS(metrics::adaptive_reliability_bins(logits, labels, -3), ValueError);
  CHECK_THROWS_AS(metrics::confidence_histogram({0.5}, 0), ValueError);
  CHECK_THROWS_AS(metrics::confidence_histogram({0.5, 1.5}), ValueError);
  CHECK_THROWS_AS(metrics::confidence_histogram({kNan}), ValueError);
  // The message names the function, the argument, the value and what was expected.
  try {
    metrics::evaluate(logits, labels_of({0, 1, 7, 0}));
    FAIL("expected a ValueError");
  } catch (const ValueError& error) {
    const std::string message = error.what();
    CHECK(message.find("[evaluate]") == 0);
    CHECK(message.find("labels[2] = 7") != std::string::npos);
    CHECK(message.find("[0, 2)") != std::string::npos);
  }
}

TEST_CASE("calibration: fit_temperature recovers T = 3 for logits scaled by 3") {
  const Synthetic data = calibrated_synthetic(20000, 10, 1.5, 7);
  const Tensor labels = labels_of(data.labels);
  const Tensor overconfident = logits_tensor(data, 3.0);
  const double temperature = metrics::fit_temperature(overconfident, labels);
  CHECK(temperature == doctest::Approx(3.0).epsilon(0.05));
  const double nll_before = metrics::evaluate(overconfident, labels).nll;
  const auto after = metrics::evaluate(overconfident, labels, temperature);
  CHECK(after.nll <= nll_before);
  CHECK(after.ece < metrics::evaluate(overconfident, labels).ece);
  // The fit is a minimum: nudging T either way raises the NLL.
  CHECK(metrics::evaluate(overconfident, labels, temperature * 1.01).nll >= after.nll);
  CHECK(metrics::evaluate(overconfident, labels, temperature / 1.01).nll >= after.nll);
}

TEST_CASE("calibration: fit_temperature gives T near 1 on calibrated logits and T < 1 on underconfident ones") {
  const Synthetic data = calibrated_synthetic(20000, 10, 1.5, 11);
  const Tensor labels = labels_of(data.labels);
  CHECK(metrics::fit_temperature(logits_tensor(data, 1.0), labels) == doctest::Approx(1.0).epsilon(0.05));
  const Tensor underconfident = logits_tensor(data, 0.5);  // like a label-smoothed model on easy data
  const double temperature = metrics::fit_temperature(underconfident, labels);
  CHECK(temperature == doctest::Approx(0.5).epsilon(0.05));
  CHECK(metrics::evaluate(underconfident, labels, temperature).nll <= metrics::evaluate(underconfident, labels).nll);
}

TEST_CASE("calibration: fit_temperature stops at the ends of its search range") {
  // Every row right with a margin: the NLL keeps falling as T → 0, so T = kMinTemperature.
  const Tensor separable = humble::tensor({2, 0, 0, 1, 3, 0}, {3, 2}, Dtype::Float64);
  const Tensor right = labels_of({0, 1, 0});
  const double low = metrics::fit_temperature(separable, right);
  CHECK(low == doctest::Approx(metrics::kMinTemperature));
  CHECK(metrics::evaluate(separable, right, low).nll <= metrics::evaluate(separable, right).nll);
  // Every label on the smaller logit: the NLL keeps falling as T → ∞, so T = kMaxTemperature.
  const Tensor wrong = labels_of({1, 0, 1});
  const double high = metrics::fit_temperature(separable, wrong);
  CHECK(high == doctest::Approx(metrics::kMaxTemperature));
  CHECK(metrics::evaluate(separable, wrong, high).nll <= metrics::evaluate(separable, wrong).nll);
}

}  // namespace test_metrics
