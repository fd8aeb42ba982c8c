// tests/test_checkpoint.cpp — core/named_tensors, nn/checkpoint, training/checkpoint: the file format, atomic saves,
// validated loads, resuming.
//
//   1. round trips are bit-exact (parameters, buffers, optimizer state) and the bytes follow
//      docs/checkpoint-format.md (magic, version, CRC-32, payload length, entry layout).
//   2. a failed save (missing directory, failed rename, a write that fails midway) throws IoError,
//      leaves no temporary file and keeps an existing checkpoint intact.
//   3. every corruption or mismatch makes load throw IoError naming the file and the entry, with
//      the receivers left exactly as they were; load_checkpoint is all-or-nothing.
//   4. 2 epochs + checkpoint + 2 resumed epochs give the bits of 4 uninterrupted epochs (Adam,
//      OneCycleLR, Dropout and shuffling drawing from one Generator).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <zlib.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <iterator>
#include <memory>

namespace test_checkpoint {

using namespace humble;
namespace fs = std::filesystem;

namespace {

struct TempDir {  // a fresh directory, removed with everything in it
  fs::path path;
  TempDir() {
    std::string name = (fs::temp_directory_path() / "humble_ckpt_XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& file) const { return (path / file).string(); }
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {})); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// Every value of the module's state (parameters and buffers), with dtype and shape.
std::vector<std::tuple<std::string, Dtype, Shape, std::vector<double>>> snapshot(const nn::Module& m) {
  std::vector<std::tuple<std::string, Dtype, Shape, std::vector<double>>> out;
  for (const auto& [name, t] : m.state_dict()) out.emplace_back(name, t.dtype(), t.shape(), t.to_vector());
  return out;
}

std::shared_ptr<nn::Sequential> small_model(Generator& gen) {
  return std::make_shared<nn::Sequential>(nn::Sequential{
      std::make_shared<nn::Linear>(4, 8, true, gen), std::make_shared<nn::BatchNorm1d>(8), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Dropout>(0.3, gen), std::make_shared<nn::Linear>(8, 3, true, gen)});
}

// The IoError message of load(args...), which must throw exactly IoError.
template <class Load>
std::string load_error(Load load) {
  try {
    load();
  } catch (const IoError& e) {
    return e.what();
  }
  FAIL("expected an IoError");
  return "";
}

}  // namespace

TEST_CASE("test_checkpoint: save/load round-trips parameters and buffers bit for bit") {
  TempDir dir;
  Generator g1(1), g2(2);
  auto model = small_model(g1);
  (*model)(randn({6, 4}, g1));  // moves BatchNorm's running statistics
  nn::save(*model, dir / "model.ckpt");
  auto other = small_model(g2);
  CHECK(snapshot(*other) != snapshot(*model));
  const Tensor handle = other->parameters()[0];
  nn::load(*other, dir / "model.ckpt");
  CHECK(snapshot(*other) == snapshot(*model));
  CHECK(handle.shares_storage(other->parameters()[0]));  // loaded in place
  CHECK(dir.entries() == 1);

  model->to(Dtype::Float64);
  nn::save(*model, dir / "model.ckpt");  // overwrites
  other->to(Dtype::Float64);
  nn::load(*other, dir / "model.ckpt");
  CHECK(snapshot(*other) == snapshot(*model));
}

TEST_CASE("test_checkpoint: the bytes follow docs/checkpoint-format.md") {
  TempDir dir;
  nn::Linear layer(4, 3);
  nn::save(layer, dir / "linear.ckpt");
  const std::string bytes = read_bytes(dir / "linear.ckpt");
  const auto u32 = [&](std::size_t at) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return v;
  };
  const auto u64 = [&](std::size_t at) {
    uint64_t v;
    std::memcpy(&v, bytes.data() + at, 8);
    return v;
  };
  CHECK(bytes.substr(0, 8) == "HMBLCKPT");
  CHECK(u32(8) == 1);  // format version
  REQUIRE(u64(16) == bytes.size() - 24);
  CHECK(u32(12) == crc32(0, reinterpret_cast<const Bytef*>(bytes.data() + 24), static_cast<uInt>(bytes.size() - 24)));
  CHECK(u32(24) == 2);  // entries
  CHECK(u32(28) == 6);  // name length
  CHECK(bytes.substr(32, 6) == "weight");
  CHECK(bytes[38] == 0);  // dtype float32
  CHECK(bytes[39] == 2);  // rank
  CHECK(u64(40) == 3);
  CHECK(u64(48) == 4);
  float first;
  std::memcpy(&first, bytes.data() + 56, 4);
  CHECK(first == layer.weight.to_vector()[0]);
  const std::size_t bias_at = 56 + 12 * 4;
  CHECK(u32(bias_at) == 4);
  CHECK(bytes.substr(bias_at + 4, 4) == "bias");
  CHECK(bias_at + 4 + 4 + 2 + 8 + 3 * 4 == bytes.size());
}

TEST_CASE("test_checkpoint: a failed save throws IoError, leaves nothing behind and keeps the old checkpoint") {
  TempDir dir;
  nn::Linear small(2, 2), big(200, 200);
  // Into a directory that does not exist.
  CHECK_THROWS_AS(nn::save(small, dir / "missing/model.ckpt"), IoError);
  CHECK(!fs::exists(dir.path / "missing"));
  CHECK(dir.entries() == 0);
  // Over a directory: the rename fails.
  fs::create_directory(dir.path / "taken");
  CHECK_THROWS_AS(nn::save(small, dir / "taken"), IoError);
  CHECK(fs::is_directory(dir.path / "taken"));
  CHECK(dir.entries() == 1);
  // A write that fails midway (the file-size limit is hit) over an existing checkpoint.
  const std::string path = dir / "model.ckpt";
  nn::save(small, path);
  const std::string before = read_bytes(path);
  rlimit old_limit;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  std::string message;
  CHECK_THROWS_AS(nn::save(big, path), IoError);
  try {
    nn::save(big, path);
  } catch (const IoError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("write failed") != std::string::npos);
  CHECK(read_bytes(path) == before);
  CHECK(dir.entries() == 2);  // "taken" and model.ckpt: no temporary file left
  nn::Linear restored(2, 2);
  nn::load(restored, path);
  CHECK(snapshot(restored) == snapshot(small));
}

TEST_CASE("test_checkpoint: a disk that fills up at any byte of any file humble writes leaves the old file whole") {
  // Every writer ends in write_file_atomically; a file-size limit makes the write fail after exactly
  // `limit` bytes (EFBIG, as ENOSPC would on a full disk). At every cut-off, the save throws IoError
  // naming the file and the step, the old file keeps its bytes, and no temporary file is left.
  TempDir dir;
  Generator gen(3);
  nn::Linear model(16, 8, true, gen);
  optim::Adam adam(model.parameters(), {.lr = 1e-3});
  optim::StepLR scheduler(adam, 2);
  sum(model.forward(ones({2, 16}))).backward();
  adam.step();
  plot::Figure figure("a figure");
  figure.add(plot::Chart("a chart").line({.points = {{0, 0.5}, {1, 0.25}, {2, 1}}}));
  const std::vector<std::pair<const char*, std::function<void(const std::string&)>>> writers{
      {"nn::save", [&](const std::string& path) { nn::save(model, path); }},
      {"optim::save", [&](const std::string& path) { optim::save(adam, path); }},
      {"save_checkpoint",
       [&](const std::string& path) {
         training::save_checkpoint(
             path,
             {.model = &model, .optimizer = &adam, .scheduler = &scheduler, .generator = &gen, .epoch = 7, .step = 70});
       }},
      {"Figure::save", [&](const std::string& path) { figure.save(path); }},
  };
  for (const auto& [name, write] : writers) {
    CAPTURE(name);
    const std::string path = dir / "file", full = dir / "full";
    write_bytes(path, "the old file");
    write(full);
    const std::size_t size = fs::file_size(full);
    fs::remove(full);
    rlimit old_limit;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
    for (std::size_t limit = 0; limit < size; limit += std::max<std::size_t>(1, size / 40)) {
      CAPTURE(limit);
      rlimit cut = old_limit;
      cut.rlim_cur = limit;
      REQUIRE(::setrlimit(RLIMIT_FSIZE, &cut) == 0);
      std::string message;
      try {
        write(path);
      } catch (const IoError& e) {
        message = e.what();
      }
      ::setrlimit(RLIMIT_FSIZE, &old_limit);
      CHECK(message.find(path + ": write failed: File too large") != std::string::npos);
      CHECK(read_bytes(path) == "the old file");
      CHECK(dir.entries() == 1);
    }
    std::signal(SIGXFSZ, old_handler);
  }
}

TEST_CASE("test_checkpoint: load rejects every bad file with IoError and leaves the module exactly as it was") {
  TempDir dir;
  const std::string good = dir / "good.ckpt", bad = dir / "bad.ckpt";
  nn::Linear source(4, 3);
  nn::save(source, good);
  const std::string bytes = read_bytes(good);
  struct Case {
    const char* name;
    std::function<void()> write_bad;  // writes `bad`
    const char* expected;             // in the message, beside the file name
  };
  const std::vector<Case> cases = {
      {"wrong magic", [&] { write_bytes(bad, "XMBLCKPT" + bytes.substr(8)); }, "bad magic"},
      {"newer version",
       [&] {
         std::string b = bytes;
         b[8] = 2;
         write_bytes(bad, b);
       },
       "format version 2 is not supported"},
      {"truncated data", [&] { write_bytes(bad, bytes.substr(0, bytes.size() - 5)); }, "truncated"},
      {"truncated header", [&] { write_bytes(bad, bytes.substr(0, 13)); }, "truncated"},
      {"trailing bytes", [&] { write_bytes(bad, bytes + "x"); }, "trailing bytes"},
      {"CRC mismatch",
       [&] {
         std::string b = bytes;
         b[b.size() - 2] ^= 0x10;
         write_bytes(bad, b);
       },
       "CRC-32 mismatch"},
      {"missing entry", [&] { nn::save(nn::Linear(4, 3, false), bad); }, "missing entry 'bias'"},
      {"other names",
       [&] {
         nn::Sequential wrapped{std::make_shared<nn::Linear>(4, 3)};
         nn::save(wrapped, bad);
       },
       "missing entry 'weight'"},
      {"dtype mismatch",
       [&] {
         nn::Linear wide(4, 3);
         wide.to(Dtype::Float64);
         nn::save(wide, bad);
       },
       "[load_state_dict] entry 'weight' is float64, expected float32"},
      {"shape mismatch", [&] { nn::save(nn::Linear(4, 5), bad); },
       "[load_state_dict] entry 'weight' has shape (5, 4), expected (3, 4)"},
      {"no such file", [&] { fs::remove(bad); }, "cannot open"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    c.write_bad();
    nn::Linear target(4, 3);
    const auto before = snapshot(target);
    CHECK_THROWS_AS(nn::load(target, bad), IoError);
    const std::string message = load_error([&] { nn::load(target, bad); });
    CHECK(message.find(bad) != std::string::npos);
    CHECK(message.find(c.expected) != std::string::npos);
    CHECK(snapshot(target) == before);
  }
  nn::Linear no_bias(4, 3, false);
  CHECK_THROWS_AS(nn::load(no_bias, good), IoError);
  CHECK(load_error([&] { nn::load(no_bias, good); }).find("unexpected entry 'bias'") != std::string::npos);
}

TEST_CASE("test_checkpoint: optimizer state saves, loads and is validated") {
  TempDir dir;
  Generator gen(3);
  const Tensor w0 = randn({5}, gen);
  Tensor a = w0.clone().requires_grad_(), b = w0.clone().requires_grad_();
  optim::SGD first({a}, {.lr = 0.1, .momentum = 0.9});
  const auto train = [](optim::Optimizer& opt, Tensor& w) {
    opt.zero_grad();
    sum(w * w).backward();
    opt.step();
  };
  train(first, a);
  optim::save(first, dir / "sgd.ckpt");
  b.detach().copy_(a.detach());
  optim::SGD second({b}, {.lr = 0.1, .momentum = 0.9});
  optim::load(second, dir / "sgd.ckpt");
  train(first, a);
  train(second, b);
  CHECK(a.to_vector() == b.to_vector());  // the momentum buffer came back
  optim::SGD two_groups(std::vector<optim::ParamGroup>{{.params = {b}}, {.params = {a}}}, {.lr = 0.1, .momentum = 0.9});
  CHECK_THROWS_AS(optim::load(two_groups, dir / "sgd.ckpt"), IoError);
  CHECK(load_error([&] {
          optim::load(two_groups, dir / "sgd.ckpt");
        }).find("[SGD.load_state_dict] entry 'lr' has shape (1,)") != std::string::npos);
  CHECK(two_groups.step_count(0) == 0);
}

TEST_CASE("test_checkpoint: load_checkpoint restores every part or none") {
  TempDir dir;
  Generator gen(4), other_gen(5);
  auto model = small_model(gen);
  optim::Adam opt(model->parameters(), {.lr = 0.01});
  optim::StepLR sched(opt, 1, 0.5);
  opt.zero_grad();
  sum((*model)(randn({4, 4}, gen))).backward();
  opt.step();
  sched.step();
  training::save_checkpoint(
      dir / "run.ckpt",
      {.model = model.get(), .optimizer = &opt, .scheduler = &sched, .generator = &gen, .epoch = 3, .step = 17});

  auto fresh = small_model(other_gen);
  optim::Adam fresh_opt(fresh->parameters(), {.lr = 0.01});
  const auto before = snapshot(*fresh);
  const auto gen_before = other_gen.state();
  training::Checkpoint partial{.model = fresh.get(), .optimizer = &fresh_opt, .generator = &other_gen};
  CHECK_THROWS_AS(training::load_checkpoint(dir / "run.ckpt", partial), IoError);  // the file has a scheduler part
  CHECK(load_error([&] {
          training::load_checkpoint(dir / "run.ckpt", partial);
        }).find("scheduler: [load_checkpoint] unexpected entry 'last_epoch' (no scheduler was given)") !=
        std::string::npos);
  CHECK(snapshot(*fresh) == before);
  CHECK(other_gen.state() == gen_before);
  CHECK(fresh_opt.step_count(0) == 0);
  CHECK(partial.epoch == 0);

  optim::StepLR fresh_sched(fresh_opt, 1, 0.5);
  training::Checkpoint no_generator{.model = fresh.get(), .optimizer = &fresh_opt, .scheduler = &fresh_sched};
  CHECK_THROWS_AS(training::load_checkpoint(dir / "run.ckpt", no_generator), IoError);
  CHECK(snapshot(*fresh) == before);

  training::Checkpoint full{
      .model = fresh.get(), .optimizer = &fresh_opt, .scheduler = &fresh_sched, .generator = &other_gen};
  training::load_checkpoint(dir / "run.ckpt", full);
  CHECK(snapshot(*fresh) == snapshot(*model));
  CHECK(other_gen.state() == gen.state());
  CHECK(fresh_sched.last_epoch() == 1);
  CHECK(fresh_opt.groups()[0].lr == opt.groups()[0].lr);
  CHECK(full.epoch == 3);
  CHECK(full.step == 17);
}

TEST_CASE("test_checkpoint: 2 epochs + checkpoint + 2 resumed epochs == 4 uninterrupted epochs, bit for bit") {
  TempDir dir;
  Generator data_gen(99);
  const Tensor X = randn({32, 4}, data_gen);       // (N, D)
  const Tensor Y = randint(0, 3, {32}, data_gen);  // (N)
  struct Run {
    Generator gen;
    std::shared_ptr<nn::Sequential> model = small_model(gen);
    optim::Adam opt{model->parameters(), {.lr = 0.01, .weight_decay = 1e-3}};
    optim::OneCycleLR sched{opt, {.max_lr = 0.05, .total_steps = 16}};
    explicit Run(uint64_t seed) : gen(seed) {}
  };
  const auto epoch = [&](Run& r) {  // 4 shuffled batches of 8, one scheduler step per batch
    const Tensor order = randperm(32, r.gen);
    for (int64_t b = 0; b < 32; b += 8) {
      const Tensor idx = order.slice(b, b + 8);
      const Tensor logits = (*r.model)(index_select(X, idx));  // (8, 3)
      const Tensor loss = -mean(gather(log_softmax(logits, 1), 1, index_select(Y, idx).reshape({-1, 1})));
      r.opt.zero_grad();
      loss.backward();
      r.opt.step();
      r.sched.step();
    }
  };
  Run straight(7);
  for (int e = 0; e < 4; ++e) epoch(straight);

  Run first(7);
  for (int e = 0; e < 2; ++e) epoch(first);
  training::save_checkpoint(dir / "resume.ckpt", {.model = first.model.get(),
                                                  .optimizer = &first.opt,
                                                  .scheduler = &first.sched,
                                                  .generator = &first.gen,
                                                  .epoch = 2,
                                                  .step = 8});
  Run resumed(12345);  // different initial weights and random stream until the load
  training::Checkpoint c{
      .model = resumed.model.get(), .optimizer = &resumed.opt, .scheduler = &resumed.sched, .generator = &resumed.gen};
  training::load_checkpoint(dir / "resume.ckpt", c);
  for (int64_t e = c.epoch; e < 4; ++e) epoch(resumed);
  CHECK(snapshot(*resumed.model) == snapshot(*straight.model));
  CHECK(resumed.sched.last_epoch() == 16);
  CHECK(resumed.gen.state() == straight.gen.state());
}

// A run on a Dataset through a split and a shuffling DataLoader, with dropout: stopped after
// `stop_after` steps (a checkpoint written there) or not at all, and resumed from a checkpoint
// into objects built from other seeds. Returns every step's loss and the final parameters.
struct DataRun {
  Generator gen;  // dropout's
  data::TrainValidationSplit parts;
  data::DataLoader loader;
  std::shared_ptr<nn::Sequential> model;
  optim::Adam opt;
  std::vector<float> losses;

  DataRun(const data::Dataset& all, uint64_t seed)
      : gen(seed),
        parts(split_of(all, seed)),
        loader(parts.train, {.batch_size = 7, .seed = seed}),
        model(std::make_shared<nn::Sequential>(
            nn::Sequential{std::make_shared<nn::Linear>(4, 8, true, gen), std::make_shared<nn::ReLU>(),
                           std::make_shared<nn::Dropout>(0.3, gen), std::make_shared<nn::Linear>(8, 3, true, gen)})),
        opt(model->parameters(), {.lr = 0.01}) {}
  static data::TrainValidationSplit split_of(const data::Dataset& all, uint64_t seed) {
    Generator split_gen(seed);
    return data::split(all, 10, split_gen);
  }
  training::Checkpoint checkpoint(int64_t epoch, int64_t step) {
    return {.model = model.get(),
            .optimizer = &opt,
            .generator = &gen,
            .loader = &loader,
            .split = &parts,
            .epoch = epoch,
            .step = step};
  }
  // Epochs from `epoch` to 3 (5 batches of 7 from 30 training examples each); a checkpoint after
  // step `stop_after` ends the run: mid-epoch it records this epoch, after an epoch's last batch the next.
  void train(int64_t epoch, int64_t step, int64_t stop_after, const fs::path& path) {
    for (; epoch < 3; ++epoch) {
      int64_t in_epoch = 0;
      for (const data::Batch& b : loader) {
        const Tensor loss = -mean(gather(log_softmax((*model)(b.images), 1), 1, b.labels.reshape({-1, 1})));
        opt.zero_grad();
        loss.backward();
        opt.step();
        losses.push_back(loss.item<float>());
        ++in_epoch;
        if (++step == stop_after) {
          const bool epoch_done = in_epoch == loader.num_batches();
          training::save_checkpoint(path, checkpoint(epoch_done ? epoch + 1 : epoch, step));
          return;
        }
      }
    }
  }
};

TEST_CASE("test_checkpoint: a DataLoader run stopped mid-epoch or between epochs resumes bit for bit") {
  TempDir dir;
  Generator pixels_gen(5);
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (int i = 0; i < 40; ++i) {
    for (int p = 0; p < 4; ++p) pixels.push_back(static_cast<uint8_t>(pixels_gen.uniform_int(0, 256)));
    labels.push_back(pixels_gen.uniform_int(0, 3));
  }
  const data::Dataset all(pixels, {2, 2}, labels, 3);

  DataRun straight(all, 1);
  straight.train(0, 0, -1, dir / "unused.ckpt");
  REQUIRE(straight.losses.size() == 15);

  for (const int64_t stop : {7, 5, 12}) {  // mid-epoch 2, right after epoch 1, mid-epoch 3
    CAPTURE(stop);
    DataRun first(all, 1);
    first.train(0, 0, stop, dir / "run.ckpt");
    DataRun resumed(all, 999);  // other weights, other split, other shuffles until the load
    CHECK(resumed.parts.validation.rows().to_vector() != straight.parts.validation.rows().to_vector());
    training::Checkpoint c = resumed.checkpoint(0, 0);
    training::load_checkpoint(dir / "run.ckpt", c);
    CHECK(c.step == stop);
    CHECK(resumed.parts.validation.rows().to_vector() == straight.parts.validation.rows().to_vector());
    resumed.losses = first.losses;
    resumed.train(c.epoch, c.step, -1, dir / "unused.ckpt");
    CHECK(resumed.losses == straight.losses);
    CHECK(snapshot(*resumed.model) == snapshot(*straight.model));
    CHECK(resumed.gen.state() == straight.gen.state());
  }
}

TEST_CASE("test_checkpoint: a loader's state is checked before anything is restored") {
  std::vector<uint8_t> pixels(12 * 4, 1);
  const data::Dataset all(pixels, {2, 2}, std::vector<int64_t>(12, 0), 1);
  data::DataLoader loader(all, {.batch_size = 5, .seed = 3});
  NamedTensors state = loader.state_dict();
  CHECK(state.size() == 4);
  data::DataLoader small(all.limit(6), {.batch_size = 5});
  CHECK_THROWS_AS(small.load_state_dict(state), ShapeError);  // another dataset size
  for (auto& [name, t] : state)
    if (name == "order") t = zeros({12}, Dtype::Int64);
  CHECK_THROWS_WITH_AS(loader.load_state_dict(state), doctest::Contains("'order' is not a permutation"), ValueError);
  for (auto& [name, t] : state) {
    if (name == "order") t = arange(12);
    if (name == "delivered") t = scalar_tensor(4, Dtype::Int64);
  }
  CHECK_THROWS_WITH_AS(loader.load_state_dict(state), doctest::Contains("'delivered' is 4, expected 0 to 3"),
                       ValueError);
  // An all-zero generator would shuffle every epoch alike, forever: refused by the check that runs
  // before load_checkpoint restores anything, so the model is left as it was.
  TempDir dir;
  Generator gen(5);
  nn::Linear model(2, 2, true, gen);
  training::save_checkpoint(dir / "run.ckpt", {.model = &model, .loader = &loader});
  NamedTensors entries = load_tensors(dir / "run.ckpt");
  for (auto& [name, t] : entries) {
    if (name == "loader.generator") t = zeros({5}, Dtype::Int64);
    if (name == "model.weight") t = full_like(t, 0.25);
  }
  save_tensors(entries, dir / "bad.ckpt");
  const auto before = snapshot(model);
  training::Checkpoint into{.model = &model, .loader = &loader};
  CHECK(load_error([&] {
          training::load_checkpoint(dir / "bad.ckpt", into);
        }).find("loader: [Generator::set_state] the four xoshiro256** words are all 0") != std::string::npos);
  CHECK(snapshot(model) == before);
}

}  // namespace test_checkpoint
