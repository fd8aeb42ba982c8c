// metrics/representation.hpp — what a trained network's penultimate layer and logits still say
// about which classes resemble each other, as numbers.
//
// Müller, Kornblith & Hinton 2019 ("When Does Label Smoothing Help?", arXiv:1906.02629, §4–5)
// show pictures: with label smoothing the penultimate activations of each class gather in tight,
// equally spaced clusters, and the logits lose the information about resemblances between classes
// that a student learns from in distillation. Two numbers make the pictures measurable:
//
//   cluster_tightness   within-class spread over between-class distance of the features h:
//                         spread   = sqrt( mean_i ‖h_i − μ_{y_i}‖² )          (RMS distance to the class centroid)
//                         distance = sqrt( mean_{j<k} ‖μ_j − μ_k‖² )          (RMS distance between centroids)
//                         ratio    = spread / distance                         (scale-free; smaller = tighter)
//   wrong_class_entropy how evenly a model spreads its probability over the wrong classes:
//                         q_c = p_c / (1 − p_y) for c ≠ y, i.e. softmax of the logits without z_y,
//                         mean over rows of H(q) / log(C − 1)   (1: all wrong classes alike, no
//                         "dark knowledge" left; near 0: one wrong class stands out)
//
// Dimensions: N rows, D features, C classes. Features (N, D) and logits (N, C) are Float32 or
// Float64 and finite; labels (N) Int64, in [0, C) for the logits. cluster_tightness uses the
// classes present in the labels (at least two); bad input throws ShapeError/ValueError.
#pragma once

#include <cstdint>

#include "../core/tensor.hpp"

namespace humble::metrics {

struct ClusterTightness {
  double within_class_spread = 0.0;
  double between_class_distance = 0.0;
  double ratio = 0.0;   // spread / distance
  int64_t classes = 0;  // classes present in the labels (at least 2)
};
ClusterTightness cluster_tightness(const Tensor& features, const Tensor& labels);

double wrong_class_entropy(const Tensor& logits, const Tensor& labels);  // in [0, 1]; C >= 3

// The q of every row averaged per true class: row k of the (C, C) Float64 result is the mean q
// over the rows labelled k (its diagonal entry 0, the row summing to 1), or all zeros when no row
// has label k. It shows which wrong classes a model thinks each class resembles.
Tensor mean_wrong_class_distribution(const Tensor& logits, const Tensor& labels);

}  // namespace humble::metrics
