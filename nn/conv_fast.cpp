// nn/conv_fast.cpp — the fast conv2d and pools the layers use (contract in nn/conv.hpp), each
// tested against its readable twin in conv.cpp (tests/test_conv.cpp).
//
// Legend as nn/conv.hpp, plus R = C·K·K rows of the column matrix and NL = N·L its columns.
// Every parallel loop writes each output from one task (a row of the column matrix for one image,
// an output or input plane), and GEMMs are cut by shape alone: the same bits on any thread count.
#include <algorithm>
#include <cstdint>
#include <cstring>
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
#include "../core/simd.hpp"
#include "conv.hpp"
#include "conv_window.hpp"

namespace humble::nn {
namespace {

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

// dst[0, n) = src[0, n) for a short row, inline: in blocks of 8 values (fixed-size copies become
// vector moves) and an overlapping last block, since a library call would cost more than the copy.
template <class T>
[[gnu::always_inline]] inline void copy_row(const T* src, int64_t n, T* dst) {
  constexpr int64_t block = 8;
  if (n < block) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  for (int64_t i = 0; i + block <= n; i += block) std::memcpy(dst + i, src + i, block * sizeof(T));
  std::memcpy(dst + n - block, src + n - block, block * sizeof(T));
}

// An input plane as the taps see it, zero-padded to (H + 2p, W + 2p) in `buffer` when p > 0: tap
// (i, j) of output (oy, ox) is then element (oy·s + i·d, ox·s + j·d), inside for every output.
template <class T>
struct PaddedPlane {
  const T* data;
  int64_t width;  // its row stride
};
template <class T>
PaddedPlane<T> padded(const Window& g, const T* plane, T* buffer) {
  if (g.padding == 0) return {plane, g.w};
  const int64_t width = g.w + 2 * g.padding;
  std::fill_n(buffer, (g.h + 2 * g.padding) * width, T{0});
  for (int64_t y = 0; y < g.h; ++y) copy_row(plane + y * g.w, g.w, buffer + (y + g.padding) * width + g.padding);
  return {buffer, width};
}
int64_t padded_size(const Window& g) { return g.padding == 0 ? 0 : (g.h + 2 * g.padding) * (g.w + 2 * g.padding); }

// The column matrix of images [n0, n1): cols[(c·K + i)·K + j, n − n0, oy·OW + ox] =
// x[n, c, row(oy, i), col(ox, j)], 0 in the padding. (R, (n1 − n0)·L)
template <class T, int S>
void im2col(const Window& g, const T* x, int64_t n0, int64_t n1, T* cols, T* pad) {
  const int64_t L = g.oh * g.ow, images = n1 - n0, s = step_of<S>(g), d = g.dilation;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const PaddedPlane<T> plane = padded(g, x + ((n0 + n) * g.c + c) * g.h * g.w, pad);
      for (int64_t i = 0; i < g.k; ++i)
        for (int64_t j = 0; j < g.k; ++j) {
          T* dst = cols + (((c * g.k + i) * g.k + j) * images + n) * L;
          for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
            const T* src = plane.data + (oy * s + i * d) * plane.width + j * d;
            if constexpr (S == 1)
              copy_row(src, g.ow, dst);
            else
              for (int64_t ox = 0; ox < g.ow; ++ox) dst[ox] = src[ox * s];
          }
        }
    }
}

// col2im, its adjoint: the planes dx[n] of images [n0, n1) = the sums of dcols (R, (n1 − n0)·L)
// over the taps that read each input, added in (i, j, oy, ox) order (into the padded plane in
// `pad` when p > 0, whose inside is then copied out).
template <class T, int S>
void col2im(const Window& g, const T* dcols, int64_t n0, int64_t n1, T* dx, T* pad) {
  const int64_t L = g.oh * g.ow, plane = g.h * g.w, images = n1 - n0, s = step_of<S>(g), d = g.dilation;
  const int64_t width = g.w + 2 * g.padding;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      T* out = dx + ((n0 + n) * g.c + c) * plane;
      T* sums = g.padding == 0 ? out : pad;
      std::fill_n(sums, g.padding == 0 ? plane : padded_size(g), T{0});
      for (int64_t i = 0; i < g.k; ++i)
        for (int64_t j = 0; j < g.k; ++j) {
          const T* src = dcols + (((c * g.k + i) * g.k + j) * images + n) * L;
          for (int64_t oy = 0; oy < g.oh; ++oy, src += g.ow) {
            T* row = sums + (oy * s + i * d) * width + j * d;
            for (int64_t ox = 0; ox < g.ow; ++ox) row[ox * s] += src[ox];
          }
        }
      if (g.padding > 0)
        for (int64_t y = 0; y < g.h; ++y) copy_row(pad + (y + g.padding) * width + g.padding, g.w, out + y * g.w);
    }
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

// The column matrix (R, N·L) is never built whole: tiles of whole images, small enough to stay in a
// core's L2 cache, each go through im2col and their GEMMs at once, one task per tile (tiles are
// fixed by the shape, so the same on any thread count).
constexpr int64_t kTileBytes = int64_t{1} << 19;
struct Tiles {
  int64_t images, count;  // images per tile (the last may have fewer), tiles
  int64_t first(int64_t tile) const { return tile * images; }
};
Tiles tiles_for(const Window& g, int64_t R, std::size_t element_size) {
  const int64_t per_image = R * g.oh * g.ow * static_cast<int64_t>(element_size);
  const int64_t images = std::clamp<int64_t>(kTileBytes / per_image, 1, g.n);
  return {images, (g.n + images - 1) / images};
}

}  // namespace

// conv2d, per tile of images: cols = im2col(x) (R, T·L);  out = W (O, R) @ cols + b, placed as (N, O, L);
//         dW = Σ_tiles g (O, T·L) @ colsᵀ,  dx = col2im(Wᵀ @ g),  db = Σ_{n,l} g[n, :, l]
Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, int64_t stride, int64_t padding,
              int64_t dilation) {
  const Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
  const Tensor bias = bias_in.defined() ? bias_in.contiguous() : bias_in;
  const Window g = conv_window("conv2d", x, weight, bias, stride, padding, dilation);
  const int64_t O = weight.shape()[0], R = g.c * g.k * g.k, L = g.oh * g.ow;
  const Tiles tiles = tiles_for(g, R, dtype_size(x.dtype()));
  Tensor out = empty({g.n, O, g.oh, g.ow}, x.dtype());  // (N, O, OH, OW)
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    const T *px = x.data<T>(), *pw = weight.data<T>(), *pb = bias.defined() ? bias.data<T>() : nullptr;
    T* po = out.data<T>();
    with_stride(g.stride, [&]<int S>() {
      parallel_for(tiles.count, 1, [&](int64_t lo, int64_t hi) {
        const auto cols = std::make_unique_for_overwrite<T[]>(R * tiles.images * L);      // (R, T·L)
        const auto products = std::make_unique_for_overwrite<T[]>(O * tiles.images * L);  // (O, T·L)
        const auto pad = std::make_unique_for_overwrite<T[]>(padded_size(g));
        for (int64_t tile = lo; tile < hi; ++tile) {
          const int64_t n0 = tiles.first(tile), n1 = std::min(g.n, n0 + tiles.images), width = (n1 - n0) * L;
          im2col<T, S>(g, px, n0, n1, cols.get(), pad.get());
          blas::gemm<T>(false, false, O, width, R, T{1}, pw, R, cols.get(), width, T{0}, products.get(), width);
          for (int64_t n = n0; n < n1; ++n)
            for (int64_t o = 0; o < O; ++o) {
              const T* src = products.get() + o * width + (n - n0) * L;
              T* dst = po + (n * O + o) * L;
              const T b = pb ? pb[o] : T{0};
              for (int64_t l = 0; l < L; ++l) dst[l] = src[l] + b;
            }
        }
      });
    });
  });
  return record(
      "conv2d", out, {x, weight, bias}, {x, weight},
      [g, O, R, L, tiles, need_x = x.requires_grad(), need_w = weight.requires_grad(), has_bias = bias.defined()](
          const Tensor& grad, const Tensors& saved) -> Tensors {
        const Tensor &x = saved[0], &w = saved[1];
        Tensor dx = need_x ? empty(x.shape(), x.dtype()) : Tensor();
        std::vector<double> dw_parts(static_cast<std::size_t>(need_w ? tiles.count * O * R : 0));  // (tiles, O, R)
        std::vector<double> db_parts(static_cast<std::size_t>(tiles.count * O));                   // (tiles, O)
        dispatch_float(grad.dtype(), "conv2d", [&]<class T>() {
          const T *px = x.data<T>(), *pw = w.data<T>(), *pg = grad.data<T>();
          with_stride(g.stride, [&]<int S>() {
            parallel_for(tiles.count, 1, [&](int64_t lo, int64_t hi) {
              const int64_t size = tiles.images * L;                              // columns of a whole tile
              const auto g_tile = std::make_unique_for_overwrite<T[]>(O * size);  // (O, T·L)
              const auto cols = std::make_unique_for_overwrite<T[]>(need_w ? R * size : 0);
              const auto dcols = std::make_unique_for_overwrite<T[]>(need_x ? R * size : 0);
              const auto dw = std::make_unique_for_overwrite<T[]>(O * R);
              const auto pad = std::make_unique_for_overwrite<T[]>(padded_size(g));
              for (int64_t tile = lo; tile < hi; ++tile) {
                const int64_t n0 = tiles.first(tile), n1 = std::min(g.n, n0 + tiles.images), width = (n1 - n0) * L;
                for (int64_t o = 0; o < O; ++o) {  // g (N, O, L) of these images as (O, T·L), and its row sums
                  double total = 0;
                  for (int64_t n = n0; n < n1; ++n) {
                    const T* src = pg + (n * O + o) * L;
                    std::copy_n(src, L, g_tile.get() + o * width + (n - n0) * L);
                    total += lane_sum(src, L);
                  }
                  db_parts[tile * O + o] = total;
                }
                if (need_w) {
                  im2col<T, S>(g, px, n0, n1, cols.get(), pad.get());
                  blas::gemm<T>(false, true, O, R, width, T{1}, g_tile.get(), width, cols.get(), width, T{0}, dw.get(),
                                R);
                  std::copy_n(dw.get(), O * R, dw_parts.begin() + tile * O * R);
                }
                if (need_x) {
                  blas::gemm<T>(true, false, R, width, O, T{1}, pw, R, g_tile.get(), width, T{0}, dcols.get(), width);
                  col2im<T, S>(g, dcols.get(), n0, n1, dx.data<T>(), pad.get());
                }
              }
            });
          });
        });
        // The tiles' parts, added in tile order.
        const auto add_parts = [&](const std::vector<double>& parts, const Shape& shape) {
          const int64_t size = shape_numel(shape);
          std::vector<double> total(static_cast<std::size_t>(size), 0.0);
          for (int64_t tile = 0; tile < tiles.count; ++tile)
            for (int64_t e = 0; e < size; ++e) total[e] += parts[tile * size + e];
          return tensor(total, shape, grad.dtype());
        };
        return {dx, need_w ? add_parts(dw_parts, w.shape()) : Tensor(), has_bias ? add_parts(db_parts, {O}) : Tensor()};
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
// each one strided pass over the row; int32 indices keep the lanes of values and indices alike,
// and float choices are bit-mask selects (core/simd.hpp), both so that the loops vectorise.
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
          max[ox] = select(take, v, max[ox]);
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
        max = select(take, v, max);
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

// Its backward, every input written once: the window's gradient at its max (as 0 + g, which is what
// adding it to a zeroed input gives: −0 becomes +0), 0 at the window's other three inputs and at an
// odd last row or column that no window covers.
template <class T>
void max_pool_plane_2x2_backward(const Window& g, const T* __restrict grad, const int32_t* __restrict arg,
                                 T* __restrict dx) {
  const auto w = static_cast<int32_t>(g.w), ow = static_cast<int32_t>(g.ow);
  for (int32_t oy = 0; oy < g.oh; ++oy) {
    T* top = dx + 2 * oy * w;
    T* bottom = top + w;
    for (int32_t ox = 0; ox < ow; ++ox) {
      const int32_t first = 2 * oy * w + 2 * ox, at = arg[oy * ow + ox];
      const T share = T{0} + grad[oy * ow + ox];
      top[2 * ox] = select(at == first, share, T{0});
      top[2 * ox + 1] = select(at == first + 1, share, T{0});
      bottom[2 * ox] = select(at == first + w, share, T{0});
      bottom[2 * ox + 1] = select(at == first + w + 1, share, T{0});
    }
    for (int32_t x = 2 * ow; x < w; ++x) top[x] = bottom[x] = T{0};
  }
  std::fill(dx + 2 * g.oh * g.w, dx + g.h * g.w, T{0});
}

}  // namespace

// max_pool2d: out[o] = x[arg[o]], arg[o] the window's first max in row-major tap order (a NaN
//             counting as the largest, the last one winning);  dx[arg[o]] += g[o]
Tensor max_pool2d(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  int64_t dilation, bool ceil_mode) {
  const Tensor x = x_in.contiguous();
  const Window g = pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode);
  const int64_t planes = g.n * g.c, plane = g.h * g.w, L = g.oh * g.ow;
  if (plane > std::numeric_limits<int32_t>::max())
    throw ValueError(str_cat("[max_pool2d] input planes of up to 2^31 elements are supported, got ", g.h, " × ", g.w));
  const std::vector<int64_t> first_column = first_columns(g);
  const std::vector<Columns> taps = row_taps(g);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  const std::shared_ptr<int32_t[]> arg = std::make_shared_for_overwrite<int32_t[]>(planes * L);  // (N, C, OH, OW)
  const bool two_by_two =
      g.k == 2 && g.stride == 2 && g.padding == 0 && g.dilation == 1 && 2 * g.oh <= g.h && 2 * g.ow <= g.w;
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const bool two_by_two =
        g.k == 2 && g.stride == 2 && g.padding == 0 && g.dilation == 1 && 2 * g.oh <= g.h && 2 * g.ow <= g.w;
    with_stride(g.stride, [&]<int S>() {
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q)
          if (two_by_two)
            max_pool_plane_2x2(g, px + q * plane, po + q * L, arg.get() + q * L);
          else
            max_pool_plane<T, S>(g, first_column, taps, px + q * plane, po + q * L, arg.get() + q * L);
      });
    });
  });
  return record("max_pool2d", out, {x}, [g, arg, planes, plane, L, two_by_two](const Tensor& grad) -> Tensors {
    Tensor dx = empty({g.n, g.c, g.h, g.w}, grad.dtype());
    dispatch_float(grad.dtype(), "max_pool2d", [&]<class T>() {
      const T* pg = grad.data<T>();
      T* pd = dx.data<T>();
      parallel_for(planes, g.grain(plane), [&](int64_t lo, int64_t hi) {
        for (int64_t q = lo; q < hi; ++q) {
          T* d = pd + q * plane;
          const T* gq = pg + q * L;
          const int32_t* a = arg.get() + q * L;
          if (two_by_two) {
            max_pool_plane_2x2_backward(g, gq, a, d);
            continue;
          }
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
    for (int64_t ox = 0; ox < g.ow; ++ox) share[ox] = grad[oy * g.ow + ox] / static_cast<T>(divisor[oy * g.ow + ox]);
    for_each_row_tap(g, taps, oy, [&](int64_t y, const Columns& tap) {
      T* row = dx + y * g.w;
      for (int64_t ox = tap.first; ox < tap.end; ++ox) row[ox * s + tap.offset] += share[ox];
    });
  }
}

}  // namespace

// avg_pool2d: out[o] = Σ_window x / d[o];  dx[in] += g[o] / d[o] for each window tap, with d[o] the
// window's size (pool_divisors); taps summed in row-major order, as the readable path does
Tensor avg_pool2d(const Tensor& x_in, int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                  bool ceil_mode, bool count_include_pad) {
  const Tensor x = x_in.contiguous();
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
