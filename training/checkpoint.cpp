// training/checkpoint.cpp — a run's parts under their prefixes, checked together before any is restored.
#include "checkpoint.hpp"

#include <cstring>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/named_tensors.hpp"

namespace humble::training {
namespace {

// Entries of `all` under "<prefix>.", with the prefix removed.
NamedTensors part_of(const NamedTensors& all, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : all)
    if (name.starts_with(prefix)) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

// The Generator::State words of a checked "generator" entry, bit for bit.
Generator::State generator_state(const Tensor& words) {
  Generator::State state;
  std::memcpy(state.data(), words.raw_data(), sizeof state);
  return state;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  if (c.epoch < 0 || c.step < 0)
    throw ValueError(str_cat("[save_checkpoint] epoch and step must be >= 0, got epoch ", c.epoch, ", step ", c.step));
  NamedTensors entries;
  const auto add = [&entries](const std::string& prefix, const NamedTensors& part) {
    for (const auto& [name, t] : part) entries.emplace_back(prefix + name, t);
  };
  if (c.model) add("model.", c.model->state_dict());
  if (c.optimizer) add("optimizer.", c.optimizer->state_dict());
  if (c.scheduler) add("scheduler.", c.scheduler->state_dict());
  if (c.loader) add("loader.", c.loader->state_dict());
  if (c.split) add("split.", c.split->state_dict());
  if (c.generator) {
    Tensor words = empty({5}, Dtype::Int64);
    const Generator::State state = c.generator->state();
    std::memcpy(words.raw_data(), state.data(), sizeof state);
    entries.emplace_back("generator", words);
  }
  entries.emplace_back("epoch", int64_scalar(c.epoch));
  entries.emplace_back("step", int64_scalar(c.step));
  save_tensors(entries, path);
}

void load_checkpoint(const std::string& path, Checkpoint& c) {
  const NamedTensors entries = load_tensors(path);
  const NamedTensors model = part_of(entries, "model."), optimizer = part_of(entries, "optimizer."),
                     scheduler = part_of(entries, "scheduler."), loader = part_of(entries, "loader."),
                     split = part_of(entries, "split.");
  NamedTensors rest;  // everything outside the parts
  for (const auto& [name, t] : entries)
    if (!name.starts_with("model.") && !name.starts_with("optimizer.") && !name.starts_with("scheduler.") &&
        !name.starts_with("loader.") && !name.starts_with("split."))
      rest.emplace_back(name, t);
  std::vector<TensorSpec> expected{{"epoch", Dtype::Int64, {}}, {"step", Dtype::Int64, {}}};
  if (c.generator) expected.push_back({"generator", Dtype::Int64, {5}});
  // Everything is checked before anything is changed.
  const auto check = [&path](const char* part, const auto* receiver, const NamedTensors& state) {
    check_loaded(path, str_cat(part, ": "), [&] {
      if (receiver)
        receiver->check_state_dict(state);
      else if (!state.empty())
        throw ValueError(
            str_cat("[load_checkpoint] unexpected entry '", state[0].first, "' (no ", part, " was given)"));
    });
  };
  check("model", c.model, model);
  check("optimizer", c.optimizer, optimizer);
  check("scheduler", c.scheduler, scheduler);
  check("loader", c.loader, loader);
  check("split", c.split, split);
  check_loaded(path, "", [&] {
    check_named_tensors("load_checkpoint", rest, expected);
    for (const auto& [name, t] : rest) {
      if (name == "generator") Generator::check_state(generator_state(t));
      if ((name == "epoch" || name == "step") && int64_item(t) < 0)
        throw ValueError(str_cat("[load_checkpoint] entry '", name, "' is ", int64_item(t), ", expected >= 0"));
    }
  });

  if (c.model) c.model->load_state_dict(model);
  if (c.optimizer) c.optimizer->load_state_dict(optimizer);
  if (c.scheduler) c.scheduler->load_state_dict(scheduler);
  if (c.loader) c.loader->load_state_dict(loader);
  if (c.split) c.split->load_state_dict(split);
  for (const auto& [name, t] : rest) {
    if (name == "generator") c.generator->set_state(generator_state(t));
    if (name == "epoch") c.epoch = int64_item(t);
    if (name == "step") c.step = int64_item(t);
  }
}

}  // namespace humble::training
