// optim/optimizer.cpp — groups, the step loop, state dicts and gradient-norm clipping.
#include "optimizer.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "../autograd/graph.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/profile.hpp"

namespace humble::optim {

Optimizer::Optimizer(const char* name, std::vector<ParamGroup> groups, double lr, double weight_decay,
                     std::optional<double> momentum, std::vector<Slot> slots)
    : name_(name), has_momentum_(momentum.has_value()), slots_(std::move(slots)) {
  for (std::size_t k = 0; k < groups.size(); ++k) {
    Group group{std::move(groups[k].params), groups[k].lr.value_or(lr), groups[k].weight_decay.value_or(weight_decay),
                momentum.value_or(0.0)};
    if (!(group.lr >= 0) || !std::isfinite(group.lr))
      throw ValueError(str_cat("[", name, "] lr must be a finite number >= 0, got ", group.lr, " (group ", k, ")"));
    if (!(group.weight_decay >= 0) || !std::isfinite(group.weight_decay))
      throw ValueError(str_cat("[", name, "] weight_decay must be a finite number >= 0, got ", group.weight_decay,
                               " (group ", k, ")"));
    for (const Tensor& p : group.params)
      if (!p.defined() || !p.is_floating_point() || !p.is_contiguous())
        throw ValueError(
            str_cat("[", name, "] every parameter must be a defined, contiguous float tensor (group ", k, ")"));
    state_.resize(state_.size() + group.params.size());
    groups_.push_back(std::move(group));
  }
}

void Optimizer::step() {
  const profile::Frame frame(name_, ".step");
  NoGradGuard no_grad;
  std::size_t position = 0;
  for (const Group& group : groups_)
    for (Tensor p : group.params) {
      State& s = state_[position++];
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      while (s.slots.size() < slots_.size()) s.slots.push_back(zeros_like(p));
      if (s.step == std::numeric_limits<int64_t>::max())  // (only a loaded state gets here)
        throw ValueError(str_cat("[", name_, "] parameter ", position - 1, " has taken ", s.step,
                                 " steps: its step count cannot go on"));
      ++s.step;
      update(p, g, s, group);
      p.bump_version();  // written through data<T>(): a graph that saved p must not use it any more
    }
}

void Optimizer::zero_grad() {
  const profile::Frame frame(name_, ".zero_grad");
  for (const Group& group : groups_)
    for (const Tensor& p : group.params) p.set_grad(Tensor());
}

NamedTensors Optimizer::state_dict() const {
  std::vector<double> lrs;
  for (const Group& group : groups_) lrs.push_back(group.lr);
  NamedTensors out{{"lr", tensor(lrs, {static_cast<int64_t>(lrs.size())}, Dtype::Float64)}};
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].step == 0) continue;
    out.emplace_back(str_cat("state.", i, ".step"), int64_scalar(state_[i].step));
    for (std::size_t k = 0; k < slots_.size(); ++k)
      out.emplace_back(str_cat("state.", i, ".", slots_[k].name), state_[i].slots[k].detach());
  }
  return out;
}

void Optimizer::check_state_dict(const NamedTensors& state) const {
  std::set<std::string> names;
  for (const auto& [name, _] : state) names.insert(name);
  std::vector<TensorSpec> expected{{"lr", Dtype::Float64, {static_cast<int64_t>(groups_.size())}}};
  std::size_t i = 0;
  for (const Group& group : groups_)
    for (const Tensor& p : group.params) {
      if (names.count(str_cat("state.", i, ".step"))) {
        expected.push_back({str_cat("state.", i, ".step"), Dtype::Int64, {}});
        for (const Slot& slot : slots_)
          expected.push_back({str_cat("state.", i, ".", slot.name), p.dtype(), p.shape()});
      }
      ++i;
    }
  const std::string op = str_cat(name_, ".load_state_dict");
  check_named_tensors(op, state, expected);
  // The values, as the constructor and step() would have left them.
  for (const auto& [name, t] : state) {
    if (name == "lr") {
      check_values(op, name, t, {.nonnegative = true});
    } else if (name.ends_with(".step")) {
      if (const int64_t step = int64_item(t); step < 1)
        throw ValueError(str_cat("[", op, "] entry '", name, "' is ", step, ", expected a step count >= 1"));
    } else {
      const std::string slot = name.substr(name.rfind('.') + 1);
      for (const Slot& s : slots_)
        if (s.name == slot) check_values(op, name, t, {.nonnegative = s.nonnegative});
    }
  }
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  check_state_dict(state);
  const std::map<std::string, Tensor> by_name(state.begin(), state.end());
  const std::vector<double> lrs = by_name.at("lr").to_vector();
  for (std::size_t k = 0; k < groups_.size(); ++k) groups_[k].lr = lrs[k];
  for (std::size_t i = 0; i < state_.size(); ++i) {
    State s;
    if (const auto it = by_name.find(str_cat("state.", i, ".step")); it != by_name.end()) {
      s.step = int64_item(it->second);
      for (const Slot& slot : slots_)
        s.slots.push_back(by_name.at(str_cat("state.", i, ".", slot.name)).detach().clone());
    }
    state_[i] = std::move(s);
  }
}

void save(const Optimizer& optimizer, const std::string& path) { save_tensors(optimizer.state_dict(), path); }

void load(Optimizer& optimizer, const std::string& path) {
  const NamedTensors entries = load_tensors(path);
  check_loaded(path, "", [&] { optimizer.check_state_dict(entries); });
  optimizer.load_state_dict(entries);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  if (!(norm_type > 0)) throw ValueError(str_cat("[clip_grad_norm] norm_type must be > 0 or inf, got ", norm_type));
  const bool inf = std::isinf(norm_type);
  double total = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    dispatch_float(g.dtype(), "clip_grad_norm", [&]<class T>() {
      const T* d = g.data<T>();
      if (inf) {
        for (int64_t i = 0; i < g.numel(); ++i) total = std::max<double>(total, std::abs(d[i]));
        return;
      }
      total += deterministic_sum(g.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        double s = 0;
        for (int64_t i = lo; i < hi; ++i)
          s += norm_type == 2 ? double(d[i]) * d[i] : std::pow(std::abs(double(d[i])), norm_type);
        return s;
      });
    });
  }
  if (!inf) total = std::pow(total, 1 / norm_type);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (const Tensor& p : params)
      if (Tensor g = p.grad(); g.defined())
        dispatch_float(g.dtype(), "clip_grad_norm", [&]<class T>() {
          T* d = g.data<T>();
          parallel_for(g.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) d[i] *= static_cast<T>(coef);
          });
        });
  return total;
}

}  // namespace humble::optim
