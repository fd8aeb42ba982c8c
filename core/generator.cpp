// core/generator.cpp — xoshiro256**, splitmix64 seeding, polar-method normals.
#include "generator.hpp"

#include <bit>
#include <cmath>
#include <cstring>

#include "error.hpp"

namespace humble {
namespace {

__extension__ using uint128 = unsigned __int128;  // a GCC/Clang extension, for Lemire's multiply

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Generator::Generator(uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

uint64_t Generator::next_u64() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

// Marsaglia polar: draw (u, v) uniform in the unit disc, s = u² + v²; then u·√(−2 ln s / s) and
// v·√(−2 ln s / s) are two independent standard normals.
double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double scale = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * scale;
  has_spare_ = true;
  return u * scale;
}

// Lemire's nearly-divisionless method (https://arxiv.org/abs/1805.10941) on the range size.
int64_t Generator::uniform_int(int64_t low, int64_t high) {
  if (high <= low) throw ValueError(str_cat("[uniform_int] needs low < high, got [", low, ", ", high, ")"));
  // In uint64 (modular): high − low may not fit in int64, e.g. for [INT64_MIN, INT64_MAX).
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  uint128 m = static_cast<uint128>(next_u64()) * range;
  auto leftover = static_cast<uint64_t>(m);
  if (leftover < range) {
    const uint64_t threshold = -range % range;
    while (leftover < threshold) {
      m = static_cast<uint128>(next_u64()) * range;
      leftover = static_cast<uint64_t>(m);
    }
  }
  return static_cast<int64_t>(static_cast<uint64_t>(low) + static_cast<uint64_t>(m >> 64));
}

Generator::State Generator::state() const {
  uint64_t spare_bits;
  std::memcpy(&spare_bits, &spare_, sizeof spare_bits);
  // The spare normal is kept as its bits; a NaN marks "no spare".
  if (!has_spare_) spare_bits = 0x7ff8dead00000000ULL;
  return {s_[0], s_[1], s_[2], s_[3], spare_bits};
}

void Generator::check_state(const State& state) {
  if ((state[0] | state[1] | state[2] | state[3]) == 0)
    throw ValueError(
        "[Generator::set_state] the four xoshiro256** words are all 0, a state it never reaches "
        "(it would return 0 forever)");
  double spare;
  std::memcpy(&spare, &state[4], sizeof spare);
  if (std::isinf(spare))
    throw ValueError(str_cat("[Generator::set_state] the cached normal is ", spare,
                             "; expected a finite number, or "
                             "NaN bits for none"));
}

void Generator::set_state(const State& state) {
  check_state(state);
  for (int i = 0; i < 4; ++i) s_[i] = state[i];
  double spare;
  std::memcpy(&spare, &state[4], sizeof spare);
  has_spare_ = !std::isnan(spare);
  spare_ = has_spare_ ? spare : 0.0;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator() = Generator(seed); }

}  // namespace humble
