// tests/test_schedule.cpp — the label-smoothing schedule (losses/schedule.hpp): its formulas at
// hand-worked steps, parsing and printing, and validation.
#include <doctest/doctest.h>

#include <cmath>
#include <humble/humble.hpp>
#include <numbers>
#include <string>

#include "support.hpp"

namespace test_schedule {

using humble::ValueError;
using humble::losses::SmoothingSchedule;
using test_support::contains;
using test_support::message_of;

TEST_CASE("SmoothingSchedule: linear goes from start at the first step to end at the last") {
  const SmoothingSchedule schedule = SmoothingSchedule::parse("linear:0.2:0");
  CHECK(schedule.shape() == SmoothingSchedule::Shape::Linear);
  CHECK(schedule.at(0, 5) == 0.2);
  CHECK(schedule.at(2, 5) == doctest::Approx(0.1).epsilon(1e-15));   // t = 1/2
  CHECK(schedule.at(1, 5) == doctest::Approx(0.15).epsilon(1e-15));  // t = 1/4
  CHECK(schedule.at(4, 5) == 0.0);                                   // exactly end at the last step
  CHECK(schedule.at(0, 1) == 0.2);                                   // one step: t = 0
  const SmoothingSchedule rising = SmoothingSchedule::parse("linear:0:0.3");
  CHECK(rising.at(3, 4) == doctest::Approx(0.3).epsilon(1e-15));
  CHECK(rising.at(0.5) == doctest::Approx(0.15).epsilon(1e-15));
}

TEST_CASE("SmoothingSchedule: cosine is flat at both ends and passes the midpoint halfway") {
  const SmoothingSchedule schedule = SmoothingSchedule::parse("cosine:0.2:0");
  CHECK(schedule.at(0.0) == 0.2);
  CHECK(schedule.at(1.0) == 0.0);
  CHECK(schedule.at(0.5) == doctest::Approx(0.1).epsilon(1e-15));
  // t = 1/4: 0.2·(1 + cos(π/4))/2 = 0.1·(1 + √2/2) ≈ 0.170711
  CHECK(schedule.at(0.25) == doctest::Approx(0.1 * (1 + std::numbers::sqrt2 / 2)).epsilon(1e-14));
  // Flat ends: the first 1 % of training moves ε by far less than 1 % of its range (linear would move 1 %).
  CHECK(schedule.at(0.0) - schedule.at(0.01) < 0.2 * 0.001);
  double previous = schedule.at(0, 101);
  for (int64_t step = 1; step < 101; ++step) {  // never increases on the way down
    CHECK(schedule.at(step, 101) <= previous);
    previous = schedule.at(step, 101);
  }
}

TEST_CASE("SmoothingSchedule: constant, bare numbers and the default") {
  CHECK(SmoothingSchedule().at(0.7) == 0.0);
  CHECK(SmoothingSchedule::parse("0.1").is_constant());
  CHECK(SmoothingSchedule::parse("0.1").at(3, 10) == 0.1);
  CHECK(SmoothingSchedule::parse("constant:0.05") == SmoothingSchedule::parse("0.05"));
  CHECK(SmoothingSchedule(SmoothingSchedule::Shape::Linear, 0.3, 0.1).end() == 0.1);
}

TEST_CASE("SmoothingSchedule: to_string is the shortest text that parses back to the same schedule") {
  for (const std::string text : {"0.1", "linear:0.2:0", "cosine:0.3:0.05", "linear:0:1", "0"}) {
    const SmoothingSchedule schedule = SmoothingSchedule::parse(text);
    CHECK(schedule.to_string() == text);
    CHECK(SmoothingSchedule::parse(schedule.to_string()) == schedule);
  }
  CHECK(SmoothingSchedule::parse("constant:0.10").to_string() == "0.1");
  const SmoothingSchedule third(SmoothingSchedule::Shape::Linear, 1.0 / 3.0, 0.0);
  CHECK(SmoothingSchedule::parse(third.to_string()) == third);
}

TEST_CASE("SmoothingSchedule: bad text and bad arguments throw ValueError naming them") {
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, std::string>>{{"linear:0.2", "take a start and an end"},
                                                        {"linear:a:0", "not a number"},
                                                        {"step:0.1:0", "unknown shape"},
                                                        {"1.5", "in [0, 1], got 1.5"},
                                                        {"", "not a number"},
                                                        {"constant:0.1:0.2", "constant takes one value"},
                                                        {"cosine:0.2:-0.1", "got -0.1"},
                                                        {"linear:0.2:0:", "take a start and an end"}}) {
    const std::string message = message_of<ValueError>([&] { SmoothingSchedule::parse(text); });
    CHECK_MESSAGE(contains(message, "[SmoothingSchedule]"), message);
    CHECK_MESSAGE(contains(message, expected), text, " -> ", message);
  }
  const SmoothingSchedule schedule = SmoothingSchedule::parse("linear:0.2:0");
  CHECK(contains(message_of<ValueError>([&] { schedule.at(5, 5); }), "step 5 is outside [0, 5)"));
  CHECK(contains(message_of<ValueError>([&] { schedule.at(-1, 5); }), "step -1"));
  CHECK(contains(message_of<ValueError>([&] { schedule.at(0, 0); }), "total_steps must be >= 1, got 0"));
  CHECK(contains(message_of<ValueError>([&] { schedule.at(1.5); }), "progress must be in [0, 1], got 1.5"));
  CHECK(contains(message_of<ValueError>([&] { schedule.at(NAN); }), "progress"));
  CHECK(contains(message_of<ValueError>([] { SmoothingSchedule(SmoothingSchedule::Shape::Constant, 0.1, 0.2); }),
                 "needs start == end"));
  CHECK(contains(message_of<ValueError>([] { SmoothingSchedule(SmoothingSchedule::Shape::Linear, 0.1, 2.0); }),
                 "end must be a finite number in [0, 1], got 2"));
}

TEST_CASE("SmoothingSchedule: a training step at each scheduled ε lands on that ε's loss") {
  // K = 2, z = [ln 19, 0], y = 0: p = [0.95, 0.05] equals q′ at ε = 0.1, where the loss is H(q′).
  // A schedule passing through 0.1 at its midpoint gives exactly that loss there.
  const humble::Tensor z = humble::tensor({std::log(19.0), 0.0}, {1, 2}, humble::Dtype::Float64);
  const humble::Tensor y = humble::tensor({0}, {1}, humble::Dtype::Int64);
  const SmoothingSchedule schedule = SmoothingSchedule::parse("linear:0.2:0");
  const double eps = schedule.at(2, 5);
  const double loss = humble::losses::cross_entropy(z, y, {.label_smoothing = eps}).item();
  CHECK(loss == doctest::Approx(humble::losses::loss_floor(2, 0.1)).epsilon(1e-12));
}

}  // namespace test_schedule
