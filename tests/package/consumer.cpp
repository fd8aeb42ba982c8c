// tests/package/consumer.cpp — built against an installed humble: fits y = 2x + 1 by gradient descent.
#include <cmath>
#include <cstdio>
#include <humble/humble.hpp>

int main() {
  using namespace humble;
  Generator gen(0);
  Tensor x = randn({64, 1}, gen);  // (N, 1)
  Tensor y = x * 2.0 + 1.0;        // (N, 1)
  Tensor w = zeros({1, 1}).requires_grad_(), b = zeros({1}).requires_grad_();
  for (int step = 0; step < 200; ++step) {
    Tensor loss = mean(pow(linear(x, w, b) - y, 2.0));
    w.set_grad({});
    b.set_grad({});
    loss.backward();
    NoGradGuard no_grad;
    w.copy_(w - w.grad() * 0.1);
    b.copy_(b - b.grad() * 0.1);
  }
  const double slope = w.item(), intercept = b.item();
  std::printf("consumer: fitted y = %.4f x + %.4f\n", slope, intercept);
  return std::abs(slope - 2) < 1e-3 && std::abs(intercept - 1) < 1e-3 ? 0 : 1;
}
