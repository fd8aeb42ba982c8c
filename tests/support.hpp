// tests/support.hpp — the small helpers that many test files share.
#pragma once

#include <doctest/doctest.h>

#include <exception>
#include <functional>
#include <humble/humble.hpp>
#include <string>
#include <vector>

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

// Checks that what f throws names every one of `parts`.
inline void check_message(const std::function<void()>& f, const std::vector<std::string>& parts) {
  const std::string message = message_of(f);
  for (const std::string& part : parts) CHECK_MESSAGE(contains(message, part), "'", part, "' not in: ", message);
}

// Restores two threads (the suite's default) when a test ends, whatever it set meanwhile.
struct RestoreTwoThreads {
  ~RestoreTwoThreads() { humble::set_num_threads(2); }
};

}  // namespace test_support
