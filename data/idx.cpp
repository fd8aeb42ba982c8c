// data/idx.cpp — the IDX reader and the MNIST split loader (contract in data/idx.hpp).
//
// A file that starts with the gzip magic 1f 8b is inflated with zlib as it is read (Content), any
// other is read as it is, so raw and gzipped files share one code path: the header first, then the
// payload it promises, then whatever follows it. https://www.zlib.net/manual.html
#include "idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
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

// The content of a file, raw or inflated, read in order: raw files a chunk at a time with read(2);
// files starting with the gzip magic 1f 8b through zlib's inflate, member after member (as gzip -d
// reads concatenated files), and anything after the last member that is not one is an error
// (gzread would pass it over silently). Nothing is read before it is asked for, so a header can be
// checked before its payload is read, and a file never costs more memory than it holds.
class Content {
 public:
  explicit Content(const std::string& path) : path_(path), file_{::open(path.c_str(), O_RDONLY | O_CLOEXEC)} {
    if (file_.fd < 0) fail(path_, "cannot open: ", std::strerror(errno));
    // A regular file is read in chunks no larger than it is (and one byte more, to see its end):
    // a small file costs no megabyte-sized buffer. Anything else (a pipe, /dev/zero) in whole chunks.
    struct stat info {};
    if (::fstat(file_.fd, &info) == 0 && S_ISREG(info.st_mode))
      chunk_bytes_ = std::min(kChunkBytes, static_cast<std::size_t>(info.st_size) + 1);
    fill();
    gzipped_ = available() >= 2 && input_[0] == 0x1f && input_[1] == 0x8b;
    if (gzipped_ && inflateInit2(&stream_, 15 + 16) != Z_OK) fail(path_, "cannot start zlib");  // gzip only
  }
  ~Content() {
    if (gzipped_) inflateEnd(&stream_);
  }
  Content(const Content&) = delete;
  Content& operator=(const Content&) = delete;

  bool gzipped() const { return gzipped_; }

  // Up to n bytes of content into `out`; fewer only at its end.
  std::size_t read(uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const std::size_t got = gzipped_ ? inflate_into(out + done, n - done) : copy_into(out + done, n - done);
      if (got == 0) break;
      done += got;
    }
    return done;
  }

 private:
  std::size_t available() const { return input_.size() - at_; }

  // More raw bytes into the input buffer; false at the end of the file.
  bool fill() {
    if (at_ == input_.size()) input_.clear(), at_ = 0;
    const std::size_t have = input_.size();
    input_.resize(have + chunk_bytes_);
    ssize_t n;
    do n = ::read(file_.fd, input_.data() + have, chunk_bytes_);
    while (n < 0 && errno == EINTR);
    input_.resize(have + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) fail(path_, "cannot read: ", std::strerror(errno));
    raw_offset_ += static_cast<uint64_t>(n);
    return n > 0;
  }

  std::size_t copy_into(uint8_t* out, std::size_t n) {
    if (available() == 0 && !fill()) return 0;
    const std::size_t count = std::min(n, available());
    std::memcpy(out, input_.data() + at_, count);
    at_ += count;
    return count;
  }

  std::size_t inflate_into(uint8_t* out, std::size_t n) {
    if (finished_) return 0;
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, kChunkBytes));
    while (stream_.avail_out > 0) {
      if (available() == 0 && !fill()) {
        if (member_started_) fail(path_, "gzip stream ends early (truncated download?)");
        finished_ = true;  // the file ends after a complete member
        break;
      }
      stream_.next_in = input_.data() + at_;
      stream_.avail_in = static_cast<uInt>(available());
      const int status = ::inflate(&stream_, Z_NO_FLUSH);
      at_ = input_.size() - stream_.avail_in;
      member_started_ = true;
      if (status == Z_STREAM_END) {
        member_started_ = false;
        if (!next_member()) break;
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        fail(path_, "corrupt gzip data: ", stream_.msg != nullptr ? stream_.msg : zError(status));
      }
    }
    return static_cast<std::size_t>(stream_.next_out - out);
  }

  // After a member's end: another member follows (inflate is reset for it), the file ends, or
  // bytes that are not gzip data follow, which is an error.
  bool next_member() {
    while (available() < 2 && fill()) {
    }
    if (available() == 0) {
      finished_ = true;
      return false;
    }
    if (available() < 2 || input_[at_] != 0x1f || input_[at_ + 1] != 0x8b) {
      const uint64_t end = raw_offset_ - available();
      uint64_t rest = available();
      while (at_ = input_.size(), fill()) rest += available();
      fail(path_, "the gzip data ends at byte ", end, " but ", rest,
           " more bytes follow that are not gzip data (a damaged or appended file)");
    }
    inflateReset(&stream_);
    return true;
  }

  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  struct File {  // closed however the reading ends
    int fd;
    ~File() {
      if (fd >= 0) ::close(fd);
    }
  };
  std::string path_;
  File file_;
  std::size_t chunk_bytes_ = kChunkBytes;
  std::vector<uint8_t> input_;  // raw bytes read, from at_ on not yet used
  std::size_t at_ = 0;
  uint64_t raw_offset_ = 0;  // raw bytes read from the file so far
  bool gzipped_ = false, member_started_ = false, finished_ = false;
  z_stream stream_{};
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  Content file(path);
  const char* holds = file.gzipped() ? "decompressed file holds" : "file holds";

  uint8_t magic[kMagicBytes];
  const std::size_t magic_bytes = file.read(magic, kMagicBytes);
  if (magic_bytes == 0) fail(path, "empty: expected an IDX header (magic 00 00 08 <dimensions>), ", holds, " 0 bytes");
  if (magic_bytes < kMagicBytes) fail(path, "expected a 4-byte IDX magic, ", holds, " only ", magic_bytes, " bytes");
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path, "not an IDX file: expected magic 00 00 08 <dimensions>, found ", hex_bytes(magic, kMagicBytes));
  }
  const uint8_t type_code = magic[2];
  if (type_code != kUint8TypeCode) {
    fail(path, "expected element type 0x08 (uint8), found 0x", hex_bytes(&type_code, 1), " (", idx_type_name(type_code),
         ")");
  }
  const std::size_t dimensions = magic[3];
  if (dimensions < 1 || dimensions > kMaxDimensions) {
    fail(path, "expected 1 to ", kMaxDimensions, " dimensions, header says ", dimensions);
  }
  const std::size_t header_bytes = kMagicBytes + 4 * dimensions;
  uint8_t size_bytes[4 * kMaxDimensions];
  if (const std::size_t got = file.read(size_bytes, 4 * dimensions); got < 4 * dimensions) {
    fail(path, "truncated header: ", dimensions, " dimensions need ", header_bytes, " bytes, ", holds, " ",
         kMagicBytes + got);
  }

  IdxArray array;
  int64_t element_count = 1;
  for (std::size_t d = 0; d < dimensions; ++d) {
    const uint8_t* be = size_bytes + 4 * d;  // big-endian uint32
    const int64_t size = int64_t{be[0]} << 24 | int64_t{be[1]} << 16 | int64_t{be[2]} << 8 | int64_t{be[3]};
    if (size == 0) fail(path, "expected every size to be at least 1, dimension ", d, " has size 0");
    if (element_count > std::numeric_limits<int64_t>::max() / size) {
      fail(path, "sizes ", sizes_str(array.sizes), "×", size, "… describe more than 2^63 bytes");
    }
    element_count *= size;
    array.sizes.push_back(size);
  }

  // The payload, in chunks that double from 64 KiB to 1 MiB (a header promising more than the file
  // holds allocates no more than about twice what it holds), and one byte past it to see trailing
  // bytes, which are then counted.
  constexpr std::size_t kFirstChunkBytes = std::size_t{1} << 16, kChunkBytes = std::size_t{1} << 20;
  const auto wanted = static_cast<uint64_t>(element_count) + 1;
  std::vector<uint8_t>& values = array.values;
  while (values.size() < wanted) {
    const std::size_t have = values.size(), chunk = std::clamp(have, kFirstChunkBytes, kChunkBytes);
    values.resize(have + static_cast<std::size_t>(std::min<uint64_t>(chunk, wanted - have)));
    const std::size_t got = file.read(values.data() + have, values.size() - have);
    values.resize(have + got);
    if (got == 0) break;
  }
  auto payload_bytes = static_cast<int64_t>(values.size());
  bool counted = true;  // trailing bytes are counted up to kMaxCounted: a stream may never end
  if (payload_bytes > element_count) {
    constexpr int64_t kMaxCounted = int64_t{1} << 30;
    std::vector<uint8_t> scratch(kFirstChunkBytes);
    while (const std::size_t got = file.read(scratch.data(), scratch.size())) {
      payload_bytes += static_cast<int64_t>(got);
      if (payload_bytes - element_count > kMaxCounted) {
        counted = false;
        break;
      }
    }
  }
  if (payload_bytes != element_count) {
    fail(path, payload_bytes < element_count ? "truncated" : "trailing bytes", ": header says ", sizes_str(array.sizes),
         " = ", element_count, " bytes of data, ", holds, counted ? " " : " more than ", payload_bytes, " after the ",
         header_bytes, "-byte header");
  }
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
