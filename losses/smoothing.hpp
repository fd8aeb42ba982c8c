// losses/smoothing.hpp — what label smoothing does to the optimum, in closed form (no gradients).
//
// With C classes and smoothing ε, the smoothed target q′ is the best the model can do: the loss
// is minimised exactly when softmax(z) = q′. From that, for AllClasses (q′_y = 1 − ε + ε/C,
// q′_other = ε/C):
//   max_confidence   = 1 − ε + ε/C                      (confidence can never usefully exceed it)
//   optimal_logit_gap = log(q′_y / q′_other) = log(1 + C(1 − ε)/ε)
//   loss_floor        = H(q′) = −Σ_c q′_c log q′_c      (the smoothed loss cannot go below it)
// and for OtherClasses (q′_y = 1 − ε, q′_other = ε/(C − 1)): 1 − ε, log((C − 1)(1 − ε)/ε), H(q′).
// See Müller, Kornblith & Hinton 2019 (https://arxiv.org/abs/1906.02629), section 2.
#pragma once

#include <cstdint>

#include "../core/tensor.hpp"

namespace humble::losses {

enum class SmoothingTarget {
  AllClasses,    // ε/C on every class, the true one included (Szegedy et al., PyTorch)
  OtherClasses,  // the true class keeps 1 − ε, the others share ε/(C − 1) (fairseq and many papers)
};

// q′ for class-index targets (N): (N, C) in `dtype`, rows summing to 1.
Tensor smoothed_targets(const Tensor& target, int64_t num_classes, double eps,
                        SmoothingTarget convention = SmoothingTarget::AllClasses, Dtype dtype = Dtype::Float32);

double optimal_logit_gap(int64_t num_classes, double eps, SmoothingTarget convention = SmoothingTarget::AllClasses);
double max_confidence(int64_t num_classes, double eps, SmoothingTarget convention = SmoothingTarget::AllClasses);
double loss_floor(int64_t num_classes, double eps, SmoothingTarget convention = SmoothingTarget::AllClasses);

}  // namespace humble::losses
