// tests/distributed/fault.cpp — a job in which one rank fails, to check that the whole job ends.
//
//   distributed_fault bad-data    rank 1 meets a label out of range in its 3rd batch, while rank 0
//                                 waits for its gradients in backward
//   distributed_fault shapes      the ranks pass different shapes to one all_reduce
// Either way run() prints the error with the rank, and MPI_Abort ends every process: mpirun exits
// non-zero (check_fault.cmake checks the exit code, the message and that it does not hang).
#include <cstdio>
#include <string>

#include "common.hpp"

using namespace humble;

namespace {

int bad_data(const distributed::Context& context) {
  auto model = make_mlp(0, 32);
  distributed::DataParallel ddp(*model, context);
  optim::SGD sgd(model->parameters(), {.lr = 0.1});
  Generator gen(1);
  for (int step = 0; step < 10; ++step) {
    const Tensor x = rand({16, 784}, gen);  // (B, D)
    Tensor y = randint(0, 10, {16}, gen);   // (B)
    if (context.rank() == 1 && step == 2) y.data<int64_t>()[5] = 12;
    sgd.zero_grad();
    losses::cross_entropy(ddp(x), y).backward();
    sgd.step();
  }
  return 0;
}

int shapes(const distributed::Context& context) {
  Tensor t = zeros({context.rank() == 1 ? 3 : 4});
  distributed::all_reduce(context, t);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Context context;
  const std::string mode = argc > 1 ? argv[1] : "";
  return distributed::run(context, "distributed_fault", [&] {
    if (mode == "bad-data") return bad_data(context);
    if (mode == "shapes") return shapes(context);
    throw ValueError("[distributed_fault] mode must be bad-data or shapes, got '" + mode + "'");
  });
}
