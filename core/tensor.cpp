// core/tensor.cpp — storage, the handle's accessors, copies and printing.
#include "tensor.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "allocator.hpp"
#include "dispatch.hpp"
#include "error.hpp"
#include "parallel.hpp"

namespace humble {

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return "float32";
    case Dtype::Float64:
      return "float64";
    case Dtype::Int64:
      return "int64";
  }
  return "unknown";
}

std::size_t dtype_size(Dtype dtype) { return dtype == Dtype::Float32 ? 4 : 8; }

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << (shape.size() == 1 ? ",)" : ")");
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Storage::Storage(std::size_t bytes) : data_(static_cast<std::byte*>(allocate_block(bytes))), bytes_(bytes) {}

Storage::~Storage() { release_block(data_, bytes_); }

Tensor empty(Shape shape, Dtype dtype) {
  for (int64_t d : shape)
    if (d < 0) throw ShapeError(str_cat("[empty] dimensions must be >= 0, got ", shape_str(shape)));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype));
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

void check_dtype_access(const char* op, Dtype have, Dtype want) {
  if (have != want)
    throw ValueError(str_cat("[", op, "] tensor is ", dtype_name(have), " but ", dtype_name(want), " was asked for"));
}

const TensorImpl& Tensor::checked() const {
  if (!impl_) throw ValueError("[tensor] operation on an undefined tensor");
  return *impl_;
}

const Shape& Tensor::shape() const { return checked().shape; }
Dtype Tensor::dtype() const { return checked().dtype; }

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  if (d < -n || d >= n) throw ShapeError(str_cat("[size] dim ", d, " is out of range for shape ", shape_str(shape())));
  return shape()[static_cast<std::size_t>(d < 0 ? d + n : d)];
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked();
  return t.storage->data() + static_cast<std::size_t>(t.offset) * dtype_size(t.dtype);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> out(static_cast<std::size_t>(numel()));
  dispatch_all(dtype(), [&]<class T>() {
    const T* p = data<T>();
    std::transform(p, p + numel(), out.begin(), [](T v) { return static_cast<double>(v); });
  });
  return out;
}

double Tensor::item() const {
  if (numel() != 1) throw ShapeError(str_cat("[item] needs a one-element tensor, got shape ", shape_str(shape())));
  return to_vector()[0];
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->offset = t.offset;
  impl->shape = t.shape;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

Tensor Tensor::to(Dtype target) const {
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  dispatch_all(dtype(), [&]<class From>() {
    dispatch_all(target, [&]<class To>() {
      const From* src = data<From>();
      To* dst = out.data<To>();
      parallel_for(numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) dst[i] = static_cast<To>(src[i]);
      });
    });
  });
  return out;
}

Tensor& Tensor::copy_(const Tensor& src) {
  if (src.shape() != shape() || src.dtype() != dtype())
    throw_mismatch(src.shape(), shape(),
                   str_cat("[copy_] source is ", shape_str(src.shape()), " ", dtype_name(src.dtype()),
                           ", destination is ", shape_str(shape()), " ", dtype_name(dtype())));
  if (src.raw_data() != raw_data())
    std::memmove(raw_data(), src.raw_data(), static_cast<std::size_t>(numel()) * dtype_size(dtype()));
  return *this;
}

Tensor& Tensor::fill_(double value) {
  dispatch_all(dtype(), [&]<class T>() {
    T* p = data<T>();
    std::fill(p, p + numel(), static_cast<T>(value));
  });
  return *this;
}

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  std::ostringstream out;
  out << "tensor(" << shape_str(t.shape()) << ", " << dtype_name(t.dtype()) << ", [";
  const auto values = t.to_vector();
  const std::size_t shown = std::min<std::size_t>(values.size(), 8);
  for (std::size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << values[i];
  out << (values.size() > shown ? ", ...])" : "])");
  return out.str();
}

}  // namespace humble
