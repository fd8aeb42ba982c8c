// tests/test_trust.cpp — five programs that once gave a wrong answer without any error.
//
// Each case is written the way a PyTorch user would write it; each must now either be right or
// throw: a write through x[i], a saved tensor changed before backward, integer true division,
// gradcheck over a module's parameters, and summary() on a model in training mode.
#include <doctest/doctest.h>

#include <humble/humble.hpp>
#include <memory>
#include <string>
#include <vector>

namespace test_trust {

using namespace humble;

namespace {

// out = x ⊙ w, whose recorded backward deliberately gets dw wrong (2·g ⊙ x instead of g ⊙ x).
struct WrongGradientScale : nn::Module {
  Tensor w = register_parameter("w", tensor({0.5, -1.5, 2.0}, {3}, Dtype::Float64));
  Tensor forward(const Tensor& x) override {
    Tensor out;
    {
      NoGradGuard no_grad;
      out = x * w;
    }
    return record("wrong_scale", out, {x, w}, [x = x.detach(), w = w.detach()](const Tensor& g) -> Tensors {
      return {g * w, g * x * 2.0};
    });
  }
};

struct NormNet : nn::Module {  // BatchNorm and Dropout: both behave differently in training
  std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(4, 3));
  std::shared_ptr<nn::BatchNorm1d> bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(3));
  std::shared_ptr<nn::Dropout> drop = register_module("drop", std::make_shared<nn::Dropout>(0.5));
  Tensor forward(const Tensor& x) override { return (*drop)((*bn)((*fc)(x))); }
};

}  // namespace

TEST_CASE("trust: x[i] = t writes t into row i of x") {
  Tensor x = zeros({3, 4});
  x[2] = ones({4});
  CHECK(x.to_vector() == std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1});
  x[-3] = full({4}, 5.0);
  CHECK(x[0].to_vector() == std::vector<double>{5, 5, 5, 5});
}

TEST_CASE("trust: a tensor saved for backward and changed in place afterwards makes backward throw") {
  const Tensor w = tensor({1.0}, {1}, Dtype::Float32, true);
  Tensor x = tensor({4.0}, {1});
  const Tensor y = sum(x * w);  // dy/dw = x = 4
  x.fill_(10.0);                // the saved x is now 10: dy/dw would come out as 10
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("mul"), ValueError);
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("trust: integer true division gives float32, not truncated integers") {
  const Tensor half = arange(4) / 2.0;
  CHECK(half.dtype() == Dtype::Float32);
  CHECK(half.to_vector() == std::vector<double>{0, 0.5, 1, 1.5});
}

TEST_CASE("trust: gradcheck over a module's parameters catches a wrong parameter gradient") {
  WrongGradientScale module;
  const Tensor x = tensor({1.0, 2.0, -3.0}, {3}, Dtype::Float64);
  Tensors inputs{x};
  for (const Tensor& p : module.parameters()) inputs.push_back(p);
  const GradcheckResult result = gradcheck([&](const Tensors& xs) { return module(xs[0]); }, inputs);
  CHECK_FALSE(result.passed);
}

TEST_CASE("trust: summary() of a model in training mode changes nothing and works with BatchNorm on one row") {
  manual_seed(3);
  NormNet net;  // in training mode
  const std::vector<double> mean_before = net.bn->running_mean.to_vector();
  const std::vector<double> var_before = net.bn->running_var.to_vector();
  const Generator::State generator_before = default_generator().state();
  std::string table;
  CHECK_NOTHROW(table = nn::summary(net, {1, 4}));  // one row: BatchNorm's training statistics need two
  CHECK(table.find("BatchNorm1d") != std::string::npos);
  CHECK(net.bn->running_mean.to_vector() == mean_before);
  CHECK(net.bn->running_var.to_vector() == var_before);
  CHECK(default_generator().state() == generator_before);
  CHECK(net.is_training());
  CHECK(net.drop->is_training());
  CHECK_NOTHROW(table = nn::summary(net, {8, 4}));  // a batch the training forward could take
  CHECK(net.bn->running_mean.to_vector() == mean_before);
  CHECK(net.bn->running_var.to_vector() == var_before);
  CHECK(default_generator().state() == generator_before);
}

}  // namespace test_trust
