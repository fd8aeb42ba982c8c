// nn/checkpoint.hpp — saving and loading models, optimizers and whole training runs.
//
// A file holds named tensors (format: docs/checkpoint-format.md): magic, format version, CRC-32
// of the payload, then entries by dotted name with dtype, shape and little-endian data.
// Saving is atomic: the bytes go to a temporary file in the target's directory, which is flushed,
// fsync'd and renamed over the target (then the directory is fsync'd); on any failure the
// temporary file is removed and an existing target is left untouched. Loading validates the
// whole file (magic, version, size, CRC, entries) and then every entry's name, dtype and shape
// against the receivers before it changes anything; any problem throws IoError naming the file
// and the entry, and the receivers stay exactly as they were.
#pragma once

#include <string>

#include "../core/generator.hpp"
#include "../optim/optimizer.hpp"
#include "../optim/scheduler.hpp"
#include "module.hpp"

namespace humble::nn {

void save_tensors(const NamedTensors& entries, const std::string& path);
NamedTensors load_tensors(const std::string& path);  // format checks only

void save(const Module& module, const std::string& path);  // the module's state_dict()
void load(Module& module, const std::string& path);
void save(const optim::Optimizer& optimizer, const std::string& path);  // lrs, step counts and buffers
void load(optim::Optimizer& optimizer, const std::string& path);

// One training run. Null parts are neither saved nor expected.
struct Checkpoint {
  Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::LRScheduler* scheduler = nullptr;
  Generator* generator = nullptr;  // e.g. the one Dropout and the data shuffling draw from
  int64_t epoch = 0;
  int64_t step = 0;
};

// Entries "model.<name>", "optimizer.<name>", "scheduler.<name>", "generator" (int64 (5): the
// state words, bit for bit), "epoch" and "step" (int64 scalars).
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// The file must hold exactly the non-null parts; restores them all and sets epoch and step.
void load_checkpoint(const std::string& path, Checkpoint& checkpoint);

}  // namespace humble::nn
