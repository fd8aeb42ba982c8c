// metrics/statistics.cpp — mean ± std, percentile intervals, the bootstrap, zero crossings
// (contracts in statistics.hpp).
#include "statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "../core/error.hpp"
#include "../core/generator.hpp"

namespace humble::metrics {
namespace {

void check_level(const char* op, double level) {
  if (!(level > 0.0 && level < 1.0)) throw ValueError(str_cat("[", op, "] level must be in (0, 1), got ", level));
}

// The q-quantile of sorted values, interpolated between the order statistics around q·(n − 1).
double quantile_of_sorted(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double weight = position - static_cast<double>(below);
  return sorted[below] + weight * (sorted[above] - sorted[below]);
}

}  // namespace

MeanStd mean_std(std::span<const double> values) {
  if (values.empty()) throw ValueError("[mean_std] values is empty; expected at least one value");
  const auto n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {.mean = mean,
          .std = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0,
          .count = static_cast<int64_t>(values.size())};
}

Interval percentile_interval(std::vector<double> values, double level) {
  check_level("percentile_interval", level);
  if (values.empty()) throw ValueError("[percentile_interval] values is empty; expected at least one value");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw ValueError(str_cat("[percentile_interval] values[", i, "] = ", values[i], "; expected a finite number"));
  }
  std::sort(values.begin(), values.end());
  return {quantile_of_sorted(values, (1.0 - level) / 2.0), quantile_of_sorted(values, (1.0 + level) / 2.0)};
}

std::vector<BootstrapResult> bootstrap(int64_t rows, const RowStatistics& statistics, const BootstrapOptions& options) {
  if (rows < 1) throw ValueError(str_cat("[bootstrap] rows must be >= 1, got ", rows));
  if (options.resamples < 1) throw ValueError(str_cat("[bootstrap] resamples must be >= 1, got ", options.resamples));
  check_level("bootstrap", options.level);

  std::vector<int64_t> sample(static_cast<std::size_t>(rows));  // (N) row indices
  std::iota(sample.begin(), sample.end(), int64_t{0});
  const std::vector<double> estimates = statistics(sample);
  const std::size_t count = estimates.size();
  for (std::size_t k = 0; k < count; ++k) {
    if (!std::isfinite(estimates[k]))
      throw ValueError(
          str_cat("[bootstrap] statistic ", k, " is ", estimates[k], " on the full sample; expected a finite number"));
  }
  std::vector<std::vector<double>> replicates(count, std::vector<double>(static_cast<std::size_t>(options.resamples)));

  Generator gen(options.seed);
  for (int64_t b = 0; b < options.resamples; ++b) {
    for (int64_t& row : sample) row = gen.uniform_int(0, rows);
    const std::vector<double> values = statistics(sample);
    if (values.size() != count) {
      throw ValueError(str_cat("[bootstrap] resample ", b, " gave ", values.size(), " statistics, the full sample ",
                               count, "; expected the same number every time"));
    }
    for (std::size_t k = 0; k < count; ++k) {
      if (!std::isfinite(values[k]))
        throw ValueError(
            str_cat("[bootstrap] statistic ", k, " is ", values[k], " on resample ", b, "; expected a finite number"));
      replicates[k][b] = values[k];
    }
  }
  std::vector<BootstrapResult> results;
  for (std::size_t k = 0; k < count; ++k) {
    results.push_back({.estimate = estimates[k],
                       .interval = percentile_interval(replicates[k], options.level),
                       .standard_error = mean_std(replicates[k]).std});
  }
  return results;
}

std::optional<double> zero_crossing(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    throw ShapeError(
        str_cat("[zero_crossing] x has ", x.size(), " values but y has ", y.size(), "; expected one length"));
  std::optional<std::size_t> previous;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    if (y[i] == 0.0) return x[i];
    if (previous && (y[*previous] < 0.0) != (y[i] < 0.0)) {
      const double x0 = x[*previous], y0 = y[*previous];
      return x0 + (x[i] - x0) * y0 / (y0 - y[i]);
    }
    previous = i;
  }
  return std::nullopt;
}

}  // namespace humble::metrics
