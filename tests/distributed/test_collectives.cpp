// tests/distributed/test_collectives.cpp — the Context and the collectives, on any number of ranks.
//
// Rank r contributes values built from r, so every expected result is a closed form in P (the
// world size): Σ_r (r + 1) = P(P + 1)/2, max_r = P − 1, and so on. Disagreements are provoked on
// purpose, and every rank must get the same error — then a correct collective must still work,
// which shows the ranks are still in step.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common.hpp"

using namespace humble;
using namespace humble::distributed;

namespace {

using Values = std::vector<double>;

// The error every rank must throw, as (type, message).
template <class Error, class F>
std::string error_of(F&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("context: rank, world size and local rank describe the job") {
  const Context& c = context();
  const int p = c.world_size();
  CHECK(p >= 1);
  CHECK(c.rank() >= 0);
  CHECK(c.rank() < p);
  CHECK(c.is_root() == (c.rank() == 0));
  // One machine runs every rank here.
  CHECK(c.local_size() == p);
  CHECK(c.local_rank() == c.rank());
  if (const char* size = std::getenv("OMPI_COMM_WORLD_SIZE")) CHECK(p == std::atoi(size));
  CHECK(c.tag() == (p > 1 ? "[rank " + std::to_string(c.rank()) + "/" + std::to_string(p) + "] " : ""));
  CHECK_THROWS_WITH_AS(Context(), doctest::Contains("has a Context already"), DistributedError);
}

TEST_CASE("all_reduce: sum, mean, max and min, in place, for every dtype") {
  const Context& c = context();
  const double p = c.world_size(), r = c.rank();
  for (Dtype dtype : {Dtype::Float32, Dtype::Float64, Dtype::Int64}) {
    CAPTURE(dtype_name(dtype));
    Tensor t = tensor({r + 1, -r, 2 * r}, {3}, dtype);  // (3)
    Tensor alias = t;                                   // a second handle sees the result too
    all_reduce(c, t, ReduceOp::Sum);
    CHECK(alias.to_vector() == Values{p * (p + 1) / 2, -p * (p - 1) / 2, p * (p - 1)});
    Tensor high = tensor({r, -r}, {2}, dtype), low = tensor({r, -r}, {2}, dtype);
    all_reduce(c, high, ReduceOp::Max);
    all_reduce(c, low, ReduceOp::Min);
    CHECK(high.to_vector() == Values{p - 1, 0});
    CHECK(low.to_vector() == Values{0, 1 - p});
  }
  Tensor m = tensor({r, 1}, {1, 2}, Dtype::Float64);
  all_reduce(c, m, ReduceOp::Mean);
  CHECK(m.to_vector() == Values{(p - 1) / 2, 1});
  CHECK(m.shape() == Shape{1, 2});
  Tensor ints = tensor({r}, {1}, Dtype::Int64);
  CHECK(error_of<ValueError>([&] { all_reduce(c, ints, ReduceOp::Mean); }).find("would truncate") != std::string::npos);
  Tensor none;
  CHECK(error_of<ValueError>([&] { all_reduce(c, none); }) == "[all_reduce] the tensor is undefined");
}

TEST_CASE("broadcast: every rank gets the root's tensor") {
  const Context& c = context();
  const int last = c.world_size() - 1;
  for (int root : {0, last}) {
    Tensor t = full({2, 2}, c.rank() * 10.0 + 1, Dtype::Float32);
    broadcast(c, t, root);
    CHECK(t.to_vector() == Values(4, root * 10.0 + 1));
  }
  Tensor t = zeros({1});
  CHECK(error_of<ValueError>([&] { broadcast(c, t, c.world_size()); }).find("is outside [0, ") != std::string::npos);
}

TEST_CASE("all_gather: every rank's rows in rank order; dim 0 may differ") {
  const Context& c = context();
  const int p = c.world_size();
  // Rank r sends r + 1 rows of (r, r): (r + 1, 2).
  const Tensor mine = full({c.rank() + 1, 2}, c.rank(), Dtype::Int64);
  const Tensor all = all_gather(c, mine);
  CHECK(all.shape() == Shape{p * (p + 1) / 2, 2});
  Values expected;
  for (int r = 0; r < p; ++r) expected.insert(expected.end(), static_cast<std::size_t>(2 * (r + 1)), r);
  CHECK(all.to_vector() == expected);
  // A 0-dim tensor counts as one row; a rank may send no rows at all.
  CHECK(all_gather(c, scalar_tensor(c.rank(), Dtype::Float64)).shape() == Shape{p});
  const Tensor some = all_gather(c, zeros({c.rank() == 0 ? 2 : 0, 3}));
  CHECK(some.shape() == Shape{2, 3});
}

TEST_CASE("bytes: gather to a root, to everyone, and broadcast") {
  const Context& c = context();
  const std::string mine(static_cast<std::size_t>(c.rank()), static_cast<char>('a' + c.rank()));  // "", "b", "cc", …
  const std::vector<std::string> everywhere = all_gather_bytes(c, mine);
  REQUIRE(everywhere.size() == static_cast<std::size_t>(c.world_size()));
  for (int r = 0; r < c.world_size(); ++r)
    CHECK(everywhere[static_cast<std::size_t>(r)] ==
          std::string(static_cast<std::size_t>(r), static_cast<char>('a' + r)));
  const std::vector<std::string> at_root = gather_bytes(c, mine, 0);
  CHECK(at_root == (c.is_root() ? everywhere : std::vector<std::string>{}));
  CHECK(broadcast_bytes(c, c.is_root() ? std::string("from rank 0\0!", 13) : "x", 0) ==
        std::string("from rank 0\0!", 13));
  barrier(c);
}

TEST_CASE("collectives: ranks that disagree all get the same error, and stay in step") {
  const Context& c = context();
  if (c.world_size() == 1) return;  // nobody to disagree with
  const bool one = c.rank() == 1;

  Tensor t = zeros({one ? 3 : 4, 4});
  CHECK(error_of<ShapeError>([&] { all_reduce(c, t); }) ==
        "[all_reduce] rank 1 passed float32 (3, 4) but rank 0 passed float32 (4, 4)");
  Tensor typed = zeros({2}, one ? Dtype::Float64 : Dtype::Float32);
  CHECK(error_of<ValueError>([&] { broadcast(c, typed, 0); }) ==
        "[broadcast] rank 1 passed float64 (2,) but rank 0 passed float32 (2,)");
  Tensor same = zeros({2});
  CHECK(error_of<ValueError>([&] { all_reduce(c, same, one ? ReduceOp::Max : ReduceOp::Sum); }) ==
        "[all_reduce] rank 1 passed reduction max but rank 0 passed reduction sum");
  CHECK(error_of<ValueError>([&] { broadcast(c, same, one ? 1 : 0); }) ==
        "[broadcast] rank 1 passed root 1 but rank 0 passed root 0");
  // Different collectives: each rank's message starts with the one it called.
  const std::string message = error_of<ValueError>([&] {
    if (one)
      broadcast(c, same, 0);
    else
      all_reduce(c, same);
  });
  CHECK(message == std::string(one ? "[broadcast]" : "[all_reduce]") +
                       " rank 1 called broadcast while rank 0 called all_reduce: every rank must call the same "
                       "collectives in order");
  CHECK(error_of<ShapeError>([&] {
          all_gather(c, zeros({2, one ? 5 : 4}));
        }) == "[all_gather] rank 1 passed float32 (2, 5) but rank 0 passed float32 (2, 4) (dim 0 may differ)");
  Tensor none = one ? Tensor() : zeros({1});
  CHECK(error_of<ValueError>([&] { all_reduce(c, none); }) ==
        "[all_reduce] rank 1 passed an undefined tensor but rank 0 passed float32 (1,)");

  Tensor after = ones({2});
  all_reduce(c, after);
  CHECK(after.to_vector() == Values(2, c.world_size()));
}
