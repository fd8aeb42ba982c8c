// tests/fuzz/fuzz_idx.cpp — the IDX reader (data/idx.hpp), raw and gzipped.
//
// The input is a whole file. It is read as it is (so inputs that start with the gzip magic test the
// inflating path on damaged streams), and, when it is not gzip data itself, also gzip-compressed:
// both reads must give the same array, or the same IoError (up to the file's name and "decompressed
// file holds" for "file holds"). Anything but an IdxArray or an IoError is a finding.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <humble/humble.hpp>
#include <optional>

#include "fuzz_input.hpp"

namespace {

using namespace humble;
using fuzz::expect;

const fuzz::ScratchDir scratch("humble-fuzz-idx");

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string gzipped(const std::string& bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) fuzz::finding("deflateInit2");
  std::string out(deflateBound(&zs, bytes.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  expect(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate did not finish");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Outcome {
  std::optional<data::IdxArray> array;
  std::string error;  // the IoError's message, the path replaced by <file>
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

Outcome read(const std::filesystem::path& path) {
  Outcome out;
  try {
    out.array = data::read_idx(path.string());
    const data::IdxArray& a = *out.array;
    int64_t count = 1;
    for (int64_t size : a.sizes) {
      expect(size >= 1, "a size below 1 was accepted");
      count *= size;
    }
    expect(!a.sizes.empty() && a.sizes.size() <= 4, "a rank outside 1..4 was accepted");
    expect(static_cast<int64_t>(a.values.size()) == count, "values do not match the sizes");
  } catch (const IoError& e) {
    out.error = replace_all(replace_all(e.what(), path.string(), "<file>"), "decompressed file holds", "file holds");
    expect(out.error.starts_with("[read_idx] <file>: "), "message does not name the op and the file: " + out.error);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::filesystem::path raw = scratch / "raw", packed = scratch / "packed";
  write(raw, bytes);
  const Outcome plain = read(raw);
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f && static_cast<uint8_t>(bytes[1]) == 0x8b) return 0;
  write(packed, gzipped(bytes));
  const Outcome inflated = read(packed);
  expect(plain.error == inflated.error, "raw and gzip reads differ: '" + plain.error + "' vs '" + inflated.error + "'");
  if (plain.array) {
    expect(plain.array->sizes == inflated.array->sizes, "raw and gzip sizes differ");
    expect(plain.array->values == inflated.array->values, "raw and gzip values differ");
  }
  return 0;
}
