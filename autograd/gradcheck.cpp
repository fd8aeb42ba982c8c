// autograd/gradcheck.cpp — central differences against the engine's gradients, on the inputs themselves.
#include "gradcheck.hpp"

#include <cmath>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "ops.hpp"

namespace humble {

GradcheckResult gradcheck(const std::function<Tensor(const Tensors&)>& f, const Tensors& inputs,
                          const GradcheckOptions& options) {
  bool any = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.requires_grad()) continue;
    any = true;
    if (t.dtype() != Dtype::Float64)
      throw ValueError(str_cat("[gradcheck] input ", i, " is ", dtype_name(t.dtype()), "; use float64"));
    if (!t.is_leaf() || !t.is_contiguous())
      throw ValueError(str_cat("[gradcheck] input ", i, " ", shape_str(t.shape()),
                               " must be a contiguous leaf (it is nudged in place): pass x.detach().clone() with "
                               "requires_grad_()"));
  }
  if (!any) throw ValueError("[gradcheck] no input requires grad: there would be nothing to check");

  // Analytic: one backward into the inputs' own .grad(), whatever they held put back afterwards.
  Tensors held;
  for (const Tensor& t : inputs) {
    held.push_back(t.requires_grad() ? t.grad() : Tensor());
    if (t.requires_grad()) t.set_grad(Tensor());
  }
  const Tensor out = f(inputs);
  Generator gen(options.seed);
  const Tensor direction = randn(out.shape(), gen, out.dtype());  // (shape of out)
  const auto projected = [&] {
    NoGradGuard no_grad;
    return sum(f(inputs) * direction).item();
  };
  if (out.requires_grad()) sum(out * direction).backward();
  std::vector<std::vector<double>> analytic(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    const Tensor grad = inputs[i].grad();
    analytic[i] = grad.defined() ? grad.to_vector() : std::vector<double>(inputs[i].numel(), 0.0);
    inputs[i].set_grad(held[i]);
  }

  // Numeric: each element nudged by ±h in place (so f sees it wherever it reads the tensor from,
  // e.g. a module's own parameters), then restored.
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    Tensor x = inputs[i];
    double* p = x.data<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double original = p[j];
      p[j] = original + options.step;
      const double up = projected();
      p[j] = original - options.step;
      const double down = projected();
      p[j] = original;
      x.bump_version();
      const double numeric = (up - down) / (2 * options.step);
      if (!(std::abs(analytic[i][j] - numeric) <= options.atol + options.rtol * std::abs(numeric)))
        return {false, str_cat("[gradcheck] input ", i, " ", shape_str(x.shape()), ", element ", j, ": analytic ",
                               analytic[i][j], " vs numeric ", numeric)};
    }
  }
  return {};
}

}  // namespace humble
