// tests/test_tensor_api.cpp — what a PyTorch user expects of tensors: indexing on any dim, views
// that write into their base, in-place ops under autograd's version check, dtype promotion,
// printing, typed buffers and item<T>(), and the ops var/std, cumsum, sort, topk, arange, linspace.
//
//   1. views: select/narrow/slice/[]/transpose/permute share storage, negative indices count
//      from the end, writes through a view reach the base, kernels take views as inputs, and
//      every view op is differentiable (gradcheck, float64).
//   2. in place: values, the leaf rule, a recorded in-place op's gradient (gradcheck), the
//      version check on every op that saves a tensor (a table: changing a saved tensor throws,
//      changing one that no backward reads does not), dtypes that cannot change in place.
//   3. PyTorch golden values (tests/golden/tensor_api.json from gen_tensor_api.py): promotion for
//      every op and dtype pair, the new ops with their gradients, Embedding, printed strings.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <humble/humble.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace test_tensor_api {

using namespace humble;

namespace {

using Values = std::vector<double>;
using nlohmann::json;

const json& fixture() {
  static const json j = [] {
    std::ifstream in(HUMBLE_SOURCE_DIR "/tests/golden/tensor_api.json");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/golden/tensor_api.json (run tests/golden/gen_tensor_api.py)");
    return json::parse(in);
  }();
  return j;
}

Dtype dtype_named(const std::string& name) {
  return name == "float32" ? Dtype::Float32 : name == "float64" ? Dtype::Float64 : Dtype::Int64;
}

// Numbers, and "nan", "inf", "-inf" for what JSON cannot hold.
Values values_of(const json& data) {
  Values out;
  for (const json& v : data) out.push_back(v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>());
  return out;
}

Tensor decode(const json& t) {
  return tensor(values_of(t.at("data")), t.at("shape").get<Shape>(), dtype_named(t.at("dtype")));
}

// Same shape, dtype and values (within tol, relative to the values' scale; NaN matching NaN).
void check_matches(const Tensor& got, const json& want, double tol) {
  REQUIRE(got.defined());
  CHECK(got.shape() == want.at("shape").get<Shape>());
  CHECK(std::string(dtype_name(got.dtype())) == want.at("dtype").get<std::string>());
  const Values g = got.to_vector(), w = values_of(want.at("data"));
  REQUIRE(g.size() == w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    CAPTURE(i);
    if (std::isnan(w[i]))
      CHECK(std::isnan(g[i]));
    else if (std::isinf(w[i]))
      CHECK(g[i] == w[i]);
    else
      CHECK(std::abs(g[i] - w[i]) <= tol * std::max(1.0, std::abs(w[i])));
  }
}

Tensor f64(const Values& v, Shape shape) { return tensor(v, std::move(shape), Dtype::Float64); }

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

void check_gradcheck(const std::function<Tensor(const Tensors&)>& f, const Tensors& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  CHECK_MESSAGE(r.passed, r.message);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Views

TEST_CASE("views: select, narrow, slice and [] on any dim share storage, counting negatives from the end") {
  const Tensor x = arange(0, 24, 1).reshape({2, 3, 4});  // x[i, j, k] = 12i + 4j + k
  const Tensor col = x.select(2, -1);                    // x[:, :, 3]
  CHECK(col.shape() == Shape{2, 3});
  CHECK(col.to_vector() == Values{3, 7, 11, 15, 19, 23});
  CHECK(col.shares_storage(x));
  CHECK_FALSE(col.is_contiguous());
  CHECK(x.select(1, 0).to_vector() == Values{0, 1, 2, 3, 12, 13, 14, 15});
  CHECK(x.narrow(2, 1, 2).to_vector() == Values{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
  CHECK(x.narrow(-1, -2, 2).to_vector() == x.narrow(2, 2, 2).to_vector());
  CHECK(x.slice(2, 0, 4, 2).to_vector() == Values{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22});
  CHECK(x.slice(1, -2, 100).shape() == Shape{2, 2, 4});  // Python's clamping
  CHECK(x.slice(2, 1, 4, 2).select(0, 1).to_vector() == Values{13, 15, 17, 19, 21, 23});
  CHECK(x[-1][-1][-1].item<int64_t>() == 23);
  CHECK(x.transpose(0, 2).shape() == Shape{4, 3, 2});
  CHECK(x.transpose(0, 2).select(0, 1).to_vector() == Values{1, 13, 5, 17, 9, 21});
  CHECK(x.permute({2, 0, 1}).contiguous().is_contiguous());
  CHECK(x.permute({2, 0, 1}).reshape({-1}).to_vector()[1] == 4);  // p[0, 0, 1] = x[0, 1, 0]

  CHECK_THROWS_WITH_AS(x.select(1, 3), doctest::Contains("[select] index 3 is out of range for dim 1 of size 3"),
                       ShapeError);
  CHECK_THROWS_AS(x.select(1, -4), ShapeError);
  CHECK_THROWS_AS(x.select(3, 0), ShapeError);
  CHECK_THROWS_WITH_AS(x.narrow(2, 3, 2), doctest::Contains("[narrow] start 3 and length 2 do not fit dim 2"),
                       ShapeError);
  CHECK_THROWS_AS(x.slice(0, 0, 1, 0), ValueError);
  CHECK_THROWS_AS(scalar_tensor(1).select(0, 0), ShapeError);
}

TEST_CASE("views: a write through any view reaches its base, and x[i] = t writes (or fills)") {
  Tensor x = zeros({3, 4});
  x.select(1, 2).copy_(tensor({1, 2, 3}, {3}));  // column 2
  CHECK(x.to_vector() == Values{0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0});
  x.t()[0] = 5.0;  // column 0, through a transposed view
  CHECK(x.select(1, 0).to_vector() == Values{5, 5, 5});
  x[1] = tensor({9}, {1});  // broadcast over the row
  CHECK(x[1].to_vector() == Values{9, 9, 9, 9});
  x.narrow(1, 1, 2).mul_(10.0);
  CHECK(x.to_vector() == Values{5, 0, 10, 0, 9, 90, 90, 9, 5, 0, 30, 0});
  x.slice(0, 0, 3, 2) += 1.0;  // rows 0 and 2
  CHECK(x[0].to_vector() == Values{6, 1, 11, 1});
  CHECK(x[2].to_vector() == Values{6, 1, 31, 1});
  x.select(0, -1).zero_();
  CHECK(x[2].to_vector() == Values{0, 0, 0, 0});
}

TEST_CASE("views: kernels take views as inputs, and data<T>() refuses a non-contiguous one") {
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor t = a.t();  // (3, 2): [[1, 4], [2, 5], [3, 6]]
  CHECK((t + 1.0).to_vector() == Values{2, 5, 3, 6, 4, 7});
  CHECK(sum(t, {1}).to_vector() == Values{5, 7, 9});
  CHECK(matmul(t, a).to_vector() == matmul(t.contiguous(), a).to_vector());
  CHECK(softmax(t, 0).to_vector() == softmax(t.contiguous(), 0).to_vector());
  CHECK(cat({t, t}, 1).to_vector() == Values{1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6});
  CHECK(index_select(t, 1, tensor({1}, {1}, Dtype::Int64)).to_vector() == Values{4, 5, 6});
  CHECK(to_string(t) == to_string(t.contiguous()));
  CHECK_THROWS_WITH_AS(t.data<float>(), doctest::Contains("[data] the tensor (3, 2) with strides (1, 3)"), ValueError);
  CHECK_THROWS_WITH_AS(t.view({6}), doctest::Contains("[view] cannot view (3, 2)"), ShapeError);
  CHECK(t.reshape({6}).to_vector() == Values{1, 4, 2, 5, 3, 6});  // reshape copies when it must
  CHECK_FALSE(t.reshape({6}).shares_storage(a));
  CHECK(a.reshape({3, 2}).shares_storage(a));
}

TEST_CASE("views: every view op is differentiable (gradcheck, float64)") {
  Generator gen(3);
  const Tensor x = leaf(randn({3, 4, 5}, gen, Dtype::Float64));
  check_gradcheck([](const Tensors& v) { return v[0].select(1, -2); }, {x});
  check_gradcheck([](const Tensors& v) { return v[0].narrow(2, 1, 3); }, {x});
  check_gradcheck([](const Tensors& v) { return v[0].slice(0, -2, 3).slice(2, 0, 5, 2); }, {x});
  check_gradcheck([](const Tensors& v) { return v[0][-1]; }, {x});
  check_gradcheck([](const Tensors& v) { return v[0].permute({2, 0, 1}) * 2.0; }, {x});
  check_gradcheck([](const Tensors& v) { return v[0].transpose(0, 2).reshape({-1}); }, {x});
  check_gradcheck([](const Tensors& v) { return v[0].transpose(1, 2).contiguous().view({3, 20}); }, {x});
  check_gradcheck([](const Tensors& v) { return index_select(v[0], 2, tensor({4, -1, 0}, {3}, Dtype::Int64)); }, {x});
  // to(): a float32 round trip is too coarse for finite differences; its gradient is exactly g.
  const Tensor y = leaf(x);
  sum(y.to(Dtype::Float32) * tensor({2.5}, {1})).backward();
  CHECK(y.grad().dtype() == Dtype::Float64);
  CHECK(y.grad().to_vector() == Values(60, 2.5));
}

// ---------------------------------------------------------------------------------------------
// 2. In place, and the version check

TEST_CASE("in place: add_, sub_, mul_, div_, clamp_, masked_fill_, index_put_ and the operators") {
  Tensor x = tensor({1, 2, 3, 4}, {2, 2});
  x.add_(tensor({10, 20}, {2}));
  CHECK(x.to_vector() == Values{11, 22, 13, 24});
  x -= 1;
  x *= tensor({2}, {1});
  x /= 4.0;
  CHECK(x.to_vector() == Values{5, 10.5, 6, 11.5});
  x.clamp_(6, 11);
  CHECK(x.to_vector() == Values{6, 10.5, 6, 11});
  x.masked_fill_(tensor({1, 0}, {2}, Dtype::Int64), -1);
  CHECK(x.to_vector() == Values{-1, 10.5, -1, 11});
  x.index_put_(tensor({-1}, {1}, Dtype::Int64), tensor({7, 8}, {2}));
  CHECK(x.to_vector() == Values{-1, 10.5, 7, 8});
  x.index_put_(tensor({0, 0}, {2}, Dtype::Int64), ones({2, 2}), /*accumulate=*/true);
  CHECK(x.to_vector() == Values{1, 12.5, 7, 8});
  CHECK_THROWS_WITH_AS(x.index_put_(tensor({1, 1}, {2}, Dtype::Int64), ones({2})),
                       doctest::Contains("[index_put_] row 1 is indexed twice"), ValueError);
  CHECK(masked_fill(x, gt(x, full({}, 7.5)), 0).to_vector() == Values{1, 0, 7, 0});

  Tensor n = arange(4);
  n += 2;  // an integer keeps int64
  CHECK(n.dtype() == Dtype::Int64);
  CHECK(n.to_vector() == Values{2, 3, 4, 5});
  CHECK_THROWS_WITH_AS(n.add_(0.5), doctest::Contains("[add_] the result is float32 but the tensor is int64"),
                       ValueError);
  CHECK_THROWS_AS(n.div_(2), ValueError);  // true division of int64 is float
  CHECK_THROWS_WITH_AS(n.mul_(arange(8).reshape({2, 4})),
                       doctest::Contains("[mul_] the result would be (2, 4) but the tensor is (4,)"), ShapeError);
  CHECK(n.to_vector() == Values{2, 3, 4, 5});  // refused ops write nothing
  Tensor f = zeros({2});
  f += arange(2);  // float32 += int64: float32
  CHECK(f.to_vector() == Values{0, 1});
  CHECK_THROWS_AS(f.add_(zeros({2}, Dtype::Float64)), ValueError);
}

TEST_CASE("in place: refused on a leaf that requires grad outside no-grad, allowed under NoGradGuard") {
  Tensor w = tensor({1, 2}, {2}, Dtype::Float64, true);
  CHECK_THROWS_WITH_AS(w.add_(1.0), doctest::Contains("[add_] the tensor (2,) is a leaf that requires grad"),
                       ValueError);
  CHECK_THROWS_AS(w[0] = 3.0, ValueError);  // a view of the leaf: the same rule
  CHECK_THROWS_AS(w.zero_(), ValueError);
  CHECK(w.to_vector() == Values{1, 2});
  {
    NoGradGuard no_grad;
    w.mul_(3.0);
    w[1] = 0.5;
  }
  CHECK(w.to_vector() == Values{3, 0.5});
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
}

TEST_CASE("in place: a recorded in-place op on a computed tensor is differentiable") {
  Generator gen(5);
  const Tensor a = leaf(randn({3, 4}, gen, Dtype::Float64));
  const Tensor b = leaf(randn({4}, gen, Dtype::Float64));
  check_gradcheck(
      [](const Tensors& v) {
        Tensor h = v[0] * 2.0;
        h.mul_(v[1]);  // needs h's old value and v[1]
        h += v[1];
        h.clamp_(-1.5, 1.5);
        h.masked_fill_(gt(v[1], zeros({}, Dtype::Float64)), 0.25);
        return h;
      },
      {a, b});
  check_gradcheck(
      [](const Tensors& v) {
        Tensor h = v[0] + 0.0;
        h.copy_(v[1]);  // h's old value gets no gradient, v[1] every row's
        return h * v[0];
      },
      {a, b});
  check_gradcheck(
      [](const Tensors& v) {
        Tensor h = v[0] * 1.0;
        h.index_put_(tensor({2, 0}, {2}, Dtype::Int64), v[1]);
        return h;
      },
      {a, b});
  // A view of a tensor in the graph cannot record its change: a clear error, not a stale history.
  Tensor h = a * 2.0;
  CHECK_THROWS_WITH_AS(h[0].add_(1.0), doctest::Contains("[add_] the tensor (4,) is a view"), ValueError);
  Tensor buffer = zeros({2, 4}, Dtype::Float64);
  CHECK_THROWS_AS(buffer[0] = b, ValueError);
}

TEST_CASE("versions: every in-place write bumps the storage's version, shared by views and detach()") {
  Tensor x = zeros({2, 3});
  const Tensor view = x[1], alias = x.detach();
  CHECK(x.version() == 0);
  x[0].fill_(1);
  CHECK(x.version() == 1);
  CHECK(view.version() == 1);
  alias.detach().add_(1.0);
  CHECK(x.version() == 2);
  CHECK(x.clone().version() == 0);
  Tensor p = tensor({1, 2}, {2}, Dtype::Float32, true);
  sum(p * p).backward();
  optim::SGD sgd({p}, {.lr = 0.1});
  sgd.step();
  CHECK(p.version() == 1);  // optimizers write through data<T>() and say so
}

TEST_CASE("versions: changing a tensor an op saved makes backward throw, naming the op, and an unsaved one does not") {
  struct Case {
    const char* op;
    std::function<Tensor(const Tensor& a, const Tensor& b)> f;  // a, b: float64 (2, 3) and (3)
    bool reads_a, reads_b;
  };
  const std::vector<Case> cases = {
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, true, true},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, true, true},
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, false, false},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, false, false},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, true, true},
      {"log", [](const Tensor& a, const Tensor&) { return log(a); }, true, false},
      {"tanh", [](const Tensor& a, const Tensor&) { return tanh(a); }, false, false},  // saves its output
      {"rdiv", [](const Tensor& a, const Tensor&) { return 2.0 / a; }, true, false},
      {"mul", [](const Tensor& a, const Tensor&) { return a * 3.0; }, false, false},
      {"max", [](const Tensor& a, const Tensor&) { return max(a, {1}); }, true, false},
      {"logsumexp", [](const Tensor& a, const Tensor&) { return logsumexp(a, {1}); }, true, false},
      {"softmax", [](const Tensor& a, const Tensor&) { return softmax(a, 1); }, false, false},
      {"matmul",
       [](const Tensor& a, const Tensor& b) {
         return matmul(a, b.reshape({3, 1}));
       },
       true, true},
      {"linear",
       [](const Tensor& a, const Tensor& b) {
         return linear(a, b.reshape({1, 3}));
       },
       true, true},
      {"gather",
       [](const Tensor& a, const Tensor&) {
         return gather(a, 1, tensor({2, 0}, {2, 1}, Dtype::Int64));
       },
       false, false},
      {"select", [](const Tensor& a, const Tensor&) { return a.select(1, 0); }, true, false},  // a view: its base
  };
  for (const Case& c : cases)
    for (const bool change_a : {true, false}) {
      CAPTURE(c.op);
      CAPTURE(change_a);
      Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64({0.5, 2, 1.5}, {3});
      const Tensor wa = tensor({1.5}, {1}, Dtype::Float64, true), wb = tensor({0.5}, {1}, Dtype::Float64, true);
      // Each input is a product with a leaf, so both paths need a gradient; the change is to the product.
      Tensor pa = a * wa, pb = b * wb;
      const Tensor out = sum(c.f(pa, pb));
      (change_a ? pa : pb).add_(1.0);
      const bool read = change_a ? c.reads_a : c.reads_b;
      const std::string message = std::string(" that ") + c.op + " saved";
      if (read)
        CHECK_THROWS_WITH_AS(out.backward(), doctest::Contains(message.c_str()), ValueError);
      else
        CHECK_NOTHROW(out.backward());
    }
  // The output too: tanh saves it, so changing it in place afterwards is caught.
  const Tensor x = leaf(f64({0.1, 0.2}, {2}));
  Tensor y = tanh(x);
  y.mul_(2.0);
  CHECK_THROWS_WITH_AS(sum(y).backward(), doctest::Contains("(2,) float64 tensor that tanh saved"), ValueError);
  // An optimizer step between forward and backward changes the weights the graph saved.
  nn::Linear layer(2, 1);
  const Tensor loss = sum(layer(ones({1, 2})) * layer(ones({1, 2})));
  optim::SGD sgd(layer.parameters(), {.lr = 0.1});
  sum(layer(ones({1, 2}))).backward();
  sgd.step();
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("linear saved"), ValueError);
}

// ---------------------------------------------------------------------------------------------
// Buffers, item<T>(), to_vector<T>()

TEST_CASE("buffers: tensors from typed user memory, item<T>() and to_vector<T>()") {
  const std::vector<float> floats{1.5f, -2.0f, 3.25f, 4.0f};
  const Tensor f = tensor(floats, {2, 2});
  CHECK(f.dtype() == Dtype::Float32);
  CHECK(f.to_vector<float>() == floats);
  const std::array<double, 3> doubles{0.1, 0.2, 0.3};
  CHECK(tensor(doubles, {3}).dtype() == Dtype::Float64);
  CHECK(tensor(doubles, {3}).to_vector<double>()[1] == 0.2);
  const int64_t raw[] = {7, -8, 9};
  const Tensor i = tensor(std::span<const int64_t>(raw, 3), {3});
  CHECK(i.dtype() == Dtype::Int64);
  CHECK(i.to_vector<int64_t>() == std::vector<int64_t>{7, -8, 9});
  const std::vector<uint8_t> pixels{0, 128, 255};
  CHECK(tensor(pixels, {3}).dtype() == Dtype::Int64);
  CHECK(tensor(pixels, {3}, Dtype::Float32).to_vector() == Values{0, 128, 255});
  CHECK(tensor(floats, {4}, Dtype::Float64, true).requires_grad());
  CHECK_THROWS_WITH_AS(tensor(floats, {3}), doctest::Contains("[tensor] 4 values do not fill shape (3,)"), ShapeError);
  CHECK_THROWS_AS(tensor(floats, {4}, Dtype::Int64), ValueError);
  CHECK_THROWS_AS(f.to_vector<double>(), ValueError);

  CHECK(f[1][0].item<float>() == 3.25f);
  CHECK(f[0][1].item<int>() == -2);
  CHECK(i[2].item<int64_t>() == 9);
  CHECK(i[1].item<double>() == -8.0);
  CHECK_THROWS_WITH_AS(f[0][0].item<int64_t>(), doctest::Contains("[item] the float32 value 1.5 is not an integer"),
                       ValueError);
  CHECK_THROWS_AS(tensor({300}, {1}, Dtype::Int64).item<int8_t>(), ValueError);
  CHECK_THROWS_AS(tensor({-1}, {1}, Dtype::Int64).item<uint32_t>(), ValueError);
  CHECK_THROWS_AS(f.item<float>(), ShapeError);
  CHECK(f.t().to_vector<float>() == std::vector<float>{1.5f, 3.25f, -2.0f, 4.0f});  // a view, read in its order
}

// ---------------------------------------------------------------------------------------------
// 3. PyTorch golden values

TEST_CASE("promotion: every binary, scalar and unary op on every dtype matches PyTorch's result dtype and values") {
  int checked = 0, refused = 0;
  for (const json& c : fixture().at("promotion")) {
    const std::string kind = c.at("kind"), op = c.value("op", "clamp");
    CAPTURE(kind);
    CAPTURE(op);
    if (kind == "binary") {
      const Tensor a = decode(c.at("a")), b = decode(c.at("b"));
      CAPTURE(std::string(dtype_name(a.dtype())));
      CAPTURE(std::string(dtype_name(b.dtype())));
      const std::map<std::string, std::function<Tensor(const Tensor&, const Tensor&)>> ops = {
          {"add", &humble::add}, {"sub", &humble::sub},         {"mul", &humble::mul},
          {"div", &humble::div}, {"maximum", &humble::maximum}, {"minimum", &humble::minimum},
          {"eq", &humble::eq},   {"lt", &humble::lt},           {"ge", &humble::ge}};
      if (a.is_floating_point() && b.is_floating_point() && a.dtype() != b.dtype()) {
        // humble's one documented difference: float32 with float64 is an error, not a promotion.
        CHECK_THROWS_WITH_AS(ops.at(op)(a, b), doctest::Contains("float32 and float64"), ValueError);
        ++refused;
        continue;
      }
      check_matches(ops.at(op)(a, b), c.at("out"), 1e-7);
    } else if (kind == "scalar") {
      const Tensor x = decode(c.at("x"));
      const double v = c.at("scalar");
      const Scalar s = c.at("integral").get<bool>() ? Scalar(static_cast<int64_t>(v)) : Scalar(v);
      CAPTURE(std::string(dtype_name(x.dtype())));
      CAPTURE(v);
      const std::map<std::string, std::function<Tensor()>> ops = {
          {"add", [&] { return x + s; }},    {"sub", [&] { return x - s; }},  {"mul", [&] { return x * s; }},
          {"div", [&] { return x / s; }},    {"rsub", [&] { return s - x; }}, {"rdiv", [&] { return s / x; }},
          {"pow", [&] { return pow(x, s); }}};
      check_matches(ops.at(op)(), c.at("out"), 1e-6);
    } else if (kind == "unary") {
      const std::map<std::string, std::function<Tensor(const Tensor&)>> ops = {
          {"exp", [](const Tensor& t) { return exp(t); }},         {"log", [](const Tensor& t) { return log(t); }},
          {"sqrt", [](const Tensor& t) { return sqrt(t); }},       {"tanh", [](const Tensor& t) { return tanh(t); }},
          {"sigmoid", [](const Tensor& t) { return sigmoid(t); }}, {"abs", [](const Tensor& t) { return abs(t); }},
          {"neg", [](const Tensor& t) { return neg(t); }},         {"relu", [](const Tensor& t) { return relu(t); }}};
      check_matches(ops.at(op)(decode(c.at("x"))), c.at("out"), 1e-6);
    } else {
      const double lo = c.at("low"), hi = c.at("high");
      const bool integral = c.at("integral");
      const Tensor out = integral ? clamp(decode(c.at("x")), static_cast<int64_t>(lo), static_cast<int64_t>(hi))
                                  : clamp(decode(c.at("x")), lo, hi);
      check_matches(out, c.at("out"), 1e-7);
    }
    ++checked;
  }
  CHECK(checked > 150);
  CHECK(refused == 18);  // 9 binary ops × (float32, float64) both ways
  CHECK_THROWS_AS(pow(arange(3), -3), ValueError);
}

TEST_CASE("golden: var, std, cumsum, sort, argsort and topk match PyTorch, gradients included") {
  int with_gradient = 0;
  for (const json& c : fixture().at("ops")) {
    const std::string op = c.at("op");
    CAPTURE(op);
    CAPTURE(c.dump().substr(0, 80));
    const Tensor x = decode(c.at("x"));
    std::function<Tensor(const Tensor&)> f;
    if (op == "var" || op == "std") {
      const auto dims = c.at("dims").get<std::vector<int64_t>>();
      const bool unbiased = c.at("unbiased"), keepdim = c.at("keepdim");
      f = [=](const Tensor& t) {
        return op == "var" ? var(t, dims, unbiased, keepdim) : humble::std(t, dims, unbiased, keepdim);
      };
    } else if (op == "cumsum") {
      f = [dim = c.at("dim").get<int64_t>()](const Tensor& t) { return cumsum(t, dim); };
    } else if (op == "sort") {
      const int64_t dim = c.at("dim");
      const bool descending = c.at("descending");
      const auto [values, indices] = sort(x, dim, descending);
      check_matches(indices, c.at("indices"), 0);
      CHECK(argsort(x, dim, descending).to_vector() == indices.to_vector());
      f = [=](const Tensor& t) { return sort(t, dim, descending).first; };
    } else {
      const int64_t dim = c.at("dim"), k = c.at("k");
      const bool largest = c.at("largest");
      check_matches(topk(x, k, dim, largest).second, c.at("indices"), 0);
      f = [=](const Tensor& t) { return topk(t, k, dim, largest).first; };
    }
    check_matches(f(x), c.at("out"), 1e-12);
    if (!c.contains("dx")) continue;
    const Tensor input = leaf(x);
    sum(f(input) * decode(c.at("proj"))).backward();
    check_matches(input.grad(), c.at("dx"), 1e-12);
    // Finite differences need a line without ties (nudging one of two equal values reorders them).
    const Tensor distinct = x + arange(0, static_cast<double>(x.numel()), 1, Dtype::Float64).reshape(x.shape()) * 1e-3;
    const GradcheckResult r = gradcheck([&](const Tensors& v) { return f(v[0]); }, {leaf(distinct)});
    CHECK_MESSAGE(r.passed, r.message);
    ++with_gradient;
  }
  CHECK(with_gradient > 40);
  CHECK_THROWS_WITH_AS(topk(zeros({3}), 4), doctest::Contains("[topk] k must be in [0, 3]"), ValueError);
  CHECK(topk(tensor({1, 3, 2}, {3}), 2).first.to_vector() == Values{3, 2});
  CHECK_THROWS_AS(var(arange(3)), ValueError);
  CHECK(std::isnan(var(zeros({1})).item()));                                    // n − 1 = 0, as PyTorch
  CHECK(var(tensor({1, 2, 3, 5}, {2, 2}), {1}).to_vector() == Values{0.5, 2});  // dim 1, not "unbiased = 1"
}

TEST_CASE("golden: arange with a float step and linspace match PyTorch") {
  for (const json& c : fixture().at("ranges")) {
    CAPTURE(c.dump().substr(0, 80));
    const Tensor out = c.at("op") == "arange" ? arange(c.at("start").get<double>(), c.at("end").get<double>(),
                                                       c.at("step").get<double>(), Dtype::Float64)
                                              : linspace(c.at("start").get<double>(), c.at("end").get<double>(),
                                                         c.at("steps").get<int64_t>(), Dtype::Float64);
    check_matches(out, c.at("out"), 1e-15);
  }
  CHECK(linspace(0, 1, 3).dtype() == Dtype::Float32);
  CHECK_THROWS_AS(linspace(0, 1, -1), ValueError);
  CHECK_THROWS_AS(arange(0.0, 1.0, 0.0), ValueError);
}

TEST_CASE("golden: Embedding with and without padding_idx matches PyTorch, and gradchecks") {
  for (const json& c : fixture().at("embedding")) {
    CAPTURE(c.at("padding_idx").dump());
    const std::optional<int64_t> padding =
        c.at("padding_idx").is_null() ? std::nullopt : std::optional<int64_t>(c.at("padding_idx").get<int64_t>());
    nn::Embedding layer(5, 3, padding);
    layer.to(Dtype::Float64);
    if (padding) CHECK(layer.weight[*padding].to_vector() == Values{0, 0, 0});  // zeroed at construction
    {
      NoGradGuard no_grad;
      layer.weight.copy_(decode(c.at("weight")));
    }
    const Tensor indices = decode(c.at("indices"));
    const Tensor out = layer(indices);
    check_matches(out, c.at("out"), 1e-15);
    sum(out * decode(c.at("proj"))).backward();
    check_matches(layer.weight.grad(), c.at("dweight"), 1e-12);
    layer.zero_grad();
    // The padding row's gradient is 0 by design, not the finite difference: check rows it never picks.
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < 5; ++i)
      if (!padding || (*padding + 5) % 5 != i) rows.push_back(i);
    const GradcheckResult r = nn::gradcheck(layer, tensor(rows, {static_cast<int64_t>(rows.size())}));
    CHECK_MESSAGE(r.passed, r.message);
  }
  nn::Embedding layer(4, 2, -1);
  CHECK(layer.repr() == "Embedding(4, 2, padding_idx=3)");
  CHECK(layer(arange(4).reshape({2, 2})).shape() == Shape{2, 2, 2});
  CHECK_THROWS_WITH_AS(layer(tensor({4}, {1}, Dtype::Int64)), doctest::Contains("[embedding] index 4"), ValueError);
  CHECK_THROWS_AS(layer(tensor({-1}, {1}, Dtype::Int64)), ValueError);
  CHECK_THROWS_AS(layer(zeros({1})), ValueError);
  CHECK_THROWS_AS(nn::Embedding(4, 2, 4), ValueError);
}

TEST_CASE("golden: operator<< prints the values as PyTorch does, then shape and dtype") {
  for (const json& c : fixture().at("printing")) {
    const Tensor t = decode(c.at("tensor"));
    std::ostringstream out;
    out << t;
    CHECK(out.str() == c.at("text").get<std::string>());
  }
  const Tensor w = tensor({1, 2}, {2}, Dtype::Float64, true);
  CHECK(to_string(w) == "tensor([1., 2.], shape=(2,), dtype=float64, requires_grad=true)");
  CHECK(to_string(w * 2.0) == "tensor([2., 4.], shape=(2,), dtype=float64, grad_fn=<mul>)");
  CHECK(to_string(Tensor()) == "tensor(undefined)");
}

namespace {

// silu: out = x·σ(x);  dx = g ⊙ σ(x)·(1 + x·(1 − σ(x)))  — docs/architecture.md's example, verbatim
Tensor silu(const Tensor& x) {
  Tensor out, s;
  {
    NoGradGuard no_grad;
    s = sigmoid(x);
    out = x * s;
  }
  return record("silu", out, {x}, {x, s}, [](const Tensor& g, const Tensors& saved) -> Tensors {
    const Tensor &x = saved[0], &s = saved[1];
    return {g * s * (1.0 + x * (1.0 - s))};
  });
}

}  // namespace

TEST_CASE("docs: the custom-op example of docs/architecture.md records one node and gradchecks") {
  Generator gen(0);
  const Tensor x = randn({4, 3}, gen, Dtype::Float64).requires_grad_();
  const GradcheckResult r = gradcheck([](const Tensors& v) { return silu(v[0]); }, {x});
  CHECK_MESSAGE(r.passed, r.message);
  CHECK(to_string(silu(x)).find("grad_fn=<silu>") != std::string::npos);
  Tensor y = silu(x);
  CHECK_NOTHROW(sum(y).backward());
}

}  // namespace test_tensor_api
