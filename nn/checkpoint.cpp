// nn/checkpoint.cpp — a module's state to and from a checkpoint file.
#include "checkpoint.hpp"

#include "../core/named_tensors.hpp"

namespace humble::nn {

void save(const Module& module, const std::string& path) { save_tensors(module.state_dict(), path); }

void load(Module& module, const std::string& path) {
  const NamedTensors entries = load_tensors(path);
  check_loaded(path, "", [&] { module.check_state_dict(entries); });
  module.load_state_dict(entries);
}

}  // namespace humble::nn
