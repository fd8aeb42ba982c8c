// losses/reduction.hpp — how a loss turns per-item values into its result, and the checks every
// loss shares.
//
// Reduction::None keeps the per-item (per-row) values; Sum adds them; Mean averages them (each
// loss says over what: cross_entropy divides by the kept rows' total class weight, as PyTorch).
#pragma once

#include <cstdint>
#include <optional>

#include "../core/tensor.hpp"

namespace humble::losses {

enum class Reduction { None, Mean, Sum };

// per_item as the reduction asks: itself (None), sum(per_item) (Sum) or mean(per_item) (Mean).
Tensor reduce(const Tensor& per_item, Reduction reduction);

// A smoothing ε (the argument `name`) must be a finite number in [0, 1]; throws ValueError
// "[op] label_smoothing must be a finite number in [0, 1], got -0.5" otherwise.
void check_smoothing(const char* op, const char* name, double eps);

// Every entry of the Int64 `target` is a class in [0, num_classes) or equals ignore_index (when
// given); throws ValueError naming the first that is not: "[op] target[7] = 12 is not a class in
// [0, 10) nor ignore_index (-100)". Positions count the target's elements in row-major order.
// Returns how many entries equal ignore_index.
int64_t check_class_indices(const char* op, const Tensor& target, int64_t num_classes,
                            std::optional<int64_t> ignore_index = {});

}  // namespace humble::losses
