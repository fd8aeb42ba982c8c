// nn/conv.hpp — 2-D convolution and pooling: the differentiable ops and their layers.
//
// Legend: N batch, C/O input/output channels, H×W input, K×K kernel (square), OH×OW output,
// L = OH·OW output positions, s stride, p zero padding, d dilation:
//   OH = ⌊(H + 2p − d(K − 1) − 1) / s⌋ + 1  (likewise OW; rounded up with a pool's ceil_mode).
// Each op comes twice, with the same validation, results (within rounding) and gradients:
//   - the readable path (conv.cpp), *_reference: every output a plain loop over its window's taps,
//     forward and backward side by side; the specification the fast path is tested against;
//   - the fast path (conv_fast.cpp), what the layers use. conv2d is im2col + GEMM in tiles of
//     whole images: each tile's column matrix (C·K·K, T·L) is built small enough to stay in a core's
//     L2 cache (½ MiB) and goes through its GEMM at once, W (O, C·K·K) @ cols, one task per tile;
//     the backward rebuilds it tile by tile for dW = g @ colsᵀ (summed over tiles in order) and
//     dcols = Wᵀ @ g, folded back by col2im. The batch's column matrix is never stored whole: it
//     would be C·K·K times the input, and reading it back from memory cost more than the GEMM.
//     The pools work row by row, each window tap one strided pass over an output row (vectorised;
//     the 2×2 window with stride 2 in one pass), in parallel over planes.
// AvgPool2d counts padding zeros by default (PyTorch's count_include_pad = true); MaxPool2d pads
// with −inf and sends a window's gradient to its first max, a NaN counting as the max (so a NaN
// in the window is the output, as in PyTorch).
// References: Chellapilla et al., "High Performance Convolutional Neural Networks for Document
// Processing" (2006) for im2col; torch.nn.Conv2d/MaxPool2d/AvgPool2d for semantics.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "../core/generator.hpp"
#include "module.hpp"

namespace humble::nn {

// x (N, C, H, W), weight (O, C, K, K), bias (O) or undefined → (N, O, OH, OW)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1, int64_t padding = 0,
              int64_t dilation = 1);
// x (N, C, H, W) → (N, C, OH, OW), PyTorch's arguments in PyTorch's order: stride defaults to the
// kernel size; padding <= K/2; ceil_mode rounds OH, OW up (a last window may overhang the edge).
// max_pool2d may dilate its window; avg_pool2d divides by the window's size counting padding
// (count_include_pad) or not, the part of a window past the padding never counting.
Tensor max_pool2d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0,
                  int64_t dilation = 1, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);

// The readable path: same arguments, validation, results (within rounding) and gradients.
Tensor conv2d_reference(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1,
                        int64_t padding = 0, int64_t dilation = 1);
Tensor max_pool2d_reference(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = {},
                            int64_t padding = 0, int64_t dilation = 1, bool ceil_mode = false);
Tensor avg_pool2d_reference(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride = {},
                            int64_t padding = 0, bool ceil_mode = false, bool count_include_pad = true);

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  bool bias = true;
};

// Initialised like PyTorch: weight U(±1/√(C·K·K)), bias likewise.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv2dOptions options = {},
         Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;  // (N, C, H, W) → (N, O, OH, OW)
  std::string repr() const override;

  Tensor weight;  // (O, C, K, K)
  Tensor bias;    // (O); undefined without bias

 private:
  int64_t in_channels_, out_channels_, kernel_size_;
  Conv2dOptions options_;
};

// The pooling layers: a module applying one pooling function with fixed arguments.
class Pool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string repr() const override;

 protected:
  Pool2d(std::string repr, std::function<Tensor(const Tensor&)> pool);

 private:
  std::string repr_;
  std::function<Tensor(const Tensor&)> pool_;
};
class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0, int64_t dilation = 1,
                     bool ceil_mode = false);
};
class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(int64_t kernel_size, std::optional<int64_t> stride = {}, int64_t padding = 0,
                     bool ceil_mode = false, bool count_include_pad = true);
};

}  // namespace humble::nn
