// bench/bench_conv_layouts.cpp — why humble's conv2d works as it does, measured on LeNet's layers.
//
// Forward + backward (dW, db, and dx for the second layer) of the CNN's two convolutions at batch
// 128, float32, each way below on the same GEMM (humble::blas::gemm):
//   nchw-tiles    humble's nn::conv2d: NCHW activations, im2col in tiles of whole images kept in L2;
//   nchw-batch    NCHW, the whole batch's column matrix (C·K·K, N·L) built at once, one GEMM per pass
//                 (the column matrix saved for the backward);
//   nhwc-tiles    channels-last activations (N, H, W, C): patches as rows (T·L, K·K·C) — each a row of
//                 K runs of K·C contiguous inputs — and the GEMM's (T·L, O) result already NHWC.
// Legend: N batch, C/O channels, K×K kernel, L = OH·OW positions, R = C·K·K.
// Output: CSV lines `way,layer,threads,seconds` (the median of samples of forward + backward).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <humble/humble.hpp>
#include <vector>

namespace {

using namespace humble;
using Clock = std::chrono::steady_clock;

struct Layer {
  const char* name;
  int64_t n, c, h, w, o, k, p;
  int64_t oh() const { return h + 2 * p - k + 1; }
  int64_t ow() const { return w + 2 * p - k + 1; }
  bool need_dx() const { return c > 1; }  // the first layer's input needs no gradient
};

double median_seconds(const std::function<void()>& body) {
  body();
  std::vector<double> samples;
  for (int r = 0; r < 15; ++r) {
    const auto start = Clock::now();
    body();
    samples.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// nchw-batch: one column matrix (R, N·L) for the whole batch.
void nchw_batch(const Layer& s, const float* x, const float* w, const float* g, float* out, float* dw, float* dx,
                std::vector<float>& cols, std::vector<float>& buffer) {
  const int64_t L = s.oh() * s.ow(), R = s.c * s.k * s.k, NL = s.n * L;
  parallel_for(R * s.n, 64, [&](int64_t lo, int64_t hi) {  // im2col, a shifted input row per output row
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t r = t / s.n, n = t % s.n, c = r / (s.k * s.k), i = r / s.k % s.k, j = r % s.k;
      const int64_t first = std::max<int64_t>(0, s.p - j), end = std::min(s.ow(), s.w + s.p - j);
      float* dst = cols.data() + r * NL + n * L;
      for (int64_t oy = 0; oy < s.oh(); ++oy, dst += s.ow()) {
        const int64_t y = oy - s.p + i;
        std::fill_n(dst, s.ow(), 0.0f);
        if (y < 0 || y >= s.h) continue;
        const float* src = x + ((n * s.c + c) * s.h + y) * s.w + j - s.p;
        for (int64_t ox = first; ox < end; ++ox) dst[ox] = src[ox];
      }
    }
  });
  blas::gemm<float>(false, false, s.o, NL, R, 1, w, R, cols.data(), NL, 0, buffer.data(), NL);
  parallel_for(s.n * s.o, 16, [&](int64_t lo, int64_t hi) {  // (O, N, L) → (N, O, L)
    for (int64_t t = lo; t < hi; ++t) std::copy_n(buffer.data() + (t % s.o * s.n + t / s.o) * L, L, out + t * L);
  });
  parallel_for(s.n * s.o, 16, [&](int64_t lo, int64_t hi) {  // g (N, O, L) → (O, N, L)
    for (int64_t t = lo; t < hi; ++t) std::copy_n(g + t * L, L, buffer.data() + (t % s.o * s.n + t / s.o) * L);
  });
  blas::gemm<float>(false, true, s.o, R, NL, 1, buffer.data(), NL, cols.data(), NL, 0, dw, R);
  if (!s.need_dx()) return;
  blas::gemm<float>(true, false, R, NL, s.o, 1, w, R, buffer.data(), NL, 0, cols.data(), NL);
  parallel_for(s.n * s.c, 16, [&](int64_t lo, int64_t hi) {  // col2im
    for (int64_t q = lo; q < hi; ++q) {
      const int64_t n = q / s.c, c = q % s.c;
      float* plane = dx + q * s.h * s.w;
      std::fill_n(plane, s.h * s.w, 0.0f);
      for (int64_t i = 0; i < s.k; ++i)
        for (int64_t j = 0; j < s.k; ++j)
          for (int64_t oy = 0; oy < s.oh(); ++oy)
            for (int64_t ox = 0; ox < s.ow(); ++ox) {
              const int64_t y = oy - s.p + i, xx = ox - s.p + j;
              if (y >= 0 && y < s.h && xx >= 0 && xx < s.w)
                plane[y * s.w + xx] += cols[((c * s.k + i) * s.k + j) * NL + n * L + oy * s.ow() + ox];
            }
    }
  });
}

// nhwc-tiles: x (N, H, W, C), out and g (N, OH, OW, O), w (O, K, K, C); tiles of whole images.
void nhwc_tiles(const Layer& s, const float* x, const float* w, const float* g, float* out, float* dw, float* dx) {
  const int64_t L = s.oh() * s.ow(), R = s.c * s.k * s.k, run = s.k * s.c;
  const int64_t per_tile = std::clamp<int64_t>((int64_t{1} << 19) / (R * L * 4), 1, s.n),
                tiles = (s.n + per_tile - 1) / per_tile;
  const auto patches = [&](int64_t n0, int64_t n1, float* cols) {  // (T·L, R), row (n, oy, ox) = K runs of K·C
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t oy = 0; oy < s.oh(); ++oy)
        for (int64_t ox = 0; ox < s.ow(); ++ox) {
          float* row = cols + (((n - n0) * s.oh() + oy) * s.ow() + ox) * R;
          const bool whole = ox - s.p >= 0 && ox - s.p + s.k <= s.w;  // the K·C run lies inside the row
          for (int64_t i = 0; i < s.k; ++i) {
            const int64_t y = oy - s.p + i;
            const float* src = x + ((n * s.h + std::clamp<int64_t>(y, 0, s.h - 1)) * s.w + ox - s.p) * s.c;
            if (y >= 0 && y < s.h && whole) {
              std::copy_n(src, run, row + i * run);
              continue;
            }
            for (int64_t e = 0; e < run; ++e) {
              const int64_t xx = ox - s.p + e / s.c;
              row[i * run + e] = y >= 0 && y < s.h && xx >= 0 && xx < s.w ? src[e] : 0;
            }
          }
        }
  };
  std::vector<float> parts(static_cast<std::size_t>(tiles * s.o * R));
  parallel_for(tiles, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> cols(static_cast<std::size_t>(per_tile * L * R));
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t n0 = t * per_tile, n1 = std::min(s.n, n0 + per_tile), rows = (n1 - n0) * L;
      patches(n0, n1, cols.data());
      blas::gemm<float>(false, true, rows, s.o, R, 1, cols.data(), R, w, R, 0, out + n0 * L * s.o, s.o);
      blas::gemm<float>(true, false, s.o, R, rows, 1, g + n0 * L * s.o, s.o, cols.data(), R, 0,
                        parts.data() + t * s.o * R, R);
      if (!s.need_dx()) continue;
      blas::gemm<float>(false, false, rows, R, s.o, 1, g + n0 * L * s.o, s.o, w, R, 0, cols.data(), R);
      std::fill_n(dx + n0 * s.h * s.w * s.c, (n1 - n0) * s.h * s.w * s.c, 0.0f);
      for (int64_t n = n0; n < n1; ++n)  // col2im from the patch rows
        for (int64_t oy = 0; oy < s.oh(); ++oy)
          for (int64_t ox = 0; ox < s.ow(); ++ox) {
            const float* row = cols.data() + (((n - n0) * s.oh() + oy) * s.ow() + ox) * R;
            for (int64_t i = 0; i < s.k; ++i) {
              const int64_t y = oy - s.p + i;
              for (int64_t e = 0; e < run; ++e) {
                const int64_t xx = ox - s.p + e / s.c;
                if (y >= 0 && y < s.h && xx >= 0 && xx < s.w)
                  dx[((n * s.h + y) * s.w + xx) * s.c + e % s.c] += row[i * run + e];
              }
            }
          }
    }
  });
  std::fill_n(dw, s.o * R, 0.0f);
  for (int64_t t = 0; t < tiles; ++t)
    for (int64_t e = 0; e < s.o * R; ++e) dw[e] += parts[t * s.o * R + e];
}

}  // namespace

int main(int, char** argv) {
  run_on_best_blas_kernels(argv);
  const std::vector<Layer> layers = {{"conv1: 1→6 channels 28×28 padding 2", 128, 1, 28, 28, 6, 5, 2},
                                     {"conv2: 6→16 channels 14×14", 128, 6, 14, 14, 16, 5, 0}};
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Layer& s : layers) {
      Generator gen(0);
      const int64_t L = s.oh() * s.ow(), R = s.c * s.k * s.k;
      const Tensor x = randn({s.n, s.c, s.h, s.w}, gen), w = randn({s.o, s.c, s.k, s.k}, gen), b = randn({s.o}, gen);
      const Tensor g = randn({s.n, s.o, s.oh(), s.ow()}, gen);
      Tensor xt = x.detach().clone().requires_grad_(s.need_dx()), wt = w.detach().clone().requires_grad_(),
             bt = b.detach().clone().requires_grad_();
      const double tiles = median_seconds([&] {
        wt.set_grad({});
        bt.set_grad({});
        if (s.need_dx()) xt.set_grad({});
        nn::conv2d(xt, wt, bt, 1, s.p).backward(g);
      });
      std::vector<float> out(static_cast<std::size_t>(s.n * s.o * L)), dw(static_cast<std::size_t>(s.o * R)),
          dx(static_cast<std::size_t>(x.numel())), cols(static_cast<std::size_t>(R * s.n * L)),
          buffer(static_cast<std::size_t>(std::max(s.o, R) * s.n * L));
      const double batch = median_seconds([&] {
        nchw_batch(s, x.data<float>(), w.data<float>(), g.data<float>(), out.data(), dw.data(), dx.data(), cols,
                   buffer);
      });
      const double nhwc = median_seconds(
          [&] { nhwc_tiles(s, x.data<float>(), w.data<float>(), g.data<float>(), out.data(), dw.data(), dx.data()); });
      std::printf("nchw-tiles,%s,%d,%.6f\nnchw-batch,%s,%d,%.6f\nnhwc-tiles,%s,%d,%.6f\n", s.name, threads, tiles,
                  s.name, threads, batch, s.name, threads, nhwc);
      std::fflush(stdout);
    }
  }
  return 0;
}
