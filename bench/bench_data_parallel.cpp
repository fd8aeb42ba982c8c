// bench/bench_data_parallel.cpp — where the time of a data-parallel training epoch goes.
//
// The study's job (its MLP 784-512-256-10 or its LeNet-style CNN, Adam lr 1e-3, ε = 0.1, global
// batch 128, the first 55,000 MNIST training images, reshuffled every epoch), trained with
// distributed::DataParallel by every rank of the job, in five settings of the gradient all-reduce:
//   overlap        the defaults: buckets of ≤ 1 MiB first, then ≤ 25 MiB, each started when ready
//   after          the same buckets, all started after the last gradient (no overlap)
//   one-bucket     one bucket of everything (started after backward: nothing to overlap with)
//   64KiB          buckets of ≤ 64 KiB
//   per-parameter  a bucket per parameter, each started at once
// Run it under mpirun (bench/train_distributed does, one setting per job, rotating their order):
//   mpirun -np 2 bench_data_parallel --threads 1 [--model cnn] [--setting after] [--epochs 2]
//                                    [--images 55000] [--data-dir data/mnist]
// Output, rank 0: one CSV line per setting and epoch,
//   model,setting,seconds,steps,buckets,window_ms_per_step,exposed_ms_per_step
// (window: first bucket started → last one reduced; exposed: the part after the last gradient,
// which backward waited for).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <humble/distributed/distributed.hpp>
#include <humble/humble.hpp>
#include <string>
#include <utility>
#include <vector>

#include "study_models.hpp"

namespace {

using namespace humble;
using Clock = std::chrono::steady_clock;

void train(const distributed::Context& context, const data::Dataset& images, const std::string& kind,
           const std::string& setting, distributed::DataParallelOptions options, int epochs) {
  manual_seed(0);
  auto model = bench::make_study_model(kind);
  distributed::DataParallel ddp(*model, context, options);
  optim::Adam adam(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(images, {.batch_size = 128,
                                   .layout = kind == "cnn" ? data::ImageLayout::NCHW : data::ImageLayout::Flat,
                                   .seed = 0,
                                   .shards = context.world_size(),
                                   .shard = context.rank()});
  for (int epoch = 0; epoch < epochs; ++epoch) {
    ddp.reset_stats();
    distributed::barrier(context);
    const auto start = Clock::now();
    for (const data::Batch& batch : loader) {
      adam.zero_grad();
      const Tensor logits = ddp(batch.images);
      const Tensor loss = losses::cross_entropy(logits, batch.labels, {.label_smoothing = 0.1});
      loss.backward();
      adam.step();
      loss.item();
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const distributed::CommunicationStats& s = ddp.stats();
    if (context.is_root())
      std::printf("%s,%s,%.6f,%lld,%lld,%.4f,%.4f\n", kind.c_str(), setting.c_str(), seconds,
                  static_cast<long long>(s.steps), static_cast<long long>(s.buckets),
                  1e3 * s.window_seconds / static_cast<double>(s.steps),
                  1e3 * s.exposed_seconds / static_cast<double>(s.steps));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Context context;
  return distributed::run(context, "bench_data_parallel", [&] {
    int threads = 1, epochs = 2;
    int64_t images_per_epoch = 55000;
    std::string dir = "data/mnist", kind = "mlp", only;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string flag = argv[i];
      if (flag == "--threads") threads = std::atoi(argv[i + 1]);
      if (flag == "--epochs") epochs = std::atoi(argv[i + 1]);
      if (flag == "--data-dir") dir = argv[i + 1];
      if (flag == "--model") kind = argv[i + 1];
      if (flag == "--setting") only = argv[i + 1];
      if (flag == "--images") images_per_epoch = std::atoll(argv[i + 1]);
    }
    set_num_threads(threads);
    const data::Dataset images = data::load_mnist_split(dir, "train").limit(images_per_epoch);
    using Options = distributed::DataParallelOptions;
    if (kind != "mlp" && kind != "cnn")
      throw ValueError("[bench_data_parallel] --model must be mlp or cnn, got " + kind);
    const std::vector<std::pair<std::string, Options>> settings = {
        {"overlap", {}},
        {"after", {.overlap = false}},
        {"one-bucket", {.first_bucket_bytes = 25 << 20}},
        {"64KiB", {.bucket_bytes = 64 << 10, .first_bucket_bytes = 64 << 10}},
        {"per-parameter", {.bucket_bytes = 1, .first_bucket_bytes = 1}}};
    bool found = false;
    for (const auto& [name, options] : settings)
      if (only.empty() || only == name) {
        train(context, images, kind, name, options, epochs);
        found = true;
      }
    if (!found) throw ValueError("[bench_data_parallel] no setting named '" + only + "'");
    return 0;
  });
}
