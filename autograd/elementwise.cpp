// autograd/elementwise.cpp — unary, binary and scalar ops, each forward beside its backward.
//
// Notation: x, a, b inputs; out the result; g = dL/d(out). Binary ops broadcast; their
// gradients go back through sum_to (one helper for every broadcasting backward).
#include <cmath>
#include <numbers>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/kernels.hpp"
#include "../core/simd.hpp"
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// PyTorch's promotion (ops.hpp): the dtype two tensors compute in.
Dtype promoted(const char* op, Dtype a, Dtype b) {
  if (a == b) return a;
  if (a == Dtype::Int64) return b;
  if (b == Dtype::Int64) return a;
  throw ValueError(str_cat("[", op, "] operands are ", dtype_name(a), " and ", dtype_name(b),
                           ": humble does not mix float32 and float64; convert one with .to()"));
}

// The dtype a tensor computes in with a scalar.
Dtype promoted(Dtype t, Scalar s) { return t == Dtype::Int64 && !s.integral ? Dtype::Float32 : t; }

// Float functions of int64 compute in float32, as PyTorch's do.
Tensor float_input(const Tensor& x) { return x.is_floating_point() ? x : x.to(Dtype::Float32); }

// out[i] = f(x[i]) in x's float dtype.
template <class F>
Tensor map_float(const char* op, const Tensor& x, F f) {
  return dispatch_float(x.dtype(), op, [&]<class T>() { return map<T>(x, [&](T v) { return static_cast<T>(f(v)); }); });
}

// out[i] = f(a[i], b[i]) under broadcasting, in `dtype` (Int64 included); a and b already have it.
template <class F>
Tensor zip_in(const char* op, Dtype dtype, const Tensor& a, const Tensor& b, F f) {
  return dispatch_all(dtype,
                      [&]<class T>() { return zip<T>(op, a, b, [&](T u, T v) { return static_cast<T>(f(u, v)); }); });
}

// Which value a unary op's derivative is written in: its input x or its output y.
enum class Slope { OfInput, OfOutput };

// A unary float op: forward f(x), backward g ⊙ df(v) with v = x or y (the one saved); int64
// inputs compute in float32.
template <class F, class DF>
Tensor unary(const char* op, const Tensor& input, Slope slope, F f, DF df) {
  const Tensor x = float_input(input);
  Tensor out = map_float(op, x, f);
  return record(
      op, out, {x}, {slope == Slope::OfInput ? x : out}, [op, df](const Tensor& g, const Tensors& saved) -> Tensors {
        return {dispatch_float(g.dtype(), op, [&]<class T>() {
          return zip<T>(op, g, saved[0], [&](T gv, T v) { return static_cast<T>(gv * static_cast<T>(df(v))); });
        })};
      });
}

// Both operands converted to the dtype they compute in (true division: int64 → float32).
struct Promoted {
  Tensor a, b;
  Dtype dtype;
};
Promoted promote(const char* op, const Tensor& a, const Tensor& b, bool true_division = false) {
  Dtype dtype = promoted(op, a.dtype(), b.dtype());
  if (true_division && dtype == Dtype::Int64) dtype = Dtype::Float32;
  return {a.to(dtype), b.to(dtype), dtype};
}

}  // namespace

// neg: out = −x;  dx = −g
Tensor neg(const Tensor& x) {
  Tensor out = dispatch_all(x.dtype(), [&]<class T>() { return map<T>(x, [](T v) { return -v; }); });
  return record("neg", out, {x}, [](const Tensor& g) -> Tensors { return {neg(g)}; });
}

// exp: out = eˣ;  dx = g ⊙ out
Tensor exp(const Tensor& x) {
  return unary(
      "exp", x, Slope::OfOutput, [](auto v) { return std::exp(v); }, [](auto y) { return y; });
}

// log: out = ln x;  dx = g / x
Tensor log(const Tensor& x) {
  return unary(
      "log", x, Slope::OfInput, [](auto v) { return std::log(v); }, [](auto v) { return 1 / v; });
}

// sqrt: out = √x;  dx = g / (2·out)
Tensor sqrt(const Tensor& x) {
  return unary(
      "sqrt", x, Slope::OfOutput, [](auto v) { return std::sqrt(v); }, [](auto y) { return 1 / (2 * y); });
}

// abs: out = |x| (int64 stays int64);  dx = g ⊙ sign(x)  (0 at x = 0)
Tensor abs(const Tensor& x) {
  if (!x.is_floating_point())
    return dispatch_all(x.dtype(), [&]<class T>() { return map<T>(x, [](T v) { return v < 0 ? -v : v; }); });
  return unary(
      "abs", x, Slope::OfInput, [](auto v) { return std::abs(v); }, [](auto v) { return (v > 0) - (v < 0); });
}

// tanh: out = tanh x;  dx = g ⊙ (1 − out²)
Tensor tanh(const Tensor& x) {
  return unary(
      "tanh", x, Slope::OfOutput, [](auto v) { return std::tanh(v); }, [](auto y) { return 1 - y * y; });
}

// sigmoid: out = 1 / (1 + e⁻ˣ) (evaluated without overflow on either side);  dx = g ⊙ out ⊙ (1 − out)
Tensor sigmoid(const Tensor& x) {
  return unary(
      "sigmoid", x, Slope::OfOutput,
      [](auto v) {
        const auto e = std::exp(-std::abs(v));
        return v >= 0 ? 1 / (1 + e) : e / (1 + e);
      },
      [](auto y) { return y * (1 - y); });
}

// relu: out = max(x, 0) (NaN stays NaN; int64 stays int64);  dx = g ⊙ [x > 0]
// (The slope is a bit-mask select: GCC vectorizes neither g · bool nor g · (x > 0 ? 1 : 0), core/simd.hpp.)
Tensor relu(const Tensor& x) {
  if (!x.is_floating_point())
    return dispatch_all(x.dtype(), [&]<class T>() { return map<T>(x, [](T v) { return v < 0 ? T{0} : v; }); });
  return unary(
      "relu", x, Slope::OfInput, [](auto v) { return v < 0 ? decltype(v){0} : v; },
      [](auto v) { return select(v > 0, decltype(v){1}, decltype(v){0}); });
}

// leaky_relu: out = x if x > 0 else s·x;  dx = g ⊙ (1 if x > 0 else s)
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary(
      "leaky_relu", x, Slope::OfInput,
      [negative_slope](auto v) { return v > 0 ? v : static_cast<decltype(v)>(negative_slope) * v; },
      [negative_slope](auto v) { return v > 0 ? 1.0 : negative_slope; });
}

// gelu: out = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dx = g ⊙ (Φ(x) + x·φ(x)), φ the normal density
Tensor gelu(const Tensor& x) {
  constexpr double inv_sqrt2 = std::numbers::sqrt2 / 2;
  constexpr double inv_sqrt_2pi = std::numbers::inv_sqrtpi * inv_sqrt2;
  return unary(
      "gelu", x, Slope::OfInput,
      [](auto v) { return v * static_cast<decltype(v)>(0.5 * (1 + std::erf(v * inv_sqrt2))); },
      [](auto v) {
        const double xv = v;
        return 0.5 * (1 + std::erf(xv * inv_sqrt2)) + xv * inv_sqrt_2pi * std::exp(-0.5 * xv * xv);
      });
}

// softplus: out = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|);  dx = g ⊙ sigmoid(x)
Tensor softplus(const Tensor& x) {
  return unary(
      "softplus", x, Slope::OfInput,
      [](auto v) { return std::max(v, decltype(v){0}) + std::log1p(std::exp(-std::abs(v))); },
      [](auto v) {
        const double e = std::exp(-std::abs(static_cast<double>(v)));
        return v >= 0 ? 1 / (1 + e) : e / (1 + e);
      });
}

// pow: out = xᵖ;  dx = g ⊙ p·xᵖ⁻¹.  int64 to an integer power stays int64 (exact repeated products).
Tensor pow(const Tensor& x, Scalar exponent) {
  const double p = exponent.value;
  if (!x.is_floating_point() && exponent.integral) {
    if (p < 0)
      throw ValueError(str_cat("[pow] an int64 tensor to the negative integer power ", p, " is not an integer"));
    return map<int64_t>(x, [n = static_cast<int64_t>(p)](int64_t v) {
      int64_t out = 1;
      for (int64_t i = 0; i < n; ++i) out *= v;
      return out;
    });
  }
  return unary(
      "pow", x, Slope::OfInput, [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); },
      [p](auto v) { return p == 0 ? 0.0 : p * std::pow(static_cast<double>(v), p - 1); });
}

// clamp: out = min(max(x, lo), hi);  dx = g ⊙ [lo ≤ x ≤ hi].  int64 with integer bounds stays int64.
Tensor clamp(const Tensor& x, Scalar low, Scalar high) {
  if (!(low.value <= high.value))
    throw ValueError(str_cat("[clamp] needs low <= high, got low ", low.value, ", high ", high.value));
  const double lo = low.value, hi = high.value;
  if (!x.is_floating_point() && low.integral && high.integral)
    return map<int64_t>(x, [lo = static_cast<int64_t>(lo), hi = static_cast<int64_t>(hi)](int64_t v) {
      return std::min(std::max(v, lo), hi);
    });
  return unary(
      "clamp", x, Slope::OfInput,
      [lo, hi](auto v) {
        using T = decltype(v);
        return std::min(std::max(v, static_cast<T>(lo)), static_cast<T>(hi));
      },
      [lo, hi](auto v) { return lo <= v && v <= hi; });
}

// add: out = a + b;  da = sum_to(g), db = sum_to(g)
Tensor add(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b, dtype] = promote("add", a_in, b_in);
  Tensor out = zip_in("add", dtype, a, b, [](auto u, auto v) { return u + v; });
  return record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g, sa), sum_to(g, sb)};
  });
}

// sub: out = a − b;  da = sum_to(g), db = −sum_to(g)
Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b, dtype] = promote("sub", a_in, b_in);
  Tensor out = zip_in("sub", dtype, a, b, [](auto u, auto v) { return u - v; });
  return record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g, sa), neg(sum_to(g, sb))};
  });
}

// mul: out = a ⊙ b;  da = sum_to(g ⊙ b), db = sum_to(g ⊙ a)
Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b, dtype] = promote("mul", a_in, b_in);
  Tensor out = zip_in("mul", dtype, a, b, [](auto u, auto v) { return u * v; });
  return record("mul", out, {a, b}, {a, b}, [](const Tensor& g, const Tensors& s) -> Tensors {
    return {sum_to(g * s[1], s[0].shape()), sum_to(g * s[0], s[1].shape())};
  });
}

// div: out = a / b (true division: int64 operands give float32);  da = sum_to(g / b), db = −sum_to(g ⊙ a / b²)
Tensor div(const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b, dtype] = promote("div", a_in, b_in, /*true_division=*/true);
  Tensor out = zip_in("div", dtype, a, b, [](auto u, auto v) { return u / v; });
  return record("div", out, {a, b}, {a, b}, [](const Tensor& g, const Tensors& s) -> Tensors {
    return {sum_to(g / s[1], s[0].shape()), neg(sum_to(g * s[0] / (s[1] * s[1]), s[1].shape()))};
  });
}

namespace {

// maximum/minimum: out = a if a beats b; da = sum_to(g ⊙ w), db = sum_to(g ⊙ (1 − w)) where
// w = 1 where a wins, ½ on ties, 0 where b wins.
Tensor extremum(const char* op, const Tensor& a_in, const Tensor& b_in, bool take_max) {
  const auto [a, b, dtype] = promote(op, a_in, b_in);
  const auto beats = [take_max](auto u, auto v) { return take_max ? u > v : u < v; };
  // NaN wins on either side, as in PyTorch: u is taken unless v beats it or v is NaN.
  Tensor out = zip_in(op, dtype, a, b, [beats](auto u, auto v) { return beats(v, u) || v != v ? v : u; });
  return record(op, out, {a, b}, {a, b}, [op, beats](const Tensor& g, const Tensors& s) -> Tensors {
    Tensor w = zip_in(op, s[0].dtype(), s[0], s[1], [beats](auto u, auto v) {
      return beats(u, v) ? 1.0 : u == v ? 0.5 : 0.0;
    });
    return {sum_to(g * w, s[0].shape()), sum_to(g * (1.0 - w), s[1].shape())};
  });
}

// A scalar op's forward: (x in the promoted dtype, f(x) in it).
template <class F>
std::pair<Tensor, Tensor> scalar_forward(const Tensor& input, Scalar s, bool true_division, F f) {
  Dtype dtype = promoted(input.dtype(), s);
  if (true_division && dtype == Dtype::Int64) dtype = Dtype::Float32;
  const Tensor x = input.to(dtype);
  Tensor out = dispatch_all(dtype, [&]<class T>() { return map<T>(x, [&](T v) { return static_cast<T>(f(v)); }); });
  return {x, out};
}

template <class F>
Tensor compare(const char* op, const Tensor& a_in, const Tensor& b_in, F holds) {
  const auto [a, b, dtype] = promote(op, a_in, b_in);
  return zip_in(op, dtype, a, b, [holds](auto u, auto v) { return holds(u, v) ? 1 : 0; });
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum("maximum", a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum("minimum", a, b, false); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }

// x + s: dx = g;  x − s: dx = g;  x·s: dx = g·s;  x / s: dx = g / s
Tensor operator+(const Tensor& input, Scalar s) {
  const auto [x, out] = scalar_forward(input, s, false, [v = s.value](auto u) { return u + v; });
  return record("add", out, {x}, [](const Tensor& g) -> Tensors { return {g}; });
}
Tensor operator-(const Tensor& input, Scalar s) {
  const auto [x, out] = scalar_forward(input, s, false, [v = s.value](auto u) { return u - v; });
  return record("sub", out, {x}, [](const Tensor& g) -> Tensors { return {g}; });
}
Tensor operator*(const Tensor& input, Scalar s) {
  const auto [x, out] = scalar_forward(input, s, false, [v = s.value](auto u) { return u * v; });
  return record("mul", out, {x}, [v = s.value](const Tensor& g) -> Tensors { return {g * v}; });
}
Tensor operator/(const Tensor& input, Scalar s) {
  const auto [x, out] = scalar_forward(input, s, true, [v = s.value](auto u) { return u / v; });
  return record("div", out, {x}, [v = s.value](const Tensor& g) -> Tensors { return {g / v}; });
}
Tensor operator+(Scalar s, const Tensor& x) { return x + s; }
Tensor operator*(Scalar s, const Tensor& x) { return x * s; }
// s − x: dx = −g;  s / x: dx = −g·s / x²
Tensor operator-(Scalar s, const Tensor& input) {
  const auto [x, out] = scalar_forward(input, s, false, [v = s.value](auto u) { return v - u; });
  return record("rsub", out, {x}, [](const Tensor& g) -> Tensors { return {neg(g)}; });
}
Tensor operator/(Scalar s, const Tensor& input) {
  const auto [x, out] = scalar_forward(input, s, true, [v = s.value](auto u) { return v / u; });
  return record("rdiv", out, {x}, {x}, [v = s.value](const Tensor& g, const Tensors& saved) -> Tensors {
    return {g * (-v) / (saved[0] * saved[0])};
  });
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare("eq", a, b, [](auto u, auto v) { return u == v; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare("ne", a, b, [](auto u, auto v) { return u != v; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare("lt", a, b, [](auto u, auto v) { return u < v; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare("le", a, b, [](auto u, auto v) { return u <= v; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare("gt", a, b, [](auto u, auto v) { return u > v; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare("ge", a, b, [](auto u, auto v) { return u >= v; });
}

// where: out = c ? a : b;  da = sum_to(g ⊙ [c]), db = sum_to(g ⊙ [¬c])
Tensor where(const Tensor& cond, const Tensor& a_in, const Tensor& b_in) {
  const auto [a, b, dtype] = promote("where", a_in, b_in);
  const Shape shape = broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
  Tensor mask = ne(broadcast_to(cond.detach(), shape), zeros({}, cond.dtype())).to(dtype);  // 1 where c
  const Tensor taken_a = contiguous_values(broadcast_to(a.detach(), shape));
  const Tensor taken_b = contiguous_values(broadcast_to(b.detach(), shape));
  Tensor out = empty(shape, dtype);
  dispatch_all(dtype, [&]<class T>() {
    const T *m = mask.data<T>(), *pa = taken_a.data<T>(), *pb = taken_b.data<T>();
    T* po = out.data<T>();
    parallel_for(out.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = m[i] != 0 ? pa[i] : pb[i];
    });
  });
  // mask is this op's own tensor (nothing else can change it): the closure may keep it.
  return record("where", out, {a, b}, [mask, sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g * mask, sa), sum_to(g * (1.0 - mask), sb)};
  });
}

// masked_fill: out = value where mask ≠ 0, else x;  dx = g where mask = 0 (where's backward)
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  if (broadcast_shapes("masked_fill", mask.shape(), x.shape()) != x.shape())
    throw ShapeError(str_cat("[masked_fill] mask ", shape_str(mask.shape()),
                             " does not broadcast to the tensor's shape ", shape_str(x.shape())));
  return where(mask, full({}, value, x.dtype()), x);
}

}  // namespace humble
