// autograd/linalg.cpp — matrix products on BLAS, forward beside backward.
//
// Legend: a (…, M, K), b (…, K, N), out (…, M, N); a leading batch dim B is optional on either
// side (a 2-D operand is shared by every batch). Transposes are BLAS flags, never copies.
#include <algorithm>

#include "../core/blas.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/sparse_product.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

struct Operand {
  int64_t batch, rows, cols;  // as stored
};

Operand operand(const char* op, const char* name, const Tensor& t) {
  if (t.dim() != 2 && t.dim() != 3)
    throw ShapeError(str_cat("[", op, "] ", name, " must be 2-D or 3-D, got ", shape_str(t.shape())));
  if (!t.is_floating_point()) throw ValueError(str_cat("[", op, "] ", name, " must be float, got int64"));
  return t.dim() == 2 ? Operand{1, t.shape()[0], t.shape()[1]} : Operand{t.shape()[0], t.shape()[1], t.shape()[2]};
}

// out (B, M, N) = β·out + op(a) @ op(b) over every batch, one BLAS call per batch.
void gemm_into(const Tensor& a, bool ta, const Tensor& b, bool tb, Tensor& out, double beta) {
  const Operand A = operand("matmul", "a", a), B = operand("matmul", "b", b);
  const int64_t m = ta ? A.cols : A.rows, k = ta ? A.rows : A.cols, n = tb ? B.rows : B.cols;
  const int64_t batches = std::max(A.batch, B.batch);
  dispatch_float(a.dtype(), "matmul", [&]<class T>() {
    for (int64_t i = 0; i < batches; ++i) {
      const T* pa = a.data<T>() + (A.batch == 1 ? 0 : i * A.rows * A.cols);
      const T* pb = b.data<T>() + (B.batch == 1 ? 0 : i * B.rows * B.cols);
      blas::gemm<T>(ta, tb, m, n, k, T{1}, pa, A.cols, pb, B.cols, static_cast<T>(beta), out.data<T>() + i * m * n, n);
    }
  });
}

}  // namespace

// matmul: out = op(a) @ op(b);  da = g @ op(b)ᵀ (transposed back if ta), db = op(a)ᵀ @ g (likewise),
// each summed over the batch when that operand was shared
Tensor matmul(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb) {
  const Tensor a = a_in.contiguous(), b = b_in.contiguous();
  const Operand A = operand("matmul", "a", a), B = operand("matmul", "b", b);
  const int64_t m = ta ? A.cols : A.rows, k = ta ? A.rows : A.cols;
  const int64_t kb = tb ? B.cols : B.rows, n = tb ? B.rows : B.cols;
  if (k != kb)
    throw ShapeError(str_cat("[matmul] inner dimensions differ: ", shape_str(a.shape()), (ta ? "ᵀ" : ""), " @ ",
                             shape_str(b.shape()), (tb ? "ᵀ" : "")));
  if (A.batch != B.batch && a.dim() == 3 && b.dim() == 3)
    throw ShapeError(str_cat("[matmul] batch sizes differ: ", shape_str(a.shape()), " @ ", shape_str(b.shape())));
  if (a.dtype() != b.dtype())
    throw ValueError(str_cat("[matmul] dtypes differ: ", dtype_name(a.dtype()), " @ ", dtype_name(b.dtype())));
  const bool batched = a.dim() == 3 || b.dim() == 3;
  Tensor out = empty(batched ? Shape{std::max(A.batch, B.batch), m, n} : Shape{m, n}, a.dtype());
  gemm_into(a, ta, b, tb, out, 0.0);
  return record(
      "matmul", out, {a, b}, {a, b},
      [ta, tb, need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& g, const Tensors& s) -> Tensors {
        const Tensor &a = s[0], &b = s[1];
        Tensor da, db;
        // op(a) = g @ op(b)ᵀ; when a was stored transposed, da = (g @ op(b)ᵀ)ᵀ = op(b) @ gᵀ.
        if (need_a) da = ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb);
        if (need_b) db = tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false);
        if (da.defined() && da.dim() != a.dim()) da = sum(da, {0});
        if (db.defined() && db.dim() != b.dim()) db = sum(db, {0});
        return {da, db};
      });
}

Tensor matmul(const Tensor& a, const Tensor& b) { return matmul(a, b, false, false); }

// linear: out = x @ wᵀ + bias (each GEMM panel writes its part of the bias rows, then accumulates onto them;
//         an input of mostly zeros goes through core/sparse_product.hpp instead);
//         dx = g @ w, dw = gᵀ @ x, dbias = Σ_rows g
Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in) {
  const Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
  const Tensor bias = bias_in.defined() ? bias_in.contiguous() : bias_in;
  if (x.dim() != 2 || weight.dim() != 2 || x.shape()[1] != weight.shape()[1])
    throw ShapeError(str_cat("[linear] input ", shape_str(x.shape()), " does not fit weight ",
                             shape_str(weight.shape()), " (expected input (N, ",
                             weight.dim() == 2 ? weight.shape()[1] : -1, "))"));
  if (bias.defined() && bias.shape() != Shape{weight.shape()[0]})
    throw ShapeError(str_cat("[linear] bias is ", shape_str(bias.shape()), ", expected (", weight.shape()[0], ",)"));
  if (!x.is_floating_point())
    throw ValueError(str_cat("[linear] input must be float32 or float64, got ", dtype_name(x.dtype())));
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != weight.dtype()))
    throw ValueError(
        str_cat("[linear] input is ", dtype_name(x.dtype()), " but weight is ", dtype_name(weight.dtype())));
  const int64_t rows = x.shape()[0], features = weight.shape()[0];
  const int64_t inputs = x.shape()[1];
  Tensor out = empty({rows, features}, x.dtype());  // (N, M)
  dispatch_float(x.dtype(), "linear", [&]<class T>() {
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    const T *px = x.data<T>(), *pw = weight.data<T>();
    T* po = out.data<T>();
    // An input of mostly zeros (images, ReLU outputs) takes the product over its non-zeros only.
    if (sparse::worth_skipping_zeros<T>(rows, features, inputs, px) &&
        sparse::product_onto_row<T>(rows, features, inputs, px, pw, pb, po))
      return;
    if (pb)
      blas::gemm_onto_row<T>(false, true, rows, features, inputs, px, inputs, pw, inputs, pb, po, features);
    else
      blas::gemm<T>(false, true, rows, features, inputs, T{1}, px, inputs, pw, inputs, T{0}, po, features);
  });
  return record(
      "linear", out, {x, weight, bias}, {x, weight},
      [need_x = x.requires_grad(), has_bias = bias.defined()](const Tensor& g, const Tensors& s) -> Tensors {
        return {need_x ? matmul(g, s[1]) : Tensor(), matmul(g, s[0], true, false), has_bias ? sum(g, {0}) : Tensor()};
      });
}

}  // namespace humble
