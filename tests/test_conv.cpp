// tests/test_conv.cpp — the fast conv2d and pools (nn/conv_fast.cpp) against their readable twins
// (nn/conv.cpp, *_reference), which state the math as plain loops over each window.
//
//   1. Every configuration (odd sizes, stride, padding, dilation, ceil_mode, count_include_pad,
//      with and without bias, LeNet's own layers) in float32 and float64, on 1 and 2 threads: the
//      output and the gradient of sum(out ⊙ proj) for every input. conv2d agrees with the
//      reference within a rounding bound per element, (terms + 2)·eps·Σ|terms| (the magnitudes come
//      from the reference run on absolute values); max_pool2d, and avg_pool2d's forward (same sums
//      in the same order), agree exactly; avg_pool2d's backward within rounding. The fast path
//      gives the same bits on 1 and 2 threads.
//   2. conv2d on a large batch without a graph (inference; many tiles of images): same bound.
//   3. max_pool2d: a NaN in a window is the window's output (and takes its gradient), as in
//      PyTorch; an all −inf window gives −inf and its first tap the gradient; ties go to the first.
//   4. Both paths reject bad arguments with the same message, and save what their backward reads
//      (an input changed in place afterwards makes backward throw).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <string>
#include <vector>

namespace test_conv {

using namespace humble;

namespace {

using Op = std::function<Tensor(const Tensors&)>;

// Output and input gradients of sum(op(inputs) ⊙ proj), as values.
std::vector<std::vector<double>> outputs_and_gradients(const Op& op, const Tensors& inputs, const Tensor& proj) {
  Tensors leaves;
  for (const Tensor& t : inputs) leaves.push_back(t.defined() ? t.detach().clone().requires_grad_() : Tensor());
  const Tensor out = op(leaves);
  sum(out * proj).backward();
  std::vector<std::vector<double>> values{out.to_vector()};
  for (const Tensor& t : leaves)
    if (t.defined()) values.push_back(t.grad().to_vector());
  return values;
}

Tensor abs_or_undefined(const Tensor& t) { return t.defined() ? abs(t) : Tensor(); }

struct ConvCase {
  Shape x;  // (N, C, H, W)
  int64_t out_channels, k, stride, padding, dilation;
  bool bias;
};

// |fast − reference| <= (terms + 2)·eps·magnitude, element by element; counts the violations.
int64_t beyond_bound(const std::vector<double>& fast, const std::vector<double>& reference,
                     const std::vector<double>& magnitude, double terms, double eps) {
  int64_t bad = 0;
  for (std::size_t e = 0; e < fast.size(); ++e)
    if (!(std::abs(fast[e] - reference[e]) <= (terms + 2) * eps * magnitude[e])) ++bad;
  return bad;
}

}  // namespace

TEST_CASE("test_conv: fast conv2d against the reference, both dtypes, 1 and 2 threads, same bits on both") {
  const std::vector<ConvCase> cases = {
      {{8, 1, 28, 28}, 6, 5, 1, 2, 1, true},   // LeNet's first layer
      {{5, 6, 14, 14}, 16, 5, 1, 0, 1, true},  // and its second
      {{3, 2, 9, 7}, 4, 3, 2, 1, 2, true},     // stride, padding, dilation, H ≠ W
      {{2, 3, 6, 5}, 2, 1, 1, 0, 1, false},    // 1×1 without bias
      {{4, 3, 11, 10}, 5, 3, 3, 1, 1, true},   // stride = kernel
      {{2, 2, 5, 5}, 3, 5, 1, 2, 1, false},    // a window as large as the input
      {{70, 3, 12, 12}, 8, 3, 1, 1, 1, true},  // GEMMs big enough to be split over threads
  };
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    const double eps = dtype == Dtype::Float32 ? 0x1p-24 : 0x1p-53;
    for (const ConvCase& c : cases) {
      CAPTURE(shape_str(c.x));
      CAPTURE(c.k);
      CAPTURE(std::string(dtype_name(dtype)));
      Generator gen(11);
      const Tensor x = randn(c.x, gen, dtype), w = randn({c.out_channels, c.x[1], c.k, c.k}, gen, dtype);
      const Tensor b = c.bias ? randn({c.out_channels}, gen, dtype) : Tensor();
      const auto with = [&](auto conv) {
        return [=](const Tensors& in) { return conv(in[0], in[1], in[2], c.stride, c.padding, c.dilation); };
      };
      const Op fast = with(nn::conv2d), reference = with(nn::conv2d_reference);
      const Tensor probe = reference({x, w, b});
      const Tensor proj = randn(probe.shape(), gen, dtype);
      const auto want = outputs_and_gradients(reference, {x, w, b}, proj);
      const auto magnitude = outputs_and_gradients(reference, {abs(x), abs(w), abs_or_undefined(b)}, abs(proj));
      // Terms per element: C·K·K products for out, O·K·K for dx, N·OH·OW for dw and db.
      const Shape& o = probe.shape();
      const std::vector<double> terms = {
          static_cast<double>(c.x[1] * c.k * c.k), static_cast<double>(c.out_channels * c.k * c.k),
          static_cast<double>(o[0] * o[2] * o[3]), static_cast<double>(o[0] * o[2] * o[3])};
      std::vector<std::vector<double>> on_one;
      for (int threads : {1, 2}) {
        CAPTURE(threads);
        set_num_threads(threads);
        const auto got = outputs_and_gradients(fast, {x, w, b}, proj);
        REQUIRE(got.size() == want.size());
        for (std::size_t t = 0; t < got.size(); ++t) {
          CAPTURE(t);  // 0 out, 1 dx, 2 dw, 3 db
          CHECK(beyond_bound(got[t], want[t], magnitude[t], terms[t], eps) == 0);
        }
        if (threads == 1)
          on_one = got;
        else
          CHECK(got == on_one);
      }
    }
  }
  set_num_threads(2);
}

TEST_CASE("test_conv: conv2d on a large batch without a graph (many tiles of images) agrees with the reference") {
  Generator gen(3);
  const Tensor x = randn({180, 3, 32, 32}, gen), w = randn({4, 3, 3, 3}, gen), b = randn({4}, gen);  // 45 tiles
  NoGradGuard no_grad;
  const std::vector<double> got = nn::conv2d(x, w, b, 1, 1).to_vector();
  const std::vector<double> want = nn::conv2d_reference(x, w, b, 1, 1).to_vector();
  const std::vector<double> magnitude = nn::conv2d_reference(abs(x), abs(w), abs(b), 1, 1).to_vector();
  CHECK(beyond_bound(got, want, magnitude, 27, 0x1p-24) == 0);
}

TEST_CASE("test_conv: fast pools against the reference, both dtypes, 1 and 2 threads, same bits on both") {
  struct PoolCase {
    const char* name;
    Shape x;
    Op fast, reference;
    bool exact;  // the same sums in the same order on both paths
  };
  const auto max_pool = [](int64_t k, std::optional<int64_t> s, int64_t p, int64_t d, bool ceil) {
    return std::pair<Op, Op>{[=](const Tensors& in) { return nn::max_pool2d(in[0], k, s, p, d, ceil); },
                             [=](const Tensors& in) { return nn::max_pool2d_reference(in[0], k, s, p, d, ceil); }};
  };
  const auto avg_pool = [](int64_t k, std::optional<int64_t> s, int64_t p, bool ceil, bool include_pad) {
    return std::pair<Op, Op>{
        [=](const Tensors& in) { return nn::avg_pool2d(in[0], k, s, p, ceil, include_pad); },
        [=](const Tensors& in) { return nn::avg_pool2d_reference(in[0], k, s, p, ceil, include_pad); }};
  };
  std::vector<PoolCase> cases;
  const auto add = [&](const char* name, Shape x, std::pair<Op, Op> ops, bool exact) {
    cases.push_back({name, std::move(x), ops.first, ops.second, exact});
  };
  add("max 2 (LeNet)", {16, 6, 28, 28}, max_pool(2, {}, 0, 1, false), true);
  add("max 3 s1 p1", {3, 2, 7, 9}, max_pool(3, 1, 1, 1, false), true);
  add("max 3 s2 p1 ceil", {2, 3, 8, 7}, max_pool(3, 2, 1, 1, true), true);
  add("max 3 s1 p1 d2", {2, 2, 9, 8}, max_pool(3, 1, 1, 2, false), true);
  add("max 2 odd (a last row and column no window covers)", {3, 2, 7, 5}, max_pool(2, {}, 0, 1, false), true);
  add("max 2 ceil odd", {2, 2, 7, 5}, max_pool(2, {}, 0, 1, true), true);
  add("max 4 s3 p2 ceil", {2, 2, 10, 11}, max_pool(4, 3, 2, 1, true), true);
  add("avg 2", {16, 6, 28, 28}, avg_pool(2, {}, 0, false, true), false);
  add("avg 3 s2 p1", {3, 2, 9, 8}, avg_pool(3, 2, 1, false, true), false);
  add("avg 3 s1 p1 exclude pad", {2, 3, 7, 7}, avg_pool(3, 1, 1, false, false), false);
  add("avg 3 s2 p1 ceil exclude pad", {2, 2, 8, 9}, avg_pool(3, 2, 1, true, false), false);
  add("avg 2 ceil", {2, 2, 7, 5}, avg_pool(2, {}, 0, true, true), false);
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64}) {
    const double eps = dtype == Dtype::Float32 ? 0x1p-24 : 0x1p-53;
    for (const PoolCase& c : cases) {
      CAPTURE(c.name);
      CAPTURE(std::string(dtype_name(dtype)));
      Generator gen(5);
      // Small integers: windows with ties, so "first max" is put to the test.
      const Tensor x = randint(-3, 4, c.x, gen).to(dtype);
      const Tensor proj = randn(c.reference({x}).shape(), gen, dtype);
      const auto want = outputs_and_gradients(c.reference, {x}, proj);
      const auto magnitude = outputs_and_gradients(c.reference, {abs(x)}, abs(proj));
      std::vector<std::vector<double>> on_one;
      for (int threads : {1, 2}) {
        CAPTURE(threads);
        set_num_threads(threads);
        const auto got = outputs_and_gradients(c.fast, {x}, proj);
        CHECK(got[0] == want[0]);
        if (c.exact)
          CHECK(got[1] == want[1]);
        else
          CHECK(beyond_bound(got[1], want[1], magnitude[1], 16, eps) == 0);
        if (threads == 1)
          on_one = got;
        else
          CHECK(got == on_one);
      }
    }
  }
  set_num_threads(2);
}

TEST_CASE(
    "test_conv: max_pool2d passes NaN on, like PyTorch, and sends an all -inf window's gradient to its first tap") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  // One 2×4 plane, two 2×2 windows: [1, NaN; 3, 2] and [−inf, −inf; −inf, −inf].
  const Tensor x = tensor({1, nan, -inf, -inf, 3, 2, -inf, -inf}, {1, 1, 2, 4});
  for (const auto& pool : {Op([](const Tensors& in) { return nn::max_pool2d(in[0], 2); }),
                           Op([](const Tensors& in) { return nn::max_pool2d_reference(in[0], 2); })}) {
    const auto result = outputs_and_gradients(pool, {x}, tensor({10, 20}, {1, 1, 1, 2}));
    CHECK(std::isnan(result[0][0]));
    CHECK(result[0][1] == -inf);
    CHECK(result[1] == std::vector<double>{0, 10, 20, 0, 0, 0, 0, 0});
  }
}

TEST_CASE("test_conv: the fast and readable paths reject bad arguments with the same message") {
  const auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const Tensor x = zeros({1, 2, 5, 5});
  CHECK(message([&] {
          nn::conv2d(x, zeros({3, 2, 3, 2}));
        }) == message([&] {
          nn::conv2d_reference(x, zeros({3, 2, 3, 2}));
        }));
  CHECK(message([&] {
          nn::conv2d(x, zeros({3, 1, 3, 3}));
        }) == message([&] {
          nn::conv2d_reference(x, zeros({3, 1, 3, 3}));
        }));
  CHECK(message([&] {
          nn::conv2d(x, zeros({3, 2, 3, 3}), zeros({2}));
        }) == message([&] {
          nn::conv2d_reference(x, zeros({3, 2, 3, 3}), zeros({2}));
        }));
  CHECK(message([&] { nn::max_pool2d(x, 2, 1, 2); }) == message([&] { nn::max_pool2d_reference(x, 2, 1, 2); }));
  CHECK(message([&] { nn::avg_pool2d(x, 7); }) == message([&] { nn::avg_pool2d_reference(x, 7); }));
  CHECK(message([&] { nn::max_pool2d(x, 2, 1, 2); }).find("[max_pool2d] padding 2") == 0);
}

TEST_CASE("test_conv: an input or weight changed in place after conv2d makes its backward throw, on both paths") {
  for (const auto& conv : {Op([](const Tensors& in) { return nn::conv2d(in[0], in[1]); }),
                           Op([](const Tensors& in) { return nn::conv2d_reference(in[0], in[1]); })}) {
    Generator gen(2);
    Tensor x = randn({2, 2, 5, 5}, gen), w = randn({3, 2, 3, 3}, gen).requires_grad_();
    const Tensor y = sum(conv({x, w}));
    x.fill_(1.0);  // dW would be computed from the new x
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("conv2d"), ValueError);
    CHECK_FALSE(w.grad().defined());
  }
}

}  // namespace test_conv
