// tests/test_loss_family.cpp — the relatives of cross-entropy (losses/family.hpp) against PyTorch.
//
// Legend: N rows, C classes. Golden cases come from tests/golden/losses.json (written by
// tests/golden/gen_losses.py): binary_cross_entropy_with_logits (PyTorch's, fed the smoothed target
// y(1 − ε) + ε/2 since torch's BCE has no smoothing), kl_div (batchmean and log_target), mse_loss,
// and focal_loss, confidence_penalty and distillation_loss written with torch ops in the generator.
// Then the identities that tie the family to cross-entropy, validation, and a Float64 gradcheck of
// every member.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "golden/losses_fixture.hpp"
#include "support.hpp"

namespace test_loss_family {

using namespace humble;
using namespace test_support;
using namespace humble::losses;
using namespace humble::loss_golden;

namespace {

// The tolerance of tests/test_losses.cpp: |a − b| <= rtol·max(|b|, floor) with rtol 1e-10 (Float64)
// or 1e-5 (Float32). Values: floor 0. Gradients: floor = 1e-6·max|b| (Float64) or 1e-2·max|b|
// (Float32) over the tensor — an ulp or so of its largest element, for elements that cancel to ~0.
void check_close(const Values& actual, const Values& expected, Dtype dtype, bool gradient, const std::string& what) {
  const double rtol = dtype == Dtype::Float64 ? 1e-10 : 1e-5;
  double largest = 0;
  for (double b : expected) largest = std::max(largest, std::abs(b));
  const double floor = gradient ? (dtype == Dtype::Float64 ? 1e-6 : 1e-2) * largest : 0.0;
  loss_golden::check_close(actual, expected, rtol, floor, what);
}

void check_near(const Values& actual, const Values& expected, double atol, const std::string& what = "") {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i)
    CHECK_MESSAGE(std::abs(actual[i] - expected[i]) <= atol, what, " element ", i, ": ", digits(actual[i]), " vs ",
                  digits(expected[i]));
}

// One golden case: builds the input leaf, lets `loss_of` compute the loss, compares value and dL/dinput.
// The case's other fields are read by `loss_of` through `c`.
int run_golden(const char* family, const std::function<Tensor(const json& c, const Tensor& x, Dtype dtype)>& loss_of) {
  int count = 0;
  for (const json& c : golden().at(family)) {
    const std::string name = c.at("name").get<std::string>() + " " + c.at("dtype").get<std::string>();
    INFO(name);
    const Dtype dtype = c.at("dtype") == "float64" ? Dtype::Float64 : Dtype::Float32;
    const Shape shape = c.at("shape").get<Shape>();
    const Tensor x = tensor(c.at("input").get<Values>(), shape, dtype, true);
    const Tensor loss = loss_of(c, x, dtype);
    CHECK(loss.dtype() == dtype);
    if (c.at("grad_output").is_null()) {
      REQUIRE(loss.dim() == 0);
      check_close({loss.item()}, {c.at("value").get<double>()}, dtype, false, name + " value");
      loss.backward();
    } else {
      check_close(loss.to_vector(), c.at("value").get<Values>(), dtype, false, name + " value");
      loss.backward(tensor(c.at("grad_output").get<Values>(), loss.shape(), dtype));
    }
    REQUIRE(x.grad().defined());
    check_close(x.grad().to_vector(), c.at("grad").get<Values>(), dtype, true, name + " grad");
    ++count;
  }
  return count;
}

// A field holding a flat tensor of the case's dtype, or undefined when null.
Tensor optional_tensor(const json& c, const char* field, Shape shape, Dtype dtype) {
  return c.at(field).is_null() ? Tensor() : tensor(c.at(field).get<Values>(), std::move(shape), dtype);
}

void check_gradcheck(const std::function<Tensor(const Tensors&)>& f, const Tensors& inputs, const std::string& what) {
  const GradcheckResult result = gradcheck(f, inputs);
  CHECK_MESSAGE(result.passed, what, ": ", result.message);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Golden parity with PyTorch

TEST_CASE("binary_cross_entropy_with_logits: matches PyTorch (smoothed target, pos_weight, weight, reductions)") {
  const int count = run_golden("binary_cross_entropy_with_logits", [](const json& c, const Tensor& x, Dtype dtype) {
    const Shape shape = x.shape();
    BinaryCrossEntropyOptions options;
    options.label_smoothing = c.at("label_smoothing");
    options.reduction = reduction_named(c.at("reduction"));
    options.pos_weight = optional_tensor(c, "pos_weight", {shape.back()}, dtype);
    options.weight = optional_tensor(c, "weight", {shape.back()}, dtype);
    return binary_cross_entropy_with_logits(x, tensor(c.at("target").get<Values>(), shape, dtype), options);
  });
  CHECK(count >= 50);
}

TEST_CASE("kl_div: matches torch.nn.functional.kl_div (batchmean as Mean, log_target both ways)") {
  const int count = run_golden("kl_div", [](const json& c, const Tensor& x, Dtype dtype) {
    const KlDivOptions options{.reduction = reduction_named(c.at("reduction")), .log_target = c.at("log_target")};
    return kl_div(x, tensor(c.at("target").get<Values>(), x.shape(), dtype), options);
  });
  CHECK(count == 12);
}

TEST_CASE("mse_loss: matches torch.nn.functional.mse_loss") {
  const int count = run_golden("mse_loss", [](const json& c, const Tensor& x, Dtype dtype) {
    return mse_loss(x, tensor(c.at("target").get<Values>(), x.shape(), dtype), {reduction_named(c.at("reduction"))});
  });
  CHECK(count == 6);
}

TEST_CASE("focal_loss: matches −α_y·(1 − p_y)^γ·log p_y computed by torch") {
  const int count = run_golden("focal_loss", [](const json& c, const Tensor& x, Dtype dtype) {
    FocalLossOptions options;
    options.gamma = c.at("gamma");
    options.alpha = optional_tensor(c, "alpha", {x.shape()[1]}, dtype);
    options.reduction = reduction_named(c.at("reduction"));
    return focal_loss(x, labels(c.at("target").get<std::vector<int64_t>>()), options);
  });
  CHECK(count == 36);
}

TEST_CASE("confidence_penalty: matches CE(z, y) − β·H(softmax z) computed by torch") {
  const int count = run_golden("confidence_penalty", [](const json& c, const Tensor& x, Dtype) {
    const ConfidencePenaltyOptions options{.beta = c.at("beta"), .reduction = reduction_named(c.at("reduction"))};
    return confidence_penalty(x, labels(c.at("target").get<std::vector<int64_t>>()), options);
  });
  CHECK(count == 18);
}

TEST_CASE("distillation_loss: matches T²·kl_div(log_softmax(s/T), softmax(t/T), batchmean) computed by torch") {
  const int count = run_golden("distillation_loss", [](const json& c, const Tensor& x, Dtype dtype) {
    return distillation_loss(x, tensor(c.at("teacher").get<Values>(), x.shape(), dtype), c.at("temperature"));
  });
  CHECK(count == 6);
}

// ---------------------------------------------------------------------------------------------
// Identities

TEST_CASE("family: focal with γ = 0 and confidence_penalty with β = 0 are cross-entropy") {
  Generator gen(53);
  const Tensor z = randn({5, 4}, gen, Dtype::Float64) * 2.0;  // (5, 4)
  const Tensor y = labels({0, 3, 3, 1, 2});
  const double ce = cross_entropy(z, y).item();
  CHECK(std::abs(focal_loss(z, y, {.gamma = 0.0}).item() - ce) <= 1e-15 * ce);
  CHECK(std::abs(confidence_penalty(z, y, {.beta = 0.0}).item() - ce) <= 1e-15 * ce);
  // α acts like cross_entropy's class weights, but Mean divides by N, not by Σ α_y.
  const Tensor alpha = f64({0.5, 1.0, 2.0, 0.25}, {4});
  const double weighted_sum = cross_entropy(z, y, {.reduction = Reduction::Sum, .weight = alpha}).item();
  CHECK(std::abs(focal_loss(z, y, {.gamma = 0.0, .alpha = alpha}).item() - weighted_sum / 5) <= 1e-15 * weighted_sum);
}

TEST_CASE("binary_cross_entropy_with_logits: label_smoothing ε equals the explicit target y(1 − ε) + ε/2") {
  Generator gen(59);
  const Tensor x = randn({3, 4}, gen, Dtype::Float64) * 3.0;  // (3, 4)
  const Tensor y = rand({3, 4}, gen, Dtype::Float64);
  const Tensor pos_weight = f64({0.5, 1.0, 2.0, 3.0}, {4});
  const double smoothed =
      binary_cross_entropy_with_logits(x, y, {.label_smoothing = 0.2, .pos_weight = pos_weight}).item();
  const double explicit_target = binary_cross_entropy_with_logits(x, y * 0.8 + 0.1, {.pos_weight = pos_weight}).item();
  CHECK(std::abs(smoothed - explicit_target) <= 1e-15 * explicit_target);
  // Stays finite at extreme logits: softplus never overflows.
  const Tensor extreme = f64({1e4, -1e4, 800, -800}, {4});
  const Values per_item =
      binary_cross_entropy_with_logits(extreme, f64({0, 1, 0, 1}, {4}), {.reduction = Reduction::None}).to_vector();
  CHECK(per_item == Values{1e4, 1e4, 800, 800});
}

TEST_CASE("kl_div and distillation: zero for identical distributions, and the teacher gets no gradient") {
  Generator gen(61);
  const Tensor logits = randn({3, 5}, gen, Dtype::Float64);  // (3, 5)
  const Tensor log_p = log_softmax(logits, 1);
  CHECK(std::abs(kl_div(log_p, exp(log_p)).item()) <= 1e-15);
  CHECK(std::abs(kl_div(log_p, log_p, {.log_target = true}).item()) <= 1e-15);

  const Tensor student = logits.detach().clone().requires_grad_();
  const Tensor teacher = (logits * 1.5).detach().requires_grad_();
  distillation_loss(student, teacher, 2.0).backward();
  CHECK(student.grad().defined());
  CHECK_FALSE(teacher.grad().defined());
  const Tensor same = logits.detach().clone().requires_grad_();
  const Tensor zero = distillation_loss(same, logits, 3.0);
  CHECK(std::abs(zero.item()) <= 1e-15);
  zero.backward();
  check_near(same.grad().to_vector(), Values(15, 0.0), 1e-15, "at the teacher");
}

// ---------------------------------------------------------------------------------------------
// Validation

TEST_CASE("family: invalid arguments throw the exact exception type, naming the op, argument and value") {
  const Tensor x = f64({0.5, -1, 2, 0.1, 0.3, -0.2}, {2, 3});
  const Tensor t = f64({0, 1, 0.5, 1, 0, 0.25}, {2, 3});

  // binary_cross_entropy_with_logits
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t, {.label_smoothing = 1.5}), ValueError);
  check_message([&] { binary_cross_entropy_with_logits(x, t, {.label_smoothing = -0.5}); },
                {"[binary_cross_entropy_with_logits]", "label_smoothing", "-0.5"});
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t, {.label_smoothing = std::nan("")}), ValueError);
  const Tensor out_of_range = f64({0, 1, 1.5, 1, 0, 0}, {2, 3});
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, out_of_range), ValueError);
  check_message([&] { binary_cross_entropy_with_logits(x, out_of_range); },
                {"[binary_cross_entropy_with_logits]", "target", "1.5"});
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, f64({0, 1, 0}, {3})), ShapeError);
  check_message(
      [&] {
        binary_cross_entropy_with_logits(x, f64({0, 1, 0}, {3}));
      },
      {"[binary_cross_entropy_with_logits]", "target", "(3,)", "(2, 3)"});
  const Tensor t32 = t.to(Dtype::Float32);
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t32), ValueError);
  check_message([&] { binary_cross_entropy_with_logits(x, t32); },
                {"[binary_cross_entropy_with_logits]", "target", "float32", "float64"});
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t, {.pos_weight = f64({1, 2}, {2})}), ShapeError);
  check_message(
      [&] {
        binary_cross_entropy_with_logits(x, t, {.pos_weight = f64({1, 2}, {2})});
      },
      {"[binary_cross_entropy_with_logits]", "pos_weight", "(2,)", "(2, 3)"});
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t, {.weight = f64({1, 2, 3, 4}, {4})}), ShapeError);
  check_message(
      [&] {
        binary_cross_entropy_with_logits(x, t, {.weight = f64({1, 2, 3, 4}, {4})});
      },
      {"[binary_cross_entropy_with_logits]", "weight", "(4,)", "(2, 3)"});
  const Tensor weight32 = tensor({1, 2, 3}, {3}, Dtype::Float32);
  CHECK_THROWS_AS(binary_cross_entropy_with_logits(x, t, {.weight = weight32}), ValueError);
  check_message([&] { binary_cross_entropy_with_logits(x, t, {.weight = weight32}); },
                {"[binary_cross_entropy_with_logits]", "weight", "float32"});

  // focal_loss and confidence_penalty
  const Tensor y = labels({0, 2});
  CHECK_THROWS_AS(focal_loss(x, y, {.gamma = -1}), ValueError);
  check_message([&] { focal_loss(x, y, {.gamma = -1}); }, {"[focal_loss]", "gamma", "-1"});
  CHECK_THROWS_AS(focal_loss(x, y, {.alpha = f64({1, 1}, {2})}), ShapeError);
  check_message([&] { focal_loss(x, y, {.alpha = f64({1, 1}, {2})}); }, {"[focal_loss]", "alpha", "(3,)", "(2,)"});
  CHECK_THROWS_AS(focal_loss(x, y, {.alpha = tensor({1, 1, 1}, {3}, Dtype::Float32)}), ValueError);
  check_message(
      [&] {
        focal_loss(x, y, {.alpha = tensor({1, 1, 1}, {3}, Dtype::Float32)});
      },
      {"[focal_loss]", "alpha", "float32"});
  CHECK_THROWS_AS(focal_loss(x, labels({0, 3})), ValueError);
  check_message([&] { focal_loss(x, labels({0, 3})); }, {"[focal_loss]", "target[1] = 3", "[0, 3)"});
  CHECK_THROWS_AS(focal_loss(x, labels({0, 1, 2})), ShapeError);
  check_message([&] { focal_loss(x, labels({0, 1, 2})); }, {"[focal_loss]", "(2, 3)", "(3,)"});
  CHECK_THROWS_AS(confidence_penalty(x, y, {.beta = -0.1}), ValueError);
  check_message([&] { confidence_penalty(x, y, {.beta = -0.1}); }, {"[confidence_penalty]", "beta", "-0.1"});
  CHECK_THROWS_AS(confidence_penalty(x, labels({-1, 0})), ValueError);
  check_message([&] { confidence_penalty(x, labels({-1, 0})); }, {"[confidence_penalty]", "target[0] = -1"});
  const Tensor int_logits = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, Dtype::Int64);
  CHECK_THROWS_AS(focal_loss(int_logits, y), ValueError);
  check_message([&] { focal_loss(int_logits, y); }, {"[focal_loss]", "logits", "int64"});

  // kl_div, distillation_loss, mse_loss
  CHECK_THROWS_AS(kl_div(x, f64({0.5, 0.5}, {2})), ShapeError);
  check_message([&] { kl_div(x, f64({0.5, 0.5}, {2})); }, {"[kl_div]", "target", "(2,)", "(2, 3)"});
  CHECK_THROWS_AS(kl_div(x, t32), ValueError);
  CHECK_THROWS_AS(distillation_loss(x, x, 0.0), ValueError);
  check_message([&] { distillation_loss(x, x, -2.0); }, {"[distillation_loss]", "temperature", "-2"});
  CHECK_THROWS_AS(distillation_loss(x, x, std::nan("")), ValueError);
  CHECK_THROWS_AS(mse_loss(x, f64({1, 2, 3}, {3})), ShapeError);
  check_message([&] { mse_loss(x, f64({1, 2, 3}, {3})); }, {"[mse_loss]", "target", "(3,)", "(2, 3)"});
  CHECK_THROWS_AS(mse_loss(tensor({1, 2}, {2}, Dtype::Int64), tensor({1, 2}, {2}, Dtype::Int64)), ValueError);
  check_message(
      [&] {
        mse_loss(tensor({1, 2}, {2}, Dtype::Int64), tensor({1, 2}, {2}, Dtype::Int64));
      },
      {"[mse_loss]", "int64"});
}

// ---------------------------------------------------------------------------------------------
// Gradchecks (Float64, central differences)

TEST_CASE("family: gradcheck of every member and reduction") {
  Generator gen(67);
  const Tensor x = (randn({4, 3}, gen, Dtype::Float64) * 2.0).requires_grad_();                // (4, 3)
  const Tensor probability = uniform({4, 3}, 0.1, 0.9, gen, Dtype::Float64).requires_grad_();  // BCE target
  const Tensor pos_weight = f64({0.5, 1.0, 3.0}, {3});
  const Tensor weight = f64({1.5, 0.25, 1.0}, {3});
  const Tensor z = (randn({5, 4}, gen, Dtype::Float64) * 2.0).requires_grad_();  // (5, 4)
  const Tensor y = labels({0, 3, 1, 1, 2});
  const Tensor alpha = f64({0.25, 1.0, 0.5, 2.0}, {4});
  const Tensor log_input = log_softmax(randn({4, 5}, gen, Dtype::Float64), 1).detach().requires_grad_();
  const Tensor positive_target = softmax(randn({4, 5}, gen, Dtype::Float64), 1).detach().requires_grad_();
  const Tensor log_target = log_softmax(randn({4, 5}, gen, Dtype::Float64), 1).detach().requires_grad_();
  const Tensor teacher = randn({5, 4}, gen, Dtype::Float64) * 3.0;
  const Tensor mse_target = randn({4, 3}, gen, Dtype::Float64).requires_grad_();

  for (const Reduction reduction : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    const std::string r = reduction == Reduction::None ? " none" : reduction == Reduction::Mean ? " mean" : " sum";
    check_gradcheck(
        [&](const Tensors& in) {
          return binary_cross_entropy_with_logits(
              in[0], in[1],
              {.label_smoothing = 0.1, .reduction = reduction, .pos_weight = pos_weight, .weight = weight});
        },
        {x, probability}, "bce" + r);
    check_gradcheck(
        [&](const Tensors& in) { return confidence_penalty(in[0], y, {.beta = 0.3, .reduction = reduction}); }, {z},
        "confidence_penalty" + r);
    for (const double gamma : {0.0, 0.5, 2.0})
      check_gradcheck(
          [&](const Tensors& in) {
            return focal_loss(in[0], y, {.gamma = gamma, .alpha = alpha, .reduction = reduction});
          },
          {z}, "focal gamma " + std::to_string(gamma) + r);
    check_gradcheck([&](const Tensors& in) { return kl_div(in[0], in[1], {.reduction = reduction}); },
                    {log_input, positive_target}, "kl_div" + r);
    check_gradcheck(
        [&](const Tensors& in) { return kl_div(in[0], in[1], {.reduction = reduction, .log_target = true}); },
        {log_input, log_target}, "kl_div log_target" + r);
    check_gradcheck([&](const Tensors& in) { return mse_loss(in[0], in[1], {reduction}); }, {x, mse_target}, "mse" + r);
  }
  for (const double temperature : {1.0, 2.5})
    check_gradcheck([&](const Tensors& in) { return distillation_loss(in[0], teacher, temperature); }, {z},
                    "distillation T " + std::to_string(temperature));
}

}  // namespace test_loss_family
