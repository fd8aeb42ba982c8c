// optim/scheduler.hpp — learning-rate schedules over an optimizer's groups.
//
// A scheduler keeps the epoch counter e (0 at construction; one step() per epoch or per batch, as
// the schedule is meant) and each group's base lr (its lr at construction); construction and
// every step() write lr(base, e) into each group. All schedules are closed forms of e, so a run
// resumed from a checkpoint reproduces the same bits; PyTorch computes the chainable ones
// recursively from the previous lr, which agrees to rounding (~1e-16 relative).
//   StepLR             base · γ^⌊e / step_size⌋
//   MultiStepLR        base · γ^(number of milestones <= e)
//   CosineAnnealingLR  η_min + (base − η_min) · (1 + cos(π e / T_max)) / 2
//   LinearLR           base · (f₀ + (f₁ − f₀) · min(e, total_iters) / total_iters)   (linear warm-up)
//   OneCycleLR         torch's two-phase cosine one-cycle (three_phase = false): from max_lr / div
//                      up to max_lr at step pct_start·total − 1, then down to max_lr / (div · final_div)
//                      at step total − 1, each phase lr = end + (start − end)(1 + cos(π·pct)) / 2.
//                      With cycle_momentum (the default, as in torch) the momentum (SGD's and
//                      RMSprop's μ, Adam's β1) runs the other way, max_momentum → base_momentum →
//                      max_momentum, on the same phases; an optimizer without one is an error.
// References: torch.optim.lr_scheduler; Loshchilov & Hutter, SGDR (2017); Smith & Topin,
// "Super-Convergence" (2018).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "optimizer.hpp"

namespace humble::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  void step();  // e ← e + 1, then every group's lr ← lr(base, e)
  int64_t last_epoch() const { return epoch_; }
  std::vector<double> last_lr() const;  // each group's current lr

  NamedTensors state_dict() const;  // "last_epoch" int64 scalar, "base_lrs" float64 (G)
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);  // checks, restores, then re-applies lr(base, e)

 protected:
  LRScheduler(const char* name, Optimizer& optimizer);
  void apply(int64_t epoch);  // every group's lr ← lr(base, epoch), then e ← epoch; constructors end with apply(0)
  virtual double lr_at(double base_lr, int64_t epoch) const = 0;
  double checked_lr(double base_lr, int64_t epoch) const;  // lr_at, which must be finite and >= 0
  virtual std::optional<double> momentum_at(int64_t /*epoch*/) const { return {}; }  // none: momentum left alone
  const char* name_;

 private:
  std::pair<int64_t, std::vector<double>> checked(const NamedTensors& state) const;
  Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  int64_t epoch_ = 0;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  int64_t step_size_;
  double gamma_;
};

class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);  // milestones increasing

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  int64_t t_max_;
  double eta_min_;
};

class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

struct OneCycleLROptions {
  double max_lr = 0;
  int64_t total_steps = 0;  // the schedule ends at step total_steps − 1; step() past total_steps throws
  double pct_start = 0.3;
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool cycle_momentum = true;
  double base_momentum = 0.85;  // 0 <= base_momentum <= max_momentum < 1
  double max_momentum = 0.95;
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  std::optional<double> momentum_at(int64_t epoch) const override;
  // The phase of `epoch` (0 warm-up, 1 annealing) and how far into it, in [0, 1].
  std::pair<int, double> phase(int64_t epoch) const;
  OneCycleLROptions options_;
};

}  // namespace humble::optim
