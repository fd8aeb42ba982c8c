// core/named_tensors.cpp — checking named tensors, and the checkpoint file format with atomic writes.
//
// Layout (docs/checkpoint-format.md), all integers little-endian:
//   header  (24 bytes): magic "HMBLCKPT" | u32 version | u32 CRC-32 of payload | u64 payload bytes
//   payload: u32 entry count, then per entry: u32 name length | name (UTF-8) | u8 dtype
//            (0 float32, 1 float64, 2 int64) | u8 rank | rank × i64 dims | data (row-major)
#include "named_tensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "atomic_file.hpp"
#include "error.hpp"

namespace humble {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are written as the host's bytes");

constexpr char kMagic[8] = {'H', 'M', 'B', 'L', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 24;

template <class T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

uint32_t crc_of(std::string_view bytes) {
  return static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// The first name that appears twice in `tensors`, or null.
const std::string* repeated_name(const NamedTensors& tensors) {
  std::set<std::string_view> seen;
  for (const auto& [name, _] : tensors)
    if (!seen.insert(name).second) return &name;
  return nullptr;
}

std::string encode(const NamedTensors& entries) {
  std::string payload;
  put<uint32_t>(payload, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, t] : entries) {
    put<uint32_t>(payload, static_cast<uint32_t>(name.size()));
    payload += name;
    put<uint8_t>(payload, static_cast<uint8_t>(t.dtype()));
    put<uint8_t>(payload, static_cast<uint8_t>(t.dim()));
    for (int64_t d : t.shape()) put<int64_t>(payload, d);
    const Tensor dense = contiguous_values(t);
    payload.append(static_cast<const char*>(dense.raw_data()),
                   static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
  }
  std::string file(kMagic, sizeof kMagic);
  put<uint32_t>(file, kVersion);
  put<uint32_t>(file, crc_of(payload));
  put<uint64_t>(file, payload.size());
  return file + payload;
}

// Reads fixed-size values and byte runs from a payload, failing cleanly past its end.
struct Reader {
  std::string_view bytes;
  const std::string& path;
  std::size_t at = 0;

  std::string_view take(std::size_t n, const std::string& what) {
    if (bytes.size() - at < n)
      throw IoError(str_cat("[load] ", path, ": corrupt: ", what, " runs past the end of the file"));
    at += n;
    return bytes.substr(at - n, n);
  }
  template <class T>
  T get(const std::string& what) {
    T value;
    std::memcpy(&value, take(sizeof value, what).data(), sizeof value);
    return value;
  }
};

struct Header {
  uint32_t crc;
  uint64_t payload_bytes;
};

// The header's checks: magic, length, version; `file_bytes` is the file's whole size.
Header check_header(std::string_view bytes, uint64_t file_bytes, const std::string& path) {
  const auto fail = [&path](const auto&... parts) { return IoError(str_cat("[load] ", path, ": ", parts...)); };
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw fail("not a humble checkpoint (bad magic)");
  if (bytes.size() < kHeaderBytes) throw fail("truncated: ", bytes.size(), " bytes, less than the 24-byte header");
  Reader header{bytes.substr(8, 16), path};
  const auto version = header.get<uint32_t>("version");
  const auto crc = header.get<uint32_t>("crc");
  const auto size = header.get<uint64_t>("size");
  if (version == 0 || version > kVersion)
    throw fail("format version ", version, " is not supported (this build reads versions 1 to ", kVersion, ")");
  if (file_bytes - kHeaderBytes != size)
    throw fail(file_bytes - kHeaderBytes < size ? "truncated" : "trailing bytes", ": the header promises ", size,
               " payload bytes, the file holds ", file_bytes - kHeaderBytes);
  return {crc, size};
}

NamedTensors decode(const std::string& bytes, const std::string& path) {
  const auto fail = [&path](const auto&... parts) { return IoError(str_cat("[load] ", path, ": ", parts...)); };
  const auto [crc, size] = check_header(bytes, bytes.size(), path);
  Reader in{std::string_view(bytes).substr(kHeaderBytes), path};
  if (const uint32_t actual = crc_of(in.bytes); actual != crc)
    throw fail("CRC-32 mismatch (stored ", crc, ", computed ", actual, "): the file is corrupt");

  NamedTensors entries;
  const auto count = in.get<uint32_t>("the entry count");
  for (uint32_t k = 0; k < count; ++k) {
    const std::string name(
        in.take(in.get<uint32_t>(str_cat("entry ", k, "'s name length")), str_cat("entry ", k, "'s name")));
    const std::string what = str_cat("entry '", name, "'");
    const auto code = in.get<uint8_t>(what);
    if (code > static_cast<uint8_t>(Dtype::Int64)) throw fail(what, " has unknown dtype code ", int(code));
    const auto dtype = static_cast<Dtype>(code);
    Shape shape(in.get<uint8_t>(what));
    std::size_t bytes_needed = dtype_size(dtype);
    int64_t extent = static_cast<int64_t>(dtype_size(dtype));  // as empty() checks it: a 0 counts as 1
    for (int64_t& d : shape) {
      d = in.get<int64_t>(what);
      if (d < 0 || (d > 0 && bytes_needed > in.bytes.size() / static_cast<std::size_t>(d)) ||
          __builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent))
        throw fail(what, " has an impossible dimension ", d);
      bytes_needed *= static_cast<std::size_t>(d);
    }
    Tensor t = empty(shape, dtype);
    std::memcpy(t.raw_data(), in.take(bytes_needed, what + "'s data").data(), bytes_needed);
    entries.emplace_back(name, t);
  }
  if (in.at != in.bytes.size()) throw fail("corrupt: ", in.bytes.size() - in.at, " bytes after the last entry");
  if (const std::string* name = repeated_name(entries)) throw fail("entry '", *name, "' appears twice");
  return entries;
}

}  // namespace

std::vector<TensorSpec> specs_of(const NamedTensors& tensors) {
  std::vector<TensorSpec> specs;
  for (const auto& [name, t] : tensors) specs.push_back({name, t.dtype(), t.shape()});
  return specs;
}

void check_named_tensors(const std::string& op, const NamedTensors& state, const std::vector<TensorSpec>& expected) {
  if (const std::string* name = repeated_name(state))
    throw ValueError(str_cat("[", op, "] entry '", *name, "' appears twice"));
  std::map<std::string_view, const Tensor*> given;
  for (const auto& [name, t] : state) given.emplace(name, &t);
  for (const TensorSpec& e : expected) {
    const auto it = given.find(e.name);
    if (it == given.end()) throw ValueError(str_cat("[", op, "] missing entry '", e.name, "'"));
    const Tensor& t = *it->second;
    if (t.dtype() != e.dtype)
      throw ValueError(
          str_cat("[", op, "] entry '", e.name, "' is ", dtype_name(t.dtype()), ", expected ", dtype_name(e.dtype)));
    if (t.shape() != e.shape)
      throw ShapeError(str_cat("[", op, "] entry '", e.name, "' has shape ", shape_str(t.shape()), ", expected ",
                               shape_str(e.shape)));
    given.erase(it);
  }
  if (!given.empty()) throw ValueError(str_cat("[", op, "] unexpected entry '", given.begin()->first, "'"));
}

Tensor int64_scalar(int64_t value) {
  Tensor t = empty({}, Dtype::Int64);
  *t.data<int64_t>() = value;
  return t;
}

int64_t int64_item(const Tensor& scalar) {
  if (scalar.numel() != 1)
    throw ShapeError(str_cat("[int64_item] needs a one-element tensor, got shape ", shape_str(scalar.shape())));
  return *scalar.data<int64_t>();
}

void check_values(const std::string& op, const std::string& name, const Tensor& t, ValueRule rule) {
  const std::vector<double> values = t.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]) || (rule.nonnegative && values[i] < 0))
      throw ValueError(str_cat("[", op, "] entry '", name, "' holds ", values[i], " at element ", i,
                               "; expected finite values", rule.nonnegative ? " >= 0" : ""));
}

void save_tensors(const NamedTensors& entries, const std::string& path) {
  write_file_atomically(path, encode(entries), "save");
}

// Reads the file, never more than its header promises (plus one byte, to see trailing bytes): a
// regular file's size is checked against the header before its payload is read, and anything
// else (a pipe, a device) is read a chunk at a time, so a bad header costs no memory.
NamedTensors load_tensors(const std::string& path) {
  const auto fail = [&path](const auto&... parts) { return IoError(str_cat("[load] ", path, ": ", parts...)); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("cannot open: ", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw fail("cannot stat: ", std::strerror(errno));
  if (S_ISDIR(info.st_mode)) throw fail("is a directory, not a checkpoint file");
  std::string bytes;
  const auto read_up_to = [&](uint64_t total) {  // until `total` bytes or the end of the file
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    while (bytes.size() < total) {
      const std::size_t have = bytes.size();
      bytes.resize(have + static_cast<std::size_t>(std::min<uint64_t>(kChunk, total - have)));
      const ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
      if (n < 0) {
        bytes.resize(have);
        if (errno == EINTR) continue;
        throw fail("read failed: ", std::strerror(errno));
      }
      bytes.resize(have + static_cast<std::size_t>(n));
      if (n == 0) return;
    }
  };
  read_up_to(kHeaderBytes);
  const bool regular = S_ISREG(info.st_mode);
  if (regular || bytes.size() < kHeaderBytes) {
    check_header(bytes, regular ? static_cast<uint64_t>(info.st_size) : bytes.size(), path);
  }
  uint64_t promised;
  std::memcpy(&promised, bytes.data() + 16, sizeof promised);
  read_up_to(kHeaderBytes + std::min<uint64_t>(promised, UINT64_MAX - kHeaderBytes - 1) + 1);
  return decode(bytes, path);
}

void check_loaded(const std::string& path, const std::string& part, const std::function<void()>& check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    throw IoError(str_cat("[load] ", path, ": ", part, e.what()));
  }
}

}  // namespace humble
