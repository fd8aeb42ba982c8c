// nn/checkpoint.cpp — the file format, atomic writes, and validated loads of every part.
//
// Layout (docs/checkpoint-format.md), all integers little-endian:
//   header  (24 bytes): magic "HMBLCKPT" | u32 version | u32 CRC-32 of payload | u64 payload bytes
//   payload: u32 entry count, then per entry: u32 name length | name (UTF-8) | u8 dtype
//            (0 float32, 1 float64, 2 int64) | u8 rank | rank × i64 dims | data (row-major)
#include "checkpoint.hpp"

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
#include <set>

#include "../core/error.hpp"
#include "../core/factories.hpp"

namespace humble::nn {
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

std::string encode(const NamedTensors& entries) {
  std::string payload;
  put<uint32_t>(payload, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, t] : entries) {
    put<uint32_t>(payload, static_cast<uint32_t>(name.size()));
    payload += name;
    put<uint8_t>(payload, static_cast<uint8_t>(t.dtype()));
    put<uint8_t>(payload, static_cast<uint8_t>(t.dim()));
    for (int64_t d : t.shape()) put<int64_t>(payload, d);
    payload.append(static_cast<const char*>(t.raw_data()), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
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
  std::set<std::string> seen;
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
    if (!seen.insert(name).second) throw fail(what, " appears twice");
    entries.emplace_back(name, t);
  }
  if (in.at != in.bytes.size()) throw fail("corrupt: ", in.bytes.size() - in.at, " bytes after the last entry");
  return entries;
}

// Runs a check and turns its complaint into an IoError naming the file (and the part).
template <class Check>
void check_part(const std::string& path, const std::string& part, Check check) {
  try {
    check();
  } catch (const std::invalid_argument& e) {
    throw IoError(str_cat("[load] ", path, ": ", part, e.what()));
  }
}

// Entries of `all` under "<prefix>.", with the prefix removed.
NamedTensors part_of(const NamedTensors& all, const std::string& prefix) {
  NamedTensors out;
  for (const auto& [name, t] : all)
    if (name.starts_with(prefix)) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

}  // namespace

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

void save(const Module& module, const std::string& path) { save_tensors(module.state_dict(), path); }

void load(Module& module, const std::string& path) {
  const NamedTensors entries = load_tensors(path);
  check_part(path, "", [&] { module.check_state_dict(entries); });
  module.load_state_dict(entries);
}

void save(const optim::Optimizer& optimizer, const std::string& path) { save_tensors(optimizer.state_dict(), path); }

void load(optim::Optimizer& optimizer, const std::string& path) {
  const NamedTensors entries = load_tensors(path);
  check_part(path, "", [&] { optimizer.check_state_dict(entries); });
  optimizer.load_state_dict(entries);
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  NamedTensors entries;
  const auto add = [&entries](const std::string& prefix, const NamedTensors& part) {
    for (const auto& [name, t] : part) entries.emplace_back(prefix + name, t);
  };
  if (c.model) add("model.", c.model->state_dict());
  if (c.optimizer) add("optimizer.", c.optimizer->state_dict());
  if (c.scheduler) add("scheduler.", c.scheduler->state_dict());
  if (c.generator) {
    Tensor words = empty({5}, Dtype::Int64);
    const Generator::State state = c.generator->state();
    std::memcpy(words.raw_data(), state.data(), sizeof state);
    entries.emplace_back("generator", words);
  }
  entries.emplace_back("epoch", scalar_tensor(static_cast<double>(c.epoch), Dtype::Int64));
  entries.emplace_back("step", scalar_tensor(static_cast<double>(c.step), Dtype::Int64));
  save_tensors(entries, path);
}

void load_checkpoint(const std::string& path, Checkpoint& c) {
  const NamedTensors entries = load_tensors(path);
  const NamedTensors model = part_of(entries, "model."), optimizer = part_of(entries, "optimizer."),
                     scheduler = part_of(entries, "scheduler.");
  NamedTensors rest;  // everything outside the three parts
  for (const auto& [name, t] : entries)
    if (!name.starts_with("model.") && !name.starts_with("optimizer.") && !name.starts_with("scheduler."))
      rest.emplace_back(name, t);
  std::vector<optim::Entry> expected{{"epoch", Dtype::Int64, {}}, {"step", Dtype::Int64, {}}};
  if (c.generator) expected.push_back({"generator", Dtype::Int64, {5}});
  // Everything is checked before anything is changed.
  const auto check = [&path](const char* part, const auto* receiver, const NamedTensors& state) {
    check_part(path, str_cat(part, ": "), [&] {
      if (receiver)
        receiver->check_state_dict(state);
      else if (!state.empty())
        throw ValueError(str_cat("unexpected entry '", state[0].first, "' (no ", part, " was given)"));
    });
  };
  check("model", c.model, model);
  check("optimizer", c.optimizer, optimizer);
  check("scheduler", c.scheduler, scheduler);
  check_part(path, "", [&] { optim::check_entries(rest, expected); });

  if (c.model) c.model->load_state_dict(model);
  if (c.optimizer) c.optimizer->load_state_dict(optimizer);
  if (c.scheduler) c.scheduler->load_state_dict(scheduler);
  for (const auto& [name, t] : rest) {
    if (name == "generator") {
      Generator::State state;
      std::memcpy(state.data(), t.raw_data(), sizeof state);
      c.generator->set_state(state);
    }
    if (name == "epoch") c.epoch = static_cast<int64_t>(t.item());
    if (name == "step") c.step = static_cast<int64_t>(t.item());
  }
}

}  // namespace humble::nn
