// autograd/inplace.cpp — in-place ops: copy_, fill_, zero_, add_/sub_/mul_/div_, clamp_,
// masked_fill_, index_put_.
//
// Every one is the same three steps around its out-of-place twin f:
//   1. check: a leaf that requires grad is refused in grad mode (it is what gradients are for);
//      so is a view whose change would need recording (its base's history could not follow);
//   2. compute the new value f(old) — in grad mode, when anything involved requires grad, from
//      old = clone(self), so that f records its node (and may save old) as any op does;
//   3. commit: write the value through self's strides (into its base when self is a view), bump
//      the storage's version, and, when recorded, make f's node self's history.
// The version bump is what makes a saved tensor changed afterwards fail loudly in backward
// (engine.cpp); the clone is what lets a recorded in-place op keep the old value it needs.
#include <cmath>

#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// Step 1: true when the change must be recorded.
bool check_in_place(const char* op, const Tensor& self, const Tensors& sources) {
  if (!self.defined()) throw ValueError(str_cat("[", op, "] operation on an undefined tensor"));
  if (!grad_enabled()) return false;
  if (self.requires_grad() && self.is_leaf())
    throw ValueError(str_cat("[", op, "] the tensor ", shape_str(self.shape()),
                             " is a leaf that requires grad: changing it in place would lose the value its "
                             "gradient is for; change it under NoGradGuard (as optimizers do) or change a clone()"));
  bool tracked = self.requires_grad();
  for (const Tensor& t : sources) tracked = tracked || (t.defined() && t.requires_grad());
  if (tracked && self.impl()->is_view)
    throw ValueError(str_cat("[", op, "] the tensor ", shape_str(self.shape()),
                             " is a view, and this change would need recording for autograd, which the history of "
                             "its base cannot follow; build the result out of place (cat, stack, where, index_put) "
                             "or change it under NoGradGuard"));
  return tracked;
}

// Step 3.
Tensor& commit(const char* op, Tensor& self, const Tensor& value, bool tracked) {
  if (value.shape() != self.shape())
    throw ShapeError(str_cat("[", op, "] the result would be ", shape_str(value.shape()), " but the tensor is ",
                             shape_str(self.shape()),
                             ": an in-place op keeps its tensor's shape (only the other "
                             "operand broadcasts)"));
  if (value.dtype() != self.dtype() && !(value.is_floating_point() && self.is_floating_point()))
    throw ValueError(str_cat("[", op, "] the result is ", dtype_name(value.dtype()), " but the tensor is ",
                             dtype_name(self.dtype()),
                             ": an in-place op cannot change a tensor's dtype; use the out-of-place op"));
  write_values(value, self);
  self.bump_version();
  if (tracked) self.impl()->autograd = value.requires_grad() ? value.impl()->autograd : nullptr;
  return self;
}

// Steps 1–3 for a new value f(old) that may depend on `sources` too.
template <class F>
Tensor& modify(const char* op, Tensor& self, const Tensors& sources, F f) {
  const bool tracked = check_in_place(op, self, sources);
  return commit(op, self, f(tracked ? self.clone() : self.detach()), tracked);
}

}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  if (!src.defined()) throw ValueError("[copy_] the source is an undefined tensor");
  if (src.is_floating_point() && !is_floating_point())
    throw ValueError(str_cat("[copy_] the source is ", dtype_name(src.dtype()),
                             " and the tensor int64: copying would truncate; convert explicitly with .to()"));
  if (broadcast_shapes("copy_", src.shape(), shape()) != shape())
    throw ShapeError(str_cat("[copy_] the source ", shape_str(src.shape()),
                             " does not broadcast to the tensor's shape ", shape_str(shape())));
  return modify("copy_", *this, {src}, [&](const Tensor&) {
    // A fresh tensor even when no conversion or broadcast is needed: it becomes this tensor's history.
    return broadcast_to(src.to(dtype()), shape()).clone();
  });
}

Tensor& Tensor::fill_(double value) {
  // 2^63 is the first double past int64's range: casting it (or NaN, or 1.5) would be undefined.
  if (defined() && !is_floating_point() &&
      !(value == std::trunc(value) && value >= -9223372036854775808.0 && value < 9223372036854775808.0))
    throw ValueError(str_cat("[fill_] ", value, " is not an integer in [-2^63, 2^63), and the tensor is int64"));
  const bool tracked = check_in_place("fill_", *this, {});
  Tensor number = empty({}, Dtype::Float64);
  *number.data<double>() = value;
  write_values(number, *this);
  bump_version();
  if (tracked) impl()->autograd = nullptr;  // a constant now: nothing before it gets a gradient through it
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0.0); }

Tensor& Tensor::add_(const Tensor& other) {
  return modify("add_", *this, {other}, [&](const Tensor& old) { return old + other; });
}
Tensor& Tensor::sub_(const Tensor& other) {
  return modify("sub_", *this, {other}, [&](const Tensor& old) { return old - other; });
}
Tensor& Tensor::mul_(const Tensor& other) {
  return modify("mul_", *this, {other}, [&](const Tensor& old) { return old * other; });
}
Tensor& Tensor::div_(const Tensor& other) {
  return modify("div_", *this, {other}, [&](const Tensor& old) { return old / other; });
}
Tensor& Tensor::add_(Scalar s) {
  return modify("add_", *this, {}, [&](const Tensor& old) { return old + s; });
}
Tensor& Tensor::sub_(Scalar s) {
  return modify("sub_", *this, {}, [&](const Tensor& old) { return old - s; });
}
Tensor& Tensor::mul_(Scalar s) {
  return modify("mul_", *this, {}, [&](const Tensor& old) { return old * s; });
}
Tensor& Tensor::div_(Scalar s) {
  return modify("div_", *this, {}, [&](const Tensor& old) { return old / s; });
}
Tensor& Tensor::clamp_(Scalar low, Scalar high) {
  return modify("clamp_", *this, {}, [&](const Tensor& old) { return clamp(old, low, high); });
}
Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  return modify("masked_fill_", *this, {mask}, [&](const Tensor& old) { return masked_fill(old, mask, value); });
}
Tensor& Tensor::index_put_(const Tensor& index, const Tensor& values, bool accumulate) {
  return modify("index_put_", *this, {index, values},
                [&](const Tensor& old) { return index_put(old, index, values, accumulate); });
}

}  // namespace humble
