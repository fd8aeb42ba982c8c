// tests/test_profile.cpp — core/profile: what a Session records.
//
//   1. One training step of a small model: each op's forward and each node's backward once, the
//      engine, the optimizer's step and zero_grad, the data loader; two GEMMs (the forward, and dw
//      in the backward: the images need no gradient) charged to linear and linear.backward; rows add
//      up to at most the wall time.
//   2. Nothing is recorded without a session, and a session sees only its own span.
//   3. Ops inside a frame belong to the frame; the JSON and the table say what the report holds.
#include <doctest/doctest.h>

#include <humble/humble.hpp>
#include <nlohmann/json.hpp>

namespace test_profile {

using namespace humble;

namespace {

// One step: x (8, 5) → linear (5 → 4) → relu → sum, backward, SGD.
struct Step {
  nn::Linear layer{5, 4};
  optim::SGD opt{layer.parameters(), {.lr = 0.1}};
  data::DataLoader loader{data::Dataset(std::vector<uint8_t>(16 * 5, 7), {5}, std::vector<int64_t>(16, 1), 2),
                          {.batch_size = 8}};
  void run() {
    for (const data::Batch& batch : loader) {
      const Tensor loss = sum(relu(layer(batch.images)));
      opt.zero_grad();
      loss.backward();
      opt.step();
      break;
    }
  }
};

}  // namespace

TEST_CASE("test_profile: a training step records every op, both directions, GEMMs, the step and the data") {
  Step step;
  step.run();  // warm
  profile::Session session;
  CHECK(profile::enabled());
  step.run();
  const profile::Report report = session.report();
  const auto calls = [&](const char* name) {
    const auto it = report.ops.find(name);
    return it == report.ops.end() ? int64_t{0} : it->second.calls;
  };
  CHECK(calls("linear") == 1);
  CHECK(calls("relu") == 1);
  CHECK(calls("sum") == 1);
  CHECK(calls("linear.backward") == 1);
  CHECK(calls("relu.backward") == 1);
  CHECK(calls("sum.backward") == 1);
  CHECK(calls("autograd.engine") == 1);
  CHECK(calls("SGD.zero_grad") == 1);
  CHECK(calls("SGD.step") == 1);
  CHECK(calls("DataLoader.batch") == 1);
  CHECK(calls("matmul") == 0);  // the backward's matmuls are linear.backward's
  CHECK(report.gemm_calls == 2);
  CHECK(report.ops.at("linear").gemm_seconds > 0);
  CHECK(report.ops.at("linear").gemm_seconds <= report.ops.at("linear").seconds);
  CHECK(report.ops.at("linear.backward").gemm_seconds > 0);
  CHECK(report.ops.at("relu").gemm_seconds == 0);
  double rows = 0;
  for (const auto& [name, e] : report.ops) {
    CAPTURE(name);
    CHECK(e.seconds >= 0);
    rows += e.seconds;
  }
  CHECK(rows <= report.wall_seconds);
  CHECK(report.gemm_seconds <= report.wall_seconds);
  CHECK(report.gemm_share() == doctest::Approx(report.gemm_seconds / report.wall_seconds));
}

TEST_CASE("test_profile: nothing is recorded without a session, and a session sees only its own span") {
  Step step;
  CHECK_FALSE(profile::enabled());
  step.run();  // not recorded by anyone
  profile::Session outer;
  step.run();
  int64_t inner_calls = 0;
  {
    profile::Session inner;
    step.run();
    inner_calls = inner.report().ops.at("linear").calls;
  }
  CHECK(inner_calls == 1);
  CHECK(outer.report().ops.at("linear").calls == 2);
  CHECK(profile::enabled());
}

TEST_CASE("test_profile: ops inside a frame belong to it, and the JSON and the table show the report") {
  profile::Session session;
  {
    const profile::Frame frame("my", ".region");
    Generator gen(1);
    matmul(randn({40, 30}, gen), randn({30, 20}, gen));
  }
  const profile::Report report = session.report();
  REQUIRE(report.ops.count("my.region") == 1);
  CHECK(report.ops.at("my.region").calls == 1);
  CHECK(report.ops.at("my.region").gemm_seconds > 0);
  CHECK(report.ops.count("matmul") == 0);
  const nlohmann::json doc = nlohmann::json::parse(report.json());
  CHECK(doc.at("ops").at("my.region").at("calls") == 1);
  CHECK(doc.at("ops").at("my.region").at("seconds").get<double>() ==
        doctest::Approx(report.ops.at("my.region").seconds));
  CHECK(doc.at("gemm_share").get<double>() == doctest::Approx(report.gemm_share()));
  const std::string table = report.table();
  CHECK(table.find("humble profile:") == 0);
  CHECK(table.find("my.region") != std::string::npos);
  CHECK(table.find("(other)") != std::string::npos);

  profile::Report twice = report;
  twice += report;
  CHECK(twice.ops.at("my.region").calls == 2);
  CHECK(twice.wall_seconds == doctest::Approx(2 * report.wall_seconds));
}

}  // namespace test_profile
