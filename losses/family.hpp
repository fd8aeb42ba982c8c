// losses/family.hpp — the relatives of label-smoothed cross-entropy, in the same option style.
//
// Each takes logits (never probabilities) and is built to stay finite:
//   binary_cross_entropy_with_logits  y′ = y(1 − ε) + ε/2 (Keras-style smoothing);
//       loss = w·[(1 − y′)·x + (1 + (pw − 1)·y′)·softplus(−x)]            (PyTorch's formula)
//   confidence_penalty   CE(z, y) − β·H(softmax z)     (Pereyra et al. 2017, https://arxiv.org/abs/1701.06548)
//   focal_loss           −α_y·(1 − p_y)^γ·log p_y       (Lin et al. 2017, https://arxiv.org/abs/1708.02002)
//   kl_div               Σ t·(log t − input) for log-probability input (0 where t = 0), and
//   distillation_loss    T²·KL(softmax(teacher/T) ‖ softmax(student/T))  (Hinton et al. 2015)
//   mse_loss             (x − y)²
// Reductions: None keeps per-element (per-row for the multi-class losses) values; Mean averages
// them (kl_div and distillation: over rows, PyTorch's "batchmean", the true per-example KL).
#pragma once

#include "../core/tensor.hpp"
#include "reduction.hpp"

namespace humble::losses {

struct BinaryCrossEntropyOptions {
  double label_smoothing = 0.0;  // ε in [0, 1]
  Reduction reduction = Reduction::Mean;
  Tensor pos_weight = {};  // broadcast against the last dim; undefined = 1
  Tensor weight = {};      // broadcast against the input; undefined = 1
};
// logits and target (probabilities in [0, 1]) of one shape and float dtype.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyOptions& options = {});

struct ConfidencePenaltyOptions {
  double beta = 0.1;  // weight of the entropy bonus, >= 0
  Reduction reduction = Reduction::Mean;
};
// logits (N, C), target Int64 (N).
Tensor confidence_penalty(const Tensor& logits, const Tensor& target, const ConfidencePenaltyOptions& options = {});

struct FocalLossOptions {
  double gamma = 2.0;  // focusing parameter, >= 0 (0 gives cross-entropy)
  Tensor alpha = {};   // per-class weights (C); undefined = 1
  Reduction reduction = Reduction::Mean;
};
// logits (N, C), target Int64 (N).
Tensor focal_loss(const Tensor& logits, const Tensor& target, const FocalLossOptions& options = {});

struct KlDivOptions {
  Reduction reduction = Reduction::Mean;  // Mean = sum over everything / N (batchmean)
  bool log_target = false;                // target given as log-probabilities
};
// input: log-probabilities (N, ...); target: probabilities (or log-probabilities), same shape.
Tensor kl_div(const Tensor& input, const Tensor& target, const KlDivOptions& options = {});

// Knowledge distillation: T²·KL(softmax(teacher/T) ‖ softmax(student/T)), batchmean; logits (N, C).
// The teacher receives no gradient.
Tensor distillation_loss(const Tensor& student_logits, const Tensor& teacher_logits, double temperature);

struct MseLossOptions {
  Reduction reduction = Reduction::Mean;
};
// input and target of one shape and float dtype.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MseLossOptions& options = {});

}  // namespace humble::losses
