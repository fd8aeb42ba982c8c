// tests/distributed/test_data_parallel.cpp — DataParallel against one process doing the same work,
// its buckets, unused parameters, misuse errors, checkpoints and metrics across ranks.
//
// The task: pixels ~ U[0, 1) and labels from a fixed random linear teacher; global batch b is
// drawn from Generator(1000 + b) on every rank, and each rank takes its part (data::shard_range)
// of it. Every rank also trains the one-process reference itself and compares against it locally.
//
// Tolerance of the equivalence. Both runs do the same float32 arithmetic except the order in which
// each weight gradient's 64·P per-row terms are added (P partial sums of 64 rows, then the P of
// them, instead of one GEMM over all rows); a reordered float32 sum changes in its last few bits.
// The bound is the one-process run's own float32 error on the same 50 steps:
//   max |w_parallel − w_alone| ≤ max |w_alone − w_alone in float64|,
// splitting the batch moves no weight further than computing in float32 at all does. Measured here:
// 2–4e-8 against 1.0–1.35e-7 (|w| ≤ 0.1, ulp 7.5e-9), over 7 data seeds, 2 and 3 ranks and both
// OpenBLAS kernels; not combining the gradients misses by 1e-3 (checked below, so the test can
// fail). The MLP uses GELU: ReLU's kink turns a last-bit difference into a jump of ~1e-4 whenever a
// pre-activation lies within rounding of 0 (both runs are then right, but no rounding-level bound
// holds); GELU is smooth, and the differences stay rounding-sized. The study's ReLU MLP is checked
// on real MNIST after one epoch (test accuracy within 0.3 %, examples/mnist).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

#include "common.hpp"

using namespace humble;
using namespace humble::distributed;

namespace {

using Forward = std::function<Tensor(const Tensor&)>;

const Tensor& teacher() {
  static const Tensor weights = [] {
    Generator gen(7);
    return randn({784, 10}, gen);  // (D, K)
  }();
  return weights;
}

// Global batch b of `rows` rows: images (rows, 784) and labels (rows).
std::pair<Tensor, Tensor> global_batch(int64_t b, int64_t rows, Dtype dtype) {
  Generator gen(1000 + static_cast<uint64_t>(b));
  const Tensor x = rand({rows, 784}, gen);  // (B, D)
  NoGradGuard no_grad;
  return {x.to(dtype), argmax(matmul(x - 0.5, teacher()), 1)};
}

// `steps` steps of SGD (lr 0.1, momentum 0.9) on the label-smoothed loss (ε = 0.1), each on part
// `shard` of `shards` of global batch b.
void train(nn::Module& model, const Forward& forward, int steps, int64_t rows, int64_t shards, int64_t shard,
           Dtype dtype = Dtype::Float32) {
  optim::SGD sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int b = 0; b < steps; ++b) {
    const auto [x, y] = global_batch(b, rows, dtype);
    const data::Range part = data::shard_range(rows, shards, shard);
    const Tensor loss = losses::cross_entropy(forward(x.slice(part.begin, part.end)), y.slice(part.begin, part.end),
                                              {.label_smoothing = 0.1});
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
}

Forward plain(nn::Module& model) {
  return [&model](const Tensor& x) { return model(x); };
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// True when every rank holds exactly these values.
bool same_on_every_rank(const std::vector<double>& values) {
  const Tensor all = all_gather(context(), tensor(values, {1, static_cast<int64_t>(values.size())}, Dtype::Float64));
  const std::vector<double> rows = all.to_vector();
  for (int r = 1; r < context().world_size(); ++r)
    if (!std::equal(values.begin(), values.end(), rows.begin() + r * static_cast<int64_t>(values.size()))) return false;
  return true;
}

}  // namespace

TEST_CASE("DataParallel: per-rank batch 64 on P ranks matches one process's batch 64·P after 50 SGD steps") {
  const Context& c = context();
  const int64_t p = c.world_size(), rows = 64 * p;
  auto alone = make_mlp(0);
  train(*alone, plain(*alone), 50, rows, 1, 0);
  auto alone64 = make_mlp(0);
  alone64->to(Dtype::Float64);
  train(*alone64, plain(*alone64), 50, rows, 1, 0, Dtype::Float64);

  auto model = make_mlp(static_cast<uint64_t>(c.rank()));  // every rank its own start: rank 0's must win
  DataParallel ddp(*model, c);
  CHECK(flat_parameters(*model) == flat_parameters(*make_mlp(0)));
  train(*model, std::ref(ddp), 50, rows, p, c.rank());

  const std::vector<double> reference = flat_parameters(*alone), parallel = flat_parameters(*model);
  const double tolerance = max_abs_difference(reference, flat_parameters(*alone64));
  const double error = max_abs_difference(parallel, reference);
  MESSAGE("max |w_parallel - w_alone| = ", error, ", tolerance (float32 error of one process) ", tolerance);
  CHECK(error <= tolerance);
  CHECK(tolerance < 1e-6);  // a rounding-sized bound, not a jump
  CHECK(same_on_every_rank(parallel));
  if (p > 1) {  // without combining the gradients, each rank would train on its part alone
    auto isolated = make_mlp(0);
    train(*isolated, plain(*isolated), 50, rows, p, c.rank());
    CHECK(max_abs_difference(flat_parameters(*isolated), reference) > 100 * tolerance);
  }
}

TEST_CASE("DataParallel: unequal parts and an empty one (skip_batch) take one process's steps") {
  // 201 examples in global batches of 100: 100, 100, 1, five epochs. On 2 ranks the last batch is
  // 1 + 0 rows, on 3 ranks the batches are 34 + 33 + 33 and then 1 + 0 + 0: ranks without rows
  // call skip_batch(). Each part's gradient is weighted by its rows; that costs two roundings per
  // gradient element and step (×n_r before the sum, ÷Σ n_r after it), so the bound here is on
  // accuracy: data parallel stays within twice one process's float32 error of the float64 run
  // (measured: 0.45–1.35 times it, over 4 data seeds and 2–4 ranks). The plain mean over ranks
  // (weight_by_rows = false, PyTorch's) halves the last batch's gradient and misses by far.
  const Context& c = context();
  const int64_t p = c.world_size();
  Generator gen(5);
  const Tensor images = rand({201, 784}, gen);  // (N, D)
  Tensor labels;
  {
    NoGradGuard no_grad;
    labels = argmax(matmul(images - 0.5, teacher()), 1);  // (N)
  }
  const auto run = [&](nn::Module& model, const Forward& forward, DataParallel* ddp, int64_t shards, int64_t shard,
                       Dtype dtype) {
    optim::SGD sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    for (int epoch = 0; epoch < 5; ++epoch)
      for (int64_t first = 0; first < 201; first += 100) {
        const data::Range part = data::shard_range(std::min<int64_t>(100, 201 - first), shards, shard);
        sgd.zero_grad();
        if (part.begin == part.end) {
          ddp->skip_batch();
        } else {
          const Tensor x = images.slice(first + part.begin, first + part.end).to(dtype);
          losses::cross_entropy(forward(x), labels.slice(first + part.begin, first + part.end)).backward();
        }
        sgd.step();
      }
    return flat_parameters(model);
  };
  auto alone = make_mlp(0), alone64 = make_mlp(0);
  alone64->to(Dtype::Float64);
  const std::vector<double> one = run(*alone, plain(*alone), nullptr, 1, 0, Dtype::Float32);
  const std::vector<double> exact = run(*alone64, plain(*alone64), nullptr, 1, 0, Dtype::Float64);
  const double tolerance = 2 * max_abs_difference(one, exact);
  for (bool weight_by_rows : {true, false}) {
    auto model = make_mlp(0);
    DataParallel ddp(*model, c, {.weight_by_rows = weight_by_rows});
    const std::vector<double> parallel = run(*model, std::ref(ddp), &ddp, p, c.rank(), Dtype::Float32);
    const double error = max_abs_difference(parallel, exact);
    MESSAGE("weight_by_rows ", weight_by_rows, ": max |w_parallel - w_float64| = ", error, ", tolerance ", tolerance);
    if (weight_by_rows) CHECK(error <= tolerance);
    if (!weight_by_rows && p > 1) CHECK(error > 100 * tolerance);
    CHECK(same_on_every_rank(parallel));
  }
}

namespace {

std::vector<double> flat_gradients(const nn::Module& module) {
  std::vector<double> out;
  for (const Tensor& p : module.parameters()) {
    const std::vector<double> values = p.grad().to_vector();
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

}  // namespace

TEST_CASE("DataParallel: no_sync() accumulates micro-batches, and the next backward combines them") {
  // Two micro-batches of 32 rows per rank, each loss halved, the first inside no_sync(): the
  // combined gradient is one process's over all 64·P rows. One gradient, no trajectory: within
  // twice one process's float32 error of the float64 gradient (the accumulation adds a rounding).
  const Context& c = context();
  const int64_t p = c.world_size();
  const auto [x, y] = global_batch(0, 64 * p, Dtype::Float32);
  const auto one_process = [&](Dtype dtype) {
    auto alone = make_mlp(0, 64);
    alone->to(dtype);
    losses::cross_entropy((*alone)(x.to(dtype)), y).backward();
    return flat_gradients(*alone);
  };
  const std::vector<double> exact = one_process(Dtype::Float64);
  const double tolerance = 2 * max_abs_difference(one_process(Dtype::Float32), exact);
  auto model = make_mlp(0, 64);
  DataParallel ddp(*model, c);
  const int64_t first = 64 * c.rank();
  {
    const auto local = ddp.no_sync();
    (losses::cross_entropy(ddp(x.slice(first, first + 32)), y.slice(first, first + 32)) * 0.5).backward();
  }
  (losses::cross_entropy(ddp(x.slice(first + 32, first + 64)), y.slice(first + 32, first + 64)) * 0.5).backward();
  const std::vector<double> combined = flat_gradients(*model);
  MESSAGE("max |g_parallel - g_float64| = ", max_abs_difference(combined, exact), ", tolerance ", tolerance);
  CHECK(max_abs_difference(combined, exact) <= tolerance);
  CHECK(same_on_every_rank(combined));
}

namespace {

// out = x·a (+ x·b where use_b) — c is never used: dL/da = mean(x), dL/db = mean(x) where used.
struct TwoPaths : nn::Module {
  Tensor a = register_parameter("a", ones({1})), b = register_parameter("b", ones({1})),
         c = register_parameter("c", ones({1}));
  bool use_b = false;
  Tensor forward(const Tensor& x) override { return use_b ? x * a + x * b : x * a; }  // (N, 1)
};

}  // namespace

TEST_CASE("DataParallel: parameters no rank used keep no gradient, ones some ranks used get the others' zeros") {
  // Every rank has 2 rows of x = 1; only rank 0's forward uses b. Σ n_r = 2P, so
  // dL/da = Σ_r 2·1 / 2P = 1, dL/db = 2·1 / 2P = 1/P, and c has no gradient anywhere.
  const Context& c = context();
  TwoPaths model;
  model.use_b = c.is_root();
  DataParallel ddp(model, c);
  for (int step = 0; step < 2; ++step) {
    model.zero_grad();
    mean(ddp(ones({2, 1}))).backward();
    REQUIRE(model.a.grad().defined());
    REQUIRE(model.b.grad().defined());
    CHECK(model.a.grad().item() == 1);
    CHECK(model.b.grad().item() == doctest::Approx(1.0 / c.world_size()).epsilon(1e-7));
    CHECK_FALSE(model.c.grad().defined());
  }
}

TEST_CASE("DataParallel: buckets and overlap change when gradients move, never their values") {
  // The MLP's gradients are 2.1 MB. Default buckets: the first (≤ 1 MiB) takes every layer but
  // the first, whose 1.6 MB weight starts the second; 1-byte buckets give each parameter its own.
  const Context& c = context();
  const int64_t p = c.world_size();
  std::vector<std::vector<double>> results;
  for (const DataParallelOptions& options :
       {DataParallelOptions{}, DataParallelOptions{.bucket_bytes = 1, .first_bucket_bytes = 1},
        DataParallelOptions{.overlap = false}}) {
    auto model = make_mlp(0);
    DataParallel ddp(*model, c, options);
    if (p > 1) CHECK(ddp.num_buckets() == (options.bucket_bytes == 1 ? 6 : 2));
    const profile::Session profiling;
    train(*model, std::ref(ddp), 5, 64 * p, p, c.rank());
    if (p > 1) {
      CHECK(ddp.stats().steps == 5);
      CHECK(ddp.stats().bytes_per_step > 535818 * 4);
      CHECK(ddp.stats().exposed_seconds <= ddp.stats().window_seconds);
      // The profile shows one wait for the all-reduces per step, and every gradient's copy.
      const profile::Report report = profiling.report();
      REQUIRE(report.ops.contains("DataParallel.wait"));
      CHECK(report.ops.at("DataParallel.wait").calls == 5);
      CHECK(report.ops.at("DataParallel.bucket").calls == 5 * 6);
    }
    results.push_back(flat_parameters(*model));
  }
  CHECK(results[1] == results[0]);
  CHECK(results[2] == results[0]);
}

TEST_CASE("DataParallel: after the first step the buckets follow the order backward finished the parameters") {
  // Reverse registration order puts the first layer's bias (0.bias) in the first bucket, which
  // is then ready only when the first layer is, at the very end; backward's own order finishes
  // each layer's weight and bias together, and the first bucket holds just the last two layers.
  const Context& c = context();
  if (c.world_size() == 1) return;
  auto model = make_mlp(0);
  DataParallel ddp(*model, c);
  using Layout = std::vector<std::vector<std::string>>;
  CHECK(ddp.bucket_layout() == Layout{{"4.bias", "4.weight", "2.bias", "2.weight", "0.bias"}, {"0.weight"}});
  train(*model, std::ref(ddp), 2, 64 * c.world_size(), c.world_size(), c.rank());
  CHECK(ddp.bucket_layout() == Layout{{"4.weight", "4.bias", "2.weight", "2.bias"}, {"0.weight", "0.bias"}});
}

TEST_CASE("DataParallel: models that differ between ranks are one error on every rank") {
  const Context& c = context();
  if (c.world_size() == 1) return;
  auto model = make_mlp(0, c.rank() == 1 ? 256 : 512);
  const std::string message = [&] {
    try {
      DataParallel ddp(*model, c);
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  }();
  CHECK(message ==
        "[DataParallel] rank 1's model differs from rank 0's: rank 1 has parameter '0.weight' float32 (256, 784) "
        "where rank 0 has parameter '0.weight' float32 (512, 784)");
  // Options are part of what must agree.
  auto same = make_mlp(0);
  CHECK_THROWS_WITH_AS(DataParallel(*same, c, {.bucket_bytes = c.rank() == 1 ? 100 : 200}),
                       doctest::Contains("rank 1 has options bucket_bytes 100"), ValueError);
}

TEST_CASE("DataParallel: a backward without ddp(x), or a second one, is an error, not a wrong step") {
  const Context& c = context();
  if (c.world_size() == 1) return;  // with one rank DataParallel does nothing to get wrong
  auto model = make_mlp(0, 16);
  DataParallel ddp(*model, c);
  const Tensor x = ones({4, 784});
  CHECK_THROWS_WITH_AS(sum((*model)(x)).backward(),
                       doctest::Contains("without a forward pass through the DataParallel"), ValueError);
  model->zero_grad();
  const Tensor loss = sum(ddp(x));
  loss.backward(true);
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("again after this step's gradients were combined"),
                       ValueError);
  model->zero_grad();
  sum(ddp(x)).backward();  // and the next step works
  CHECK(model->parameters()[0].grad().defined());
}

namespace {

// 600 examples of 784 pixels with the teacher's labels, as a Dataset (uint8 pixels).
data::Dataset teacher_dataset() {
  Generator gen(11);
  const Tensor pixels = randint(0, 256, {600, 784}, gen);  // (N, D)
  std::vector<uint8_t> bytes(pixels.numel());
  const int64_t* values = pixels.data<int64_t>();
  for (int64_t i = 0; i < pixels.numel(); ++i) bytes[static_cast<std::size_t>(i)] = static_cast<uint8_t>(values[i]);
  Tensor labels;
  {
    NoGradGuard no_grad;
    labels = argmax(matmul(pixels.to(Dtype::Float32) / 255.0 - 0.5, teacher()), 1);  // (N)
  }
  const int64_t* l = labels.data<int64_t>();
  return data::Dataset(std::move(bytes), {28, 28}, std::vector<int64_t>(l, l + 600), 10);
}

}  // namespace

TEST_CASE("distributed checkpoints: rank 0 writes, every rank resumes, bit-identical to not stopping") {
  // Adam on 600 examples in global batches of 96 (7 per epoch, the last of 24), 2 epochs; the
  // checkpoint is taken in the middle of epoch 2, after its 3rd step: the loader's state (the same
  // on every rank: one permutation, one count of batches handed out) makes each rank's loader
  // continue that epoch at its own part of the 4th batch.
  const Context& c = context();
  const std::string path = (std::filesystem::temp_directory_path() / "humble_distributed_checkpoint.bin").string();
  const data::Dataset dataset = teacher_dataset();
  const auto train_from = [&](nn::Module& model, optim::Optimizer& adam, data::DataLoader& loader, DataParallel& ddp,
                              int64_t first_epoch, bool save) {
    for (int64_t epoch = first_epoch; epoch < 2; ++epoch) {
      int64_t step = 0;
      for (const data::Batch& batch : loader) {
        adam.zero_grad();
        losses::cross_entropy(ddp(batch.images), batch.labels, {.label_smoothing = 0.1}).backward();
        adam.step();
        if (save && epoch == 1 && ++step == 3)
          save_checkpoint(c, path, {.model = &model, .optimizer = &adam, .loader = &loader, .epoch = epoch, .step = 3});
      }
    }
  };
  const data::DataLoaderOptions options{.batch_size = 96, .seed = 3, .shards = c.world_size(), .shard = c.rank()};
  auto model = make_mlp(0, 64);
  optim::Adam adam(model->parameters(), {.lr = 1e-3});
  data::DataLoader loader(dataset, options);
  DataParallel ddp(*model, c);
  train_from(*model, adam, loader, ddp, 0, true);

  auto resumed = make_mlp(99, 64);
  optim::Adam resumed_adam(resumed->parameters(), {.lr = 1e-3});
  data::DataLoader resumed_loader(dataset, options);
  DataParallel resumed_ddp(*resumed, c);
  training::Checkpoint checkpoint{.model = resumed.get(), .optimizer = &resumed_adam, .loader = &resumed_loader};
  load_checkpoint(c, path, checkpoint);
  CHECK(checkpoint.epoch == 1);
  CHECK(checkpoint.step == 3);
  train_from(*resumed, resumed_adam, resumed_loader, resumed_ddp, checkpoint.epoch, false);
  CHECK(flat_parameters(*resumed) == flat_parameters(*model));
  barrier(c);  // every rank has read the file
  if (c.is_root()) std::filesystem::remove(path);

  // Only rank 0 writes: given a path of its own, every other rank leaves its path alone. Read
  // back by each rank from its own path, the ranks without a file are named.
  const training::Checkpoint nothing{.model = model.get()};
  const std::string own = str_cat(path, ".rank", c.rank());
  save_checkpoint(c, own, nothing);
  CHECK(std::filesystem::exists(own) == c.is_root());
  training::Checkpoint back{.model = model.get()};
  if (c.world_size() > 1)
    CHECK_THROWS_WITH_AS(load_checkpoint(c, own, back),
                         doctest::Contains(str_cat("[load_checkpoint] rank 1 could not read ", path, ".rank1").c_str()),
                         IoError);
  barrier(c);
  if (c.is_root()) std::filesystem::remove(own);
  // Rank 0 cannot write: every rank throws; a file no rank can read, likewise.
  CHECK_THROWS_WITH_AS(save_checkpoint(c, "/proc/no/such/dir/checkpoint.bin", nothing),
                       doctest::Contains("[save_checkpoint] rank 0 could not write /proc/no/such/dir/checkpoint.bin"),
                       IoError);
  training::Checkpoint missing{.model = model.get()};
  CHECK_THROWS_WITH_AS(load_checkpoint(c, "/proc/no/such/checkpoint.bin", missing),
                       doctest::Contains("[load_checkpoint] rank 0 could not read /proc/no/such/checkpoint.bin"),
                       IoError);
}

TEST_CASE("distributed metrics: the parts of an evaluation set measure as the whole does in one process") {
  const Context& c = context();
  Generator gen(21);
  const Tensor logits = randn({1000, 10}, gen) * 3.0;  // (N, K), the same on every rank
  const Tensor labels = randint(0, 10, {1000}, gen);   // (N)
  const data::Range part = data::shard_range(1000, c.world_size(), c.rank());
  const Tensor my_logits = logits.slice(part.begin, part.end), my_labels = labels.slice(part.begin, part.end);
  const double temperature = fit_temperature(c, my_logits, my_labels);
  CHECK(temperature == metrics::fit_temperature(logits, labels));
  const metrics::CalibrationReport whole = metrics::evaluate(logits, labels, temperature);
  const metrics::CalibrationReport parts = evaluate(c, my_logits, my_labels, temperature);
  CHECK(parts.count == 1000);
  CHECK(parts.accuracy == whole.accuracy);
  CHECK(parts.nll == whole.nll);
  CHECK(parts.ece == whole.ece);
  CHECK(parts.adaptive_ece == whole.adaptive_ece);
  CHECK(parts.brier == whole.brier);
  CHECK(parts.mean_logit_gap == whole.mean_logit_gap);
}
