// losses/reduction.cpp — reduce() and the shared checks.
#include "reduction.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../autograd/ops.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/simd.hpp"

namespace humble::losses {
namespace {

// Neither a class in [0, C) (as unsigned, y < 0 is huge) nor the skipped value.
[[gnu::always_inline]] inline bool outside(int64_t y, int64_t C, int64_t skipped) {
  return (static_cast<uint64_t>(y) >= static_cast<uint64_t>(C)) & (y != skipped);
}

// Of n class indices: how many are outside, and how many are `skipped`. (Comparing 64-bit integers
// as vectors takes AVX2, hence the x86-64-v3 clone.)
HUMBLE_SIMD_CLONES std::pair<int64_t, int64_t> count_outside(const int64_t* y, int64_t n, int64_t C, int64_t skipped) {
  int64_t out = 0, equal = 0;
  for (int64_t i = 0; i < n; ++i) {
    equal += y[i] == skipped;
    out += outside(y[i], C, skipped);
  }
  return {out, equal};
}

}  // namespace

Tensor reduce(const Tensor& per_item, Reduction reduction) {
  switch (reduction) {
    case Reduction::None:
      return per_item;
    case Reduction::Sum:
      return sum(per_item);
    case Reduction::Mean:
      break;
  }
  return mean(per_item);
}

void check_smoothing(const char* op, const char* name, double eps) {
  if (!std::isfinite(eps) || eps < 0 || eps > 1)
    throw ValueError(str_cat("[", op, "] ", name, " must be a finite number in [0, 1], got ", eps));
}

int64_t check_class_indices(const char* op, const Tensor& target, int64_t num_classes,
                            std::optional<int64_t> ignore_index) {
  if (target.dtype() != Dtype::Int64)
    throw ValueError(str_cat("[", op, "] class-index target must be int64, got ", dtype_name(target.dtype())));
  const int64_t* y = target.data<int64_t>();
  const int64_t n = target.numel();
  // Without an ignore_index, class 0 stands in for it: it is a class, so nothing more is let through.
  const int64_t skipped_value = ignore_index.value_or(0);
  // Counted in fixed chunks (in parallel when there are several) by a loop GCC vectorises; searched
  // only when one is bad.
  constexpr int64_t kChunk = 16384;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::pair<int64_t, int64_t> counts{0, 0};  // outside, skipped
  if (chunks <= 1) {
    counts = count_outside(y, n, num_classes, skipped_value);
  } else {
    std::vector<std::pair<int64_t, int64_t>> per_chunk(chunks);
    parallel_for(chunks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t chunk = lo; chunk < hi; ++chunk)
        per_chunk[chunk] =
            count_outside(y + chunk * kChunk, std::min(kChunk, n - chunk * kChunk), num_classes, skipped_value);
    });
    for (const auto& [outside_count, skipped_count] : per_chunk) {
      counts.first += outside_count;
      counts.second += skipped_count;
    }
  }
  if (counts.first > 0) {
    const int64_t i = std::find_if(y, y + n, [&](int64_t v) { return outside(v, num_classes, skipped_value); }) - y;
    throw ValueError(str_cat("[", op, "] target[", i, "] = ", y[i], " is not a class in [0, ", num_classes, ")",
                             ignore_index ? str_cat(" nor ignore_index (", *ignore_index, ")") : ""));
  }
  return ignore_index ? counts.second : 0;
}

}  // namespace humble::losses
