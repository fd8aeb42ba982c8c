// tests/test_optim.cpp — optim/: optimizers, schedulers, clip_grad_norm, state dicts.
//
//   1. PyTorch trajectories (tests/golden/nn_optim.json): a tiny MLP, 20 steps of every optimizer
//      configuration (momentum, dampening, Nesterov, weight decay, parameter groups, schedulers,
//      clipping) in float32 (1e-5) and float64 (1e-10); every schedule's lrs (1e-12).
//   2. hand-derived literals for SGD with momentum and for Adam's first step (= lr·sign(g)).
//   3. step() works in place under no-grad, skips parameters without gradients, and gives the
//      same bits on 1 or 2 threads above the parallel grain; Adam's and AdamW's fused update
//      (whichever build of it the CPU runs) is their formula in plain arithmetic, to the bit.
//   4. option validation (ValueError), state-dict round trips and their validation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <humble/humble.hpp>
#include <memory>

#include "golden/nn_optim.hpp"

namespace test_optim {

using namespace humble;
using golden::json;

namespace {

std::unique_ptr<optim::Optimizer> make_optimizer(const json& config, const std::map<std::string, Tensor>& p) {
  const json& o = config.at("options");
  const auto get = [&o](const char* key, double fallback) {
    return o.contains(key) ? o.at(key).get<double>() : fallback;
  };
  const double lr = get("lr", 1e-3);
  std::vector<optim::ParamGroup> groups{{.params = {p.at("W1"), p.at("b1"), p.at("W2"), p.at("b2")}}};
  if (config.value("groups", false))  // decay on weights only; biases at twice the lr, no decay
    groups = {{.params = {p.at("W1"), p.at("W2")}},
              {.params = {p.at("b1"), p.at("b2")}, .lr = 2 * lr, .weight_decay = 0.0}};
  const std::pair<double, double> betas =
      o.contains("betas") ? std::pair{o.at("betas")[0].get<double>(), o.at("betas")[1].get<double>()}
                          : std::pair{0.9, 0.999};
  const std::string kind = config.at("optimizer");
  if (kind == "SGD")
    return std::make_unique<optim::SGD>(groups, optim::SGDOptions{.lr = lr,
                                                                  .momentum = get("momentum", 0),
                                                                  .dampening = get("dampening", 0),
                                                                  .weight_decay = get("weight_decay", 0),
                                                                  .nesterov = o.value("nesterov", false)});
  if (kind == "Adam")
    return std::make_unique<optim::Adam>(
        groups,
        optim::AdamOptions{.lr = lr, .betas = betas, .eps = get("eps", 1e-8), .weight_decay = get("weight_decay", 0)});
  if (kind == "AdamW")
    return std::make_unique<optim::AdamW>(
        groups, optim::AdamWOptions{
                    .lr = lr, .betas = betas, .eps = get("eps", 1e-8), .weight_decay = get("weight_decay", 1e-2)});
  REQUIRE(kind == "RMSprop");
  return std::make_unique<optim::RMSprop>(groups, optim::RMSpropOptions{.lr = lr,
                                                                        .alpha = get("alpha", 0.99),
                                                                        .eps = get("eps", 1e-8),
                                                                        .weight_decay = get("weight_decay", 0),
                                                                        .momentum = get("momentum", 0),
                                                                        .centered = o.value("centered", false)});
}

std::unique_ptr<optim::LRScheduler> make_scheduler(optim::Optimizer& opt, const json& spec) {
  const std::string kind = spec.at("type");
  if (kind == "StepLR") return std::make_unique<optim::StepLR>(opt, spec.at("step_size"), spec.at("gamma"));
  if (kind == "MultiStepLR")
    return std::make_unique<optim::MultiStepLR>(opt, spec.at("milestones").get<std::vector<int64_t>>(),
                                                spec.at("gamma"));
  if (kind == "CosineAnnealingLR")
    return std::make_unique<optim::CosineAnnealingLR>(opt, spec.at("T_max"), spec.value("eta_min", 0.0));
  if (kind == "LinearLR")
    return std::make_unique<optim::LinearLR>(opt, spec.at("start_factor"), spec.at("end_factor"),
                                             spec.at("total_iters"));
  REQUIRE(kind == "OneCycleLR");
  return std::make_unique<optim::OneCycleLR>(
      opt, optim::OneCycleLROptions{.max_lr = spec.at("max_lr"),
                                    .total_steps = spec.at("total_steps"),
                                    .pct_start = spec.value("pct_start", 0.3),
                                    .div_factor = spec.value("div_factor", 25.0),
                                    .final_div_factor = spec.value("final_div_factor", 1e4),
                                    .cycle_momentum = spec.value("cycle_momentum", true),
                                    .base_momentum = spec.value("base_momentum", 0.85),
                                    .max_momentum = spec.value("max_momentum", 0.95)});
}

}  // namespace

TEST_CASE("test_optim: 20 steps of every optimizer and scheduler match PyTorch's trajectories") {
  const json& fixture = golden::fixture();
  double worst[2] = {0, 0};  // float32, float64
  for (const json& config : fixture.at("optimizers")) {
    const Dtype dtype = config.at("dtype") == "float32" ? Dtype::Float32 : Dtype::Float64;
    CAPTURE(config.at("name").get<std::string>());
    CAPTURE(std::string(dtype_name(dtype)));
    std::map<std::string, Tensor> p;
    for (const auto& [name, value] : fixture.at("problem").items())
      p[name] = golden::tensor(value, dtype).requires_grad_();
    auto opt = make_optimizer(config, p);
    auto sched = config.contains("scheduler") ? make_scheduler(*opt, config.at("scheduler")) : nullptr;
    const std::vector<Tensor> all{p["W1"], p["b1"], p["W2"], p["b2"]};
    for (int step = 0; step < 20; ++step) {
      const json& batch = fixture.at("batches")[step % 5];
      const Tensor x = golden::tensor(batch.at("x"), dtype), y = golden::tensor(batch.at("y"), dtype);
      const Tensor d = linear(tanh(linear(x, p["W1"], p["b1"])), p["W2"], p["b2"]) - y;  // (8, 2)
      const Tensor loss = mean(d * d);
      opt->zero_grad();
      loss.backward();
      if (config.contains("clip")) {
        const double norm = optim::clip_grad_norm(all, config.at("clip"));
        CHECK(norm == doctest::Approx(config.at("clip_norms")[step].get<double>()).epsilon(golden::tolerance(dtype)));
      }
      opt->step();
      if (sched) sched->step();
      for (std::size_t g = 0; g < opt->groups().size(); ++g) {
        CHECK(opt->groups()[g].lr == doctest::Approx(config.at("lrs")[step][g].get<double>()).epsilon(1e-12));
        // SGD's and RMSprop's momentum, Adam's β1: moved by OneCycleLR, else as constructed
        CHECK(opt->groups()[g].momentum == doctest::Approx(config.at("momenta")[step][g].get<double>()).epsilon(1e-12));
      }
    }
    for (const auto& [name, t] : p) {
      const double diff = golden::max_abs_diff(t, config.at("final").at(name));
      CHECK(diff <= golden::tolerance(dtype));
      worst[dtype == Dtype::Float64] = std::max(worst[dtype == Dtype::Float64], diff);
    }
  }
  MESSAGE("optimizer trajectories vs torch: max abs diff float32 ", worst[0], ", float64 ", worst[1]);
}

TEST_CASE("test_optim: every schedule matches PyTorch's lrs, and OneCycleLR its momenta") {
  double worst = 0;
  for (const json& c : golden::fixture().at("schedulers")) {
    CAPTURE(c.at("spec").dump());
    Tensor w = zeros({1}).requires_grad_();
    optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9});
    auto sched = make_scheduler(opt, c.at("spec"));
    for (std::size_t e = 0; e < c.at("lrs").size(); ++e) {
      if (e > 0) sched->step();
      CHECK(sched->last_epoch() == static_cast<int64_t>(e));
      const double expected = c.at("lrs")[e];
      CHECK(sched->last_lr()[0] == doctest::Approx(expected).epsilon(1e-12));
      CHECK(opt.groups()[0].momentum == doctest::Approx(c.at("momenta")[e].get<double>()).epsilon(1e-12));
      worst = std::max(worst, std::abs(sched->last_lr()[0] - expected));
    }
  }
  MESSAGE("schedules vs torch: max abs diff ", worst);
}

TEST_CASE("test_optim: hand-derived steps: SGD with momentum, and Adam's first step is lr·sign(g)") {
  // w = 1, loss = 3w: g = 3 every step. μ = 0.5: b₁ = 3, w₁ = 1 − 0.1·3 = 0.7; b₂ = 0.5·3 + 3 = 4.5, w₂ = 0.25.
  Tensor w = tensor({1.0}, {1}, Dtype::Float64, true);
  optim::SGD sgd({w}, {.lr = 0.1, .momentum = 0.5});
  for (double expected : {0.7, 0.25}) {
    sgd.zero_grad();
    sum(w * 3.0).backward();
    sgd.step();
    CHECK(w.item() == doctest::Approx(expected).epsilon(1e-15));
  }
  // Adam, t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g).
  Tensor a = tensor({1.0, -2.0}, {2}, Dtype::Float64, true);
  optim::Adam adam({a}, {.lr = 0.01, .eps = 0});
  sum(a * tensor({5.0, -0.5}, {2}, Dtype::Float64)).backward();
  adam.step();
  CHECK(a.to_vector()[0] == doctest::Approx(0.99).epsilon(1e-14));
  CHECK(a.to_vector()[1] == doctest::Approx(-1.99).epsilon(1e-14));
  CHECK(adam.step_count(0) == 1);
}

TEST_CASE("test_optim: step() updates in place under no-grad and skips parameters without gradients") {
  nn::Linear layer(3, 2);
  const void* storage = layer.weight.raw_data();
  const std::vector<double> bias_before = layer.bias.to_vector();
  optim::AdamW opt(layer.parameters(), {.lr = 0.1});
  const int64_t live = Node::live_count();
  sum(linear(ones({4, 3}), layer.weight)).backward();  // the bias gets no gradient
  opt.step();
  CHECK(layer.weight.raw_data() == storage);  // written into, never rebound
  CHECK(layer.weight.is_leaf());
  CHECK(layer.weight.requires_grad());
  CHECK(Node::live_count() == live);
  CHECK(layer.bias.to_vector() == bias_before);
  CHECK(opt.step_count(0) == 1);
  CHECK(opt.step_count(1) == 0);
  opt.zero_grad();
  CHECK(!layer.weight.grad().defined());
}

TEST_CASE("test_optim: updates above the parallel grain give the same bits on 1 and 2 threads") {
  const auto run = [](int threads) {
    set_num_threads(threads);
    Generator gen(4);
    Tensor w = randn({300, 400}, gen).requires_grad_();  // 120000 elements: several chunks
    optim::RMSprop opt({w}, {.lr = 0.01, .momentum = 0.9, .centered = true});
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      sum(w * w * w).backward();
      opt.step();
    }
    return w.to_vector();
  };
  const auto one = run(1);
  CHECK(run(2) == one);
}

namespace {

// Adam's and AdamW's update, element by element in plain T arithmetic (the order of adam.cpp's
// formula); this file is built for plain x86-64 at -O0, so nothing here is fused or vectorised.
template <class T>
std::vector<T> adam_by_hand(std::vector<T> w, const std::vector<T>& g, int steps, double lr, double wd,
                            bool decoupled) {
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::vector<T> m(w.size(), T(0)), v(w.size(), T(0));
  for (int t = 1; t <= steps; ++t) {
    const T b1c = T(1 - beta1), b2 = T(beta2), b2c = T(1 - beta2), epsilon = T(eps);
    const T rate = T(lr / (1 - std::pow(beta1, t))), root = T(std::sqrt(1 - std::pow(beta2, t)));
    const T decay = T(wd), shrink = T(1 - lr * wd);
    for (std::size_t i = 0; i < w.size(); ++i) {
      T grad = g[i];
      if (decoupled)
        w[i] *= shrink;
      else
        grad += decay * w[i];
      m[i] += b1c * (grad - m[i]);
      v[i] = v[i] * b2 + b2c * grad * grad;
      w[i] -= rate * m[i] / (std::sqrt(v[i]) / root + epsilon);
    }
  }
  return w;
}

}  // namespace

TEST_CASE("test_optim: Adam's and AdamW's fused updates are, to the bit, their formula in plain arithmetic") {
  // 100,003 elements: chunks on both threads, and a last vector of every width left over.
  for (const Dtype dtype : {Dtype::Float32, Dtype::Float64})
    for (const bool decoupled : {false, true}) {
      CAPTURE(dtype_name(dtype));
      CAPTURE(decoupled);
      Generator gen(11);
      const Tensor w0 = randn({100003}, gen).to(dtype), slope = randn({100003}, gen).to(dtype);
      Tensor w = w0.clone().requires_grad_();
      std::unique_ptr<optim::Optimizer> opt;
      if (decoupled)
        opt = std::make_unique<optim::AdamW>(std::vector{w}, optim::AdamWOptions{.lr = 0.01, .weight_decay = 0.1});
      else
        opt = std::make_unique<optim::Adam>(std::vector{w}, optim::AdamOptions{.lr = 0.01, .weight_decay = 0.1});
      for (int step = 0; step < 3; ++step) {
        opt->zero_grad();
        sum(w * slope).backward();  // dL/dw = slope, exactly
        opt->step();
      }
      const auto check = [&]<class T>() {
        const std::vector<T> want = adam_by_hand(w0.to_vector<T>(), slope.to_vector<T>(), 3, 0.01, 0.1, decoupled);
        const std::vector<T> got = w.to_vector<T>();
        std::size_t differ = 0;
        for (std::size_t i = 0; i < want.size(); ++i) differ += std::memcmp(&got[i], &want[i], sizeof(T)) != 0;
        CHECK_MESSAGE(differ == 0, differ, " of ", want.size(), " elements differ");
      };
      if (dtype == Dtype::Float32)
        check.template operator()<float>();
      else
        check.template operator()<double>();
    }
}

TEST_CASE("test_optim: clip_grad_norm returns the total norm and scales gradients like torch") {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({1}).requires_grad_(), c = zeros({1}).requires_grad_();
  a.set_grad(tensor({3, 0}, {2}));
  b.set_grad(tensor({4}, {1}));
  CHECK(optim::clip_grad_norm({a, b, c}, 10.0) == doctest::Approx(5.0));  // c has no grad: skipped
  CHECK(a.grad().to_vector() == std::vector<double>{3, 0});               // below max_norm: unchanged
  CHECK(optim::clip_grad_norm({a, b}, 1.0) == doctest::Approx(5.0));
  CHECK(a.grad().to_vector()[0] == doctest::Approx(3 / (5 + 1e-6)));
  CHECK(b.grad().to_vector()[0] == doctest::Approx(4 / (5 + 1e-6)));
  b.set_grad(tensor({-7}, {1}));
  CHECK(optim::clip_grad_norm({a, b}, 100.0, INFINITY) == 7.0);
  CHECK_THROWS_AS(optim::clip_grad_norm({a}, 1.0, 0.0), ValueError);
}

TEST_CASE("test_optim: options are validated with clear messages") {
  using doctest::Contains;
  const std::vector<Tensor> params{zeros({2}).requires_grad_()};
  CHECK_THROWS_WITH_AS(optim::SGD(params, {.lr = -0.1}), Contains("[SGD] lr must be a finite number >= 0, got -0.1"),
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD(params, {.lr = 0.1, .nesterov = true}),
                       Contains("[SGD] nesterov needs momentum > 0 and dampening = 0"), ValueError);
  CHECK_THROWS_AS(optim::SGD(params, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}), ValueError);
  CHECK_THROWS_AS(optim::SGD(params, {.lr = 0.1, .momentum = -1}), ValueError);
  CHECK_THROWS_AS(optim::SGD(params, {.lr = 0.1, .weight_decay = -1e-4}), ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam(params, {.betas = {0.9, 1.0}}),
                       Contains("[Adam] betas must lie in [0, 1), got (0.9, 1)"), ValueError);
  CHECK_THROWS_AS(optim::Adam(params, {.betas = {-0.1, 0.999}}), ValueError);
  CHECK_THROWS_WITH_AS(optim::AdamW(params, {.eps = -1e-8}), Contains("[AdamW] eps must be >= 0"), ValueError);
  CHECK_THROWS_AS(optim::Adam(params, {.weight_decay = -0.1}), ValueError);
  CHECK_THROWS_AS(optim::RMSprop(params, {.alpha = 1.5}), ValueError);
  CHECK_THROWS_AS(optim::RMSprop(params, {.eps = -1}), ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD(std::vector<optim::ParamGroup>{{.params = params, .lr = -1.0}}, {.lr = 0.1}),
                       Contains("(group 0)"), ValueError);
  CHECK_THROWS_AS(optim::SGD(std::vector<Tensor>{Tensor()}, {}), ValueError);
  optim::SGD opt(params, {.lr = 0.1});
  CHECK_THROWS_AS(optim::StepLR(opt, 0), ValueError);
  CHECK_THROWS_AS(optim::MultiStepLR(opt, {5, 2}), ValueError);
  CHECK_THROWS_AS(optim::CosineAnnealingLR(opt, 0), ValueError);
  CHECK_THROWS_AS(optim::LinearLR(opt, 0.0), ValueError);
  CHECK_THROWS_AS(optim::OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 0}), ValueError);
  // Cycling momentum (the default) needs a momentum to cycle, and a sane range for it.
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(opt, {.max_lr = 0.1, .total_steps = 3}),
                       Contains("cycle_momentum needs an optimizer with a momentum"), ValueError);
  optim::SGD with_momentum(params, {.lr = 0.1, .momentum = 0.9});
  CHECK_THROWS_AS(
      optim::OneCycleLR(with_momentum, {.max_lr = 0.1, .total_steps = 3, .base_momentum = 0.9, .max_momentum = 0.8}),
      ValueError);
  CHECK_THROWS_AS(optim::OneCycleLR(with_momentum, {.max_lr = 0.1, .total_steps = 3, .max_momentum = 1.0}), ValueError);
  optim::OneCycleLR one_cycle(opt, {.max_lr = 0.1, .total_steps = 3, .cycle_momentum = false});
  for (int i = 0; i < 3; ++i) one_cycle.step();
  const double lr = opt.groups()[0].lr;
  CHECK_THROWS_WITH_AS(one_cycle.step(), Contains("[OneCycleLR] stepped 4 times but total_steps is 3"), ValueError);
  CHECK(one_cycle.last_epoch() == 3);  // unchanged by the failed step
  CHECK(opt.groups()[0].lr == lr);
}

TEST_CASE("test_optim: parameter groups keep their own lr and weight decay") {
  Tensor w = tensor({1.0}, {1}, Dtype::Float64, true), b = tensor({1.0}, {1}, Dtype::Float64, true);
  optim::SGD opt(std::vector<optim::ParamGroup>{{.params = {w}}, {.params = {b}, .lr = 0.5, .weight_decay = 0.0}},
                 {.lr = 0.1, .weight_decay = 1.0});
  CHECK(opt.groups()[0].lr == 0.1);
  CHECK(opt.groups()[1].weight_decay == 0.0);
  w.set_grad(zeros({1}, Dtype::Float64));
  b.set_grad(zeros({1}, Dtype::Float64));
  opt.step();
  CHECK(w.item() == doctest::Approx(0.9));  // decayed: 1 − 0.1·(0 + 1·1)
  CHECK(b.item() == 1.0);                   // no decay in group 1
}

TEST_CASE("test_optim: state dicts round-trip and are validated") {
  Generator gen(2);
  const Tensor w0 = randn({3, 2}, gen, Dtype::Float64);
  const auto train = [&](optim::Optimizer& opt, Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(w * w * w).backward();
      opt.step();
    }
  };
  Tensor a = w0.clone().requires_grad_(), b = w0.clone().requires_grad_();
  optim::Adam first({a}, {.lr = 0.05});
  optim::StepLR sched(first, 2, 0.5);
  train(first, a, 3);
  sched.step();
  // A second optimizer picks up where the first stopped, from its state dict.
  b.detach().copy_(a.detach());
  optim::Adam second({b}, {.lr = 123.0});
  optim::StepLR second_sched(second, 2, 0.5);
  second.load_state_dict(first.state_dict());
  second_sched.load_state_dict(sched.state_dict());
  CHECK(second.groups()[0].lr == first.groups()[0].lr);
  CHECK(second.step_count(0) == 3);
  train(first, a, 2);
  train(second, b, 2);
  CHECK(a.to_vector() == b.to_vector());

  NamedTensors state = first.state_dict();
  CHECK(state.size() == 4);  // lr, state.0.step, state.0.exp_avg, state.0.exp_avg_sq
  state.emplace_back("state.7.step", scalar_tensor(1, Dtype::Int64));
  CHECK_THROWS_WITH_AS(second.load_state_dict(state),
                       doctest::Contains("[Adam.load_state_dict] unexpected entry 'state.7.step'"), ValueError);
  state.pop_back();
  state[2].second = zeros({2, 3}, Dtype::Float64);
  CHECK_THROWS_WITH_AS(second.load_state_dict(state), doctest::Contains("entry 'state.0.exp_avg' has shape (2, 3)"),
                       ShapeError);
  state.erase(state.begin() + 2);
  CHECK_THROWS_WITH_AS(second.load_state_dict(state),
                       doctest::Contains("[Adam.load_state_dict] missing entry 'state.0.exp_avg'"), ValueError);
  CHECK(second.step_count(0) == 5);  // untouched by the failed loads
  CHECK_THROWS_AS(second_sched.load_state_dict({{"last_epoch", scalar_tensor(1, Dtype::Float64)}}), ValueError);
}

}  // namespace test_optim
