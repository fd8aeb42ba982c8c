// core/factories.cpp — tensor factories.
#include "factories.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "dispatch.hpp"
#include "error.hpp"

namespace humble {
namespace {

// Fills t element by element from draw(), in row-major order (so results never depend on threads);
// `op` names the factory in the error for a double that no int64 holds.
template <class Draw>
Tensor fill_from(Tensor t, Draw draw, const char* op) {
  dispatch_all(t.dtype(), [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, int64_t> && std::is_floating_point_v<decltype(draw())>) {
        p[i] = checked_int64(draw(), op, i, true);  // a cast of NaN or 1e19 would be undefined
      } else {
        p[i] = static_cast<T>(draw());
      }
    }
  });
  return t;
}

}  // namespace

int64_t checked_int64(double value, const char* op, int64_t index, bool truncate) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  const double whole = std::trunc(value);
  if (!(whole >= -kLimit && whole < kLimit) || (!truncate && whole != value))
    throw ValueError(str_cat("[", op, "] element ", index, " is ", value, ", which no int64 holds (expected a ",
                             truncate ? "number" : "whole number", " in [-2^63, 2^63))"));
  return static_cast<int64_t>(whole);
}

Tensor tensor(const std::vector<double>& values, Shape shape, Dtype dtype, bool requires_grad) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw ShapeError(str_cat("[tensor] ", values.size(), " values do not fill shape ", shape_str(shape), " (",
                             shape_numel(shape), " elements)"));
  if (dtype == Dtype::Int64)
    for (std::size_t k = 0; k < values.size(); ++k) checked_int64(values[k], "tensor", static_cast<int64_t>(k));
  std::size_t i = 0;
  Tensor t = fill_from(
      empty(std::move(shape), dtype), [&] { return values[i++]; }, "tensor");
  if (requires_grad) t.requires_grad_(true);
  return t;
}

void check_buffer(std::size_t count, const Shape& shape, bool floating, Dtype dtype) {
  if (static_cast<int64_t>(count) != shape_numel(shape))
    throw ShapeError(str_cat("[tensor] ", count, " values do not fill shape ", shape_str(shape), " (",
                             shape_numel(shape), " elements)"));
  if (floating && dtype == Dtype::Int64)
    throw ValueError("[tensor] float values into an int64 tensor would be truncated; convert them explicitly");
}

Tensor scalar_tensor(double value, Dtype dtype) { return full({}, value, dtype); }
Tensor zeros(Shape shape, Dtype dtype) { return full(std::move(shape), 0.0, dtype); }
Tensor ones(Shape shape, Dtype dtype) { return full(std::move(shape), 1.0, dtype); }

Tensor full(Shape shape, double value, Dtype dtype) {
  if (dtype == Dtype::Int64 && !(std::isfinite(value) && value == std::trunc(value)))
    throw ValueError(str_cat("[full] ", value, " is not an integer, and the dtype is int64"));
  Tensor t = empty(std::move(shape), dtype);
  Tensor number = empty({}, Dtype::Float64);  // a fresh tensor: version 0, unlike after fill_
  *number.data<double>() = value;
  write_values(number, t);
  return t;
}

Tensor arange(int64_t end, Dtype dtype) { return arange(0.0, static_cast<double>(end), 1.0, dtype); }

Tensor arange(double start, double end, double step, Dtype dtype) {
  if (step == 0.0 || !std::isfinite(step) || !std::isfinite(start) || !std::isfinite(end))
    throw ValueError(
        str_cat("[arange] needs finite start, end and a non-zero step, got ", start, ", ", end, ", ", step));
  const int64_t n = checked_int64(std::max(0.0, std::ceil((end - start) / step)), "arange", 0);  // the count
  int64_t i = 0;
  return fill_from(
      empty({n}, dtype), [&] { return start + step * static_cast<double>(i++); }, "arange");
}

// PyTorch's linspace: step = (end − start) / (steps − 1); value i = start + i·step for i < steps / 2,
// end − (steps − 1 − i)·step after.
Tensor linspace(double start, double end, int64_t steps, Dtype dtype) {
  if (steps < 0) throw ValueError(str_cat("[linspace] steps must be >= 0, got ", steps));
  if (!std::isfinite(start) || !std::isfinite(end))
    throw ValueError(str_cat("[linspace] needs finite start and end, got ", start, ", ", end));
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  int64_t i = 0;
  return fill_from(
      empty({steps}, dtype),
      [&] {
        const int64_t k = i++;
        return k < steps / 2 ? start + step * static_cast<double>(k) : end - step * static_cast<double>(steps - 1 - k);
      },
      "linspace");
}

Tensor rand(Shape shape, Generator& gen, Dtype dtype) { return uniform(std::move(shape), 0.0, 1.0, gen, dtype); }

Tensor uniform(Shape shape, double low, double high, Generator& gen, Dtype dtype) {
  if (dtype == Dtype::Int64) throw ValueError("[uniform] dtype must be float32 or float64, got int64");
  return fill_from(
      empty(std::move(shape), dtype), [&] { return low + (high - low) * gen.uniform(); }, "uniform");
}

Tensor randn(Shape shape, Generator& gen, Dtype dtype) {
  if (dtype == Dtype::Int64) throw ValueError("[randn] dtype must be float32 or float64, got int64");
  return fill_from(
      empty(std::move(shape), dtype), [&] { return gen.normal(); }, "randn");
}

Tensor randint(int64_t low, int64_t high, Shape shape, Generator& gen) {
  if (high <= low) throw ValueError(str_cat("[randint] needs low < high, got low ", low, ", high ", high));
  return fill_from(
      empty(std::move(shape), Dtype::Int64), [&] { return gen.uniform_int(low, high); }, "randint");
}

// Fisher–Yates: swap each position with a uniformly chosen one at or before it.
Tensor randperm(int64_t n, Generator& gen) {
  if (n < 0) throw ValueError(str_cat("[randperm] n must be >= 0, got ", n));
  Tensor t = empty({n}, Dtype::Int64);
  int64_t* p = t.data<int64_t>();
  std::iota(p, p + n, int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[gen.uniform_int(0, i + 1)]);
  return t;
}

Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype()); }

}  // namespace humble
