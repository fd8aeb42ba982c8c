// data/idx.cpp — the IDX reader and the MNIST split loader (contract in data/idx.hpp).
//
// Files are read through zlib's gzread, which inflates a file that starts with the gzip magic
// 1f 8b and passes any other file through unchanged (gzdirect() tells which happened), so raw and
// gzipped files share one code path. https://www.zlib.net/manual.html#Gzip
#include "idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "../core/error.hpp"

namespace humble::data {
namespace {

constexpr uint8_t kUint8TypeCode = 0x08;
constexpr std::size_t kMagicBytes = 4;
constexpr std::size_t kMaxDimensions = 4;
constexpr int64_t kMnistClasses = 10;

template <class... Parts>
[[noreturn]] void fail(const std::string& path, const Parts&... parts) {
  throw IoError(str_cat("[read_idx] ", path, ": ", parts...));
}

std::string hex_bytes(const uint8_t* bytes, std::size_t count) {  // "00 00 08 03"
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    char digits[4];
    std::snprintf(digits, sizeof digits, "%02x", bytes[i]);
    if (i > 0) out += ' ';
    out += digits;
  }
  return out;
}

// The element types the IDX format defines, to say what a rejected file holds.
const char* idx_type_name(uint8_t code) {
  switch (code) {
    case 0x08:
      return "uint8";
    case 0x09:
      return "int8";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "not an IDX type";
  }
}

std::string sizes_str(const std::vector<int64_t>& sizes) {  // "60000×28×28"
  std::string out;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (d > 0) out += "×";
    out += std::to_string(sizes[d]);
  }
  return out;
}

struct FileBytes {
  std::vector<uint8_t> bytes;
  bool was_gzipped;
};

FileBytes read_whole_file(const std::string& path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) fail(path, "cannot open: ", std::strerror(errno));
  constexpr unsigned kChunkBytes = 1u << 20;
  std::vector<uint8_t> bytes;
  for (;;) {
    const std::size_t have = bytes.size();
    bytes.resize(have + kChunkBytes);
    const int got = gzread(file.get(), bytes.data() + have, kChunkBytes);
    bytes.resize(have + static_cast<std::size_t>(std::max(got, 0)));
    if (got <= 0) break;
  }
  int status = Z_OK;
  const char* message = gzerror(file.get(), &status);
  if (status == Z_BUF_ERROR) fail(path, "gzip stream ends early (truncated download?)");
  if (status != Z_OK) fail(path, "cannot read: ", status == Z_ERRNO ? std::strerror(errno) : message);
  return {std::move(bytes), gzdirect(file.get()) == 0};
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  FileBytes file = read_whole_file(path);
  std::vector<uint8_t>& bytes = file.bytes;
  const char* holds = file.was_gzipped ? "decompressed file holds" : "file holds";

  if (bytes.empty()) fail(path, "empty: expected an IDX header (magic 00 00 08 <dimensions>), ", holds, " 0 bytes");
  if (bytes.size() < kMagicBytes) fail(path, "expected a 4-byte IDX magic, ", holds, " only ", bytes.size(), " bytes");
  if (bytes[0] != 0 || bytes[1] != 0) {
    fail(path, "not an IDX file: expected magic 00 00 08 <dimensions>, found ", hex_bytes(bytes.data(), kMagicBytes));
  }
  const uint8_t type_code = bytes[2];
  if (type_code != kUint8TypeCode) {
    fail(path, "expected element type 0x08 (uint8), found 0x", hex_bytes(&type_code, 1), " (", idx_type_name(type_code),
         ")");
  }
  const std::size_t dimensions = bytes[3];
  if (dimensions < 1 || dimensions > kMaxDimensions) {
    fail(path, "expected 1 to ", kMaxDimensions, " dimensions, header says ", dimensions);
  }
  const std::size_t header_bytes = kMagicBytes + 4 * dimensions;
  if (bytes.size() < header_bytes) {
    fail(path, "truncated header: ", dimensions, " dimensions need ", header_bytes, " bytes, ", holds, " ",
         bytes.size());
  }

  IdxArray array;
  int64_t element_count = 1;
  for (std::size_t d = 0; d < dimensions; ++d) {
    const uint8_t* be = bytes.data() + kMagicBytes + 4 * d;  // big-endian uint32
    const int64_t size = int64_t{be[0]} << 24 | int64_t{be[1]} << 16 | int64_t{be[2]} << 8 | int64_t{be[3]};
    if (size == 0) fail(path, "expected every size to be at least 1, dimension ", d, " has size 0");
    if (element_count > std::numeric_limits<int64_t>::max() / size) {
      fail(path, "sizes ", sizes_str(array.sizes), "×", size, "… describe more than 2^63 bytes");
    }
    element_count *= size;
    array.sizes.push_back(size);
  }

  const auto payload_bytes = static_cast<int64_t>(bytes.size() - header_bytes);
  if (payload_bytes != element_count) {
    fail(path, payload_bytes < element_count ? "truncated" : "trailing bytes", ": header says ", sizes_str(array.sizes),
         " = ", element_count, " bytes of data, ", holds, " ", payload_bytes, " after the ", header_bytes,
         "-byte header");
  }
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header_bytes));
  array.values = std::move(bytes);
  return array;
}

namespace {

// `<dir>/<name>` if present, else `<dir>/<name>.gz`.
std::string find_idx_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path raw = std::filesystem::path(dir) / name;
  const std::filesystem::path gzipped = std::filesystem::path(dir) / (name + ".gz");
  if (std::filesystem::exists(raw)) return raw.string();
  if (std::filesystem::exists(gzipped)) return gzipped.string();
  throw IoError(str_cat("[load_mnist_split] ", raw.string(), ": no such file (nor ", gzipped.filename().string(),
                        "); run scripts/fetch-data, or pass --data-dir pointing at a folder that holds the files"));
}

}  // namespace

Dataset load_mnist_split(const std::string& dir, std::string_view split) {
  if (split != "train" && split != "t10k") {
    throw ValueError(str_cat("[load_mnist_split] split must be \"train\" or \"t10k\", got \"", split, "\""));
  }
  const std::string images_path = find_idx_file(dir, str_cat(split, "-images-idx3-ubyte"));
  const std::string labels_path = find_idx_file(dir, str_cat(split, "-labels-idx1-ubyte"));
  IdxArray images = read_idx(images_path);        // (N, H, W)
  const IdxArray labels = read_idx(labels_path);  // (N)

  if (images.sizes.size() != 3) {
    throw IoError(str_cat("[load_mnist_split] ", images_path, ": expected images of 3 dimensions (N, H, W), found ",
                          sizes_str(images.sizes)));
  }
  if (labels.sizes.size() != 1) {
    throw IoError(str_cat("[load_mnist_split] ", labels_path, ": expected labels of 1 dimension (N), found ",
                          sizes_str(labels.sizes)));
  }
  if (images.sizes[0] != labels.sizes[0]) {
    throw IoError(str_cat("[load_mnist_split] image and label counts differ: ", images_path, " holds ", images.sizes[0],
                          " images, ", labels_path, " holds ", labels.sizes[0], " labels"));
  }
  std::vector<int64_t> label_values(labels.values.begin(), labels.values.end());
  for (std::size_t i = 0; i < label_values.size(); ++i) {
    if (label_values[i] >= kMnistClasses) {
      throw IoError(str_cat("[load_mnist_split] ", labels_path, ": expected labels in [0, ", kMnistClasses - 1,
                            "], found ", label_values[i], " at index ", i));
    }
  }
  return Dataset(std::move(images.values), {images.sizes[1], images.sizes[2]}, std::move(label_values), kMnistClasses);
}

}  // namespace humble::data
