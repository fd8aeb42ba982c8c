// optim/optimizer.hpp — the Optimizer base: parameter groups, per-parameter state, step(), zero_grad(),
// state dicts; and clip_grad_norm.
//
// An optimizer sees only tensors: a flat list of parameters, or parameter groups each with its
// own lr and weight decay (e.g. no decay on biases). State (step count and buffers such as
// momentum) is kept by position in the flattened list, never by pointer. step() runs under
// no-grad and writes every update into the parameter's own storage (rebinding it would detach
// the model's weights), one fused loop per tensor, in parallel chunks above kElementwiseGrain.
// Parameters whose .grad() is undefined are skipped, as in PyTorch.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/dispatch.hpp"
#include "../core/named_tensors.hpp"
#include "../core/parallel.hpp"
#include "../core/tensor.hpp"

namespace humble::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr = {};            // unset: the optimizer's
  std::optional<double> weight_decay = {};  // unset: the optimizer's
};

class Optimizer {
 public:
  struct Slot {  // a per-parameter buffer: its name in state dicts, and whether it is a square (>= 0)
    std::string name;
    bool nonnegative = false;
  };
  struct Group {
    std::vector<Tensor> params;
    double lr, weight_decay;
    double momentum;  // SGD's and RMSprop's μ, Adam's β1 (0 when the optimizer has none): what
                      // OneCycleLR cycles
  };

  virtual ~Optimizer() = default;
  void step();
  void zero_grad();  // every parameter's .grad() becomes undefined

  std::vector<Group>& groups() { return groups_; }  // schedulers set each group's lr (and momentum) here
  const std::vector<Group>& groups() const { return groups_; }
  int64_t step_count(std::size_t position) const { return state_.at(position).step; }
  bool has_momentum() const { return has_momentum_; }  // built with a momentum (or β1) to use
  const char* name() const { return name_; }

  // "lr" (G) float64; for each parameter with state: "state.<i>.step" (int64 scalar) and
  // "state.<i>.<buffer>" (the parameter's shape and dtype).
  NamedTensors state_dict() const;
  // Throws ValueError/ShapeError "[<name>.load_state_dict] …" naming the first missing, unexpected or
  // mismatched entry, or a value no run could have reached: an lr that is negative or not finite, a
  // step below 1, a buffer value that is not finite (or negative, for squares such as exp_avg_sq).
  void check_state_dict(const NamedTensors& state) const;
  void load_state_dict(const NamedTensors& state);  // checks everything, then copies

 protected:
  struct State {
    int64_t step = 0;           // updates applied so far, counting this one inside update()
    std::vector<Tensor> slots;  // buffers named by slots_, zeros before the first step
  };
  // `name` prefixes error messages. Validates lrs and weight decays (finite, >= 0) of every group.
  // momentum: every group's starting momentum, or none when the optimizer does not use one.
  Optimizer(const char* name, std::vector<ParamGroup> groups, double lr, double weight_decay,
            std::optional<double> momentum, std::vector<Slot> slots);
  // One fused, in-place update of p (contiguous) from its gradient g and state s.
  virtual void update(Tensor& p, const Tensor& g, State& s, const Group& group) = 0;

  // Runs body(T{}, begin, end) over chunks of p's elements with T its float type.
  template <class Body>
  void for_chunks(const Tensor& p, Body body) const {
    dispatch_float(p.dtype(), name_, [&]<class T>() {
      parallel_for(p.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) { body(T{}, lo, hi); });
    });
  }

  const char* name_;

 private:
  std::vector<Group> groups_;
  bool has_momentum_;
  std::vector<Slot> slots_;
  std::vector<State> state_;  // by position across the groups
};

// An optimizer's state to and from a checkpoint file (core/named_tensors.hpp): atomic save; load
// checks everything first and throws IoError naming the file, leaving the optimizer unchanged.
void save(const Optimizer& optimizer, const std::string& path);
void load(Optimizer& optimizer, const std::string& path);

// Scales every defined gradient in place by min(1, max_norm / (total + 1e-6)), where total is the
// norm_type-norm of all gradients together (norm_type may be +inf); returns total, like
// torch.nn.utils.clip_grad_norm_.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace humble::optim
