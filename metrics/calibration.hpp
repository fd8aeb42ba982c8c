// metrics/calibration.hpp — how well a classifier's confidence matches its accuracy.
//
// Everything here reads finished logits (no autograd) and works in double. The definitions follow
// /work/shared/REFERENCE.md, so humble's numbers compare with PyTorch's:
//   confidence   max_c softmax(z / T)_c, the probability of the predicted (argmax) class
//   NLL          mean over rows of −log p_y, computed as logsumexp(z / T) − z_y / T (never log p)
//   ECE          Σ_b (n_b / N) |accuracy_b − confidence_b| over 15 equal-width bins (lo, hi]
//                (Naeini et al. 2015, https://ojs.aaai.org/index.php/AAAI/article/view/9602;
//                Guo et al. 2017, "On Calibration of Modern Neural Networks", arXiv:1706.04599)
//   adaptive ECE the same sum over equal-count bins (Nixon et al. 2019, arXiv:1904.01685)
//   MCE          max over non-empty bins of |accuracy_b − confidence_b|
//   Brier        mean over rows of Σ_c (p_c − onehot(y)_c)², in [0, 2] (Brier 1950)
//   logit gap    top logit − mean of the other C − 1 logits, of the scaled logits z / T
// Temperature scaling (Guo et al. 2017) divides logits by one scalar T > 0 fitted on validation
// data; fit_temperature() documents its Newton iteration.
// predictions() keeps the per-row facts (confidence, −log p_y, correct) so that accuracy, NLL
// and ECE can be recomputed on any sample of rows — what bootstrap intervals need
// (metrics/statistics.hpp).
//
// Dimensions: N rows (examples), C classes, B bins. Inputs: logits (N, C) Float32/Float64, labels
// (N) Int64 in [0, C). Logits may be −inf (masked classes) but not NaN or +inf, every row needs one
// finite logit, and a row's finite logits divided by the temperature must span less than float64's
// range (then every result is finite but the documented +inf ones). The temperature must be finite,
// > 0 and have a finite 1/T. Bad input throws ShapeError/ValueError naming the function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "../core/tensor.hpp"

namespace humble::metrics {

inline constexpr int64_t kDefaultBins = 15;
inline constexpr int64_t kMaxBins = int64_t{1} << 20;  // bins must lie in [1, kMaxBins]

struct CalibrationReport {
  int64_t count = 0;          // N
  double temperature = 1.0;   // T the probabilities were computed at
  double accuracy = 0.0;      // share of rows whose argmax is the label
  double nll = 0.0;           // mean −log p_y (unsmoothed cross-entropy)
  double ece = 0.0;           // equal-width bins
  double adaptive_ece = 0.0;  // equal-count bins
  double mce = 0.0;           // worst equal-width bin
  double brier = 0.0;         // multi-class Brier score, summed over classes
  double signed_gap = 0.0;    // mean_confidence − accuracy: > 0 overconfident, < 0 under
  double mean_confidence = 0.0;
  double mean_confidence_correct = 0.0;  // 0 when no prediction is correct
  double mean_confidence_wrong = 0.0;    // 0 when no prediction is wrong
  double frac_confidence_above_0_99 = 0.0;
  double mean_logit_gap = 0.0;  // +inf when a row has a −inf logit (its mean is −inf)
};

// Every metric above for softmax(logits / temperature). `bins` is used by ECE, adaptive ECE, MCE.
CalibrationReport evaluate(const Tensor& logits, const Tensor& labels, double temperature = 1.0,
                           int64_t bins = kDefaultBins);

// One bin of a reliability diagram. Empty bins have count 0 and mean_confidence = accuracy = 0.
struct ReliabilityBin {
  double lo = 0.0, hi = 0.0;  // the bin covers confidences in (lo, hi]; the first bin also takes lo
  int64_t count = 0;
  double mean_confidence = 0.0;
  double accuracy = 0.0;
};
using ReliabilityBins = std::vector<ReliabilityBin>;  // (B), ordered by confidence

// Equal-width bins over [0, 1]: bin b is (b / B, (b + 1) / B].
ReliabilityBins reliability_bins(const Tensor& logits, const Tensor& labels, int64_t bins = kDefaultBins,
                                 double temperature = 1.0);
// Equal-count bins: rows sorted by confidence, split into B runs whose sizes differ by at most one
// (ties may straddle two bins); lo/hi are the smallest and largest confidence in the bin. With
// N < B the last B − N bins are empty.
ReliabilityBins adaptive_reliability_bins(const Tensor& logits, const Tensor& labels, int64_t bins = kDefaultBins,
                                          double temperature = 1.0);
double expected_calibration_error(const ReliabilityBins& bins);  // Σ_b (n_b / N) |acc_b − conf_b|
double maximum_calibration_error(const ReliabilityBins& bins);   // max over non-empty bins; 0 if none

// Per-row confidence max_c softmax(logits / temperature)_c, (N).
std::vector<double> confidences(const Tensor& logits, double temperature = 1.0);
// Counts of `values` in B equal-width bins over [0, 1], bin b = (b / B, (b + 1) / B] (0 joins the
// first bin). Values must lie in [0, 1].
std::vector<int64_t> confidence_histogram(const std::vector<double>& values, int64_t bins = kDefaultBins);

// Per-row facts of softmax(logits / temperature), each (N): what evaluate() reads, kept per row.
struct Predictions {
  std::vector<double> confidence;  // max_c p_c
  std::vector<double> nll;         // −log p_y
  std::vector<char> correct;       // 1 when the argmax is the label, else 0
  int64_t size() const { return static_cast<int64_t>(confidence.size()); }
};
Predictions predictions(const Tensor& logits, const Tensor& labels, double temperature = 1.0);

// Accuracy, NLL and equal-width ECE of the rows `rows` of `predictions` (indices in [0, N),
// repeats allowed, at least one). On rows 0, 1, …, N − 1 they are evaluate()'s, bit for bit.
struct RowSampleMetrics {
  double accuracy = 0.0, nll = 0.0, ece = 0.0;
};
RowSampleMetrics evaluate_rows(const Predictions& predictions, std::span<const int64_t> rows,
                               int64_t bins = kDefaultBins);

// The temperature T > 0 minimising the NLL of softmax(logits / T) against labels — fit it on a
// validation split, then pass it to evaluate() on the test split. Never returns a T whose NLL on
// these logits exceeds the NLL at T = 1. Searches T in [kMinTemperature, kMaxTemperature].
inline constexpr double kMinTemperature = 1e-2;
inline constexpr double kMaxTemperature = 1e2;
double fit_temperature(const Tensor& logits, const Tensor& labels);

}  // namespace humble::metrics
