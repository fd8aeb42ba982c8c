// losses/cross_entropy.hpp — label-smoothed cross-entropy as one fused autograd node.
//
// Legend: N batch, C classes, d1…dk extra positions (e.g. pixels); a "row" is one position n.
// For logits z_n and target distribution q′_n (from a class index y_n, or given probabilities
// t_n), with class weights w (1 when none) and smoothing ε (Szegedy et al. 2016,
// https://arxiv.org/abs/1512.00567; Müller, Kornblith & Hinton 2019, https://arxiv.org/abs/1906.02629):
//
//   q′_c   = (1 − ε)·t_c + ε·u_c      u_c = 1/C (AllClasses, PyTorch) or (1 − t_c)/(C − 1) (OtherClasses)
//   loss_n = Σ_c w_c·q′_c·(lse_n − z_c)          lse_n − z_c = (m − z_c) + log Σ_k exp(z_k − m), m = max z
//          = (1 − ε)·NLL_n + ε·CE(u, p_n)        (two parts, both weighted by w)
//   ∂loss_n/∂z_c = p_c·Σ_k w_k q′_k − w_c q′_c     = p_c − q′_c without weights
// The max is subtracted before anything else, so the result depends only on the differences z − m:
// adding a constant to a row changes nothing, even for logits of 1e8 in float64.
//
// Two paths compute it, with the same validation and the same results within rounding:
// cross_entropy_reference, plain loops over rows and classes that read like the formulas above
// (losses/cross_entropy.cpp, the specification), and cross_entropy, the fast kernel
// (losses/cross_entropy_fast.cpp), tested against the reference in every configuration.
//
// Mean reduction divides by Σ_n w_{y_n} over non-ignored rows (index targets) or by the number
// of rows (probability targets), exactly as torch.nn.functional.cross_entropy does.
// Beyond PyTorch: ε is validated; classes whose logit is −inf are "ruled out" — they get no
// smoothing mass (C counts only the remaining classes of that row), so the loss stays finite
// where PyTorch returns inf; with every row ignored, mean gives 0 (PyTorch: NaN).
#pragma once

#include <cstdint>

#include "../core/tensor.hpp"
#include "reduction.hpp"
#include "smoothing.hpp"

namespace humble::losses {

struct CrossEntropyOptions {
  double label_smoothing = 0.0;  // ε in [0, 1]
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;  // index targets equal to it contribute nothing (may lie in [0, C));
                                // with probability targets it must stay -100
  Tensor weight = {};           // per-class weights (C); undefined = none
  SmoothingTarget smoothing_target = SmoothingTarget::AllClasses;
};

// logits: (N, C) or (N, C, d1, ..., dk), float32/float64.
// target: class indices, Int64, (N) or (N, d1, ..., dk); or class probabilities, same shape
// and dtype as logits. Returns a scalar (Mean, Sum) or per-row losses (None: (N, d1, ..., dk)).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});

// The readable path: same validation, results and gradients as cross_entropy (within rounding),
// computed row by row in double by the formulas above. Slower; what a student reads first.
Tensor cross_entropy_reference(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options = {});

// The same loss split into the parts a student wants to log. Only `loss` carries gradients;
// every part is reduced like the loss, so loss = nll_part + smoothing_part.
struct CrossEntropyParts {
  Tensor loss;            // the smoothed loss, as cross_entropy returns it
  Tensor nll_part;        // (1 − ε)·NLL
  Tensor smoothing_part;  // ε·CE(u, p)
  Tensor nll;             // the unsmoothed NLL against the targets, −log p_y (weighted)
};
CrossEntropyParts cross_entropy_parts(const Tensor& logits, const Tensor& target,
                                      const CrossEntropyOptions& options = {});

}  // namespace humble::losses
