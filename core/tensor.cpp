// core/tensor.cpp — storage, the handle's accessors, and the strided copy kernels views rely on.
#include "tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "allocator.hpp"
#include "dispatch.hpp"
#include "error.hpp"
#include "kernels.hpp"
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

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= std::max<int64_t>(shape[d], 1);
  }
  return strides;
}

Tensor empty(Shape shape, Dtype dtype) {
  // Each stride is a product of the later dims (a 0 counted as 1), and so is the byte count: every
  // one must fit, even when a 0 makes the tensor empty.
  int64_t extent = static_cast<int64_t>(dtype_size(dtype));
  for (int64_t d : shape) {
    if (d < 0) throw ShapeError(str_cat("[empty] dimensions must be >= 0, got ", shape_str(shape)));
    if (__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent))
      throw ShapeError(
          str_cat("[empty] shape ", shape_str(shape), " is too large: its strides or byte count pass 2^63"));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype));
  impl->strides = contiguous_strides(shape);
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

const std::vector<int64_t>& Tensor::strides() const { return checked().strides; }

int64_t Tensor::stride(int64_t d) const {
  const int64_t n = dim();
  if (d < -n || d >= n)
    throw ShapeError(str_cat("[stride] dim ", d, " is out of range for shape ", shape_str(shape())));
  return strides()[static_cast<std::size_t>(d < 0 ? d + n : d)];
}

// Dims of size 1 may have any stride: they are never stepped along.
bool strides_are_contiguous(const Shape& shape, const std::vector<int64_t>& strides) {
  int64_t expected = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

bool Tensor::is_contiguous() const { return checked().contiguous; }

uint64_t Tensor::version() const { return checked().storage->version(); }
void Tensor::bump_version() const { checked().storage->bump_version(); }

namespace {

std::byte* first_element(const TensorImpl& t) {
  return t.storage->data() + static_cast<std::size_t>(t.offset) * dtype_size(t.dtype);
}

}  // namespace

void* Tensor::raw_data() const {
  const TensorImpl& t = checked();
  if (!t.contiguous)
    throw ValueError(str_cat("[data] the tensor ", shape_str(t.shape), " with strides ", shape_str(t.strides),
                             " is a non-contiguous view; call contiguous() first"));
  return first_element(t);
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> out(static_cast<std::size_t>(numel()));
  const Tensor dense = contiguous_values(*this);
  dispatch_all(dtype(), [&]<class T>() {
    const T* p = dense.data<T>();
    std::transform(p, p + numel(), out.begin(), [](T v) { return static_cast<double>(v); });
  });
  return out;
}

double Tensor::item() const {
  if (numel() != 1) throw ShapeError(str_cat("[item] needs a one-element tensor, got shape ", shape_str(shape())));
  return to_vector()[0];
}

int64_t integral_item(const Tensor& t) {
  if (t.numel() != 1) throw ShapeError(str_cat("[item] needs a one-element tensor, got shape ", shape_str(t.shape())));
  if (t.dtype() == Dtype::Int64) return t.to_vector<int64_t>()[0];
  const double v = t.item();
  // 2^63 is the first double past int64's range.
  if (!(v == std::trunc(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0))
    throw ValueError(str_cat("[item] the ", dtype_name(t.dtype()), " value ", v,
                             " is not an integer in range; ask for a floating-point type"));
  return static_cast<int64_t>(v);
}

void throw_item_out_of_range(const Tensor& t, int64_t value) {
  throw ValueError(
      str_cat("[item] the ", dtype_name(t.dtype()), " value ", value, " does not fit the integer type asked for"));
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->offset = t.offset;
  impl->shape = t.shape;
  impl->strides = t.strides;
  impl->contiguous = t.contiguous;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

// Every row (the last dim) of dst, in parallel: each element is written by one task. src's
// strides are 0 along the dims it is broadcast over.
void write_values(const Tensor& src, const Tensor& dst) {
  if (src.shares_storage(dst)) {  // read from a copy, so that no element is read after it was written
    Tensor copy = empty(src.shape(), src.dtype());
    write_values(src, copy);
    write_values(copy, dst);
    return;
  }
  const bool one_value = src.numel() == 1;
  if (dst.is_contiguous() && (one_value || (src.shape() == dst.shape() && src.is_contiguous()))) {
    dispatch_all(src.dtype(), [&]<class From>() {  // flat loops: a fill, or a converting copy
      dispatch_all(dst.dtype(), [&]<class To>() {
        const auto* from = reinterpret_cast<const From*>(first_element(*src.impl()));
        auto* to = reinterpret_cast<To*>(first_element(*dst.impl()));
        parallel_for(dst.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
          if (one_value)
            std::fill(to + lo, to + hi, static_cast<To>(from[0]));
          else
            std::transform(from + lo, from + hi, to + lo, [](From v) { return static_cast<To>(v); });
        });
      });
    });
    return;
  }
  const Shape& shape = dst.shape();
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> src_strides(shape.size(), 0);
  const int64_t lead = rank - src.dim();
  for (int64_t d = 0; d < src.dim(); ++d)
    if (src.shape()[d] != 1) src_strides[lead + d] = src.strides()[d];
  const std::vector<int64_t>& dst_strides = dst.strides();
  const int64_t inner = rank ? shape.back() : 1, n = dst.numel(), rows = inner ? n / inner : 0;
  const int64_t si = rank ? src_strides.back() : 0, di = rank ? dst_strides.back() : 0;
  dispatch_all(src.dtype(), [&]<class From>() {
    dispatch_all(dst.dtype(), [&]<class To>() {
      const auto* from = reinterpret_cast<const From*>(first_element(*src.impl()));
      auto* to = reinterpret_cast<To*>(first_element(*dst.impl()));
      parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t row = lo; row < hi; ++row) {
                       const auto [os, od] = row_start(shape, src_strides, dst_strides, row);
                       for (int64_t j = 0; j < inner; ++j) to[od + j * di] = static_cast<To>(from[os + j * si]);
                     }
                   });
    });
  });
}

Tensor contiguous_values(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.dtype());
  write_values(t, out);
  return out;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

}  // namespace humble
