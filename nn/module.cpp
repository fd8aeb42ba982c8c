// nn/module.cpp — registration, dotted-name traversal, modes, state dicts and summary().
#include "module.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <typeinfo>

#include "../autograd/graph.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/generator.hpp"

namespace humble::nn {
namespace {

// While summary() runs a forward pass, operator() appends (module, output shape) here.
thread_local std::vector<std::pair<const Module*, Shape>>* trace = nullptr;

}  // namespace

Tensor Module::operator()(const Tensor& input) {
  Tensor out = forward(input);
  if (trace) trace->emplace_back(this, out.shape());
  return out;
}

void Module::check_name(const std::string& name) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw ValueError(str_cat("[register] name '", name, "' must be non-empty and contain no '.'"));
  for (const auto* list : {&params_, &buffers_})
    for (const auto& [taken, _] : *list)
      if (taken == name) throw ValueError(str_cat("[register] name '", name, "' is already registered"));
  for (const auto& [taken, _] : children_)
    if (taken == name) throw ValueError(str_cat("[register] name '", name, "' is already registered"));
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_name(name);
  if (!value.defined() || !value.is_floating_point() || !value.is_contiguous())
    throw ValueError(str_cat("[register_parameter] '", name, "' must be a defined, contiguous float tensor"));
  value.requires_grad_(true);
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_name(name);
  if (!value.defined()) throw ValueError(str_cat("[register_buffer] '", name, "' must be a defined tensor"));
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name);
  if (!module) throw ValueError(str_cat("[register_module] '", name, "' is null"));
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool want_buffers, NamedTensors& out) const {
  for (const auto& [name, t] : want_buffers ? buffers_ : params_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", want_buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t total = 0;
  for (const Tensor& p : parameters()) total += p.numel();
  return total;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const auto& [name, child] : children_) {
    out.emplace_back(name, child);
    for (auto& [path, grandchild] : child->named_modules()) out.emplace_back(name + "." + path, grandchild);
  }
  return out;
}

namespace {

void print_tree(std::ostream& os, const Module& module, const std::string& indent) {
  os << module.repr();
  if (module.named_children().empty()) return;
  os << "(\n";
  for (const auto& [name, child] : module.named_children()) {
    os << indent << "  (" << name << "): ";
    print_tree(os, *child, indent + "  ");
    os << "\n";
  }
  os << indent << ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print_tree(os, module, "");
  return os;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_buffers()) out.push_back(t);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::to(Dtype dtype) {
  if (dtype == Dtype::Int64) throw ValueError("[Module::to] dtype must be float32 or float64, got int64");
  for (const auto& [_, t] : state_dict()) {
    if (!t.is_floating_point() || t.dtype() == dtype) continue;
    TensorImpl& impl = *t.impl();  // shared by every handle on this tensor: swap its contents
    Tensor converted = t.detach().to(dtype);
    impl.storage = converted.impl()->storage;
    impl.offset = 0;
    impl.strides = converted.strides();
    impl.contiguous = true;
    impl.dtype = dtype;
    if (impl.autograd) {
      impl.autograd->dtype = dtype;
      impl.autograd->grad = Tensor();
    }
  }
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  collect("", true, out);
  return out;
}

void Module::check_state_dict(const NamedTensors& state) const {
  check_named_tensors("load_state_dict", state, specs_of(state_dict()));
  std::set<std::string> parameters;  // must be finite, as construction and any finite training leave them
  for (const auto& [name, _] : named_parameters()) parameters.insert(name);
  for (const auto& [name, t] : state)
    if (parameters.count(name)) check_values("load_state_dict", name, t);
}

void Module::load_state_dict(const NamedTensors& state) {
  check_state_dict(state);
  std::map<std::string, Tensor> by_name(state.begin(), state.end());
  NoGradGuard no_grad;  // parameters are written in place
  for (auto& [name, t] : state_dict()) t.copy_(by_name.at(name));
}

std::string Module::repr() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 ? demangled : mangled;
  std::free(demangled);
  return name.substr(name.rfind("::") == std::string::npos ? 0 : name.rfind("::") + 2);
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  layers_.push_back(register_module(std::to_string(layers_.size()), std::move(module)));
}

std::size_t Sequential::checked_index(int64_t index) const {
  const auto n = static_cast<int64_t>(layers_.size());
  if (index < -n || index >= n)
    throw ShapeError(str_cat("[Sequential::at] index ", index, " is out of range for ", n, " layers (expected ", -n,
                             " to ", n - 1, ")"));
  return static_cast<std::size_t>(index < 0 ? index + n : index);
}

void Sequential::throw_wrong_type(int64_t index, const char* mangled) const {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  const std::string wanted = status == 0 ? demangled : mangled;
  std::free(demangled);
  throw ValueError(
      str_cat("[Sequential::at] layer ", index, " is ", layers_[checked_index(index)]->repr(), ", not a ", wanted));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor out = x;
  for (const auto& layer : layers_) out = (*layer)(out);
  return out;
}

namespace {

// Everything a forward pass may change, captured at construction and put back at destruction.
class Untouched {
 public:
  explicit Untouched(Module& module) : generator_(default_generator().state()) {
    modes_.emplace_back(&module, module.is_training());
    for (const auto& [_, m] : module.named_modules()) modes_.emplace_back(m.get(), m->is_training());
    for (const Tensor& b : module.buffers()) buffers_.emplace_back(b, b.detach().clone());
  }
  ~Untouched() {
    for (const auto& [m, training] : modes_) m->train(training);  // parents first: children then override
    NoGradGuard no_grad;
    for (auto& [buffer, value] : buffers_)
      if (buffer.to_vector() != value.to_vector()) buffer.copy_(value);
    default_generator().set_state(generator_);
  }
  Untouched(const Untouched&) = delete;
  Untouched& operator=(const Untouched&) = delete;

 private:
  std::vector<std::pair<Module*, bool>> modes_;
  std::vector<std::pair<Tensor, Tensor>> buffers_;
  Generator::State generator_;
};

}  // namespace

GradcheckResult gradcheck(Module& module, const Tensor& input, const GradcheckOptions& options) {
  Tensors inputs{input};
  for (const Tensor& p : module.parameters()) inputs.push_back(p);
  std::vector<std::pair<Tensor, Tensor>> buffers;
  for (const Tensor& b : module.buffers()) buffers.emplace_back(b, b.detach().clone());
  const GradcheckResult result = gradcheck([&module](const Tensors& xs) { return module(xs[0]); }, inputs, options);
  NoGradGuard no_grad;
  for (auto& [buffer, value] : buffers) buffer.copy_(value);
  return result;
}

std::string summary(Module& module, const Shape& input_shape, Dtype dtype) {
  std::map<const Module*, std::string> paths;
  const auto name_all = [&paths](const auto& self, const Module& m, const std::string& prefix) -> void {
    for (const auto& [name, child] : m.named_children()) {
      paths.emplace(child.get(), prefix + name);
      self(self, *child, prefix + name + ".");
    }
  };
  name_all(name_all, module, "");
  std::vector<std::pair<const Module*, Shape>> calls;
  {
    struct Tracing {  // RAII: tracing stops even when the forward pass throws
      explicit Tracing(std::vector<std::pair<const Module*, Shape>>* calls) { trace = calls; }
      ~Tracing() { trace = nullptr; }
    } tracing(&calls);
    const Untouched untouched(module);
    NoGradGuard no_grad;
    module.eval();
    module(zeros(input_shape, dtype));
  }
  std::ostringstream out;
  const auto row = [&out](const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
    out << std::left << std::setw(16) << a << std::setw(36) << b << std::setw(22) << c << d << "\n";
  };
  row("layer", "type", "output shape", "params");
  for (const auto& [m, shape] : calls) {
    if (m == &module) continue;
    int64_t own = 0;
    for (const auto& child_param : m->named_parameters())
      if (child_param.first.find('.') == std::string::npos) own += child_param.second.numel();
    row(paths.count(m) ? paths[m] : "?", m->repr(), shape_str(shape), std::to_string(own));
  }
  int64_t total = 0;
  for (const Tensor& p : module.parameters()) total += p.numel();
  out << "input " << shape_str(input_shape) << " -> output " << shape_str(calls.back().second) << "; " << total
      << " parameters\n";
  return out.str();
}

}  // namespace humble::nn
