// nn/conv_fast.cpp — the fast conv2d and pools the layers use (contract in nn/conv.hpp), each
// tested against its readable twin in conv.cpp (tests/test_conv.cpp).
//
// Legend as nn/conv.hpp, plus R = C·K·K rows of the column matrix and NL = N·L its columns.
// Every parallel loop writes each output from one task (a row of the column matrix for one image,
// an output or input plane), and GEMMs are cut by shape alone: the same bits on any thread count.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/blas.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/parallel.hpp"
#include "conv.hpp"
#include "conv_window.hpp"

namespace humble::nn {
namespace {

// Without a graph the column matrix is built for this many elements at most (16 MiB of float32)
// at a time, in chunks of whole images.
constexpr int64_t kColumnBudget = int64_t{1} << 22;

// One output row's taps at column offset `offset` (= j·d − p): dst[ox] = src[ox·s + offset] for
// the ox that land inside the input, 0 for the others.
template <class T>
void gather_row(const Window& g, const T* src, int64_t offset, T* dst) {
  const int64_t lo = g.first_inside(offset), hi = g.end_inside(offset);
  std::fill(dst, dst + lo, T{0});
  if (g.stride == 1)
    std::copy(src + lo + offset, src + hi + offset, dst + lo);
  else
    for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.stride + offset];
  std::fill(dst + hi, dst + g.ow, T{0});
}

// im2col for images [n0, n1): cols[(c·K + i)·K + j, n − n0, oy·OW + ox] = x[n, c, row(oy, i), col(ox, j)]
// (0 in the padding); (R, n1 − n0, L), each (row, image) pair a task.
template <class T>
void im2col(const Window& g, const T* x, int64_t n0, int64_t n1, T* cols) {
  const int64_t R = g.c * g.k * g.k, L = g.oh * g.ow, images = n1 - n0;
  parallel_for(images * R, g.grain(L), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t n = t / R, r = t % R, c = r / (g.k * g.k), i = r / g.k % g.k, j = r % g.k;
      const T* plane = x + ((n0 + n) * g.c + c) * g.h * g.w;
      T* dst = cols + (r * images + n) * L;
      for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
        const int64_t y = g.row(oy, i);
        if (y < 0 || y >= g.h)
          std::fill_n(dst, g.ow, T{0});
        else
          gather_row(g, plane + y * g.w, j * g.dilation - g.padding, dst);
      }
    }
  });
}

// col2im: dx[n, c, y, x] = Σ of dcols over the taps that read x[n, c, y, x]; dcols (R, N, L), each
// input plane a task, its taps added in (i, j, oy, ox) order.
template <class T>
void col2im(const Window& g, const T* dcols, T* dx) {
  const int64_t L = g.oh * g.ow, plane = g.h * g.w;
  parallel_for(g.n * g.c, g.grain(plane * g.k * g.k), [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t n = q / g.c, c = q % g.c;
      T* out = dx + q * plane;
      std::fill_n(out, plane, T{0});
      for (int64_t i = 0; i < g.k; ++i)
        for (int64_t j = 0; j < g.k; ++j) {
          const T* src = dcols + (((c * g.k + i) * g.k + j) * g.n + n) * L;
          const int64_t offset = j * g.dilation - g.padding, x0 = g.first_inside(offset), x1 = g.end_inside(offset);
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const int64_t y = g.row(oy, i);
            if (y < 0 || y >= g.h) continue;
            T* row = out + y * g.w;
            const T* s = src + oy * g.ow;
            for (int64_t ox = x0; ox < x1; ++ox) row[ox * g.stride + offset] += s[ox];
          }
        }
    }
  });
}

// The GEMM's (O, images·L) result into out (N, O, L) from image n0 on, plus the bias.
template <class T>
void place_outputs(const T* products, int64_t O, int64_t L, int64_t n0, int64_t images, const T* bias, T* out) {
  parallel_for(images * O, std::max<int64_t>(1, kElementwiseGrain / L), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t n = t / O, o = t % O;
      const T* src = products + (o * images + n) * L;
      T* dst = out + ((n0 + n) * O + o) * L;
      const T b = bias ? bias[o] : T{0};
      for (int64_t l = 0; l < L; ++l) dst[l] = src[l] + b;
    }
  });
}

// g (N, O, L) as (O, N·L): the layout the backward GEMMs take it in.
template <class T>
void gather_gradient(const T* grad, int64_t N, int64_t O, int64_t L, T* out) {
  parallel_for(N * O, std::max<int64_t>(1, kElementwiseGrain / L), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / N, n = t % N;
      std::copy_n(grad + (n * O + o) * L, L, out + (o * N + n) * L);
    }
  });
}

}  // namespace

// conv2d: cols = im2col(x) (R, N·L);  out = W (O, R) @ cols + b, as (N, O, L);
//         dW = g (O, N·L) @ colsᵀ,  dx = col2im(Wᵀ @ g),  db = Σ_{n,l} g[n, :, l]
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t dilation) {
  const Window g = conv_window("conv2d", x, weight, bias, stride, padding, dilation);
  const int64_t O = weight.shape()[0], R = g.c * g.k * g.k, L = g.oh * g.ow;
  const bool keep = needs_graph({&x, &weight, &bias});  // the backward needs the column matrix
  const int64_t chunk = keep ? g.n : std::clamp<int64_t>(kColumnBudget / (R * L), 1, g.n);
  Tensor out = empty({g.n, O, g.oh, g.ow}, x.dtype());  // (N, O, OH, OW)
  Tensor cols = empty({R, chunk * L}, x.dtype());       // (R, chunk·L)
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    Tensor products = empty({O, chunk * L}, x.dtype());  // (O, chunk·L)
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t images = std::min(chunk, g.n - n0);
      im2col(g, x.data<T>(), n0, n0 + images, cols.data<T>());
      blas::gemm<T>(false, false, O, images * L, R, T{1}, weight.data<T>(), R, cols.data<T>(), images * L, T{0},
                    products.data<T>(), images * L);
      place_outputs(products.data<T>(), O, L, n0, images, bias.defined() ? bias.data<T>() : nullptr, out.data<T>());
    }
  });
  return record("conv2d", out, {x, weight, bias},
                [g, O, R, L, cols, w = weight.detach(), need_x = x.requires_grad(), need_w = weight.requires_grad(),
                 has_bias = bias.defined()](const Tensor& grad) -> Tensors {
                  const int64_t NL = g.n * L;
                  Tensor dx, dw, g_rows = empty({O, NL}, grad.dtype());  // g as (O, N·L)
                  dispatch_float(grad.dtype(), "conv2d", [&]<class T>() {
                    gather_gradient(grad.data<T>(), g.n, O, L, g_rows.data<T>());
                    if (need_w) {
                      dw = empty(w.shape(), w.dtype());  // (O, C, K, K)
                      blas::gemm<T>(false, true, O, R, NL, T{1}, g_rows.data<T>(), NL, cols.data<T>(), NL, T{0},
                                    dw.data<T>(), R);
                    }
                    if (need_x) {
                      Tensor dcols = empty({R, NL}, grad.dtype());  // (R, N·L)
                      blas::gemm<T>(true, false, R, NL, O, T{1}, w.data<T>(), R, g_rows.data<T>(), NL, T{0},
                                    dcols.data<T>(), NL);
                      dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
                      col2im(g, dcols.data<T>(), dx.data<T>());
                    }
                  });
                  return {dx, dw, has_bias ? sum(grad, {0, 2, 3}) : Tensor()};
                });
}

namespace {

// Output columns' first tap inside the input: x0[ox] = col(ox, j0) for the first such j. (OW)
std::vector<int64_t> first_columns(const Window& g) {
  std::vector<int64_t> first(static_cast<std::size_t>(g.ow));
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    int64_t j = 0;
    while (j + 1 < g.k && g.col(ox, j) < 0) ++j;
    first[ox] = g.col(ox, j);
  }
  return first;
}

// One tap of one output row of a max pool: for the ox inside the input, v = src[ox·s + offset]
// replaces the running max when larger, or NaN; arg records its index base + ox·s.
template <class T>
void max_tap(int32_t count, const T* src, int32_t stride, int32_t base, T* max, int32_t* arg) {
  for (int32_t ox = 0; ox < count; ++ox) {
    const T v = src[ox * stride];
    const bool take = v > max[ox] || v != v;
    max[ox] = take ? v : max[ox];
    arg[ox] = take ? base + ox * stride : arg[ox];
  }
}

}  // namespace

// max_pool2d: out[o] = x[arg[o]], arg[o] the window's first max in row-major tap order (a NaN
//             counting as the largest, the last one winning);  dx[arg[o]] += g[o]
Tensor max_pool2d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  int64_t dilation, bool ceil_mode) {
  const Window g = pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  if (plane > std::numeric_limits<int32_t>::max())
    throw ValueError(str_cat("[max_pool2d] input planes of up to 2^31 elements are supported, got ", g.h, " × ", g.w));
  const std::vector<int64_t> x0 = first_columns(g);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  auto arg = std::make_shared<std::vector<int32_t>>(static_cast<std::size_t>(planes * L));  // within each plane
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; ++q)
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          T* max = out.data<T>() + q * L + oy * g.ow;
          int32_t* a = arg->data() + q * L + oy * g.ow;
          int64_t i0 = 0;
          while (i0 + 1 < g.k && g.row(oy, i0) < 0) ++i0;
          std::fill_n(max, g.ow, -std::numeric_limits<T>::infinity());
          for (int64_t ox = 0; ox < g.ow; ++ox) a[ox] = static_cast<int32_t>(g.row(oy, i0) * g.w + x0[ox]);
          for (int64_t i = i0; i < g.k; ++i) {
            const int64_t y = g.row(oy, i);
            if (y >= g.h) break;
            for (int64_t j = 0; j < g.k; ++j) {
              const int64_t offset = j * g.dilation - g.padding, first = g.first_inside(offset);
              const int64_t start = first * g.stride + offset;  // its input column
              max_tap(static_cast<int32_t>(g.end_inside(offset) - first),
                      x.data<T>() + q * plane + y * g.w + start, static_cast<int32_t>(g.stride),
                      static_cast<int32_t>(y * g.w + start), max + first, a + first);
            }
          }
        }
    });
  });
  return record("max_pool2d", out, {x}, [g, arg, planes, plane, L](const Tensor& grad) -> Tensors {
    Tensor dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "max_pool2d", [&]<class T>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q) {
          T* d = dx.data<T>() + q * plane;
          const T* gq = grad.data<T>() + q * L;
          const int32_t* a = arg->data() + q * L;
          std::fill_n(d, plane, T{0});
          for (int64_t o = 0; o < L; ++o) d[a[o]] += gq[o];
        }
      });
    });
    return {dx};
  });
}

// avg_pool2d: out[o] = Σ_window x / d[o];  dx[in] += g[o] / d[o] for each window tap, with d[o] the
// window's size (pool_divisors); taps summed in row-major order, as the readable path does
Tensor avg_pool2d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                  bool count_include_pad) {
  const Window g = pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  const std::vector<double> divisor = pool_divisors(g, count_include_pad);  // (L)
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  // Each valid tap (i, j) of output row oy: fn(y, offset, first, end) for input row y, column offset
  // j − p and the outputs [first, end) it reaches.
  const auto for_each_row_tap = [g](int64_t oy, auto fn) {
    for (int64_t i = 0; i < g.k; ++i) {
      const int64_t y = g.row(oy, i);
      if (y < 0 || y >= g.h) continue;
      for (int64_t j = 0; j < g.k; ++j) {
        const int64_t offset = j - g.padding;
        fn(y, offset, g.first_inside(offset), g.end_inside(offset));
      }
    }
  };
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() {
    parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; ++q)
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          T* sum = out.data<T>() + q * L + oy * g.ow;
          std::fill_n(sum, g.ow, T{0});
          for_each_row_tap(oy, [&](int64_t y, int64_t offset, int64_t first, int64_t end) {
            const T* src = x.data<T>() + q * plane + y * g.w;
            for (int64_t ox = first; ox < end; ++ox) sum[ox] += src[ox * g.stride + offset];
          });
          for (int64_t ox = 0; ox < g.ow; ++ox) sum[ox] /= static_cast<T>(divisor[oy * g.ow + ox]);
        }
    });
  });
  return record("avg_pool2d", out, {x},
                [g, planes, plane, L, divisor, for_each_row_tap](const Tensor& grad) -> Tensors {
                  Tensor dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
                  dispatch_float(grad.dtype(), "avg_pool2d", [&]<class T>() {
                    parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
                      std::vector<T> share(static_cast<std::size_t>(g.ow));  // g[o] / d[o] of one output row
                      for (int64_t q = lo; q < hi; ++q) {
                        T* d = dx.data<T>() + q * plane;
                        std::fill_n(d, plane, T{0});
                        for (int64_t oy = 0; oy < g.oh; ++oy) {
                          for (int64_t ox = 0; ox < g.ow; ++ox)
                            share[ox] = grad.data<T>()[q * L + oy * g.ow + ox] /
                                        static_cast<T>(divisor[oy * g.ow + ox]);
                          for_each_row_tap(oy, [&](int64_t y, int64_t offset, int64_t first, int64_t end) {
                            T* row = d + y * g.w;
                            for (int64_t ox = first; ox < end; ++ox) row[ox * g.stride + offset] += share[ox];
                          });
                        }
                      }
                    });
                  });
                  return {dx};
                });
}

}  // namespace humble::nn
