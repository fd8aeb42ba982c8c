// bench/bench_train.cpp — training epochs and inference of the MNIST study's models, in humble.
//
// The humble side of the training benchmark (bench/run), the same job as bench_train_torch.py
// and bench_train_libtorch.cpp: the MLP 784-512-256-10 or the LeNet CNN (conv 6@5×5 pad 2, ReLU,
// max-pool 2, conv 16@5×5, ReLU, max-pool 2, 400-120-84-10), Adam lr 1e-3, label-smoothed
// cross-entropy (ε = 0.1), batch 128 on the first 55,000 MNIST training images, reshuffled every
// epoch, each batch converted from uint8 to float / 255 when drawn, and the unsmoothed NLL of
// every batch computed under no-grad beside the loss (as mnist_smoothing does). Then inference:
// logits of the 10,000 test images in eval mode under no-grad, batches of 1000, `--inference`
// passes, each timed. Legend: B batch, K = 10 classes.
//
// Output: CSV lines `humble,<model>_train,threads,seconds` per epoch, `humble,<model>_infer,
// threads,seconds` per pass, a `humble,<model>_accuracy,threads,fraction` line (the test accuracy
// after training, to check that all three sides learn alike) and `humble,<model>_rss,threads,MB`
// (peak resident memory of the whole process).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <humble/humble.hpp>

#include "study_models.hpp"

namespace {

using namespace humble;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Trains `epochs` epochs and runs `passes` inference passes, printing the CSV lines above.
void time_the_job(const std::string& model_kind, const std::string& data_dir, int epochs, int threads, int passes,
                  uint64_t seed) {
  set_num_threads(threads);
  const data::ImageLayout layout = model_kind == "cnn" ? data::ImageLayout::NCHW : data::ImageLayout::Flat;
  const data::Dataset train = data::load_mnist_split(data_dir, "train").limit(55000);
  const data::Dataset test = data::load_mnist_split(data_dir, "t10k");
  manual_seed(seed);
  auto model = bench::make_study_model(model_kind);
  optim::Adam opt(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(train, {.batch_size = 128, .layout = layout, .seed = seed});
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto start = Clock::now();
    double loss_sum = 0, nll_sum = 0;
    for (const data::Batch& batch : loader) {
      const Tensor logits = (*model)(batch.images);  // (B, K)
      const Tensor loss = losses::cross_entropy(logits, batch.labels, {.label_smoothing = 0.1});
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item();
      NoGradGuard no_grad;
      nll_sum += losses::cross_entropy(logits.detach(), batch.labels).item();
    }
    std::printf("humble,%s_train,%d,%.6f\n", model_kind.c_str(), threads, seconds_since(start));
    std::fflush(stdout);
  }

  model->eval();
  data::DataLoader test_loader(test, {.batch_size = 1000, .shuffle = false, .layout = layout});
  double correct = 0;
  for (int pass = 0; pass < passes; ++pass) {
    NoGradGuard no_grad;
    const auto start = Clock::now();
    correct = 0;
    for (const data::Batch& batch : test_loader)
      correct += sum(eq(argmax((*model)(batch.images), 1), batch.labels)).item();
    std::printf("humble,%s_infer,%d,%.6f\n", model_kind.c_str(), threads, seconds_since(start));
    std::fflush(stdout);
  }
  if (passes > 0 && epochs > 0)
    std::printf("humble,%s_accuracy,%d,%.4f\n", model_kind.c_str(), threads,
                correct / static_cast<double>(test.size()));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("humble,%s_rss,%d,%.1f\n", model_kind.c_str(), threads, static_cast<double>(usage.ru_maxrss) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  humble::run_on_best_blas_kernels(argv);
  std::string model_kind = "mlp", data_dir = "data/mnist";
  int epochs = 2, threads = 2, passes = 3;
  uint64_t seed = 0;
  CLI::App app{"bench_train: the MNIST study's training epoch and inference, timed"};
  app.add_option("--model", model_kind, "mlp or cnn")->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(0, 100));
  app.add_option("--inference", passes, "timed inference passes over the test set")->check(CLI::Range(0, 100));
  app.add_option("--threads", threads, "threads")->check(CLI::Range(1, 256));
  app.add_option("--seed", seed, "seeds the initialisation and the shuffling");
  app.add_option("--data-dir", data_dir, "folder with the MNIST IDX files");
  bool blas = false;
  app.add_flag("--blas", blas, "print the BLAS kernel set in use (the best this CPU supports) and exit");
  CLI11_PARSE(app, argc, argv);
  if (blas) {
    std::printf("%s\n", blas_info().kernels.c_str());
    return 0;
  }

  try {
    time_the_job(model_kind, data_dir, epochs, threads, passes, seed);
  } catch (const std::exception& e) {  // missing data, for one
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
