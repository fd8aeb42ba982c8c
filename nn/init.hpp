// nn/init.hpp — in-place weight initialisers, PyTorch's formulas (torch.nn.init).
//
// fan_in = size(1)·receptive, fan_out = size(0)·receptive, receptive = Π size(2:) (so a Linear
// weight (out, in) has fan_in = in, a Conv2d weight (O, C, KH, KW) has fan_in = C·KH·KW).
// gain(a) = √(2 / (1 + a²)) is the leaky-ReLU gain (a = 0: ReLU's √2).
//   xavier_uniform: U(±gain·√(6 / (fan_in + fan_out)))    xavier_normal: N(0, gain²·2 / (fan_in + fan_out))
//   kaiming_uniform: U(±gain(a)·√(3 / fan))               kaiming_normal: N(0, gain(a)² / fan)
// Values are drawn in row-major order from the Generator, written into the tensor's storage
// (never rebinding it) without recording a graph. References: Glorot & Bengio (2010), He et al. (2015).
#pragma once

#include "../core/generator.hpp"
#include "../core/tensor.hpp"

namespace humble::nn::init {

enum class FanMode { FanIn, FanOut };

void xavier_uniform(Tensor t, double gain = 1.0, Generator& gen = default_generator());
void xavier_normal(Tensor t, double gain = 1.0, Generator& gen = default_generator());
void kaiming_uniform(Tensor t, double a = 0.0, FanMode mode = FanMode::FanIn, Generator& gen = default_generator());
void kaiming_normal(Tensor t, double a = 0.0, FanMode mode = FanMode::FanIn, Generator& gen = default_generator());
void uniform(Tensor t, double low, double high, Generator& gen = default_generator());
void zeros(Tensor t);
void constant(Tensor t, double value);

// PyTorch's default for Linear and Conv2d weights: kaiming_uniform(weight, a = √5), i.e.
// U(±1/√fan_in), then bias (if defined) ~ U(±1/√fan_in).
void default_linear(Tensor weight, Tensor bias, Generator& gen = default_generator());

// (fan_in, fan_out) of a weight of rank >= 2; throws ValueError for lower ranks.
std::pair<int64_t, int64_t> fans(const Tensor& t);

}  // namespace humble::nn::init
