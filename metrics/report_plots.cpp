// metrics/report_plots.cpp — reliability diagram, confidence histograms, penultimate projection
// (see report_plots.hpp).
#include "report_plots.hpp"

#include <algorithm>
#include <cstdio>

#include "../core/error.hpp"

namespace humble::plot {
namespace {

std::string format(const char* pattern, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

// A bin count short enough to sit above a narrow bar: 987, 8.7k, 12k.
std::string short_count(int64_t count) {
  if (count < 1000) return std::to_string(count);
  return format(count < 10000 ? "%.1fk" : "%.0fk", static_cast<double>(count) / 1000.0);
}

}  // namespace

Chart reliability_diagram(const metrics::ReliabilityBins& bins, const std::string& title, bool show_gap) {
  const std::string ece = format("%.3f", metrics::expected_calibration_error(bins));
  Chart chart(str_cat(title, " (ECE ", ece, ")"), "confidence (max softmax probability)",
              "accuracy in the bin (fraction)");
  // Headroom for the counts over the top bars; the legend goes below, since bars of an
  // underconfident model fill the upper left corner.
  chart.x_range(0.0, 1.0).y_range(0.0, 1.1).legend(LegendCorner::Below);
  BarSeries accuracy{.label = "accuracy", .color = palette(0), .opacity = 0.8};
  BarSeries gap{.label = "gap to mean confidence", .color = palette(3), .opacity = 0.15, .outlined = true};
  for (const metrics::ReliabilityBin& bin : bins) {
    if (bin.count == 0) continue;
    accuracy.bars.push_back({.left = bin.lo, .right = bin.hi, .top = bin.accuracy});
    gap.bars.push_back({.left = bin.lo, .right = bin.hi, .top = bin.mean_confidence, .bottom = bin.accuracy});
    chart.annotate(
        {.at = {(bin.lo + bin.hi) / 2, std::max(bin.accuracy, bin.mean_confidence)}, .text = short_count(bin.count)});
  }
  chart.bars(std::move(accuracy));
  if (show_gap) chart.bars(std::move(gap));
  return chart.reference({.label = "perfect calibration", .slope = 1.0, .intercept = 0.0});
}

Chart confidence_histograms(const std::vector<std::pair<std::string, std::vector<double>>>& groups,
                            const std::string& title, int64_t bins) {
  Chart chart(title, "confidence (max softmax probability)", "share of predictions (fraction)");
  chart.x_range(0.0, 1.0);
  for (const auto& [label, confidences] : groups) {
    if (confidences.empty()) {
      throw ValueError(
          str_cat("[confidence_histograms] group '", label, "' has no confidences; expected at least one"));
    }
    const std::vector<int64_t> counts = metrics::confidence_histogram(confidences, bins);
    BarSeries series{.label = label, .opacity = 0.5};
    for (std::size_t b = 0; b < counts.size(); ++b) {
      if (counts[b] == 0) continue;
      series.bars.push_back({.left = static_cast<double>(b) / static_cast<double>(bins),
                             .right = static_cast<double>(b + 1) / static_cast<double>(bins),
                             .top = static_cast<double>(counts[b]) / static_cast<double>(confidences.size())});
    }
    chart.bars(std::move(series));
  }
  return chart;
}

Chart penultimate_projection(const std::vector<std::vector<Point>>& points_per_class,
                             const std::vector<std::string>& class_names, const std::string& title) {
  if (points_per_class.size() != class_names.size()) {
    throw ShapeError(str_cat("[penultimate_projection] points_per_class has ", points_per_class.size(),
                             " classes but class_names has ", class_names.size(), "; expected one name per class"));
  }
  Chart chart(title, "projection axis 1 (activation units)", "projection axis 2 (activation units)");
  chart.legend(LegendCorner::Below);  // clusters can sit anywhere, so no corner is safe
  for (std::size_t k = 0; k < class_names.size(); ++k) {
    chart.scatter({.label = class_names[k], .points = points_per_class[k]});
  }
  return chart;
}

}  // namespace humble::plot
