// optim/scheduler.cpp — the schedules' closed forms, validation and state.
#include "scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <tuple>

#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::optim {

LRScheduler::LRScheduler(const char* name, Optimizer& optimizer) : name_(name), optimizer_(&optimizer) {
  for (const auto& group : optimizer.groups()) base_lrs_.push_back(group.lr);
}

// lr(base, epoch), which must be a learning rate: finite and >= 0 (a γ > 1 grows it past any bound).
double LRScheduler::checked_lr(double base, int64_t epoch) const {
  const double lr = lr_at(base, epoch);
  if (!(lr >= 0) || !std::isfinite(lr))
    throw ValueError(str_cat("[", name_, "] the schedule gives lr ", lr, " at epoch ", epoch, " (base lr ", base,
                             "); expected a finite number >= 0"));
  return lr;
}

void LRScheduler::apply(int64_t epoch) {
  std::vector<double> lrs;  // all computed before anything changes: lr_at may throw
  for (double base : base_lrs_) lrs.push_back(checked_lr(base, epoch));
  const std::optional<double> momentum = momentum_at(epoch);
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    optimizer_->groups()[k].lr = lrs[k];
    if (momentum) optimizer_->groups()[k].momentum = *momentum;
  }
  epoch_ = epoch;
}

void LRScheduler::step() {
  if (epoch_ == std::numeric_limits<int64_t>::max())  // (only a loaded state gets here)
    throw ValueError(str_cat("[", name_, "] last_epoch is ", epoch_, ": the epoch count cannot go on"));
  apply(epoch_ + 1);
}

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_->groups()) lrs.push_back(group.lr);
  return lrs;
}

NamedTensors LRScheduler::state_dict() const {
  return {{"last_epoch", int64_scalar(epoch_)},
          {"base_lrs", tensor(base_lrs_, {static_cast<int64_t>(base_lrs_.size())}, Dtype::Float64)}};
}

// The checked (epoch, base lrs) of a state dict; the schedule must be defined there.
std::pair<int64_t, std::vector<double>> LRScheduler::checked(const NamedTensors& state) const {
  const std::string op = str_cat(name_, ".load_state_dict");
  check_named_tensors(
      op, state,
      {{"last_epoch", Dtype::Int64, {}}, {"base_lrs", Dtype::Float64, {static_cast<int64_t>(base_lrs_.size())}}});
  std::pair<int64_t, std::vector<double>> out;
  for (const auto& [name, t] : state) {
    if (name == "last_epoch") out.first = int64_item(t);
    if (name == "base_lrs") {
      check_values(op, name, t, {.nonnegative = true});  // as the optimizer's lrs it was built from
      out.second = t.to_vector();
    }
  }
  if (out.first < 0) throw ValueError(str_cat("[", op, "] entry 'last_epoch' is ", out.first, ", expected >= 0"));
  for (double base : out.second) checked_lr(base, out.first);  // throws where the schedule is undefined
  return out;
}

void LRScheduler::check_state_dict(const NamedTensors& state) const { checked(state); }

void LRScheduler::load_state_dict(const NamedTensors& state) {
  std::tie(epoch_, base_lrs_) = checked(state);
  apply(epoch_);
}

namespace {
void check_gamma(const char* op, double gamma) {
  if (!(gamma > 0) || !std::isfinite(gamma))
    throw ValueError(str_cat("[", op, "] gamma must be a finite number > 0, got ", gamma));
}
}  // namespace

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler("StepLR", optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw ValueError(str_cat("[StepLR] step_size must be >= 1, got ", step_size));
  check_gamma("StepLR", gamma);
  apply(0);
}

double StepLR::lr_at(double base, int64_t epoch) const {
  return base * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler("MultiStepLR", optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  if (!std::is_sorted(milestones_.begin(), milestones_.end()))
    throw ValueError("[MultiStepLR] milestones must be in increasing order");
  check_gamma("MultiStepLR", gamma);
  apply(0);
}

double MultiStepLR::lr_at(double base, int64_t epoch) const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base * std::pow(gamma_, static_cast<double>(passed));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler("CosineAnnealingLR", optimizer), t_max_(t_max), eta_min_(eta_min) {
  if (t_max < 1) throw ValueError(str_cat("[CosineAnnealingLR] T_max must be >= 1, got ", t_max));
  apply(0);
}

double CosineAnnealingLR::lr_at(double base, int64_t epoch) const {
  return eta_min_ + (base - eta_min_) *
                        (1 + std::cos(std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler("LinearLR", optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  if (!(start_factor > 0 && start_factor <= 1) || !(end_factor >= 0 && end_factor <= 1) || total_iters < 1)
    throw ValueError(str_cat("[LinearLR] needs start_factor in (0, 1], end_factor in [0, 1] and total_iters >= 1, got ",
                             start_factor, ", ", end_factor, ", ", total_iters));
  apply(0);
}

double LinearLR::lr_at(double base, int64_t epoch) const {
  const double progress = static_cast<double>(std::min(epoch, total_iters_)) / static_cast<double>(total_iters_);
  return base * (start_factor_ + (end_factor_ - start_factor_) * progress);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, OneCycleLROptions o) : LRScheduler("OneCycleLR", optimizer), options_(o) {
  if (o.total_steps < 1 || !(o.max_lr > 0) || !(o.pct_start >= 0 && o.pct_start <= 1) || !(o.div_factor > 0) ||
      !(o.final_div_factor > 0))
    throw ValueError(
        str_cat("[OneCycleLR] needs total_steps >= 1, max_lr > 0, pct_start in [0, 1] and positive div "
                "factors, got total_steps ",
                o.total_steps, ", max_lr ", o.max_lr, ", pct_start ", o.pct_start));
  if (o.cycle_momentum) {
    if (!(o.base_momentum >= 0 && o.base_momentum <= o.max_momentum && o.max_momentum < 1))
      throw ValueError(str_cat("[OneCycleLR] needs 0 <= base_momentum <= max_momentum < 1, got base_momentum ",
                               o.base_momentum, ", max_momentum ", o.max_momentum));
    if (!optimizer.has_momentum())
      throw ValueError(
          str_cat("[OneCycleLR] cycle_momentum needs an optimizer with a momentum to cycle (SGD or RMSprop "
                  "with momentum > 0, Adam, AdamW); this ",
                  optimizer.name(), " has none: pass cycle_momentum = false"));
  }
  apply(0);
}

std::pair<int, double> OneCycleLR::phase(int64_t epoch) const {
  if (epoch > options_.total_steps)
    throw ValueError(str_cat("[OneCycleLR] stepped ", epoch, " times but total_steps is ", options_.total_steps));
  const double warm_end = options_.pct_start * static_cast<double>(options_.total_steps) - 1;
  const double last = static_cast<double>(options_.total_steps) - 1, e = static_cast<double>(epoch);
  if (e <= warm_end) return {0, e / warm_end};
  return {1, (e - warm_end) / (last - warm_end)};
}

namespace {
// From start (pct = 0) to end (pct = 1) along half a cosine.
double anneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}
}  // namespace

double OneCycleLR::lr_at(double, int64_t epoch) const {
  const double initial = options_.max_lr / options_.div_factor, final = initial / options_.final_div_factor;
  const auto [which, pct] = phase(epoch);
  return which == 0 ? anneal(initial, options_.max_lr, pct) : anneal(options_.max_lr, final, pct);
}

std::optional<double> OneCycleLR::momentum_at(int64_t epoch) const {
  if (!options_.cycle_momentum) return {};
  const auto [which, pct] = phase(epoch);
  return which == 0 ? anneal(options_.max_momentum, options_.base_momentum, pct)
                    : anneal(options_.base_momentum, options_.max_momentum, pct);
}

}  // namespace humble::optim
