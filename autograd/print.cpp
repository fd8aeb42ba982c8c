// autograd/print.cpp — operator<< for Tensor: PyTorch's print, with humble's suffixes.
//
// The values are laid out exactly as torch/_tensor_str.py lays them out with its default options
// (precision 4, threshold 1000, edgeitems 3, linewidth 80), which tests/golden checks string for
// string: one formatter for the whole tensor picks integer mode (every finite value integral:
// "1.", "-3."), fixed ("0.1235") or scientific ("1.2346e+05") notation and one width; rows wrap
// at 80 columns; a tensor of more than 1000 elements shows the first and last 3 along each dim
// around "...". Then always shape and dtype (PyTorch omits them for defaults), and requires_grad
// for a leaf that requires grad or grad_fn (the recording op's name) for a computed tensor. It
// lives in autograd/ only because grad_fn needs the node's name.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "../core/dispatch.hpp"
#include "graph.hpp"

namespace humble {
namespace {

constexpr int kPrecision = 4, kEdgeItems = 3, kLineWidth = 80;
constexpr int64_t kThreshold = 1000;

std::string printf_string(const char* format, int width, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, width, kPrecision, value);
  return buffer;
}

// One element as Python's str.format would write it (NaN never signed).
std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "nan";
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}
std::string scientific(double v, int width) {
  if (std::isnan(v)) return std::string(static_cast<std::size_t>(std::max(0, width - 3)), ' ') + "nan";
  return printf_string("%*.*e", width, v);
}

// torch's _Formatter over the values that will be shown.
struct Formatter {
  bool floating = true, int_mode = true, sci_mode = false;
  int max_width = 1;

  Formatter(bool is_float, const std::vector<double>& shown, const std::vector<int64_t>& shown_ints)
      : floating(is_float) {
    if (!floating) {
      for (int64_t v : shown_ints) max_width = std::max(max_width, static_cast<int>(std::to_string(v).size()));
      return;
    }
    std::vector<double> finite;
    for (double v : shown)
      if (std::isfinite(v) && v != 0) finite.push_back(v);
    if (finite.empty()) return;
    double lo = std::abs(finite[0]), hi = lo;
    for (double v : finite) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      int_mode = int_mode && v == std::ceil(v);
    }
    sci_mode = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode && lo < 1.0e-4);
    for (double v : finite) {
      const std::size_t width = sci_mode   ? scientific(v, 0).size()
                                : int_mode ? fixed(v, 0).size() + 1
                                           : fixed(v, kPrecision).size();
      max_width = std::max(max_width, static_cast<int>(width));
    }
  }

  std::string format(double v) const {
    std::string out;
    if (sci_mode) {
      out = scientific(v, max_width);
    } else if (int_mode) {
      out = fixed(v, 0);
      if (std::isfinite(v)) out += ".";
    } else {
      out = fixed(v, kPrecision);
    }
    return pad(out);
  }
  std::string format(int64_t v) const { return pad(std::to_string(v)); }
  std::string pad(const std::string& s) const {
    return std::string(static_cast<std::size_t>(std::max(0, max_width - static_cast<int>(s.size()))), ' ') + s;
  }
};

// The values in row-major order (as double and, for int64, exactly), and their layout.
struct Values {
  Shape shape;
  std::vector<int64_t> strides;
  std::vector<double> floats;
  std::vector<int64_t> ints;
  bool is_float;
};

// Offsets of the elements a summarised print shows (the first and last kEdgeItems of each long dim).
void shown_offsets(const Values& v, bool summarize, std::size_t d, int64_t offset, std::vector<int64_t>& out) {
  if (d == v.shape.size()) {
    out.push_back(offset);
    return;
  }
  const int64_t n = v.shape[d];
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) i = n - kEdgeItems;
    shown_offsets(v, summarize, d + 1, offset + i * v.strides[d], out);
  }
}

std::string element(const Values& v, const Formatter& f, int64_t offset) {
  return v.is_float ? f.format(v.floats[offset]) : f.format(v.ints[offset]);
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

std::string bracketed(const std::string& inside) {
  std::string out = "[";
  out += inside;
  out += ']';
  return out;
}

// torch's _tensor_str_with_formatter from dim d on.
std::string tensor_str(const Values& v, const Formatter& f, bool summarize, std::size_t d, int64_t offset, int indent) {
  const auto rank = v.shape.size();
  if (rank == 0) return element(v, f, 0);
  const int64_t n = v.shape[d];
  const bool cut = summarize && n > 2 * kEdgeItems;
  if (d + 1 == rank) {  // a vector: elements wrapped at the line width
    const int per_line = std::max(1, (kLineWidth - indent) / (f.max_width + 2));
    std::vector<std::string> data;
    for (int64_t i = 0; i < n; ++i) {
      if (cut && i == kEdgeItems) {
        data.push_back(" ...");
        i = n - kEdgeItems;
      }
      data.push_back(element(v, f, offset + i * v.strides[d]));
    }
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < data.size(); i += static_cast<std::size_t>(per_line))
      lines.push_back(
          join(std::vector<std::string>(data.begin() + static_cast<std::ptrdiff_t>(i),
                                        data.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                           data.size(), i + static_cast<std::size_t>(per_line)))),
               ", "));
    return bracketed(join(lines, ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ')));
  }
  std::vector<std::string> slices;
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      slices.push_back("...");
      i = n - kEdgeItems;
    }
    slices.push_back(tensor_str(v, f, summarize, d + 1, offset + i * v.strides[d], indent + 1));
  }
  std::string separator = ",";
  separator.append(rank - d - 1, '\n').append(static_cast<std::size_t>(indent + 1), ' ');
  return bracketed(join(slices, separator));
}

// torch's _add_suffixes: each suffix on the last line while it fits in the line width.
std::string with_suffixes(const std::string& body, const std::vector<std::string>& suffixes, int indent) {
  std::string out = body;
  const auto newline = body.rfind('\n');
  int last_line = static_cast<int>(body.size() - (newline == std::string::npos ? 0 : newline)) + 1;
  if (newline == std::string::npos) last_line = static_cast<int>(body.size()) + 1;
  for (const std::string& suffix : suffixes) {
    const int length = static_cast<int>(suffix.size());
    if (last_line + length + 2 > kLineWidth) {
      out += ",\n" + std::string(static_cast<std::size_t>(indent), ' ') + suffix;
      last_line = indent + length;
    } else {
      out += ", " + suffix;
      last_line += length + 2;
    }
  }
  return out + ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const std::string prefix = "tensor(";
  const int indent = static_cast<int>(prefix.size());
  std::string body = "[]";
  if (t.numel() > 0) {
    const Tensor dense = contiguous_values(t.detach());
    Values v{t.shape(), contiguous_strides(t.shape()), {}, {}, t.is_floating_point()};
    if (v.is_float)
      v.floats = dense.to_vector();
    else
      v.ints = dense.to_vector<int64_t>();
    const bool summarize = t.numel() > kThreshold;
    std::vector<int64_t> offsets;
    shown_offsets(v, summarize, 0, 0, offsets);
    std::vector<double> shown;
    std::vector<int64_t> shown_ints;
    for (int64_t o : offsets) (v.is_float ? shown.push_back(v.floats[o]) : shown_ints.push_back(v.ints[o]));
    const Formatter formatter(v.is_float, shown, shown_ints);
    body = tensor_str(v, formatter, summarize, 0, 0, indent);
  }
  std::vector<std::string> suffixes{"shape=" + shape_str(t.shape()), std::string("dtype=") + dtype_name(t.dtype())};
  if (t.requires_grad() && t.is_leaf()) suffixes.emplace_back("requires_grad=true");
  if (!t.is_leaf()) suffixes.push_back("grad_fn=<" + t.impl()->autograd->grad_fn->name + ">");
  return os << with_suffixes(prefix + body, suffixes, indent);
}

std::string to_string(const Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

}  // namespace humble
