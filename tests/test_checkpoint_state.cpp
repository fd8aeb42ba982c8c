// tests/test_checkpoint_state.cpp — what checkpoint loading accepts: exact int64 counters, and only
// states a run can reach.
//
//   1. epoch, step, Adam's step and a scheduler's last_epoch keep every int64 bit for bit (2^53 + 1,
//      INT64_MAX), where a trip through double changed them;
//   2. impossible states are rejected by the loaders, with IoError naming the file and the entry, and
//      the receivers left as they were: a negative or NaN lr or base lr, a step below 1, a negative
//      exp_avg_sq or square_avg, a NaN momentum buffer or parameter, a negative epoch or step, an
//      all-zero or inf-caching generator; counters at INT64_MAX cannot be stepped on (an error, not
//      overflow);
//   3. loading a folder is an IoError naming it (it was std::ios_base::failure), and a header that
//      promises more than the file holds costs no memory.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <humble/humble.hpp>
#include <limits>
#include <string>

#include "support.hpp"

namespace test_checkpoint_state {

using namespace humble;
using test_support::message_of;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string name = (fs::temp_directory_path() / "humble_state_XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& file) const { return (path / file).string(); }
};

// A small run after one step: every kind of entry exists.
struct Run {
  Generator gen{11};
  nn::Sequential model{std::make_shared<nn::Linear>(3, 4, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(4, 2, true, gen)};
  optim::Adam opt{model.parameters(), {.lr = 0.01}};
  optim::StepLR sched{opt, 2, 0.5};
  Run() {
    const Tensor loss = losses::cross_entropy(model(randn({5, 3}, gen)), randint(0, 2, {5}, gen));
    opt.zero_grad();
    loss.backward();
    opt.step();
    sched.step();
  }
  training::Checkpoint parts(int64_t epoch = 0, int64_t step = 0) {
    return {.model = &model, .optimizer = &opt, .scheduler = &sched, .generator = &gen, .epoch = epoch, .step = step};
  }
  std::string fingerprint() const {  // every value of every part, to see that nothing changed
    std::string out;
    const auto add = [&out](const NamedTensors& entries) {
      for (const auto& [name, t] : entries) out += str_cat(name, to_string(t.detach().clone()), ";");
    };
    add(model.state_dict());
    add(opt.state_dict());
    add(sched.state_dict());
    for (uint64_t w : gen.state()) out += std::to_string(w) + ",";
    return out + std::to_string(opt.groups()[0].lr);
  }
};

Tensor& entry(NamedTensors& entries, const std::string& name) {
  for (auto& [n, t] : entries)
    if (n == name) return t;
  FAIL("no entry " << name);
  return entries.front().second;
}

}  // namespace

TEST_CASE("checkpoint state: epoch, step, Adam's step and last_epoch keep every int64 exactly") {
  TempDir dir;
  for (const int64_t big : {(int64_t{1} << 53) + 1, std::numeric_limits<int64_t>::max(), int64_t{123456789012345678}}) {
    CAPTURE(big);
    Run run;
    training::save_checkpoint(dir / "run.ckpt", run.parts(big, big - 1));
    NamedTensors entries = load_tensors(dir / "run.ckpt");
    CHECK(int64_item(entry(entries, "epoch")) == big);
    CHECK(int64_item(entry(entries, "step")) == big - 1);
    *entry(entries, "optimizer.state.0.step").data<int64_t>() = big;
    *entry(entries, "scheduler.last_epoch").data<int64_t>() = big;
    save_tensors(entries, dir / "edited.ckpt");
    Run other;
    training::Checkpoint into = other.parts();
    training::load_checkpoint(dir / "edited.ckpt", into);
    CHECK(into.epoch == big);
    CHECK(into.step == big - 1);
    CHECK(other.opt.step_count(0) == big);
    CHECK(other.sched.last_epoch() == big);
    NamedTensors saved_back = other.opt.state_dict();
    CHECK(int64_item(entry(saved_back, "state.0.step")) == big);
  }
}

TEST_CASE("checkpoint state: counters at INT64_MAX cannot be stepped on: an error, not signed overflow") {
  TempDir dir;
  Run run;
  training::save_checkpoint(dir / "run.ckpt", run.parts());
  NamedTensors entries = load_tensors(dir / "run.ckpt");
  *entry(entries, "optimizer.state.0.step").data<int64_t>() = std::numeric_limits<int64_t>::max();
  *entry(entries, "scheduler.last_epoch").data<int64_t>() = std::numeric_limits<int64_t>::max();
  save_tensors(entries, dir / "max.ckpt");
  training::Checkpoint into = run.parts();
  training::load_checkpoint(dir / "max.ckpt", into);
  CHECK_THROWS_WITH_AS(run.opt.step(),
                       "[Adam] parameter 0 has taken 9223372036854775807 steps: its step count cannot go on",
                       ValueError);
  CHECK_THROWS_WITH_AS(run.sched.step(), "[StepLR] last_epoch is 9223372036854775807: the epoch count cannot go on",
                       ValueError);
}

TEST_CASE("checkpoint state: every impossible state is an IoError naming the entry, and nothing is changed") {
  TempDir dir;
  struct Case {
    const char* name;
    std::function<void(NamedTensors&)> edit;
    const char* expected;  // after "[load] <file>: "
  };
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<Case> cases = {
      {"negative lr", [](NamedTensors& e) { entry(e, "optimizer.lr").fill_(-0.5); },
       "optimizer: [Adam.load_state_dict] entry 'lr' holds -0.5 at element 0; expected finite values >= 0"},
      {"NaN lr", [](NamedTensors& e) { entry(e, "optimizer.lr").fill_(NAN); },
       "optimizer: [Adam.load_state_dict] entry 'lr' holds nan at element 0; expected finite values >= 0"},
      {"infinite base lr", [](NamedTensors& e) { entry(e, "scheduler.base_lrs").fill_(INFINITY); },
       "scheduler: [StepLR.load_state_dict] entry 'base_lrs' holds inf at element 0; expected finite values >= 0"},
      {"Adam step 0", [](NamedTensors& e) { *entry(e, "optimizer.state.2.step").data<int64_t>() = 0; },
       "optimizer: [Adam.load_state_dict] entry 'state.2.step' is 0, expected a step count >= 1"},
      {"Adam step -5", [](NamedTensors& e) { *entry(e, "optimizer.state.0.step").data<int64_t>() = -5; },
       "optimizer: [Adam.load_state_dict] entry 'state.0.step' is -5, expected a step count >= 1"},
      {"negative exp_avg_sq", [](NamedTensors& e) { entry(e, "optimizer.state.1.exp_avg_sq").fill_(-1); },
       "optimizer: [Adam.load_state_dict] entry 'state.1.exp_avg_sq' holds -1 at element 0; expected finite values >= "
       "0"},
      {"infinite exp_avg", [](NamedTensors& e) { entry(e, "optimizer.state.3.exp_avg").fill_(-INFINITY); },
       "optimizer: [Adam.load_state_dict] entry 'state.3.exp_avg' holds -inf at element 0; expected finite values"},
      {"NaN parameter", [](NamedTensors& e) { entry(e, "model.2.bias").fill_(NAN); },
       "model: [load_state_dict] entry '2.bias' holds nan at element 0; expected finite values"},
      {"negative epoch", [](NamedTensors& e) { *entry(e, "epoch").data<int64_t>() = -1; },
       "[load_checkpoint] entry 'epoch' is -1, expected >= 0"},
      {"negative step", [kMax](NamedTensors& e) { *entry(e, "step").data<int64_t>() = -kMax - 1; },
       "[load_checkpoint] entry 'step' is -9223372036854775808, expected >= 0"},
      {"negative last_epoch", [](NamedTensors& e) { *entry(e, "scheduler.last_epoch").data<int64_t>() = -3; },
       "scheduler: [StepLR.load_state_dict] entry 'last_epoch' is -3, expected >= 0"},
      {"all-zero generator", [](NamedTensors& e) { entry(e, "generator").fill_(0); },
       "[Generator::set_state] the four xoshiro256** words are all 0, a state it never reaches (it would return 0 "
       "forever)"},
      {"infinite cached normal",
       [](NamedTensors& e) {
         const double inf = INFINITY;
         std::memcpy(entry(e, "generator").data<int64_t>() + 4, &inf, sizeof inf);
       },
       "[Generator::set_state] the cached normal is inf; expected a finite number, or NaN bits for none"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Run run;
    training::save_checkpoint(dir / "good.ckpt", run.parts());
    NamedTensors entries = load_tensors(dir / "good.ckpt");
    c.edit(entries);
    save_tensors(entries, dir / "bad.ckpt");
    Run target;
    const std::string before = target.fingerprint();
    training::Checkpoint into = target.parts(-7, -7);
    CHECK(message_of<IoError>([&] { training::load_checkpoint(dir / "bad.ckpt", into); }) ==
          str_cat("[load] ", dir / "bad.ckpt", ": ", c.expected));
    CHECK(target.fingerprint() == before);
    CHECK(into.epoch == -7);
    CHECK(into.step == -7);
  }
}

TEST_CASE("checkpoint state: optim::load and nn::load check values too, RMSprop's and SGD's buffers included") {
  TempDir dir;
  Generator gen(5);
  nn::Linear layer(3, 2, true, gen);
  optim::RMSprop rms(layer.parameters(), {.momentum = 0.5, .centered = true});
  sum(layer(randn({4, 3}, gen))).backward();
  rms.step();
  NamedTensors state = rms.state_dict();
  entry(state, "state.0.square_avg").fill_(-2);
  save_tensors(state, dir / "rms.ckpt");
  CHECK(message_of<IoError>([&] { optim::load(rms, dir / "rms.ckpt"); }) ==
        str_cat("[load] ", dir / "rms.ckpt",
                ": [RMSprop.load_state_dict] entry 'state.0.square_avg' holds -2 at element 0; "
                "expected finite values >= 0"));
  optim::SGD sgd(layer.parameters(), {.lr = 0.1, .momentum = 0.9});
  sgd.step();
  state = sgd.state_dict();
  entry(state, "state.1.momentum_buffer").fill_(NAN);
  save_tensors(state, dir / "sgd.ckpt");
  CHECK(message_of<IoError>([&] { optim::load(sgd, dir / "sgd.ckpt"); }) ==
        str_cat("[load] ", dir / "sgd.ckpt",
                ": [SGD.load_state_dict] entry 'state.1.momentum_buffer' holds nan at element 0; "
                "expected finite values"));
  NamedTensors weights = layer.state_dict();
  Tensor& weight = entry(weights, "weight");
  weight = weight.detach().clone().fill_(INFINITY);  // the layer's own weight stays as it is
  save_tensors(weights, dir / "layer.ckpt");
  CHECK(message_of<IoError>([&] { nn::load(layer, dir / "layer.ckpt"); }) ==
        str_cat("[load] ", dir / "layer.ckpt",
                ": [load_state_dict] entry 'weight' holds inf at element 0; expected finite values"));
}

TEST_CASE("checkpoint state: the constructors and schedules refuse what the loaders refuse") {
  const Tensor w = zeros({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(optim::SGD({w}, {.lr = INFINITY}), "[SGD] lr must be a finite number >= 0, got inf (group 0)",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam({w}, {.lr = NAN}), "[Adam] lr must be a finite number >= 0, got nan (group 0)",
                       ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam({w}, {.weight_decay = INFINITY}),
                       "[Adam] weight_decay must be a finite number >= 0, got inf (group 0)", ValueError);
  optim::SGD sgd({w}, {.lr = 0.1});
  CHECK_THROWS_WITH_AS(optim::StepLR(sgd, 1, -0.5), "[StepLR] gamma must be a finite number > 0, got -0.5", ValueError);
  CHECK_THROWS_WITH_AS(optim::MultiStepLR(sgd, {1, 2}, NAN), "[MultiStepLR] gamma must be a finite number > 0, got nan",
                       ValueError);
  // With γ = 10 the lr 0.1·10^e passes float64 at e = 309: that step is an error, and the lr stays 1e307.
  optim::StepLR growing(sgd, 1, 10);
  for (int e = 1; e <= 308; ++e) growing.step();
  CHECK(sgd.groups()[0].lr == doctest::Approx(1e307));
  CHECK_THROWS_WITH_AS(growing.step(),
                       "[StepLR] the schedule gives lr inf at epoch 309 (base lr 0.1); expected a finite "
                       "number >= 0",
                       ValueError);
  CHECK(growing.last_epoch() == 308);
  CHECK(sgd.groups()[0].lr == doctest::Approx(1e307));
  CHECK_THROWS_WITH_AS(training::save_checkpoint("unused.ckpt", {.epoch = -1}),
                       "[save_checkpoint] epoch and step must be >= 0, got epoch -1, step 0", ValueError);
  Generator gen(1);
  CHECK_THROWS_AS(gen.set_state({0, 0, 0, 0, 0}), ValueError);
}

TEST_CASE("checkpoint state: loading a folder or a file whose header promises too much is a clear IoError") {
  TempDir dir;
  fs::create_directory(dir.path / "a-folder");
  nn::Linear layer(2, 2);
  CHECK(message_of<IoError>([&] { nn::load(layer, dir / "a-folder"); }) ==
        str_cat("[load] ", dir / "a-folder", ": is a directory, not a checkpoint file"));
  // A header that promises 2^60 payload bytes in a 30-byte file: truncated, found before any is read.
  std::string bytes = "HMBLCKPT";
  const auto put = [&bytes](auto v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint32_t{1});
  put(uint32_t{0});
  put(uint64_t{1} << 60);
  bytes += "payload";
  std::FILE* f = std::fopen((dir / "huge.ckpt").c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  CHECK(message_of<IoError>([&] { nn::load(layer, dir / "huge.ckpt"); }) ==
        str_cat("[load] ", dir / "huge.ckpt",
                ": truncated: the header promises 1152921504606846976 payload bytes, the file holds 7"));
  // A character device (never ends, no size): the magic is checked on the first bytes read.
  CHECK(message_of<IoError>([&] { nn::load(layer, "/dev/zero"); }) ==
        "[load] /dev/zero: not a humble checkpoint (bad magic)");
}

TEST_CASE("checkpoint state: an empty entry whose other dims multiply past 2^63 is an IoError, not an overflow") {
  // Shape (0, 2^61, 2^62): no element and no data, but its strides would pass int64 (undefined
  // behaviour in empty(), found by the fuzz target). The file has a correct header and CRC.
  TempDir dir;
  std::string payload;
  const auto put = [](std::string& to, auto v) { to.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(payload, uint32_t{1});  // one entry
  put(payload, uint32_t{1});
  payload += "x";
  put(payload, uint8_t{2});  // int64
  put(payload, uint8_t{3});  // rank 3
  for (const int64_t d : {int64_t{0}, int64_t{1} << 61, int64_t{1} << 62}) put(payload, d);
  std::string file = "HMBLCKPT";
  put(file, uint32_t{1});
  put(file, static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size())));
  put(file, static_cast<uint64_t>(payload.size()));
  file += payload;
  std::FILE* f = std::fopen((dir / "empty-huge.ckpt").c_str(), "wb");
  std::fwrite(file.data(), 1, file.size(), f);
  std::fclose(f);
  CHECK(message_of<IoError>([&] { load_tensors(dir / "empty-huge.ckpt"); }) ==
        str_cat("[load] ", dir / "empty-huge.ckpt", ": entry 'x' has an impossible dimension 2305843009213693952"));
  CHECK_THROWS_WITH_AS(empty({0, int64_t{1} << 61, int64_t{1} << 62}),
                       "[empty] shape (0, 2305843009213693952, 4611686018427387904) is too large: its strides or byte "
                       "count pass 2^63",
                       ShapeError);
  CHECK(empty({0, int64_t{1} << 20, 3}).numel() == 0);  // large but possible: fine
}

}  // namespace test_checkpoint_state
