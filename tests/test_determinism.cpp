// tests/test_determinism.cpp — the same seed gives the same bits, and memory stays flat.
//
//   1. A training run (MLP with dropout, shuffled batches, label smoothing, Adam) repeated with the
//      same seed gives the same loss curve and final weights, bit for bit, at 1 and at 2 threads,
//      and the same at 1 thread as at 2 (GEMMs included: blas::gemm cuts by shape alone).
//   2. humble's own kernels give the same bits at 1 and 2 threads: a model of broadcasts, products,
//      reductions, softmax and the fused loss, sized so that every kernel splits its work, trained
//      with Adam. (Where OpenBLAS's results can still differ — another kernel set, or OpenBLAS's
//      own threads in a program that turns them on — docs/architecture.md, "Threads and determinism".)
//   3. Memory: after many training steps as many tensor storages, bytes and graph nodes are alive as
//      after the first few.
#include <doctest/doctest.h>

#include <humble/humble.hpp>
#include <vector>

#include "support.hpp"

namespace test_determinism {

using namespace humble;
using namespace test_support;

namespace {

using Values = std::vector<double>;

struct Trace {
  Values losses, weights;
  bool operator==(const Trace&) const = default;
};

Values weights_of(const nn::Module& model) {
  Values out;
  for (const Tensor& p : model.parameters())
    for (double v : p.to_vector()) out.push_back(v);
  return out;
}

// 3 epochs of shuffled batches through an MLP with dropout: everything random comes from `seed`.
Trace mlp_run(uint64_t seed) {
  Generator gen(seed);
  nn::Sequential model{std::make_shared<nn::Linear>(20, 64, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Dropout>(0.2, gen), std::make_shared<nn::Linear>(64, 5, true, gen)};
  optim::Adam opt(model.parameters(), {.lr = 0.01});
  const Tensor x = randn({96, 20}, gen), y = randint(0, 5, {96}, gen);
  Trace trace;
  for (int epoch = 0; epoch < 3; ++epoch) {
    const Tensor order = randperm(96, gen);
    for (int64_t b = 0; b < 96; b += 32) {
      const Tensor idx = order.slice(b, b + 32);
      const Tensor loss =
          losses::cross_entropy(model(index_select(x, idx)), index_select(y, idx), {.label_smoothing = 0.1});
      opt.zero_grad();
      loss.backward();
      opt.step();
      trace.losses.push_back(loss.item());
    }
  }
  trace.weights = weights_of(model);
  return trace;
}

// A classifier without GEMMs: logits_nc = Σ_d x_nd·W_cd + b_c as a broadcast product and a sum,
// (512, 10, 256) elements per step, then softmax-weighted features and the fused loss.
Trace own_kernels_run(uint64_t seed) {
  Generator gen(seed);
  const Tensor x = randn({512, 1, 256}, gen), y = randint(0, 10, {512}, gen);
  Tensor w = (randn({1, 10, 256}, gen) * 0.05).requires_grad_();
  Tensor b = zeros({10}).requires_grad_();
  optim::Adam opt({w, b}, {.lr = 0.01});
  Trace trace;
  for (int step = 0; step < 8; ++step) {
    const Tensor logits = sum(x * w, {2}) + b;    // (512, 10)
    const Tensor attention = softmax(logits, 1);  // (512, 10)
    const Tensor mixed = logits + 0.1 * mean(attention * logits, {1}, true);
    const Tensor loss = losses::cross_entropy(mixed, y, {.label_smoothing = 0.1});
    opt.zero_grad();
    loss.backward();
    opt.step();
    trace.losses.push_back(loss.item());
  }
  trace.weights = w.to_vector();
  for (double v : b.to_vector()) trace.weights.push_back(v);
  return trace;
}

}  // namespace

TEST_CASE("determinism: the same seed gives the same loss curve and weights, run to run, at 1 and 2 threads") {
  RestoreTwoThreads restore;
  std::vector<Trace> runs;
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    set_num_threads(threads);
    const Trace first = mlp_run(42), second = mlp_run(42);
    CHECK(first.losses == second.losses);
    CHECK(first.weights == second.weights);
    CHECK(mlp_run(43).weights != first.weights);  // and the seed matters
    runs.push_back(first);
  }
  // The GEMMs too: OpenBLAS runs single-threaded inside panels cut by the shape alone.
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("determinism: humble's own kernels give the same bits at 1 and 2 threads") {
  RestoreTwoThreads restore;
  set_num_threads(1);
  const Trace one = own_kernels_run(7);
  set_num_threads(2);
  const Trace two = own_kernels_run(7);
  CHECK(one.losses == two.losses);
  CHECK(one.weights == two.weights);
  CHECK(one.losses.front() > one.losses.back());  // it trains
}

TEST_CASE("memory: live tensors, their bytes and graph nodes stay flat over many training steps") {
  Generator gen(5);
  nn::Sequential model{std::make_shared<nn::Linear>(32, 64, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Dropout>(0.1, gen), std::make_shared<nn::Linear>(64, 10, true, gen)};
  optim::Adam opt(model.parameters(), {.lr = 1e-3});
  const Tensor x = randn({64, 32}, gen), y = randint(0, 10, {64}, gen);
  const auto step = [&] {
    const Tensor loss = losses::cross_entropy(model(x), y, {.label_smoothing = 0.1});
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < 5; ++i) step();  // optimizer state and gradients exist from here on
  const CacheStats warm = cache_stats();
  const int64_t nodes = Node::live_count();
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kSteps = 500;  // the same check, at a sanitizer's pace
#else
  constexpr int kSteps = 5000;
#endif
  for (int i = 0; i < kSteps; ++i) step();
  const CacheStats after = cache_stats();
  CHECK(after.live_blocks == warm.live_blocks);
  CHECK(after.live_bytes == warm.live_bytes);
  CHECK(Node::live_count() == nodes);
  CHECK(nodes == 0);  // no step leaves a graph behind
}

}  // namespace test_determinism
