// core/factories.hpp — making tensors: from values, constants, ranges and random draws.
//
// Every random factory takes a Generator, so the same seed gives the same tensor everywhere.
#pragma once

#include <cstdint>
#include <vector>

#include "generator.hpp"
#include "tensor.hpp"

namespace humble {

// `values` are row-major; their count must equal the shape's product.
Tensor tensor(const std::vector<double>& values, Shape shape, Dtype dtype = Dtype::Float32, bool requires_grad = false);
Tensor scalar_tensor(double value, Dtype dtype = Dtype::Float32);  // shape ()

Tensor zeros(Shape shape, Dtype dtype = Dtype::Float32);
Tensor ones(Shape shape, Dtype dtype = Dtype::Float32);
Tensor full(Shape shape, double value, Dtype dtype = Dtype::Float32);
Tensor arange(int64_t end, Dtype dtype = Dtype::Int64);  // 0, 1, ..., end − 1
Tensor arange(double start, double end, double step, Dtype dtype = Dtype::Float32);

Tensor rand(Shape shape, Generator& gen, Dtype dtype = Dtype::Float32);  // U[0, 1)
Tensor uniform(Shape shape, double low, double high, Generator& gen, Dtype dtype = Dtype::Float32);
Tensor randn(Shape shape, Generator& gen, Dtype dtype = Dtype::Float32);  // N(0, 1)
Tensor randint(int64_t low, int64_t high, Shape shape, Generator& gen);   // Int64 in [low, high)
Tensor randperm(int64_t n, Generator& gen);                               // Int64 permutation

Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor empty_like(const Tensor& t);

}  // namespace humble
