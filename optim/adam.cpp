// optim/adam.cpp — Adam/AdamW validation and their fused update.
#include "adam.hpp"

#include <cmath>

#include "../core/error.hpp"
#include "../core/simd.hpp"

namespace humble::optim {
namespace {

// One step's scalars, in the parameter's type (formulas in adam.hpp).
template <class T>
struct Step {
  T b1c, b2, b2c, eps, rate, root, decay, shrink;
  bool decoupled;
};

// The scalars are read into locals first: the arrays could alias `step` as far as the compiler
// knows, and it would then reload them on every element instead of vectorizing the loop.
template <class T>
[[gnu::always_inline]] inline void update_elements(const Step<T>& step, T* w, T* m, T* v, const T* d, int64_t lo,
                                                   int64_t hi) {
  const Step<T> s = step;
  for (int64_t i = lo; i < hi; ++i) {
    T grad = d[i];
    if (s.decoupled)
      w[i] *= s.shrink;
    else if (s.decay != 0)
      grad += s.decay * w[i];
    m[i] += s.b1c * (grad - m[i]);
    v[i] = v[i] * s.b2 + s.b2c * grad * grad;
    w[i] -= s.rate * m[i] / (std::sqrt(v[i]) / s.root + s.eps);
  }
}

// Built twice (HUMBLE_SIMD_CLONES): plain x86-64, and x86-64-v3, whose 8-wide divisions and square
// roots (the update's bottleneck) take about half the time. This file is compiled without
// floating-point contraction (CMakeLists.txt), so that both builds give the same bits.
HUMBLE_SIMD_CLONES void update_chunk(const Step<float>& s, float* w, float* m, float* v, const float* d, int64_t lo,
                                     int64_t hi) {
  update_elements(s, w, m, v, d, lo, hi);
}
HUMBLE_SIMD_CLONES void update_chunk(const Step<double>& s, double* w, double* m, double* v, const double* d,
                                     int64_t lo, int64_t hi) {
  update_elements(s, w, m, v, d, lo, hi);
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam("Adam", std::vector{ParamGroup{.params = std::move(params)}}, options, false) {}
Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options) : Adam("Adam", std::move(groups), options, false) {}

Adam::Adam(const char* name, std::vector<ParamGroup> groups, AdamOptions o, bool decoupled)
    : Optimizer(name, std::move(groups), o.lr, o.weight_decay, o.betas.first, {{"exp_avg"}, {"exp_avg_sq", true}}),
      options_(o),
      decoupled_(decoupled) {
  const auto [b1, b2] = o.betas;
  if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1))
    throw ValueError(str_cat("[", name, "] betas must lie in [0, 1), got (", b1, ", ", b2, ")"));
  if (!(o.eps >= 0)) throw ValueError(str_cat("[", name, "] eps must be >= 0, got ", o.eps));
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions o)
    : AdamW(std::vector{ParamGroup{.params = std::move(params)}}, o) {}
AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions o)
    : Adam("AdamW", std::move(groups), {o.lr, o.betas, o.eps, o.weight_decay}, true) {}

void Adam::update(Tensor& p, const Tensor& g, State& s, const Group& group) {
  const double beta1 = group.momentum, beta2 = options_.betas.second;  // β1 as the group has it (OneCycleLR cycles it)
  const double t = static_cast<double>(s.step);
  const double step_size = group.lr / (1 - std::pow(beta1, t));
  const double correction2_sqrt = std::sqrt(1 - std::pow(beta2, t));
  for_chunks(p, [&](auto zero, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    const Step<T> step{.b1c = T(1 - beta1),
                       .b2 = T(beta2),
                       .b2c = T(1 - beta2),
                       .eps = T(options_.eps),
                       .rate = T(step_size),
                       .root = T(correction2_sqrt),
                       .decay = T(group.weight_decay),
                       .shrink = T(1 - group.lr * group.weight_decay),
                       .decoupled = decoupled_};
    update_chunk(step, p.data<T>(), s.slots[0].data<T>(), s.slots[1].data<T>(), g.data<T>(), lo, hi);
  });
}

}  // namespace humble::optim
