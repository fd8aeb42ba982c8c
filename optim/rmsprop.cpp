// optim/rmsprop.cpp — RMSprop's validation and its fused update.
#include "rmsprop.hpp"

#include <algorithm>
#include <cmath>

#include "../core/error.hpp"

namespace humble::optim {
namespace {

// square_avg (>= 0) always; then momentum_buffer and grad_avg when used (in that order).
std::vector<Optimizer::Slot> slots(const RMSpropOptions& o) {
  std::vector<Optimizer::Slot> slots{{"square_avg", true}};
  if (o.momentum > 0) slots.push_back({"momentum_buffer"});
  if (o.centered) slots.push_back({"grad_avg"});
  return slots;
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector{ParamGroup{.params = std::move(params)}}, options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions o)
    : Optimizer("RMSprop", std::move(groups), o.lr, o.weight_decay,
                o.momentum > 0 ? std::optional(o.momentum) : std::nullopt, slots(o)),
      options_(o) {
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw ValueError(str_cat("[RMSprop] alpha must lie in [0, 1], got ", o.alpha));
  if (!(o.eps >= 0) || !(o.momentum >= 0))
    throw ValueError(str_cat("[RMSprop] eps and momentum must be >= 0, got eps ", o.eps, ", momentum ", o.momentum));
}

void RMSprop::update(Tensor& p, const Tensor& g, State& s, const Group& group) {
  for_chunks(p, [&](auto zero, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    const T lr = T(group.lr), decay = T(group.weight_decay), alpha = T(options_.alpha), rest = T(1 - options_.alpha),
            eps = T(options_.eps), mu = T(group.momentum);
    T *w = p.data<T>(), *sq = s.slots[0].data<T>();
    T* b = options_.momentum > 0 ? s.slots[1].data<T>() : nullptr;
    T* a = options_.centered ? s.slots.back().data<T>() : nullptr;
    const T* d = g.data<T>();
    for (int64_t i = lo; i < hi; ++i) {
      const T grad = decay != 0 ? d[i] + decay * w[i] : d[i];
      sq[i] = sq[i] * alpha + rest * grad * grad;
      T sigma;
      if (a) {
        a[i] += rest * (grad - a[i]);
        // s − a² is a variance, >= 0, but rounds below 0 once a steady gradient makes s ≈ a².
        sigma = std::sqrt(std::max(sq[i] - a[i] * a[i], T(0))) + eps;
      } else {
        sigma = std::sqrt(sq[i]) + eps;
      }
      if (b) {
        b[i] = b[i] * mu + grad / sigma;
        w[i] -= lr * b[i];
      } else {
        w[i] -= lr * grad / sigma;
      }
    }
  });
}

}  // namespace humble::optim
