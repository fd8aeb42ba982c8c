// nn/conv.cpp — the readable conv2d and pools (each output a plain loop over its window, forward
// beside backward), the checks they share with the fast path (nn/conv_fast.cpp), and the layers.
#include "conv.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "conv_window.hpp"
#include "init.hpp"

namespace humble::nn {

// With ceil_mode the output size rounds up, so the last window may overhang the bottom/right edge
// (but still starts inside the input or its left padding, as in PyTorch).
Window window(const char* op, const Tensor& x, int64_t channels, int64_t k, int64_t stride, int64_t padding,
              int64_t dilation, bool ceil_mode) {
  if (x.dim() != 4 || (channels >= 0 && x.shape()[1] != channels))
    throw ShapeError(str_cat("[", op, "] expected input (N, ", channels >= 0 ? std::to_string(channels) : "C",
                             ", H, W), got ", shape_str(x.shape())));
  if (!x.is_floating_point()) throw ValueError(str_cat("[", op, "] expects a float input, got int64"));
  if (k < 1 || stride < 1 || padding < 0 || dilation < 1)
    throw ValueError(str_cat("[", op, "] needs kernel_size, stride, dilation >= 1 and padding >= 0, got kernel_size ",
                             k, ", stride ", stride, ", padding ", padding, ", dilation ", dilation));
  const Shape& s = x.shape();
  const int64_t span = dilation * (k - 1) + 1;
  if (s[2] + 2 * padding < span || s[3] + 2 * padding < span)
    throw ShapeError(str_cat("[", op, "] input ", shape_str(s), " is too small for a window spanning ", span,
                             " with padding ", padding, ": expected H, W >= ", span - 2 * padding));
  const auto out_size = [&](int64_t in) {
    int64_t out = (in + 2 * padding - span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
    if (ceil_mode && (out - 1) * stride >= in + padding) --out;
    return out;
  };
  return {s[0], s[1], s[2], s[3], k, stride, padding, dilation, out_size(s[2]), out_size(s[3])};
}

Window conv_window(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
                   int64_t padding, int64_t dilation) {
  if (weight.dim() != 4 || weight.shape()[2] != weight.shape()[3])
    throw ShapeError(str_cat("[", op, "] weight must be (O, C, K, K), got ", shape_str(weight.shape())));
  const int64_t O = weight.shape()[0];
  const Window g = window(op, x, weight.shape()[1], weight.shape()[2], stride, padding, dilation);
  if (bias.defined() && bias.shape() != Shape{O})
    throw ShapeError(str_cat("[", op, "] bias is ", shape_str(bias.shape()), ", expected (", O, ",)"));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    throw ValueError(
        str_cat("[", op, "] input is ", dtype_name(x.dtype()), " but weight is ", dtype_name(weight.dtype())));
  return g;
}

Window pool_window(const char* op, const Tensor& x, int64_t k, std::optional<int64_t> stride, int64_t padding,
                   int64_t dilation, bool ceil_mode) {
  if (padding > k / 2)
    throw ValueError(str_cat("[", op, "] padding ", padding, " must be at most half the kernel size ", k));
  return window(op, x, -1, k, stride.value_or(k), padding, dilation, ceil_mode);
}

std::vector<double> pool_divisors(const Window& g, bool count_include_pad) {
  const auto extent = [&](int64_t start, int64_t size) {  // {including padding, inside the input}
    const int64_t end = std::min(start + g.k, size + g.padding);
    return std::pair{end - start, std::min(end, size) - std::max<int64_t>(start, 0)};
  };
  std::vector<double> divisors;
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const auto [padded_h, inside_h] = extent(oy * g.stride - g.padding, g.h);
      const auto [padded_w, inside_w] = extent(ox * g.stride - g.padding, g.w);
      divisors.push_back(static_cast<double>(count_include_pad ? padded_h * padded_w : inside_h * inside_w));
    }
  return divisors;
}

namespace {

// Every (output, weight, input) index triple of a convolution whose input is not padding:
// out[n, o, oy, ox] reads w[o, c, i, j] · x[n, c, row(oy, i), col(ox, j)].
template <class F>
void for_each_conv_tap(const Window& g, int64_t O, F f) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox)
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t i = 0; i < g.k; ++i)
              for (int64_t j = 0; j < g.k; ++j) {
                const int64_t y = g.row(oy, i), x = g.col(ox, j);
                if (g.inside(y, x))
                  f(((n * O + o) * g.oh + oy) * g.ow + ox, ((o * g.c + c) * g.k + i) * g.k + j,
                    ((n * g.c + c) * g.h + y) * g.w + x);
              }
}

// Every (output, input) index pair of a pool whose input is not padding, taps in row-major order:
// out[n, c, oy, ox] reads x[n, c, row(oy, i), col(ox, j)].
template <class F>
void for_each_pool_tap(const Window& g, F f) {
  for (int64_t q = 0; q < g.n * g.c; ++q)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox)
        for (int64_t i = 0; i < g.k; ++i)
          for (int64_t j = 0; j < g.k; ++j) {
            const int64_t y = g.row(oy, i), x = g.col(ox, j);
            if (g.inside(y, x)) f((q * g.oh + oy) * g.ow + ox, (q * g.h + y) * g.w + x);
          }
}

}  // namespace

// conv2d: out[n,o,oy,ox] = b[o] + Σ_{c,i,j} w[o,c,i,j]·x[n,c,oy·s−p+i·d, ox·s−p+j·d];
//         dx[n,c,y,x] = Σ w[o,c,i,j]·g[n,o,oy,ox] over the taps reading it, dw[o,c,i,j] = Σ g·x, db[o] = Σ g
Tensor conv2d_reference(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, int64_t stride,
                        int64_t padding, int64_t dilation) {
  const Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
  const Tensor bias = bias_in.defined() ? bias_in.contiguous() : bias_in;
  const Window g = conv_window("conv2d", x, weight, bias, stride, padding, dilation);
  const int64_t O = weight.shape()[0];
  Tensor out = zeros({g.n, O, g.oh, g.ow}, x.dtype());  // (N, O, OH, OW)
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    T* po = out.data<T>();
    for (int64_t e = 0; bias.defined() && e < out.numel(); ++e) po[e] = bias.data<T>()[e / (g.oh * g.ow) % O];
    for_each_conv_tap(g, O, [&](int64_t o, int64_t w, int64_t in) { po[o] += weight.data<T>()[w] * x.data<T>()[in]; });
  });
  return record("conv2d", out, {x, weight, bias}, {x, weight},
                [g, O, has_bias = bias.defined()](const Tensor& grad, const Tensors& saved) -> Tensors {
                  const Tensor &x = saved[0], &w = saved[1];
                  Tensor dx = zeros(x.shape(), x.dtype()), dw = zeros(w.shape(), w.dtype());
                  dispatch_float(grad.dtype(), "conv2d", [&]<class T>() {
                    const T* pg = grad.data<T>();
                    for_each_conv_tap(g, O, [&](int64_t o, int64_t k, int64_t in) {
                      dx.data<T>()[in] += w.data<T>()[k] * pg[o];
                      dw.data<T>()[k] += pg[o] * x.data<T>()[in];
                    });
                  });
                  return {dx, dw, has_bias ? sum(grad, {0, 2, 3}) : Tensor()};
                });
}

// max_pool2d: out[o] = x[arg[o]], arg[o] the window's first max (scanning taps in row-major order;
//             a NaN counts as larger than anything, the last one wins);  dx[arg[o]] += g[o]
Tensor max_pool2d_reference(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                            int64_t dilation, bool ceil_mode) {
  const Tensor x = x_in.contiguous();
  const Window g = pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  Tensor arg = full({g.n, g.c, g.oh, g.ow}, -1, Dtype::Int64);  // index into x of each window's max
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pa = arg.data<int64_t>();
    std::fill_n(po, out.numel(), -std::numeric_limits<T>::infinity());
    for_each_pool_tap(g, [&](int64_t o, int64_t in) {
      if (pa[o] < 0) pa[o] = in;  // the first tap, even if −inf
      if (px[in] > po[o] || std::isnan(px[in])) {
        po[o] = px[in];
        pa[o] = in;
      }
    });
  });
  return record("max_pool2d", out, {x}, [arg, shape = x.shape()](const Tensor& grad) -> Tensors {
    Tensor dx = zeros(shape, grad.dtype());
    dispatch_float(grad.dtype(), "max_pool2d", [&]<class T>() {
      for (int64_t o = 0; o < grad.numel(); ++o) dx.data<T>()[arg.data<int64_t>()[o]] += grad.data<T>()[o];
    });
    return {dx};
  });
}

// avg_pool2d: out[o] = Σ_window x / d[o];  dx[in] += g[o] / d[o] for each window tap, with d[o] the
// window's size: K² inside the padded input (pool_divisors for the exceptions)
Tensor avg_pool2d_reference(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                            bool ceil_mode, bool count_include_pad) {
  const Tensor x = x_in.contiguous();
  const Window g = pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode);
  const std::vector<double> divisor = pool_divisors(g, count_include_pad);  // (OH·OW)
  const int64_t L = g.oh * g.ow;
  Tensor out = zeros({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() {
    T* po = out.data<T>();
    for_each_pool_tap(g, [&](int64_t o, int64_t in) { po[o] += x.data<T>()[in]; });
    for (int64_t o = 0; o < out.numel(); ++o) po[o] /= static_cast<T>(divisor[o % L]);
  });
  return record("avg_pool2d", out, {x}, [g, L, divisor, shape = x.shape()](const Tensor& grad) -> Tensors {
    Tensor dx = zeros(shape, grad.dtype());
    dispatch_float(grad.dtype(), "avg_pool2d", [&]<class T>() {
      for_each_pool_tap(
          g, [&](int64_t o, int64_t in) { dx.data<T>()[in] += grad.data<T>()[o] / static_cast<T>(divisor[o % L]); });
    });
    return {dx};
  });
}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv2dOptions options, Generator& gen)
    : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size), options_(options) {
  if (in_channels < 1 || out_channels < 1 || kernel_size < 1)
    throw ValueError(str_cat("[Conv2d] channels and kernel_size must be >= 1, got ", in_channels, ", ", out_channels,
                             ", ", kernel_size));
  weight = register_parameter("weight", empty({out_channels, in_channels, kernel_size, kernel_size}));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}));
  init::default_linear(weight, bias, gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  window("Conv2d", x, in_channels_, kernel_size_, options_.stride, options_.padding, options_.dilation);
  return conv2d(x, weight, bias, options_.stride, options_.padding, options_.dilation);
}

std::string Conv2d::repr() const {
  return str_cat("Conv2d(", in_channels_, ", ", out_channels_, ", k=", kernel_size_, ", s=", options_.stride,
                 ", p=", options_.padding, ", d=", options_.dilation, options_.bias ? ")" : ", bias=false)");
}

Pool2d::Pool2d(std::string repr, std::function<Tensor(const Tensor&)> pool)
    : repr_(std::move(repr)), pool_(std::move(pool)) {}

Tensor Pool2d::forward(const Tensor& x) { return pool_(x); }

std::string Pool2d::repr() const { return repr_; }

MaxPool2d::MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride, int64_t padding, int64_t dilation,
                     bool ceil_mode)
    : Pool2d(str_cat("MaxPool2d(k=", kernel_size, ", s=", stride.value_or(kernel_size), ", p=", padding,
                     dilation != 1 ? str_cat(", d=", dilation) : "", ceil_mode ? ", ceil_mode" : "", ")"),
             [=](const Tensor& x) {
               pool_window("MaxPool2d", x, kernel_size, stride, padding, dilation, ceil_mode);  // errors name the layer
               return max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
             }) {}

AvgPool2d::AvgPool2d(int64_t kernel_size, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                     bool count_include_pad)
    : Pool2d(str_cat("AvgPool2d(k=", kernel_size, ", s=", stride.value_or(kernel_size), ", p=", padding,
                     ceil_mode ? ", ceil_mode" : "", count_include_pad ? "" : ", count_include_pad=false", ")"),
             [=](const Tensor& x) {
               pool_window("AvgPool2d", x, kernel_size, stride, padding, 1, ceil_mode);  // errors name the layer
               return avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad);
             }) {}

}  // namespace humble::nn
