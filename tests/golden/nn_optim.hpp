// tests/golden/nn_optim.hpp — reading tests/golden/nn_optim.json (written by gen_nn_optim.py) in
// tests/test_nn.cpp and tests/test_optim.cpp. Tensors are stored as {"shape": [...], "data": [...]}.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <humble/humble.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace golden {

using nlohmann::json;

inline const json& fixture() {
  static const json j = [] {
    std::ifstream in(HUMBLE_SOURCE_DIR "/tests/golden/nn_optim.json");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/golden/nn_optim.json (run tests/golden/gen_nn_optim.py)");
    return json::parse(in);
  }();
  return j;
}

inline humble::Tensor tensor(const json& t, humble::Dtype dtype) {
  return humble::tensor(t.at("data").get<std::vector<double>>(), t.at("shape").get<humble::Shape>(), dtype);
}

// max |actual − expected| after checking the shapes agree (+inf when they do not).
inline double max_abs_diff(const humble::Tensor& actual, const json& expected) {
  if (!actual.defined() || actual.shape() != expected.at("shape").get<humble::Shape>()) return INFINITY;
  const std::vector<double> a = actual.to_vector(), e = expected.at("data").get<std::vector<double>>();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - e[i]));
  return worst;
}

inline double tolerance(humble::Dtype dtype) { return dtype == humble::Dtype::Float32 ? 1e-5 : 1e-10; }

}  // namespace golden
