// distributed/checkpoint.hpp — a training run's checkpoint in a data-parallel job.
//
// Every rank holds the same model and optimizer state (DataParallel keeps them equal), so rank 0
// alone writes the file — atomically, as training::save_checkpoint always does — and every rank
// reads it back on resume. Both are collectives: when rank 0 cannot write, or some rank cannot
// read, every rank throws the same IoError naming the rank and the file, instead of the others
// training on (or waiting forever). Saving returns once the file is complete, so a load that
// follows on any rank reads all of it.
#pragma once

#include <string>

#include "../training/checkpoint.hpp"
#include "context.hpp"

namespace humble::distributed {

void save_checkpoint(const Context& context, const std::string& path, const training::Checkpoint& checkpoint);
void load_checkpoint(const Context& context, const std::string& path, training::Checkpoint& checkpoint);

}  // namespace humble::distributed
