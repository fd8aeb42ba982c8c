// core/error.hpp — the exceptions humble throws, and a helper to build their messages.
//
// Every message starts with the operation in brackets and names the argument, the value received
// and what was expected: "[matmul] inner dimensions differ: (2, 3) @ (4, 5)".
#pragma once

#include <charconv>
#include <sstream>
#include <stdexcept>
#include <string>

namespace humble {

struct ShapeError : std::invalid_argument {  // shapes that do not fit together
  using std::invalid_argument::invalid_argument;
};
struct ValueError : std::invalid_argument {  // an argument outside its allowed range or dtype
  using std::invalid_argument::invalid_argument;
};
struct IoError : std::runtime_error {  // files that cannot be read, written, or are corrupt
  using std::runtime_error::runtime_error;
};
struct AnomalyError : std::runtime_error {  // NaN/Inf found by anomaly mode (autograd/anomaly.hpp)
  using std::runtime_error::runtime_error;
};

// For two tensors that must match in shape and dtype: a ShapeError when the shapes differ, else a
// ValueError (only the dtypes do). Shape is std::vector<int64_t> (core/tensor.hpp).
template <class Shape>
[[noreturn]] void throw_mismatch(const Shape& shape, const Shape& expected, const std::string& message) {
  if (shape != expected) throw ShapeError(message);
  throw ValueError(message);
}

// Streams every argument into one string: str_cat("[op] got ", 3, " rows").
template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// The shortest decimal that reads back as exactly `value` (0.99999990000000005 prints as
// "0.9999999"), for messages about values that the stream's 6 digits would round to something else.
inline std::string exact(double value) {
  char digits[32];
  return std::string(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace humble
