// nn/conv.cpp — conv2d (im2col + GEMM) and the pools, each forward beside its backward; their layers.
#include "conv.hpp"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/blas.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/parallel.hpp"
#include "init.hpp"

namespace humble::nn {
namespace {

// A K×K window sliding over x (N, C, H, W) with output OH×OW.
struct Window {
  int64_t n, c, h, w, k, stride, padding, dilation, oh, ow;
  int64_t row(int64_t oy, int64_t i) const { return oy * stride - padding + i * dilation; }  // may be padding
  int64_t col(int64_t ox, int64_t j) const { return ox * stride - padding + j * dilation; }
  bool inside(int64_t y, int64_t x) const { return 0 <= y && y < h && 0 <= x && x < w; }
  int64_t grain(int64_t work_per_item) const {
    return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(work_per_item, 1));
  }
};

// Validates x and the window's hyperparameters; channels < 0 accepts any channel count. With
// ceil_mode the output size rounds up, so the last window may overhang the bottom/right edge
// (but still starts inside the input or its left padding, as in PyTorch).
Window window(const char* op, const Tensor& x, int64_t channels, int64_t k, int64_t stride, int64_t padding,
              int64_t dilation, bool ceil_mode = false) {
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

// Every (column-matrix entry, input entry) pair of one image, in the column matrix's row-major
// order: cols[(c·K + i)·K + j, oy·OW + ox] ↔ x[c, row(oy, i), col(ox, j)] (input index −1 in the padding).
template <class F>
void for_each_tap(const Window& g, F f) {
  int64_t entry = 0;
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t i = 0; i < g.k; ++i)
      for (int64_t j = 0; j < g.k; ++j)
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox, ++entry) {
            const int64_t y = g.row(oy, i), x = g.col(ox, j);
            f(entry, g.inside(y, x) ? (c * g.h + y) * g.w + x : -1);
          }
}

// Every (output position, input position) pair of one pooling plane whose input is not padding.
template <class F>
void for_each_pool_tap(const Window& g, F f) {
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox)
      for (int64_t i = 0; i < g.k; ++i)
        for (int64_t j = 0; j < g.k; ++j) {
          const int64_t y = g.row(oy, i), x = g.col(ox, j);
          if (g.inside(y, x)) f(oy * g.ow + ox, y * g.w + x);
        }
}

Window pool_window(const char* op, const Tensor& x, int64_t k, std::optional<int64_t> stride, int64_t padding,
                   int64_t dilation, bool ceil_mode) {
  if (padding > k / 2)
    throw ValueError(str_cat("[", op, "] padding ", padding, " must be at most half the kernel size ", k));
  return window(op, x, -1, k, stride.value_or(k), padding, dilation, ceil_mode);
}

// What avg_pool2d divides each output position's sum by (the same for every plane), as PyTorch:
// the window clipped to the padded input, or, without count_include_pad, to the input itself.
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

}  // namespace

// conv2d: out[n] = W (O, C·K·K) @ im2col(x[n]) (C·K·K, L) + b;
//         dW = Σ_n g[n] @ im2col(x[n])ᵀ, dx[n] = col2im(Wᵀ @ g[n]), db = Σ_{n,l} g[n, :, l]
Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t dilation) {
  const Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
  if (weight.dim() != 4 || weight.shape()[2] != weight.shape()[3])
    throw ShapeError(str_cat("[conv2d] weight must be (O, C, K, K), got ", shape_str(weight.shape())));
  const int64_t O = weight.shape()[0], k = weight.shape()[2];
  const Window g = window("conv2d", x, weight.shape()[1], k, stride, padding, dilation);
  if (bias.defined() && bias.shape() != Shape{O})
    throw ShapeError(str_cat("[conv2d] bias is ", shape_str(bias.shape()), ", expected (", O, ",)"));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
    throw ValueError(
        str_cat("[conv2d] input is ", dtype_name(x.dtype()), " but weight is ", dtype_name(weight.dtype())));
  const int64_t rows = g.c * k * k, L = g.oh * g.ow, image = g.c * g.h * g.w;
  Tensor cols = empty({g.n, rows, L}, x.dtype());       // (N, C·K·K, L)
  Tensor out = empty({g.n, O, g.oh, g.ow}, x.dtype());  // (N, O, OH, OW)
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    const T* px = x.data<T>();
    T *pc = cols.data<T>(), *po = out.data<T>();
    parallel_for(g.n, g.grain(rows * L), [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        const T* xn = px + n * image;
        T* cn = pc + n * rows * L;
        for_each_tap(g, [&](int64_t e, int64_t in) { cn[e] = in >= 0 ? xn[in] : T{0}; });
        for (int64_t o = 0; bias.defined() && o < O; ++o) std::fill_n(po + (n * O + o) * L, L, bias.data<T>()[o]);
      }
    });
    for (int64_t n = 0; n < g.n; ++n)
      blas::gemm<T>(false, false, O, L, rows, T{1}, weight.data<T>(), rows, pc + n * rows * L, L,
                    bias.defined() ? T{1} : T{0}, po + n * O * L, L);
  });
  return record("conv2d", out, {x, weight, bias}, {weight},
                [g, O, rows, L, image, cols, need_x = x.requires_grad(), need_w = weight.requires_grad(),
                 has_bias = bias.defined()](const Tensor& grad, const Tensors& saved) -> Tensors {
                  const Tensor& w = saved[0];
                  Tensor dx, dw;
                  dispatch_float(grad.dtype(), "conv2d", [&]<class T>() {
                    const T* pg = grad.data<T>();
                    if (need_w) {
                      dw = empty(w.shape(), w.dtype());  // (O, C, K, K)
                      for (int64_t n = 0; n < g.n; ++n)
                        blas::gemm<T>(false, true, O, rows, L, T{1}, pg + n * O * L, L, cols.data<T>() + n * rows * L,
                                      L, n == 0 ? T{0} : T{1}, dw.data<T>(), rows);
                    }
                    if (!need_x) return;
                    Tensor dcols = empty({g.n, rows, L}, grad.dtype());  // (N, C·K·K, L)
                    T* pd = dcols.data<T>();
                    for (int64_t n = 0; n < g.n; ++n)
                      blas::gemm<T>(true, false, rows, L, O, T{1}, w.data<T>(), rows, pg + n * O * L, L, T{0},
                                    pd + n * rows * L, L);
                    dx = zeros({g.n, g.c, g.h, g.w}, grad.dtype());
                    T* pdx = dx.data<T>();
                    parallel_for(g.n, g.grain(rows * L), [&](int64_t lo, int64_t hi) {
                      for (int64_t n = lo; n < hi; ++n) {
                        const T* dn = pd + n * rows * L;
                        T* xn = pdx + n * image;
                        for_each_tap(g, [&](int64_t e, int64_t in) {
                          if (in >= 0) xn[in] += dn[e];
                        });
                      }
                    });
                  });
                  return {dx, dw, has_bias ? sum(grad, {0, 2, 3}) : Tensor()};
                });
}

// max_pool2d: out[o] = max over the window of x = x[arg[o]];  dx[arg[o]] += g[o]
Tensor max_pool2d(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  int64_t dilation, bool ceil_mode) {
  const Tensor x = x_in.contiguous();
  const Window g = pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  Tensor arg = full({g.n, g.c, g.oh, g.ow}, -1, Dtype::Int64);  // index of the max within its plane
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; ++q) {
        const T* xq = x.data<T>() + q * plane;
        int64_t* aq = arg.data<int64_t>() + q * L;
        for_each_pool_tap(g, [&](int64_t o, int64_t in) {
          if (aq[o] < 0 || xq[in] > xq[aq[o]]) aq[o] = in;
        });
        for (int64_t o = 0; o < L; ++o) out.data<T>()[q * L + o] = xq[aq[o]];
      }
    });
  });
  return record("max_pool2d", out, {x}, [g, arg, planes, plane, L](const Tensor& grad) -> Tensors {
    Tensor dx = zeros({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "max_pool2d", [&]<class T>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q)
          for (int64_t o = 0; o < L; ++o)
            dx.data<T>()[q * plane + arg.data<int64_t>()[q * L + o]] += grad.data<T>()[q * L + o];
      });
    });
    return {dx};
  });
}

// avg_pool2d: out[o] = Σ_window x / d[o];  dx[in] += g[o] / d[o] for each window tap, with d[o] the
// window's size: K² inside the padded input (pool_divisors for the exceptions)
Tensor avg_pool2d(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  bool ceil_mode, bool count_include_pad) {
  const Tensor x = x_in.contiguous();
  const Window g = pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  const std::vector<double> divisor = pool_divisors(g, count_include_pad);  // (L)
  Tensor out = zeros({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() {
    parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; ++q) {
        T* oq = out.data<T>() + q * L;
        for_each_pool_tap(g, [&](int64_t o, int64_t in) { oq[o] += x.data<T>()[q * plane + in]; });
        for (int64_t o = 0; o < L; ++o) oq[o] /= static_cast<T>(divisor[o]);
      }
    });
  });
  return record("avg_pool2d", out, {x}, [g, planes, plane, L, divisor](const Tensor& grad) -> Tensors {
    Tensor dx = zeros({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "avg_pool2d", [&]<class T>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q)
          for_each_pool_tap(g, [&](int64_t o, int64_t in) {
            dx.data<T>()[q * plane + in] += grad.data<T>()[q * L + o] / static_cast<T>(divisor[o]);
          });
      });
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
