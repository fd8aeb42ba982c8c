// tests/test_study_cli.cpp — mnist_smoothing as a user meets it: every bad argument, data set and
// output folder is a clear error before any training, --help answers, --detect-anomaly names the
// op where a run goes bad, and a full disk leaves no partial or temporary file.
//
// The program runs as a child process on small IDX files written here (28×28 digits made of
// patterns), so none of this needs MNIST. Each case checks the exit status and the message, and that
// no training started (no "epoch" line) where the error must come first.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <humble/humble.hpp>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_study_cli {

namespace fs = std::filesystem;

#ifdef HUMBLE_STUDY_PROGRAM
using test_support::contains;

namespace {

struct Ran {
  int status;
  std::string output;  // stdout and stderr
};

// `program args` through /bin/sh, after `shell_prefix` (e.g. "ulimit -f 8;").
Ran run_study(const std::string& args, const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + " exec '" HUMBLE_STUDY_PROGRAM "' " + args + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string name = (fs::temp_directory_path() / "humble_study_XXXXXX").string();
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// An IDX file of uint8 values (big-endian sizes), optionally gzipped.
void write_idx(const std::string& path, const std::vector<uint32_t>& sizes, bool gzip = false) {
  std::string bytes{0, 0, 0x08, static_cast<char>(sizes.size())};
  std::size_t count = 1;
  for (uint32_t s : sizes) {
    for (int shift : {24, 16, 8, 0}) bytes += static_cast<char>((s >> shift) & 0xff);
    count *= s;
  }
  const bool labels = sizes.size() == 1;
  for (std::size_t i = 0; i < count; ++i) bytes += static_cast<char>(labels ? i % 10 : (i * 29) % 256);
  if (!gzip) {
    std::ofstream(path, std::ios::binary) << bytes;
    return;
  }
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

// A data folder: `train` training and `test` test images of the given sizes.
void write_data(const TempDir& dir, int64_t train, int64_t test, std::vector<uint32_t> train_hw = {28, 28},
                std::vector<uint32_t> test_hw = {28, 28}) {
  write_idx(dir / "train-images-idx3-ubyte", {static_cast<uint32_t>(train), train_hw[0], train_hw[1]});
  write_idx(dir / "train-labels-idx1-ubyte", {static_cast<uint32_t>(train)});
  write_idx(dir / "t10k-images-idx3-ubyte", {static_cast<uint32_t>(test), test_hw[0], test_hw[1]});
  write_idx(dir / "t10k-labels-idx1-ubyte", {static_cast<uint32_t>(test)});
}

}  // namespace

TEST_CASE("mnist_smoothing: --help prints the usage with every flag and exits 0") {
  const Ran r = run_study("--help");
  CHECK(r.status == 0);
  CHECK(contains(r.output, "Usage:"));
  for (const char* flag : {"--eps", "--lr", "--seed", "--out", "--detect-anomaly", "--reference-loss"})
    CHECK_MESSAGE(contains(r.output, flag), flag);
}

TEST_CASE("mnist_smoothing: each bad argument is a usage error naming the flag, before anything runs") {
  struct Case {
    const char* args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"--seed -1", "--seed: expected an integer in [0, 18446744073709551615], got '-1'"},
      {"--eps 0,,0.1", "--eps: item 2 of '0,,0.1' is empty"},
      {"--eps 0.1,", "--eps: item 2 of '0.1,' is empty"},
      {"--eps nan", "--eps: item 1: expected a finite number in [0, 1], got 'nan'"},
      {"--eps 0,1.5", "--eps: item 2: expected a finite number in [0, 1], got '1.5'"},
      {"--lr nan", "--lr: expected a finite number > 0, got 'nan'"},
      {"--lr abc", "--lr: expected a finite number > 0, got 'abc'"},
      {"--lr 1e999", "--lr: expected a finite number > 0, got '1e999'"},
      {"--lr 0", "--lr: expected a finite number > 0, got '0'"},
      {"--epochs 0", "--epochs: expected an integer in [1, 1000], got '0'"},
      {"--epochs 1.5", "--epochs: expected an integer in [1, 1000], got '1.5'"},
      {"--epochs 0x10", "--epochs: expected an integer in [1, 1000], got '0x10'"},
      {"--batch-size -3", "--batch-size: expected an integer in [1, 60000], got '-3'"},
      {"--train-limit 5x", "--train-limit: expected an integer in [0, 9223372036854775807], got '5x'"},
      {"--seed 18446744073709551615 --seeds 2", "--seeds: seed 18446744073709551615 plus 1 more seeds pass 2^64 - 1"},
      {"--model resnet", "--model: resnet not in {mlp,cnn}"},
      {"--no-such-flag", "The following argument was not expected: --no-such-flag"},
      {"--out ''", "--out: expected a folder, got ''"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Ran r = run_study(c.args);
    CHECK(r.status != 0);
    CHECK_MESSAGE(contains(r.output, c.message), r.output);
    CHECK(contains(r.output, "Run with --help for more information."));
    CHECK(r.output.size() < 400);  // no 309-digit range
  }
}

TEST_CASE("mnist_smoothing: a bad --out fails before the data is read or any training") {
  TempDir dir;
  std::ofstream(dir / "a-file") << "x";
  const Ran r = run_study("--data-dir " + (dir / "no-data") + " --out " + (dir / "a-file") + "/sub");
  CHECK(r.status == 1);
  CHECK(contains(r.output,
                 "mnist_smoothing: [mnist_smoothing] cannot create the output folder " + (dir / "a-file") + "/sub"));
  CHECK_FALSE(contains(r.output, "epoch"));
}

TEST_CASE("mnist_smoothing: data sets that cannot be trained on are errors before training") {
  struct Case {
    const char* name;
    std::function<void(const TempDir&)> write;
    std::string message;  // after "mnist_smoothing: ", with <dir> for the folder
  };
  const std::vector<Case> cases = {
      {"test images of another size",
       [](const TempDir& d) {
         write_data(d, 20, 5, {28, 28}, {14, 56});
       },
       "[mnist_smoothing] the test images in <dir> are 14×56 but the training images are 28×28"},
      {"images the models cannot take",
       [](const TempDir& d) {
         write_data(d, 20, 5, {14, 56}, {14, 56});
       },
       "[mnist_smoothing] the training images in <dir> are 14×56; the mlp and cnn models take 28×28 images"},
      {"fewer than 10 training images", [](const TempDir& d) { write_data(d, 7, 5); },
       "[mnist_smoothing] <dir> holds 7 training images; the study needs at least 10 (a tenth is held out to fit the "
       "temperature)"},
      {"/dev/zero as the image file",
       [](const TempDir& d) {
         write_data(d, 20, 5);
         fs::remove(d / "train-images-idx3-ubyte");
         fs::create_symlink("/dev/zero", d / "train-images-idx3-ubyte");
       },
       "[read_idx] <dir>/train-images-idx3-ubyte: expected element type 0x08 (uint8), found 0x00 (not an IDX type)"},
      {"a gzip file with trailing garbage",
       [](const TempDir& d) {
         write_data(d, 20, 5);
         fs::remove(d / "train-labels-idx1-ubyte");
         write_idx(d / "train-labels-idx1-ubyte.gz", {20}, true);
         std::ofstream(d / "train-labels-idx1-ubyte.gz", std::ios::app) << "trailing";
       },
       "more bytes follow that are not gzip data (a damaged or appended file)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    TempDir data, out;
    c.write(data);
    const Ran r = run_study("--data-dir " + data.path.string() + " --epochs 1 --out " + out.path.string());
    std::string message = c.message;
    for (std::size_t at; (at = message.find("<dir>")) != std::string::npos;) message.replace(at, 5, data.path.string());
    CHECK(r.status == 1);
    CHECK_MESSAGE(contains(r.output, message), r.output);
    CHECK_FALSE(contains(r.output, "epoch"));
  }
}

TEST_CASE("mnist_smoothing: a short run writes every output whole, and leaves no temporary file") {
  TempDir data, out;
  write_data(data, 30, 10);
  const Ran r = run_study("--data-dir " + data.path.string() + " --epochs 1 --batch-size 8 --eps 0,0.1 --out " +
                          out.path.string());
  REQUIRE_MESSAGE(r.status == 0, r.output);
  for (const char* file : {"metrics.json", "history.csv", "report.html", "reliability.svg"})
    CHECK_MESSAGE(fs::file_size(out / file) > 0, file);
  std::ifstream metrics(out / "metrics.json");
  CHECK(nlohmann::json::parse(metrics).at("runs").size() == 2);
  for (const auto& entry : fs::directory_iterator(out.path))
    CHECK_MESSAGE(!entry.path().filename().string().starts_with("."), entry.path().string());
}

TEST_CASE("mnist_smoothing: a full disk while writing the outputs is an error, and no file is partial") {
  // A full disk as ulimit -f makes it: writes past the limit fail with EFBIG (SIGXFSZ ignored). The
  // limit lets the smallest output through (its size from a run without one) but not the largest.
  TempDir data, sizes, out;
  write_data(data, 30, 10);
  const std::string args = "--data-dir " + data.path.string() + " --epochs 1 --batch-size 8 --out ";
  REQUIRE(run_study(args + sizes.path.string()).status == 0);
  uintmax_t largest = 0, smallest = UINTMAX_MAX;
  for (const auto& entry : fs::directory_iterator(sizes.path)) {
    largest = std::max(largest, fs::file_size(entry.path()));
    smallest = std::min(smallest, fs::file_size(entry.path()));
  }
  const uintmax_t blocks = smallest / 512 + 2;  // ulimit -f counts 512-byte blocks
  REQUIRE(largest > blocks * 512);
  // PMIX_MCA_gds=hash: Open MPI's start-up (when the program is built with MPI) would otherwise put
  // its shared-memory files under the same limit and abort before the program runs.
  const Ran r = run_study(args + out.path.string(),
                          "trap '' XFSZ; ulimit -f " + std::to_string(blocks) + "; export PMIX_MCA_gds=hash;");
  CHECK(r.status == 1);
  CHECK_MESSAGE(contains(r.output, "write failed: File too large"), r.output);
  int whole = 0;
  for (const auto& entry : fs::directory_iterator(out.path)) {
    const std::string name = entry.path().filename().string();
    CHECK_MESSAGE(!name.starts_with("."), name);  // no temporary file left
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string ending = name.ends_with(".svg")    ? "</svg>\n"
                               : name.ends_with(".json") ? "}\n"
                               : name.ends_with(".html") ? "</html>\n"
                                                         : "\n";
    CHECK_MESSAGE(text.ends_with(ending), name);  // every file whole
    ++whole;
  }
  CHECK(whole < std::distance(fs::directory_iterator(sizes.path), fs::directory_iterator()));
}

TEST_CASE("mnist_smoothing: --detect-anomaly stops the first op that turns finite values into inf or NaN") {
  TempDir data, out;
  write_data(data, 30, 10);
  // lr 1e30: after one Adam step the weights are ~1e30 and the next forward overflows float32.
  const Ran r = run_study("--data-dir " + data.path.string() +
                          " --epochs 1 --batch-size 8 --lr 1e30 --eps 0 "
                          "--detect-anomaly --out " +
                          out.path.string());
  CHECK(r.status == 1);
  CHECK(contains(r.output, "mnist_smoothing: anomaly mode"));
  CHECK_MESSAGE(contains(r.output, "mnist_smoothing: [anomaly] forward: "), r.output);
  CHECK(contains(r.output, "from finite inputs; called at:"));
}
#endif

}  // namespace test_study_cli
