// tests/fuzz/fuzz_loss.cpp — cross_entropy (the fast kernel) against cross_entropy_reference (the
// readable path it is specified by), on problems the input describes.
//
// The input gives dtype, shape ((N, C) or (N, C, d), N up to 12, C up to 40), index or probability
// targets (valid or not), ε, class weights, ignore_index, the smoothing convention, the reduction and
// every logit (mostly ordinary numbers, sometimes ±inf, NaN, the largest finite, subnormals or any
// bits: fuzz_input.hpp). Asserted: both paths throw the same error (a std::invalid_argument starting
// with "[cross_entropy]"), or both return; then their values and gradients agree within
// tests/loss_agreement.hpp's tolerance, and finite logits (or −inf) give a finite loss and gradient.
// The one allowed disagreement: a result so close to the dtype's largest value that one path's
// rounding passes it ("does not fit") and the other's does not.
#include <humble/humble.hpp>
#include <optional>

#include "../loss_agreement.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace humble;
using namespace humble::losses;
using fuzz::expect;
using Values = std::vector<double>;

struct Problem {
  Tensor logits, target, upstream;
  CrossEntropyOptions options;
};

Problem problem_from(fuzz::Input& in) {
  const uint8_t flags = in.byte(), more = in.byte();
  const Dtype dtype = (flags & 1) ? Dtype::Float64 : Dtype::Float32;
  const bool soft = flags & 2, weighted = flags & 4, ignoring = flags & 8;
  Problem p;
  p.options.reduction = static_cast<Reduction>((flags >> 4) % 3);
  p.options.smoothing_target = (flags & 64) ? SmoothingTarget::OtherClasses : SmoothingTarget::AllClasses;
  const int64_t N = in.integer(0, 12), C = in.integer(0, 40);
  Shape shape{N, C};
  if (flags & 128) shape.push_back(in.integer(1, 3));  // (N, C, d)
  Shape rows = shape;
  rows.erase(rows.begin() + 1);
  const int64_t count = shape_numel(shape), row_count = shape_numel(rows);

  Values z(count);
  for (double& v : z) v = in.number();
  p.logits = tensor(z, shape, dtype);
  const double epsilons[] = {0.0, 1e-300, 0.1, 0.5, 1.0};
  p.options.label_smoothing = (more & 1) ? in.number() : epsilons[in.byte() % 5];
  if (weighted) {  // (an Int64 weight tensor, of whole numbers, is the wrong dtype)
    Values w(C);
    for (double& v : w)
      v = (more & 4) ? static_cast<double>(in.integer(0, 3)) : (more & 2) ? in.number() : std::abs(in.number());
    p.options.weight = tensor(w, {C}, (more & 4) ? Dtype::Int64 : dtype);
  }
  if (soft) {  // probabilities: |numbers| normalised per row (valid), or the numbers as they are
    Values t(count);
    for (double& v : t) v = std::abs(in.number());
    const int64_t stride = count / std::max<int64_t>(N * std::max<int64_t>(C, 1), 1);
    if (!(more & 8))
      for (int64_t row = 0; row < row_count; ++row) {
        const auto at = [&](int64_t c) { return (row / stride) * C * stride + row % stride + c * stride; };
        double total = 0;
        for (int64_t c = 0; c < C; ++c) total += t[at(c)];
        for (int64_t c = 0; c < C; ++c) t[at(c)] = total > 0 && std::isfinite(total) ? t[at(c)] / total : 1.0 / C;
      }
    p.target = tensor(t, shape, (more & 16) ? Dtype::Float64 : dtype);
  } else {
    Values y(row_count);
    for (double& v : y) v = static_cast<double>(in.integer(-2, C + 1));
    if (ignoring) {
      p.options.ignore_index = (more & 32) ? in.integer(0, std::max<int64_t>(C - 1, 0)) : -2;
      for (std::size_t i = 0; i < y.size(); i += 3) y[i] = static_cast<double>(p.options.ignore_index);
    }
    p.target = tensor(y, rows, Dtype::Int64);
  }
  Values g(row_count);
  for (double& v : g) v = 0.5 + in.byte() / 255.0;
  p.upstream = tensor(g, rows, dtype);
  return p;
}

struct Outcome {
  Values value, grad;
  std::optional<std::string> error;
};

Outcome run(const Problem& p, bool reference) {
  Outcome out;
  try {
    const Tensor z = p.logits.detach().clone().requires_grad_();
    const Tensor loss =
        reference ? cross_entropy_reference(z, p.target, p.options) : cross_entropy(z, p.target, p.options);
    loss.backward(p.options.reduction == Reduction::None ? p.upstream : ones_like(loss));
    out.value = loss.to_vector();
    out.grad = z.grad().to_vector();
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
    expect(out.error->starts_with("[cross_entropy] "), "a message without the op: " + *out.error);
  }
  return out;
}

bool all_finite(const Values& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

bool near_the_top(const Outcome& o, Dtype dtype) {
  const double top = dtype == Dtype::Float32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  return !o.error && loss_agreement::largest_of(o.value) >= top / 4;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const Problem p = problem_from(in);
  const Outcome fast = run(p, false), reference = run(p, true);
  const Dtype dtype = p.logits.dtype();
  const auto overflowed = [](const Outcome& o) {
    return o.error && o.error->find("does not fit in") != std::string::npos;
  };
  if ((overflowed(fast) && near_the_top(reference, dtype)) || (overflowed(reference) && near_the_top(fast, dtype)))
    return 0;
  expect(fast.error == reference.error, "the paths disagree: fast '" + fast.error.value_or("(none)") +
                                            "', reference '" + reference.error.value_or("(none)") + "'");
  if (fast.error) return 0;

  const loss_agreement::Tolerance tol = loss_agreement::tolerance_for(dtype);
  const auto [value_at, value_ratio] = loss_agreement::worst_mismatch(
      fast.value, reference.value, tol.rtol, tol.floor(loss_agreement::largest_of(reference.value)));
  expect(value_ratio <= 1,
         "values differ at " + std::to_string(value_at) + ": " + std::to_string(value_ratio) + " × the tolerance");
  const double term = loss_agreement::largest_term(p.options, p.target, p.logits.shape(), 1.5);
  const auto [grad_at, grad_ratio] =
      loss_agreement::worst_mismatch(fast.grad, reference.grad, tol.rtol, tol.floor(term));
  expect(grad_ratio <= 1,
         "gradients differ at " + std::to_string(grad_at) + ": " + std::to_string(grad_ratio) + " × the tolerance");
  // The logits were finite or −inf (NaN and +inf are errors): so are the results.
  expect(all_finite(fast.value) && all_finite(reference.value), "a loss that is not finite");
  expect(all_finite(fast.grad) && all_finite(reference.grad), "a gradient that is not finite");
  return 0;
}
