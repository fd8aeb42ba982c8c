// tests/package/consumer_distributed.cpp — built against an installed humble::distributed: averages
// a gradient over the ranks with DataParallel (run alone, or under mpirun).
#include <cstdio>
#include <humble/distributed/distributed.hpp>
#include <humble/humble.hpp>

int main() {
  using namespace humble;
  distributed::Context context;
  return distributed::run(context, "consumer_distributed", [&] {
    nn::Linear model(3, 1);
    distributed::DataParallel ddp(model, context);
    // Rank r's one row is x = (r + 1, 0, 0): the averaged dL/dw₀ of L = mean(ŷ) is Σ_r (r + 1) / P.
    const Tensor x = tensor({context.rank() + 1.0, 0, 0}, {1, 3});
    mean(ddp(x)).backward();
    const double expected = (context.world_size() + 1) / 2.0, got = model.weight.grad().to_vector()[0];
    if (context.is_root()) std::printf("consumer_distributed: %d rank(s), dL/dw0 = %g\n", context.world_size(), got);
    return got == expected ? 0 : 1;
  });
}
