// nn/checkpoint.hpp — saving a model's state to a file and loading it back.
//
// The file is the module's state_dict() (parameters, then buffers, by dotted name) in the format
// of core/named_tensors.hpp (docs/checkpoint-format.md). Saving is atomic; loading checks the whole
// file and then every entry's name, dtype and shape against the module before it changes anything:
// any problem throws IoError naming the file and the entry, and the module stays exactly as it was.
// Whole training runs (model, optimizer, scheduler, generator, data order) are saved by
// training/checkpoint.hpp, above both nn and optim.
#pragma once

#include <string>

#include "module.hpp"

namespace humble::nn {

void save(const Module& module, const std::string& path);
void load(Module& module, const std::string& path);

}  // namespace humble::nn
