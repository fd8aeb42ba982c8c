// tests/test_data.cpp — the data layer: IDX reading (raw and gzipped), its error messages, the
// MNIST split loader, Dataset batches and splits, and DataLoader epochs.
//
// IDX files are written by hand into a fresh temporary folder per test. The real MNIST test split
// is checked only when HUMBLE_REAL_DATA=1 (set by the test script after scripts/fetch-data); then
// missing files are a failure, not a skip. Label counts from shared/DATA.md.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <humble/data/dataset.hpp>
#include <humble/data/idx.hpp>
#include <humble/humble.hpp>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_data {

namespace fs = std::filesystem;
using humble::IoError;
using humble::ValueError;
using humble::data::DataLoader;
using humble::data::DataLoaderOptions;
using humble::data::Dataset;
using humble::data::ImageLayout;
using test_support::contains;

namespace {

constexpr uint8_t kUint8 = 0x08;

// A fresh folder under the system's temporary directory, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("humble_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// An IDX file's bytes: magic 00 00 type dims, big-endian uint32 sizes, then the payload.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& sizes, const std::vector<uint8_t>& payload,
                               uint8_t type = kUint8) {
  std::vector<uint8_t> bytes{0, 0, type, static_cast<uint8_t>(sizes.size())};
  for (uint32_t size : sizes) {
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<uint8_t>(size >> shift));
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

std::vector<uint8_t> pattern(std::size_t count) {  // 0, 7, 14, ... mod 256
  std::vector<uint8_t> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<uint8_t>(i * 7);
  return values;
}

void write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

// Runs `action`, checks that it throws `Error`, and returns the message for further checks.
template <class Error, class Action>
std::string thrown_message(Action action) {
  std::string message;
  auto run = [&] {
    try {
      action();
    } catch (const Error& error) {
      message = error.what();
      throw;
    }
  };
  CHECK_THROWS_AS(run(), Error);
  return message;
}

std::vector<int64_t> labels_of(const humble::Tensor& labels) {
  const int64_t* p = labels.data<int64_t>();
  return {p, p + labels.numel()};
}

// N one-pixel examples whose label is their index, so labels identify examples.
Dataset numbered_dataset(int64_t count) {
  std::vector<int64_t> labels(count);
  std::iota(labels.begin(), labels.end(), int64_t{0});
  return Dataset(std::vector<uint8_t>(count, 0), {1, 1}, labels, count);
}

std::vector<int64_t> all_labels(const Dataset& dataset) {
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < dataset.size(); ++i) labels.push_back(dataset.label(i));
  return labels;
}

std::vector<std::vector<int64_t>> epoch_batches(DataLoader& loader) {
  std::vector<std::vector<int64_t>> batches;
  for (const humble::data::Batch& batch : loader) batches.push_back(labels_of(batch.labels));
  return batches;
}

}  // namespace

TEST_CASE("read_idx reads raw and gzipped uint8 files exactly") {
  TempDir dir;
  const std::vector<uint8_t> payload = pattern(2000 * 28 * 28);  // over zlib's 1 MiB read chunk
  const std::vector<uint8_t> bytes = idx_bytes({2000, 28, 28}, payload);
  write_raw(dir / "images-idx3-ubyte", bytes);
  write_gzip(dir / "images-idx3-ubyte.gz", bytes);
  for (const std::string name : {"images-idx3-ubyte", "images-idx3-ubyte.gz"}) {
    CAPTURE(name);
    const humble::data::IdxArray array = humble::data::read_idx(dir / name);
    CHECK(array.sizes == std::vector<int64_t>{2000, 28, 28});
    CHECK(array.values == payload);
  }

  write_raw(dir / "labels", idx_bytes({3}, {9, 0, 4}));
  const humble::data::IdxArray labels = humble::data::read_idx(dir / "labels");
  CHECK(labels.sizes == std::vector<int64_t>{3});
  CHECK(labels.values == std::vector<uint8_t>{9, 0, 4});
}

TEST_CASE("read_idx rejects malformed files with IoError naming the file, what was expected and found") {
  TempDir dir;
  const std::string path = dir / "broken-idx";
  auto check_rejected = [&](const std::vector<std::string>& phrases) {
    const std::string message = thrown_message<IoError>([&] { humble::data::read_idx(path); });
    CHECK(contains(message, path));
    for (const std::string& phrase : phrases) CHECK_MESSAGE(contains(message, phrase), message);
  };

  SUBCASE("wrong magic") {
    write_raw(path, {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5});
    check_rejected({"not an IDX file", "00 00 08", "found 12 34 08 01"});
  }
  SUBCASE("wrong type code") {
    write_raw(path, idx_bytes({2}, {0, 0, 0, 0, 0, 0, 0, 0}, 0x0D));
    check_rejected({"expected element type 0x08 (uint8)", "found 0x0d (float32)"});
  }
  SUBCASE("too many dimensions") {
    write_raw(path, idx_bytes({1, 1, 1, 1, 1}, {0}));
    check_rejected({"expected 1 to 4 dimensions", "header says 5"});
  }
  SUBCASE("no dimensions") {
    write_raw(path, idx_bytes({}, {}));
    check_rejected({"expected 1 to 4 dimensions", "header says 0"});
  }
  SUBCASE("a size of zero") {
    write_raw(path, idx_bytes({3, 0}, {}));
    check_rejected({"dimension 1 has size 0"});
  }
  SUBCASE("truncated header") {
    write_raw(path, {0, 0, 0x08, 0x03, 0, 0, 0, 2});
    check_rejected({"truncated header", "need 16 bytes", "holds 8"});
  }
  SUBCASE("truncated payload") {
    write_raw(path, idx_bytes({2, 3, 4}, pattern(20)));
    check_rejected({"truncated", "2×3×4 = 24 bytes", "holds 20"});
  }
  SUBCASE("trailing bytes") {
    write_raw(path, idx_bytes({2, 3}, pattern(7)));
    check_rejected({"trailing bytes", "2×3 = 6 bytes", "holds 7"});
  }
  SUBCASE("truncated payload inside a gzip file") {
    write_gzip(path, idx_bytes({10}, pattern(9)));
    check_rejected({"truncated", "10 = 10 bytes", "decompressed file holds 9"});
  }
  SUBCASE("gzip stream cut short") {
    write_gzip(path + ".full", idx_bytes({1000}, pattern(1000)));
    std::ifstream in(path + ".full", std::ios::binary);
    std::vector<uint8_t> compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    compressed.resize(compressed.size() / 2);
    write_raw(path, compressed);
    check_rejected({"gzip stream ends early"});
  }
  SUBCASE("empty file") {
    write_raw(path, {});
    check_rejected({"empty", "holds 0 bytes"});
  }
  SUBCASE("missing file") { check_rejected({"cannot open", "No such file"}); }
  SUBCASE("a folder") {
    fs::create_directories(path);
    check_rejected({"cannot read"});
  }
}

TEST_CASE("read_idx reads concatenated gzip members as one file, like gzip -d") {
  TempDir dir;
  const std::vector<uint8_t> whole = idx_bytes({10}, pattern(10));
  write_gzip(dir / "first", std::vector<uint8_t>(whole.begin(), whole.begin() + 9));
  write_gzip(dir / "second", std::vector<uint8_t>(whole.begin() + 9, whole.end()));
  std::ifstream a(dir / "first", std::ios::binary), b(dir / "second", std::ios::binary);
  std::vector<uint8_t> joined((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
  joined.insert(joined.end(), std::istreambuf_iterator<char>(b), std::istreambuf_iterator<char>());
  write_raw(dir / "joined.gz", joined);
  CHECK(humble::data::read_idx(dir / "joined.gz").values == pattern(10));
}

TEST_CASE("read_idx rejects gzip files with trailing garbage, corrupt gzip data and files that never end") {
  TempDir dir;
  const std::string path = dir / "file-idx1-ubyte.gz";
  const auto compressed = [&](const std::vector<uint8_t>& bytes) {
    write_gzip(path, bytes);
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::vector<uint8_t> gz = compressed(idx_bytes({10}, pattern(10)));
  const std::size_t member = gz.size();
  // Trailing garbage after a complete member (gzread passed over it silently).
  std::vector<uint8_t> garbage = gz;
  garbage.insert(garbage.end(), {'j', 'u', 'n', 'k', '!', '\n', 0});
  write_raw(path, garbage);
  CHECK(thrown_message<IoError>([&] { humble::data::read_idx(path); }) ==
        humble::str_cat("[read_idx] ", path, ": the gzip data ends at byte ", member,
                        " but 7 more bytes follow that are not gzip data (a damaged or appended file)"));
  // A damaged byte inside the deflate stream, or in the CRC at its end.
  std::vector<uint8_t> damaged = gz;
  damaged[member - 6] ^= 0x55;
  write_raw(path, damaged);
  CHECK(thrown_message<IoError>([&] {
          humble::data::read_idx(path);
        }).starts_with(humble::str_cat("[read_idx] ", path, ": corrupt gzip data: ")));
  // /dev/zero never ends: its first four bytes are no IDX header, and nothing more is read.
  CHECK(thrown_message<IoError>([&] { humble::data::read_idx("/dev/zero"); }) ==
        "[read_idx] /dev/zero: expected element type 0x08 (uint8), found 0x00 (not an IDX type)");
  // A header promising 2^32 − 1 × 2^30 bytes (4.6e18) in a short file: truncated, without allocating them.
  write_raw(dir / "promise", idx_bytes({0xffffffff, 0x40000000}, pattern(3)));
  CHECK(contains(thrown_message<IoError>([&] { humble::data::read_idx(dir / "promise"); }),
                 "truncated: header says 4294967295×1073741824 = 4611686017353646080 bytes of data, file holds 3"));
}

TEST_CASE("load_mnist_split reads image and label data files, raw or gzipped, preferring raw files") {
  TempDir dir;
  write_raw(dir / "t10k-images-idx3-ubyte", idx_bytes({3, 2, 2}, pattern(12)));
  write_gzip(dir / "t10k-labels-idx1-ubyte.gz", idx_bytes({3}, {7, 2, 1}));
  write_gzip(dir / "t10k-images-idx3-ubyte.gz", idx_bytes({3, 2, 2}, std::vector<uint8_t>(12, 255)));

  const Dataset test = humble::data::load_mnist_split(dir.path.string(), "t10k");
  CHECK(test.size() == 3);
  CHECK(test.image_shape() == humble::Shape{2, 2});
  CHECK(test.num_classes() == 10);
  CHECK(all_labels(test) == std::vector<int64_t>{7, 2, 1});
  const humble::data::Batch batch = test.batch(std::vector<int64_t>{1});
  CHECK(batch.images.to_vector()[0] == doctest::Approx(28.0 / 255.0));  // pattern(12)[4], not the .gz's 255
}

TEST_CASE("load_mnist_split rejects data files that do not belong together") {
  TempDir dir;
  const std::string images = dir / "train-images-idx3-ubyte";
  const std::string labels = dir / "train-labels-idx1-ubyte";
  auto load = [&] { humble::data::load_mnist_split(dir.path.string(), "train"); };

  SUBCASE("image and label counts differ") {
    write_raw(images, idx_bytes({3, 2, 2}, pattern(12)));
    write_raw(labels, idx_bytes({2}, {1, 2}));
    const std::string message = thrown_message<IoError>(load);
    CHECK(contains(message, images));
    CHECK(contains(message, labels));
    CHECK(contains(message, "3 images"));
    CHECK(contains(message, "2 labels"));
  }
  SUBCASE("a label outside [0, 9]") {
    write_raw(images, idx_bytes({3, 2, 2}, pattern(12)));
    write_raw(labels, idx_bytes({3}, {1, 10, 2}));
    const std::string message = thrown_message<IoError>(load);
    CHECK(contains(message, labels));
    CHECK(contains(message, "expected labels in [0, 9], found 10 at index 1"));
  }
  SUBCASE("images without rows and columns") {
    write_raw(images, idx_bytes({3}, {1, 2, 3}));
    write_raw(labels, idx_bytes({3}, {1, 2, 3}));
    const std::string message = thrown_message<IoError>(load);
    CHECK(contains(message, images));
    CHECK(contains(message, "3 dimensions"));
  }
  SUBCASE("missing files point to scripts/fetch-data") {
    const std::string message = thrown_message<IoError>(load);
    CHECK(contains(message, images));
    CHECK(contains(message, "scripts/fetch-data"));
  }
  SUBCASE("an unknown split name") {
    const std::string message =
        thrown_message<ValueError>([&] { humble::data::load_mnist_split(dir.path.string(), "test"); });
    CHECK(contains(message, "\"test\""));
  }
}

TEST_CASE("Dataset batch converts uint8 pixels to Float32 in [0, 1] in either layout") {
  // Three 2×2 images; image i holds 4i .. 4i+3 scaled by 17 (0 .. 187), plus a white one.
  std::vector<uint8_t> pixels(16);
  for (int i = 0; i < 12; ++i) pixels[i] = static_cast<uint8_t>(17 * i);
  std::fill(pixels.begin() + 12, pixels.end(), 255);
  const Dataset dataset(pixels, {2, 2}, {3, 1, 4, 1}, 5);
  const std::vector<int64_t> indices{3, 0};

  const auto [flat_images, labels] = dataset.batch(indices);
  CHECK(flat_images.dtype() == humble::Dtype::Float32);
  CHECK(flat_images.shape() == humble::Shape{2, 4});
  CHECK(flat_images.to_vector() == std::vector<double>{1, 1, 1, 1, 0, 17 / 255.0f, 34 / 255.0f, 51 / 255.0f});
  CHECK(labels.dtype() == humble::Dtype::Int64);
  CHECK(labels.shape() == humble::Shape{2});
  CHECK(labels_of(labels) == std::vector<int64_t>{1, 3});

  const humble::data::Batch planar = dataset.batch(indices, ImageLayout::NCHW);
  CHECK(planar.images.shape() == humble::Shape{2, 1, 2, 2});
  CHECK(planar.images.to_vector() == flat_images.to_vector());

  CHECK(contains(thrown_message<ValueError>([&] {
                   dataset.batch(std::vector<int64_t>{0, 4});
                 }),
                 "index 4 is outside [0, 4)"));
  // No indices: a batch of 0 rows (a data-parallel shard's part of a short last batch).
  const humble::data::Batch none = dataset.batch(std::vector<int64_t>{}, ImageLayout::NCHW);
  CHECK(none.images.shape() == humble::Shape{0, 1, 2, 2});
  CHECK(none.labels.shape() == humble::Shape{0});
}

TEST_CASE("Dataset construction validates pixels against labels and labels against classes") {
  CHECK(contains(thrown_message<humble::ShapeError>([] {
                   Dataset(std::vector<uint8_t>(7), {2, 2}, {0, 1}, 2);
                 }),
                 "need 8 pixels, got 7"));
  CHECK(contains(thrown_message<ValueError>([] {
                   Dataset(std::vector<uint8_t>(8), {2, 2}, {0, 2}, 2);
                 }),
                 "label 2 of example 1 is outside [0, 2)"));
}

TEST_CASE("Dataset limit and subset view the same examples without copying pixels") {
  const Dataset dataset = numbered_dataset(10);
  CHECK(all_labels(dataset.limit(4)) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(dataset.limit(0).size() == 0);
  const Dataset picked = dataset.subset(std::vector<int64_t>{9, 2, 5});
  CHECK(all_labels(picked.subset(std::vector<int64_t>{2, 0})) == std::vector<int64_t>{5, 9});
  CHECK(contains(thrown_message<ValueError>([&] { dataset.limit(11); }), "count must be in [0, 10], got 11"));
}

TEST_CASE("Dataset split is a deterministic partition for a given seed") {
  const Dataset dataset = numbered_dataset(100);
  auto split_with_seed = [&](uint64_t seed) {
    humble::Generator gen(seed);
    return humble::data::split(dataset, 20, gen);
  };
  const humble::data::TrainValidationSplit first = split_with_seed(42);
  CHECK(first.train.size() == 80);
  CHECK(first.validation.size() == 20);
  std::vector<int64_t> everything = all_labels(first.train);
  const std::vector<int64_t> validation = all_labels(first.validation);
  everything.insert(everything.end(), validation.begin(), validation.end());
  std::sort(everything.begin(), everything.end());
  std::vector<int64_t> expected(100);
  std::iota(expected.begin(), expected.end(), int64_t{0});
  CHECK(everything == expected);  // disjoint and complete

  const humble::data::TrainValidationSplit again = split_with_seed(42);
  CHECK(all_labels(again.validation) == validation);
  CHECK(all_labels(again.train) == all_labels(first.train));
  CHECK(all_labels(split_with_seed(43).validation) != validation);

  humble::Generator gen(0);
  CHECK(contains(thrown_message<ValueError>([&] { humble::data::split(dataset, 101, gen); }),
                 "validation_count must be in [0, 100], got 101"));
}

TEST_CASE("DataLoader covers every example once per epoch and keeps the last partial batch") {
  DataLoader loader(numbered_dataset(10), {.batch_size = 3, .seed = 7});
  CHECK(loader.num_batches() == 4);
  const std::vector<std::vector<int64_t>> batches = epoch_batches(loader);
  REQUIRE(batches.size() == 4);
  CHECK(batches[0].size() == 3);
  CHECK(batches[3].size() == 1);
  std::multiset<int64_t> seen;
  for (const auto& batch : batches) seen.insert(batch.begin(), batch.end());
  CHECK(seen == std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  DataLoader dropping(numbered_dataset(10), {.batch_size = 3, .drop_last = true});
  CHECK(dropping.num_batches() == 3);
  CHECK(epoch_batches(dropping).size() == 3);

  DataLoader in_order(numbered_dataset(5), {.batch_size = 2, .shuffle = false, .layout = ImageLayout::NCHW});
  const std::vector<std::vector<int64_t>> ordered = epoch_batches(in_order);
  CHECK(ordered == std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4}});
  CHECK((*in_order.begin()).images.shape() == humble::Shape{2, 1, 1, 1});
}

TEST_CASE("DataLoader reshuffles every epoch, the same way for the same seed") {
  DataLoader a(numbered_dataset(50), {.batch_size = 8, .seed = 3});
  DataLoader b(numbered_dataset(50), {.batch_size = 8, .seed = 3});
  DataLoader c(numbered_dataset(50), {.batch_size = 8, .seed = 4});
  const auto a1 = epoch_batches(a), a2 = epoch_batches(a);
  const auto b1 = epoch_batches(b), b2 = epoch_batches(b);
  CHECK(a1 == b1);
  CHECK(a2 == b2);
  CHECK(a1 != a2);
  CHECK(epoch_batches(c) != a1);
}

TEST_CASE("DataLoader rejects a batch size below 1") {
  const std::string message = thrown_message<ValueError>([] { DataLoader(numbered_dataset(4), {.batch_size = 0}); });
  CHECK(contains(message, "batch_size must be >= 1, got 0"));
}

TEST_CASE("shard_range splits items into contiguous parts in order, sizes differing by at most one") {
  using humble::data::shard_range;
  const auto parts = [](int64_t count, int64_t shards) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t s = 0; s < shards; ++s)
      out.emplace_back(shard_range(count, shards, s).begin, shard_range(count, shards, s).end);
    return out;
  };
  CHECK(parts(10, 3) == std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 7}, {7, 10}});
  CHECK(parts(128, 2) == std::vector<std::pair<int64_t, int64_t>>{{0, 64}, {64, 128}});
  CHECK(parts(1, 3) == std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 1}, {1, 1}});
  CHECK(parts(0, 2) == std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {0, 0}});
  CHECK(contains(thrown_message<ValueError>([] { shard_range(4, 2, 2); }), "got count 4, shard 2 of 2"));
  CHECK_THROWS_AS(shard_range(-1, 2, 0), ValueError);
  CHECK_THROWS_AS(shard_range(4, 0, 0), ValueError);
}

TEST_CASE("DataLoader shards: every shard draws the same permutation and takes its part of each batch") {
  // 11 examples in batches of 5: 5, 5, 1. Over 3 shards the parts are 2, 2, 1 and then 1, 0, 0;
  // joined in shard order they are exactly one process's batches, epoch after epoch.
  for (int64_t shards : {1, 2, 3, 4}) {
    CAPTURE(shards);
    DataLoader whole(numbered_dataset(11), {.batch_size = 5, .seed = 9});
    std::vector<DataLoader> parts;
    for (int64_t s = 0; s < shards; ++s)
      parts.emplace_back(numbered_dataset(11),
                         DataLoaderOptions{.batch_size = 5, .seed = 9, .shards = shards, .shard = s});
    for (int epoch = 0; epoch < 2; ++epoch) {
      const auto expected = epoch_batches(whole);
      std::vector<std::vector<std::vector<int64_t>>> got;
      for (DataLoader& part : parts) {
        CHECK(part.num_batches() == whole.num_batches());
        got.push_back(epoch_batches(part));
      }
      for (std::size_t b = 0; b < expected.size(); ++b) {
        std::vector<int64_t> joined;
        for (int64_t s = 0; s < shards; ++s) {
          const auto& mine = got[static_cast<std::size_t>(s)][b];
          const humble::data::Range range =
              humble::data::shard_range(static_cast<int64_t>(expected[b].size()), shards, s);
          CHECK(static_cast<int64_t>(mine.size()) == range.end - range.begin);
          joined.insert(joined.end(), mine.begin(), mine.end());
        }
        CHECK(joined == expected[b]);
      }
    }
  }
  const std::string message =
      thrown_message<ValueError>([] { DataLoader(numbered_dataset(4), {.batch_size = 2, .shards = 2, .shard = 2}); });
  CHECK(contains(message, "shard must be in [0, shards) with shards >= 1, got shard 2 of 2"));
}

TEST_CASE("MNIST real data: the test split has 10000 images and the published label counts") {
  const char* flag = std::getenv("HUMBLE_REAL_DATA");
  if (flag == nullptr || std::string(flag) != "1") {
    MESSAGE("SKIPPED: run scripts/fetch-data, then set HUMBLE_REAL_DATA=1 to test the real MNIST files");
    return;
  }
  const std::string dir = HUMBLE_SOURCE_DIR "/data/mnist";
  try {
    const Dataset test = humble::data::load_mnist_split(dir, "t10k");
    CHECK(test.size() == 10000);
    CHECK(test.image_shape() == humble::Shape{28, 28});
    std::vector<int64_t> counts(10, 0);
    for (int64_t i = 0; i < test.size(); ++i) ++counts[test.label(i)];
    CHECK(counts == std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
    CHECK(test.label(0) == 7);
  } catch (const IoError& error) {
    FAIL("HUMBLE_REAL_DATA=1 but MNIST cannot be read from "
         << dir << " (run scripts/fetch-data): " << std::string(error.what()));
  }
}

}  // namespace test_data
