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

// The output columns a tap at column offset `offset` (= j·d − p) reads inside the input: [first, end).
struct Columns {
  int64_t offset, first, end;
  Columns(const Window& g, int64_t j)
      : offset(j * g.dilation - g.padding), first(g.first_inside(offset)), end(g.end_inside(offset)) {}
};

// Runs body.template operator()<S>() with S = stride when it is 1 or 2, so that the loops over
// ox·S below are compiled for that stride (strided loads of a known step vectorise); S = 0
// stands for any other stride, read at run time.
template <class Body>
void with_stride(int64_t stride, Body&& body) {
  if (stride == 1)
    body.template operator()<1>();
  else if (stride == 2)
    body.template operator()<2>();
  else
    body.template operator()<0>();
}
template <int S>
int64_t step_of(const Window& g) {
  return S ? S : g.stride;
}

// im2col for images [n0, n1): cols[(c·K + i)·K + j, n − n0, oy·OW + ox] = x[n, c, row(oy, i), col(ox, j)]
// (0 in the padding); (R, n1 − n0, L), each (row, image) pair a task.
template <class T, int S>
void im2col(const Window& g, const T* x, int64_t n0, int64_t n1, T* cols) {
  const int64_t R = g.c * g.k * g.k, L = g.oh * g.ow, images = n1 - n0, s = step_of<S>(g);
  parallel_for(images * R, g.grain(L), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t n = t / R, r = t % R, c = r / (g.k * g.k), i = r / g.k % g.k, j = r % g.k;
      const T* plane = x + ((n0 + n) * g.c + c) * g.h * g.w;
      T* dst = cols + (r * images + n) * L;
      const Columns tap(g, j);
      for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
        const int64_t y = g.row(oy, i);
        const bool row_inside = 0 <= y && y < g.h;
        const int64_t first = row_inside ? tap.first : g.ow, end = row_inside ? tap.end : g.ow;
        const T* src = plane + (row_inside ? y : 0) * g.w;
        for (int64_t ox = 0; ox < first; ++ox) dst[ox] = T{0};
        for (int64_t ox = first; ox < end; ++ox) dst[ox] = src[ox * s + tap.offset];
        for (int64_t ox = end; ox < g.ow; ++ox) dst[ox] = T{0};
      }
    }
  });
}

// col2im: dx[n, c, y, x] = Σ of dcols over the taps that read x[n, c, y, x]; dcols (R, N, L), each
// input plane a task, its taps added in (i, j, oy, ox) order.
template <class T, int S>
void col2im(const Window& g, const T* dcols, T* dx) {
  const int64_t L = g.oh * g.ow, plane = g.h * g.w, s = step_of<S>(g);
  parallel_for(g.n * g.c, g.grain(plane * g.k * g.k), [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t n = q / g.c, c = q % g.c;
      T* out = dx + q * plane;
      std::fill_n(out, plane, T{0});
      for (int64_t i = 0; i < g.k; ++i)
        for (int64_t j = 0; j < g.k; ++j) {
          const T* src = dcols + (((c * g.k + i) * g.k + j) * g.n + n) * L;
          const Columns tap(g, j);
          for (int64_t oy = 0; oy < g.oh; ++oy) {
            const int64_t y = g.row(oy, i);
            if (y < 0 || y >= g.h) continue;
            T* row = out + y * g.w;
            const T* from = src + oy * g.ow;
            for (int64_t ox = tap.first; ox < tap.end; ++ox) row[ox * s + tap.offset] += from[ox];
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

// Σ v[0, n) in double, in eight lanes (vectorised), added pairwise at the end.
template <class T>
double lane_sum(const T* v, int64_t n) {
  double lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += static_cast<double>(v[i + k]);
  for (int k = 0; i < n; ++i, ++k) lanes[k] += static_cast<double>(v[i]);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// g (N, O, L) as (O, N·L), the layout the backward GEMMs take it in; with `bias_grad`, also
// db[o] = Σ_{n,l} g[n, o, l] (each (n, o) run summed by the task that copies it, the runs added in n order).
template <class T>
void gather_gradient(const T* grad, int64_t N, int64_t O, int64_t L, T* out, T* bias_grad) {
  std::vector<double> runs(static_cast<std::size_t>(bias_grad ? N * O : 0));  // (O, N)
  parallel_for(N * O, std::max<int64_t>(1, kElementwiseGrain / L), [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t o = t / N, n = t % N;
      const T* src = grad + (n * O + o) * L;
      std::copy_n(src, L, out + (o * N + n) * L);
      if (bias_grad) runs[t] = lane_sum(src, L);
    }
  });
  for (int64_t o = 0; bias_grad && o < O; ++o) {
    double total = 0;
    for (int64_t n = 0; n < N; ++n) total += runs[o * N + n];
    bias_grad[o] = static_cast<T>(total);
  }
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
      with_stride(g.stride, [&]<int S>() { im2col<T, S>(g, x.data<T>(), n0, n0 + images, cols.data<T>()); });
      blas::gemm<T>(false, false, O, images * L, R, T{1}, weight.data<T>(), R, cols.data<T>(), images * L, T{0},
                    products.data<T>(), images * L);
      place_outputs(products.data<T>(), O, L, n0, images, bias.defined() ? bias.data<T>() : nullptr, out.data<T>());
    }
  });
  return record("conv2d", out, {x, weight, bias},
                [g, O, R, L, cols, w = weight.detach(), need_x = x.requires_grad(), need_w = weight.requires_grad(),
                 has_bias = bias.defined()](const Tensor& grad) -> Tensors {
                  const int64_t NL = g.n * L;
                  Tensor dx, dw, db = has_bias ? empty({O}, grad.dtype()) : Tensor();
                  Tensor g_rows = empty({O, NL}, grad.dtype());  // g as (O, N·L)
                  dispatch_float(grad.dtype(), "conv2d", [&]<class T>() {
                    gather_gradient(grad.data<T>(), g.n, O, L, g_rows.data<T>(), has_bias ? db.data<T>() : nullptr);
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
                      with_stride(g.stride, [&]<int S>() { col2im<T, S>(g, dcols.data<T>(), dx.data<T>()); });
                    }
                  });
                  return {dx, dw, db};
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

// Where each tap column j of a window reads, in order. (K)
std::vector<Columns> row_taps(const Window& g) {
  std::vector<Columns> taps;
  for (int64_t j = 0; j < g.k; ++j) taps.emplace_back(g, j);
  return taps;
}

// One plane of a max pool: out and arg (OH, OW), arg indexing the plane (H, W). Each output row
// starts from −inf and its first tap inside the input, then takes its taps in row-major order,
// each one strided pass over the row; int32 indices keep the lanes of values and indices alike.
template <class T, int S>
void max_pool_plane(const Window& g, const std::vector<int64_t>& first_column, const std::vector<Columns>& taps,
                    const T* x, T* out, int32_t* arg) {
  const auto w = static_cast<int32_t>(g.w), s = static_cast<int32_t>(step_of<S>(g));
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    T* max = out + oy * g.ow;
    int32_t* a = arg + oy * g.ow;
    int64_t i0 = 0;
    while (i0 + 1 < g.k && g.row(oy, i0) < 0) ++i0;
    std::fill_n(max, g.ow, -std::numeric_limits<T>::infinity());
    for (int64_t ox = 0; ox < g.ow; ++ox) a[ox] = static_cast<int32_t>(g.row(oy, i0) * g.w + first_column[ox]);
    for (int64_t i = i0; i < g.k && g.row(oy, i) < g.h; ++i) {
      const auto y = static_cast<int32_t>(g.row(oy, i));
      const T* row = x + y * g.w;
      for (const Columns& tap : taps) {
        const auto offset = static_cast<int32_t>(tap.offset);
        for (auto ox = static_cast<int32_t>(tap.first); ox < tap.end; ++ox) {
          const T v = row[ox * s + offset];
          const bool take = v > max[ox] || v != v;
          max[ox] = take ? v : max[ox];
          a[ox] = take ? y * w + ox * s + offset : a[ox];
        }
      }
    }
  }
}

// The common window, 2×2 with stride 2, no padding or dilation, every window inside the input:
// one pass over each pair of input rows, the four taps in row-major order.
template <class T>
void max_pool_plane_2x2(const Window& g, const T* __restrict x, T* __restrict out, int32_t* __restrict arg) {
  const auto w = static_cast<int32_t>(g.w), ow = static_cast<int32_t>(g.ow);
  for (int32_t oy = 0; oy < g.oh; ++oy) {
    const T* top = x + 2 * oy * w;
    const T* bottom = top + w;
    for (int32_t ox = 0; ox < ow; ++ox) {
      const int32_t first = 2 * oy * w + 2 * ox;
      T max = top[2 * ox];
      int32_t at = first;
      const auto consider = [&](T v, int32_t index) {
        const bool take = v > max || v != v;
        max = take ? v : max;
        at = take ? index : at;
      };
      consider(top[2 * ox + 1], first + 1);
      consider(bottom[2 * ox], first + w);
      consider(bottom[2 * ox + 1], first + w + 1);
      out[oy * ow + ox] = max;
      arg[oy * ow + ox] = at;
    }
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
  const std::vector<int64_t> first_column = first_columns(g);
  const std::vector<Columns> taps = row_taps(g);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  auto arg = std::make_shared<std::vector<int32_t>>(static_cast<std::size_t>(planes * L));  // (N, C, OH, OW)
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const bool two_by_two = g.k == 2 && g.stride == 2 && g.padding == 0 && g.dilation == 1 && 2 * g.oh <= g.h &&
                            2 * g.ow <= g.w;
    with_stride(g.stride, [&]<int S>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q)
          if (two_by_two)
            max_pool_plane_2x2(g, px + q * plane, po + q * L, arg->data() + q * L);
          else
            max_pool_plane<T, S>(g, first_column, taps, px + q * plane, po + q * L, arg->data() + q * L);
      });
    });
  });
  return record("max_pool2d", out, {x}, [g, arg, planes, plane, L](const Tensor& grad) -> Tensors {
    Tensor dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "max_pool2d", [&]<class T>() {
      const T* pg = grad.data<T>();
      T* pd = dx.data<T>();
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q) {
          T* d = pd + q * plane;
          const T* gq = pg + q * L;
          const int32_t* a = arg->data() + q * L;
          std::fill_n(d, plane, T{0});
          for (int64_t o = 0; o < L; ++o) d[a[o]] += gq[o];
        }
      });
    });
    return {dx};
  });
}

namespace {

// Each valid tap (i, j) of output row oy, in row-major order: fn(row y, its columns).
template <class F>
void for_each_row_tap(const Window& g, const std::vector<Columns>& taps, int64_t oy, F fn) {
  for (int64_t i = 0; i < g.k; ++i) {
    const int64_t y = g.row(oy, i);
    if (y < 0 || y >= g.h) continue;
    for (const Columns& tap : taps) fn(y, tap);
  }
}

// One plane of an average pool: out (OH, OW) = the sums of the taps, in row-major order, / divisor.
template <class T, int S>
void avg_pool_plane(const Window& g, const std::vector<Columns>& taps, const std::vector<double>& divisor, const T* x,
                    T* out) {
  const int64_t s = step_of<S>(g);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    T* sum = out + oy * g.ow;
    std::fill_n(sum, g.ow, T{0});
    for_each_row_tap(g, taps, oy, [&](int64_t y, const Columns& tap) {
      const T* row = x + y * g.w;
      for (int64_t ox = tap.first; ox < tap.end; ++ox) sum[ox] += row[ox * s + tap.offset];
    });
    for (int64_t ox = 0; ox < g.ow; ++ox) sum[ox] /= static_cast<T>(divisor[oy * g.ow + ox]);
  }
}

// Its backward: dx (H, W) = Σ over the taps reading each input of g / divisor.
template <class T, int S>
void avg_pool_plane_backward(const Window& g, const std::vector<Columns>& taps, const std::vector<double>& divisor,
                             const T* grad, T* dx, std::vector<T>& share) {
  const int64_t s = step_of<S>(g);
  std::fill_n(dx, g.h * g.w, T{0});
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    for (int64_t ox = 0; ox < g.ow; ++ox)
      share[ox] = grad[oy * g.ow + ox] / static_cast<T>(divisor[oy * g.ow + ox]);
    for_each_row_tap(g, taps, oy, [&](int64_t y, const Columns& tap) {
      T* row = dx + y * g.w;
      for (int64_t ox = tap.first; ox < tap.end; ++ox) row[ox * s + tap.offset] += share[ox];
    });
  }
}

}  // namespace

// avg_pool2d: out[o] = Σ_window x / d[o];  dx[in] += g[o] / d[o] for each window tap, with d[o] the
// window's size (pool_divisors); taps summed in row-major order, as the readable path does
Tensor avg_pool2d(const Tensor& x, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding, bool ceil_mode,
                  bool count_include_pad) {
  const Window g = pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  const std::vector<double> divisor = pool_divisors(g, count_include_pad);  // (L)
  const std::vector<Columns> taps = row_taps(g);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    with_stride(g.stride, [&]<int S>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q) avg_pool_plane<T, S>(g, taps, divisor, px + q * plane, po + q * L);
      });
    });
  });
  return record("avg_pool2d", out, {x}, [g, planes, plane, L, divisor, taps](const Tensor& grad) -> Tensors {
    Tensor dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "avg_pool2d", [&]<class T>() {
      const T* pg = grad.data<T>();
      T* pd = dx.data<T>();
      with_stride(g.stride, [&]<int S>() {
        parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
          std::vector<T> share(static_cast<std::size_t>(g.ow));  // g / d of one output row
          for (int64_t q = lo; q < hi; ++q)
            avg_pool_plane_backward<T, S>(g, taps, divisor, pg + q * L, pd + q * plane, share);
        });
      });
    });
    return {dx};
  });
}

}  // namespace humble::nn
