// autograd/gradcheck.cpp — central differences against the engine's gradients.
#include "gradcheck.hpp"

#include <cmath>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "ops.hpp"

namespace humble {

GradcheckResult gradcheck(const std::function<Tensor(const Tensors&)>& f, const Tensors& inputs,
                          const GradcheckOptions& options) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad() && inputs[i].dtype() != Dtype::Float64)
      throw ValueError(str_cat("[gradcheck] input ", i, " is ", dtype_name(inputs[i].dtype()), "; use float64"));

  Tensors leaves;
  for (const Tensor& t : inputs) {
    Tensor leaf = t.detach().clone();
    if (t.requires_grad()) leaf.requires_grad_(true);
    leaves.push_back(leaf);
  }
  const Tensor out = f(leaves);
  Generator gen(options.seed);
  const Tensor direction = randn(out.shape(), gen, out.dtype());  // (shape of out)
  const auto projected = [&](const Tensors& xs) {
    NoGradGuard no_grad;
    return sum(f(xs) * direction).item();
  };
  sum(out * direction).backward();

  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].requires_grad()) continue;
    const Tensor analytic = leaves[i].grad();
    const std::vector<double> expected =
        analytic.defined() ? analytic.to_vector() : std::vector<double>(leaves[i].numel(), 0.0);
    Tensors nudged = leaves;
    Tensor x = leaves[i].detach().clone();
    nudged[i] = x;
    double* p = x.data<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double original = p[j];
      p[j] = original + options.step;
      const double up = projected(nudged);
      p[j] = original - options.step;
      const double down = projected(nudged);
      p[j] = original;
      const double numeric = (up - down) / (2 * options.step);
      if (!(std::abs(expected[j] - numeric) <= options.atol + options.rtol * std::abs(numeric)))
        return {false, str_cat("[gradcheck] input ", i, " ", shape_str(x.shape()), ", element ", j, ": analytic ",
                               expected[j], " vs numeric ", numeric)};
    }
  }
  return {};
}

}  // namespace humble
