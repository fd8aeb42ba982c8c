// training/checkpoint.hpp — one training run saved to a file and resumed from it.
//
// training/ sits above nn and optim: a run's state spans a model, its optimizer and scheduler, the
// generator its layers and data draw from, the data loader's place in its epoch and the
// train/validation split, and its position (epoch, step). The file format is core/named_tensors.hpp's
// (docs/checkpoint-format.md): entries "model.<name>", "optimizer.<name>", "scheduler.<name>",
// "loader.<name>", "split.<name>", "generator" (int64 (5): the state words, bit for bit), "epoch"
// and "step" (int64 scalars). Saved mid-epoch, a loader resumes that epoch at its next batch;
// saved after an epoch's last batch, it starts the next one (store epoch + 1 then). Saving is atomic; loading checks
// every part before it changes any, so a failed load (IoError naming the file, the part and the entry) leaves every
// receiver as it was.
#pragma once

#include <string>

#include "../core/generator.hpp"
#include "../data/dataset.hpp"
#include "../nn/module.hpp"
#include "../optim/optimizer.hpp"
#include "../optim/scheduler.hpp"

namespace humble::training {

// One training run. Null parts are neither saved nor expected.
struct Checkpoint {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::LRScheduler* scheduler = nullptr;
  Generator* generator = nullptr;  // e.g. the one Dropout and the data shuffling draw from
  data::DataLoader* loader = nullptr;
  data::TrainValidationSplit* split = nullptr;
  int64_t epoch = 0;
  int64_t step = 0;
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// The file must hold exactly the non-null parts; restores them all and sets epoch and step.
void load_checkpoint(const std::string& path, Checkpoint& checkpoint);

}  // namespace humble::training
