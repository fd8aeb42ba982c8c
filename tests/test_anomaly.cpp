// tests/test_anomaly.cpp — anomaly mode (autograd/anomaly.hpp): DetectAnomalyGuard.
//
//   1. forward: the first op whose output holds NaN or ±inf throws AnomalyError naming the op, the
//      value, the element, whether its inputs were finite, and the caller (a function of this file);
//   2. backward: the first input gradient that holds NaN or ±inf throws, naming the op, the input and
//      the function that recorded the node; a node recorded before the guard says it has no stack;
//   3. the guard is RAII and thread-local like NoGradGuard, checks ops under no-grad too, and changes
//      no result: a training step gives the same bits with and without it;
//   4. without a guard nothing is checked (log(0) is −inf, as always).
#include <doctest/doctest.h>

#include <cmath>
#include <humble/humble.hpp>
#include <string>
#include <thread>

#include "support.hpp"

namespace test_anomaly {

using namespace humble;
using namespace test_support;

namespace {

std::string anomaly_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const AnomalyError& e) {
    return e.what();
  }
  FAIL("expected an AnomalyError");
  return "";
}

}  // namespace

// Functions with external linkage (the test binary exports its symbols), kept out of line and out
// of tail position, so that the stacks in the messages can be checked for their names.
[[gnu::noinline]] Tensor anomaly_test_log_of_a_zero(const Tensor& x) {
  const Tensor y = log(x * 0.0);
  return y + 0.0;
}
[[gnu::noinline]] Tensor anomaly_test_sqrt_recorded_here(const Tensor& x) {
  const Tensor y = sqrt(x);
  return y * 1.0;
}

TEST_CASE("anomaly: a forward op that makes inf from finite inputs throws, naming the op and its caller") {
  DetectAnomalyGuard anomaly;
  const Tensor x = tensor({1, 2, 3}, {3}, Dtype::Float32, true);
  const std::string message = anomaly_of([&] { anomaly_test_log_of_a_zero(x); });
  CHECK(
      message.starts_with("[anomaly] forward: log returned -inf at element 0 of its (3,) float32 output from finite "
                          "inputs; called at:"));
  CHECK(contains(message, "anomaly_test_log_of_a_zero"));  // the first frame outside humble
  // An op fed NaN says so.
  const Tensor bad = tensor({1, NAN}, {2}, Dtype::Float64);
  CHECK(contains(anomaly_of([&] { exp(bad); }),
                 "[anomaly] forward: exp returned nan at element 1 of its (2,) float64 "
                 "output (an input already held NaN/Inf)"));
}

TEST_CASE("anomaly: ops under NoGradGuard are checked too, and nothing is checked without a guard") {
  const Tensor zero = zeros({2});
  CHECK(log(zero).to_vector()[0] == -INFINITY);  // no guard: the ordinary result
  DetectAnomalyGuard anomaly;
  NoGradGuard no_grad;
  CHECK(contains(anomaly_of([&] { log(zero); }), "forward: log returned -inf"));
}

TEST_CASE("anomaly: a backward that returns inf throws, naming the op, the input and where the node was recorded") {
  DetectAnomalyGuard anomaly;
  const Tensor x = tensor({4, 0}, {2}, Dtype::Float64, true);
  const Tensor y = sum(anomaly_test_sqrt_recorded_here(x));  // sqrt(0) = 0 is finite; its derivative 1/(2·√0) is not
  const std::string message = anomaly_of([&] { y.backward(); });
  CHECK(
      message.starts_with("[anomaly] backward: sqrt returned inf at element 1 of its (2,) float64 gradient for input 0 "
                          "from a finite output gradient; the node was recorded at:"));
  CHECK(contains(message, "anomaly_test_sqrt_recorded_here"));
}

TEST_CASE("anomaly: a node recorded before the guard is checked in backward, without a stack") {
  const Tensor x = tensor({0}, {1}, Dtype::Float64, true);
  const Tensor y = sum(sqrt(x));
  DetectAnomalyGuard anomaly;
  CHECK(contains(anomaly_of([&] { y.backward(); }),
                 "backward: sqrt returned inf at element 0 of its (1,) float64 gradient "
                 "for input 0 from a finite output gradient; the node was recorded "
                 "at (recorded while anomaly mode was off: no stack kept)"));
}

TEST_CASE("anomaly: the guard nests, restores the previous mode, and is per thread") {
  CHECK_FALSE(anomaly_enabled());
  {
    DetectAnomalyGuard outer;
    {
      DetectAnomalyGuard inner;
      CHECK(anomaly_enabled());
    }
    CHECK(anomaly_enabled());
    bool other_thread = true;
    std::thread([&] { other_thread = anomaly_enabled(); }).join();
    CHECK_FALSE(other_thread);
  }
  CHECK_FALSE(anomaly_enabled());
  // An exception from a backward closure leaves the mode (and the in-backward state) as it was.
  {
    DetectAnomalyGuard anomaly;
    const Tensor x = tensor({0}, {1}, Dtype::Float64, true);
    const Tensor y = sum(sqrt(x));
    CHECK_THROWS_AS(y.backward(), AnomalyError);
    CHECK(anomaly_enabled());
    CHECK_THROWS_AS(log(zeros({1})), AnomalyError);  // forward checks are back on
  }
}

TEST_CASE("anomaly: a training step gives the same bits with and without the guard") {
  const auto step = [] {
    Generator gen(3);
    nn::Sequential model{std::make_shared<nn::Linear>(4, 8, true, gen), std::make_shared<nn::ReLU>(),
                         std::make_shared<nn::Linear>(8, 3, true, gen)};
    optim::Adam opt(model.parameters(), {.lr = 0.01});
    const Tensor x = randn({16, 4}, gen), y = randint(0, 3, {16}, gen);
    for (int i = 0; i < 3; ++i) {
      const Tensor loss = losses::cross_entropy(model(x), y, {.label_smoothing = 0.1});
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    std::vector<double> weights;
    for (const Tensor& p : model.parameters())
      for (double v : p.to_vector()) weights.push_back(v);
    return weights;
  };
  const std::vector<double> plain = step();
  DetectAnomalyGuard anomaly;
  CHECK(step() == plain);
}

}  // namespace test_anomaly
