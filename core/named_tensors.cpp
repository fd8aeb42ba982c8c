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

#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

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

NamedTensors decode(const std::string& bytes, const std::string& path) {
  const auto fail = [&path](const auto&... parts) { return IoError(str_cat("[load] ", path, ": ", parts...)); };
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw fail("not a humble checkpoint (bad magic)");
  if (bytes.size() < kHeaderBytes) throw fail("truncated: ", bytes.size(), " bytes, less than the 24-byte header");
  Reader header{std::string_view(bytes).substr(8, 16), path};
  const auto version = header.get<uint32_t>("version");
  const auto crc = header.get<uint32_t>("crc");
  const auto size = header.get<uint64_t>("size");
  if (version == 0 || version > kVersion)
    throw fail("format version ", version, " is not supported (this build reads versions 1 to ", kVersion, ")");
  if (bytes.size() - kHeaderBytes != size)
    throw fail(bytes.size() - kHeaderBytes < size ? "truncated" : "trailing bytes", ": the header promises ", size,
               " payload bytes, the file holds ", bytes.size() - kHeaderBytes);
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
    for (int64_t& d : shape) {
      d = in.get<int64_t>(what);
      if (d < 0 || (d > 0 && bytes_needed > in.bytes.size() / static_cast<std::size_t>(d)))
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

void save_tensors(const NamedTensors& entries, const std::string& path) {
  const std::string bytes = encode(entries);
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string temp = (dir / str_cat(".", target.filename().string(), ".tmp.XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw IoError(
        str_cat("[save] ", path, ": cannot create a temporary file in ", dir.string(), ": ", std::strerror(errno)));
  const auto fail = [&](const char* step) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    return IoError(str_cat("[save] ", path, ": ", step, " failed: ", std::strerror(err)));
  };
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno != EINTR) throw fail("write");
    done += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  if (::fchmod(fd, 0644) != 0) throw fail("fchmod");
  if (::fsync(fd) != 0) throw fail("fsync");
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) throw fail("close");
  if (::rename(temp.c_str(), path.c_str()) != 0) throw fail("rename");
  if (const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dir_fd >= 0) {  // make the rename durable
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

NamedTensors load_tensors(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IoError(str_cat("[load] ", path, ": cannot open: ", std::strerror(errno)));
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw IoError(str_cat("[load] ", path, ": read failed"));
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
