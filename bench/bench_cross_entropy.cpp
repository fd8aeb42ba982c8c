// bench/bench_cross_entropy.cpp — forward + backward of losses::cross_entropy, and a triad.
//
// Legend: N rows, C classes. For every shape and thread count it times
//   loss = cross_entropy(logits, y, {.label_smoothing = 0.1}); loss.backward();
// on float32 (N, C) logits from randn and int64 targets from randint, mean reduction, with
// logits.grad() cleared between iterations. One sample times `batch` iterations (batch is chosen
// so a sample lasts about a millisecond) and reports seconds per iteration; bench_torch.py uses
// the same method, so bench/run can interleave the two and compare medians. `--bandwidth` instead
// measures STREAM-style copy and triad bandwidth (https://www.cs.virginia.edu/stream/) at a
// given thread count, counting bytes as STREAM does (no write-allocate traffic).
//
// Output: one CSV line per sample, `impl,rows,classes,threads,seconds` (or `triad,…,GB/s`).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <humble/humble.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "time_samples.hpp"

namespace {

using bench::time_samples;

struct Shape2 {
  int64_t rows, classes;
};

void bench_loss(const std::vector<Shape2>& shapes, const std::vector<int>& threads, double budget, int min_samples) {
  using namespace humble;
  for (const Shape2& s : shapes) {
    Generator gen(0);
    Tensor logits = randn({s.rows, s.classes}, gen).requires_grad_();  // (N, C)
    const Tensor y = randint(0, s.classes, {s.rows}, gen);             // (N)
    for (int n : threads) {
      set_num_threads(n);
      const auto step = [&] {
        logits.set_grad({});
        Tensor loss = losses::cross_entropy(logits, y, {.label_smoothing = 0.1});
        loss.backward();
      };
      for (double t : time_samples(step, budget, min_samples))
        std::printf("humble,%lld,%lld,%d,%.9g\n", static_cast<long long>(s.rows), static_cast<long long>(s.classes), n,
                    t);
      std::fflush(stdout);
    }
  }
}

// a = b + s·c (triad) and a = b (copy) on `threads` std::threads, each owning one contiguous
// slice of arrays far larger than the last-level cache.
void bench_bandwidth(int threads, double budget, int min_samples) {
  constexpr int64_t n = int64_t{1} << 24;  // 128 MiB per array of doubles
  std::vector<double> a(n), b(n), c(n);
  const auto run = [&](auto kernel) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { kernel(n * t / threads, n * (t + 1) / threads); });
    for (auto& th : pool) th.join();
  };
  run([&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) a[i] = 0, b[i] = 1, c[i] = 2;
  });
  double* pa = a.data();
  const double *pb = b.data(), *pc = c.data();
  const auto triad = [&] {
    run([=](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) pa[i] = pb[i] + 3.0 * pc[i];
    });
  };
  const auto copy = [&] {
    run([=](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) pa[i] = pb[i];
    });
  };
  const auto report = [&](const char* name, double bytes, const std::vector<double>& samples) {
    for (double t : samples)
      std::printf("%s,%lld,0,%d,%.9g\n", name, static_cast<long long>(n), threads, bytes / t / 1e9);
  };
  report("triad", 3.0 * 8 * n, time_samples(triad, budget, min_samples));  // GB/s, not seconds
  report("copy", 2.0 * 8 * n, time_samples(copy, budget, min_samples));
  std::fflush(stdout);
}

std::vector<int64_t> parse_list(const std::string& text, char sep) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  humble::run_on_best_blas_kernels(argv);
  std::vector<Shape2> shapes = {{128, 10}, {4096, 10}, {65536, 10}, {4096, 1000}, {512, 32000}};
  std::vector<int> threads = {1, 2};
  double budget = 0.3;
  int min_samples = 5;
  bool bandwidth = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_cross_entropy: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--threads") {
      threads.clear();
      for (int64_t n : parse_list(value(), ',')) threads.push_back(static_cast<int>(n));
    } else if (arg == "--shapes") {  // "128x10,4096x1000"
      shapes.clear();
      std::stringstream in(value());
      for (std::string item; std::getline(in, item, ',');) {
        const auto dims = parse_list(item, 'x');
        shapes.push_back({dims.at(0), dims.at(1)});
      }
    } else if (arg == "--budget") {
      budget = std::stod(value());
    } else if (arg == "--min-samples") {
      min_samples = std::stoi(value());
    } else if (arg == "--bandwidth") {
      bandwidth = true;
    } else {
      std::fprintf(stderr,
                   "usage: bench_cross_entropy [--shapes 128x10,...] [--threads 1,2] [--budget seconds]\n"
                   "                           [--min-samples k] [--bandwidth]\n");
      return 2;
    }
  }
  if (bandwidth) {
    for (int n : threads) bench_bandwidth(n, budget, min_samples);
  } else {
    bench_loss(shapes, threads, budget, min_samples);
  }
}
