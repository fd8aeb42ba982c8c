// tests/fuzz/fuzz_checkpoint.cpp — the checkpoint loaders: nn::load, optim::load and
// training::load_checkpoint (core/named_tensors.hpp's file format).
//
// Input: one byte of mode, then the file. Mode bits 0–1 pick the loader (0 model, 1 optimizer,
// 2–3 a whole run), bits 2–3 the optimizer (Adam, SGD, RMSprop), bit 4 the scheduler (StepLR or
// OneCycleLR), and bit 5 whether the rest is the whole file or only its payload, given a correct
// header and CRC here (so that mutations reach the entries instead of dying at the CRC check).
// Asserted: a load that fails throws IoError naming the file and leaves model, optimizer, scheduler
// and generator exactly as they were; a load that succeeds holds exactly the file's values (int64
// steps and epochs bit for bit) and only values a run can reach; the run then trains on.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <humble/humble.hpp>
#include <map>
#include <memory>

#include "checkpoint_run.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace humble;
using fuzz::expect;

const fuzz::ScratchDir scratch("humble-fuzz-checkpoint");
const std::string kFile = (scratch / "checkpoint").string();

// The header of docs/checkpoint-format.md for `payload`.
std::string with_header(const std::string& payload) {
  std::string file = "HMBLCKPT";
  const auto put = [&file](auto value) { file.append(reinterpret_cast<const char*>(&value), sizeof value); };
  put(uint32_t{1});
  put(static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size())));
  put(static_cast<uint64_t>(payload.size()));
  return file + payload;
}

// Every entry as name → (dtype, shape, bytes): equal means bit for bit.
using Bits = std::map<std::string, std::tuple<Dtype, Shape, std::string>>;
Bits bits_of(const NamedTensors& entries, const std::string& prefix = "") {
  Bits out;
  for (const auto& [name, t] : entries) {
    const Tensor c = t.detach().clone();
    out[prefix + name] = {c.dtype(), c.shape(),
                          std::string(static_cast<const char*>(c.raw_data()), c.numel() * dtype_size(c.dtype()))};
  }
  return out;
}

struct Snapshot {
  Bits model, optimizer, scheduler;
  std::vector<double> lrs, momenta;
  Generator::State generator;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const fuzz::CheckpointRun& run) {
  Snapshot s{bits_of(run.model->state_dict()),
             bits_of(run.optimizer->state_dict()),
             bits_of(run.scheduler->state_dict()),
             {},
             {},
             run.gen.state()};
  for (const auto& group : run.optimizer->groups()) {
    s.lrs.push_back(group.lr);
    s.momenta.push_back(group.momentum);
  }
  return s;
}

// Rules every state a run can reach obeys (the loaders' validation).
void expect_reachable(const fuzz::CheckpointRun& run) {
  for (const auto& [name, t] : run.model->named_parameters())
    for (double v : t.to_vector()) expect(std::isfinite(v), "a non-finite parameter was loaded: " + name);
  for (const auto& [name, t] : run.optimizer->state_dict()) {
    if (name.ends_with(".step")) {
      expect(int64_item(t) >= 1, "a step below 1 was loaded");
      continue;
    }
    const bool square = name == "lr" || name.ends_with("exp_avg_sq") || name.ends_with("square_avg");
    for (double v : t.to_vector())
      expect(std::isfinite(v) && (!square || v >= 0), "an impossible optimizer value was loaded: " + name);
  }
  expect(run.scheduler->last_epoch() >= 0, "a negative last_epoch was loaded");
  const Generator::State g = run.gen.state();
  expect((g[0] | g[1] | g[2] | g[3]) != 0, "an all-zero generator state was loaded");
}

// The six runs (optimizer × scheduler), each made once with its snapshot, and made again only after
// a load that succeeded: a failed load leaves its run exactly as it was (which is asserted), so the
// next input of that kind starts from the same state as a new run would.
struct Fixture {
  std::unique_ptr<fuzz::CheckpointRun> run;
  Snapshot before;
};
Fixture& fixture_for(int optimizer_kind, bool one_cycle) {
  static Fixture fixtures[6];
  Fixture& f = fixtures[optimizer_kind * 2 + (one_cycle ? 1 : 0)];
  if (!f.run) {
    f.run = std::make_unique<fuzz::CheckpointRun>(optimizer_kind, one_cycle);
    f.before = snapshot(*f.run);
  }
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  {
    std::ofstream out(kFile, std::ios::binary | std::ios::trunc);
    out << ((mode & 32) ? with_header(rest) : rest);
  }
  Fixture& fixture = fixture_for(((mode >> 2) & 3) % 3, (mode & 16) != 0);
  fuzz::CheckpointRun& run = *fixture.run;
  const Snapshot& before = fixture.before;
  const int loader = mode & 3;
  training::Checkpoint checkpoint = run.checkpoint();
  checkpoint.epoch = checkpoint.step = -7;  // load_checkpoint must set both, or neither on failure
  try {
    if (loader == 0) nn::load(*run.model, kFile);
    if (loader == 1) optim::load(*run.optimizer, kFile);
    if (loader >= 2) training::load_checkpoint(kFile, checkpoint);
  } catch (const IoError& e) {
    const std::string message = e.what();
    expect(message.starts_with("[load] " + kFile + ": "), "the error does not name the file: " + message);
    expect(snapshot(run) == before, "a failed load changed the run: " + message);
    expect(checkpoint.epoch == -7 && checkpoint.step == -7, "a failed load set epoch or step");
    return 0;
  }
  const std::unique_ptr<fuzz::CheckpointRun> loaded_run = std::move(fixture.run);  // made again next time
  // Loaded: the receivers hold exactly the file's values.
  Bits file = bits_of(load_tensors(kFile));
  Bits loaded;
  if (loader == 0) loaded = bits_of(run.model->state_dict());
  if (loader == 1) loaded = bits_of(run.optimizer->state_dict());
  if (loader >= 2) {
    loaded = bits_of(run.model->state_dict(), "model.");
    loaded.merge(bits_of(run.optimizer->state_dict(), "optimizer."));
    loaded.merge(bits_of(run.scheduler->state_dict(), "scheduler."));
    Tensor words = empty({5}, Dtype::Int64);
    const Generator::State state = run.gen.state();
    std::memcpy(words.raw_data(), state.data(), sizeof state);
    loaded.merge(bits_of(
        {{"generator", words}, {"epoch", int64_scalar(checkpoint.epoch)}, {"step", int64_scalar(checkpoint.step)}}));
    expect(checkpoint.epoch >= 0 && checkpoint.step >= 0, "a negative epoch or step was loaded");
  }
  if (loader >= 2) {  // the scheduler's lr(base, epoch) overrides the optimizer's stored lr, by design
    file.erase("optimizer.lr");
    loaded.erase("optimizer.lr");
  }
  // The generator's cached normal: NaN bits of any kind mean none, which the generator then holds
  // (and saves) as the one NaN it writes.
  if (const auto g = file.find("generator");
      g != file.end() && std::get<2>(g->second).size() == sizeof(Generator::State)) {
    std::string& words = std::get<2>(g->second);
    double spare;
    std::memcpy(&spare, words.data() + 4 * sizeof(uint64_t), sizeof spare);
    if (std::isnan(spare)) {
      const uint64_t none = Generator(1).state()[4];
      std::memcpy(words.data() + 4 * sizeof(uint64_t), &none, sizeof none);
    }
  }
  expect(loaded == file, "the loaded state differs from the file's entries");
  expect_reachable(run);
  try {  // and the run goes on: only humble's own errors may stop it (OneCycleLR past its end)
    run.step();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
