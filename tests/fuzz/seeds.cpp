// tests/fuzz/seeds.cpp — writes the seed corpus of every fuzz target: fuzz_seeds tests/fuzz/corpus
//
// Each target's folder gets ordinary inputs (valid files and problems, to start from) and the bad
// inputs humble must reject or handle, named after what they are: the regression inputs of the
// hardening work (gzip with trailing garbage, a checkpoint with a negative lr, [[1e308, 1e308]], a
// subnormal temperature, "--seed -1", …). The committed corpus is this program's output; rerun it
// after changing an input format. libFuzzer adds what it finds to its own working copy (scripts/fuzz).
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "checkpoint_run.hpp"

namespace {

using namespace humble;
namespace fs = std::filesystem;
using Bytes = std::string;

fs::path root;

void seed(const std::string& target, const std::string& name, const Bytes& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary | std::ios::trunc) << bytes;
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------------------------------------
// IDX files

Bytes idx(const std::vector<uint32_t>& sizes, std::size_t payload) {
  Bytes out{0, 0, 0x08, static_cast<char>(sizes.size())};
  for (uint32_t s : sizes)
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((s >> shift) & 0xff);
  for (std::size_t i = 0; i < payload; ++i) out += static_cast<char>(i * 37 % 251);
  return out;
}

Bytes gzip(const Bytes& bytes) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, bytes.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void idx_seeds() {
  seed("idx", "labels", idx({10}, 10));
  seed("idx", "images", idx({3, 4, 5}, 60));
  seed("idx", "four-dims", idx({2, 1, 2, 3}, 12));
  seed("idx", "truncated-payload", idx({3, 4, 5}, 59));
  seed("idx", "trailing-bytes", idx({10}, 11));
  seed("idx", "truncated-header", idx({3, 4, 5}, 0).substr(0, 10));
  seed("idx", "huge-sizes", idx({0xffffffff, 0xffffffff, 0xffffffff}, 4));
  seed("idx", "size-zero", idx({3, 0}, 0));
  seed("idx", "float-type", Bytes{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  seed("idx", "gzip", gzip(idx({3, 4, 5}, 60)));
  seed("idx", "gzip-trailing-garbage", gzip(idx({10}, 10)) + "garbage");
  seed("idx", "gzip-two-members", gzip(idx({10}, 4)) + gzip(Bytes(6, '\x07')));
  seed("idx", "gzip-cut-short", gzip(idx({3, 4, 5}, 60)).substr(0, 30));
  seed("idx", "empty", "");
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: one mode byte (fuzz_checkpoint.cpp), then the file or, with bit 5, its payload.

Bytes saved(const std::function<void(const std::string&)>& save) {
  const fs::path path = fs::temp_directory_path() / "humble-fuzz-seed.ckpt";
  save(path.string());
  Bytes bytes = read_file(path);
  fs::remove(path);
  return bytes;
}

// A run's whole checkpoint, with `edit` applied to its entries first.
Bytes run_checkpoint(int optimizer, bool one_cycle, const std::function<void(NamedTensors&)>& edit = {}) {
  fuzz::CheckpointRun run(optimizer, one_cycle);
  return saved([&](const std::string& path) {
    training::save_checkpoint(path, run.checkpoint());
    if (!edit) return;
    NamedTensors entries = load_tensors(path);
    edit(entries);
    save_tensors(entries, path);
  });
}

Tensor& entry(NamedTensors& entries, const std::string& name) {
  for (auto& [n, t] : entries)
    if (n == name) return t;
  throw ValueError("no entry " + name);
}

void checkpoint_seeds() {
  constexpr char kPayloadOnly = 32;
  for (int optimizer = 0; optimizer < 3; ++optimizer)
    for (const bool one_cycle : {false, true}) {
      const char kind = static_cast<char>(optimizer << 2 | (one_cycle ? 16 : 0));
      const Bytes file = run_checkpoint(optimizer, one_cycle);
      const std::string name = std::to_string(optimizer) + (one_cycle ? "-one-cycle" : "-step");
      seed("checkpoint", "run-" + name, Bytes{static_cast<char>(kind | 2 | kPayloadOnly)} + file.substr(24));
      seed("checkpoint", "run-file-" + name, Bytes{static_cast<char>(kind | 2)} + file);
    }
  fuzz::CheckpointRun run(0, false);
  seed("checkpoint", "model",
       Bytes{kPayloadOnly} + saved([&](const std::string& p) { nn::save(*run.model, p); }).substr(24));
  seed("checkpoint", "optimizer",
       Bytes{1 | kPayloadOnly} + saved([&](const std::string& p) { optim::save(*run.optimizer, p); }).substr(24));
  // The impossible states a loader once accepted, and int64 values a double cannot hold.
  const auto bad = [&](const std::string& name, const std::function<void(NamedTensors&)>& edit) {
    seed("checkpoint", name, Bytes{2 | kPayloadOnly} + run_checkpoint(0, false, edit).substr(24));
  };
  bad("negative-lr", [](NamedTensors& e) { entry(e, "optimizer.lr").fill_(-1); });
  bad("nan-lr", [](NamedTensors& e) { entry(e, "optimizer.lr").fill_(NAN); });
  bad("nan-base-lr", [](NamedTensors& e) { entry(e, "scheduler.base_lrs").fill_(NAN); });
  bad("adam-step-zero", [](NamedTensors& e) { *entry(e, "optimizer.state.0.step").data<int64_t>() = 0; });
  bad("adam-step-max", [](NamedTensors& e) { *entry(e, "optimizer.state.0.step").data<int64_t>() = INT64_MAX; });
  bad("negative-exp-avg-sq", [](NamedTensors& e) { entry(e, "optimizer.state.1.exp_avg_sq").fill_(-1); });
  bad("negative-epoch", [](NamedTensors& e) { *entry(e, "epoch").data<int64_t>() = -1; });
  bad("step-2^53+1", [](NamedTensors& e) { *entry(e, "step").data<int64_t>() = (int64_t{1} << 53) + 1; });
  bad("epoch-int64-max", [](NamedTensors& e) { *entry(e, "epoch").data<int64_t>() = INT64_MAX; });
  bad("last-epoch-int64-max", [](NamedTensors& e) { *entry(e, "scheduler.last_epoch").data<int64_t>() = INT64_MAX; });
  bad("zero-generator", [](NamedTensors& e) { entry(e, "generator").fill_(0); });
  bad("generator-no-spare-as-another-nan",
      [](NamedTensors& e) { entry(e, "generator").data<int64_t>()[4] = int64_t{0x7ff8000000000000}; });
  bad("nan-weight", [](NamedTensors& e) { entry(e, "model.0.weight").fill_(NAN); });
  seed("checkpoint", "bad-magic", Bytes{2} + "XMBLCKPT" + Bytes(16, '\0'));
  seed("checkpoint", "empty", Bytes{2});
}

// ---------------------------------------------------------------------------------------------
// Loss and metrics problems (fuzz_loss.cpp, fuzz_metrics.cpp read them with fuzz_input.hpp): an
// ordinary value is two bytes (a kind below 200, then v·8 + 128), a raw double nine (kind 200).

Bytes ordinary(double v) { return Bytes{0, static_cast<char>(static_cast<int>(v * 8 + 128))}; }
Bytes raw_double(double v) {
  Bytes out{static_cast<char>(200)};
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}
Bytes u16(int v) { return Bytes{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
Bytes label(int y) { return u16(y + 2); }  // fuzz_loss reads class indices from -2 on

void loss_seeds() {
  // flags: bit 0 float64, 1 probabilities, 2 weights, 3 ignoring, 4–5 reduction, 6 OtherClasses, 7 (N, C, d).
  const auto problem = [](uint8_t flags, uint8_t more, int n, int c, const std::vector<Bytes>& logits, Bytes rest) {
    Bytes out{static_cast<char>(flags), static_cast<char>(more)};
    out += u16(n) + u16(c);
    for (const Bytes& z : logits) out += z;
    return out + rest;
  };
  std::vector<Bytes> twelve;
  for (int i = 0; i < 12; ++i) twelve.push_back(ordinary((i % 5) - 2.5));
  for (uint8_t flags : {0, 1, 2, 3, 4, 5, 8, 16, 17, 33, 64, 65, 128, 129})
    seed("loss", "problem-" + std::to_string(flags),
         problem(flags, 0, 4, 3, twelve, Bytes{2} + label(0) + label(1) + label(2) + label(1)));
  seed("loss", "1e308-pair", problem(1, 0, 1, 2, {raw_double(1e308), raw_double(1e308)}, Bytes{0} + label(0)));
  seed("loss", "1e308-pair-eps", problem(1, 0, 1, 2, {raw_double(1e308), raw_double(1e308)}, Bytes{2} + label(0)));
  seed("loss", "spread-beyond-float64",
       problem(1, 0, 1, 2, {raw_double(1e308), raw_double(-1e308)}, Bytes{2} + label(0)));
  seed("loss", "subnormal-weight",
       problem(5, 2, 1, 2, {ordinary(1), ordinary(2)}, Bytes{0} + raw_double(5e-324) + ordinary(1) + label(0)));
  seed("loss", "zero-total-weight",
       problem(5, 0, 1, 2, {ordinary(1), ordinary(2)}, Bytes{2} + ordinary(0) + ordinary(1) + label(0)));
  seed("loss", "nan-logit", problem(1, 0, 1, 2, {raw_double(NAN), ordinary(1)}, Bytes{0} + label(0)));
  seed("loss", "float32-overflow", problem(0, 0, 1, 2, {raw_double(3e38), raw_double(-3e38)}, Bytes{0} + label(1)));
  // Float64 rows whose sums over z − m (Σ d, or an NLL weighted by 1 − ε) pass the range while the
  // loss fits; and such a row before one that does not fit, which the error must name.
  constexpr double kMax = std::numeric_limits<double>::max();
  seed("loss", "float64-sum-of-d-past-range-loss-fits",
       problem(1 | 16, 0, 1, 3, {raw_double(kMax), ordinary(0), ordinary(0)}, Bytes{2} + label(0)));
  seed("loss", "float64-weighted-nll-past-range-loss-fits",
       problem(1 | 4 | 32, 1, 1, 2, {raw_double(-1.5e308), ordinary(0)},
               raw_double(0.9) + ordinary(1.5) + ordinary(1) + label(0)));
  seed("loss", "float64-row-that-fits-before-one-that-does-not",
       problem(1, 0, 3, 3,
               {ordinary(1), ordinary(2), ordinary(3), raw_double(kMax), ordinary(0), ordinary(0), raw_double(kMax),
                raw_double(-kMax), ordinary(0)},
               Bytes{2} + label(0) + label(0) + label(0)));
  // A subnormal weight on a far logit: w·q′ underflows, w·(q′·(lse − z)) does not.
  seed("loss", "float64-subnormal-weight-on-far-logit",
       problem(1 | 4 | 32, 1 | 2, 1, 2, {raw_double(-1.5e308), ordinary(0)},
               raw_double(6.5861027823266405e-45) + raw_double(2.172925741087659e-311) + ordinary(0.125) + label(1)));
  seed("loss", "float64-subnormal-weight-tiny-probability",
       problem(1 | 2 | 4 | 32, 2 | 8, 1, 2, {raw_double(-1.5e308), ordinary(0)},
               Bytes{0} + raw_double(2.172925741087659e-311) + ordinary(0.125) + raw_double(1e-300) +
                   raw_double(1 - 1e-300)));
  // Weights whose sum passes float64 while S = Σ w q′ fits: the gradient must too.
  seed("loss", "float64-weights-summing-past-range",
       problem(1 | 4 | 32, 2, 1, 3, {ordinary(0), ordinary(0), ordinary(0)},
               Bytes{2} + raw_double(kMax / 2) + raw_double(kMax / 2) + raw_double(kMax / 2) + label(0)));
  // A mean of subnormal losses (every number after the first two logits is 233·denorm_min, kind 233):
  // the paths differ by an ulp of a subnormal, which is more than rtol of it.
  seed("loss", "float64-subnormal-mean",
       problem(0xaf, 0, 5, 2, {u16(4) /* d = 2 */, ordinary(-15.5), ordinary(-16)}, Bytes(96, '\xe9')));
  // A mean under weights whose Σ w_y passes float64 (the tolerance's bound on the gradient's terms
  // was 0 once), ε = 1: rows of equal logits, whose gradient is 0 up to rounding, and rows of −DBL_MAX.
  {
    std::vector<Bytes> z;
    const auto add = [&z](const Bytes& v, int n) { z.insert(z.end(), n, v); };
    add(ordinary(-5.625), 18);
    for (double v : {10.875, -15.5, -15.625, -4.625}) add(ordinary(v), 1);
    add(ordinary(-1.5), 27);
    add(ordinary(-16), 2);
    add(raw_double(-kMax), 15);
    Bytes rest{4};  // ε = 1
    for (int c = 0; c < 11; ++c) rest += raw_double(kMax);
    for (int y : {2, 9, 2, 1, 2, 1}) rest += label(y);
    seed("loss", "float64-mean-of-weights-past-range", problem(1 | 4 | 16, 0, 6, 11, z, rest));
  }
  // OtherClasses, ε = 1, the target's float32 logit −FLT_MAX (kind 210, then a 0: the negative one):
  // Σ_{c≠y} d must not be taken as Σ d − d_y.
  seed("loss", "float32-other-classes-target-far-below",
       problem(16 | 64, 0, 1, 8,
               {ordinary(-0.875), ordinary(-4.125), Bytes{static_cast<char>(210), 0}, ordinary(-16), ordinary(-3.125),
                ordinary(-3.125), ordinary(-3.625), ordinary(13.25)},
               Bytes{4} + label(2)));
  seed("loss", "empty-batch-int64-weight",
       problem(
           4 | 16, 4, 0, 10, {}, Bytes{0} + [] {
             Bytes weights;
             for (int c = 0; c < 10; ++c) weights += u16(1);
             return weights;
           }()));
}

void metrics_seeds() {
  // flags: bit 0 float64, 1 labels out of range, 2 raw temperature, 3 raw bins.
  const auto problem = [](uint8_t flags, int n, int c, const std::vector<Bytes>& logits, const Bytes& rest) {
    Bytes out{static_cast<char>(flags)};
    out += u16(n) + u16(c - 1);
    for (const Bytes& z : logits) out += z;
    return out + rest;
  };
  std::vector<Bytes> eight;
  for (int i = 0; i < 8; ++i) eight.push_back(ordinary((i * 3 % 7) - 3));
  const Bytes labels = u16(0) + u16(1) + u16(1) + u16(0);
  for (uint8_t flags : {0, 1})
    seed("metrics", "problem-" + std::to_string(flags), problem(flags, 4, 2, eight, labels + Bytes{32} + u16(15)));
  seed("metrics", "subnormal-temperature", problem(5, 4, 2, eight, labels + raw_double(1e-310) + u16(15)));
  seed("metrics", "huge-bins", problem(9, 4, 2, eight, labels + Bytes{32} + Bytes(8, '\x7f')));
  seed("metrics", "large-logits",
       problem(1, 2, 2, {raw_double(1e308), raw_double(-1e308), raw_double(1e17), ordinary(0)},
               u16(1) + u16(0) + Bytes{32} + u16(15)));
  seed("metrics", "ruled-out",
       problem(1, 2, 2, {ordinary(0), raw_double(-INFINITY), ordinary(1), ordinary(1)},
               u16(1) + u16(1) + Bytes{32} + u16(15)));
}

void study_args_seeds() {
  const auto args = [](const std::vector<std::string>& list) {
    Bytes out;
    for (std::size_t i = 0; i < list.size(); ++i) out += (i ? Bytes(1, '\0') : Bytes()) + list[i];
    return out;
  };
  seed("study_args", "defaults", "");
  seed("study_args", "help", args({"--help"}));
  seed("study_args", "everything",
       args({"--dataset",
             "fashion",
             "--model",
             "cnn",
             "--epochs",
             "2",
             "--batch-size",
             "64",
             "--optimizer",
             "sgd",
             "--lr",
             "0.01",
             "--eps",
             "0,0.05,0.1",
             "--loss",
             "focal",
             "--seed",
             "3",
             "--seeds",
             "2",
             "--threads",
             "1",
             "--train-limit",
             "500",
             "--out",
             "o",
             "--reference-loss",
             "--detect-anomaly"}));
  seed("study_args", "seed-minus-one", args({"--seed", "-1"}));
  seed("study_args", "eps-empty-item", args({"--eps", "0,,0.1"}));
  seed("study_args", "lr-nan", args({"--lr", "nan"}));
  seed("study_args", "eps-nan", args({"--eps", "nan"}));
  seed("study_args", "lr-abc", args({"--lr", "abc"}));
  seed("study_args", "epochs-octal", args({"--epochs", "010"}));
  seed("study_args", "seeds-past-2^64", args({"--seed", "18446744073709551615", "--seeds", "2"}));
  seed("study_args", "equals-form", args({"--epochs=3", "--lr=1e-3"}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR\n");
    return 1;
  }
  root = argv[1];
  idx_seeds();
  checkpoint_seeds();
  loss_seeds();
  metrics_seeds();
  study_args_seeds();
  return 0;
}
