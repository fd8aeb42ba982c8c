// core/factories.hpp — making tensors: from values, constants, ranges and random draws.
//
// Every random factory takes a Generator, so the same seed gives the same tensor everywhere.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <ranges>
#include <vector>

#include "dispatch.hpp"
#include "generator.hpp"
#include "tensor.hpp"

namespace humble {

// `values` are row-major; their count must equal the shape's product. For Int64 each must be a
// whole number in [-2^63, 2^63) (checked_int64): 1.5, NaN or 1e19 is an error, not a cast.
Tensor tensor(const std::vector<double>& values, Shape shape, Dtype dtype = Dtype::Float32, bool requires_grad = false);

// The element types a buffer may hold, and the dtype each gives by default.
template <class T>
concept BufferElement =
    std::same_as<T, float> || std::same_as<T, double> || std::same_as<T, int64_t> || std::same_as<T, uint8_t>;
template <BufferElement T>
constexpr Dtype buffer_dtype() {
  return std::same_as<T, float> ? Dtype::Float32 : std::same_as<T, double> ? Dtype::Float64 : Dtype::Int64;
}
// Throws unless `count` values fill `shape` and values of this kind may become `dtype`.
void check_buffer(std::size_t count, const Shape& shape, bool floating, Dtype dtype);

// From a typed buffer, copied: a std::vector, std::array or std::span (over user memory, e.g.
// std::span<const float>(ptr, n)) of float (→ Float32 by default), double (→ Float64), int64_t
// (→ Int64) or uint8_t (→ Int64, the values 0…255 exactly; ask for Float32 for pixels). Any
// dtype may be asked for, except float values into Int64 (they would be truncated).
template <std::ranges::contiguous_range R>
requires BufferElement<std::ranges::range_value_t<R>> Tensor
tensor(const R& values, Shape shape, Dtype dtype = buffer_dtype<std::ranges::range_value_t<R>>(),
       bool requires_grad = false) {
  using T = std::ranges::range_value_t<R>;
  check_buffer(std::ranges::size(values), shape, std::is_floating_point_v<T>, dtype);
  Tensor t = empty(std::move(shape), dtype);
  dispatch_all(dtype, [&]<class U>() {
    std::transform(std::ranges::begin(values), std::ranges::end(values), t.data<U>(),
                   [](T v) { return static_cast<U>(v); });
  });
  if (requires_grad) t.requires_grad_(true);
  return t;
}
Tensor scalar_tensor(double value, Dtype dtype = Dtype::Float32);  // shape ()

Tensor zeros(Shape shape, Dtype dtype = Dtype::Float32);
Tensor ones(Shape shape, Dtype dtype = Dtype::Float32);
Tensor full(Shape shape, double value, Dtype dtype = Dtype::Float32);
Tensor arange(int64_t end, Dtype dtype = Dtype::Int64);  // 0, 1, ..., end − 1
// start, start + step, … up to but excluding end (⌈(end − start) / step⌉ values, step of either
// sign, fractional or not); value i is start + i·step, computed in double.
Tensor arange(double start, double end, double step, Dtype dtype = Dtype::Float32);
// `steps` values from start to end inclusive, evenly spaced (PyTorch's: the first half counts up
// from start, the second half down from end, so both ends are exact).
Tensor linspace(double start, double end, int64_t steps, Dtype dtype = Dtype::Float32);

Tensor rand(Shape shape, Generator& gen, Dtype dtype = Dtype::Float32);  // U[0, 1)
Tensor uniform(Shape shape, double low, double high, Generator& gen, Dtype dtype = Dtype::Float32);
Tensor randn(Shape shape, Generator& gen, Dtype dtype = Dtype::Float32);  // N(0, 1)
Tensor randint(int64_t low, int64_t high, Shape shape, Generator& gen);   // Int64 in [low, high)
Tensor randperm(int64_t n, Generator& gen);                               // Int64 permutation

// `value` as an int64: a whole number in [-2^63, 2^63), or with `truncate` any number in that range,
// rounded toward zero (what a C++ cast does where it is defined); otherwise ValueError
// "[op] element 3 is nan, which no int64 holds (expected a whole number in [-2^63, 2^63))".
int64_t checked_int64(double value, const char* op, int64_t index, bool truncate = false);

Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);

}  // namespace humble
