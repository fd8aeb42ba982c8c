// examples/train_cnn — a LeNet-style CNN learns which quadrant of a 16×16 image holds a bright blob.
//
// Synthetic data (noise + one Gaussian blob), AdamW with a one-cycle schedule, a checkpoint of the
// whole run, and a fresh model restored from it that scores exactly as the trained one.
// Legend: N batch, 1 channel, 16×16 pixels, 4 classes (quadrants: 0 top-left, 1 top-right, …).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <humble/humble.hpp>

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

// n images (n, 1, 16, 16) and their quadrant labels (n).
std::pair<Tensor, Tensor> blobs(int64_t n, Generator& gen) {
  std::vector<double> pixels, labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t q = gen.uniform_int(0, 4);
    const double cy = 8 * (q / 2) + 2 + 4 * gen.uniform(), cx = 8 * (q % 2) + 2 + 4 * gen.uniform();
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x)
        pixels.push_back(std::exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 4.5) + 0.3 * gen.normal());
    labels.push_back(static_cast<double>(q));
  }
  return {tensor(pixels, {n, 1, 16, 16}), tensor(labels, {n}, Dtype::Int64)};
}

double accuracy(LeNet& model, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  model.eval();
  return sum(eq(argmax(model(x), 1), y).to(Dtype::Float64)).item() / static_cast<double>(y.numel());
}

int main(int, char** argv) {
  run_on_best_blas_kernels(argv);
  Generator gen(42);
  manual_seed(42);  // the layers' initialisation
  const auto [train_x, train_y] = blobs(2048, gen);
  const auto [test_x, test_y] = blobs(512, gen);
  LeNet model;
  std::printf("%s", nn::summary(model, {1, 1, 16, 16}).c_str());

  const int64_t batch = 64, epochs = 3, steps = epochs * (train_y.numel() / batch);
  optim::AdamW opt(model.parameters(), {.lr = 3e-3, .weight_decay = 1e-2});
  optim::OneCycleLR sched(opt, {.max_lr = 1e-2, .total_steps = steps});
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    model.train();
    const Tensor order = randperm(train_y.numel(), gen);
    double total = 0;
    for (int64_t b = 0; b + batch <= train_y.numel(); b += batch) {
      const Tensor idx = order.slice(b, b + batch);
      const Tensor logits = model(index_select(train_x, idx));  // (N, 4)
      const Tensor loss = -mean(gather(log_softmax(logits, 1), 1, index_select(train_y, idx).reshape({-1, 1})));
      opt.zero_grad();
      loss.backward();
      opt.step();
      sched.step();
      total += loss.item();
    }
    std::printf("epoch %lld: train loss %.4f, test accuracy %.3f\n", static_cast<long long>(epoch + 1),
                total / static_cast<double>(train_y.numel() / batch), accuracy(model, test_x, test_y));
  }

  const std::string path = (std::filesystem::temp_directory_path() / "train_cnn.ckpt").string();
  training::save_checkpoint(
      path,
      {.model = &model, .optimizer = &opt, .scheduler = &sched, .generator = &gen, .epoch = epochs, .step = steps});
  LeNet restored;  // fresh weights, then the checkpoint's
  optim::AdamW restored_opt(restored.parameters(), {.lr = 3e-3, .weight_decay = 1e-2});
  optim::OneCycleLR restored_sched(restored_opt, {.max_lr = 1e-2, .total_steps = steps});
  Generator restored_gen(0);
  training::Checkpoint checkpoint{
      .model = &restored, .optimizer = &restored_opt, .scheduler = &restored_sched, .generator = &restored_gen};
  training::load_checkpoint(path, checkpoint);
  std::filesystem::remove(path);
  const double before = accuracy(model, test_x, test_y), after = accuracy(restored, test_x, test_y);
  std::printf("checkpoint (epoch %lld, step %lld): accuracy %.3f before saving, %.3f after loading\n",
              static_cast<long long>(checkpoint.epoch), static_cast<long long>(checkpoint.step), before, after);
  return before == after && after > 0.9 ? 0 : 1;
}
