// metrics/calibration.cpp — calibration metrics and temperature fitting (see calibration.hpp).
//
// Dimensions: N rows, C classes, B bins. Every function validates its inputs first, reads the
// tensors once through to_vector() and computes in double, one row at a time: each row's softmax
// is max-shifted, so −inf logits give probability 0 (never NaN) and large logits never overflow.
#include "calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "../core/error.hpp"

namespace humble::metrics {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Validated (N, C) logits, row-major, as double.
struct Logits {
  int64_t rows = 0, classes = 0;
  std::vector<double> values;  // (N, C)
  const double* row(int64_t i) const { return values.data() + i * classes; }
};

Logits read_logits(const char* op, const Tensor& logits) {
  if (!logits.defined()) throw ValueError(str_cat("[", op, "] logits is undefined; expected a (N, C) tensor"));
  if (logits.dim() != 2 || logits.shape()[0] < 1 || logits.shape()[1] < 2) {
    throw ShapeError(str_cat("[", op, "] logits must be (N, C) with N >= 1 rows and C >= 2 classes, got shape ",
                             shape_str(logits.shape())));
  }
  if (!logits.is_floating_point()) {
    throw ValueError(str_cat("[", op, "] logits must be float32 or float64, got ", dtype_name(logits.dtype())));
  }
  Logits out{logits.shape()[0], logits.shape()[1], logits.to_vector()};
  for (int64_t i = 0; i < out.rows; ++i) {
    const double* z = out.row(i);
    for (int64_t c = 0; c < out.classes; ++c) {
      if (std::isnan(z[c]) || z[c] == kInfinity) {
        throw ValueError(str_cat("[", op, "] logits[", i, ", ", c, "] = ", z[c], "; expected a finite number or -inf"));
      }
    }
    if (*std::max_element(z, z + out.classes) == -kInfinity) {
      throw ValueError(str_cat("[", op, "] logits row ", i, " is all -inf; expected at least one finite logit"));
    }
  }
  return out;
}

// The spread of a row's finite logits, times `scale` (1/T): what every exponent and difference of
// the row is bounded by. Beyond float64 it is an error, not an inf or NaN somewhere later.
void check_spread(const char* op, const Logits& logits, double scale, double temperature) {
  for (int64_t i = 0; i < logits.rows; ++i) {
    const double* z = logits.row(i);
    const double top = *std::max_element(z, z + logits.classes);
    double bottom = top;
    for (int64_t c = 0; c < logits.classes; ++c)
      if (z[c] != -kInfinity) bottom = std::min(bottom, z[c]);
    if (!std::isfinite(scale * (top - bottom)))
      throw ValueError(str_cat("[", op, "] logits row ", i, " spans from ", bottom, " to ", top, ", which divided by ",
                               "the temperature ", temperature, " exceeds float64's range"));
  }
}

std::vector<int64_t> read_labels(const char* op, const Tensor& labels, const Logits& logits) {
  if (!labels.defined()) throw ValueError(str_cat("[", op, "] labels is undefined; expected a (N) int64 tensor"));
  if (labels.dim() != 1 || labels.shape()[0] != logits.rows) {
    throw ShapeError(str_cat("[", op, "] labels must have shape (N) = (", logits.rows, ") to match logits (",
                             logits.rows, ", ", logits.classes, "), got ", shape_str(labels.shape())));
  }
  if (labels.dtype() != Dtype::Int64) {
    throw ValueError(str_cat("[", op, "] labels must be int64, got ", dtype_name(labels.dtype())));
  }
  const int64_t* values = labels.data<int64_t>();
  std::vector<int64_t> out(values, values + logits.rows);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] < 0 || out[i] >= logits.classes) {
      throw ValueError(
          str_cat("[", op, "] labels[", i, "] = ", out[i], " is outside [0, C) = [0, ", logits.classes, ")"));
    }
  }
  return out;
}

// T > 0 and finite, and so is 1/T (a subnormal T would make it inf).
void check_temperature(const char* op, double temperature) {
  if (!(temperature > 0) || !std::isfinite(temperature) || !std::isfinite(1.0 / temperature)) {
    throw ValueError(
        str_cat("[", op, "] temperature must be finite and > 0 with a finite 1 / temperature, got ", temperature));
  }
}

void check_bins(const char* op, int64_t bins) {
  if (bins < 1 || bins > kMaxBins)
    throw ValueError(str_cat("[", op, "] bins must be in [1, ", kMaxBins, "], got ", bins));
}

// The mean of per-row values, as their sum / N; where that sum would overflow, Σ (v / N).
double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  const auto n = static_cast<double>(values.size());
  const double sum = std::accumulate(values.begin(), values.end(), 0.0);
  if (std::isfinite(sum) || std::isnan(sum)) return sum / n;
  double scaled_sum = 0.0;
  for (const double v : values) scaled_sum += v / n;
  return scaled_sum;
}

// softmax(scale · z) of one row into `probs` (C); returns log Σ_c exp(scale · (z_c − max z)), so
// that −log p_y = scale · (max z − z_y) + that (never logsumexp − scale · z_y, which loses the
// small term beside a large max). Max-shifted: every exponent is ≤ 0, and a −inf logit gives 0.
double softmax_row(const double* z, int64_t classes, double scale, std::vector<double>& probs) {
  const double top = *std::max_element(z, z + classes);  // finite: read_logits checked
  double sum = 0.0;
  for (int64_t c = 0; c < classes; ++c) sum += probs[c] = std::exp(scale * (z[c] - top));
  for (int64_t c = 0; c < classes; ++c) probs[c] /= sum;
  return std::log(sum);
}

// Everything the metrics need from softmax(logits / T), in one pass over the rows.
struct RowSummary {
  std::vector<double> confidence;      // (N)
  std::vector<char> correct;           // (N), 0 or 1
  std::vector<double> nll, logit_gap;  // (N)
  double brier_sum = 0.0;
};

RowSummary summarize_rows(const char* op, const Tensor& logits_tensor, const Tensor& labels_tensor,
                          double temperature) {
  const Logits logits = read_logits(op, logits_tensor);
  const std::vector<int64_t> labels = read_labels(op, labels_tensor, logits);
  check_temperature(op, temperature);
  const int64_t classes = logits.classes;
  const double scale = 1.0 / temperature;
  check_spread(op, logits, scale, temperature);
  RowSummary out;
  std::vector<double> probs(classes);  // (C)
  for (int64_t i = 0; i < logits.rows; ++i) {
    const double* z = logits.row(i);
    const int64_t label = labels[i];
    const double log_sum = softmax_row(z, classes, scale, probs);
    const int64_t predicted = std::max_element(z, z + classes) - z;  // first of ties, like argmax
    out.confidence.push_back(probs[predicted]);
    out.correct.push_back(predicted == label);
    out.nll.push_back(scale * (z[predicted] - z[label]) + log_sum);  // −log p_y; +inf when z_y = −inf
    // The gap, top − mean of the others, as the mean of the differences: none overflows.
    double gap = 0.0;
    for (int64_t c = 0; c < classes; ++c) {
      const double target = c == label ? 1.0 : 0.0;
      out.brier_sum += (probs[c] - target) * (probs[c] - target);
      if (c != predicted) gap += scale * (z[predicted] - z[c]) / static_cast<double>(classes - 1);
    }
    out.logit_gap.push_back(gap);
  }
  return out;
}

// B equal-width bins: edge(b) = b / B, the edges reliability_bins reports, and the bin of a value,
// b such that value lies in (edge(b), edge(b + 1)]; 0 goes to bin 0. The estimate ⌊value · B⌋ is
// one too high when value is an edge and can be off by one when value · B rounds; the loops move it
// to the bin whose edges hold value. (Edges from a table and ⌊ ⌋ by truncation, of a value clamped
// to [0, 1]: a bootstrap asks for the bin of every row of every resample, where two divisions and
// std::ceil — a library call on plain x86-64 — per row took 40 % of its time.)
class EqualWidthBins {
 public:
  explicit EqualWidthBins(int64_t bins) : edges_(bins + 1) {
    for (int64_t b = 0; b <= bins; ++b) edges_[b] = static_cast<double>(b) / static_cast<double>(bins);
  }
  double edge(int64_t b) const { return edges_[b]; }
  int64_t of(double value) const {
    const auto bins = static_cast<int64_t>(edges_.size()) - 1;
    int64_t b =
        value > 0 ? std::min(static_cast<int64_t>(std::min(value, 1.0) * static_cast<double>(bins)), bins - 1) : 0;
    while (b > 0 && value <= edges_[b]) --b;
    while (b < bins - 1 && value > edges_[b + 1]) ++b;
    return b;
  }

 private:
  std::vector<double> edges_;
};

// Adds row i to `bin`; finish_bin() turns the sums into means.
void add_row(ReliabilityBin& bin, const RowSummary& rows, std::size_t i) {
  ++bin.count;
  bin.mean_confidence += rows.confidence[i];
  bin.accuracy += rows.correct[i];
}

void finish_bin(ReliabilityBin& bin) {
  if (bin.count == 0) return;
  bin.mean_confidence /= static_cast<double>(bin.count);
  bin.accuracy /= static_cast<double>(bin.count);
}

ReliabilityBins equal_width_bins(const RowSummary& rows, int64_t bins) {
  const EqualWidthBins width(bins);
  ReliabilityBins out(bins);
  for (int64_t b = 0; b < bins; ++b) {
    out[b].lo = width.edge(b);
    out[b].hi = width.edge(b + 1);
  }
  for (std::size_t i = 0; i < rows.confidence.size(); ++i) add_row(out[width.of(rows.confidence[i])], rows, i);
  for (ReliabilityBin& bin : out) finish_bin(bin);
  return out;
}

// Rows sorted by confidence; the first N mod B bins get ⌈N / B⌉ rows, the others ⌊N / B⌋.
ReliabilityBins equal_count_bins(const RowSummary& rows, int64_t bins) {
  const auto n = static_cast<int64_t>(rows.confidence.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rows.confidence[a] < rows.confidence[b]; });
  ReliabilityBins out(bins);
  const int64_t base = n / bins, extra = n % bins;
  int64_t next = 0;
  for (int64_t b = 0; b < bins; ++b) {
    const int64_t size = base + (b < extra ? 1 : 0);
    for (int64_t k = next; k < next + size; ++k) add_row(out[b], rows, order[k]);
    if (size > 0) {
      out[b].lo = rows.confidence[order[next]];
      out[b].hi = rows.confidence[order[next + size - 1]];
    }
    next += size;
    finish_bin(out[b]);
  }
  return out;
}

double mean(double sum, std::size_t count) { return count == 0 ? 0.0 : sum / static_cast<double>(count); }

}  // namespace

CalibrationReport evaluate(const Tensor& logits, const Tensor& labels, double temperature, int64_t bins) {
  check_bins("evaluate", bins);
  const RowSummary rows = summarize_rows("evaluate", logits, labels, temperature);
  const std::size_t n = rows.confidence.size();
  double confidence_sum = 0.0, correct_confidence_sum = 0.0, wrong_confidence_sum = 0.0, above_0_99 = 0.0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    confidence_sum += rows.confidence[i];
    (rows.correct[i] ? correct_confidence_sum : wrong_confidence_sum) += rows.confidence[i];
    correct += rows.correct[i];
    above_0_99 += rows.confidence[i] > 0.99;
  }
  const ReliabilityBins width_bins = equal_width_bins(rows, bins);
  CalibrationReport report;
  report.count = static_cast<int64_t>(n);
  report.temperature = temperature;
  report.accuracy = mean(static_cast<double>(correct), n);
  report.nll = mean_of(rows.nll);
  report.ece = expected_calibration_error(width_bins);
  report.adaptive_ece = expected_calibration_error(equal_count_bins(rows, bins));
  report.mce = maximum_calibration_error(width_bins);
  report.brier = mean(rows.brier_sum, n);
  report.mean_confidence = mean(confidence_sum, n);
  report.signed_gap = report.mean_confidence - report.accuracy;
  report.mean_confidence_correct = mean(correct_confidence_sum, correct);
  report.mean_confidence_wrong = mean(wrong_confidence_sum, n - correct);
  report.frac_confidence_above_0_99 = mean(above_0_99, n);
  report.mean_logit_gap = mean_of(rows.logit_gap);
  return report;
}

Predictions predictions(const Tensor& logits, const Tensor& labels, double temperature) {
  RowSummary rows = summarize_rows("predictions", logits, labels, temperature);
  return {std::move(rows.confidence), std::move(rows.nll), std::move(rows.correct)};
}

// The same sums as evaluate(), in the order of `rows`.
RowSampleMetrics evaluate_rows(const Predictions& predictions, std::span<const int64_t> rows, int64_t bins) {
  check_bins("evaluate_rows", bins);
  const int64_t n = predictions.size();
  if (predictions.nll.size() != predictions.confidence.size() ||
      predictions.correct.size() != predictions.confidence.size()) {
    throw ShapeError(str_cat("[evaluate_rows] predictions has ", predictions.confidence.size(), " confidences, ",
                             predictions.nll.size(), " NLLs and ", predictions.correct.size(),
                             " correct flags; expected one length"));
  }
  if (rows.empty()) throw ValueError("[evaluate_rows] rows is empty; expected at least one row");
  const EqualWidthBins width(bins);
  ReliabilityBins width_bins(bins);
  std::size_t correct = 0;
  double nll_sum = 0.0;
  for (const int64_t row : rows) {
    if (row < 0 || row >= n) throw ValueError(str_cat("[evaluate_rows] row ", row, " is outside [0, ", n, ")"));
    ReliabilityBin& bin = width_bins[width.of(predictions.confidence[row])];
    ++bin.count;
    bin.mean_confidence += predictions.confidence[row];
    bin.accuracy += predictions.correct[row];
    correct += predictions.correct[row];
    nll_sum += predictions.nll[row];
  }
  for (ReliabilityBin& bin : width_bins) finish_bin(bin);
  return {.accuracy = mean(static_cast<double>(correct), rows.size()),
          .nll = mean(nll_sum, rows.size()),
          .ece = expected_calibration_error(width_bins)};
}

ReliabilityBins reliability_bins(const Tensor& logits, const Tensor& labels, int64_t bins, double temperature) {
  check_bins("reliability_bins", bins);
  return equal_width_bins(summarize_rows("reliability_bins", logits, labels, temperature), bins);
}

ReliabilityBins adaptive_reliability_bins(const Tensor& logits, const Tensor& labels, int64_t bins,
                                          double temperature) {
  check_bins("adaptive_reliability_bins", bins);
  return equal_count_bins(summarize_rows("adaptive_reliability_bins", logits, labels, temperature), bins);
}

double expected_calibration_error(const ReliabilityBins& bins) {
  double total = 0.0, weighted_gap = 0.0;
  for (const ReliabilityBin& bin : bins) {
    total += static_cast<double>(bin.count);
    weighted_gap += static_cast<double>(bin.count) * std::abs(bin.accuracy - bin.mean_confidence);
  }
  return total == 0.0 ? 0.0 : weighted_gap / total;
}

double maximum_calibration_error(const ReliabilityBins& bins) {
  double worst = 0.0;
  for (const ReliabilityBin& bin : bins) {
    if (bin.count > 0) worst = std::max(worst, std::abs(bin.accuracy - bin.mean_confidence));
  }
  return worst;
}

std::vector<double> confidences(const Tensor& logits_tensor, double temperature) {
  const Logits logits = read_logits("confidences", logits_tensor);
  check_temperature("confidences", temperature);
  check_spread("confidences", logits, 1.0 / temperature, temperature);
  std::vector<double> out, probs(logits.classes);  // (N), (C)
  for (int64_t i = 0; i < logits.rows; ++i) {
    softmax_row(logits.row(i), logits.classes, 1.0 / temperature, probs);
    out.push_back(*std::max_element(probs.begin(), probs.end()));
  }
  return out;
}

std::vector<int64_t> confidence_histogram(const std::vector<double>& values, int64_t bins) {
  check_bins("confidence_histogram", bins);
  const EqualWidthBins width(bins);
  std::vector<int64_t> counts(bins, 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(values[i] >= 0.0 && values[i] <= 1.0)) {
      throw ValueError(str_cat("[confidence_histogram] values[", i, "] = ", values[i], "; expected a value in [0, 1]"));
    }
    ++counts[width.of(values[i])];
  }
  return counts;
}

// Temperature scaling by Newton's method on the inverse temperature β = 1/T.
//
// With s = β·z and p = softmax(s), one row's NLL is ℓ(β) = logsumexp(β·z) − β·z_y, so
//   ℓ′(β)  = Σ_c p_c z_c − z_y              = E_p[z] − z_y
//   ℓ″(β)  = Σ_c p_c z_c² − (Σ_c p_c z_c)²  = Var_p[z] ≥ 0.
// The mean NLL is therefore convex in β (not in T), its slope increases, and the minimiser is
// where the slope crosses zero. We keep a bracket [lo, hi] of β with slope(lo) < 0 < slope(hi),
// take the Newton step β − ℓ′/ℓ″ when it lands inside the bracket and bisect otherwise ("rtsafe",
// Numerical Recipes §9.4): every step shrinks the bracket, so it converges even where ℓ″ ≈ 0
// (nearly one-hot rows). If the slope has one sign over the whole search range the minimiser is
// an end of it. A final check keeps T = 1 should rounding ever make the fit worse than T = 1.
namespace {

struct NllDerivatives {
  double nll = 0.0, slope = 0.0, curvature = 0.0;  // means over rows of ℓ, ℓ′, ℓ″
};

NllDerivatives nll_derivatives(const Logits& logits, const std::vector<int64_t>& labels, double beta) {
  NllDerivatives out;
  std::vector<double> probs(logits.classes);  // (C)
  for (int64_t i = 0; i < logits.rows; ++i) {
    const double* z = logits.row(i);
    const double log_sum = softmax_row(z, logits.classes, beta, probs);
    const double top = *std::max_element(z, z + logits.classes);
    // In d_c = z_c − max z (no sum of large z overflows): E_p[z] − z_y = E_p[d] − d_y.
    double expected = 0.0, variance = 0.0;
    for (int64_t c = 0; c < logits.classes; ++c) {
      if (probs[c] > 0.0) expected += probs[c] * (z[c] - top);  // skips 0 · (−inf)
    }
    for (int64_t c = 0; c < logits.classes; ++c) {
      if (probs[c] > 0.0) variance += probs[c] * ((z[c] - top) - expected) * ((z[c] - top) - expected);
    }
    const double d_y = z[labels[i]] - top;
    out.nll += beta * -d_y + log_sum;
    out.slope += expected - d_y;
    out.curvature += variance;
  }
  const auto n = static_cast<double>(logits.rows);
  return {out.nll / n, out.slope / n, out.curvature / n};
}

}  // namespace

double fit_temperature(const Tensor& logits_tensor, const Tensor& labels_tensor) {
  const Logits logits = read_logits("fit_temperature", logits_tensor);
  const std::vector<int64_t> labels = read_labels("fit_temperature", labels_tensor, logits);
  check_spread("fit_temperature", logits, 1.0, 1.0);
  const auto at = [&](double beta) { return nll_derivatives(logits, labels, beta); };
  const double nll_at_one = at(1.0).nll;
  if (!std::isfinite(nll_at_one)) return 1.0;  // a label with a −inf logit: NLL = +inf for every T

  double lo = 1.0 / kMaxTemperature, hi = 1.0 / kMinTemperature;
  double beta = 1.0;
  if (at(lo).slope >= 0.0) {
    beta = lo;
  } else if (at(hi).slope <= 0.0) {
    beta = hi;
  } else {
    constexpr int kMaxIterations = 100;
    constexpr double kRelativeTolerance = 1e-12;
    for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
      const NllDerivatives d = at(beta);
      if (d.slope == 0.0) break;
      (d.slope < 0.0 ? lo : hi) = beta;
      const double newton = beta - d.slope / d.curvature;  // ±inf or NaN when the curvature is 0
      if (std::abs(newton - beta) <= kRelativeTolerance * beta || hi - lo <= kRelativeTolerance * beta) break;
      beta = newton > lo && newton < hi ? newton : 0.5 * (lo + hi);
    }
  }
  return at(beta).nll <= nll_at_one ? 1.0 / beta : 1.0;
}

}  // namespace humble::metrics
