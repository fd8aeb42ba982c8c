// autograd/anomaly.cpp — anomaly mode's checks and the stacks its messages print.
#include "anomaly.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "../core/error.hpp"

namespace humble {

struct NodeOrigin {
  std::vector<void*> frames;  // return addresses, innermost first
};

namespace {

thread_local bool anomaly_mode = false;
thread_local bool in_backward = false;  // inside checked_backward: record() checks nothing

constexpr int kMaxFrames = 48;
constexpr std::size_t kShownFrames = 12;

std::shared_ptr<const NodeOrigin> capture_stack() {
  auto origin = std::make_shared<NodeOrigin>();
  origin->frames.resize(kMaxFrames);
  origin->frames.resize(static_cast<std::size_t>(::backtrace(origin->frames.data(), kMaxFrames)));
  return origin;
}

std::string demangled(const char* symbol) {
  int status = 0;
  char* name = abi::__cxa_demangle(symbol, nullptr, nullptr, &status);
  std::string out = status == 0 ? name : symbol;
  std::free(name);
  return out;
}

// A frame of humble itself: a function in namespace humble (possibly after its return type).
bool in_humble(const std::string& name) {
  const std::size_t at = name.find("humble::");
  return at != std::string::npos && (at == 0 || name[at - 1] == ' ') && at < name.find('(');
}

// One line per frame, from the first one outside humble (the op and record() are not news);
// frames without a symbol are shown as binary(+0xoffset), which addr2line resolves.
std::string describe(const NodeOrigin* origin) {
  if (origin == nullptr) return " (recorded while anomaly mode was off: no stack kept)";
  struct Frame {
    std::string name, file;
    uintptr_t offset;
  };
  std::vector<Frame> frames;
  for (void* address : origin->frames) {
    Dl_info info{};
    const bool found = ::dladdr(address, &info) != 0;
    frames.push_back({found && info.dli_sname != nullptr ? demangled(info.dli_sname) : "?",
                      found ? info.dli_fname : "?",
                      reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(found ? info.dli_fbase : 0)});
  }
  // The first named frame outside humble; frames without a name (static functions) before it are
  // humble's too. With no names at all (a binary that exports none), every frame from the top.
  std::size_t first = 0;
  while (first < frames.size() && (frames[first].name == "?" || in_humble(frames[first].name))) ++first;
  if (first == frames.size()) first = 0;
  std::string out = ":";
  for (std::size_t i = first; i < std::min(frames.size(), first + kShownFrames); ++i)
    out += str_cat("\n    ", frames[i].name, " (", frames[i].file, "+0x", std::hex, frames[i].offset, ")");
  return out;
}

// The first element of a float tensor that is NaN or ±Inf, or −1.
int64_t first_non_finite(const Tensor& t) {
  if (!t.defined() || !t.is_floating_point()) return -1;
  const std::vector<double> values = t.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return static_cast<int64_t>(i);
  return -1;
}

std::string element(const Tensor& t, int64_t i) {
  const double v = t.to_vector()[static_cast<std::size_t>(i)];
  return str_cat(std::isnan(v) ? "nan" : str_cat(v), " at element ", i, " of its ", shape_str(t.shape()), " ",
                 dtype_name(t.dtype()));
}

}  // namespace

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(anomaly_mode) { anomaly_mode = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { anomaly_mode = previous_; }

bool anomaly_enabled() { return anomaly_mode; }

std::shared_ptr<const NodeOrigin> detail::check_output(const char* op, const Tensor& out, const Tensors& inputs) {
  if (in_backward) return nullptr;
  std::shared_ptr<const NodeOrigin> origin = capture_stack();
  if (const int64_t bad = first_non_finite(out); bad >= 0) {
    bool inputs_finite = true;
    for (const Tensor& input : inputs) inputs_finite = inputs_finite && first_non_finite(input) < 0;
    throw AnomalyError(str_cat("[anomaly] forward: ", op, " returned ", element(out, bad),
                               inputs_finite ? " output from finite inputs" : " output (an input already held NaN/Inf)",
                               "; called at", describe(origin.get())));
  }
  return origin;
}

Tensors detail::checked_backward(const Node& node, const Tensor& grad) {
  struct InBackward {  // restored even when the closure throws
    bool previous = in_backward;
    InBackward() { in_backward = true; }
    ~InBackward() { in_backward = previous; }
  };
  Tensors input_grads;
  {
    InBackward scope;
    input_grads = node.backward(grad, node.saved);
  }
  for (std::size_t i = 0; i < input_grads.size(); ++i)
    if (const int64_t bad = first_non_finite(input_grads[i]); bad >= 0)
      throw AnomalyError(str_cat(
          "[anomaly] backward: ", node.name, " returned ", element(input_grads[i], bad), " gradient for input ", i,
          first_non_finite(grad) < 0 ? " from a finite output gradient" : " (its output gradient already held NaN/Inf)",
          "; the node was recorded at", describe(node.origin.get())));
  return input_grads;
}

}  // namespace humble
