// tests/test_fast_math.cpp — the float helpers behind the cross-entropy kernel (core/fast_math.hpp).
//
// fast_exp_flush is checked against the double-precision std::exp on every 257th float bit
// pattern (about 16.7 million arguments, covering every exponent), in ulps of the float result;
// fast_exp and fast_log against std::exp and std::log on a million random doubles each. The vector forms must give each
// lane the same bits as the scalar form.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <humble/core/fast_math.hpp>
#include <humble/core/generator.hpp>
#include <limits>
#include <vector>

namespace test_fast_math {

using namespace humble;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// |got − want| in units of the last place of want rounded to float (subnormal ulps below FLT_MIN).
double ulps(float got, double want) {
  const float nearest = static_cast<float>(want);
  const float next = std::nextafter(nearest, kInf);
  const double ulp = static_cast<double>(next) - static_cast<double>(nearest);
  return std::abs(static_cast<double>(got) - want) / ulp;
}

// Every 257th float bit pattern whose value is finite and in [lo, hi].
std::vector<float> float_samples(float lo, float hi) {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 257) {
    const float x = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (x >= lo && x <= hi) xs.push_back(x);
  }
  return xs;
}

Floats8 lanes_of(const float* values) {
  Floats8 v;
  std::memcpy(&v, values, sizeof v);
  return v;
}

}  // namespace

TEST_CASE("fast_math: fast_exp_flush matches e^x where it is a normal float and is 0 below") {
  const float ln_min_normal = std::log(std::numeric_limits<float>::min());  // ≈ −87.34
  const std::vector<float> xs = float_samples(-87.33f, 88.0f);
  REQUIRE(xs.size() > 1000000);
  double worst = 0;
  float worst_x = 0;
  for (float x : xs) {
    const double e = ulps(fast_exp_flush(x), std::exp(static_cast<double>(x)));
    if (e > worst) worst = e, worst_x = x;
  }
  CHECK_MESSAGE(worst <= 1.0, "worst at x = ", worst_x, ": ", worst, " ulp");
  for (float x : float_samples(-1e30f, ln_min_normal - 0.001f)) REQUIRE(fast_exp_flush(x) == 0.0f);
  CHECK(fast_exp_flush(-kInf) == 0.0f);
  CHECK(std::isnan(fast_exp_flush(std::numeric_limits<float>::quiet_NaN())));
  CHECK(fast_exp_flush(0.0f) == 1.0f);
}

TEST_CASE("fast_math: fast_exp matches e^x in double for x <= 0 where it is normal, and is 0 below") {
  Generator gen(11);
  double worst = 0, worst_x = 0;
  for (int i = 0; i < 1000000; ++i) {
    // x in [−708, 0]: uniform in value, and (every other draw) uniform in magnitude's exponent
    const double x = i % 2 ? -708.0 * gen.uniform() : -std::ldexp(1.0 + gen.uniform(), -60 + gen.uniform_int(0, 70));
    if (x < -708.0) continue;
    const double want = std::exp(x), got = fast_exp(x);
    const double ulp = std::nextafter(want, std::numeric_limits<double>::infinity()) - want;
    const double e = std::abs(got - want) / ulp;
    if (e > worst) worst = e, worst_x = x;
  }
  CHECK_MESSAGE(worst <= 1.0, "worst at x = ", worst_x, ": ", worst, " ulp");
  CHECK(fast_exp(0.0) == 1.0);
  CHECK(fast_exp(-709.0) == 0.0);
  CHECK(fast_exp(-1e300) == 0.0);
  CHECK(fast_exp(-std::numeric_limits<double>::infinity()) == 0.0);
  CHECK(std::isnan(fast_exp(std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("fast_math: fast_log is within 2 ulp of log x for positive doubles, with IEEE special values") {
  Generator gen(7);
  double worst = 0, worst_x = 0;
  for (int i = 0; i < 1000000; ++i) {
    // a random positive normal double: random significand, exponent across the whole range
    const uint64_t significand = gen.next_u64() >> 12;
    const uint64_t exponent = 1 + gen.next_u64() % 2046;
    const double x = std::bit_cast<double>(exponent << 52 | significand);
    const double want = std::log(x), got = fast_log(x);
    const double ulp = std::nextafter(std::abs(want), std::numeric_limits<double>::infinity()) - std::abs(want);
    const double e = want == 0 ? std::abs(got) : std::abs(got - want) / ulp;
    if (e > worst) worst = e, worst_x = x;
  }
  CHECK_MESSAGE(worst <= 2.0, "worst at x = ", worst_x, ": ", worst, " ulp");
  CHECK(fast_log(1.0) == 0.0);
  CHECK(fast_log(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(fast_log(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(fast_log(-1.0)));
  CHECK(std::isnan(fast_log(std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("fast_math: vector forms give every lane the scalar form's bits") {
  const float xs[8] = {-kInf, -100.0f, -87.5f, -20.25f, -0.5f, 0.0f, 3.75f, 88.0f};
  const Floats8 f = fast_exp_flush(lanes_of(xs));
  for (int j = 0; j < 8; ++j) CHECK(std::bit_cast<uint32_t>(f[j]) == std::bit_cast<uint32_t>(fast_exp_flush(xs[j])));
  const Doubles4 ds = {1e-300, 0.3, 2.0, 1e300};
  const Doubles4 logs = fast_log(ds);
  for (int j = 0; j < 4; ++j) CHECK(logs[j] == fast_log(ds[j]));
  const Doubles4 xs_exp = {-800.0, -20.5, -1e-9, 0.0};
  const Doubles4 exps = fast_exp(xs_exp);
  for (int j = 0; j < 4; ++j) CHECK(exps[j] == fast_exp(xs_exp[j]));

  // widen and narrow convert lane by lane.
  const Doubles8 wide = widen(lanes_of(xs));
  for (int j = 0; j < 8; ++j) CHECK(wide[j] == static_cast<double>(xs[j]));
  const Floats8 back = narrow(wide + 0.1);
  for (int j = 0; j < 8; ++j) CHECK(back[j] == static_cast<float>(static_cast<double>(xs[j]) + 0.1));
}

}  // namespace test_fast_math
