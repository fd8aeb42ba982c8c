// core/parallel.hpp — the one door to threads (oneTBB) and the thread-count knob.
//
// parallel_for splits [0, n) into chunks of at least `grain` indices and runs them on oneTBB's
// workers; below one grain it runs inline, so small tensors pay nothing. Kernels that use it must
// write each output from one chunk only, which makes results independent of the thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace humble {

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body);

// Sums f(i) over [0, n) in fixed chunks of `chunk` indices whose partial sums are added in
// order: the same bits for any thread count.
double deterministic_sum(int64_t n, int64_t chunk, const std::function<double(int64_t begin, int64_t end)>& partial);

// True inside a body that parallel_for handed to oneTBB (on any thread), false on the inline path.
bool in_parallel_task();

void set_num_threads(int n);  // n >= 1: oneTBB's threads, on which GEMMs run too (core/blas.hpp)
int get_num_threads();

// Elements per chunk for elementwise kernels: below this, work stays on the calling thread.
inline constexpr int64_t kElementwiseGrain = 32768;

}  // namespace humble
