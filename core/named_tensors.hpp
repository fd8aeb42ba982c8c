// core/named_tensors.hpp — tensors by name: what state dicts and checkpoint files are made of.
//
// NamedTensors is the saved state of anything: a module's parameters and buffers, an optimizer's
// buffers, a scheduler's counters, as (dotted name, tensor) pairs in a fixed order.
// check_named_tensors() decides whether such a list holds exactly what a receiver expects;
// save_tensors()/load_tensors() write and read the file format of docs/checkpoint-format.md:
// magic, format version, CRC-32 of the payload, then the entries by name with dtype, shape and
// little-endian data. Saving is atomic: the bytes go to a temporary file in the target's directory,
// which is flushed, fsync'd and renamed over the target (then the directory is fsync'd); on any
// failure the temporary file is removed and an existing target is left untouched. Loading checks
// the whole file (magic, version, size, CRC, every entry's layout, unique names) before returning;
// any problem throws IoError naming the file and the entry.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tensor.hpp"

namespace humble {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What a receiver expects of one entry.
struct TensorSpec {
  std::string name;
  Dtype dtype;
  Shape shape;
};
std::vector<TensorSpec> specs_of(const NamedTensors& tensors);  // the name, dtype and shape of each

// Checks that `state` holds exactly the `expected` entries, each once, with their dtype and shape;
// throws ValueError (a missing, unexpected or repeated name, another dtype) or ShapeError (another
// shape) naming the first offender: "[op] entry 'fc1.weight' has shape (5, 4), expected (3, 4)".
void check_named_tensors(const std::string& op, const NamedTensors& state, const std::vector<TensorSpec>& expected);

// Int64 scalars of a state (steps, epochs) hold every int64 exactly, never through a double.
Tensor int64_scalar(int64_t value);
int64_t int64_item(const Tensor& scalar);  // of an Int64 tensor with one element

// That every value of the float entry `name` is finite (and >= 0 with `nonnegative`), as anything
// a constructor or a finite run leaves; throws ValueError
// "[op] entry 'state.0.exp_avg_sq' holds -1 at element 3; expected finite values >= 0".
struct ValueRule {
  bool nonnegative = false;
};
void check_values(const std::string& op, const std::string& name, const Tensor& t, ValueRule rule = {});

void save_tensors(const NamedTensors& entries, const std::string& path);  // atomic; throws IoError
NamedTensors load_tensors(const std::string& path);                       // the file's checks only

// Runs `check` on entries loaded from `path`: a std::invalid_argument it throws becomes an IoError
// "[load] <path>: <part><message>", so that a bad file is reported as one, naming the file.
void check_loaded(const std::string& path, const std::string& part, const std::function<void()>& check);

}  // namespace humble
