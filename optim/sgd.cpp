// optim/sgd.cpp — SGD's validation and its fused update.
#include "sgd.hpp"

#include "../core/error.hpp"

namespace humble::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector{ParamGroup{.params = std::move(params)}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions o)
    : Optimizer("SGD", std::move(groups), o.lr, o.weight_decay,
                o.momentum != 0 ? std::optional(o.momentum) : std::nullopt,
                std::vector<Slot>(o.momentum != 0 ? 1 : 0, Slot{"momentum_buffer"})),
      options_(o) {
  if (!(o.momentum >= 0) || !(o.dampening >= 0))
    throw ValueError(
        str_cat("[SGD] momentum and dampening must be >= 0, got momentum ", o.momentum, ", dampening ", o.dampening));
  if (o.nesterov && (o.momentum == 0 || o.dampening != 0))
    throw ValueError(str_cat("[SGD] nesterov needs momentum > 0 and dampening = 0, got momentum ", o.momentum,
                             ", dampening ", o.dampening));
}

void SGD::update(Tensor& p, const Tensor& g, State& s, const Group& group) {
  const bool first = s.step == 1;
  for_chunks(p, [&](auto zero, int64_t lo, int64_t hi) {
    using T = decltype(zero);
    const T lr = T(group.lr), decay = T(group.weight_decay), mu = T(group.momentum), keep = T(1 - options_.dampening);
    T* w = p.data<T>();
    const T* d = g.data<T>();
    T* b = s.slots.empty() ? nullptr : s.slots[0].data<T>();
    for (int64_t i = lo; i < hi; ++i) {
      T step = decay != 0 ? d[i] + decay * w[i] : d[i];
      if (b) {
        b[i] = first ? step : mu * b[i] + keep * step;
        step = options_.nesterov ? step + mu * b[i] : b[i];
      }
      w[i] -= lr * step;
    }
  });
}

}  // namespace humble::optim
