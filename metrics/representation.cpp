// metrics/representation.cpp — cluster tightness and wrong-class entropy (formulas in the header).
//
// Dimensions: N rows, D features, C classes, K classes present. Computed in double, one row at a time.
#include "representation.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::metrics {
namespace {

// The rows of a finite float (N, width) tensor, as double.
std::vector<double> read_rows(const char* op, const char* name, const Tensor& x, int64_t min_width) {
  if (!x.defined() || x.dim() != 2 || x.shape()[0] < 1 || x.shape()[1] < min_width)
    throw ShapeError(str_cat("[", op, "] ", name, " must be (N, ", min_width == 1 ? "D" : "C", ") with N >= 1 and ",
                             min_width == 1 ? "D" : "C", " >= ", min_width, ", got ",
                             x.defined() ? shape_str(x.shape()) : "undefined"));
  if (!x.is_floating_point())
    throw ValueError(str_cat("[", op, "] ", name, " must be float32 or float64, got ", dtype_name(x.dtype())));
  std::vector<double> values = x.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw ValueError(str_cat("[", op, "] ", name, "[", i / x.shape()[1], ", ", i % x.shape()[1], "] = ", values[i],
                               "; expected a finite number"));
  }
  return values;
}

std::vector<int64_t> read_labels(const char* op, const Tensor& labels, int64_t rows, int64_t classes) {
  if (!labels.defined() || labels.dim() != 1 || labels.shape()[0] != rows || labels.dtype() != Dtype::Int64)
    throw ShapeError(
        str_cat("[", op, "] labels must be int64 (", rows, ") to match the rows, got ",
                labels.defined() ? shape_str(labels.shape()) + " " + dtype_name(labels.dtype()) : "undefined"));
  std::vector<int64_t> out(labels.data<int64_t>(), labels.data<int64_t>() + rows);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] < 0 || out[i] >= classes)
      throw ValueError(str_cat("[", op, "] labels[", i, "] = ", out[i], " is outside [0, ", classes, ")"));
  }
  return out;
}

}  // namespace

ClusterTightness cluster_tightness(const Tensor& features, const Tensor& labels_tensor) {
  constexpr const char* op = "cluster_tightness";
  const std::vector<double> h = read_rows(op, "features", features, 1);  // (N, D)
  const int64_t n = features.shape()[0], d = features.shape()[1];
  if (!labels_tensor.defined() || labels_tensor.dtype() != Dtype::Int64 || labels_tensor.numel() == 0)
    throw ShapeError(str_cat("[", op, "] labels must be int64 (", n, ")"));
  const int64_t* raw = labels_tensor.data<int64_t>();
  const int64_t classes = *std::max_element(raw, raw + labels_tensor.numel()) + 1;
  const std::vector<int64_t> labels = read_labels(op, labels_tensor, n, classes);

  std::vector<double> centroid(static_cast<std::size_t>(classes * d), 0.0);  // (C, D)
  std::vector<int64_t> count(static_cast<std::size_t>(classes), 0);
  for (int64_t i = 0; i < n; ++i) {
    ++count[labels[i]];
    for (int64_t j = 0; j < d; ++j) centroid[labels[i] * d + j] += h[i * d + j];
  }
  std::vector<int64_t> present;
  for (int64_t k = 0; k < classes; ++k) {
    if (count[k] == 0) continue;
    present.push_back(k);
    for (int64_t j = 0; j < d; ++j) centroid[k * d + j] /= static_cast<double>(count[k]);
  }
  if (present.size() < 2)
    throw ValueError(str_cat("[", op, "] labels hold ", present.size(), " class; expected at least 2"));

  double within = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      const double diff = h[i * d + j] - centroid[labels[i] * d + j];
      within += diff * diff;
    }
  }
  double between = 0.0;
  int64_t pairs = 0;
  for (std::size_t a = 0; a < present.size(); ++a) {
    for (std::size_t b = a + 1; b < present.size(); ++b, ++pairs) {
      for (int64_t j = 0; j < d; ++j) {
        const double diff = centroid[present[a] * d + j] - centroid[present[b] * d + j];
        between += diff * diff;
      }
    }
  }
  ClusterTightness out;
  out.within_class_spread = std::sqrt(within / static_cast<double>(n));
  out.between_class_distance = std::sqrt(between / static_cast<double>(pairs));
  if (out.between_class_distance == 0.0)
    throw ValueError(str_cat("[", op, "] every class centroid is the same point; the ratio is undefined"));
  out.ratio = out.within_class_spread / out.between_class_distance;
  out.classes = static_cast<int64_t>(present.size());
  return out;
}

namespace {

// Calls visit(row, label, q) with q = softmax of the row's logits without the label's (q_y = 0),
// max-shifted so that the largest term is 1.
template <class Visit>
void for_each_wrong_class_distribution(const char* op, const Tensor& logits, const Tensor& labels_tensor, Visit visit) {
  const std::vector<double> z = read_rows(op, "logits", logits, 3);  // (N, C)
  const int64_t n = logits.shape()[0], classes = logits.shape()[1];
  const std::vector<int64_t> labels = read_labels(op, labels_tensor, n, classes);
  std::vector<double> q(static_cast<std::size_t>(classes));  // (C)
  for (int64_t i = 0; i < n; ++i) {
    const double* row = z.data() + i * classes;
    double top = -INFINITY;
    for (int64_t c = 0; c < classes; ++c)
      if (c != labels[i]) top = std::max(top, row[c]);
    double sum = 0.0;
    for (int64_t c = 0; c < classes; ++c) sum += q[c] = c == labels[i] ? 0.0 : std::exp(row[c] - top);
    for (double& v : q) v /= sum;
    visit(i, labels[i], q);
  }
}

}  // namespace

double wrong_class_entropy(const Tensor& logits, const Tensor& labels) {
  double total = 0.0;
  for_each_wrong_class_distribution("wrong_class_entropy", logits, labels,
                                    [&](int64_t, int64_t, const std::vector<double>& q) {
                                      for (const double p : q)
                                        if (p > 0.0) total -= p * std::log(p);
                                    });
  const auto n = static_cast<double>(logits.shape()[0]), classes = static_cast<double>(logits.shape()[1]);
  return total / n / std::log(classes - 1);
}

Tensor mean_wrong_class_distribution(const Tensor& logits, const Tensor& labels) {
  const int64_t classes = logits.defined() && logits.dim() == 2 ? logits.shape()[1] : 0;
  std::vector<double> sums(static_cast<std::size_t>(classes * classes), 0.0);  // (C, C)
  std::vector<int64_t> counts(static_cast<std::size_t>(classes), 0);
  for_each_wrong_class_distribution("mean_wrong_class_distribution", logits, labels,
                                    [&](int64_t, int64_t label, const std::vector<double>& q) {
                                      ++counts[label];
                                      for (int64_t c = 0; c < classes; ++c) sums[label * classes + c] += q[c];
                                    });
  for (int64_t k = 0; k < classes; ++k)
    for (int64_t c = 0; c < classes; ++c)
      if (counts[k] > 0) sums[k * classes + c] /= static_cast<double>(counts[k]);
  return tensor(sums, {classes, classes}, Dtype::Float64);
}

}  // namespace humble::metrics
