// losses/schedule.hpp — label smoothing that changes over training: a small object the training
// loop asks for ε at every step.
//
//   const losses::SmoothingSchedule schedule = losses::SmoothingSchedule::parse("linear:0.2:0");
//   for (int64_t step = 0; step < total_steps; ++step) {
//     const double eps = schedule.at(step, total_steps);
//     Tensor loss = losses::cross_entropy(model(x), y, {.label_smoothing = eps});
//     ...
//   }
//
// With training progress t = step / (total_steps − 1) in [0, 1] (t = 0 when there is one step),
// so that the first step sees `start` and the last step sees `end`:
//   constant:E      ε(t) = E                               (a bare number E means the same)
//   linear:A:B      ε(t) = A + (B − A)·t
//   cosine:A:B      ε(t) = B + (A − B)·(1 + cos πt)/2       (flat at both ends, steepest midway)
// Every ε is checked to lie in [0, 1]. Annealing ε to 0 keeps smoothing's regularisation early in
// training and lets the final model become confident again; the study compares it with constant ε.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace humble::losses {

class SmoothingSchedule {
 public:
  enum class Shape { Constant, Linear, Cosine };

  SmoothingSchedule() = default;                             // constant 0: no smoothing
  SmoothingSchedule(Shape shape, double start, double end);  // Constant takes start and needs end == start

  // "0.1", "constant:0.1", "linear:0.2:0", "cosine:0.3:0.05"; ValueError naming the text otherwise.
  static SmoothingSchedule parse(std::string_view spec);

  double at(double progress) const;                    // progress in [0, 1]
  double at(int64_t step, int64_t total_steps) const;  // step in [0, total_steps), total_steps >= 1
  double start() const { return start_; }
  double end() const { return end_; }
  Shape shape() const { return shape_; }
  bool is_constant() const { return shape_ == Shape::Constant; }

  std::string to_string() const;  // the parse() form: parse(s.to_string()) == s

  bool operator==(const SmoothingSchedule&) const = default;

 private:
  Shape shape_ = Shape::Constant;
  double start_ = 0.0, end_ = 0.0;
};

}  // namespace humble::losses
