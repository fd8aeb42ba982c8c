// core/generator.hpp — seeded randomness that gives the same numbers on every platform.
//
// xoshiro256** (Blackman & Vigna, https://prng.di.unimi.it/) seeded through splitmix64. Uniform
// doubles take the top 53 bits; normals use Marsaglia's polar method (only log and sqrt, both
// correctly rounded in practice), never std::normal_distribution, which differs between standard
// libraries.
#pragma once

#include <array>
#include <cstdint>

namespace humble {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);

  uint64_t next_u64();
  double uniform();                                // [0, 1)
  double normal();                                 // mean 0, std 1
  int64_t uniform_int(int64_t low, int64_t high);  // [low, high), unbiased

  using State = std::array<uint64_t, 5>;  // four words of xoshiro state + the cached normal
  State state() const;
  // Throws ValueError for a state no generator can be in: four zero words (xoshiro256** would
  // return 0 forever) or a cached normal that is ±inf (NaN bits mean none); check_state only checks.
  void set_state(const State& state);
  static void check_state(const State& state);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// The generator layers use when none is given (e.g. Linear's initialisation).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace humble
