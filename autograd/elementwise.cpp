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
#include "graph.hpp"
#include "ops.hpp"

namespace humble {
namespace {

// out[i] = f(x[i]) in x's float dtype.
template <class F>
Tensor map_float(const char* op, const Tensor& x, F f) {
  return dispatch_float(x.dtype(), op, [&]<class T>() { return map<T>(x, [&](T v) { return static_cast<T>(f(v)); }); });
}

// out[i] = f(a[i], b[i]) under broadcasting, in the operands' common dtype (Int64 included).
template <class F>
Tensor zip_any(const char* op, const Tensor& a, const Tensor& b, F f) {
  if (a.dtype() != b.dtype())
    throw ValueError(str_cat("[", op, "] operands have different dtypes: ", dtype_name(a.dtype()), " and ",
                             dtype_name(b.dtype()), "; convert one with .to()"));
  return dispatch_all(a.dtype(),
                      [&]<class T>() { return zip<T>(op, a, b, [&](T u, T v) { return static_cast<T>(f(u, v)); }); });
}

// A unary op: forward f(x), backward g ⊙ df(x, out).
template <class F, class DF>
Tensor unary(const char* op, const Tensor& x, F f, DF df) {
  Tensor out = map_float(op, x, f);
  return record(op, out, {x}, [op, x = x.detach(), y = out.detach(), df](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), op, [&]<class T>() {
      Tensor slope = zip<T>(op, x, y, [&](T xv, T yv) { return static_cast<T>(df(xv, yv)); });
      return zip<T>(op, g, slope, [](T gv, T s) { return gv * s; });
    })};
  });
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
      "exp", x, [](auto v) { return std::exp(v); }, [](auto, auto y) { return y; });
}

// log: out = ln x;  dx = g / x
Tensor log(const Tensor& x) {
  return unary(
      "log", x, [](auto v) { return std::log(v); }, [](auto v, auto) { return 1 / v; });
}

// sqrt: out = √x;  dx = g / (2·out)
Tensor sqrt(const Tensor& x) {
  return unary(
      "sqrt", x, [](auto v) { return std::sqrt(v); }, [](auto, auto y) { return 1 / (2 * y); });
}

// abs: out = |x|;  dx = g ⊙ sign(x)  (0 at x = 0)
Tensor abs(const Tensor& x) {
  return unary(
      "abs", x, [](auto v) { return std::abs(v); }, [](auto v, auto) { return (v > 0) - (v < 0); });
}

// tanh: out = tanh x;  dx = g ⊙ (1 − out²)
Tensor tanh(const Tensor& x) {
  return unary(
      "tanh", x, [](auto v) { return std::tanh(v); }, [](auto, auto y) { return 1 - y * y; });
}

// sigmoid: out = 1 / (1 + e⁻ˣ) (evaluated without overflow on either side);  dx = g ⊙ out ⊙ (1 − out)
Tensor sigmoid(const Tensor& x) {
  return unary(
      "sigmoid", x,
      [](auto v) {
        const auto e = std::exp(-std::abs(v));
        return v >= 0 ? 1 / (1 + e) : e / (1 + e);
      },
      [](auto, auto y) { return y * (1 - y); });
}

// relu: out = max(x, 0) (NaN stays NaN);  dx = g ⊙ [x > 0]
Tensor relu(const Tensor& x) {
  return unary(
      "relu", x, [](auto v) { return v < 0 ? decltype(v){0} : v; }, [](auto v, auto) { return v > 0; });
}

// leaky_relu: out = x if x > 0 else s·x;  dx = g ⊙ (1 if x > 0 else s)
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return unary(
      "leaky_relu", x, [negative_slope](auto v) { return v > 0 ? v : static_cast<decltype(v)>(negative_slope) * v; },
      [negative_slope](auto v, auto) { return v > 0 ? 1.0 : negative_slope; });
}

// gelu: out = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dx = g ⊙ (Φ(x) + x·φ(x)), φ the normal density
Tensor gelu(const Tensor& x) {
  constexpr double inv_sqrt2 = std::numbers::sqrt2 / 2;
  constexpr double inv_sqrt_2pi = std::numbers::inv_sqrtpi * inv_sqrt2;
  return unary(
      "gelu", x, [](auto v) { return v * static_cast<decltype(v)>(0.5 * (1 + std::erf(v * inv_sqrt2))); },
      [](auto v, auto) {
        const double xv = v;
        return 0.5 * (1 + std::erf(xv * inv_sqrt2)) + xv * inv_sqrt_2pi * std::exp(-0.5 * xv * xv);
      });
}

// softplus: out = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|);  dx = g ⊙ sigmoid(x)
Tensor softplus(const Tensor& x) {
  return unary(
      "softplus", x, [](auto v) { return std::max(v, decltype(v){0}) + std::log1p(std::exp(-std::abs(v))); },
      [](auto v, auto) {
        const double e = std::exp(-std::abs(static_cast<double>(v)));
        return v >= 0 ? 1 / (1 + e) : e / (1 + e);
      });
}

// pow: out = xᵖ;  dx = g ⊙ p·xᵖ⁻¹
Tensor pow(const Tensor& x, double p) {
  return unary(
      "pow", x, [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); },
      [p](auto v, auto) { return p == 0 ? 0.0 : p * std::pow(static_cast<double>(v), p - 1); });
}

// clamp: out = min(max(x, lo), hi);  dx = g ⊙ [lo ≤ x ≤ hi]
Tensor clamp(const Tensor& x, double low, double high) {
  if (!(low <= high)) throw ValueError(str_cat("[clamp] needs low <= high, got low ", low, ", high ", high));
  return unary(
      "clamp", x,
      [low, high](auto v) {
        using T = decltype(v);
        return std::min(std::max(v, static_cast<T>(low)), static_cast<T>(high));
      },
      [low, high](auto v, auto) { return low <= v && v <= high; });
}

// add: out = a + b;  da = sum_to(g), db = sum_to(g)
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = zip_any("add", a, b, [](auto u, auto v) { return u + v; });
  return record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g, sa), sum_to(g, sb)};
  });
}

// sub: out = a − b;  da = sum_to(g), db = −sum_to(g)
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = zip_any("sub", a, b, [](auto u, auto v) { return u - v; });
  return record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g, sa), neg(sum_to(g, sb))};
  });
}

// mul: out = a ⊙ b;  da = sum_to(g ⊙ b), db = sum_to(g ⊙ a)
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = zip_any("mul", a, b, [](auto u, auto v) { return u * v; });
  return record("mul", out, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) -> Tensors {
    return {sum_to(g * b, a.shape()), sum_to(g * a, b.shape())};
  });
}

// div: out = a / b;  da = sum_to(g / b), db = −sum_to(g ⊙ a / b²)
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = zip_any("div", a, b, [](auto u, auto v) { return u / v; });
  return record("div", out, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) -> Tensors {
    return {sum_to(g / b, a.shape()), neg(sum_to(g * a / (b * b), b.shape()))};
  });
}

namespace {

// maximum/minimum: out = a if a beats b; da = sum_to(g ⊙ w), db = sum_to(g ⊙ (1 − w)) where
// w = 1 where a wins, ½ on ties, 0 where b wins.
Tensor extremum(const char* op, const Tensor& a, const Tensor& b, bool take_max) {
  const auto beats = [take_max](auto u, auto v) { return take_max ? u > v : u < v; };
  // NaN wins on either side, as in PyTorch: u is taken unless v beats it or v is NaN.
  Tensor out = zip_any(op, a, b, [beats](auto u, auto v) { return beats(v, u) || v != v ? v : u; });
  return record(op, out, {a, b}, [op, beats, a = a.detach(), b = b.detach()](const Tensor& g) -> Tensors {
    Tensor w = zip_any(op, a, b, [beats](auto u, auto v) { return beats(u, v) ? 1.0 : u == v ? 0.5 : 0.0; });
    return {sum_to(g * w, a.shape()), sum_to(g * (1.0 - w), b.shape())};
  });
}

// out = f(x, s) for a scalar s;  dx = g ⊙ df(x)
template <class F, class DF>
Tensor scalar_op(const char* op, const Tensor& x, F f, DF df) {
  Tensor out = dispatch_all(x.dtype(), [&]<class T>() { return map<T>(x, [&](T v) { return static_cast<T>(f(v)); }); });
  return record(op, out, {x}, [op, x = x.detach(), df](const Tensor& g) -> Tensors {
    return {dispatch_float(g.dtype(), op, [&]<class T>() {
      return zip<T>(op, g, x, [&](T gv, T xv) { return static_cast<T>(gv * df(xv)); });
    })};
  });
}

template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b, F holds) {
  return zip_any(op, a, b, [holds](auto u, auto v) { return holds(u, v) ? 1 : 0; });
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
Tensor operator+(const Tensor& x, double s) {
  return scalar_op(
      "add", x, [s](auto v) { return v + s; }, [](auto) { return 1.0; });
}
Tensor operator-(const Tensor& x, double s) {
  return scalar_op(
      "sub", x, [s](auto v) { return v - s; }, [](auto) { return 1.0; });
}
Tensor operator*(const Tensor& x, double s) {
  return scalar_op(
      "mul", x, [s](auto v) { return v * s; }, [s](auto) { return s; });
}
Tensor operator/(const Tensor& x, double s) {
  return scalar_op(
      "div", x, [s](auto v) { return v / s; }, [s](auto) { return 1.0 / s; });
}
Tensor operator+(double s, const Tensor& x) { return x + s; }
Tensor operator*(double s, const Tensor& x) { return x * s; }
// s − x: dx = −g;  s / x: dx = −g·s / x²
Tensor operator-(double s, const Tensor& x) {
  return scalar_op(
      "rsub", x, [s](auto v) { return s - v; }, [](auto) { return -1.0; });
}
Tensor operator/(double s, const Tensor& x) {
  return scalar_op(
      "rdiv", x, [s](auto v) { return s / v; }, [s](auto v) { return -s / (double(v) * v); });
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
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    throw ValueError(
        str_cat("[where] a and b have different dtypes: ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype())));
  const Shape shape = broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
  Tensor mask = ne(broadcast_to(cond.detach(), shape), zeros({}, cond.dtype())).to(a.dtype());  // 1 where c
  Tensor taken_a = broadcast_to(a.detach(), shape), taken_b = broadcast_to(b.detach(), shape);
  Tensor out = empty(shape, a.dtype());
  dispatch_all(a.dtype(), [&]<class T>() {
    const T *m = mask.data<T>(), *pa = taken_a.data<T>(), *pb = taken_b.data<T>();
    T* po = out.data<T>();
    parallel_for(out.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = m[i] != 0 ? pa[i] : pb[i];
    });
  });
  return record("where", out, {a, b}, [mask, sa = a.shape(), sb = b.shape()](const Tensor& g) -> Tensors {
    return {sum_to(g * mask, sa), sum_to(g * (1.0 - mask), sb)};
  });
}

}  // namespace humble
