// tests/fuzz/checkpoint_run.hpp — the training run whose checkpoint fuzz_checkpoint loads: a small
// model (Linear, BatchNorm1d, ReLU, Dropout, Linear), an optimizer (Adam, SGD with momentum, or
// centred RMSprop with momentum), a scheduler (StepLR or OneCycleLR) and the generator Dropout draws
// from, after one training step, so that every kind of entry exists. seeds.cpp saves its checkpoints.
#pragma once

#include <humble/humble.hpp>
#include <memory>

namespace humble::fuzz {

struct CheckpointRun {
  Generator gen{7};
  std::shared_ptr<nn::Sequential> model = std::make_shared<nn::Sequential>(nn::Sequential{
      std::make_shared<nn::Linear>(3, 4, true, gen), std::make_shared<nn::BatchNorm1d>(4), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Dropout>(0.25, gen), std::make_shared<nn::Linear>(4, 2, true, gen)});
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;

  // optimizer_kind: 0 Adam, 1 SGD, 2 RMSprop; one_cycle: OneCycleLR instead of StepLR.
  CheckpointRun(int optimizer_kind, bool one_cycle) {
    const std::vector<Tensor> params = model->parameters();
    if (optimizer_kind == 0) optimizer = std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 0.01});
    if (optimizer_kind == 1)
      optimizer = std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
    if (optimizer_kind == 2)
      optimizer = std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions{.momentum = 0.5, .centered = true});
    if (one_cycle)
      scheduler =
          std::make_unique<optim::OneCycleLR>(*optimizer, optim::OneCycleLROptions{.max_lr = 0.1, .total_steps = 8});
    else
      scheduler = std::make_unique<optim::StepLR>(*optimizer, 2, 0.5);
    step();
  }

  // One training step on a fixed batch (4, 3) with labels (4).
  void step() {
    model->train();
    const Tensor x = tensor({0.5, -1, 2, 1, 0, -0.5, -2, 1.5, 0.25, 0, 1, -1}, {4, 3});
    const Tensor y = tensor({0, 1, 1, 0}, {4}, Dtype::Int64);
    const Tensor loss = losses::cross_entropy((*model)(x), y, {.label_smoothing = 0.1});
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    scheduler->step();
  }

  training::Checkpoint checkpoint() {
    return {.model = model.get(),
            .optimizer = optimizer.get(),
            .scheduler = scheduler.get(),
            .generator = &gen,
            .epoch = 1,
            .step = 1};
  }
};

}  // namespace humble::fuzz
