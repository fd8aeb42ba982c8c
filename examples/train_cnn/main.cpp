// examples/train_cnn — a LeNet-style CNN learns which quadrant of a 16×16 image holds a bright blob,
// and a run stopped at any step resumes exactly where it stopped.
//
// Synthetic data (noise + one Gaussian blob, stored as uint8 images) in a shuffling DataLoader,
// Dropout, AdamW with a one-cycle schedule. The run's checkpoint (model, optimizer, schedule,
// Dropout's generator, the loader's place in its epoch, the step) is everything the rest of the
// run depends on, so a stopped and resumed run ends with the same bits as one that never stopped:
//
//   train_cnn --checkpoint full.ckpt                        # 3 epochs, then the final state
//   train_cnn --stop-after 20 --checkpoint half.ckpt        # stop mid-epoch (32 batches an epoch)
//   train_cnn --resume half.ckpt --checkpoint resumed.ckpt  # resumed.ckpt == full.ckpt, byte for byte
//
// Legend: N batch, 1 channel, 16×16 pixels, 4 classes (quadrants: 0 top-left, 1 top-right, …).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <humble/humble.hpp>
#include <optional>

using namespace humble;

struct LeNet : nn::Module {
  std::shared_ptr<nn::Sequential> features = register_module(
      "features", std::make_shared<nn::Sequential>(nn::Sequential{
                      std::make_shared<nn::Conv2d>(1, 6, 5, nn::Conv2dOptions{.padding = 2}),  // (N, 6, 16, 16)
                      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),        // (N, 6, 8, 8)
                      std::make_shared<nn::Conv2d>(6, 16, 5),                                  // (N, 16, 4, 4)
                      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2)}));     // (N, 16, 2, 2)
  std::shared_ptr<nn::Sequential> classifier = register_module(
      "classifier",
      std::make_shared<nn::Sequential>(nn::Sequential{
          std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(64, 32), std::make_shared<nn::ReLU>(),
          std::make_shared<nn::Dropout>(0.1), std::make_shared<nn::Linear>(32, 4)}));
  Tensor forward(const Tensor& x) override { return (*classifier)((*features)(x)); }  // (N, 4)
};

// n images of 16×16 and their quadrant labels; a pixel is blob + noise, mapped from [−1, 2] to 0…255.
data::Dataset blobs(int64_t n, Generator& gen) {
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t q = gen.uniform_int(0, 4);
    const double cy = 8 * (q / 2) + 2 + 4 * gen.uniform(), cx = 8 * (q % 2) + 2 + 4 * gen.uniform();
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        const double v = std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 4.5) + 0.3 * gen.normal();
        pixels.push_back(static_cast<uint8_t>(std::lround(std::clamp((v + 1) / 3, 0.0, 1.0) * 255)));
      }
    labels.push_back(q);
  }
  return data::Dataset(std::move(pixels), {16, 16}, std::move(labels), 4);
}

double accuracy(LeNet& model, const data::Dataset& test) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<int64_t> all(static_cast<size_t>(test.size()));
  for (int64_t i = 0; i < test.size(); ++i) all[static_cast<size_t>(i)] = i;
  const data::Batch batch = test.batch(all, data::ImageLayout::NCHW);
  return sum(eq(argmax(model(batch.images), 1), batch.labels).to(Dtype::Float64)).item() /
         static_cast<double>(test.size());
}

int main(int argc, char** argv) {
  run_on_best_blas_kernels(argv);
  int64_t epochs = 3, stop_after = 0;
  std::string checkpoint_path, resume_path;
  CLI::App app{"train_cnn: a small CNN on synthetic blobs, with a checkpoint to stop and resume the run"};
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 1000));
  app.add_option("--stop-after", stop_after, "stop after this many optimizer steps (0: run to the end)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint", checkpoint_path, "write the run's state here when it stops or ends");
  app.add_option("--resume", resume_path, "continue the run saved in this checkpoint")->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (stop_after > 0 && checkpoint_path.empty()) {
    std::fprintf(stderr, "train_cnn: --stop-after %lld needs --checkpoint FILE to keep the run\n",
                 static_cast<long long>(stop_after));
    return 2;
  }

  try {
    Generator data_gen(42);
    manual_seed(42);  // the layers' initialisation, and then Dropout's draws
    const data::Dataset train = blobs(2048, data_gen), test = blobs(512, data_gen);
    data::DataLoader loader(train, {.batch_size = 64, .drop_last = true, .layout = data::ImageLayout::NCHW, .seed = 7});
    LeNet model;
    const int64_t steps = epochs * loader.num_batches();
    optim::AdamW opt(model.parameters(), {.lr = 3e-3, .weight_decay = 1e-2});
    optim::OneCycleLR sched(opt, {.max_lr = 1e-2, .total_steps = steps});
    training::Checkpoint run{
        .model = &model, .optimizer = &opt, .scheduler = &sched, .generator = &default_generator(), .loader = &loader};
    if (resume_path.empty()) {
      std::printf("%s", nn::summary(model, {1, 1, 16, 16}).c_str());
    } else {
      training::load_checkpoint(resume_path, run);
      std::printf("resumed %s at step %lld of %lld (epoch %lld)\n", resume_path.c_str(),
                  static_cast<long long>(run.step), static_cast<long long>(steps),
                  static_cast<long long>(run.epoch + 1));
    }

    const int64_t last_step = stop_after > 0 ? std::min(stop_after, steps) : steps;
    while (run.step < last_step) {
      model.train();
      double total = 0;
      int64_t batches = 0;
      for (const data::Batch& batch : loader) {
        const Tensor loss = losses::cross_entropy(model(batch.images), batch.labels);
        opt.zero_grad();
        loss.backward();
        opt.step();
        sched.step();
        total += loss.item();
        ++batches;
        if (++run.step == last_step) break;
      }
      run.epoch = run.step / loader.num_batches();  // the epoch the next batch belongs to
      if (run.step % loader.num_batches() == 0)
        std::printf("epoch %lld: train loss %.4f over %lld batches, test accuracy %.3f\n",
                    static_cast<long long>(run.epoch), total / static_cast<double>(batches),
                    static_cast<long long>(batches), accuracy(model, test));
    }
    if (!checkpoint_path.empty()) {
      training::save_checkpoint(checkpoint_path, run);
      std::printf("saved %s at step %lld of %lld\n", checkpoint_path.c_str(), static_cast<long long>(run.step),
                  static_cast<long long>(steps));
    }
    if (run.step < steps) return 0;  // stopped early: the checkpoint holds the rest
    const double final_accuracy = accuracy(model, test);
    std::printf("test accuracy %.3f\n", final_accuracy);
    return final_accuracy > 0.9 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cnn: %s\n", e.what());
    return 1;
  }
}
