// core/parallel.cpp — oneTBB behind parallel_for, and set_num_threads.
#include "parallel.hpp"

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "error.hpp"

namespace humble {
namespace {

std::mutex limit_mutex;
std::unique_ptr<tbb::global_control> thread_limit;
thread_local int task_depth = 0;

}  // namespace

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n <= grain || get_num_threads() == 1) {
    body(0, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain), [&](const tbb::blocked_range<int64_t>& r) {
    struct InTask {  // also when body throws
      InTask() { ++task_depth; }
      ~InTask() { --task_depth; }
    } in_task;
    body(r.begin(), r.end());
  });
}

bool in_parallel_task() { return task_depth > 0; }

double deterministic_sum(int64_t n, int64_t chunk, const std::function<double(int64_t, int64_t)>& partial) {
  if (n <= 0) return 0.0;
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> partials(static_cast<std::size_t>(chunks));
  parallel_for(chunks, 1, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) partials[c] = partial(c * chunk, std::min(n, (c + 1) * chunk));
  });
  double total = 0.0;
  for (double p : partials) total += p;
  return total;
}

void set_num_threads(int n) {
  if (n < 1) throw ValueError(str_cat("[set_num_threads] n must be >= 1, got ", n));
  std::lock_guard lock(limit_mutex);
  thread_limit.reset();
  thread_limit =
      std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(n));
}

int get_num_threads() {
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace humble
