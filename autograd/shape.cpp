// autograd/shape.cpp — views, copies and rearrangements, each forward beside its backward.
//
// Views share their input's storage and differ only in shape, strides and element offset:
// reshape (when the strides allow it), view, select, narrow, slice, transpose, permute, squeeze,
// unsqueeze. The backward of every view is the same move in reverse: a zero gradient of the
// input's shape, with g written through the same view of it (view_backward). A view op saves its
// input (its values are not read): the engine then notices when the input was changed in place
// before backward, which would make the view's recorded history stale. The rest copy.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>
#include <set>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// A view of t's storage with another shape, strides and element offset.
Tensor view_of(const Tensor& t, Shape shape, std::vector<int64_t> strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->contiguous = strides_are_contiguous(impl->shape, strides);
  impl->strides = std::move(strides);
  impl->dtype = t.dtype();
  impl->is_view = true;
  return Tensor(std::move(impl));
}

std::size_t byte_count(const Tensor& t, int64_t elements) {
  return static_cast<std::size_t>(elements) * dtype_size(t.dtype());
}

// Records a view op: dx = zeros of the input's shape with g written into take_view(dx).
template <class TakeView>
Tensor record_view(const char* op, const Tensor& x, Tensor out, TakeView take_view) {
  return record(op, std::move(out), {x}, {x},
                [source = x.shape(), take_view](const Tensor& g, const Tensors&) -> Tensors {
                  Tensor dx = zeros(source, g.dtype());
                  write_values(g, take_view(dx));
                  return {dx};
                });
}

// Strides that let (shape, strides) be read as `target` without moving data, if any exist
// (dims merged or split only within runs that are contiguous with each other); as PyTorch's view.
std::optional<std::vector<int64_t>> view_strides(const Shape& shape, const std::vector<int64_t>& strides,
                                                 const Shape& target) {
  if (shape.empty() || shape_numel(shape) == 0) return contiguous_strides(target);
  std::vector<int64_t> out(target.size(), 1);
  auto view_d = static_cast<int64_t>(target.size()) - 1;
  int64_t chunk_stride = strides.back(), tensor_numel = 1, view_numel = 1;
  for (auto d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[d];
    // The end of a run of dims laid out contiguously with each other.
    if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || target[view_d] == 1)) {
        out[view_d] = view_numel * chunk_stride;
        view_numel *= target[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_stride = strides[d - 1];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

// `target` with its one −1 inferred, checked to hold as many elements as `shape`.
Shape resolved_shape(const char* op, const Shape& shape, Shape target) {
  const int64_t n = shape_numel(shape);
  int64_t known = 1, inferred = -1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && inferred < 0) {
      inferred = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw ShapeError(str_cat("[", op, "] invalid shape ", shape_str(target), " for ", shape_str(shape)));
    } else {
      known *= target[i];
    }
  }
  if (inferred >= 0 && known > 0 && n % known == 0) target[inferred] = n / known;
  if (shape_numel(target) != n || (inferred >= 0 && target[inferred] < 0))
    throw ShapeError(
        str_cat("[", op, "] cannot view ", shape_str(shape), " (", n, " elements) as ", shape_str(target)));
  return target;
}

// An index along a dim of `size`, negatives counting from the end.
int64_t normalize_index(const char* op, int64_t index, int64_t size, int64_t dim, const Shape& shape) {
  if (index < -size || index >= size)
    throw ShapeError(str_cat("[", op, "] index ", index, " is out of range for dim ", dim, " of size ", size,
                             " (shape ", shape_str(shape), "): expected ", -size, " to ", size - 1));
  return index < 0 ? index + size : index;
}

int64_t checked_dim(const char* op, const Tensor& t, int64_t dim) {
  if (t.dim() == 0) throw ShapeError(str_cat("[", op, "] a 0-d tensor has no dims"));
  return normalize_dim(op, dim, t.dim());
}

}  // namespace

// reshape: the same elements in another shape (a view when the strides allow it);  dx = g reshaped back
Tensor Tensor::reshape(Shape target) const {
  target = resolved_shape("reshape", shape(), std::move(target));
  if (view_strides(shape(), strides(), target)) return view(target);
  return contiguous().view(target);
}

// view: reshape that never copies
Tensor Tensor::view(Shape target) const {
  target = resolved_shape("view", shape(), std::move(target));
  const auto strides_of_view = view_strides(shape(), strides(), target);
  if (!strides_of_view)
    throw ShapeError(str_cat("[view] cannot view ", shape_str(shape()), " with strides ", shape_str(strides()), " as ",
                             shape_str(target), " without copying; use reshape() or contiguous() first"));
  Tensor out = view_of(*this, target, *strides_of_view, impl_->offset);
  return record("reshape", out, {*this}, {*this},
                [source = shape()](const Tensor& g, const Tensors&) -> Tensors { return {g.reshape(source)}; });
}

Tensor Tensor::flatten(int64_t start_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t start = normalize_dim("flatten", start_dim, dim());
  Shape target(shape().begin(), shape().begin() + start);
  target.push_back(-1);
  return reshape(target);
}

// slice: x[begin:end:step] along dim, a view;  dx = zeros with g written into the same slice
Tensor Tensor::slice(int64_t dim, int64_t begin, int64_t end, int64_t step) const {
  const int64_t d = checked_dim("slice", *this, dim);
  if (step < 1) throw ValueError(str_cat("[slice] step must be >= 1, got ", step));
  const int64_t size = shape()[d];
  const auto clamp_bound = [size](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + size : i, 0, size); };
  const int64_t first = clamp_bound(begin), last = std::max(first, clamp_bound(end));
  Shape target = shape();
  std::vector<int64_t> target_strides = strides();
  target[d] = (last - first + step - 1) / step;
  target_strides[d] *= step;
  Tensor out = view_of(*this, target, target_strides, impl_->offset + first * strides()[d]);
  return record_view("slice", *this, out,
                     [d, first, last, step](const Tensor& t) { return t.slice(d, first, last, step); });
}

// narrow: elements [start, start + length) along dim, which must lie inside it
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  const int64_t d = checked_dim("narrow", *this, dim), size = shape()[d];
  const int64_t first = start < 0 ? start + size : start;
  if (first < 0 || length < 0 || first + length > size)
    throw ShapeError(str_cat("[narrow] start ", start, " and length ", length, " do not fit dim ", d, " of size ", size,
                             " (shape ", shape_str(shape()), ")"));
  return slice(d, first, first + length);
}

// select: the slab at `index` along dim, that dim dropped;  dx = zeros with g written into that slab
Tensor Tensor::select(int64_t dim, int64_t index) const {
  const int64_t d = checked_dim("select", *this, dim);
  const int64_t i = normalize_index("select", index, shape()[d], d, shape());
  Shape target = shape();
  std::vector<int64_t> target_strides = strides();
  target.erase(target.begin() + d);
  target_strides.erase(target_strides.begin() + d);
  Tensor out = view_of(*this, target, target_strides, impl_->offset + i * strides()[d]);
  return record_view("select", *this, out, [d, i](const Tensor& t) { return t.select(d, i); });
}

// permute: out dim i is input dim dims[i], a view;  dx = g permuted by the inverse
Tensor Tensor::permute(std::vector<int64_t> dims) const {
  const int64_t rank = dim();
  if (static_cast<int64_t>(dims.size()) != rank)
    throw ShapeError(str_cat("[permute] needs ", rank, " dims for shape ", shape_str(shape()), ", got ", dims.size()));
  for (auto& d : dims) d = normalize_dim("permute", d, rank);
  std::vector<int64_t> inverse(dims.size(), -1);
  for (int64_t i = 0; i < rank; ++i) {
    if (inverse[dims[i]] >= 0) throw ShapeError(str_cat("[permute] dim ", dims[i], " is listed twice"));
    inverse[dims[i]] = i;
  }
  Shape target(rank);
  std::vector<int64_t> target_strides(rank);
  for (int64_t i = 0; i < rank; ++i) {
    target[i] = shape()[dims[i]];
    target_strides[i] = strides()[dims[i]];
  }
  Tensor out = view_of(*this, target, target_strides, impl_->offset);
  return record("permute", out, {*this}, {*this},
                [inverse](const Tensor& g, const Tensors&) -> Tensors { return {g.permute(inverse)}; });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  const int64_t d0 = normalize_dim("transpose", dim0, dim()), d1 = normalize_dim("transpose", dim1, dim());
  std::vector<int64_t> dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  if (dim() > 0) std::swap(dims[d0], dims[d1]);  // a 0-d tensor is its own transpose
  return permute(dims);
}

Tensor Tensor::t() const {
  if (dim() > 2) throw ShapeError(str_cat("[t] expects a tensor of rank <= 2, got ", shape_str(shape())));
  return dim() == 2 ? transpose(0, 1) : *this;
}

Tensor Tensor::squeeze(int64_t dim) const {
  const int64_t d = normalize_dim("squeeze", dim, this->dim());
  if (this->dim() == 0 || shape()[d] != 1)
    throw ShapeError(str_cat("[squeeze] dim ", dim, " of ", shape_str(shape()), " is not of size 1"));
  Shape target = shape();
  target.erase(target.begin() + d);
  return view(target);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  const int64_t d = normalize_dim("unsqueeze", dim, this->dim() + 1);
  Shape target = shape();
  target.insert(target.begin() + d, 1);
  return view(target);
}

// contiguous: the same values, dense;  dx = g
Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return record("contiguous", contiguous_values(*this), {*this}, [](const Tensor& g) -> Tensors { return {g}; });
}

// clone: a dense copy of the data;  dx = g
Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  write_values(*this, out);
  return record("clone", out, {*this}, [](const Tensor& g) -> Tensors { return {g}; });
}

// to: the values converted to `target`;  dx = g converted back (floats only: int64 has no gradient)
Tensor Tensor::to(Dtype target) const {
  if (dtype() == target) return *this;
  Tensor out = empty(shape(), target);
  if (target == Dtype::Int64) {  // truncation toward zero, like a C++ cast, where that is defined
    const std::vector<double> values = to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) checked_int64(values[i], "to", static_cast<int64_t>(i), true);
  }
  write_values(*this, out);
  if (target == Dtype::Int64) return out;
  return record("to", out, {*this}, [source = dtype()](const Tensor& g) -> Tensors { return {g.to(source)}; });
}

Tensor reshape(const Tensor& x, Shape shape) { return x.reshape(std::move(shape)); }
Tensor squeeze(const Tensor& x, int64_t dim) { return x.squeeze(dim); }
Tensor unsqueeze(const Tensor& x, int64_t dim) { return x.unsqueeze(dim); }
Tensor permute(const Tensor& x, std::vector<int64_t> dims) { return x.permute(std::move(dims)); }
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) { return x.transpose(dim0, dim1); }

// cat: inputs laid end to end along dim;  dx_k = the slab of g that input k filled
Tensor cat(const std::vector<Tensor>& inputs, int64_t dim) {
  if (inputs.empty()) throw ShapeError("[cat] needs at least one tensor");
  const Tensor& first = inputs.front();
  if (first.dim() == 0) throw ShapeError("[cat] 0-d tensors have no dim to join along; use stack");
  const int64_t d = normalize_dim("cat", dim, first.dim());
  Shape shape = first.shape();
  shape[d] = 0;
  Tensors tensors;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    Shape expected = first.shape();
    expected[d] = t.dim() == first.dim() ? t.shape()[d] : -1;
    if (t.shape() != expected || t.dtype() != first.dtype())
      throw_mismatch(
          t.shape(), expected,
          str_cat("[cat] tensor ", k, " is ", shape_str(t.shape()), " ", dtype_name(t.dtype()), " but tensor 0 is ",
                  shape_str(first.shape()), " ", dtype_name(first.dtype()), "; they may differ only in dim ", d));
    shape[d] += t.shape()[d];
    tensors.push_back(t.contiguous());
  }
  const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + d));
  const int64_t inner = shape_numel(Shape(shape.begin() + d + 1, shape.end()));
  Tensor out = empty(shape, first.dtype());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (int64_t o = 0, placed = 0; o < outer; ++o)
    for (const Tensor& t : tensors) {
      const int64_t width = t.shape()[d] * inner;
      std::memcpy(dst + byte_count(out, placed), static_cast<const std::byte*>(t.raw_data()) + byte_count(t, o * width),
                  byte_count(t, width));
      placed += width;
    }
  std::vector<int64_t> widths;  // each input's extent along dim
  for (const Tensor& t : tensors) widths.push_back(t.shape()[d]);
  return record("cat", out, tensors, [widths, d](const Tensor& g) -> Tensors {
    Tensors grads;
    int64_t start = 0;
    for (int64_t width : widths) {
      grads.push_back(g.narrow(d, start, width));
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

void check_index_dtype(const char* op, const Tensor& index) {
  if (index.dtype() != Dtype::Int64)
    throw ValueError(str_cat("[", op, "] index must be int64, got ", dtype_name(index.dtype())));
}

// Every index in [0, bound) (gather, one_hot: class labels, where −1 would silently mean the last class).
void check_index(const char* op, const Tensor& index, int64_t bound) {
  check_index_dtype(op, index);
  const std::vector<int64_t> p = index.to_vector<int64_t>();
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] < 0 || p[i] >= bound)
      throw ValueError(str_cat("[", op, "] index ", p[i], " at position ", i, " is out of range [0, ", bound, ")"));
}

}  // namespace

namespace {

// The indices' values with negatives counted from the end of a dim of `size`.
std::vector<int64_t> resolved_indices(const char* op, const Tensor& index, int64_t size) {
  check_index_dtype(op, index);
  std::vector<int64_t> p = index.to_vector<int64_t>();
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] < -size || p[i] >= size)
      throw ValueError(str_cat("[", op, "] index ", p[i], " at position ", i, " is out of range for size ", size,
                               " (expected ", -size, " to ", size - 1, ")"));
    if (p[i] < 0) p[i] += size;
  }
  return p;
}

}  // namespace

// index_select: out[a, k, b] = x[a, index[k], b] along dim (x seen as (A, S, B));  dx[a, index[k], b] += g[a, k, b]
Tensor index_select(const Tensor& input, int64_t dim, const Tensor& index) {
  if (input.dim() == 0 || index.dim() != 1)
    throw ShapeError(str_cat("[index_select] needs x of rank >= 1 and a 1-D index, got ", shape_str(input.shape()),
                             " and ", shape_str(index.shape())));
  const int64_t d = normalize_dim("index_select", dim, input.dim());
  const Tensor x = input.contiguous();
  const std::vector<int64_t> idx = resolved_indices("index_select", index, x.shape()[d]);
  const auto K = static_cast<int64_t>(idx.size()), S = x.shape()[d];
  const int64_t A = shape_numel(Shape(x.shape().begin(), x.shape().begin() + d));
  const int64_t B = shape_numel(Shape(x.shape().begin() + d + 1, x.shape().end()));
  Shape shape = x.shape();
  shape[d] = K;
  Tensor out = empty(shape, x.dtype());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  const auto* src = static_cast<const std::byte*>(x.raw_data());
  for (int64_t a = 0; a < A; ++a)
    for (int64_t k = 0; k < K; ++k)
      std::memcpy(dst + byte_count(x, (a * K + k) * B), src + byte_count(x, (a * S + idx[k]) * B), byte_count(x, B));
  // The closure keeps the indices' values, not the index tensor: a later change to it changes nothing here.
  return record("index_select", out, {x}, [idx, source = x.shape(), A, S, B, K](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), "index_select", [&]<class T>() {
      Tensor dx = zeros(source, g.dtype());
      T* pdx = dx.data<T>();
      const T* pg = g.data<T>();
      for (int64_t a = 0; a < A; ++a)
        for (int64_t k = 0; k < K; ++k)
          for (int64_t b = 0; b < B; ++b) pdx[(a * S + idx[k]) * B + b] += pg[(a * K + k) * B + b];
      return dx;
    })};
  });
}

Tensor index_select(const Tensor& x, const Tensor& index) { return index_select(x, 0, index); }

// index_put: out = x with rows index[k] of dim 0 set to (or, accumulating, increased by) v[k], v = values
// broadcast to (K, …);  dx = g (rows index[k] zeroed unless accumulating), dvalues = sum_to(g[index])
Tensor index_put(const Tensor& x, const Tensor& index, const Tensor& values, bool accumulate) {
  if (x.dim() == 0 || index.dim() != 1)
    throw ShapeError(str_cat("[index_put_] needs x of rank >= 1 and a 1-D index, got ", shape_str(x.shape()), " and ",
                             shape_str(index.shape())));
  const std::vector<int64_t> idx = resolved_indices("index_put_", index, x.shape()[0]);
  if (!accumulate) {
    std::set<int64_t> seen;
    for (int64_t i : idx)
      if (!seen.insert(i).second)
        throw ValueError(str_cat("[index_put_] row ", i,
                                 " is indexed twice: without accumulate the result would "
                                 "depend on the order of the writes"));
  }
  if (values.dtype() != x.dtype())
    throw ValueError(
        str_cat("[index_put_] values are ", dtype_name(values.dtype()), " but the tensor is ", dtype_name(x.dtype())));
  Shape rows_shape = x.shape();
  rows_shape[0] = static_cast<int64_t>(idx.size());
  if (broadcast_shapes("index_put_", values.shape(), rows_shape) != rows_shape)
    throw ShapeError(str_cat("[index_put_] values ", shape_str(values.shape()), " do not broadcast to the ",
                             shape_str(rows_shape), " rows they fill"));
  const Tensor rows = contiguous_values(broadcast_to(values.detach(), rows_shape));
  Tensor out = x.detach().clone();
  dispatch_all(x.dtype(), [&]<class T>() {
    T* po = out.data<T>();
    const T* pv = rows.data<T>();
    const int64_t width = x.numel() / std::max<int64_t>(x.shape()[0], 1);
    for (std::size_t k = 0; k < idx.size(); ++k)
      for (int64_t j = 0; j < width; ++j) {
        T& slot = po[idx[k] * width + j];
        slot = accumulate ? slot + pv[k * width + j] : pv[k * width + j];
      }
  });
  Tensor index_values = tensor(std::vector<double>(idx.begin(), idx.end()), {rows_shape[0]}, Dtype::Int64);
  return record("index_put", out, {x, values},
                [index_values, accumulate, value_shape = values.shape()](const Tensor& g) -> Tensors {
                  Tensor dx = g;
                  if (!accumulate) {
                    dx = g.clone();
                    dx.index_put_(index_values, zeros({}, g.dtype()));
                  }
                  return {dx, sum_to(index_select(g, 0, index_values), value_shape)};
                });
}

// gather: out[a, i, b] = x[a, index[a, i, b], b] along dim;  dx[a, index[a, i, b], b] += g[a, i, b]
Tensor gather(const Tensor& input, int64_t dim, const Tensor& index_in) {
  const int64_t d = normalize_dim("gather", dim, input.dim());
  Shape expected = input.shape();
  if (index_in.dim() == input.dim()) expected[d] = index_in.shape()[d];
  if (index_in.shape() != expected)
    throw ShapeError(str_cat("[gather] index ", shape_str(index_in.shape()), " must match x ", shape_str(input.shape()),
                             " in every dim but ", d));
  check_index("gather", index_in, input.shape()[d]);
  const Tensor x = input.contiguous(), index = contiguous_values(index_in);
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
    const T* px = x.data<T>();
    T* po = result.data<T>();
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t i = 0; i < picks; ++i)
        for (int64_t b = 0; b < inner; ++b) po[(a * picks + i) * inner + b] = px[source(idx, a, i, b)];
    return result;
  });
  return record("gather", out, {x}, {index}, [=, shape = x.shape()](const Tensor& g, const Tensors& saved) -> Tensors {
    return {dispatch_float(g.dtype(), "gather", [&]<class T>() {
      Tensor dx = zeros(shape, g.dtype());
      const int64_t* idx = saved[0].data<int64_t>();
      T* pdx = dx.data<T>();
      const T* pg = g.data<T>();
      for (int64_t a = 0; a < outer; ++a)
        for (int64_t i = 0; i < picks; ++i)
          for (int64_t b = 0; b < inner; ++b) pdx[source(idx, a, i, b)] += pg[(a * picks + i) * inner + b];
      return dx;
    })};
  });
}

Tensor one_hot(const Tensor& labels_in, int64_t num_classes, Dtype dtype) {
  if (num_classes < 1) throw ValueError(str_cat("[one_hot] num_classes must be >= 1, got ", num_classes));
  check_index("one_hot", labels_in, num_classes);
  const Tensor labels = contiguous_values(labels_in);
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, dtype);
  const int64_t* p = labels.data<int64_t>();
  dispatch_all(dtype, [&]<class T>() {
    T* po = out.data<T>();
    for (int64_t i = 0; i < labels.numel(); ++i) po[i * num_classes + p[i]] = 1;
  });
  return out;
}

}  // namespace humble
