// bench/time_samples.hpp — the timing method every loss benchmark shares (humble's and libtorch's):
// runs `body` `batch` times per sample for about `budget` seconds (at least `min_samples` samples)
// after a calibration that doubles as warm-up (the batch grows until a sample lasts 1 ms); returns
// seconds per call, one value per sample. bench_torch.py does the same in Python.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace bench {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Body>
std::vector<double> time_samples(Body&& body, double budget, int min_samples) {
  using Clock = std::chrono::steady_clock;
  int64_t batch = 1;
  for (;;) {
    const auto start = Clock::now();
    for (int64_t i = 0; i < batch; ++i) body();
    if (seconds_since(start) >= 1e-3) break;
    batch *= 2;
  }
  std::vector<double> samples;
  const auto begin = Clock::now();
  while (static_cast<int>(samples.size()) < min_samples || seconds_since(begin) < budget) {
    const auto start = Clock::now();
    for (int64_t i = 0; i < batch; ++i) body();
    samples.push_back(seconds_since(start) / static_cast<double>(batch));
  }
  return samples;
}

}  // namespace bench
