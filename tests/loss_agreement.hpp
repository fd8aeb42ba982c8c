// tests/loss_agreement.hpp — how closely the fast cross-entropy kernel must agree with the reference
// path (cross_entropy_reference), shared by tests/test_loss_reference.cpp and the loss fuzz target.
//
// |fast − reference| <= rtol·max(|reference|, floor): float32 at rtol 1e-5 (the kernel computes its
// bulk in float, the reference everything in double), float64 at 1e-12. The floor is floor_fraction
// of a scale: for values, the largest |value|; for gradients, the largest term an element is
// computed from, |dL/dloss_n|·(p_c·S + w_c·q′_c), because an element where p·S and w·q′ cancel is
// known only to a rounding of those terms, in float32 as in PyTorch (an absolute slack of 1e-7 of
// that term in float32, 1e-15 in float64). Nor is the scale below the dtype's smallest normal
// number: a subnormal result holds fewer digits than rtol asks (one ulp of 1e-321 is 0.4 % of it),
// so below it the paths agree to rtol of the smallest normal.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <humble/humble.hpp>
#include <limits>
#include <utility>
#include <vector>

namespace humble::loss_agreement {

using Values = std::vector<double>;

struct Tolerance {
  double rtol, floor_fraction, smallest_normal;
  double floor(double scale) const { return std::max(floor_fraction * scale, smallest_normal); }
};
inline Tolerance tolerance_for(Dtype dtype) {
  return dtype == Dtype::Float64 ? Tolerance{1e-12, 1e-3, std::numeric_limits<double>::min()}
                                 : Tolerance{1e-5, 1e-2, std::numeric_limits<float>::min()};
}

inline double largest_of(const Values& values) {
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::abs(v));
  return largest;
}

// The element where |actual − expected| / (rtol·max(|expected|, floor)) is largest, and that ratio
// (which must stay <= 1; NaN counts as the worst).
inline std::pair<std::size_t, double> worst_mismatch(const Values& actual, const Values& expected, double rtol,
                                                     double floor) {
  std::size_t worst = 0;
  double worst_ratio = 0;
  for (std::size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    const double error = std::abs(actual[i] - expected[i]);
    const double ratio = error == 0 ? 0.0 : error / (rtol * std::max(std::abs(expected[i]), floor));
    if (!(ratio <= worst_ratio)) {
      worst_ratio = ratio;
      worst = i;
      if (std::isnan(ratio)) break;
    }
  }
  return {worst, worst_ratio};
}

// A bound on the terms of the gradient, |dL/dloss_n|·(p_c·S + w_c·q′_c) <= |dL/dloss_n|·2·max w
// (S = Σ w q′ <= max w): dL/dloss_n is at most `upstream` without reduction, 1 for the sum and
// 1/Σ_n w_{y_n} over the kept rows (1/R for probabilities) for the mean. That mean's bound,
// 2·max w / Σ w_{y_n}, is taken as 2 / Σ (w_{y_n} / max w): Σ w_{y_n} itself may pass float64.
// No term of a finite gradient passes the largest double, so the bound stops there: 2·max w of
// weights near it would be inf, and a tolerance of inf would let any gradient through.
inline double largest_term(const losses::CrossEntropyOptions& options, const Tensor& target, const Shape& logits_shape,
                           double upstream) {
  const bool weighted = options.weight.defined(), soft = target.dtype() != Dtype::Int64;
  const Values w = weighted ? options.weight.to_vector() : Values{};
  const double max_w = weighted ? largest_of(w) : 1.0;
  const auto bound = [&]() -> double {
    if (options.reduction == losses::Reduction::None) return upstream * 2 * max_w;
    if (options.reduction == losses::Reduction::Sum) return 2 * max_w;
    if (soft) {
      const auto rows = static_cast<double>(shape_numel(logits_shape) / logits_shape[1]);
      return rows > 0 ? 2 * max_w / rows : 0.0;
    }
    if (max_w == 0) return 0.0;
    double denominator = 0;  // Σ (w_{y_n} / max w) over the kept rows
    for (double v : target.to_vector())
      if (static_cast<int64_t>(v) != options.ignore_index)
        denominator += weighted ? w[static_cast<int64_t>(v)] / max_w : 1.0;
    return denominator > 0 ? 2 / denominator : 0.0;
  };
  return std::min(bound(), std::numeric_limits<double>::max());
}

}  // namespace humble::loss_agreement
