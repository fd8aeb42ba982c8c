// tests/test_api_contract.cpp — the lines of ../shared/API.md's "Added for the open issues" that
// this library provides, written exactly as there, and what each promises.
#include <doctest/doctest.h>

#include <humble/humble.hpp>
#include <sstream>

namespace test_api_contract {

using namespace humble;

TEST_CASE("API contract: select, narrow, operator[], in-place ops, item<T>, promotion, <<, var, topk") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor s = x.select(1, -1);  // dim dropped; negatives count from the end
  CHECK(s.to_vector() == std::vector<double>{3, 6});
  CHECK(x.narrow(1, 0, 2).shape() == Shape{2, 2});
  CHECK(x[-1].to_vector() == std::vector<double>{4, 5, 6});
  Tensor& same = x.add_(ones({3}));
  CHECK(&same == &x);
  x.sub_(ones({2, 3})).mul_(ones({1})).div_(ones({3}));
  x.mul_(2.0).add_(1.0).sub_(1.0).div_(2.0);
  CHECK(x[0][0].item<float>() == 1.0f);
  CHECK(x[1][2].item<int64_t>() == 6);

  // A tensor saved for backward and changed in place afterwards makes backward() throw.
  const Tensor w = tensor({2}, {1}, Dtype::Float32, true);
  Tensor h = tensor({3}, {1});
  const Tensor y = sum(h * w);
  h.mul_(2.0);
  CHECK_THROWS_AS(y.backward(), std::invalid_argument);

  // Integer tensors with a fractional scalar, and integer true division, give float32.
  CHECK((arange(4) * 0.5).dtype() == Dtype::Float32);
  CHECK((arange(4) / arange(1, 5, 1, Dtype::Int64)).dtype() == Dtype::Float32);

  std::ostringstream out;
  out << x;
  CHECK(out.str().find("shape=(2, 3), dtype=float32") != std::string::npos);
  CHECK(var(x, {1}).shape() == Shape{2});
  CHECK(var(x, {0, 1}, false, true).shape() == Shape{1, 1});
  const std::pair<Tensor, Tensor> top = topk(x, 2);
  CHECK(top.first.to_vector() == std::vector<double>{3, 2, 6, 5});
  CHECK(top.second.dtype() == Dtype::Int64);
}

TEST_CASE("API contract: Module::num_parameters and operator<<, nn::Embedding, side-effect-free summary") {
  nn::Sequential model{std::make_shared<nn::Embedding>(10, 4), std::make_shared<nn::Linear>(4, 2)};
  CHECK(model.num_parameters() == 10 * 4 + 4 * 2 + 2);
  std::ostringstream out;
  out << model;
  CHECK(out.str().find("(0): Embedding(10, 4)") != std::string::npos);
  nn::Embedding embedding(int64_t{10}, int64_t{4});
  CHECK(embedding(tensor({1, 9}, {2}, Dtype::Int64)).shape() == Shape{2, 4});
  model.train();
  const Generator::State before = default_generator().state();
  CHECK(nn::summary(model, {3}, Dtype::Int64).find("50 parameters") != std::string::npos);
  CHECK(model.is_training());
  CHECK(default_generator().state() == before);
}

}  // namespace test_api_contract
