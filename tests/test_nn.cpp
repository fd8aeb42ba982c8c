// tests/test_nn.cpp — nn/: modules, layers, initialisers and summary().
//
//   1. registration: dotted names (STYLE.md's Mlp, Sequential's "0", "1", …), buffers, bad names;
//      train()/eval() leave grad mode alone; zero_grad(); to(dtype) keeps handles.
//   2. PyTorch parity on fixed weights (tests/golden/nn_optim.json): every layer's output and the
//      gradients of sum(out ⊙ proj) for its input and parameters, in float64 (1e-10) and float32
//      (1e-5, relative to the values' scale); BatchNorm's running statistics and eval output too.
//   3. gradcheck (float64) of every differentiable op and layer defined here.
//   4. shape errors name the layer, the input shape and the expected one.
//   5. initialisers' bounds, Dropout's mask, summary(), graph lifetime, batched pools = image-by-image.
#include <doctest/doctest.h>

#include <functional>
#include <humble/humble.hpp>
#include <memory>

#include "golden/nn_optim.hpp"

namespace test_nn {

using namespace humble;

namespace {

struct Mlp : nn::Module {  // STYLE.md's user example
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 256));
  std::shared_ptr<nn::Linear> fc2 = register_module("fc2", std::make_shared<nn::Linear>(256, 10));
  Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }  // (N, 10)
};

struct LeNet : nn::Module {  // (N, 1, 28, 28) → (N, 10)
  std::shared_ptr<nn::Conv2d> conv1 =
      register_module("conv1", std::make_shared<nn::Conv2d>(1, 6, 5, nn::Conv2dOptions{.padding = 2}));
  std::shared_ptr<nn::BatchNorm2d> bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(6));
  std::shared_ptr<nn::Conv2d> conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(6, 16, 5));
  std::shared_ptr<nn::MaxPool2d> pool = register_module("pool", std::make_shared<nn::MaxPool2d>(2));
  std::shared_ptr<nn::Sequential> head = register_module(
      "head",
      std::make_shared<nn::Sequential>(nn::Sequential{
          std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(16 * 5 * 5, 120), std::make_shared<nn::ReLU>(),
          std::make_shared<nn::Dropout>(0.2), std::make_shared<nn::Linear>(120, 10)}));
  Tensor forward(const Tensor& x) override {
    const Tensor h = (*pool)(relu((*bn1)((*conv1)(x))));  // (N, 6, 14, 14)
    return (*head)((*pool)(relu((*conv2)(h))));           // (N, 16, 5, 5) → (N, 10)
  }
};

std::vector<std::string> names_of(const NamedTensors& named) {
  std::vector<std::string> names;
  for (const auto& [name, _] : named) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("test_nn: load_state_dict names the first bad entry, after [load_state_dict], and changes nothing") {
  nn::Linear layer(3, 2), other(3, 2);
  const std::vector<double> before = layer.weight.to_vector();
  NamedTensors state = other.state_dict();
  state.emplace_back("bias", other.bias);
  CHECK_THROWS_WITH_AS(layer.load_state_dict(state), "[load_state_dict] entry 'bias' appears twice", ValueError);
  state.pop_back();
  state[1].second = zeros({3});
  CHECK_THROWS_WITH_AS(layer.load_state_dict(state), "[load_state_dict] entry 'bias' has shape (3,), expected (2,)",
                       ShapeError);
  state.pop_back();
  CHECK_THROWS_WITH_AS(layer.load_state_dict(state), "[load_state_dict] missing entry 'bias'", ValueError);
  state.emplace_back("bias", other.bias.to(Dtype::Float64));
  CHECK_THROWS_WITH_AS(layer.load_state_dict(state), "[load_state_dict] entry 'bias' is float64, expected float32",
                       ValueError);
  state.back().second = other.bias;
  state.emplace_back("scale", zeros({1}));
  CHECK_THROWS_WITH_AS(layer.load_state_dict(state), "[load_state_dict] unexpected entry 'scale'", ValueError);
  CHECK(layer.weight.to_vector() == before);
  state.pop_back();
  layer.load_state_dict(state);
  CHECK(layer.weight.to_vector() == other.weight.to_vector());
}

TEST_CASE("test_nn: parameters are registered by name with dotted paths") {
  Mlp mlp;
  CHECK(names_of(mlp.named_parameters()) ==
        std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
  CHECK(mlp.parameters().size() == 4);
  CHECK(mlp.fc1->weight.shares_storage(mlp.parameters()[0]));
  CHECK(mlp.parameters()[0].requires_grad());

  nn::Sequential seq{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>(),
                     std::make_shared<nn::BatchNorm1d>(4), std::make_shared<nn::Linear>(4, 2, false)};
  CHECK(names_of(seq.named_parameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "3.weight"});
  CHECK(names_of(seq.named_buffers()) == std::vector<std::string>{"2.running_mean", "2.running_var"});
  CHECK(seq.buffers().size() == 2);
  CHECK(names_of(seq.state_dict()).size() == 7);
  CHECK((seq(zeros({5, 3})).shape() == Shape{5, 2}));

  struct Bad : nn::Module {
    Tensor forward(const Tensor& x) override { return x; }
    void add(const std::string& name) { register_parameter(name, zeros({1})); }
  } bad;
  bad.add("w");
  CHECK_THROWS_AS(bad.add("w"), ValueError);
  CHECK_THROWS_AS(bad.add("a.b"), ValueError);
  CHECK_THROWS_AS(bad.add(""), ValueError);
}

TEST_CASE("test_nn: train/eval switch layer behaviour only, recursively, and zero_grad clears grads") {
  LeNet net;
  CHECK(net.is_training());
  net.eval();
  CHECK(!net.head->is_training());
  CHECK(!(*net.head)[3]->is_training());
  CHECK(grad_enabled());
  const Tensor out = net(zeros({2, 1, 28, 28}));
  CHECK(out.requires_grad());  // eval() never switches off gradients
  sum(out).backward();
  CHECK(net.conv1->weight.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) CHECK(!p.grad().defined());
  net.train();
  CHECK((*net.head)[3]->is_training());
}

TEST_CASE("test_nn: to(dtype) converts in place, keeping every handle") {
  nn::Linear layer(3, 2);
  const Tensor handle = layer.weight;
  const std::vector<double> before = handle.to_vector();
  layer.to(Dtype::Float64);
  CHECK(handle.dtype() == Dtype::Float64);
  CHECK(layer.parameters()[0].dtype() == Dtype::Float64);
  CHECK(handle.to_vector() == before);  // float32 values are exact in float64
  CHECK(handle.requires_grad());
  CHECK_THROWS_AS(layer.to(Dtype::Int64), ValueError);
}

namespace {

using Factory = std::function<std::shared_ptr<nn::Module>()>;

template <class M, class... Args>
Factory make(Args... args) {
  return [=] { return std::make_shared<M>(args...); };
}

const std::vector<std::pair<std::string, Factory>>& layer_cases() {
  static const std::vector<std::pair<std::string, Factory>> cases = {
      {"linear", make<nn::Linear>(5, 3)},
      {"linear_nobias_3d", make<nn::Linear>(5, 3, false)},
      {"conv", make<nn::Conv2d>(3, 4, 3)},
      {"conv_stride_pad_dilation",
       make<nn::Conv2d>(2, 3, 3, nn::Conv2dOptions{.stride = 2, .padding = 2, .dilation = 2})},
      {"conv_1x1_nobias", make<nn::Conv2d>(3, 2, 1, nn::Conv2dOptions{.bias = false})},
      {"maxpool", make<nn::MaxPool2d>(2)},
      {"maxpool_s1_p1", make<nn::MaxPool2d>(3, 1, 1)},
      {"avgpool", make<nn::AvgPool2d>(2)},
      {"avgpool_s2_p1", make<nn::AvgPool2d>(3, 2, 1)},
      {"maxpool_dilation", make<nn::MaxPool2d>(3, 1, 1, 2)},
      {"maxpool_ceil", make<nn::MaxPool2d>(2, std::nullopt, 0, 1, true)},
      {"maxpool_ceil_s2_p1", make<nn::MaxPool2d>(3, 2, 1, 1, true)},
      {"avgpool_ceil", make<nn::AvgPool2d>(2, std::nullopt, 0, true)},
      {"avgpool_ceil_s2_p1", make<nn::AvgPool2d>(3, 2, 1, true)},
      {"avgpool_s1_p1_exclude_pad", make<nn::AvgPool2d>(3, 1, 1, false, false)},
      {"avgpool_ceil_s2_p1_exclude_pad", make<nn::AvgPool2d>(3, 2, 1, true, false)},
      {"flatten", make<nn::Flatten>()},
      {"relu", make<nn::ReLU>()},
      {"leaky_relu", make<nn::LeakyReLU>(0.2)},
      {"gelu", make<nn::GELU>()},
      {"tanh", make<nn::Tanh>()},
      {"sigmoid", make<nn::Sigmoid>()},
      {"identity", make<nn::Identity>()},
      {"dropout_eval", make<nn::Dropout>(0.3)},
      {"batchnorm1d", make<nn::BatchNorm1d>(4)},
      {"batchnorm1d_3d", make<nn::BatchNorm1d>(3)},
      {"batchnorm2d", make<nn::BatchNorm2d>(3)},
      {"layernorm", make<nn::LayerNorm>(Shape{4, 5})},
  };
  return cases;
}

// |actual − expected| relative to the expected values' scale (at least 1); records the worst absolute gap.
bool close(const Tensor& actual, const golden::json& expected, Dtype dtype, double& worst_abs) {
  const double diff = golden::max_abs_diff(actual, expected);
  double scale = 1;
  for (double v : expected.at("data")) scale = std::max(scale, std::abs(v));
  worst_abs = std::max(worst_abs, diff);
  return diff <= golden::tolerance(dtype) * scale;
}

}  // namespace

TEST_CASE("test_nn: every layer matches PyTorch on fixed weights (output, input and parameter gradients)") {
  const auto& fixture = golden::fixture().at("layers");
  REQUIRE(fixture.size() == layer_cases().size());
  for (Dtype dtype : {Dtype::Float64, Dtype::Float32}) {
    double worst = 0;
    for (const auto& [name, factory] : layer_cases()) {
      CAPTURE(name);
      CAPTURE(std::string(dtype_name(dtype)));
      const auto it = std::find_if(fixture.begin(), fixture.end(), [&](const auto& c) { return c.at("name") == name; });
      REQUIRE(it != fixture.end());
      const golden::json& c = *it;
      auto layer = factory();
      layer->to(dtype);
      REQUIRE(layer->named_parameters().size() == c.at("params").size());
      {
        NoGradGuard no_grad;  // parameters are leaves that require grad: written in place under no-grad
        for (auto& [pname, p] : layer->named_parameters()) p.copy_(golden::tensor(c.at("params").at(pname), dtype));
      }
      if (name == "dropout_eval") layer->eval();
      Tensor x = golden::tensor(c.at("input"), dtype).requires_grad_();
      const Tensor out = (*layer)(x);
      CHECK(close(out, c.at("output"), dtype, worst));
      sum(out * golden::tensor(c.at("proj"), dtype)).backward();
      CHECK(close(x.grad(), c.at("grads").at("input"), dtype, worst));
      for (auto& [pname, p] : layer->named_parameters()) {
        CAPTURE(pname);
        CHECK(close(p.grad(), c.at("grads").at(pname), dtype, worst));
      }
      if (c.contains("buffers")) {
        for (auto& [bname, b] : layer->named_buffers()) CHECK(close(b, c.at("buffers").at(bname), dtype, worst));
        layer->eval();
        CHECK(close((*layer)(x), c.at("eval_output"), dtype, worst));
      }
    }
    MESSAGE("layers vs torch ", golden::fixture().at("torch_version").get<std::string>(), ", ",
            std::string(dtype_name(dtype)), ": max abs diff ", worst);
  }
}

TEST_CASE("test_nn: gradcheck (float64) of conv, pools, norms, dropout and every layer") {
  Generator gen(7);
  const auto input = [&gen](Shape shape) { return randn(std::move(shape), gen, Dtype::Float64).requires_grad_(); };
  const auto module_case = [](std::shared_ptr<nn::Module> m) {
    m->to(Dtype::Float64);
    return [m](const Tensors& in) { return (*m)(in[0]); };
  };
  struct Case {
    const char* name;
    std::function<Tensor(const Tensors&)> f;
    Tensors inputs;
  };
  const std::vector<Case> cases = {
      {"conv2d",
       [](const Tensors& in) { return nn::conv2d(in[0], in[1], in[2]); },
       {input({2, 2, 5, 5}), input({3, 2, 3, 3}), input({3})}},
      {"conv2d stride 2, padding 1, dilation 2",
       [](const Tensors& in) { return nn::conv2d(in[0], in[1], in[2], 2, 1, 2); },
       {input({1, 2, 7, 6}), input({2, 2, 2, 2}), input({2})}},
      {"conv2d 1x1 without bias",
       [](const Tensors& in) { return nn::conv2d(in[0], in[1]); },
       {input({2, 3, 3, 2}), input({2, 3, 1, 1})}},
      {"max_pool2d", [](const Tensors& in) { return nn::max_pool2d(in[0], 2); }, {input({2, 2, 4, 5})}},
      {"max_pool2d stride 1, padding 1",
       [](const Tensors& in) { return nn::max_pool2d(in[0], 3, 1, 1); },
       {input({1, 2, 5, 4})}},
      {"avg_pool2d stride 2, padding 1",
       [](const Tensors& in) { return nn::avg_pool2d(in[0], 3, 2, 1); },
       {input({1, 2, 6, 5})}},
      {"max_pool2d dilation 2, ceil_mode",
       [](const Tensors& in) { return nn::max_pool2d(in[0], 2, 2, 1, 2, true); },
       {input({1, 2, 6, 5})}},
      {"avg_pool2d ceil_mode, padding excluded",
       [](const Tensors& in) { return nn::avg_pool2d(in[0], 3, 2, 1, true, false); },
       {input({1, 2, 6, 5})}},
      {"batch_norm training",
       [](const Tensors& in) { return nn::batch_norm(in[0], {}, {}, in[1], in[2], true); },
       {input({4, 3, 2}), input({3}), input({3})}},
      {"batch_norm eval",
       [](const Tensors& in) { return nn::batch_norm(in[0], in[3], exp(in[4]), in[1], in[2], false); },
       {input({4, 3}), input({3}), input({3}), randn({3}, gen, Dtype::Float64), randn({3}, gen, Dtype::Float64)}},
      {"layer_norm",
       [](const Tensors& in) {
         return nn::layer_norm(in[0], {2, 3}, in[1], in[2]);
       },
       {input({4, 2, 3}), input({2, 3}), input({2, 3})}},
      {"dropout",
       [](const Tensors& in) {
         Generator mask_gen(3);  // the same mask every call
         return nn::dropout(in[0], 0.4, true, mask_gen);
       },
       {input({3, 5})}},
      {"Linear", module_case(std::make_shared<nn::Linear>(4, 3)), {input({2, 4})}},
      {"Conv2d",
       module_case(std::make_shared<nn::Conv2d>(2, 2, 3, nn::Conv2dOptions{.padding = 1})),
       {input({1, 2, 4, 4})}},
      {"MaxPool2d", module_case(std::make_shared<nn::MaxPool2d>(2)), {input({1, 1, 4, 4})}},
      {"AvgPool2d", module_case(std::make_shared<nn::AvgPool2d>(2)), {input({1, 1, 4, 4})}},
      {"Flatten", module_case(std::make_shared<nn::Flatten>()), {input({2, 2, 3})}},
      {"ReLU", module_case(std::make_shared<nn::ReLU>()), {input({3, 4})}},
      {"LeakyReLU", module_case(std::make_shared<nn::LeakyReLU>(0.1)), {input({3, 4})}},
      {"GELU", module_case(std::make_shared<nn::GELU>()), {input({3, 4})}},
      {"Tanh", module_case(std::make_shared<nn::Tanh>()), {input({3, 4})}},
      {"Sigmoid", module_case(std::make_shared<nn::Sigmoid>()), {input({3, 4})}},
      {"BatchNorm1d", module_case(std::make_shared<nn::BatchNorm1d>(3)), {input({5, 3})}},
      {"BatchNorm2d", module_case(std::make_shared<nn::BatchNorm2d>(2)), {input({3, 2, 2, 2})}},
      {"LayerNorm", module_case(std::make_shared<nn::LayerNorm>(Shape{4})), {input({3, 4})}},
      {"Identity", module_case(std::make_shared<nn::Identity>()), {input({2, 2})}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const GradcheckResult result = gradcheck(c.f, c.inputs);
    CHECK_MESSAGE(result.passed, result.message);
  }
}

TEST_CASE("test_nn: shape errors name the layer, the input shape and the expected one") {
  using doctest::Contains;
  nn::Linear linear(4, 3);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 5})),
                       Contains("[Linear] input (2, 5) does not match in_features 4: expected (…, 4)"), ShapeError);
  nn::Conv2d conv(3, 8, 5);
  CHECK_THROWS_WITH_AS(conv(zeros({2, 1, 28, 28})),
                       Contains("[Conv2d] expected input (N, 3, H, W), got (2, 1, 28, 28)"), ShapeError);
  CHECK_THROWS_WITH_AS(conv(zeros({3, 28, 28})), Contains("[Conv2d] expected input (N, 3, H, W), got (3, 28, 28)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(conv(zeros({1, 3, 4, 9})), Contains("[Conv2d] input (1, 3, 4, 9) is too small"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::MaxPool2d(2)(zeros({4, 4})), Contains("[MaxPool2d] expected input (N, C, H, W), got (4, 4)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(nn::AvgPool2d(3)(zeros({1, 1, 2, 2})), Contains("[AvgPool2d] input (1, 1, 2, 2) is too small"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(nn::BatchNorm2d(8)(zeros({2, 3, 4, 4})),
                       Contains("[BatchNorm2d] expected input (N, 8, H, W), got (2, 3, 4, 4)"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::BatchNorm1d(8)(zeros({2, 8, 4, 4})),
                       Contains("[BatchNorm1d] expected input (N, 8) or (N, 8, L), got (2, 8, 4, 4)"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::LayerNorm({4, 5})(zeros({2, 5, 4})),
                       Contains("[LayerNorm] expected input (…, 4, 5), got (2, 5, 4)"), ShapeError);
  CHECK_THROWS_WITH_AS(nn::Flatten()(zeros({4})), Contains("[Flatten] input (4,) has no dim 1"), ShapeError);
  CHECK_THROWS_AS(nn::conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 2})), ShapeError);
  CHECK_THROWS_AS(nn::conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}), zeros({2})), ShapeError);
  CHECK_THROWS_AS(nn::conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}, Dtype::Float64)), ValueError);
  CHECK_THROWS_AS(nn::conv2d(zeros({1, 2, 5, 5}), zeros({3, 2, 3, 3}), {}, 0), ValueError);
  CHECK_THROWS_AS(nn::max_pool2d(zeros({1, 1, 5, 5}), 2, 1, 2), ValueError);         // padding > K/2
  CHECK_THROWS_AS(nn::batch_norm(zeros({1, 3}), {}, {}, {}, {}, true), ValueError);  // one value per channel
  CHECK_THROWS_AS(nn::Linear(0, 3), ValueError);
  CHECK_THROWS_AS(nn::Conv2d(1, 0, 3), ValueError);
  CHECK_THROWS_AS(nn::BatchNorm1d(4, 1e-5, 1.5), ValueError);
  CHECK_THROWS_AS(nn::LayerNorm(Shape{}), ValueError);
}

TEST_CASE("test_nn: initialisers follow PyTorch's bounds and are reproducible") {
  nn::Linear a(300, 200), b(300, 200, true, default_generator());
  CHECK(a.weight.to_vector() != b.weight.to_vector());  // the default generator moved on
  Generator g1(5), g2(5);
  nn::Linear c(300, 200, true, g1), d(300, 200, true, g2);
  CHECK(c.weight.to_vector() == d.weight.to_vector());
  const auto largest = [](const Tensor& t) { return max(abs(t)).item(); };
  const double bound = 1 / std::sqrt(300.0);
  CHECK(largest(c.weight) <= bound);
  CHECK(largest(c.bias) <= bound);
  const auto moments = [](const Tensor& t) {
    const auto v = t.to_vector();
    double m = 0, s = 0;
    for (double x : v) m += x / v.size();
    for (double x : v) s += (x - m) * (x - m) / v.size();
    return std::pair{m, s};
  };
  CHECK(moments(c.weight).second == doctest::Approx(bound * bound / 3).epsilon(0.02));  // U(±b): variance b²/3

  Tensor w = empty({400, 250});
  nn::init::xavier_uniform(w, 1.0, g1);
  CHECK(largest(w) <= std::sqrt(6.0 / 650));
  nn::init::kaiming_normal(w, 0.0, nn::init::FanMode::FanIn, g1);
  CHECK(moments(w).second == doctest::Approx(2.0 / 250).epsilon(0.02));
  nn::init::xavier_normal(w, 2.0, g1);
  CHECK(moments(w).second == doctest::Approx(4 * 2.0 / 650).epsilon(0.02));
  nn::init::kaiming_uniform(w, 0.0, nn::init::FanMode::FanOut, g1);
  CHECK(largest(w) <= std::sqrt(6.0 / 400));
  Tensor conv_w = empty({8, 3, 5, 5});
  CHECK(nn::init::fans(conv_w) == std::pair<int64_t, int64_t>{75, 200});
  nn::init::constant(conv_w, 0.5);
  CHECK(conv_w.to_vector() == std::vector<double>(600, 0.5));
  nn::init::zeros(conv_w);
  CHECK(sum(conv_w).item() == 0);
  CHECK_THROWS_AS(nn::init::xavier_uniform(empty({5})), ValueError);
}

TEST_CASE("test_nn: Dropout zeroes with probability p, scales by 1/(1 − p), and is the identity in eval") {
  Generator gen(11);
  nn::Dropout drop(0.25, gen);
  const Tensor x = ones({100, 100});
  const auto values = drop(x).to_vector();
  int64_t zeros_seen = 0, scaled = 0;
  for (double v : values) {
    zeros_seen += v == 0;
    scaled += v == static_cast<double>(static_cast<float>(1 / 0.75));
  }
  CHECK(zeros_seen + scaled == 10000);
  CHECK(zeros_seen == doctest::Approx(2500).epsilon(0.08));
  Generator again(11);
  CHECK(nn::dropout(x, 0.25, true, again).to_vector() == values);  // the same seed, the same mask
  drop.eval();
  CHECK(drop(x).to_vector() == x.to_vector());
  CHECK(nn::dropout(x, 1.0, true, gen).to_vector() == std::vector<double>(10000, 0.0));
  CHECK_THROWS_AS(nn::Dropout(1.5), ValueError);
  CHECK_THROWS_AS(nn::dropout(x, -0.1, true), ValueError);
}

TEST_CASE("test_nn: summary lists every layer's output shape and parameter count") {
  LeNet net;
  const std::string table = nn::summary(net, {2, 1, 28, 28});
  CHECK(table.find("conv1") != std::string::npos);
  CHECK(table.find("Conv2d(1, 6, k=5, s=1, p=2, d=1)") != std::string::npos);
  CHECK(table.find("(2, 6, 28, 28)") != std::string::npos);
  CHECK(table.find("156") != std::string::npos);  // conv1: 6·1·5·5 + 6
  CHECK(table.find("head.1") != std::string::npos);
  CHECK(table.find("(2, 120)") != std::string::npos);
  CHECK(table.find("-> output (2, 10); 51914 parameters") != std::string::npos);
  CHECK(grad_enabled());
  CHECK_THROWS_AS(nn::summary(net, {2, 3, 28, 28}), ShapeError);
  Mlp mlp;
  CHECK(nn::summary(mlp, {1, 784}).find("203530 parameters") != std::string::npos);
}

TEST_CASE("test_nn: a LeNet trains and frees its graph") {
  const int64_t live = Node::live_count();
  Generator gen(1);
  LeNet net;
  optim::Adam opt(net.parameters(), {.lr = 1e-3});
  const Tensor x = randn({8, 1, 28, 28}, gen);
  const Tensor y = randint(0, 10, {8}, gen);
  std::vector<double> losses;
  for (int step = 0; step < 4; ++step) {
    const Tensor loss = -mean(gather(log_softmax(net(x), 1), 1, y.reshape({-1, 1})));
    opt.zero_grad();
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  CHECK(losses.back() < losses.front());
  CHECK(Node::live_count() == live);
}

TEST_CASE("test_nn: batched pools (parallel over planes) equal the same ops image by image") {
  // conv2d's batch is one GEMM over every image; tests/test_conv.cpp checks it against the reference.
  set_num_threads(2);
  Generator gen(5);
  const Tensor x = randn({12, 6, 14, 14}, gen).requires_grad_();  // above the parallel grain
  const auto ops = [&](const Tensor& in) {
    return std::vector<Tensor>{nn::max_pool2d(in, 2), nn::avg_pool2d(in, 3, 1, 1)};
  };
  const std::vector<Tensor> batched = ops(x);
  for (const Tensor& out : batched) sum(out * out).backward();
  const std::vector<double> dx = x.grad().to_vector();
  for (int64_t n = 0; n < 12; ++n) {
    CAPTURE(n);
    const Tensor image = x.detach().slice(n, n + 1).clone().requires_grad_();
    const std::vector<Tensor> single = ops(image);
    for (std::size_t k = 0; k < single.size(); ++k) {
      CHECK(single[k].to_vector() == batched[k].detach().slice(n, n + 1).to_vector());
      sum(single[k] * single[k]).backward();
    }
    const std::vector<double> g = image.grad().to_vector();
    CHECK(g == std::vector<double>(dx.begin() + n * g.size(), dx.begin() + (n + 1) * g.size()));
  }
}

TEST_CASE("test_nn: operator<< prints the module tree with each layer's options") {
  Mlp mlp;
  std::ostringstream out;
  out << mlp;
  CHECK(out.str() == "Mlp(\n  (fc1): Linear(784, 256)\n  (fc2): Linear(256, 10)\n)");
  nn::Sequential seq{std::make_shared<nn::Linear>(4, 3, false), std::make_shared<nn::LeakyReLU>(0.2),
                     std::make_shared<nn::Sequential>(
                         nn::Sequential{std::make_shared<nn::BatchNorm1d>(3), std::make_shared<nn::Dropout>(0.1)})};
  std::ostringstream tree;
  tree << seq;
  CHECK(tree.str() ==
        "Sequential(\n"
        "  (0): Linear(4, 3, bias=false)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): BatchNorm1d(3, eps=1e-05, momentum=0.1)\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        ")");
}

TEST_CASE("test_nn: num_parameters, named_modules and typed access to a Sequential's layers") {
  LeNet net;
  CHECK(net.num_parameters() == 51914);
  std::vector<std::string> paths;
  for (const auto& [path, m] : net.named_modules()) paths.push_back(path);
  CHECK(paths == std::vector<std::string>{"conv1", "bn1", "conv2", "pool", "head", "head.0", "head.1", "head.2",
                                          "head.3", "head.4"});
  CHECK(net.head->at<nn::Linear>(1)->weight.shape() == Shape{120, 400});
  CHECK(net.head->at<nn::Linear>(-1)->weight.shape() == Shape{10, 120});
  CHECK(net.head->at(2)->repr() == "ReLU");
  CHECK_THROWS_WITH_AS(net.head->at<nn::Linear>(2), doctest::Contains("[Sequential::at] layer 2 is ReLU, not a"),
                       ValueError);
  CHECK_THROWS_AS(net.head->at(5), ShapeError);
  CHECK_THROWS_AS(net.head->at(-6), ShapeError);
  CHECK(nn::Sequential().num_parameters() == 0);
}

TEST_CASE("test_nn: module-level gradcheck checks the parameters in place, and fails a wrong gradient") {
  manual_seed(4);
  nn::Sequential good{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>(),
                      std::make_shared<nn::Linear>(4, 2)};
  good.to(Dtype::Float64);
  const Tensor x = randn({5, 3}, default_generator(), Dtype::Float64).requires_grad_(true);
  const GradcheckResult r = nn::gradcheck(good, x);
  CHECK_MESSAGE(r.passed, r.message);
  CHECK_FALSE(good.parameters()[0].grad().defined());  // .grad() is left as it was

  struct Wrong : nn::Module {  // out = x·w, with dw deliberately doubled
    Tensor w = register_parameter("w", tensor({0.5, -1.5, 2.0}, {3}, Dtype::Float64));
    Tensor forward(const Tensor& x) override {
      Tensor out;
      {
        NoGradGuard no_grad;
        out = x * w;
      }
      return record("wrong", out, {x, w}, {x, w}, [](const Tensor& g, const Tensors& s) -> Tensors {
        return {g * s[1], g * s[0] * 2.0};
      });
    }
  } wrong;
  const GradcheckResult bad = nn::gradcheck(wrong, tensor({1, 2, -3}, {3}, Dtype::Float64));
  CHECK_FALSE(bad.passed);
  CHECK(bad.message.find("input 1 (3,)") != std::string::npos);       // the parameter, not the input
  CHECK(wrong.w.to_vector() == std::vector<double>{0.5, -1.5, 2.0});  // nudges undone exactly
  CHECK_THROWS_WITH_AS(gradcheck([](const Tensors& v) { return v[0] * 2.0; }, {zeros({2}, Dtype::Float64)}),
                       doctest::Contains("[gradcheck] no input requires grad"), ValueError);
}

}  // namespace test_nn
