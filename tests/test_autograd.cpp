// tests/test_autograd.cpp — the engine: accumulation, shared subgraphs, retain_graph, grad mode,
// detach, retain_grad, explicit output gradients, grad-ready hooks, and graph lifetime.
//
// Every expected gradient is derived by hand next to its check. Graph lifetime is measured with
// Node::live_count(): a backward pass without retain_graph must release every closure (and the
// tensors it saved), and dropping the tensors must bring the count back to where it started —
// also for a chain a million nodes deep, which must neither overflow the stack in backward nor
// in its destruction.
#include <doctest/doctest.h>

#include <cmath>
#include <humble/humble.hpp>
#include <string>
#include <vector>

namespace test_autograd {

using namespace humble;

namespace {

using Values = std::vector<double>;

Tensor leaf(const Values& values, Shape shape) { return tensor(values, std::move(shape), Dtype::Float64, true); }

// A custom op through record(): y = x (identity forward) whose backward returns `backward`'s
// result; used to probe what the engine does with unusual gradients.
Tensor custom(const char* name, const Tensor& x, BackwardFn backward) {
  return record(name, x.detach().clone(), {x}, std::move(backward));
}

}  // namespace

TEST_CASE("autograd: a tensor used twice gets both contributions") {
  // y = x·x: dy/dx = 2x.  z = x + x: dz/dx = 2.  w = x·x·x: dw/dx = 3x².
  const Tensor x = leaf({3, -1.5}, {2});
  sum(x * x).backward();
  CHECK(x.grad().to_vector() == Values{6, -3});
  x.set_grad(Tensor());
  sum(x + x).backward();
  CHECK(x.grad().to_vector() == Values{2, 2});
  x.set_grad(Tensor());
  sum(x * x * x).backward();
  CHECK(x.grad().to_vector() == Values{27, 6.75});
}

TEST_CASE("autograd: a shared subexpression (diamond graph) is differentiated once per path") {
  // h = x², L = 3h + h² (h feeds two branches that meet again).
  // dL/dh = 3 + 2h, dL/dx = (3 + 2h)·2x; at x = 2: h = 4, dL/dx = 11 · 4 = 44.
  const Tensor x = leaf({2}, {});
  const Tensor h = x * x;
  const Tensor loss = h * 3.0 + h * h;
  CHECK(loss.item() == 28);
  loss.backward();
  CHECK(x.grad().item() == 44);

  // A wider diamond: a = 2x and b = x + 1 both feed c = a·b and d = a − b; L = c + d.
  // c = 2x(x + 1), so c' = 4x + 2;  d = x − 1, so d' = 1.  At x = 1.5: L' = 8 + 1 = 9.
  const Tensor y = leaf({1.5}, {});
  const Tensor a = y * 2.0, b = y + 1.0;
  (a * b + (a - b)).backward();
  CHECK(y.grad().item() == 9);
}

TEST_CASE("autograd: retain_graph allows a second backward, without it the second one throws") {
  // L = Σ x²: one backward gives 2x; a second one on the retained graph adds another 2x.
  const Tensor x = leaf({1, -2, 0.5}, {3});
  const Tensor loss = sum(x * x);
  loss.backward(/*retain_graph=*/true);
  CHECK(x.grad().to_vector() == Values{2, -4, 1});
  loss.backward();  // frees the graph this time
  CHECK(x.grad().to_vector() == Values{4, -8, 2});
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("retain_graph"), ValueError);
  CHECK(x.grad().to_vector() == Values{4, -8, 2});  // the failed call changed nothing

  const Tensor z = leaf({1}, {1});
  const Tensor once = sum(exp(z) * 2.0);
  once.backward();
  CHECK_THROWS_WITH_AS(once.backward(), doctest::Contains("retain_graph"), ValueError);
  CHECK_THROWS_WITH_AS(once.backward(true), doctest::Contains("retain_graph"), ValueError);
}

TEST_CASE("autograd: NoGradGuard records nothing, nests, and restores the previous mode") {
  const Tensor x = leaf({1, 2}, {2});
  const int64_t before = Node::live_count();
  CHECK(grad_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    const Tensor y = x * 2.0 + exp(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK(Node::live_count() == before);
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restores "off", not "on"
    CHECK_FALSE(sum(x * x).requires_grad());
  }
  CHECK(grad_enabled());
  const Tensor z = x * 2.0;
  CHECK(z.requires_grad());
  CHECK(Node::live_count() == before + 1);
}

TEST_CASE("autograd: detach cuts the graph") {
  // z = detach(2x) · x: only the direct x path carries gradient, so dz/dx = 2x (not 4x).
  const Tensor x = leaf({1, 3}, {2});
  const Tensor d = (x * 2.0).detach();
  CHECK_FALSE(d.requires_grad());
  sum(d * x).backward();
  CHECK(x.grad().to_vector() == Values{2, 6});
}

TEST_CASE("autograd: leaf gradients accumulate across backward calls, set_grad replaces or clears") {
  // Σ 2x then Σ 3x: the gradients add up to 5 per element.
  const Tensor x = leaf({1, 2}, {2});
  CHECK_FALSE(x.grad().defined());  // no backward has reached it yet
  sum(x * 2.0).backward();
  CHECK(x.grad().to_vector() == Values{2, 2});
  sum(x * 3.0).backward();
  CHECK(x.grad().to_vector() == Values{5, 5});
  CHECK(x.grad().dtype() == Dtype::Float64);
  CHECK_FALSE(x.grad().requires_grad());

  x.set_grad(Tensor());
  CHECK_FALSE(x.grad().defined());
  sum(x * 3.0).backward();
  CHECK(x.grad().to_vector() == Values{3, 3});

  x.set_grad(tensor({10, 20}, {2}, Dtype::Float64));
  sum(x).backward();
  CHECK(x.grad().to_vector() == Values{11, 21});
  CHECK_THROWS_AS(x.set_grad(zeros({3}, Dtype::Float64)), ShapeError);
  CHECK_THROWS_AS(x.set_grad(zeros({2})), ValueError);  // float32 for a float64 tensor

  // .grad() is the leaf's own copy (optimizers may write to it): not the seed it came from.
  const Tensor w = leaf({1}, {1});
  const Tensor g = ones({1}, Dtype::Float64);
  w.backward(g);
  CHECK_FALSE(w.grad().shares_storage(g));
  w.grad().fill_(100);
  CHECK(g.item() == 1);
}

TEST_CASE("autograd: a leaf's first gradient is copied when anything else holds it, adopted otherwise") {
  // An op whose backward returns a tensor it keeps: .grad() must be a copy, or an optimizer
  // writing into .grad() would change the op's saved tensor.
  const Tensor x = leaf({1, 2}, {2});
  const Tensor kept = tensor({5, 7}, {2}, Dtype::Float64);
  sum(custom("returns_kept", x, [kept](const Tensor&) -> Tensors { return {kept}; })).backward();
  CHECK(x.grad().to_vector() == Values{5, 7});
  CHECK_FALSE(x.grad().shares_storage(kept));
  // A view of the incoming gradient (reshape's backward): copied too.
  const Tensor m = leaf({1, 2, 3, 4}, {2, 2});
  const Tensor seed = tensor({1, 2, 3, 4}, {4}, Dtype::Float64);
  m.reshape({4}).backward(seed);
  CHECK_FALSE(m.grad().shares_storage(seed));
  m.grad().fill_(0);
  CHECK(seed.to_vector() == Values{1, 2, 3, 4});

  // A fresh gradient only the engine holds becomes .grad() as it is: a backward through one
  // large op allocates one large block (the op's gradient), not a second one for a copy.
  const Tensor z = zeros({512, 1024}, Dtype::Float32).requires_grad_();  // 2 MiB
  const Tensor labels = zeros({512}, Dtype::Int64);
  const Tensor loss = losses::cross_entropy(z, labels, {.label_smoothing = 0.1});
  const CacheStats before = cache_stats();
  loss.backward();
  const CacheStats after = cache_stats();
  CHECK(after.hits + after.misses - before.hits - before.misses == 1);
  REQUIRE(z.grad().defined());
  CHECK(z.grad().to_vector()[0] == doctest::Approx((1 - 0.1 + 0.1 / 1024 - 1.0 / 1024) / -512.0));
}

TEST_CASE("autograd: retain_grad keeps dL/dlogits on a non-leaf") {
  // logits = x W (N = 3, D = 2, C = 3); L = mean over rows of −log softmax(logits)[y].
  // dL/dlogits = (softmax(logits) − onehot(y)) / N (the fused softmax–cross-entropy gradient).
  const Tensor x = tensor({1, 2, -1, 0.5, 0, -2}, {3, 2}, Dtype::Float64);
  const Tensor w = leaf({0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, {2, 3});
  const Tensor y = tensor({2, 0, 1}, {3}, Dtype::Int64);
  const Tensor logits = matmul(x, w);  // (3, 3)
  logits.retain_grad();
  const Tensor hidden = logits * 1.0;  // a non-leaf that does not retain its gradient
  const Tensor loss = -mean(sum(one_hot(y, 3, Dtype::Float64) * log_softmax(hidden, 1), {1}));
  loss.backward();

  REQUIRE(logits.grad().defined());
  CHECK(logits.grad().shape() == Shape{3, 3});
  const Values got = logits.grad().to_vector();
  const Values p = softmax(logits.detach(), 1).to_vector(), t = one_hot(y, 3, Dtype::Float64).to_vector();
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx((p[i] - t[i]) / 3).epsilon(1e-12));
  // Each row of (p − onehot) sums to zero.
  for (double s : sum(logits.grad(), {1}).to_vector()) CHECK(std::abs(s) < 1e-15);
  CHECK_FALSE(hidden.grad().defined());
  // And W's gradient is xᵀ · dL/dlogits.
  const Values dw = matmul(x, logits.grad(), true, false).to_vector(), wg = w.grad().to_vector();
  for (std::size_t i = 0; i < dw.size(); ++i) CHECK(wg[i] == doctest::Approx(dw[i]).epsilon(1e-12));
}

TEST_CASE("autograd: backward with an explicit output gradient computes a vector-Jacobian product") {
  // y = x² elementwise, v = (1, 10, 100): x.grad = 2x ⊙ v.
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor y = x * x;
  y.backward(tensor({1, 10, 100}, {3}, Dtype::Float64));
  CHECK(x.grad().to_vector() == Values{2, 40, 600});

  // On a leaf itself, the gradient is the seed.
  const Tensor s = leaf({4}, {});
  s.backward();
  CHECK(s.grad().item() == 1);
  const Tensor m = leaf({1, 2, 3, 4}, {2, 2});
  m.backward(tensor({1, 2, 3, 4}, {2, 2}, Dtype::Float64));
  CHECK(m.grad().to_vector() == Values{1, 2, 3, 4});
}

TEST_CASE("autograd: requires_grad propagates from any input and stops at constants, ints and no-grad") {
  const Tensor x = leaf({1, 2}, {2});
  const Tensor c = tensor({3, 4}, {2}, Dtype::Float64);
  CHECK(x.requires_grad());
  CHECK(x.is_leaf());
  CHECK_FALSE(c.requires_grad());
  CHECK((x + c).requires_grad());
  CHECK((c * x).requires_grad());
  CHECK_FALSE((x + c).is_leaf());
  CHECK_FALSE((c + c).requires_grad());
  CHECK((c + c).is_leaf());
  CHECK(cat({c, x}, 0).requires_grad());
  CHECK(where(c, c, x).requires_grad());
  CHECK_FALSE(gt(x, c).requires_grad());
  CHECK_FALSE(argmax(x, 0).requires_grad());
  CHECK_FALSE(one_hot(tensor({1}, {1}, Dtype::Int64), 2).requires_grad());
  CHECK_FALSE(x.detach().requires_grad());
  CHECK(x.to(Dtype::Float32).requires_grad());  // a float conversion is differentiable
  CHECK_FALSE(x.to(Dtype::Int64).requires_grad());
  CHECK_FALSE((arange(3) + arange(3)).requires_grad());
  CHECK(x.clone().requires_grad());

  Tensor t = tensor({1}, {1}, Dtype::Float64);
  t.requires_grad_();
  CHECK(t.requires_grad());
  t.requires_grad_(false);
  CHECK_FALSE(t.requires_grad());
  CHECK_FALSE((t * 2.0).requires_grad());
  Tensor computed = x * 2.0;
  CHECK_THROWS_AS(computed.requires_grad_(false), ValueError);  // only leaves
}

TEST_CASE("autograd: the engine checks the gradients an op returns") {
  // A backward returning a gradient of the wrong shape or dtype is reported with the op's name.
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor bad = custom("bad_shape", x, [](const Tensor&) -> Tensors { return {zeros({2}, Dtype::Float64)}; });
  CHECK_THROWS_WITH_AS(sum(bad).backward(), doctest::Contains("bad_shape"), ShapeError);
  // Right shape, wrong dtype: a ValueError.
  const Tensor y = leaf({1, 2, 3}, {3});
  const Tensor bad_dtype = custom("bad_dtype", y, [](const Tensor&) -> Tensors { return {zeros({3})}; });
  CHECK_THROWS_WITH_AS(sum(bad_dtype).backward(), doctest::Contains("bad_dtype"), ValueError);
}

TEST_CASE("autograd: a branch that returns no gradient does not block the others") {
  // y = 2x; z = y·1; a = stop(z) returns no gradient (undefined); b = 3y; L = Σ (a + b).
  // Only the b path carries gradient: dL/dx = 3 · 2 = 6. y has two consumers (z's and b's
  // nodes); the one behind the stopped branch must still count as delivered.
  const Tensor x = leaf({1, 2}, {2});
  const Tensor y = x * 2.0;
  const Tensor z = y * 1.0;
  const Tensor a = custom("stop", z, [](const Tensor&) -> Tensors { return {Tensor()}; });
  const Tensor b = y * 3.0;
  sum(a + b).backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().to_vector() == Values{6, 6});
}

TEST_CASE("autograd: a grad-ready hook runs once per pass, when the leaf's gradient is final") {
  // L = Σ (w2 · (w1 · x) + w2): w2 feeds two nodes, so its hook must wait for both; w2's gradient
  // is final before w1's is computed (w1 sits deeper), which is what lets an all-reduce of w2
  // overlap the rest of backward. dL/dw2 = w1·x + 1 = 7 (w1 = 2, x = 3), dL/dw1 = w2·x = 15.
  const Tensor x = tensor({3}, {}, Dtype::Float64);
  const Tensor w1 = leaf({2}, {}), w2 = leaf({5}, {});
  std::vector<std::string> events;
  bool w1_had_gradient = false;
  const int64_t id2 = add_grad_ready_hook(w2, [&] {
    events.push_back("w2 " + std::to_string(w2.grad().item()));
    w1_had_gradient = w1.grad().defined();
  });
  const int64_t id1 = add_grad_ready_hook(w1, [&] { events.push_back("w1 " + std::to_string(w1.grad().item())); });
  (w2 * (w1 * x) + w2).backward();
  CHECK(events == std::vector<std::string>{"w2 7.000000", "w1 15.000000"});
  CHECK_FALSE(w1_had_gradient);

  // A leaf the pass does not reach gets no call; one reached with no gradient still does.
  events.clear();
  (w1 * x).backward();  // + x = 3
  CHECK(events == std::vector<std::string>{"w1 18.000000"});
  events.clear();
  custom("stop", w2, [](const Tensor&) -> Tensors { return {Tensor()}; }).backward();
  CHECK(events == std::vector<std::string>{"w2 7.000000"});  // unchanged: no gradient arrived

  // A leaf that is itself the root; removed hooks stay silent.
  events.clear();
  w1.backward();
  CHECK(events == std::vector<std::string>{"w1 19.000000"});
  remove_grad_ready_hook(w1, id1);
  remove_grad_ready_hook(w2, id2);
  (w2 * w1).backward();
  CHECK(events.size() == 1);

  // Only leaves that require grad take hooks; an exception from a hook ends the pass.
  CHECK_THROWS_WITH_AS(add_grad_ready_hook(x, [] {}), doctest::Contains("[add_grad_ready_hook]"), ValueError);
  CHECK_THROWS_AS(add_grad_ready_hook(w1 * 2.0, [] {}), ValueError);
  add_grad_ready_hook(w1, [] { throw IoError("[hook] failed"); });
  CHECK_THROWS_WITH_AS((w1 * 2.0).backward(), "[hook] failed", IoError);
}

TEST_CASE("graph lifetime: backward frees closures and saved tensors, dropping tensors frees nodes") {
  const int64_t start = Node::live_count();
  const Tensor x = leaf({1, 2, 3}, {3});
  const Tensor w = leaf({0.5, -1, 2}, {3});
  const long x_owners = x.impl()->storage.use_count();
  {
    Tensor root;
    {
      const Tensor h = x * w;  // saves x and w (detached: they share storage)
      CHECK(x.impl()->storage.use_count() > x_owners);
      const Tensor s = tanh(h);
      root = sum(s * s);
      CHECK(Node::live_count() == start + 4);  // mul, tanh, mul, sum
      root.backward();
      // Saved tensors are released by the backward pass even while the graph's tensors live.
      CHECK(x.impl()->storage.use_count() == x_owners);
    }
    // Only the root's own node remains, and it holds no edges any more.
    CHECK(Node::live_count() == start + 1);
    REQUIRE(root.impl()->autograd->grad_fn);
    CHECK(root.impl()->autograd->grad_fn->inputs.empty());
    CHECK_FALSE(root.impl()->autograd->grad_fn->backward);
  }
  CHECK(Node::live_count() == start);

  // Without backward, dropping the tensors frees every node (no cycles through saved tensors),
  // for every op that saves something.
  {
    const Tensor idx = tensor({1, 0}, {2}, Dtype::Int64);
    Tensors keep;
    keep.push_back(max(x * w, {0}, true));
    keep.push_back(min(x, {0}, true));
    keep.push_back(max(x));
    keep.push_back(logsumexp(x, {0}, true));
    keep.push_back(logsumexp(x, {0}));
    keep.push_back(softmax(x, 0));
    keep.push_back(log_softmax(x, 0));
    keep.push_back(sigmoid(x) / w);
    keep.push_back(matmul(reshape(x, {1, 3}), reshape(w, {3, 1})));
    keep.push_back(linear(reshape(x, {1, 3}), reshape(w, {1, 3}), x.slice(0, 1)));
    keep.push_back(index_select(x, idx));
    keep.push_back(gather(x, 0, idx));
    keep.push_back(where(x, w, x));
    keep.push_back(maximum(x, w));
    keep.push_back(cat({x, w}, 0));
    keep.push_back(permute(reshape(x, {1, 3}), {1, 0}));
    keep.push_back(mean(pow(x, 2.0)));
    keep.push_back(broadcast_to(x, {2, 3}));
    CHECK(Node::live_count() > start);
  }
  CHECK(Node::live_count() == start);

  // With retain_graph, the graph survives backward, and is freed with its tensors.
  {
    const Tensor root = sum(exp(x) * w);
    root.backward(true);
    CHECK(Node::live_count() == start + 3);
  }
  CHECK(Node::live_count() == start);
}

TEST_CASE("graph lifetime: a chain one million nodes deep backpropagates and is destroyed iteratively") {
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer (frames several times larger, every allocation slow) 200k nodes are
  // still far beyond what a recursive teardown survives on an 8 MB stack, at a fifth of the time.
  constexpr int depth = 200000;
#else
  constexpr int depth = 1000000;
#endif
  const int64_t start = Node::live_count();
  const Tensor x = leaf({1.5}, {});
  {
    Tensor y = x;
    for (int i = 0; i < depth; ++i) y = y * 1.0;
    CHECK(Node::live_count() == start + depth);
    y.backward();
    CHECK(x.grad().item() == 1);  // d/dx of x·1·1·…·1
  }
  CHECK(Node::live_count() == start);
  // Dropped without any backward: the teardown must not recurse either.
  {
    Tensor y = x;
    for (int i = 0; i < depth; ++i) y = y + 0.0;
    CHECK(Node::live_count() == start + depth);
  }
  CHECK(Node::live_count() == start);
}

}  // namespace test_autograd
