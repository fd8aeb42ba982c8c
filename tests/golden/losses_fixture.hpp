// tests/golden/losses_fixture.hpp — what the loss tests share: the PyTorch fixture
// (tests/golden/losses.json, written by gen_losses.py) and small builders for its cases.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../loss_agreement.hpp"

namespace humble::loss_golden {

using Values = std::vector<double>;
using json = nlohmann::json;

inline const json& golden() {
  static const json fixture = [] {
    std::ifstream in(HUMBLE_SOURCE_DIR "/tests/golden/losses.json");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/golden/losses.json (run tests/golden/gen_losses.py)");
    return json::parse(in);
  }();
  return fixture;
}

inline Tensor f64(const Values& values, Shape shape, bool requires_grad = false) {
  return tensor(values, std::move(shape), Dtype::Float64, requires_grad);
}

inline Tensor labels(const std::vector<int64_t>& y) {
  return tensor(Values(y.begin(), y.end()), {static_cast<int64_t>(y.size())}, Dtype::Int64);
}

inline losses::Reduction reduction_named(const std::string& name) {
  return name == "none" ? losses::Reduction::None : name == "sum" ? losses::Reduction::Sum : losses::Reduction::Mean;
}

inline std::string digits(double v) {
  std::ostringstream out;
  out << std::setprecision(17) << v;
  return out.str();
}

// The message of the exception `f` throws ("" when it throws none).
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// One CHECK per tensor, naming the worst element when it fails.
inline void check_close(const Values& actual, const Values& expected, double rtol, double floor,
                        const std::string& what) {
  REQUIRE_MESSAGE(actual.size() == expected.size(), what, ": ", actual.size(), " values, expected ", expected.size());
  const auto [worst, worst_ratio] = loss_agreement::worst_mismatch(actual, expected, rtol, floor);
  CHECK_MESSAGE(worst_ratio <= 1.0, what, ": element ", worst, " is ", digits(actual[worst]), ", PyTorch ",
                digits(expected[worst]), " (", worst_ratio, " × the tolerance)");
}

}  // namespace humble::loss_golden
