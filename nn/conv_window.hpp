// nn/conv_window.hpp — the geometry shared by convolution and pooling, and their argument checks.
//
// Legend (nn/conv.hpp): N batch, C channels, H×W input, K×K window, OH×OW output, s stride, p zero
// padding, d dilation. Window tap (i, j) of output (oy, ox) reads input row oy·s − p + i·d and
// column ox·s − p + j·d, which may fall in the padding. The readable ops (conv.cpp) and the fast
// ones (conv_fast.cpp) validate through the same functions, so they fail alike.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/tensor.hpp"

namespace humble::nn {

struct Window {
  int64_t n, c, h, w, k, stride, padding, dilation, oh, ow;
  int64_t row(int64_t oy, int64_t i) const { return oy * stride - padding + i * dilation; }  // may be padding
  int64_t col(int64_t ox, int64_t j) const { return ox * stride - padding + j * dilation; }
  bool inside(int64_t y, int64_t x) const { return 0 <= y && y < h && 0 <= x && x < w; }
  // Outputs ox whose tap at column offset `offset` (= j·d − p) lands inside the input:
  // [first_inside, end_inside), i.e. 0 <= ox·s + offset < W.
  int64_t first_inside(int64_t offset) const { return offset >= 0 ? 0 : std::min(ow, (-offset + stride - 1) / stride); }
  int64_t end_inside(int64_t offset) const {
    return w - 1 - offset < 0 ? 0 : std::max(first_inside(offset), std::min(ow, (w - 1 - offset) / stride + 1));
  }
  int64_t grain(int64_t work_per_item) const {
    return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(work_per_item, 1));
  }
};

// Validates a convolution's input (N, C, H, W), weight (O, C, K, K), bias (O) or undefined, and
// hyperparameters; `op` names the caller in errors.
Window conv_window(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
                   int64_t padding, int64_t dilation);
// Validates x (N, C, H, W) (any C when channels < 0) and a window's hyperparameters.
Window window(const char* op, const Tensor& x, int64_t channels, int64_t k, int64_t stride, int64_t padding,
              int64_t dilation, bool ceil_mode = false);
// A pool's window: stride defaults to the kernel size, padding at most half of it.
Window pool_window(const char* op, const Tensor& x, int64_t k, std::optional<int64_t> stride, int64_t padding,
                   int64_t dilation, bool ceil_mode);
// What avg_pool2d divides each output position's sum by (the same for every plane), as PyTorch:
// the window clipped to the padded input, or, without count_include_pad, to the input itself. (OH·OW)
std::vector<double> pool_divisors(const Window& g, bool count_include_pad);

}  // namespace humble::nn
