// tests/fuzz/fuzz_metrics.cpp — the calibration metrics and temperature fitting (metrics/calibration.hpp).
//
// The input gives logits (N up to 16 rows, C up to 12 classes, float32 or float64; values as in
// fuzz_input.hpp: ordinary, ±inf, NaN, huge, subnormal, any bits), labels (sometimes out of range),
// a temperature and a bin count (ordinary or any bits). Every function either throws ValueError or
// ShapeError naming it, or returns results in their ranges and nothing NaN: accuracy, ECE, MCE,
// confidences in [0, 1] (confidences >= 1/C), Brier in [0, 2], NLL >= 0 and finite unless a label's
// logit is −inf, the logit gap finite unless a row holds a −inf logit, T in [1e-2, 1e2].
#include <humble/humble.hpp>
#include <string>

#include "fuzz_input.hpp"

namespace {

using namespace humble;
using fuzz::expect;
using Values = std::vector<double>;

bool in_range(double v, double lo, double hi) { return v >= lo - 1e-12 && v <= hi + 1e-12; }

// Runs f; a ValueError or ShapeError must name `op`. Returns whether f returned.
template <class F>
bool returns(const char* op, F f) {
  try {
    f();
    return true;
  } catch (const std::invalid_argument& e) {
    expect(std::string(e.what()).starts_with(std::string("[") + op + "] "),
           std::string("a message without the op: ") + e.what());
    return false;
  }
}

void check_bins(const metrics::ReliabilityBins& bins, int64_t rows) {
  int64_t total = 0;
  for (const auto& b : bins) {
    total += b.count;
    expect(in_range(b.mean_confidence, 0, 1) && in_range(b.accuracy, 0, 1), "a bin outside [0, 1]");
  }
  expect(total == rows, "bins do not hold every row once");
  const double ece = metrics::expected_calibration_error(bins), mce = metrics::maximum_calibration_error(bins);
  expect(in_range(ece, 0, 1) && in_range(mce, 0, 1) && ece <= mce + 1e-12, "ECE or MCE out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const uint8_t flags = in.byte();
  const Dtype dtype = (flags & 1) ? Dtype::Float64 : Dtype::Float32;
  const int64_t N = in.integer(0, 16), C = in.integer(1, 12);
  Values z(N * C), y(N);
  for (double& v : z) v = in.number();
  for (double& v : y) v = static_cast<double>((flags & 2) ? in.integer(-1, C) : in.integer(0, C - 1));
  const double temperature = (flags & 4) ? in.number() : 0.25 + in.byte() / 32.0;
  const int64_t bins = (flags & 8) ? in.raw<int64_t>() : in.integer(1, 40);
  const Tensor logits = tensor(z, {N, C}, dtype), labels = tensor(y, {N}, Dtype::Int64);
  const Values used = logits.to_vector();  // as the dtype holds them

  bool label_ruled_out = false, row_ruled_out = false;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t c = 0; c < C; ++c)
      if (used[i * C + c] == -std::numeric_limits<double>::infinity()) {
        row_ruled_out = true;
        label_ruled_out = label_ruled_out || c == static_cast<int64_t>(y[i]);
      }

  metrics::CalibrationReport r;
  if (returns("evaluate", [&] { r = metrics::evaluate(logits, labels, temperature, bins); })) {
    for (double v : {r.accuracy, r.ece, r.adaptive_ece, r.mce, r.mean_confidence, r.mean_confidence_correct,
                     r.mean_confidence_wrong, r.frac_confidence_above_0_99})
      expect(in_range(v, 0, 1), "a metric outside [0, 1]");
    expect(in_range(r.brier, 0, 2), "Brier outside [0, 2]");
    expect(in_range(r.signed_gap, -1, 1), "signed gap outside [-1, 1]");
    expect(r.nll >= 0 && (std::isfinite(r.nll) || label_ruled_out), "NLL not finite from finite logits");
    expect(!std::isnan(r.mean_logit_gap) && (std::isfinite(r.mean_logit_gap) || row_ruled_out),
           "a logit gap that is not finite");
    expect(r.count == N, "count differs from N");
  }
  metrics::ReliabilityBins b;
  if (returns("reliability_bins", [&] { b = metrics::reliability_bins(logits, labels, bins, temperature); }))
    check_bins(b, N);
  if (returns("adaptive_reliability_bins",
              [&] { b = metrics::adaptive_reliability_bins(logits, labels, bins, temperature); }))
    check_bins(b, N);
  Values confidence;
  if (returns("confidences", [&] { confidence = metrics::confidences(logits, temperature); })) {
    for (double v : confidence)
      expect(in_range(v, 1.0 / static_cast<double>(C), 1), "a confidence below 1/C or above 1");
    returns("confidence_histogram", [&] { metrics::confidence_histogram(confidence, bins); });
  }
  double t = 0;
  if (returns("fit_temperature", [&] { t = metrics::fit_temperature(logits, labels); }))
    expect(t >= metrics::kMinTemperature && t <= metrics::kMaxTemperature, "a fitted T outside [1e-2, 1e2]");
  return 0;
}
