// tests/fuzz/fuzz_input.hpp — what every fuzz target shares: reading a problem out of the fuzzer's
// bytes, and failing loudly.
//
// A target is `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`: built with clang's
// -fsanitize=fuzzer it is driven by libFuzzer (scripts/fuzz); built by any compiler with replay.cpp
// it runs over a corpus folder as a ctest test (tests/fuzz/CMakeLists.txt). A finding is a
// sanitizer report, an exception other than the ones the target expects, or a failed expect():
// each aborts, so that libFuzzer saves the input.
#pragma once

#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace humble::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void expect(bool condition, const std::string& what) {
  if (!condition) finding(what);
}

// A folder for this process's files, on tmpfs when there is one, removed with everything in it
// when the process ends.
class ScratchDir {
 public:
  explicit ScratchDir(const char* name) {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string pattern = (base / (std::string(name) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) finding("cannot make a scratch folder");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& file) const { return path_ / file; }

 private:
  std::filesystem::path path_;
};

// Reads values off the front of the input; past its end every read gives zeros.
class Input {
 public:
  Input(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return at_ >= size_; }
  std::size_t left() const { return empty() ? 0 : size_ - at_; }

  uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  bool flag() { return (byte() & 1) != 0; }
  template <class T>
  T raw() {  // the next sizeof(T) bytes as a T
    T value{};
    uint8_t bytes[sizeof(T)] = {};
    for (auto& b : bytes) b = byte();
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }
  int64_t integer(int64_t lo, int64_t hi) {  // in [lo, hi]
    const auto span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(raw<uint16_t>() % span);
  }
  // Mostly ordinary values (k/8 in [-16, 16)), sometimes the ones that break code: 0, ±inf, NaN,
  // the largest and smallest finite, subnormals, and any bit pattern at all.
  double number() {
    const uint8_t kind = byte();
    if (kind < 200) return (static_cast<double>(raw<uint8_t>()) - 128) / 8;
    switch (kind % 12) {
      case 0:
        return 0.0;
      case 1:
        return std::numeric_limits<double>::infinity();
      case 2:
        return -std::numeric_limits<double>::infinity();
      case 3:
        return std::numeric_limits<double>::quiet_NaN();
      case 4:
        return std::numeric_limits<double>::max() * (flag() ? 1 : -1);
      case 5:
        return std::numeric_limits<double>::denorm_min() * static_cast<double>(byte());
      case 6:
        return std::numeric_limits<float>::max() * (flag() ? 1 : -1);
      case 7:
        return std::ldexp(static_cast<double>(raw<int16_t>()), static_cast<int>(byte()) - 128);
      default:
        return raw<double>();
    }
  }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace humble::fuzz
