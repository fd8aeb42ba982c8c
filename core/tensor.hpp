// core/tensor.hpp — the Tensor handle.
//
// A Tensor is a cheap, copyable handle over shared, contiguous, row-major storage. Copies share
// data; views (reshape, flatten, slicing along dim 0) share storage with an element offset;
// clone() copies. Gradient bookkeeping lives in an AutogradMeta that core/ only declares:
// autograd/ defines it, so core/ never depends on autograd/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace humble {

using Shape = std::vector<int64_t>;
enum class Dtype { Float32, Float64, Int64 };

const char* dtype_name(Dtype dtype);
std::size_t dtype_size(Dtype dtype);
std::string shape_str(const Shape& shape);  // "(2, 3)"
int64_t shape_numel(const Shape& shape);

// Raw bytes shared by a tensor and its views, 64-byte aligned (from core/allocator.hpp).
class Storage {
 public:
  explicit Storage(std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  std::byte* data() { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::byte* data_;
  std::size_t bytes_;
};

struct AutogradMeta;  // defined in autograd/graph.hpp

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Dtype dtype = Dtype::Float32;
  std::shared_ptr<AutogradMeta> autograd;  // null unless part of a graph or requires grad
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t numel() const { return shape_numel(shape()); }
  Dtype dtype() const;
  bool is_floating_point() const { return dtype() != Dtype::Int64; }

  // Typed access to the first element; T must match dtype() (checked).
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* raw_data() const;

  std::vector<double> to_vector() const;  // a copy of all values, row-major, as double
  double item() const;                    // one-element tensors only

  // Views sharing storage.
  Tensor reshape(Shape shape) const;  // one dim may be -1; differentiable
  Tensor view(Shape shape) const { return reshape(std::move(shape)); }
  Tensor flatten(int64_t start_dim = 0) const;     // dims from start_dim on become one
  Tensor slice(int64_t begin, int64_t end) const;  // rows [begin, end) of dim 0; differentiable
  Tensor operator[](int64_t row) const;            // row of dim 0, that dim dropped

  Tensor clone() const;          // a copy of the data; differentiable
  Tensor to(Dtype dtype) const;  // converted copy (or *this when already that dtype)
  Tensor detach() const;         // shares storage, no graph, requires_grad() == false
  bool shares_storage(const Tensor& other) const;

  // In place, outside any graph (initialisation, optimizers). Shapes must match exactly.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);

  // Autograd (defined in autograd/).
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);  // leaves only
  bool is_leaf() const;
  Tensor grad() const;                             // undefined until a backward pass reaches it
  void set_grad(const Tensor& grad) const;         // replace (or with an undefined tensor, clear) .grad()
  void retain_grad() const;                        // keep .grad() on a non-leaf after backward
  void backward(bool retain_graph = false) const;  // one-element tensors only
  void backward(const Tensor& grad_output, bool retain_graph = false) const;

  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::string to_string(const Tensor& t);  // "tensor((2, 3), float32, [1, 2, ...])"

// Memory allocation for a fresh, uninitialised tensor.
Tensor empty(Shape shape, Dtype dtype = Dtype::Float32);

template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() {
  return Dtype::Float32;
}
template <>
constexpr Dtype dtype_of<double>() {
  return Dtype::Float64;
}
template <>
constexpr Dtype dtype_of<int64_t>() {
  return Dtype::Int64;
}

void check_dtype_access(const char* op, Dtype have, Dtype want);

template <class T>
T* Tensor::data() {
  check_dtype_access("data", dtype(), dtype_of<T>());
  return static_cast<T*>(raw_data());
}
template <class T>
const T* Tensor::data() const {
  check_dtype_access("data", dtype(), dtype_of<T>());
  return static_cast<const T*>(raw_data());
}

}  // namespace humble
