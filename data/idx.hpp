// data/idx.hpp — reading IDX files (the format of MNIST and Fashion-MNIST), raw or gzipped.
//
// IDX layout (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"), all integers big-endian:
//   bytes 0–1  zero          byte 2  element type (0x08 = uint8, the only one humble reads)
//   byte 3     number of dimensions (1..4 here)
//   then one uint32 size per dimension, then the elements, row-major.
// A file starting with the gzip magic 1f 8b is inflated (zlib; concatenated members are read as one,
// like gzip -d). Every defect — missing, unreadable or empty file, bad magic, unsupported type, too
// many dimensions, a payload shorter or longer than the sizes promise, a gzip stream that is corrupt,
// cut short or followed by bytes that are not gzip data — throws IoError naming the file, what was
// expected and what was found. Nothing is read past what the header promises (plus the bytes that
// follow it, counted), so a file that never ends, like /dev/zero, fails at its header.
//
// load_mnist_split() reads an images + labels pair from the standard file names and checks that
// they belong together (same count, labels in [0, 9]) before handing over a Dataset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataset.hpp"

namespace humble::data {

// The contents of one IDX file of uint8 elements.
struct IdxArray {
  std::vector<int64_t> sizes;   // one per dimension, e.g. {60000, 28, 28}
  std::vector<uint8_t> values;  // product(sizes) elements, row-major
};

IdxArray read_idx(const std::string& path);

// Reads `<dir>/<split>-images-idx3-ubyte` and `<dir>/<split>-labels-idx1-ubyte`, each either raw or
// with a `.gz` suffix (the raw file wins when both exist). `split` is "train" or "t10k".
Dataset load_mnist_split(const std::string& dir, std::string_view split);

}  // namespace humble::data
