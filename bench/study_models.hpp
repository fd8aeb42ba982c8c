// bench/study_models.hpp — the MNIST study's two models (examples/mnist/study.cpp), each as one
// Sequential, for the training benchmarks: the MLP 784-512-256-10 and the LeNet-style CNN.
#pragma once

#include <humble/humble.hpp>
#include <memory>
#include <string>

namespace bench {

// "mlp" or "cnn"; the layers draw their initialisation from the default generator.
inline std::shared_ptr<humble::nn::Sequential> make_study_model(const std::string& kind) {
  using namespace humble;
  using std::make_shared;
  if (kind == "mlp")
    return make_shared<nn::Sequential>(nn::Sequential{make_shared<nn::Linear>(784, 512), make_shared<nn::ReLU>(),
                                                      make_shared<nn::Linear>(512, 256), make_shared<nn::ReLU>(),
                                                      make_shared<nn::Linear>(256, 10)});
  return make_shared<nn::Sequential>(
      nn::Sequential{make_shared<nn::Conv2d>(1, 6, 5, nn::Conv2dOptions{.padding = 2}), make_shared<nn::ReLU>(),
                     make_shared<nn::MaxPool2d>(2), make_shared<nn::Conv2d>(6, 16, 5), make_shared<nn::ReLU>(),
                     make_shared<nn::MaxPool2d>(2), make_shared<nn::Flatten>(), make_shared<nn::Linear>(400, 120),
                     make_shared<nn::ReLU>(), make_shared<nn::Linear>(120, 84), make_shared<nn::ReLU>(),
                     make_shared<nn::Linear>(84, 10)});
}

}  // namespace bench
