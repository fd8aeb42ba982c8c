// tests/test_ops.cpp — every op in autograd/ops.hpp: forward values, gradients, and errors.
//
// Forward: tables of (op, inputs, expected) with hand-derived literals, each run in float32 and
// float64. The expected values are exact real-number results (e.g. tanh(ln 2) = 3/5,
// softmax(0, ln 2, ln 5) = (1, 2, 5)/8); the tolerance is relative, 1e-6 in float32 (a few
// roundings of 6e-8 each) and 1e-12 in float64, and zeros and infinities must match exactly.
// Gradients: one table of finite-difference checks (gradcheck, float64, default tolerances)
// covering every differentiable op, every binary op under broadcasting of both operands, and
// the shape and matrix ops; plus hand-derived gradients where finite differences cannot look
// (ties, kinks, repeated indices). Errors: the exact exception type, and the message's op name.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_ops {

using namespace humble;
using namespace test_support;

namespace {

using Values = std::vector<double>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = 0.6931471805599453, kLn3 = 1.0986122886681098, kLn5 = 1.6094379124341003;
constexpr double kE = 2.718281828459045;
constexpr Dtype kFloatTypes[] = {Dtype::Float32, Dtype::Float64};

double tolerance(Dtype dtype) { return dtype == Dtype::Float32 ? 1e-6 : 1e-12; }

// t has this shape and these values: |got − want| <= tol·|want|; zeros, infinities exactly; NaN as NaN.
void check_values(const Tensor& t, const Shape& shape, const Values& want, double tol) {
  REQUIRE(t.defined());
  CHECK(t.shape() == shape);
  const Values got = t.to_vector();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CAPTURE(got[i]);
    CAPTURE(want[i]);
    if (std::isnan(want[i]))
      CHECK(std::isnan(got[i]));
    else if (std::isinf(want[i]) || want[i] == 0)
      CHECK(got[i] == want[i]);
    else
      CHECK(std::abs(got[i] - want[i]) <= tol * std::abs(want[i]));
  }
}

// ---------------------------------------------------------------------------------------------
// Gradcheck helpers: float64 leaves drawn from seeded generators (each call its own seed).

uint64_t next_seed() {
  static uint64_t seed = 1000;
  return seed++;
}

Tensor leaf(Tensor t) {
  t.requires_grad_();
  return t;
}

Tensor normal(Shape shape) {  // N(0, 1)
  Generator gen(next_seed());
  return leaf(randn(std::move(shape), gen, Dtype::Float64));
}

Tensor in_range(Shape shape, double low, double high) {  // U[low, high)
  Generator gen(next_seed());
  return leaf(uniform(std::move(shape), low, high, gen, Dtype::Float64));
}

// ±U[0.2, 2): away from the kinks of relu, abs and friends, and from division by ~0.
Tensor away_from_zero(Shape shape) {
  Generator gen(next_seed());
  Tensor magnitude = uniform(shape, 0.2, 2, gen, Dtype::Float64);
  Tensor sign = randint(0, 2, shape, gen).to(Dtype::Float64) * 2.0 - 1.0;
  return leaf(magnitude * sign);
}

Tensor constant(const Values& values, Shape shape, Dtype dtype = Dtype::Float64) {
  return tensor(values, std::move(shape), dtype);
}

struct GradCase {
  std::string name;
  std::function<Tensor(const Tensors&)> f;
  Tensors inputs;
};

using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

std::vector<GradCase> grad_cases() {
  std::vector<GradCase> cases;
  const auto unary = [&](std::string name, std::function<Tensor(const Tensor&)> f, Tensor x) {
    cases.push_back({std::move(name), [f](const Tensors& in) { return f(in[0]); }, {std::move(x)}});
  };
  const auto add_case = [&](std::string name, std::function<Tensor(const Tensors&)> f, Tensors inputs) {
    cases.push_back({std::move(name), std::move(f), std::move(inputs)});
  };

  // Unary and scalar ops on (2, 3).
  unary(
      "neg", [](const Tensor& x) { return neg(x); }, normal({2, 3}));
  unary(
      "unary minus", [](const Tensor& x) { return -x; }, normal({2, 3}));
  unary(
      "exp", [](const Tensor& x) { return exp(x); }, normal({2, 3}));
  unary(
      "log", [](const Tensor& x) { return log(x); }, in_range({2, 3}, 0.5, 3));
  unary(
      "sqrt", [](const Tensor& x) { return sqrt(x); }, in_range({2, 3}, 0.5, 3));
  unary(
      "abs", [](const Tensor& x) { return abs(x); }, away_from_zero({2, 3}));
  unary(
      "tanh", [](const Tensor& x) { return tanh(x); }, normal({2, 3}));
  unary(
      "sigmoid", [](const Tensor& x) { return sigmoid(x * 3.0); }, normal({2, 3}));
  unary(
      "relu", [](const Tensor& x) { return relu(x); }, away_from_zero({2, 3}));
  unary(
      "leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, away_from_zero({2, 3}));
  unary(
      "leaky_relu default", [](const Tensor& x) { return leaky_relu(x); }, away_from_zero({2, 3}));
  unary(
      "gelu", [](const Tensor& x) { return gelu(x * 2.0); }, normal({2, 3}));
  unary(
      "pow 3", [](const Tensor& x) { return pow(x, 3); }, normal({2, 3}));
  unary(
      "pow 0.5", [](const Tensor& x) { return pow(x, 0.5); }, in_range({2, 3}, 0.5, 3));
  unary(
      "pow -2", [](const Tensor& x) { return pow(x, -2); }, in_range({2, 3}, 0.5, 3));
  unary(
      "pow 0", [](const Tensor& x) { return pow(x, 0); }, normal({2, 3}));
  unary(
      "clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.5); }, normal({3, 4}));
  unary(
      "x + s", [](const Tensor& x) { return x + 1.5; }, normal({2, 3}));
  unary(
      "x - s", [](const Tensor& x) { return x - 1.5; }, normal({2, 3}));
  unary(
      "x * s", [](const Tensor& x) { return x * 2.5; }, normal({2, 3}));
  unary(
      "x / s", [](const Tensor& x) { return x / 2.5; }, normal({2, 3}));
  unary(
      "s + x", [](const Tensor& x) { return 1.5 + x; }, normal({2, 3}));
  unary(
      "s - x", [](const Tensor& x) { return 1.5 - x; }, normal({2, 3}));
  unary(
      "s * x", [](const Tensor& x) { return 2.5 * x; }, normal({2, 3}));
  unary(
      "s / x", [](const Tensor& x) { return 2.5 / x; }, away_from_zero({2, 3}));

  // Binary ops, same shapes and every kind of broadcasting (both operands stretched included).
  const std::vector<std::pair<std::string, Binary>> binaries = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"operator+", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"operator-", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"operator*", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"operator/", [](const Tensor& a, const Tensor& b) { return a / b; }},
  };
  const std::vector<std::pair<Shape, Shape>> shape_pairs = {
      {{2, 3}, {2, 3}}, {{2, 1}, {1, 3}}, {{1, 3}, {2, 1}}, {{3, 1, 2}, {4, 1}},
      {{}, {2, 3}},     {{2, 3}, {}},     {{2, 3}, {3}},    {{3}, {2, 3}},
  };
  for (const auto& [name, f] : binaries)
    for (const auto& [sa, sb] : shape_pairs) {
      const bool divides = name == "div" || name == "operator/";
      add_case(name + " " + shape_str(sa) + " & " + shape_str(sb), [f](const Tensors& in) { return f(in[0], in[1]); },
               {normal(sa), divides ? away_from_zero(sb) : normal(sb)});
    }
  // One operand without gradient.
  add_case("mul, b constant", [](const Tensors& in) { return in[0] * in[1]; },
           {normal({2, 3}), constant({1, 2, 3}, {3})});
  add_case("where (cond (2, 3), a (2, 1), b (3))",
           [](const Tensors& in) {
             return where(constant({1, 0, 0, 1, 1, 0}, {2, 3}), in[0], in[1]);
           },
           {normal({2, 1}), normal({3})});
  add_case("where (int64 cond (3), a (2, 3), b ())",
           [](const Tensors& in) {
             return where(constant({0, 5, -1}, {3}, Dtype::Int64), in[0], in[1]);
           },
           {normal({2, 3}), normal({})});

  // Reductions over (2, 3, 4): all dims, one dim, several (non-adjacent) dims, keepdim.
  const auto reduction = [&](std::string name, std::function<Tensor(const Tensor&)> f) {
    unary(std::move(name), std::move(f), normal({2, 3, 4}));
  };
  reduction("sum all", [](const Tensor& x) { return sum(x); });
  reduction("sum {1}", [](const Tensor& x) { return sum(x, {1}); });
  reduction("sum {0, 2}", [](const Tensor& x) { return sum(x, {0, 2}); });
  reduction("sum {-1} keepdim", [](const Tensor& x) { return sum(x, {-1}, true); });
  reduction("sum {2, 0, 1} keepdim", [](const Tensor& x) { return sum(x, {2, 0, 1}, true); });
  reduction("mean all", [](const Tensor& x) { return mean(x); });
  reduction("mean {0, 2}", [](const Tensor& x) { return mean(x, {0, 2}); });
  reduction("mean {1} keepdim", [](const Tensor& x) { return mean(x, {1}, true); });
  reduction("max all", [](const Tensor& x) { return max(x); });
  reduction("max {1}", [](const Tensor& x) { return max(x, {1}); });
  reduction("max {0, 2} keepdim", [](const Tensor& x) { return max(x, {0, 2}, true); });
  reduction("min all", [](const Tensor& x) { return min(x); });
  reduction("min {2}", [](const Tensor& x) { return min(x, {2}); });
  reduction("min {0, 1}", [](const Tensor& x) { return min(x, {0, 1}); });
  reduction("logsumexp {1}", [](const Tensor& x) { return logsumexp(x, {1}); });
  reduction("logsumexp {0, 2}", [](const Tensor& x) { return logsumexp(x, {0, 2}); });
  reduction("logsumexp all keepdim", [](const Tensor& x) { return logsumexp(x, {0, 1, 2}, true); });
  add_case("logsumexp with a -inf entry", [](const Tensors& in) { return logsumexp(in[0], {1}); },
           {leaf(constant({0.3, -kInf, 1.2, -0.4, 0.8, 2.0}, {2, 3}))});
  reduction("sum_to (3, 1)", [](const Tensor& x) { return sum_to(x, {3, 1}); });
  unary(
      "broadcast_to (2, 3, 4)",
      [](const Tensor& x) {
        return broadcast_to(x, {2, 3, 4});
      },
      normal({3, 1}));

  // Shape ops.
  reduction("reshape {4, -1}", [](const Tensor& x) { return reshape(x, {4, -1}); });
  reduction("view", [](const Tensor& x) { return x.view({6, 4}) * x.view({6, 4}); });
  reduction("flatten(1)", [](const Tensor& x) { return x.flatten(1); });
  reduction("squeeze(unsqueeze)", [](const Tensor& x) { return squeeze(unsqueeze(x, 1), 1) * sum(unsqueeze(x, -1)); });
  unary(
      "slice", [](const Tensor& x) { return x.slice(1, 3); }, normal({4, 3}));
  unary(
      "slice of a slice", [](const Tensor& x) { return x.slice(1, 4).slice(1, 3); }, normal({5, 2}));
  unary(
      "operator[]", [](const Tensor& x) { return x[2] * x[0]; }, normal({4, 3}));
  unary(
      "clone", [](const Tensor& x) { return x.clone(); }, normal({2, 3}));
  reduction("transpose(0, 2)", [](const Tensor& x) { return transpose(x, 0, 2); });
  reduction("transpose(-1, -2)", [](const Tensor& x) { return transpose(x, -1, -2); });
  reduction("permute {2, 0, 1}", [](const Tensor& x) { return permute(x, {2, 0, 1}); });
  reduction("permute {1, 2, 0}", [](const Tensor& x) { return permute(x, {1, 2, 0}); });
  add_case("cat dim 0", [](const Tensors& in) { return cat({in[0], in[1]}, 0); }, {normal({1, 3}), normal({2, 3})});
  add_case("cat dim 1",
           [](const Tensors& in) {
             return cat({in[0], in[1], in[2]}, 1);
           },
           {normal({2, 1}), normal({2, 3}), normal({2, 2})});
  add_case("cat dim -1 of 3-D",
           [](const Tensors& in) {
             return cat({in[0], in[1]}, -1);
           },
           {normal({2, 3, 1}), normal({2, 3, 2})});
  add_case("cat dim 1 of 3-D, one input constant",
           [](const Tensors& in) {
             return cat({in[0], in[1]}, 1);
           },
           {normal({2, 1, 2}), constant({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2})});
  add_case("stack dim 0", [](const Tensors& in) { return stack({in[0], in[1]}, 0); }, {normal({2, 3}), normal({2, 3})});
  add_case("stack dim 1",
           [](const Tensors& in) {
             return stack({in[0], in[1], in[0]}, 1);
           },
           {normal({2, 3}), normal({2, 3})});
  add_case("stack dim -1",
           [](const Tensors& in) {
             return stack({in[0], in[1]}, -1);
           },
           {normal({2, 3}), normal({2, 3})});
  unary(
      "index_select with repeats",
      [](const Tensor& x) {
        return index_select(x, constant({2, 0, 2, 2}, {4}, Dtype::Int64));
      },
      normal({3, 4}));
  unary(
      "gather dim 1 with repeats",
      [](const Tensor& x) {
        return gather(x, 1, constant({2, 0, 2, 1, 1, 1}, {2, 3}, Dtype::Int64));
      },
      normal({2, 4}));
  unary(
      "gather dim 0 of 3-D",
      [](const Tensor& x) {
        return gather(x, 0, constant({2, 0, 1, 1, 0, 0, 2, 2}, {2, 2, 2}, Dtype::Int64));
      },
      normal({3, 2, 2}));
  unary(
      "gather dim -1",
      [](const Tensor& x) {
        return gather(x, -1, constant({1, 0, 0, 0}, {2, 2}, Dtype::Int64));
      },
      normal({2, 3}));

  // Softmax family.
  unary(
      "softmax dim 1", [](const Tensor& x) { return softmax(x, 1); }, normal({3, 5}));
  unary(
      "softmax dim 1 of 3-D", [](const Tensor& x) { return softmax(x, 1); }, normal({2, 3, 4}));
  unary(
      "softmax dim 0", [](const Tensor& x) { return softmax(x, 0); }, normal({3, 5}));
  add_case("softmax with a -inf entry", [](const Tensors& in) { return softmax(in[0], 1); },
           {leaf(constant({0.3, -kInf, 1.2, -0.4, 0.8, 2.0}, {2, 3}))});
  unary(
      "log_softmax dim -1", [](const Tensor& x) { return log_softmax(x, -1); }, normal({3, 5}));
  unary(
      "log_softmax dim 1 of 3-D", [](const Tensor& x) { return log_softmax(x, 1); }, normal({2, 3, 4}));
  unary(
      "log_softmax dim 0", [](const Tensor& x) { return log_softmax(x, 0); }, normal({3, 5}));

  // Matrix products: plain, batched, mixed 2-D/3-D, and every transpose flag.
  const auto product = [&](std::string name, Shape sa, Shape sb, bool ta, bool tb) {
    add_case(name + " " + shape_str(sa) + (ta ? "ᵀ" : "") + " @ " + shape_str(sb) + (tb ? "ᵀ" : ""),
             [ta, tb](const Tensors& in) { return matmul(in[0], in[1], ta, tb); }, {normal(sa), normal(sb)});
  };
  product("matmul", {3, 4}, {4, 2}, false, false);
  product("matmul", {4, 3}, {4, 2}, true, false);
  product("matmul", {3, 4}, {2, 4}, false, true);
  product("matmul", {4, 3}, {2, 4}, true, true);
  product("matmul", {2, 3, 4}, {2, 4, 5}, false, false);
  product("matmul", {2, 4, 3}, {2, 5, 4}, true, true);
  product("matmul", {2, 3, 4}, {4, 5}, false, false);
  product("matmul", {2, 3, 4}, {5, 4}, false, true);
  product("matmul", {2, 4, 3}, {4, 5}, true, false);
  product("matmul", {3, 4}, {2, 4, 5}, false, false);
  product("matmul", {4, 3}, {2, 5, 4}, true, true);
  add_case("matmul 2-arg (3, 4) @ (4, 2)", [](const Tensors& in) { return matmul(in[0], in[1]); },
           {normal({3, 4}), normal({4, 2})});
  add_case("linear with bias", [](const Tensors& in) { return linear(in[0], in[1], in[2]); },
           {normal({4, 3}), normal({2, 3}), normal({2})});
  add_case("linear without bias", [](const Tensors& in) { return linear(in[0], in[1]); },
           {normal({4, 3}), normal({2, 3})});
  add_case("linear, input constant", [](const Tensors& in) { return linear(in[0], in[1], in[2]); },
           {constant({1, 2, 3, -1, 0, 4}, {2, 3}), normal({5, 3}), normal({5})});

  // Compositions: a tensor used several times, and cross-entropy written out of ops.
  unary(
      "x * x + exp(x) / x", [](const Tensor& x) { return x * x + exp(x) / x; }, away_from_zero({2, 3}));
  add_case("cross-entropy from ops",
           [](const Tensors& in) {
             const Tensor target = one_hot(constant({2, 0, 1, 2}, {4}, Dtype::Int64), 3, Dtype::Float64);  // (4, 3)
             return -mean(sum(target * log_softmax(in[0], 1), {1}));
           },
           {normal({4, 3})});
  return cases;
}

// Forward-table rows. Inputs are built in the dtype under test.
struct UnaryRow {
  std::string name;
  std::function<Tensor(const Tensor&)> f;
  Values x;
  Values want;
};

struct BinaryRow {
  std::string name;
  Binary f;
  Values a;
  Shape sa;
  Values b;
  Shape sb;
  Values want;
  Shape shape;
};

struct ReduceRow {
  std::string name;
  std::function<Tensor(const Tensor&)> f;
  Values want;
  Shape shape;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Forward values

TEST_CASE("ops: unary forward values in float32 and float64") {
  const std::vector<UnaryRow> rows = {
      {"neg", [](const Tensor& x) { return neg(x); }, {1, -2, 0.5}, {-1, 2, -0.5}},
      {"unary minus", [](const Tensor& x) { return -x; }, {1, -2, 0.5}, {-1, 2, -0.5}},
      {"exp", [](const Tensor& x) { return exp(x); }, {0, 1, -1, kLn2}, {1, kE, 1 / kE, 2}},
      {"log",
       [](const Tensor& x) { return log(x); },
       {1, kE, 0.25, 1e-3},
       {0, 1, -1.3862943611198906, -6.907755278982137}},
      {"log(0)", [](const Tensor& x) { return log(x); }, {0}, {-kInf}},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, {0, 1, 4, 2.25, 2}, {0, 1, 2, 1.5, 1.4142135623730951}},
      {"abs", [](const Tensor& x) { return abs(x); }, {-3, -0.5, 0, 2}, {3, 0.5, 0, 2}},
      {"tanh", [](const Tensor& x) { return tanh(x); }, {0, kLn2, -kLn2, kLn3, 20}, {0, 0.6, -0.6, 0.8, 1}},
      // σ(ln 3) = 3/4; far tails must not overflow into NaN.
      {"sigmoid",
       [](const Tensor& x) { return sigmoid(x); },
       {0, kLn3, -kLn3, -30, 800, -800},
       {0.5, 0.75, 0.25, 9.357622968839299e-14, 1, 0}},
      {"relu", [](const Tensor& x) { return relu(x); }, {-2, 0, 3, 0.25}, {0, 0, 3, 0.25}},
      {"leaky_relu 0.1", [](const Tensor& x) { return leaky_relu(x, 0.1); }, {-2, 0, 3}, {-0.2, 0, 3}},
      {"leaky_relu default 0.01", [](const Tensor& x) { return leaky_relu(x); }, {-2, 5}, {-0.02, 5}},
      // gelu(x) = x·Φ(x): Φ(1) = 0.8413447460685429, Φ(2) = 0.9772498680518208.
      {"gelu",
       [](const Tensor& x) { return gelu(x); },
       {0, 1, -1, 2},
       {0, 0.8413447460685429, -0.15865525393145707, 1.9544997361036416}},
      {"pow 2", [](const Tensor& x) { return pow(x, 2); }, {-3, 0.5, 2}, {9, 0.25, 4}},
      {"pow 0.5", [](const Tensor& x) { return pow(x, 0.5); }, {4, 9, 0.25}, {2, 3, 0.5}},
      {"pow -1", [](const Tensor& x) { return pow(x, -1); }, {2, 4, -0.5}, {0.5, 0.25, -2}},
      {"pow 0", [](const Tensor& x) { return pow(x, 0); }, {5, -2}, {1, 1}},
      {"clamp [-1, 2]", [](const Tensor& x) { return clamp(x, -1, 2); }, {-3, -1, 0.5, 2, 7}, {-1, -1, 0.5, 2, 2}},
      {"x + 1.5", [](const Tensor& x) { return x + 1.5; }, {1, -2}, {2.5, -0.5}},
      {"x - 1.5", [](const Tensor& x) { return x - 1.5; }, {1, -2}, {-0.5, -3.5}},
      {"x * 2", [](const Tensor& x) { return x * 2.0; }, {1, -2}, {2, -4}},
      {"x / 4", [](const Tensor& x) { return x / 4.0; }, {1, -2}, {0.25, -0.5}},
      {"1.5 + x", [](const Tensor& x) { return 1.5 + x; }, {1, -2}, {2.5, -0.5}},
      {"1.5 - x", [](const Tensor& x) { return 1.5 - x; }, {1, -2}, {0.5, 3.5}},
      {"2 * x", [](const Tensor& x) { return 2.0 * x; }, {1, -2}, {2, -4}},
      {"12 / x", [](const Tensor& x) { return 12.0 / x; }, {3, -8}, {4, -1.5}},
  };
  for (Dtype dtype : kFloatTypes)
    for (const UnaryRow& row : rows) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(row.name);
      const Tensor x = tensor(row.x, {static_cast<int64_t>(row.x.size())}, dtype);
      const Tensor out = row.f(x);
      CHECK(out.dtype() == dtype);
      check_values(out, x.shape(), row.want, tolerance(dtype));
    }
}

TEST_CASE("ops: binary forward values, operators and broadcasting in float32 and float64") {
  const Binary add_f = [](const Tensor& a, const Tensor& b) { return add(a, b); };
  const Values a = {1, -2, 3, 4}, b = {2, 2, -1, 0.5};  // both (2, 2)
  const std::vector<BinaryRow> rows = {
      {"add", add_f, a, {2, 2}, b, {2, 2}, {3, 0, 2, 4.5}, {2, 2}},
      {"sub",
       [](const Tensor& x, const Tensor& y) { return sub(x, y); },
       a,
       {2, 2},
       b,
       {2, 2},
       {-1, -4, 4, 3.5},
       {2, 2}},
      {"mul", [](const Tensor& x, const Tensor& y) { return mul(x, y); }, a, {2, 2}, b, {2, 2}, {2, -4, -3, 2}, {2, 2}},
      {"div",
       [](const Tensor& x, const Tensor& y) { return div(x, y); },
       a,
       {2, 2},
       b,
       {2, 2},
       {0.5, -1, -3, 8},
       {2, 2}},
      {"maximum",
       [](const Tensor& x, const Tensor& y) { return maximum(x, y); },
       a,
       {2, 2},
       b,
       {2, 2},
       {2, 2, 3, 4},
       {2, 2}},
      {"minimum",
       [](const Tensor& x, const Tensor& y) { return minimum(x, y); },
       a,
       {2, 2},
       b,
       {2, 2},
       {1, -2, -1, 0.5},
       {2, 2}},
      {"operator+",
       [](const Tensor& x, const Tensor& y) { return x + y; },
       a,
       {2, 2},
       b,
       {2, 2},
       {3, 0, 2, 4.5},
       {2, 2}},
      {"operator-",
       [](const Tensor& x, const Tensor& y) { return x - y; },
       a,
       {2, 2},
       b,
       {2, 2},
       {-1, -4, 4, 3.5},
       {2, 2}},
      {"operator*",
       [](const Tensor& x, const Tensor& y) { return x * y; },
       a,
       {2, 2},
       b,
       {2, 2},
       {2, -4, -3, 2},
       {2, 2}},
      {"operator/",
       [](const Tensor& x, const Tensor& y) { return x / y; },
       a,
       {2, 2},
       b,
       {2, 2},
       {0.5, -1, -3, 8},
       {2, 2}},
      // Broadcasting: (2, 3) + (3): every row gets the vector.
      {"(2, 3) + (3)", add_f, {1, 2, 3, 4, 5, 6}, {2, 3}, {10, 20, 30}, {3}, {11, 22, 33, 14, 25, 36}, {2, 3}},
      // (2, 1) * (1, 3): an outer product.
      {"(2, 1) * (1, 3)",
       [](const Tensor& x, const Tensor& y) { return x * y; },
       {1, 2},
       {2, 1},
       {10, 20, 30},
       {1, 3},
       {10, 20, 30, 20, 40, 60},
       {2, 3}},
      // () + (2, 3): a scalar tensor stretches everywhere.
      {"() + (2, 3)", add_f, {100}, {}, {1, 2, 3, 4, 5, 6}, {2, 3}, {101, 102, 103, 104, 105, 106}, {2, 3}},
      // (3, 1, 2) − (2, 1): out[i, j, k] = a[i, k] − b[j] with a = (i+1)·(1, 2), b = (10, 20).
      {"(3, 1, 2) - (2, 1)",
       [](const Tensor& x, const Tensor& y) { return x - y; },
       {1, 2, 2, 4, 3, 6},
       {3, 1, 2},
       {10, 20},
       {2, 1},
       {-9, -8, -19, -18, -8, -6, -18, -16, -7, -4, -17, -14},
       {3, 2, 2}},
      {"(2, 3) / ()",
       [](const Tensor& x, const Tensor& y) { return x / y; },
       {1, 2, 3, 4, 5, 6},
       {2, 3},
       {4},
       {},
       {0.25, 0.5, 0.75, 1, 1.25, 1.5},
       {2, 3}},
      {"maximum (2, 1) & (3)",
       [](const Tensor& x, const Tensor& y) { return maximum(x, y); },
       {0, 5},
       {2, 1},
       {-1, 2, 7},
       {3},
       {0, 2, 7, 5, 5, 7},
       {2, 3}},
  };
  for (Dtype dtype : kFloatTypes)
    for (const BinaryRow& row : rows) {
      CAPTURE(std::string(dtype_name(dtype)));
      CAPTURE(row.name);
      const Tensor out = row.f(tensor(row.a, row.sa, dtype), tensor(row.b, row.sb, dtype));
      CHECK(out.dtype() == dtype);
      check_values(out, row.shape, row.want, tolerance(dtype));
    }
  // Int64 arithmetic stays Int64.
  const Tensor i = tensor({1, 2, 3}, {3}, Dtype::Int64);
  CHECK((i + i).dtype() == Dtype::Int64);
  CHECK((i * i - i).to_vector() == Values{0, 2, 6});
  CHECK((i * 3.0).to_vector() == Values{3, 6, 9});
  CHECK((-i).to_vector() == Values{-1, -2, -3});
}

TEST_CASE("ops: comparisons give 1 and 0 in the inputs' dtype and are never differentiable") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor a = tensor({1, 2, 3}, {3}, dtype), b = tensor({2, 2, 2}, {3}, dtype);
    CHECK(eq(a, b).to_vector() == Values{0, 1, 0});
    CHECK(ne(a, b).to_vector() == Values{1, 0, 1});
    CHECK(lt(a, b).to_vector() == Values{1, 0, 0});
    CHECK(le(a, b).to_vector() == Values{1, 1, 0});
    CHECK(gt(a, b).to_vector() == Values{0, 0, 1});
    CHECK(ge(a, b).to_vector() == Values{0, 1, 1});
    CHECK(eq(a, b).dtype() == dtype);
    // Broadcasting: (2, 1) against (3).
    const Tensor c = lt(tensor({1, 3}, {2, 1}, dtype), a);
    CHECK(c.shape() == Shape{2, 3});
    CHECK(c.to_vector() == Values{0, 1, 1, 0, 0, 0});
  }
  const Tensor x = tensor({1, 2}, {2}, Dtype::Float64, true);
  CHECK_FALSE(lt(x, x * 2.0).requires_grad());
  CHECK_FALSE(eq(x, x).requires_grad());
  const Tensor nan = tensor({std::nan("")}, {1}, Dtype::Float64);
  CHECK(eq(nan, nan).item() == 0);
  CHECK(ne(nan, nan).item() == 1);
}

TEST_CASE("ops: where picks a where cond is non-zero, b elsewhere, with broadcasting") {
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor cond = tensor({1, 0, 0, 1, 1, 0}, {2, 3}, Dtype::Int64);
    const Tensor a = tensor({10, 20}, {2, 1}, dtype), b = tensor({-1, -2, -3}, {3}, dtype);
    const Tensor out = where(cond, a, b);
    CHECK(out.dtype() == dtype);
    check_values(out, {2, 3}, {10, -2, -3, 20, 20, -3}, 0);
    // A float condition: any non-zero value (even −0.5) counts as true.
    check_values(where(tensor({-0.5, 0}, {2}, dtype), tensor({1, 1}, {2}, dtype), scalar_tensor(7, dtype)), {2}, {1, 7},
                 0);
  }
  CHECK_THROWS_AS(where(zeros({2}), zeros({3}), zeros({3})), ShapeError);
  CHECK_THROWS_AS(where(zeros({3}), zeros({3}), zeros({4})), ShapeError);
}

TEST_CASE("ops: reductions over everything and over dims, with and without keepdim") {
  // x = [[1, 5, 3], [4, 2, 6]]
  const Values x = {1, 5, 3, 4, 2, 6};
  // y = arange(24).reshape(2, 3, 4): y[i, j, k] = 12i + 4j + k.
  //   Σ over {0, 2} = 60 + 32j;  Σ over {0, 1} = 60 + 6k;  max over {1, 2} = 12i + 11.
  const std::vector<ReduceRow> on_x = {
      {"sum", [](const Tensor& t) { return sum(t); }, {21}, {}},
      {"sum {0}", [](const Tensor& t) { return sum(t, {0}); }, {5, 7, 9}, {3}},
      {"sum {1}", [](const Tensor& t) { return sum(t, {1}); }, {9, 12}, {2}},
      {"sum {-1} keepdim", [](const Tensor& t) { return sum(t, {-1}, true); }, {9, 12}, {2, 1}},
      {"sum {} keepdim", [](const Tensor& t) { return sum(t, {}, true); }, {21}, {1, 1}},
      {"sum {0, 1}",
       [](const Tensor& t) {
         return sum(t, {0, 1});
       },
       {21},
       {}},
      {"mean", [](const Tensor& t) { return mean(t); }, {3.5}, {}},
      {"mean {0}", [](const Tensor& t) { return mean(t, {0}); }, {2.5, 3.5, 4.5}, {3}},
      {"mean {1} keepdim", [](const Tensor& t) { return mean(t, {1}, true); }, {3, 4}, {2, 1}},
      {"max", [](const Tensor& t) { return max(t); }, {6}, {}},
      {"max {0}", [](const Tensor& t) { return max(t, {0}); }, {4, 5, 6}, {3}},
      {"max {1} keepdim", [](const Tensor& t) { return max(t, {1}, true); }, {5, 6}, {2, 1}},
      {"min", [](const Tensor& t) { return min(t); }, {1}, {}},
      {"min {0}", [](const Tensor& t) { return min(t, {0}); }, {1, 2, 3}, {3}},
      {"min {-1}", [](const Tensor& t) { return min(t, {-1}); }, {1, 2}, {2}},
  };
  const std::vector<ReduceRow> on_y = {
      {"sum {0, 2}",
       [](const Tensor& t) {
         return sum(t, {0, 2});
       },
       {60, 92, 124},
       {3}},
      {"sum {0, 2} keepdim",
       [](const Tensor& t) {
         return sum(t, {2, 0}, true);
       },
       {60, 92, 124},
       {1, 3, 1}},
      {"sum {0, 1}",
       [](const Tensor& t) {
         return sum(t, {0, 1});
       },
       {60, 66, 72, 78},
       {4}},
      {"sum all", [](const Tensor& t) { return sum(t); }, {276}, {}},
      {"mean {0, 2}",
       [](const Tensor& t) {
         return mean(t, {0, 2});
       },
       {7.5, 11.5, 15.5},
       {3}},
      {"max {1, 2}",
       [](const Tensor& t) {
         return max(t, {1, 2});
       },
       {11, 23},
       {2}},
      {"min {0, 2} keepdim",
       [](const Tensor& t) {
         return min(t, {0, 2}, true);
       },
       {0, 4, 8},
       {1, 3, 1}},
  };
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor tx = tensor(x, {2, 3}, dtype);
    const Tensor ty = arange(0, 24, 1, dtype).reshape({2, 3, 4});
    for (const ReduceRow& row : on_x) {
      CAPTURE(row.name);
      const Tensor out = row.f(tx);
      CHECK(out.dtype() == dtype);
      check_values(out, row.shape, row.want, tolerance(dtype));
    }
    for (const ReduceRow& row : on_y) {
      CAPTURE(row.name);
      check_values(row.f(ty), row.shape, row.want, tolerance(dtype));
    }
  }
  // Int64 sums stay Int64; a 0-d tensor reduces to itself.
  CHECK(sum(arange(5)).dtype() == Dtype::Int64);
  CHECK(sum(arange(5)).item() == 10);
  CHECK(max(tensor({-4, 9, 2}, {3}, Dtype::Int64)).item() == 9);
  CHECK(sum(scalar_tensor(2.5)).item() == 2.5);
  CHECK(sum(scalar_tensor(2.5), {0}).item() == 2.5);
  CHECK(max(scalar_tensor(-1.5, Dtype::Float64)).item() == -1.5);
  // Summing an empty dim gives zeros; max over one throws.
  check_values(sum(zeros({0, 3}), {0}), {3}, {0, 0, 0}, 0);
  CHECK_THROWS_AS(max(zeros({0, 3}), {0}), ShapeError);
}

TEST_CASE("ops: a sum over rows is, to the bit, a plain loop adding each column's values in double, row after row") {
  // Widths below, at and past the 32-column blocks the kernel keeps in registers, and past a task's
  // 256 columns; one row, and the rows of a training batch.
  Generator gen(11);
  for (int64_t rows : {1, 3, 128})
    for (int64_t cols : {1, 31, 32, 33, 100, 256, 300, 512}) {
      CAPTURE(rows);
      CAPTURE(cols);
      for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
        const Tensor x = randn({rows, cols}, gen, dtype);
        const std::vector<double> values = x.to_vector(), got = sum(x, {0}).to_vector();
        int64_t differ = 0;
        for (int64_t j = 0; j < cols; ++j) {
          double want = 0;
          for (int64_t r = 0; r < rows; ++r) want += values[r * cols + j];
          const double rounded = dtype == Dtype::Float32 ? static_cast<float>(want) : want;
          differ += got[j] != rounded;
        }
        CHECK(differ == 0);
      }
    }
}

TEST_CASE("ops: logsumexp is max-shifted and passes -inf and +inf rows through") {
  // Rows: ln(1 + 2 + 5) = ln 8; 1000 + ln 2 (no overflow); −inf entries contribute 0;
  // a row of −inf gives −inf; a +inf entry gives +inf.
  const double inf = kInf;
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor x =
        tensor({0, kLn2, kLn5, 1000, 1000, -inf, -inf, 0, -inf, -inf, -inf, -inf, inf, 0, -inf}, {5, 3}, dtype);
    const Tensor out = logsumexp(x, {1});
    CHECK(out.dtype() == dtype);
    const Values want = {2.0794415416798357, 1000.6931471805599, 0, -inf, inf};
    check_values(out, {5}, want, tolerance(dtype));
    check_values(logsumexp(x, {-1}, true), {5, 1}, want, tolerance(dtype));
    // Over both dims of the first two rows: ln(8 + 2e1000) = 1000 + ln 2 (the 8 vanishes).
    check_values(logsumexp(x.slice(0, 2), {0, 1}), {}, {1000.6931471805599}, tolerance(dtype));
    // Over dim 0 of [[0, ln 3], [0, ln 5]]: ln 2 and ln 8.
    check_values(logsumexp(tensor({0, kLn3, 0, kLn5}, {2, 2}, dtype), {0}), {2}, {kLn2, 2.0794415416798357},
                 tolerance(dtype));
  }
  CHECK_THROWS_AS(logsumexp(arange(3), {0}), ValueError);
}

TEST_CASE("ops: argmax and argmin return Int64 indices and pick the first of ties") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor x = tensor({1, 3, 3, 2, 2, 1}, {2, 3}, dtype);  // [[1, 3, 3], [2, 2, 1]]
    CHECK(argmax(x, 1).dtype() == Dtype::Int64);
    CHECK(argmax(x, 1).shape() == Shape{2});
    CHECK(argmax(x, 1).to_vector() == Values{1, 0});
    CHECK(argmin(x, 1).to_vector() == Values{0, 2});
    CHECK(argmax(x, -1).to_vector() == Values{1, 0});
    CHECK(argmax(x, 0).to_vector() == Values{1, 0, 0});
    CHECK(argmin(x, 0).to_vector() == Values{0, 1, 1});
    CHECK(argmax(x, 1, true).shape() == Shape{2, 1});
    CHECK(argmax(x, 1, true).to_vector() == Values{1, 0});
    CHECK(argmax(tensor({4, 4, 4, 4}, {4}, dtype), 0).item() == 0);
  }
  CHECK(argmax(tensor({-kInf, -kInf}, {2}), 0).item() == 0);
  CHECK(argmin(tensor({kInf, 5, kInf}, {3}, Dtype::Float64), 0).item() == 1);
  CHECK(argmax(scalar_tensor(3), 0).item() == 0);
  CHECK_FALSE(argmax(tensor({1, 2}, {2}, Dtype::Float64, true), 0).requires_grad());
  CHECK_THROWS_AS(argmax(zeros({0}), 0), ShapeError);
  CHECK_THROWS_AS(argmax(zeros({2, 3}), 2), ShapeError);
  CHECK_THROWS_AS(argmin(zeros({2, 3}), -3), ShapeError);
}

TEST_CASE("ops: transpose, permute, squeeze and unsqueeze rearrange elements") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dtype);
    const Tensor t = transpose(x, 0, 1);
    CHECK(t.shape() == Shape{3, 2});
    CHECK(t.dtype() == dtype);
    CHECK(t.to_vector() == Values{1, 4, 2, 5, 3, 6});
    CHECK(transpose(x, -1, -2).to_vector() == Values{1, 4, 2, 5, 3, 6});
    CHECK(transpose(x, 1, 1).to_vector() == x.to_vector());
    CHECK(t.shares_storage(x));  // a view, as in PyTorch
    CHECK_FALSE(t.is_contiguous());

    // y[i, j, k] = 12i + 4j + k; permute {2, 0, 1} gives p[k, i, j] = y[i, j, k].
    const Tensor y = arange(0, 24, 1, dtype).reshape({2, 3, 4});
    const Tensor p = permute(y, {2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    const Values pv = p.to_vector();
    bool all_match = true;
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) all_match = all_match && pv[(k * 2 + i) * 3 + j] == 12 * i + 4 * j + k;
    CHECK(all_match);
    CHECK(permute(p, {1, 2, 0}).to_vector() == y.to_vector());  // the inverse permutation
    CHECK(permute(y, {-3, -2, -1}).to_vector() == y.to_vector());
    CHECK(transpose(y, 0, 2).shape() == Shape{4, 3, 2});
    CHECK(transpose(y, 0, 2).to_vector()[1] == 12);  // t[0, 0, 1] = y[1, 0, 0]

    CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 3});
    CHECK(unsqueeze(x, 2).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(x, -1).shape() == Shape{2, 3, 1});
    CHECK(squeeze(unsqueeze(x, 1), 1).shape() == Shape{2, 3});
    CHECK(squeeze(unsqueeze(x, 1), 1).shares_storage(x));
    CHECK(squeeze(tensor({5}, {1}, dtype), 0).shape().empty());
  }
  // A 0-d tensor transposes (and permutes) to itself, as in PyTorch.
  CHECK(transpose(scalar_tensor(3), 0, -1).item() == 3);
  CHECK(transpose(scalar_tensor(3), 0, 0).shape().empty());
  CHECK(permute(scalar_tensor(3), {}).item() == 3);
  CHECK_THROWS_AS(transpose(scalar_tensor(3), 0, 1), ShapeError);
}

TEST_CASE("ops: cat and stack lay tensors end to end") {
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor a = tensor({1, 2}, {1, 2}, dtype), b = tensor({3, 4, 5, 6}, {2, 2}, dtype);
    const Tensor c0 = cat({a, b}, 0);
    CHECK(c0.shape() == Shape{3, 2});
    CHECK(c0.dtype() == dtype);
    CHECK(c0.to_vector() == Values{1, 2, 3, 4, 5, 6});
    // [[1], [2]] beside [[3, 4], [5, 6]].
    const Tensor l = tensor({1, 2}, {2, 1}, dtype);
    CHECK(cat({l, b}, 1).shape() == Shape{2, 3});
    CHECK(cat({l, b}, 1).to_vector() == Values{1, 3, 4, 2, 5, 6});
    CHECK(cat({l, b, l}, -1).to_vector() == Values{1, 3, 4, 1, 2, 5, 6, 2});
    CHECK(cat({b}, 0).to_vector() == b.to_vector());
    CHECK(cat({a, tensor({}, {0, 2}, dtype)}, 0).to_vector() == Values{1, 2});
    // A named vector, as a user collects batches: this must pick the tensor op, not a string builder.
    const std::vector<Tensor> parts = {a, b};
    CHECK(cat(parts, 0).to_vector() == Values{1, 2, 3, 4, 5, 6});
    CHECK(cat(parts).shape() == Shape{3, 2});

    const Tensor u = tensor({1, 2, 3}, {3}, dtype), v = tensor({4, 5, 6}, {3}, dtype);
    CHECK(stack({u, v}, 0).shape() == Shape{2, 3});
    CHECK(stack({u, v}, 0).to_vector() == Values{1, 2, 3, 4, 5, 6});
    CHECK(stack({u, v}, 1).shape() == Shape{3, 2});
    CHECK(stack({u, v}, 1).to_vector() == Values{1, 4, 2, 5, 3, 6});
    CHECK(stack({u, v}, -1).to_vector() == Values{1, 4, 2, 5, 3, 6});
    CHECK(stack({scalar_tensor(1, dtype), scalar_tensor(2, dtype)}, 0).to_vector() == Values{1, 2});
  }
  const Tensor a = zeros({2, 3});
  CHECK_THROWS_AS(cat({a, zeros({2, 4})}, 0), ShapeError);                  // differs outside the cat dim
  CHECK_THROWS_AS(cat({a, zeros({2, 3, 1})}, 0), ShapeError);               // different rank
  CHECK_THROWS_AS(cat({a, zeros({2, 3}, Dtype::Float64)}, 0), ValueError);  // same shape, other dtype
  CHECK_THROWS_AS(cat({}, 0), ShapeError);
  CHECK_THROWS_AS(cat({a, a}, 2), ShapeError);
  CHECK_THROWS_AS(cat({scalar_tensor(1), scalar_tensor(2)}, 0), ShapeError);  // 0-d tensors have no dim to join
  CHECK_THROWS_AS(stack({a, zeros({3, 2})}, 0), ShapeError);
  CHECK_THROWS_AS(stack({a, a}, 3), ShapeError);
  CHECK_THROWS_AS(stack({}, 0), ShapeError);
  CHECK(message_of<ShapeError>([&] { cat({a, zeros({2, 4})}, 0); }).starts_with("[cat]"));
}

TEST_CASE("ops: index_select, gather and one_hot pick by Int64 indices") {
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor x = tensor({1, 2, 3, 4, 5, 6}, {3, 2}, dtype);  // rows (1, 2), (3, 4), (5, 6)
    const Tensor s = index_select(x, tensor({2, 0, 2}, {3}, Dtype::Int64));
    CHECK(s.shape() == Shape{3, 2});
    CHECK(s.dtype() == dtype);
    CHECK(s.to_vector() == Values{5, 6, 1, 2, 5, 6});
    CHECK(index_select(x, tensor({}, {0}, Dtype::Int64)).shape() == Shape{0, 2});

    // g = [[1, 2, 3], [4, 5, 6]]: along dim 1, index [[2, 0], [1, 1]] gives [[3, 1], [5, 5]].
    const Tensor g = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dtype);
    const Tensor g1 = gather(g, 1, tensor({2, 0, 1, 1}, {2, 2}, Dtype::Int64));
    CHECK(g1.shape() == Shape{2, 2});
    CHECK(g1.to_vector() == Values{3, 1, 5, 5});
    // Along dim 0, index [[1, 0, 1]] gives [[4, 2, 6]].
    CHECK(gather(g, 0, tensor({1, 0, 1}, {1, 3}, Dtype::Int64)).to_vector() == Values{4, 2, 6});
    CHECK(gather(g, -1, tensor({0, 2}, {2, 1}, Dtype::Int64)).to_vector() == Values{1, 6});
  }
  const Tensor oh = one_hot(tensor({0, 2, 1}, {3}, Dtype::Int64), 3);
  CHECK(oh.shape() == Shape{3, 3});
  CHECK(oh.dtype() == Dtype::Float32);
  CHECK(oh.to_vector() == Values{1, 0, 0, 0, 0, 1, 0, 1, 0});
  const Tensor oh2 = one_hot(tensor({1, 0, 3, 3}, {2, 2}, Dtype::Int64), 4, Dtype::Int64);
  CHECK(oh2.shape() == Shape{2, 2, 4});
  CHECK(oh2.dtype() == Dtype::Int64);
  CHECK(oh2.to_vector() == Values{0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(one_hot(tensor({0}, {1}, Dtype::Int64), 1, Dtype::Float64).to_vector() == Values{1});
}

TEST_CASE("ops: softmax and log_softmax") {
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const double tol = tolerance(dtype);
    // softmax(0, ln 2, ln 5) = (1, 2, 5)/8;  softmax(0, ln 3) = (1, 3)/4.
    const Tensor x = tensor({0, kLn2, kLn5}, {1, 3}, dtype);
    check_values(softmax(x, 1), {1, 3}, {0.125, 0.25, 0.625}, tol);
    check_values(log_softmax(x, 1), {1, 3}, {-2.0794415416798357, -1.3862943611198906, -0.4700036292457356}, tol);
    check_values(softmax(tensor({0, kLn3}, {2}, dtype), 0), {2}, {0.25, 0.75}, tol);
    // Adding a constant to a row changes nothing (in float32, 100 + ln 3 is rounded to ulp(100) ≈ 7.6e-6,
    // which moves the result by up to that much).
    check_values(softmax(tensor({100, 100 + kLn3}, {2}, dtype), -1), {2}, {0.25, 0.75},
                 dtype == Dtype::Float32 ? 8e-6 : tol);

    // Extreme logits stay finite: max-shifting turns ±1e4 into exact 0, 1 and log-probs 0, −2e4, −1e4.
    const Tensor extreme = tensor({1e4, -1e4, 0, -1e4, 1e4, 1e4}, {2, 3}, dtype);
    check_values(softmax(extreme, 1), {2, 3}, {1, 0, 0, 0, 0.5, 0.5}, tol);
    check_values(log_softmax(extreme, 1), {2, 3}, {0, -2e4, -1e4, -2e4 - kLn2, -kLn2, -kLn2}, tol);

    // −inf entries get probability 0 and log-probability −inf; a row of −inf is NaN (as in PyTorch).
    const Tensor masked = tensor({-kInf, 0, 0, -kInf, -kInf, -kInf}, {2, 3}, dtype);
    check_values(softmax(masked, 1), {2, 3}, {0, 0.5, 0.5, NAN, NAN, NAN}, tol);
    check_values(log_softmax(masked, 1), {2, 3}, {-kInf, -kLn2, -kLn2, NAN, NAN, NAN}, tol);

    // Random logits: rows (and, along dim 0, columns) sum to 1 and exp(log_softmax) = softmax.
    Generator gen(17);
    const Tensor z = randn({5, 7}, gen, dtype) * 4.0;
    check_values(sum(softmax(z, 1), {1}), {5}, Values(5, 1.0), 10 * tol);
    check_values(sum(softmax(z, 0), {0}), {7}, Values(7, 1.0), 10 * tol);
    check_values(exp(log_softmax(z, 1)), {5, 7}, softmax(z, 1).to_vector(), 10 * tol);
    // Along a middle dim of (2, 3, 4): the same as moving that dim last.
    const Tensor cube = randn({2, 3, 4}, gen, dtype);
    const Tensor moved = permute(softmax(permute(cube, {0, 2, 1}), -1), {0, 2, 1});
    check_values(softmax(cube, 1), {2, 3, 4}, moved.to_vector(), tol);
    check_values(sum(softmax(cube, 1), {1}), {2, 4}, Values(8, 1.0), 10 * tol);
    check_values(softmax(scalar_tensor(3, dtype), 0), {}, {1}, tol);
  }
  CHECK_THROWS_AS(softmax(zeros({2, 3}), 2), ShapeError);
  CHECK_THROWS_AS(log_softmax(zeros({2, 3}), -3), ShapeError);
  CHECK_THROWS_AS(softmax(arange(3), 0), ValueError);
}

TEST_CASE("ops: sum_to and broadcast_to undo each other's shapes") {
  for (Dtype dtype : kFloatTypes) {
    CAPTURE(std::string(dtype_name(dtype)));
    const Tensor x = tensor({1, 2, 3}, {3, 1}, dtype);
    const Tensor b = broadcast_to(x, {2, 3, 4});
    CHECK(b.shape() == Shape{2, 3, 4});
    CHECK(b.dtype() == dtype);
    CHECK(b.to_vector()[5] == 2);   // b[0, 1, 1] = x[1, 0]
    CHECK(b.to_vector()[23] == 3);  // b[1, 2, 3] = x[2, 0]
    const Tensor s = sum_to(b, {3, 1});
    CHECK(s.shape() == Shape{3, 1});
    CHECK(s.to_vector() == Values{8, 16, 24});  // each x[i] was copied 2·4 = 8 times
    CHECK(sum_to(b, {4}).to_vector() == Values{12, 12, 12, 12});
    CHECK(sum_to(b, {}).item() == 48);
    CHECK(sum_to(b, {1, 3, 1}).to_vector() == Values{8, 16, 24});
  }
  const Tensor x = tensor({1, 2, 3}, {3, 1}, Dtype::Float64);
  const Tensor b = broadcast_to(x, {2, 3, 4});
  CHECK(sum_to(x, {3, 1}).shares_storage(x));  // already that shape: no work
  CHECK_THROWS_AS(broadcast_to(x, {2, 4}), ShapeError);
  CHECK_THROWS_AS(broadcast_to(x, {1}), ShapeError);
  CHECK_THROWS_AS(sum_to(x, {2, 3, 1}), ShapeError);
  CHECK_THROWS_AS(sum_to(b, {2, 3}), ShapeError);
}

// ---------------------------------------------------------------------------------------------
// Gradients

TEST_CASE("gradcheck: every differentiable op against central differences (float64)") {
  const std::vector<GradCase> cases = grad_cases();
  CHECK(cases.size() > 150);
  for (const GradCase& c : cases) {
    CAPTURE(c.name);
    // The function must actually produce a graph, or gradcheck would compare zeros with zeros.
    const Tensor out = c.f(c.inputs);
    CHECK(out.requires_grad());
    const GradcheckResult result = gradcheck(c.f, c.inputs);
    CHECK_MESSAGE(result.passed, c.name << ": " << result.message);
  }
}

TEST_CASE("gradcheck: detects a wrong gradient, and wants float64") {
  // x² with a backward that forgets the factor 2: gradcheck must say no and name the element.
  const auto wrong_square = [](const Tensors& in) {
    const Tensor& x = in[0];
    return record("wrong_square", (x * x).detach(), {x},
                  [x = x.detach()](const Tensor& g) -> Tensors { return {g * x}; });
  };
  const GradcheckResult result = gradcheck(wrong_square, {tensor({1, 2, 3}, {3}, Dtype::Float64, true)});
  CHECK_FALSE(result.passed);
  CHECK(result.message.find("analytic") != std::string::npos);
  CHECK_THROWS_AS(gradcheck(wrong_square, {tensor({1}, {1}, Dtype::Float32, true)}), ValueError);
}

TEST_CASE("gradients: hand-derived values at ties, kinks and repeated indices") {
  const auto grad_of = [](Tensor x, const std::function<Tensor(const Tensor&)>& f) {
    x.requires_grad_();
    sum(f(x)).backward();
    return x.grad().to_vector();
  };
  const auto f64 = [](const Values& v) { return tensor(v, {static_cast<int64_t>(v.size())}, Dtype::Float64); };
  // max over a tie shares the gradient: max(1, 3, 3) → (0, ½, ½); per row along dim 1 likewise.
  CHECK(grad_of(f64({1, 3, 3}), [](const Tensor& x) { return max(x); }) == Values{0, 0.5, 0.5});
  CHECK(grad_of(f64({2, 2, 2, 1}), [](const Tensor& x) { return min(x); }) == Values{0, 0, 0, 1});
  CHECK(grad_of(tensor({5, 1, 5, 0, 2, 1}, {2, 3}, Dtype::Float64), [](const Tensor& x) { return max(x, {1}); }) ==
        Values{0.5, 0, 0.5, 0, 1, 0});
  CHECK(grad_of(f64({4, 4, 4, 4}), [](const Tensor& x) { return max(x); }) == Values{0.25, 0.25, 0.25, 0.25});
  // maximum/minimum on a tie give each operand half.
  {
    Tensor a = f64({1, 2}), b = f64({1, 3});
    a.requires_grad_();
    b.requires_grad_();
    sum(maximum(a, b)).backward();
    CHECK(a.grad().to_vector() == Values{0.5, 0});
    CHECK(b.grad().to_vector() == Values{0.5, 1});
  }
  // Kinks: relu'(0) = 0, |x|'(0) = 0, clamp passes the gradient on its boundaries.
  CHECK(grad_of(f64({-1, 0, 2}), [](const Tensor& x) { return relu(x); }) == Values{0, 0, 1});
  CHECK(grad_of(f64({-1, 0, 2}), [](const Tensor& x) { return abs(x); }) == Values{-1, 0, 1});
  CHECK(grad_of(f64({-2, -1, 0, 1, 2}), [](const Tensor& x) { return clamp(x, -1, 1); }) == Values{0, 1, 1, 1, 0});
  CHECK(grad_of(f64({-1, 0, 2}), [](const Tensor& x) { return leaky_relu(x, 0.1); }) == Values{0.1, 0.1, 1});
  // Repeated indices accumulate: picking x[2] twice gives it gradient 2.
  CHECK(grad_of(f64({7, 8, 9}), [](const Tensor& x) {
          return index_select(x, tensor({2, 0, 2}, {3}, Dtype::Int64));
        }) == Values{1, 0, 2});
  CHECK(grad_of(tensor({1, 2, 3, 4}, {2, 2}, Dtype::Float64), [](const Tensor& x) {
          return gather(x, 1, tensor({1, 1, 1, 0, 0, 0}, {2, 3}, Dtype::Int64));
        }) == Values{0, 3, 3, 0});
  // Broadcasting sums back: d/da Σ (a (2, 1) + b (1, 3)) = 3 per element of a, 2 per element of b.
  {
    Tensor a = tensor({1, 2}, {2, 1}, Dtype::Float64, true), b = tensor({1, 2, 3}, {1, 3}, Dtype::Float64, true);
    sum(a * b).backward();
    CHECK(a.grad().to_vector() == Values{6, 6});     // Σ_j b_j
    CHECK(b.grad().to_vector() == Values{3, 3, 3});  // Σ_i a_i
    CHECK(a.grad().shape() == Shape{2, 1});
  }
  // Softmax's gradient sums to zero across the row (probabilities always sum to one).
  {
    Tensor z = tensor({0.5, -1, 2, 0}, {1, 4}, Dtype::Float64, true);
    sum(softmax(z, 1) * tensor({1, 2, 3, 4}, {1, 4}, Dtype::Float64)).backward();
    CHECK(std::abs(sum(z.grad()).item()) < 1e-14);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_CASE("errors: shapes that do not broadcast throw ShapeError naming the op") {
  const Tensor a = zeros({2, 3}), b = zeros({2, 4});
  CHECK_THROWS_AS(add(a, b), ShapeError);
  CHECK_THROWS_AS(a - b, ShapeError);
  CHECK_THROWS_AS(a * b, ShapeError);
  CHECK_THROWS_AS(a / b, ShapeError);
  CHECK_THROWS_AS(maximum(a, b), ShapeError);
  CHECK_THROWS_AS(minimum(a, b), ShapeError);
  CHECK_THROWS_AS(lt(a, b), ShapeError);
  CHECK_THROWS_AS(a + zeros({3, 3}), ShapeError);
  CHECK_THROWS_AS(zeros({3}) + zeros({4}), ShapeError);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("[add] shapes (2, 3) and (2, 4) do not broadcast"), ShapeError);
  CHECK(message_of<ShapeError>([&] { mul(a, b); }).starts_with("[mul]"));
}

TEST_CASE("errors: matmul checks ranks, inner and batch dims, and dtypes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})),
                       doctest::Contains("[matmul] inner dimensions differ: (2, 3) @ (4, 5)"), ShapeError);
  CHECK_THROWS_AS(matmul(zeros({2, 3}), zeros({2, 5}), true, true), ShapeError);  // 2 ≠ 5 after the flags
  CHECK_NOTHROW(matmul(zeros({3, 2}), zeros({5, 3}), true, true));                // (2, 3) @ (3, 5)
  CHECK_THROWS_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})), ShapeError);        // batch 2 vs 3
  CHECK_THROWS_AS(matmul(zeros({3}), zeros({3, 2})), ShapeError);                 // 1-D
  CHECK_THROWS_AS(matmul(zeros({1, 2, 2, 3}), zeros({3, 2})), ShapeError);        // 4-D
  CHECK_THROWS_AS(matmul(zeros({2, 3}), zeros({3, 2}, Dtype::Float64)), ValueError);
  CHECK_THROWS_AS(matmul(zeros({2, 3}, Dtype::Int64), zeros({3, 2}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(linear(zeros({4, 3}), zeros({2, 5})), ShapeError);
  CHECK_THROWS_AS(linear(zeros({4, 3}), zeros({2, 3}), zeros({3})), ShapeError);
  CHECK_THROWS_AS(linear(zeros({3}), zeros({2, 3})), ShapeError);
  CHECK_THROWS_AS(linear(zeros({4, 3}), zeros({2, 3}, Dtype::Float64)), ValueError);
  CHECK_THROWS_AS(linear(zeros({4, 3}), zeros({2, 3}), zeros({2}, Dtype::Float64)), ValueError);
}

TEST_CASE("errors: dtype mismatches and int64 where floats are needed throw ValueError") {
  const Tensor f = zeros({2}), d = zeros({2}, Dtype::Float64), i = zeros({2}, Dtype::Int64);
  CHECK_THROWS_AS(f + d, ValueError);  // float32 with float64: the one mix humble refuses
  CHECK_THROWS_AS(maximum(f, d), ValueError);
  CHECK_THROWS_WITH_AS(sub(f, d), doctest::Contains("[sub] operands are float32 and float64"), ValueError);
  CHECK((d * i).dtype() == Dtype::Float64);  // int64 with a float tensor: that float dtype
  CHECK(eq(f, i).dtype() == Dtype::Float32);
  CHECK(exp(i).dtype() == Dtype::Float32);  // float functions of int64: float32
  CHECK_THROWS_AS(mean(i), ValueError);
  CHECK_THROWS_AS(log_softmax(i, 0), ValueError);
  CHECK_THROWS_AS(clamp(f, 1, 0), ValueError);
  CHECK_THROWS_AS(where(ones({2}), f, d), ValueError);
  const Tensor xi = zeros({3, 2}, Dtype::Int64), wi = zeros({4, 2}, Dtype::Int64), bi = zeros({4}, Dtype::Int64);
  for (const Tensor& bias : {Tensor(), bi})  // the same message with or without a bias
    CHECK_THROWS_WITH_AS(linear(xi, wi, bias),
                         doctest::Contains("[linear] input must be float32 or float64, got int64"), ValueError);
}

TEST_CASE("errors: out-of-range dims and bad shapes throw ShapeError") {
  const Tensor x = zeros({2, 3});
  CHECK_THROWS_AS(sum(x, {2}), ShapeError);
  CHECK_THROWS_AS(sum(x, {-3}), ShapeError);
  CHECK_THROWS_AS(sum(x, {0, -2}), ShapeError);  // the same dim twice
  CHECK_THROWS_AS(mean(x, {5}), ShapeError);
  CHECK_THROWS_AS(max(x, {2}), ShapeError);
  CHECK_THROWS_AS(logsumexp(x, {2}), ShapeError);
  CHECK_THROWS_AS(transpose(x, 0, 2), ShapeError);
  CHECK_THROWS_AS(permute(x, {0}), ShapeError);
  CHECK_THROWS_AS(permute(x, {0, 0}), ShapeError);
  CHECK_THROWS_AS(permute(x, {0, 2}), ShapeError);
  CHECK_THROWS_AS(squeeze(x, 0), ShapeError);  // size 2, not 1
  CHECK_THROWS_AS(squeeze(x, 2), ShapeError);
  CHECK_THROWS_AS(unsqueeze(x, 3), ShapeError);
  CHECK_THROWS_AS(unsqueeze(x, -4), ShapeError);
  CHECK_THROWS_AS(reshape(x, {4}), ShapeError);
  CHECK_THROWS_AS(reshape(x, {-1, 4}), ShapeError);
  CHECK_THROWS_AS(x.flatten(2), ShapeError);
  CHECK_THROWS_WITH_AS(sum(x, {2}), doctest::Contains("[sum] dim 2 is out of range for a tensor of rank 2"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(reshape(x, {4}), doctest::Contains("[reshape] cannot view (2, 3)"), ShapeError);
}

TEST_CASE("errors: out-of-range indices, gather shapes and one_hot labels") {
  const Tensor x = zeros({3, 2});
  CHECK_THROWS_AS(index_select(x, tensor({0, 3}, {2}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(index_select(x, tensor({-4}, {1}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(index_select(x, tensor({0}, {1})), ValueError);                      // float index
  CHECK_THROWS_AS(index_select(x, tensor({0, 1}, {1, 2}, Dtype::Int64)), ShapeError);  // 2-D index
  CHECK_THROWS_AS(index_select(scalar_tensor(1), tensor({0}, {1}, Dtype::Int64)), ShapeError);
  CHECK_THROWS_WITH_AS(index_select(x, tensor({0, 3}, {2}, Dtype::Int64)),
                       doctest::Contains("[index_select] index 3 at position 1 is out of range for size 3"),
                       ValueError);
  CHECK_THROWS_AS(gather(x, 1, tensor({0, 2, 1}, {3, 1}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(gather(x, 0, tensor({3, 0}, {1, 2}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(gather(x, 1, tensor({0, 1}, {2, 1}, Dtype::Int64)), ShapeError);  // 2 rows, x has 3
  CHECK_THROWS_AS(gather(x, 1, tensor({0, 1, 0}, {3}, Dtype::Int64)), ShapeError);  // rank differs
  CHECK_THROWS_AS(gather(x, 2, tensor({0}, {1, 1}, Dtype::Int64)), ShapeError);
  CHECK_THROWS_AS(one_hot(tensor({0, 3}, {2}, Dtype::Int64), 3), ValueError);
  CHECK_THROWS_AS(one_hot(tensor({-1}, {1}, Dtype::Int64), 3), ValueError);
  CHECK_THROWS_AS(one_hot(tensor({0}, {1}, Dtype::Int64), 0), ValueError);
  CHECK_THROWS_AS(one_hot(tensor({0}, {1}), 2), ValueError);  // float labels
}

TEST_CASE("errors: item, requires_grad_ and backward refuse what they cannot do") {
  CHECK_THROWS_AS(zeros({2}).item(), ShapeError);
  CHECK_THROWS_AS(zeros({0}).item(), ShapeError);
  CHECK(zeros({1, 1}).item() == 0);
  Tensor n = zeros({2}, Dtype::Int64);
  CHECK_THROWS_AS(n.requires_grad_(), ValueError);
  CHECK_NOTHROW(n.requires_grad_(false));
  const Tensor x = tensor({1, 2}, {2}, Dtype::Float64, true);
  Tensor y = x * 2.0;
  CHECK_THROWS_AS(y.requires_grad_(), ValueError);  // not a leaf
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("[backward] needs a one-element tensor"), ShapeError);
  CHECK_THROWS_AS(y.backward(ones({3}, Dtype::Float64)), ShapeError);  // wrong gradient shape
  CHECK_THROWS_AS(y.backward(ones({2})), ValueError);                  // wrong gradient dtype
  CHECK_THROWS_AS(sum(zeros({2})).backward(), ValueError);             // nothing requires grad
  CHECK_NOTHROW(x.retain_grad());                                      // a leaf that requires grad may
  CHECK_THROWS_AS(zeros({2}).retain_grad(), ValueError);
}

}  // namespace test_ops
