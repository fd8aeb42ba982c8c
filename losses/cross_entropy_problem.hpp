// losses/cross_entropy_problem.hpp — what validation hands to the cross-entropy node's two paths.
//
// cross_entropy.cpp validates logits, target and options once (the same checks for both paths)
// into a Problem, then computes the loss by the reference path (readable loops over rows and
// classes, the specification) or by the fast kernel (cross_entropy_fast.cpp), whose interface is
// declared here. Legend: R rows (positions n of (N, d1, …, dk)), C classes, `stride` the distance
// between two classes of a row in the logits (1 for (N, C), d1⋯dk otherwise).
#pragma once

#include <cstdint>
#include <vector>

#include "../core/tensor.hpp"
#include "cross_entropy.hpp"

namespace humble::losses::detail {

struct Problem {
  int64_t rows = 0, classes = 0, stride = 1;
  double eps = 0;
  SmoothingTarget convention = SmoothingTarget::AllClasses;
  Reduction reduction = Reduction::Mean;
  bool soft = false;                // probability targets
  const int64_t* labels = nullptr;  // (R) class indices, checked, when !soft
  int64_t ignore_index = -100;
  std::vector<double> weight;  // (C); empty = all ones
  double denominator = 0;      // of the mean: Σ_n w_{y_n} over the kept rows (indices), R (probabilities)

  int64_t offset(int64_t row) const {  // of the row's first class
    return stride == 1 ? row * classes : (row / stride) * classes * stride + row % stride;
  }
  bool ignored(int64_t row) const { return !soft && labels[row] == ignore_index; }
  double w(int64_t c) const { return weight.empty() ? 1.0 : weight[c]; }
  // dL/dloss_n of every row under a Sum or Mean reduction, from the gradient g of the scalar loss.
  double reduced_scale(double g) const {
    if (reduction == Reduction::Sum) return g;
    return denominator > 0 ? g / denominator : 0.0;  // a mean over nothing is 0, and so is its gradient
  }
};

// A kept row that cannot be computed: one of its logits is NaN or +inf, or its class index is
// ruled out (its logit is −inf: nothing to learn). Both paths find the first such row, in row
// order, as they read the rows, and throw this ValueError for it (naming the first NaN/+inf logit
// of the row in class order, else the target).
[[noreturn]] void throw_bad_row(const Problem& p, const Tensor& logits, int64_t row);

// The fast kernel's per-row results: columns of one float64 buffer, R rounded up to a whole group of
// 8 rows (zeros there and for ignored rows). The backward reuses them.
struct FastForward {
  Tensor buffer;
  double* max = nullptr;              // m = max_c z_c
  double* log_sum = nullptr;          // ls = log Σ exp(z − m), so lse = m + ls
  double* target_weight = nullptr;    // S = Σ w q′, the scale of p in the gradient
  double* eps = nullptr;              // ε as applied (0 when nothing is left to smooth onto)
  double* smoothing_q = nullptr;      // ε·u on a remaining class other than the target: ε/C′ or ε/(C′ − 1)
  double* target_gradient = nullptr;  // S·p_y − w_y·q′_y, the target class's gradient before scale (indices)
  double* loss = nullptr;             // (1 − ε)·NLL_n + ε·CE(u, p)_n
  double* nll = nullptr;              // NLL_n, weighted (with parts only, else null)
  double* smoothing = nullptr;        // CE(u, p)_n, weighted (with parts only, else null)
  std::vector<uint8_t> all_remain;    // per row: no class is ruled out (no logit is −inf)
  std::vector<uint8_t> plain;         // per group of 8 short rows: the usual case (they share S, ε, ε·u)
  std::vector<double> weight;         // (C) then zeros, so that whole vectors are readable; empty = none
  std::vector<double> chunk_loss;     // per chunk of rows, the sum of their losses in row order

  FastForward(const Problem& p, bool with_parts);
};

FastForward fast_forward(const Problem& p, const Tensor& logits, const Tensor& target, bool with_parts);
Tensor fast_backward(const Problem& p, const FastForward& saved, const Tensor& logits, const Tensor& target,
                     const Tensor& grad_output);

}  // namespace humble::losses::detail
