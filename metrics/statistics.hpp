// metrics/statistics.hpp — how sure a number is: mean ± std over seeds, bootstrap intervals over
// the test set, and where a sampled curve crosses zero.
//
// Two kinds of noise sit in every measured number, and a study should show both:
//   - training noise: another seed gives another model; mean_std() over seeds measures it;
//   - test-set noise: another 10,000 test images would give another ECE; the percentile
//     bootstrap (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13) measures it
//     by recomputing the statistic on resamples of the test rows drawn with replacement and
//     reading the 2.5 % and 97.5 % quantiles of the results.
// bootstrap() evaluates all of its statistics on the same resamples, so differences between
// methods evaluated on the same test rows are paired: the interval of "ECE(A) − ECE(B)" is much
// narrower than the two intervals side by side suggest, and it is the one that says whether the
// difference is real.
//
//   const metrics::Predictions a = metrics::predictions(logits_a, labels);
//   const metrics::Predictions b = metrics::predictions(logits_b, labels);
//   auto results = metrics::bootstrap(a.size(), [&](std::span<const int64_t> rows) {
//     const double ece_a = metrics::evaluate_rows(a, rows).ece, ece_b = metrics::evaluate_rows(b, rows).ece;
//     return std::vector<double>{ece_a, ece_b, ece_a - ece_b};
//   });
//   // results[2].interval excludes 0: A and B differ in ECE beyond test-set noise.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace humble::metrics {

struct MeanStd {
  double mean = 0.0;
  double std = 0.0;  // sample standard deviation (divides by n − 1); 0 for one value
  int64_t count = 0;
};
MeanStd mean_std(std::span<const double> values);  // at least one value

struct Interval {
  double low = 0.0, high = 0.0;
  bool contains(double value) const { return low <= value && value <= high; }
};

// The central `level` interval of `values`: the (1 − level)/2 and (1 + level)/2 quantiles, each
// linearly interpolated between order statistics (NumPy's default quantile). At least one value,
// level in (0, 1), every value finite.
Interval percentile_interval(std::vector<double> values, double level = 0.95);

struct BootstrapOptions {
  int64_t resamples = 1000;  // >= 1
  double level = 0.95;       // in (0, 1)
  uint64_t seed = 0;         // of the resampling Generator: same seed, same intervals
};

struct BootstrapResult {
  double estimate = 0.0;        // the statistic on the rows as they are (0, 1, …, N − 1)
  Interval interval;            // percentile interval over the resamples
  double standard_error = 0.0;  // std of the statistic over the resamples
};

// Statistics of a sample of rows (indices in [0, N), with repeats): a fixed number of values.
using RowStatistics = std::function<std::vector<double>(std::span<const int64_t> rows)>;

// One result per value of `statistics`: its estimate on all N rows and its percentile interval
// over `resamples` resamples of N rows drawn uniformly with replacement (every statistic sees the
// same resamples). Throws ValueError when a resample gives a non-finite value or a different
// number of values.
std::vector<BootstrapResult> bootstrap(int64_t rows, const RowStatistics& statistics,
                                       const BootstrapOptions& options = {});

// Where the piecewise-linear curve through (x_i, y_i) first reaches zero, scanning x in the order
// given (increasing): x_i itself when y_i = 0, else the linear interpolation between the first
// neighbours whose y have opposite signs; nullopt when it never does. Non-finite points are
// skipped. x and y of one length.
std::optional<double> zero_crossing(std::span<const double> x, std::span<const double> y);

}  // namespace humble::metrics
