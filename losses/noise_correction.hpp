// losses/noise_correction.hpp — cross-entropy corrected for known label noise (forward correction).
//
// When each observed label ỹ is the clean label y passed through a noise process with transition
// matrix T (T_ij = P(ỹ = j | y = i), rows summing to 1), a model whose softmax p = softmax(z)
// estimates the clean class predicts the noisy label with p̃ = Tᵀp. Forward correction (Patrini
// et al. 2017, "Making Deep Neural Networks Robust to Label Noise: a Loss Correction Approach",
// arXiv:1609.03683, §3.1) therefore trains on the noisy labels with
//     loss = −log p̃_ỹ = −log Σ_i p_i·T_{i,ỹ}
// and keeps p itself as the clean prediction. It is computed from the logits as a difference of
// two log-sum-exps, each max-shifted, so no term overflows and a saturated softmax never gives log 0:
//     loss = log Σ_i exp(z_i) − log Σ_i T_{i,ỹ}·exp(z_i)
// and its gradient is ∂loss/∂z_c = p_c − r_c with r_c = p_c·T_{c,ỹ} / p̃_ỹ, the posterior of the
// clean class given the noisy label (one node, in double: noise_correction.cpp says why). With T = I it is
// cross-entropy. Lukasik et al. 2020 ("Does label smoothing mitigate label noise?", arXiv:2003.02819) compare label
// smoothing against it.
//
// Dimensions: N rows, C classes. logits (N, C) float32/float64; target Int64 (N) in [0, C);
// transition (C, C) of the logits' dtype, finite entries in [0, 1], rows summing to 1 (within
// 1e-6), no all-zero column. The transition matrix receives no gradient.
#pragma once

#include <cstdint>

#include "../core/tensor.hpp"
#include "reduction.hpp"

namespace humble::losses {

struct ForwardCorrectionOptions {
  Reduction reduction = Reduction::Mean;  // None keeps one value per row (N)
};
Tensor forward_corrected_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& transition,
                                       const ForwardCorrectionOptions& options = {});

// T of symmetric noise at `rate` (data/noise.hpp): 1 − rate on the diagonal, rate/(C − 1) elsewhere.
Tensor symmetric_noise_transition(int64_t num_classes, double rate, Dtype dtype = Dtype::Float32);

}  // namespace humble::losses
