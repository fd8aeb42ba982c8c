// core/tensor.hpp — the Tensor handle.
//
// A Tensor is a cheap, copyable handle over shared storage, read through an element offset and
// one stride per dim (in elements), like PyTorch's. Copies of a handle share everything; views
// (reshape, select, narrow, slice, operator[], transpose, permute, squeeze, unsqueeze) share
// storage with other strides or offset, so a write through a view is a write into its base;
// clone() and contiguous() copy. Kernels read contiguous row-major memory: data<T>() and
// raw_data() throw for a non-contiguous tensor, and every op makes its inputs contiguous at
// entry (contiguous_values below, or the differentiable contiguous()), so no kernel can read
// strided memory as if it were dense (docs/architecture.md, "Views").
// Every storage carries a version counter, shared by all views of it; every in-place write
// bumps it, and autograd compares it with the version each saved tensor had when it was saved.
// Gradient bookkeeping lives in an AutogradMeta that core/ only declares: autograd/ defines it,
// so core/ never depends on autograd/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
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
  uint64_t version() const { return version_; }  // in-place writes so far
  void bump_version() { ++version_; }

 private:
  std::byte* data_;
  std::size_t bytes_;
  uint64_t version_ = 0;
};

struct AutogradMeta;  // defined in autograd/graph.hpp

// A number on the other side of a tensor op, remembering whether it was written as an integer
// (2) or as a floating-point number (2.0): like Python's int and float in PyTorch, an integer
// keeps an int64 tensor int64 and a floating-point number makes the result float32.
struct Scalar {
  double value;
  bool integral;
  template <class I>
  requires std::is_integral_v<I> &&(!std::is_same_v<I, bool>)Scalar(I v)
      : value(static_cast<double>(v)), integral(true) {}  // NOLINT: implicit by design
  Scalar(double v) : value(v), integral(false) {}         // NOLINT: implicit by design
};

// Strides of a dense row-major tensor of this shape: (12, 4, 1) for (2, 3, 4).
std::vector<int64_t> contiguous_strides(const Shape& shape);
// Whether (shape, strides) is dense and row-major (dims of size 1 may have any stride).
bool strides_are_contiguous(const Shape& shape, const std::vector<int64_t>& strides);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  std::vector<int64_t> strides;  // in elements, one per dim
  bool contiguous = true;        // strides_are_contiguous(shape, strides), kept with them
  Dtype dtype = Dtype::Float32;
  bool is_view = false;                    // made by a view op from another tensor (detach() is not a view)
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
  const std::vector<int64_t>& strides() const;
  int64_t stride(int64_t dim) const;  // negative dims count from the end
  bool is_contiguous() const;         // dense and row-major (strides_are_contiguous)

  // Typed access to the first element of a contiguous tensor: element i of the row-major order
  // is data<T>()[i]. T must match dtype(), and the tensor must be contiguous (both checked; call
  // contiguous() first on a view). The pointer is valid while any handle on the storage lives.
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* raw_data() const;  // the same, untyped

  std::vector<double> to_vector() const;  // a copy of all values, row-major, as double
  template <class T>
  std::vector<T> to_vector() const;  // the same as T (float, double or int64_t: the tensor's own dtype)
  double item() const;               // one-element tensors only
  // The one value as T (float, double, int64_t, int, …). Throws ValueError when T cannot hold it
  // exactly: a fractional or out-of-range value asked for as an integer.
  template <class T>
  T item() const;

  // Views sharing storage (all differentiable). Negative dims and indices count from the end.
  Tensor reshape(Shape shape) const;            // one dim may be -1; a view when the strides allow it, else a copy
  Tensor view(Shape shape) const;               // like reshape, but never copies: throws when no view can be made
  Tensor flatten(int64_t start_dim = 0) const;  // dims from start_dim on become one
  // Elements begin, begin + step, … before end along `dim`, like Python's x[begin:end:step]:
  // negative bounds count from the end, bounds past either end are clamped; step >= 1.
  Tensor slice(int64_t dim, int64_t begin, int64_t end, int64_t step = 1) const;
  Tensor slice(int64_t begin, int64_t end) const { return slice(0, begin, end); }  // rows of dim 0
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;  // [start, start + length) along dim, in range
  Tensor select(int64_t dim, int64_t index) const;                  // dim dropped; negatives count from the end
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor transpose(int64_t dim0, int64_t dim1) const;  // the two dims swapped
  Tensor t() const;                                    // transpose of a 2-D tensor (0-D and 1-D: itself)
  Tensor permute(std::vector<int64_t> dims) const;     // out dim i is input dim dims[i]
  Tensor squeeze(int64_t dim) const;                   // drops a dim of size 1
  Tensor unsqueeze(int64_t dim) const;                 // inserts a dim of size 1

  Tensor contiguous() const;     // *this when contiguous, else a dense copy; differentiable
  Tensor clone() const;          // a dense copy of the data; differentiable
  Tensor to(Dtype dtype) const;  // converted copy (or *this when already that dtype); differentiable
  Tensor detach() const;         // shares storage (and its version), no graph, requires_grad() == false
  bool shares_storage(const Tensor& other) const;

  // In place (autograd/inplace.cpp). Each writes into this tensor's storage, so through a view
  // into its base; bumps the storage's version; refuses a leaf that requires grad outside
  // NoGradGuard; and in grad mode records the change so that gradients flow through it (a view
  // of a tensor in the graph is refused: its base's history would be stale). The result must
  // keep this tensor's shape and dtype: `other` broadcasts to this shape, and a result that would
  // need a wider dtype (an int64 tensor plus 0.5) throws, as in PyTorch.
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape, converted to this dtype (float → int64 refused)
  Tensor& fill_(double value);       // a fractional value into an int64 tensor is refused
  Tensor& zero_();
  Tensor& add_(const Tensor& other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);  // true division: an int64 tensor is refused (its quotient is float)
  Tensor& add_(Scalar s);
  Tensor& sub_(Scalar s);
  Tensor& mul_(Scalar s);
  Tensor& div_(Scalar s);
  Tensor& clamp_(Scalar low, Scalar high);
  Tensor& masked_fill_(const Tensor& mask, double value);  // where mask ≠ 0 (mask broadcasts to this shape)
  // Rows index[k] of dim 0 become values[k] (values broadcast to (K, rest of shape)); negative
  // indices count from the end. accumulate adds instead; without it a repeated index throws.
  Tensor& index_put_(const Tensor& index, const Tensor& values, bool accumulate = false);
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator+=(Scalar s) { return add_(s); }
  Tensor& operator-=(Scalar s) { return sub_(s); }
  Tensor& operator*=(Scalar s) { return mul_(s); }
  Tensor& operator/=(Scalar s) { return div_(s); }

  // Assigning to a handle rebinds it; assigning to a temporary writes into it, as in libtorch:
  // `x[2] = t` copies t into row 2 of x (copy_, broadcasting), `x[2] = 0.5` fills it.
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) = default;
  Tensor& operator=(const Tensor&) & = default;
  Tensor& operator=(Tensor&&) & = default;
  Tensor& operator=(const Tensor& src) && { return copy_(src); }
  Tensor& operator=(double value) && { return fill_(value); }
  ~Tensor() = default;

  // The storage's version: how many in-place writes it has had. Code that writes through data<T>()
  // into a tensor others may have saved (optimizers, initialisers) calls bump_version() after.
  uint64_t version() const;
  void bump_version() const;

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

// PyTorch's print (precision 4, the middle of more than 1000 elements summarised as "..."),
// with the shape and dtype always after the values, and requires_grad or grad_fn when set:
// "tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], shape=(2, 2), dtype=float32)".
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string to_string(const Tensor& t);  // what operator<< prints

// Memory allocation for a fresh, uninitialised, contiguous tensor.
Tensor empty(Shape shape, Dtype dtype = Dtype::Float32);

// For kernels (no graph): `t` itself when contiguous, else a dense row-major copy of its values.
Tensor contiguous_values(const Tensor& t);
// For kernels (no graph): writes src, broadcast to dst's shape and converted to dst's dtype, into
// dst's elements through dst's strides (dst may be a view). Shapes are checked by the caller.
void write_values(const Tensor& src, const Tensor& dst);

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
template <class T>
std::vector<T> Tensor::to_vector() const {
  check_dtype_access("to_vector", dtype(), dtype_of<T>());
  const Tensor dense = contiguous_values(*this);
  const T* p = dense.data<T>();
  return std::vector<T>(p, p + numel());
}

// item<T>: the value as an int64 (a float value must be integral and in int64's range), and the
// error for an integer T too narrow for it.
int64_t integral_item(const Tensor& t);
[[noreturn]] void throw_item_out_of_range(const Tensor& t, int64_t value);
template <class T>
T Tensor::item() const {
  if constexpr (std::is_integral_v<T>) {
    const int64_t value = integral_item(*this);
    if (!std::in_range<T>(value)) throw_item_out_of_range(*this, value);
    return static_cast<T>(value);
  } else {
    return static_cast<T>(item());
  }
}

}  // namespace humble
