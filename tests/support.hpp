// tests/support.hpp — the small helpers that many test files share.
#pragma once

#include <exception>
#include <humble/humble.hpp>
#include <string>

namespace test_support {

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The message of what f throws as an E (any other exception goes on, and fails the test); "" when
// f throws nothing.
template <class E = std::exception, class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// Restores two threads (the suite's default) when a test ends, whatever it set meanwhile.
struct RestoreTwoThreads {
  ~RestoreTwoThreads() { humble::set_num_threads(2); }
};

}  // namespace test_support
