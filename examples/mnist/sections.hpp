// examples/mnist/sections.hpp — each experiment's console table, pictures and report sections
// (one file each: calibration.cpp, compare.cpp, sweep.cpp, distillation.cpp, label_noise.cpp),
// and the pieces several of them draw with.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "report.hpp"

namespace study {

ExperimentReport calibration_report(const Context& ctx);
ExperimentReport compare_report(const Context& ctx);
ExperimentReport sweep_report(const Context& ctx);
ExperimentReport distillation_report(const Context& ctx);
ExperimentReport label_noise_report(const Context& ctx);

// The first summary satisfying `pick`, or nullptr.
const Summary* find_summary(const std::vector<Summary>& summaries, const std::function<bool(const Summary&)>& pick);

// "ECE 0.1034 [0.0990, 0.1079]": a metric with its bootstrap interval (test_accuracy, test_nll, ece).
std::string with_interval(const Summary& s, const std::string& key, int decimals = 4);
// For a summary with a baseline: "+0.0950 [+0.0913, +0.0987], beyond test-set noise" or "…, within
// test-set noise" — the paired difference of test_accuracy, test_nll or ece (test_error in
// percentage points: "+0.21 points [+0.05, +0.37], …").
std::string difference_text(const Summary& s, const std::string& key, int decimals = 4);
bool beyond_noise(const Summary& s, const std::string& key);  // the difference's interval excludes 0
std::string more_or_less(double a, double b, const std::string& more, const std::string& less);
// One sentence per row, "A. B. C.": `sentence` writes one without its full stop.
std::string each(const std::vector<const Summary*>& rows, const std::function<std::string(const Summary&)>& sentence);

std::string data_name(const Config& config);  // "MNIST" or "Fashion-MNIST"

// One reliability diagram per summary (its first seed), in rows of `columns`.
humble::plot::Figure reliability_figure(const std::string& title, const std::vector<const Summary*>& rows, int columns);

// The summary with the lowest (highest) mean of `key`; rows not empty.
const Summary* lowest(const std::vector<const Summary*>& rows, const std::string& key);
const Summary* highest(const std::vector<const Summary*>& rows, const std::string& key);

// A curve per series over x: the mean of `key` with a ± std band over the seeds, both in the
// series colour (the band only with several seeds), values multiplied by `scale`.
struct CurveSeries {
  std::string label{};
  std::string key{};
  std::vector<const Summary*> points{};  // one per x
  double scale = 1.0;
};
humble::plot::Chart mean_std_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                                   const std::vector<double>& x, const std::vector<CurveSeries>& series);

}  // namespace study
