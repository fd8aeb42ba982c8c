// tests/test_representation.cpp — cluster tightness and wrong-class entropy
// (metrics/representation.hpp), on hand-worked examples and their invariances.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_representation {

using humble::Dtype;
using humble::Tensor;
using test_support::contains;
using test_support::message_of;
namespace metrics = humble::metrics;

namespace {

Tensor rows_of(const std::vector<double>& values, int64_t width) {
  return humble::tensor(values, {static_cast<int64_t>(values.size()) / width, width}, Dtype::Float64);
}
Tensor labels_of(const std::vector<double>& labels) {
  return humble::tensor(labels, {static_cast<int64_t>(labels.size())}, Dtype::Int64);
}

}  // namespace

TEST_CASE("cluster_tightness: two classes worked by hand") {
  // Class 0 at (0, 0) and (2, 0), centroid (1, 0); class 1 at (0, 4) and (2, 4), centroid (1, 4).
  // Every point is 1 from its centroid (spread 1); the centroids are 4 apart: ratio 1/4.
  const Tensor h = rows_of({0, 0, 2, 0, 0, 4, 2, 4}, 2);
  const metrics::ClusterTightness t = metrics::cluster_tightness(h, labels_of({0, 0, 1, 1}));
  CHECK(t.within_class_spread == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(t.between_class_distance == doctest::Approx(4.0).epsilon(1e-15));
  CHECK(t.ratio == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(t.classes == 2);
}

TEST_CASE("cluster_tightness: three classes, RMS over centroid pairs, an absent class left out") {
  // Centroids (0, 0), (3, 0), (0, 4) (one point each, spread 0 there) plus a class-0 pair at
  // (±1, 0): squared distances to centroids 1, 1, 0, 0 → spread sqrt(2/4); pairs 9, 16, 25 →
  // distance sqrt(50/3). Label 4 is unused by construction (classes 0, 2, 3 are present).
  const Tensor h = rows_of({-1, 0, 1, 0, 3, 0, 0, 4}, 2);
  const metrics::ClusterTightness t = metrics::cluster_tightness(h, labels_of({0, 0, 2, 3}));
  CHECK(t.within_class_spread == doctest::Approx(std::sqrt(0.5)).epsilon(1e-15));
  CHECK(t.between_class_distance == doctest::Approx(std::sqrt(50.0 / 3.0)).epsilon(1e-15));
  CHECK(t.classes == 3);
}

TEST_CASE("cluster_tightness: the ratio ignores scale and translation, and falls as clusters tighten") {
  humble::Generator gen(2);
  std::vector<double> loose, tight, labels;
  for (int i = 0; i < 300; ++i) {
    const int k = i % 3;
    for (int j = 0; j < 4; ++j) {
      const double center = j == k ? 5.0 : 0.0, noise = gen.normal();
      loose.push_back(center + noise);
      tight.push_back(center + 0.2 * noise);
    }
    labels.push_back(k);
  }
  const Tensor y = labels_of(labels);
  const double ratio = metrics::cluster_tightness(rows_of(loose, 4), y).ratio;
  std::vector<double> moved;
  for (const double v : loose) moved.push_back(10.0 * v - 3.0);
  CHECK(metrics::cluster_tightness(rows_of(moved, 4), y).ratio == doctest::Approx(ratio).epsilon(1e-12));
  CHECK(metrics::cluster_tightness(rows_of(tight, 4), y).ratio < 0.3 * ratio);
}

TEST_CASE("wrong_class_entropy: 1 when the wrong classes are alike, near 0 when one stands out") {
  CHECK(metrics::wrong_class_entropy(rows_of({5, 0, 0, 0}, 4), labels_of({0})) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(metrics::wrong_class_entropy(rows_of({0, 50, 0, 0}, 4), labels_of({0})) < 1e-18);
  // Three classes, y = 0, z_1 − z_2 = log 3: q = (3/4, 1/4), H = 0.562335 nats, over log 2.
  const double expected = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)) / std::log(2.0);
  CHECK(metrics::wrong_class_entropy(rows_of({0, std::log(3.0), 0}, 3), labels_of({0})) ==
        doctest::Approx(expected).epsilon(1e-14));
  // The true class's logit does not enter; huge logits stay finite (max-shifted).
  CHECK(metrics::wrong_class_entropy(rows_of({900, 1000 + std::log(3.0), 1000}, 3), labels_of({0})) ==
        doctest::Approx(expected).epsilon(1e-12));
  // The mean over rows.
  CHECK(metrics::wrong_class_entropy(rows_of({5, 0, 0, 0, 0, 50, 0, 0}, 4), labels_of({0, 0})) ==
        doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE("mean_wrong_class_distribution: per true class, the average spread over the wrong classes") {
  // Two rows of class 0: q = (0, 1/2, 1/2) and (0, 3/4, 1/4) → mean (0, 5/8, 3/8); one row of class 2
  // with z_0 = z_1: (1/2, 1/2, 0); no row of class 1: zeros.
  const Tensor logits = rows_of({9, 0, 0, -4, std::log(3.0), 0, 0, 0, 7}, 3);
  const std::vector<double> m = metrics::mean_wrong_class_distribution(logits, labels_of({0, 0, 2})).to_vector();
  const std::vector<double> expected{0, 0.625, 0.375, 0, 0, 0, 0.5, 0.5, 0};
  REQUIRE(m.size() == 9);
  for (std::size_t i = 0; i < 9; ++i) CHECK(m[i] == doctest::Approx(expected[i]).epsilon(1e-15));
}

TEST_CASE("representation metrics: bad input throws naming the function and the argument") {
  const Tensor h = rows_of({0, 0, 1, 1}, 2);
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::cluster_tightness(h, labels_of({0, 0}));
                 }),
                 "expected at least 2"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::cluster_tightness(h, labels_of({0, 1, 1}));
                 }),
                 "[cluster_tightness] labels must be int64 (2)"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::cluster_tightness(rows_of({0, NAN, 1, 1}, 2), labels_of({0, 1}));
                 }),
                 "features[0, 1] = nan"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::cluster_tightness(rows_of({1, 1, 1, 1}, 2), labels_of({0, 1}));
                 }),
                 "same point"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::wrong_class_entropy(rows_of({0, 1, 2, 3}, 2), labels_of({0, 1}));
                 }),
                 "[wrong_class_entropy] logits must be (N, C) with N >= 1 and C >= 3"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::wrong_class_entropy(rows_of({0, 1, 2}, 3), labels_of({3}));
                 }),
                 "labels[0] = 3 is outside [0, 3)"));
  CHECK(contains(message_of<std::invalid_argument>([&] {
                   metrics::wrong_class_entropy(humble::tensor({0, 1, 2}, {1, 3}, Dtype::Int64), labels_of({0}));
                 }),
                 "must be float32 or float64"));
}

}  // namespace test_representation
