// autograd/shape.cpp — views, copies and rearrangements, each forward beside its backward.
//
// reshape/flatten/slice/operator[] return views sharing storage; the rest copy.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// A view of t's storage with another shape and element offset.
Tensor view_of(const Tensor& t, Shape shape, int64_t extra_offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->offset = t.impl()->offset + extra_offset;
  impl->shape = std::move(shape);
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

std::size_t byte_count(const Tensor& t, int64_t elements) {
  return static_cast<std::size_t>(elements) * dtype_size(t.dtype());
}

}  // namespace

// reshape: a view with the same elements;  dx = g reshaped back
Tensor Tensor::reshape(Shape target) const {
  const int64_t n = numel();
  int64_t known = 1, inferred = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && inferred < 0) {
      inferred = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw ShapeError(str_cat("[reshape] invalid shape ", shape_str(target), " for ", shape_str(shape())));
    } else {
      known *= target[i];
    }
  }
  if (inferred >= 0 && known > 0 && n % known == 0) target[inferred] = n / known;
  if (shape_numel(target) != n || (inferred >= 0 && target[inferred] < 0))
    throw ShapeError(
        str_cat("[reshape] cannot view ", shape_str(shape()), " (", n, " elements) as ", shape_str(target)));
  return record("reshape", view_of(*this, target, 0), {*this},
                [source = shape()](const Tensor& g) -> Tensors { return {g.reshape(source)}; });
}

Tensor Tensor::flatten(int64_t start_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t start = normalize_dim("flatten", start_dim, dim());
  Shape target(shape().begin(), shape().begin() + start);
  target.push_back(-1);
  return reshape(target);
}

// slice: rows [begin, end) of dim 0, a view;  dx = g placed into zeros at those rows
Tensor Tensor::slice(int64_t begin, int64_t end) const {
  if (dim() == 0 || begin < 0 || end > shape()[0] || begin > end)
    throw ShapeError(str_cat("[slice] rows [", begin, ", ", end, ") are out of range for shape ", shape_str(shape())));
  Shape target = shape();
  target[0] = end - begin;
  const int64_t row = dim() ? numel() / std::max<int64_t>(shape()[0], 1) : 1;
  return record("slice", view_of(*this, target, begin * row), {*this},
                [source = shape(), begin, row](const Tensor& g) -> Tensors {
                  Tensor dx = zeros(source, g.dtype());
                  std::memcpy(static_cast<std::byte*>(dx.raw_data()) + byte_count(g, begin * row), g.raw_data(),
                              byte_count(g, g.numel()));
                  return {dx};
                });
}

Tensor Tensor::operator[](int64_t row) const {
  if (dim() == 0 || row < 0 || row >= shape()[0])
    throw ShapeError(str_cat("[index] row ", row, " is out of range for shape ", shape_str(shape())));
  return squeeze(slice(row, row + 1), 0);
}

// clone: a copy of the data;  dx = g
Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  out.copy_(*this);
  return record("clone", out, {*this}, [](const Tensor& g) -> Tensors { return {g}; });
}

Tensor reshape(const Tensor& x, Shape shape) { return x.reshape(std::move(shape)); }

Tensor squeeze(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim("squeeze", dim, x.dim());
  if (x.dim() == 0 || x.shape()[d] != 1)
    throw ShapeError(str_cat("[squeeze] dim ", dim, " of ", shape_str(x.shape()), " is not of size 1"));
  Shape target = x.shape();
  target.erase(target.begin() + d);
  return x.reshape(target);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = normalize_dim("unsqueeze", dim, x.dim() + 1);
  Shape target = x.shape();
  target.insert(target.begin() + d, 1);
  return x.reshape(target);
}

// permute: out[i_p0, i_p1, ...] = x[i_0, i_1, ...];  dx = g permuted by the inverse
Tensor permute(const Tensor& x, std::vector<int64_t> dims) {
  const int64_t rank = x.dim();
  if (static_cast<int64_t>(dims.size()) != rank)
    throw ShapeError(
        str_cat("[permute] needs ", rank, " dims for shape ", shape_str(x.shape()), ", got ", dims.size()));
  for (auto& d : dims) d = normalize_dim("permute", d, rank);
  std::vector<int64_t> inverse(dims.size(), -1);
  for (int64_t i = 0; i < rank; ++i) {
    if (inverse[dims[i]] >= 0) throw ShapeError(str_cat("[permute] dim ", dims[i], " is listed twice"));
    inverse[dims[i]] = i;
  }
  Shape shape(rank);
  std::vector<int64_t> in_strides(rank), source_strides(rank);
  for (int64_t d = rank - 1, stride = 1; d >= 0; stride *= x.shape()[d], --d) in_strides[d] = stride;
  for (int64_t i = 0; i < rank; ++i) {
    shape[i] = x.shape()[dims[i]];
    source_strides[i] = in_strides[dims[i]];
  }
  Tensor out = empty(shape, x.dtype());
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    parallel_for(out.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        int64_t offset = 0;
        for (int64_t d = rank - 1, rest = i; d >= 0; --d) {
          offset += (rest % shape[d]) * source_strides[d];
          rest /= shape[d];
        }
        dst[i] = src[offset];
      }
    });
  });
  return record("permute", out, {x}, [inverse](const Tensor& g) -> Tensors { return {permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  const int64_t d0 = normalize_dim("transpose", dim0, x.dim()), d1 = normalize_dim("transpose", dim1, x.dim());
  std::vector<int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  if (x.dim() > 0) std::swap(dims[d0], dims[d1]);  // a 0-d tensor is its own transpose
  return permute(x, dims);
}

// cat: inputs laid end to end along dim;  dx_k = the slab of g that input k filled
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ShapeError("[cat] needs at least one tensor");
  const Tensor& first = tensors.front();
  if (first.dim() == 0) throw ShapeError("[cat] 0-d tensors have no dim to join along; use stack");
  const int64_t d = normalize_dim("cat", dim, first.dim());
  Shape shape = first.shape();
  shape[d] = 0;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    Shape expected = first.shape();
    expected[d] = t.dim() == first.dim() ? t.shape()[d] : -1;
    if (t.shape() != expected || t.dtype() != first.dtype())
      throw_mismatch(
          t.shape(), expected,
          str_cat("[cat] tensor ", k, " is ", shape_str(t.shape()), " ", dtype_name(t.dtype()), " but tensor 0 is ",
                  shape_str(first.shape()), " ", dtype_name(first.dtype()), "; they may differ only in dim ", d));
    shape[d] += t.shape()[d];
  }
  const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + d));
  const int64_t inner = shape_numel(Shape(shape.begin() + d + 1, shape.end()));
  Tensor out = empty(shape, first.dtype());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  std::vector<int64_t> widths;  // elements each input contributes per outer index
  for (int64_t o = 0, placed = 0; o < outer; ++o)
    for (const Tensor& t : tensors) {
      const int64_t width = t.shape()[d] * inner;
      std::memcpy(dst + byte_count(out, placed), static_cast<const std::byte*>(t.raw_data()) + byte_count(t, o * width),
                  byte_count(t, width));
      placed += width;
    }
  for (const Tensor& t : tensors) widths.push_back(t.shape()[d]);
  return record("cat", out, tensors, [widths, d](const Tensor& g) -> Tensors {
    Tensors grads;
    int64_t start = 0;
    for (int64_t width : widths) {
      std::vector<int64_t> order(g.dim());
      std::iota(order.begin(), order.end(), 0);
      std::swap(order[0], order[d]);  // bring dim d to the front, slice rows, move it back
      grads.push_back(permute(permute(g, order).slice(start, start + width), order));
      start += width;
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ShapeError("[stack] needs at least one tensor");
  const int64_t d = normalize_dim("stack", dim, tensors.front().dim() + 1);
  std::vector<Tensor> expanded;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    if (tensors[k].shape() != tensors.front().shape())
      throw ShapeError(str_cat("[stack] tensor ", k, " is ", shape_str(tensors[k].shape()), " but tensor 0 is ",
                               shape_str(tensors.front().shape())));
    expanded.push_back(unsqueeze(tensors[k], d));
  }
  return cat(expanded, d);
}

namespace {

void check_index(const char* op, const Tensor& index, int64_t bound) {
  if (index.dtype() != Dtype::Int64)
    throw ValueError(str_cat("[", op, "] index must be int64, got ", dtype_name(index.dtype())));
  const int64_t* p = index.data<int64_t>();
  for (int64_t i = 0; i < index.numel(); ++i)
    if (p[i] < 0 || p[i] >= bound)
      throw ValueError(str_cat("[", op, "] index ", p[i], " at position ", i, " is out of range [0, ", bound, ")"));
}

}  // namespace

// index_select: out[k] = x[index[k]] along dim 0;  dx[index[k]] += g[k]
Tensor index_select(const Tensor& x, const Tensor& index) {
  if (x.dim() == 0 || index.dim() != 1)
    throw ShapeError(str_cat("[index_select] needs x of rank >= 1 and a 1-D index, got ", shape_str(x.shape()), " and ",
                             shape_str(index.shape())));
  check_index("index_select", index, x.shape()[0]);
  Shape shape = x.shape();
  shape[0] = index.numel();
  const int64_t row = x.numel() / std::max<int64_t>(x.shape()[0], 1);
  Tensor out = empty(shape, x.dtype());
  const int64_t* idx = index.data<int64_t>();
  for (int64_t k = 0; k < index.numel(); ++k)
    std::memcpy(static_cast<std::byte*>(out.raw_data()) + byte_count(x, k * row),
                static_cast<const std::byte*>(x.raw_data()) + byte_count(x, idx[k] * row), byte_count(x, row));
  return record("index_select", out, {x}, [index, source = x.shape(), row](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), "index_select", [&]<class T>() {
      Tensor dx = zeros(source, g.dtype());
      const int64_t* idx = index.data<int64_t>();
      for (int64_t k = 0; k < index.numel(); ++k)
        for (int64_t j = 0; j < row; ++j) dx.data<T>()[idx[k] * row + j] += g.data<T>()[k * row + j];
      return dx;
    })};
  });
}

// gather: out[a, i, b] = x[a, index[a, i, b], b] along dim;  dx[a, index[a, i, b], b] += g[a, i, b]
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t d = normalize_dim("gather", dim, x.dim());
  Shape expected = x.shape();
  if (index.dim() == x.dim()) expected[d] = index.shape()[d];
  if (index.shape() != expected)
    throw ShapeError(str_cat("[gather] index ", shape_str(index.shape()), " must match x ", shape_str(x.shape()),
                             " in every dim but ", d));
  check_index("gather", index, x.shape()[d]);
  const int64_t outer = shape_numel(Shape(x.shape().begin(), x.shape().begin() + d));
  const int64_t inner = shape_numel(Shape(x.shape().begin() + d + 1, x.shape().end()));
  const int64_t span = x.shape()[d], picks = index.shape()[d];
  // Source offset of output element (a, i, b).
  const auto source = [=](const int64_t* idx, int64_t a, int64_t i, int64_t b) {
    return (a * span + idx[(a * picks + i) * inner + b]) * inner + b;
  };
  Tensor out = dispatch_all(x.dtype(), [&]<class T>() {
    Tensor result = empty(index.shape(), x.dtype());
    const int64_t* idx = index.data<int64_t>();
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t i = 0; i < picks; ++i)
        for (int64_t b = 0; b < inner; ++b)
          result.data<T>()[(a * picks + i) * inner + b] = x.data<T>()[source(idx, a, i, b)];
    return result;
  });
  return record("gather", out, {x}, [=, shape = x.shape()](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), "gather", [&]<class T>() {
      Tensor dx = zeros(shape, g.dtype());
      const int64_t* idx = index.data<int64_t>();
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t i = 0; i < picks; ++i)
          for (int64_t b = 0; b < inner; ++b)
            dx.data<T>()[source(idx, a, i, b)] += g.data<T>()[(a * picks + i) * inner + b];
      return dx;
    })};
  });
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, Dtype dtype) {
  if (num_classes < 1) throw ValueError(str_cat("[one_hot] num_classes must be >= 1, got ", num_classes));
  check_index("one_hot", labels, num_classes);
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, dtype);
  const int64_t* p = labels.data<int64_t>();
  dispatch_all(dtype, [&]<class T>() {
    for (int64_t i = 0; i < labels.numel(); ++i) out.data<T>()[i * num_classes + p[i]] = 1;
  });
  return out;
}

}  // namespace humble
