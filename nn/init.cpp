// nn/init.cpp — fan computation and the initialisers' formulas.
#include "init.hpp"

#include <cmath>

#include "../autograd/graph.hpp"
#include "../autograd/ops.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::nn::init {
namespace {

double leaky_gain(double a) { return std::sqrt(2.0 / (1.0 + a * a)); }

int64_t fan(const Tensor& t, FanMode mode) { return mode == FanMode::FanIn ? fans(t).first : fans(t).second; }

}  // namespace

std::pair<int64_t, int64_t> fans(const Tensor& t) {
  if (t.dim() < 2)
    throw ValueError(str_cat("[init] fan in/out need a tensor of rank >= 2, got shape ", shape_str(t.shape())));
  const int64_t receptive = t.numel() / (t.shape()[0] * t.shape()[1]);
  return {t.shape()[1] * receptive, t.shape()[0] * receptive};
}

void uniform(Tensor t, double low, double high, Generator& gen) {
  NoGradGuard no_grad;  // initialising writes a parameter in place
  t.copy_(humble::uniform(t.shape(), low, high, gen, t.dtype()));
}

void xavier_uniform(Tensor t, double gain, Generator& gen) {
  const auto [in, out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  uniform(t, -bound, bound, gen);
}

void xavier_normal(Tensor t, double gain, Generator& gen) {
  const auto [in, out] = fans(t);
  NoGradGuard no_grad;
  t.copy_(randn(t.shape(), gen, t.dtype()) * (gain * std::sqrt(2.0 / static_cast<double>(in + out))));
}

void kaiming_uniform(Tensor t, double a, FanMode mode, Generator& gen) {
  const double bound = leaky_gain(a) * std::sqrt(3.0 / static_cast<double>(fan(t, mode)));
  uniform(t, -bound, bound, gen);
}

void kaiming_normal(Tensor t, double a, FanMode mode, Generator& gen) {
  NoGradGuard no_grad;
  t.copy_(randn(t.shape(), gen, t.dtype()) * (leaky_gain(a) / std::sqrt(static_cast<double>(fan(t, mode)))));
}

void default_linear(Tensor weight, Tensor bias, Generator& gen) {
  kaiming_uniform(weight, std::sqrt(5.0), FanMode::FanIn, gen);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fans(weight).first));
  if (bias.defined()) uniform(bias, -bound, bound, gen);
}

void zeros(Tensor t) { constant(t, 0.0); }
void constant(Tensor t, double value) {
  NoGradGuard no_grad;
  t.fill_(value);
}

}  // namespace humble::nn::init
