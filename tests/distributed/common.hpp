// tests/distributed/common.hpp — what the MPI tests share: the process's Context and a small MLP.
#pragma once

#include <humble/distributed/distributed.hpp>
#include <humble/humble.hpp>

const humble::distributed::Context& context();

// 784-512-256-10 with ReLU, the study's MLP; its initialisation draws from Generator(seed).
inline std::shared_ptr<humble::nn::Sequential> make_mlp(uint64_t seed, int64_t hidden = 512) {
  using namespace humble;
  Generator gen(seed);
  return std::make_shared<nn::Sequential>(
      nn::Sequential{std::make_shared<nn::Linear>(784, hidden, true, gen), std::make_shared<nn::GELU>(),
                     std::make_shared<nn::Linear>(hidden, 256, true, gen), std::make_shared<nn::GELU>(),
                     std::make_shared<nn::Linear>(256, 10, true, gen)});
}

// Every value of every parameter, in order, as doubles.
inline std::vector<double> flat_parameters(const humble::nn::Module& module) {
  std::vector<double> out;
  for (const humble::Tensor& p : module.parameters()) {
    const std::vector<double> values = p.to_vector();
    out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}
