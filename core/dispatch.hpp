// core/dispatch.hpp — from a runtime Dtype to a compile-time element type.
//
// dispatch_float(dtype, "op", [&]<class T>() { ... }) runs the body with T = float or double and
// throws a ValueError naming the op for Int64; dispatch_all also accepts Int64 (T = int64_t).
#pragma once

#include <cstdint>

#include "error.hpp"
#include "tensor.hpp"

namespace humble {

template <class Body>
decltype(auto) dispatch_float(Dtype dtype, const char* op, Body&& body) {
  switch (dtype) {
    case Dtype::Float32:
      return body.template operator()<float>();
    case Dtype::Float64:
      return body.template operator()<double>();
    case Dtype::Int64:
      break;
  }
  throw ValueError(str_cat("[", op, "] expects a float32 or float64 tensor, got ", dtype_name(dtype)));
}

template <class Body>
decltype(auto) dispatch_all(Dtype dtype, Body&& body) {
  switch (dtype) {
    case Dtype::Float32:
      return body.template operator()<float>();
    case Dtype::Float64:
      return body.template operator()<double>();
    case Dtype::Int64:
      break;
  }
  return body.template operator()<int64_t>();
}

}  // namespace humble
