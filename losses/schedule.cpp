// losses/schedule.cpp — SmoothingSchedule (formulas in schedule.hpp).
#include "schedule.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <vector>

#include "../core/error.hpp"
#include "reduction.hpp"

namespace humble::losses {
namespace {

// The shortest "%g" form that reads back as the same double.
std::string shortest(double value) {
  char buffer[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

SmoothingSchedule::SmoothingSchedule(Shape shape, double start, double end) : shape_(shape), start_(start), end_(end) {
  check_smoothing("SmoothingSchedule", "start", start);
  check_smoothing("SmoothingSchedule", "end", end);
  if (shape == Shape::Constant && start != end)
    throw ValueError(str_cat("[SmoothingSchedule] a constant schedule needs start == end, got ", start, " and ", end));
}

SmoothingSchedule SmoothingSchedule::parse(std::string_view spec) {
  const std::vector<std::string_view> parts = split(spec, ':');
  const auto fail = [&](const char* why) -> SmoothingSchedule {
    throw ValueError(str_cat("[SmoothingSchedule] '", spec, "': ", why,
                             "; expected E, constant:E, linear:A:B or cosine:A:B with numbers in [0, 1]"));
  };
  const auto number = [&](std::string_view text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) fail("not a number");
    check_smoothing("SmoothingSchedule", "eps", value);
    return value;
  };
  const std::string_view kind = parts.front();
  if (parts.size() == 1) return {Shape::Constant, number(kind), number(kind)};
  if (kind == "constant")
    return parts.size() == 2 ? SmoothingSchedule{Shape::Constant, number(parts[1]), number(parts[1])}
                             : fail("constant takes one value");
  if (kind != "linear" && kind != "cosine") fail("unknown shape");
  if (parts.size() != 3) fail("linear and cosine take a start and an end");
  return {kind == "linear" ? Shape::Linear : Shape::Cosine, number(parts[1]), number(parts[2])};
}

double SmoothingSchedule::at(double progress) const {
  if (!(progress >= 0 && progress <= 1))
    throw ValueError(str_cat("[SmoothingSchedule::at] progress must be in [0, 1], got ", progress));
  switch (shape_) {
    case Shape::Constant:
      return start_;
    case Shape::Linear:
      return start_ + (end_ - start_) * progress;
    case Shape::Cosine:
      break;
  }
  return end_ + (start_ - end_) * (1 + std::cos(std::numbers::pi * progress)) / 2;
}

double SmoothingSchedule::at(int64_t step, int64_t total_steps) const {
  if (total_steps < 1) throw ValueError(str_cat("[SmoothingSchedule::at] total_steps must be >= 1, got ", total_steps));
  if (step < 0 || step >= total_steps)
    throw ValueError(str_cat("[SmoothingSchedule::at] step ", step, " is outside [0, ", total_steps, ")"));
  if (total_steps == 1) return at(0.0);
  return at(static_cast<double>(step) / static_cast<double>(total_steps - 1));
}

std::string SmoothingSchedule::to_string() const {
  switch (shape_) {
    case Shape::Constant:
      return shortest(start_);
    case Shape::Linear:
      return str_cat("linear:", shortest(start_), ":", shortest(end_));
    case Shape::Cosine:
      break;
  }
  return str_cat("cosine:", shortest(start_), ":", shortest(end_));
}

}  // namespace humble::losses
