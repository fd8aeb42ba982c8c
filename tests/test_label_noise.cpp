// tests/test_label_noise.cpp — symmetric label noise (data/noise.hpp, Dataset::with_labels) and
// forward-corrected cross-entropy (losses/noise_correction.hpp): golden values from PyTorch
// (tests/golden/noise_correction.json, written by gen_noise_correction.py), identities, a
// Float64 gradcheck and validation.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "golden/losses_fixture.hpp"
#include "support.hpp"

namespace test_label_noise {

using namespace humble;
using namespace test_support;
using humble::data::Dataset;
using humble::loss_golden::Values;

namespace {

// N one-pixel images whose pixel is the index, label i mod K.
Dataset numbered(int64_t n, int64_t classes) {
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    pixels.push_back(static_cast<uint8_t>(i % 256));
    labels.push_back(i % classes);
  }
  return Dataset(pixels, {1, 1}, labels, classes);
}

std::vector<int64_t> labels_of(const Dataset& dataset) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < dataset.size(); ++i) out.push_back(dataset.label(i));
  return out;
}

const nlohmann::json& golden() {
  static const nlohmann::json fixture = [] {
    std::ifstream in(HUMBLE_SOURCE_DIR "/tests/golden/noise_correction.json");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/golden/noise_correction.json (run gen_noise_correction.py)");
    return nlohmann::json::parse(in);
  }();
  return fixture;
}

Tensor labels_tensor(const std::vector<int64_t>& y) {
  return tensor(Values(y.begin(), y.end()), {static_cast<int64_t>(y.size())}, Dtype::Int64);
}

}  // namespace

TEST_CASE("Dataset::with_labels keeps the images and subsets keep the new labels") {
  const Dataset dataset = numbered(6, 3);
  const Dataset relabelled = dataset.with_labels({2, 2, 1, 0, 0, 1});
  CHECK(labels_of(relabelled) == std::vector<int64_t>{2, 2, 1, 0, 0, 1});
  CHECK(labels_of(dataset) == std::vector<int64_t>{0, 1, 2, 0, 1, 2});  // the original is unchanged
  const std::vector<int64_t> rows{4, 1};
  CHECK(relabelled.batch(rows).images.to_vector() == dataset.batch(rows).images.to_vector());
  CHECK(relabelled.batch(rows).labels.to_vector() == std::vector<double>{0, 2});
  CHECK(labels_of(relabelled.subset(rows)) == std::vector<int64_t>{0, 2});
  CHECK(labels_of(relabelled.limit(2)) == std::vector<int64_t>{2, 2});
  CHECK(contains(message_of([&] {
                   dataset.with_labels({0, 1});
                 }),
                 "[Dataset::with_labels] got 2 labels for 6 examples"));
  CHECK(contains(message_of([&] { dataset.with_labels({0, 1, 2, 3, 0, 0}); }), "labels[3] = 3 is outside [0, 3)"));
}

TEST_CASE("Dataset::with_labels: restored rows keep the new labels, and one example gets one label") {
  const Dataset dataset = numbered(6, 3);
  const Dataset relabelled = dataset.with_labels({2, 2, 1, 0, 0, 1});
  // A loader's or split's saved rows, restored: the labels are the relabelled ones, not the loaded ones.
  CHECK(labels_of(relabelled.with_rows(tensor(Values{4, 1}, {2}, Dtype::Int64))) == std::vector<int64_t>{0, 2});
  // Relabelling a subset leaves the other examples' labels alone.
  const std::vector<int64_t> first_two{0, 1};
  const Dataset part = dataset.subset(first_two).with_labels({1, 0});
  CHECK(labels_of(part.with_rows(tensor(Values{0, 1, 2}, {3}, Dtype::Int64))) == std::vector<int64_t>{1, 0, 2});
  const std::vector<int64_t> twice{3, 3};
  CHECK(labels_of(dataset.subset(twice).with_labels({2, 2})) == std::vector<int64_t>{2, 2});
  CHECK(contains(message_of([&] {
                   dataset.subset(twice).with_labels({2, 1});
                 }),
                 "[Dataset::with_labels] labels[1] = 1 gives example row 3 a second label (it already got 2)"));
}

TEST_CASE("symmetric label noise: rate 0 changes nothing, rate 1 changes every label") {
  const Dataset dataset = numbered(500, 10);
  Generator none_gen(1), all_gen(1);
  const data::NoisyDataset none = data::with_symmetric_label_noise(dataset, 0.0, none_gen);
  CHECK(none.flipped == 0);
  CHECK(labels_of(none.dataset) == labels_of(dataset));
  const data::NoisyDataset all = data::with_symmetric_label_noise(dataset, 1.0, all_gen);
  CHECK(all.flipped == 500);
  for (int64_t i = 0; i < 500; ++i) CHECK(all.dataset.label(i) != dataset.label(i));
}

TEST_CASE("symmetric label noise: the flipped share is the rate and flips go uniformly to the other classes") {
  const Dataset dataset = numbered(20000, 10);
  Generator gen(7);
  const data::NoisyDataset noisy = data::with_symmetric_label_noise(dataset, 0.3, gen);
  // Binomial(20000, 0.3): std 0.0032 of the share; 0.015 is over 4 of them.
  CHECK(std::abs(static_cast<double>(noisy.flipped) / 20000.0 - 0.3) < 0.015);
  std::vector<int64_t> offsets(10, 0);  // (noisy − clean) mod K over the flipped examples
  for (int64_t i = 0; i < dataset.size(); ++i)
    if (noisy.dataset.label(i) != dataset.label(i)) ++offsets[(noisy.dataset.label(i) - dataset.label(i) + 10) % 10];
  CHECK(offsets[0] == 0);
  const double expected = static_cast<double>(noisy.flipped) / 9.0;  // about 667, std about 24
  for (int k = 1; k < 10; ++k) CHECK_MESSAGE(std::abs(offsets[k] - expected) < 0.15 * expected, "offset ", k);
}

TEST_CASE("symmetric label noise: one seed couples the rates, and the same seed gives the same labels") {
  const Dataset dataset = numbered(3000, 10);
  Generator low_gen(4), high_gen(4), again_gen(4);
  const Dataset low = data::with_symmetric_label_noise(dataset, 0.2, low_gen).dataset;
  const Dataset high = data::with_symmetric_label_noise(dataset, 0.4, high_gen).dataset;
  const Dataset again = data::with_symmetric_label_noise(dataset, 0.2, again_gen).dataset;
  CHECK(labels_of(low) == labels_of(again));
  int64_t flipped_low = 0;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    if (low.label(i) == dataset.label(i)) continue;
    ++flipped_low;
    CHECK(high.label(i) == low.label(i));  // flipped at 0.2 ⇒ flipped at 0.4, to the same class
  }
  CHECK(flipped_low > 400);
  CHECK(contains(message_of([&] { data::with_symmetric_label_noise(dataset, 1.5, low_gen); }),
                 "[with_symmetric_label_noise] rate must be in [0, 1], got 1.5"));
}

TEST_CASE("forward_corrected_cross_entropy: matches −log(softmax(z) @ T)[ỹ] computed by PyTorch") {
  int count = 0;
  for (const auto& c : golden().at("forward_corrected_cross_entropy")) {
    const std::string name = c.at("name").get<std::string>() + " " + c.at("dtype").get<std::string>();
    INFO(name);
    const Dtype dtype = c.at("dtype") == "float64" ? Dtype::Float64 : Dtype::Float32;
    const Shape shape = c.at("shape").get<Shape>();
    const Tensor z = tensor(c.at("input").get<Values>(), shape, dtype, true);
    const Tensor y = labels_tensor(c.at("target").get<std::vector<int64_t>>());
    const Tensor t = tensor(c.at("transition").get<Values>(), {shape[1], shape[1]}, dtype);
    const std::string reduction = c.at("reduction");
    const Tensor loss =
        losses::forward_corrected_cross_entropy(z, y, t, {.reduction = loss_golden::reduction_named(reduction)});
    CHECK(loss.dtype() == dtype);
    // Tolerances of the loss tests: rtol 1e-10 (Float64) or 1e-5 (Float32); gradients with a floor
    // of 1e-6 (1e-2 for Float32) of their largest element.
    const double rtol = dtype == Dtype::Float64 ? 1e-10 : 1e-5;
    if (reduction == "none") {
      loss_golden::check_close(loss.to_vector(), c.at("value").get<Values>(), rtol, 0.0, name + " value");
      loss.backward(tensor(c.at("grad_output").get<Values>(), loss.shape(), dtype));
    } else {
      loss_golden::check_close({loss.item()}, {c.at("value").get<double>()}, rtol, 0.0, name + " value");
      loss.backward();
    }
    const Values expected = c.at("grad").get<Values>();
    double largest = 0;
    for (const double g : expected) largest = std::max(largest, std::abs(g));
    loss_golden::check_close(z.grad().to_vector(), expected, rtol, (dtype == Dtype::Float64 ? 1e-6 : 1e-2) * largest,
                             name + " grad");
    ++count;
  }
  CHECK(count == 30);
}

TEST_CASE("forward_corrected_cross_entropy: with T = I it is cross-entropy, value and gradient") {
  Generator gen(12);
  const Tensor z = (randn({7, 5}, gen, Dtype::Float64) * 3.0).requires_grad_();
  const Tensor y = labels_tensor({0, 4, 2, 2, 1, 3, 0});
  const Tensor corrected =
      losses::forward_corrected_cross_entropy(z, y, losses::symmetric_noise_transition(5, 0.0, Dtype::Float64));
  corrected.backward();
  const Tensor z_again = z.detach().requires_grad_();
  const Tensor plain = losses::cross_entropy(z_again, y);
  plain.backward();
  CHECK(corrected.item() == doctest::Approx(plain.item()).epsilon(1e-13));
  const Values a = z.grad().to_vector(), b = z_again.grad().to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-12).scale(1e-3));
}

TEST_CASE("forward_corrected_cross_entropy: the gradient is p minus the clean-class posterior, by hand") {
  // C = 2, z = (0, 0): p = (½, ½); T = [[0.8, 0.2], [0.2, 0.8]], ỹ = 0: p̃_0 = ½, posterior r = (0.8, 0.2).
  // loss = log 2, ∂loss/∂z = p − r = (−0.3, 0.3).
  const Tensor z = tensor({0.0, 0.0}, {1, 2}, Dtype::Float64, true);
  const Tensor loss = losses::forward_corrected_cross_entropy(
      z, labels_tensor({0}), losses::symmetric_noise_transition(2, 0.2, Dtype::Float64));
  loss.backward();
  CHECK(loss.item() == doctest::Approx(std::log(2.0)).epsilon(1e-15));
  CHECK(z.grad().to_vector()[0] == doctest::Approx(-0.3).epsilon(1e-14));
  CHECK(z.grad().to_vector()[1] == doctest::Approx(0.3).epsilon(1e-14));
}

TEST_CASE("forward_corrected_cross_entropy: a saturated row against a 50-digit reference") {
  // z = (18.6044921875, 18.0927734375, 45.2177734375), ỹ = 0, symmetric T at r = 0.3 (C = 3): p is
  // one-hot to 1e-11, so p̃_0 ≈ T_20 = 0.15. Reference by mpmath at 40 digits from the direct formula
  // −log((softmax(z) @ T)[0]) and central differences with h = 1e-25:
  //   loss 1.8971199848757359142, dz_0 = −1.0145411643683881608e-11, dz_2 = 1.0145296849313684119e-11.
  // dz_2 = p_2 − r_2 with both near 1: taken as −(dz_0 + dz_1) it keeps full relative precision
  // (the difference itself would be right to an ulp of 1, 2.2e-16, only).
  const Tensor z = tensor({18.6044921875, 18.0927734375, 45.2177734375}, {1, 3}, Dtype::Float64, true);
  const Tensor loss = losses::forward_corrected_cross_entropy(
      z, labels_tensor({0}), losses::symmetric_noise_transition(3, 0.3, Dtype::Float64));
  loss.backward();
  const Values grad = z.grad().to_vector();
  CHECK(loss.item() == doctest::Approx(1.8971199848757359142).epsilon(1e-14));
  CHECK(grad[0] == doctest::Approx(-1.0145411643683881608e-11).epsilon(1e-12));
  CHECK(std::abs(grad[1]) < 1e-20);
  CHECK(grad[2] == doctest::Approx(1.0145296849313684119e-11).epsilon(1e-12));
}

TEST_CASE("forward_corrected_cross_entropy: a label the model rules out gives a finite loss and gradient") {
  // T = I (no noise), ỹ = 0, z = (−800, 0, 0): p = (e^-800 ≈ 0, ½, ½) and p̃_0 = p_0 underflows in
  // double, yet loss = log(2 + e^-800) + 800 and dz = p − r = (−1, ½, ½) with r = (1, 0, 0).
  const Tensor z = tensor({-800.0, 0.0, 0.0}, {1, 3}, Dtype::Float64, true);
  const Tensor loss = losses::forward_corrected_cross_entropy(
      z, labels_tensor({0}), losses::symmetric_noise_transition(3, 0.0, Dtype::Float64));
  loss.backward();
  CHECK(loss.item() == doctest::Approx(800.0 + std::log(2.0)).epsilon(1e-15));
  CHECK(z.grad().to_vector() == Values{-1.0, 0.5, 0.5});
}

TEST_CASE("forward_corrected_cross_entropy: gradcheck in Float64, every reduction, a zero entry in T") {
  Generator gen(21);
  const Tensor z = (randn({5, 4}, gen, Dtype::Float64) * 2.0).requires_grad_();
  const Tensor y = labels_tensor({0, 3, 1, 1, 2});
  const Tensor with_zero = tensor({0.7, 0.3, 0.0, 0.0,  //
                                   0.1, 0.6, 0.3, 0.0,  //
                                   0.0, 0.2, 0.5, 0.3,  //
                                   0.25, 0.0, 0.25, 0.5},
                                  {4, 4}, Dtype::Float64);
  for (const Tensor& t : {losses::symmetric_noise_transition(4, 0.4, Dtype::Float64), with_zero}) {
    for (const losses::Reduction reduction :
         {losses::Reduction::None, losses::Reduction::Mean, losses::Reduction::Sum}) {
      const GradcheckResult result = gradcheck(
          [&](const Tensors& in) {
            return losses::forward_corrected_cross_entropy(in[0], y, t, {.reduction = reduction});
          },
          {z});
      CHECK_MESSAGE(result.passed, result.message);
    }
  }
}

TEST_CASE("symmetric_noise_transition: 1 − r on the diagonal, r/(C − 1) elsewhere, rows summing to 1") {
  const Values t = losses::symmetric_noise_transition(4, 0.3, Dtype::Float64).to_vector();
  for (int i = 0; i < 4; ++i) {
    double row = 0;
    for (int j = 0; j < 4; ++j) {
      CHECK(t[i * 4 + j] == doctest::Approx(i == j ? 0.7 : 0.1).epsilon(1e-15));
      row += t[i * 4 + j];
    }
    CHECK(row == doctest::Approx(1.0).epsilon(1e-15));
  }
  CHECK(contains(message_of([] { losses::symmetric_noise_transition(1, 0.1); }), "num_classes must be >= 2, got 1"));
  CHECK(contains(message_of([] { losses::symmetric_noise_transition(3, -0.1); }), "rate must be in [0, 1], got -0.1"));
}

TEST_CASE("forward_corrected_cross_entropy: bad arguments throw naming the argument and the value") {
  const Tensor z = tensor({0, 1, 2, 3, 4, 5}, {2, 3}, Dtype::Float64);
  const Tensor y = labels_tensor({0, 2});
  const Tensor t = losses::symmetric_noise_transition(3, 0.2, Dtype::Float64);
  const auto call = [&](const Tensor& logits, const Tensor& target, const Tensor& transition) {
    return message_of([&] { losses::forward_corrected_cross_entropy(logits, target, transition); });
  };
  CHECK(contains(call(z, labels_tensor({0, 3}), t),
                 "[forward_corrected_cross_entropy] target[1] = 3 is not a class in [0, 3)"));
  CHECK(contains(call(z, labels_tensor({0}), t), "expects logits (N, C) and int64 target (N)"));
  CHECK(contains(call(z, y, losses::symmetric_noise_transition(4, 0.2, Dtype::Float64)),
                 "transition must be (C, C) = (3, 3), got (4, 4)"));
  CHECK(
      contains(call(z, y, losses::symmetric_noise_transition(3, 0.2)), "transition is float32 but logits are float64"));
  CHECK(contains(call(z, y, tensor({0.5, 0.4, 0.0, 0, 1, 0, 0, 0, 1}, {3, 3}, Dtype::Float64)),
                 "transition row 0 sums to 0.9"));
  CHECK(contains(call(z, y, tensor({1.5, -0.5, 0.0, 0, 1, 0, 0, 0, 1}, {3, 3}, Dtype::Float64)),
                 "transition[0, 0] = 1.5"));
  CHECK(contains(call(z, y, tensor({0, 1, 0, 0, 1, 0, 0, 0, 1}, {3, 3}, Dtype::Float64)),
                 "transition column 0 is all zero"));
  CHECK(contains(call(tensor({0, 1, 2, 3, 4, 5}, {2, 3}, Dtype::Int64), y, t), "logits must be float32 or float64"));
}

}  // namespace test_label_noise
