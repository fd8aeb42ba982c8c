// distributed/collectives.cpp — the agreement check every collective starts with, then the MPI call.
#include "collectives.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include "../core/dispatch.hpp"
#include "../core/error.hpp"

namespace humble::distributed {
namespace {

enum Collective : int64_t {
  kAllReduce = 1,
  kBroadcast,
  kAllGather,
  kBarrier,
  kAllGatherBytes,
  kGatherBytes,
  kBroadcastBytes
};

const char* collective_name(int64_t op) {
  switch (op) {
    case kAllReduce:
      return "all_reduce";
    case kBroadcast:
      return "broadcast";
    case kAllGather:
      return "all_gather";
    case kBarrier:
      return "barrier";
    case kAllGatherBytes:
      return "all_gather_bytes";
    case kGatherBytes:
      return "gather_bytes";
    case kBroadcastBytes:
      return "broadcast_bytes";
  }
  return "an unknown collective";
}

// What one rank passed to a collective, as 16 int64 (one MPI_Allgather carries every rank's).
constexpr int kMaxDims = 10;
struct Signature {
  int64_t op = 0;
  int64_t argument = 0;  // the ReduceOp, or the root
  int64_t dtype = -1;    // -1: an undefined tensor (or bytes)
  int64_t dim = 0;
  int64_t rows = 0;           // dim 0 (1 for a 0-dim tensor), or the number of bytes
  int64_t trailing_hash = 0;  // of dims 1, 2, …: all_gather compares only these
  int64_t dims[kMaxDims] = {};
};
static_assert(sizeof(Signature) == 16 * sizeof(int64_t));

enum class Compare { Shape, TrailingShape, Nothing };

Signature signature_of(Collective op, int64_t argument, const Tensor& t) {
  Signature s{.op = op, .argument = argument};
  if (!t.defined()) return s;
  const Shape& shape = t.shape();
  s.dtype = static_cast<int64_t>(t.dtype());
  s.dim = t.dim();
  s.rows = shape.empty() ? 1 : shape[0];
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over the trailing dims
  for (std::size_t i = 1; i < shape.size(); ++i) hash = (hash ^ static_cast<uint64_t>(shape[i])) * 1099511628211ull;
  s.trailing_hash = static_cast<int64_t>(hash);
  for (std::size_t i = 0; i < shape.size() && i < kMaxDims; ++i) s.dims[i] = shape[i];
  return s;
}

std::string describe(const Signature& s) {
  if (s.dtype < 0) return "an undefined tensor";
  const Shape shown(s.dims, s.dims + std::min<int64_t>(s.dim, kMaxDims));
  return str_cat(dtype_name(static_cast<Dtype>(s.dtype)), " ", shape_str(shown),
                 s.dim > kMaxDims ? str_cat(" and ", s.dim - kMaxDims, " more dims") : "");
}

std::string argument_text(const Signature& s) {
  return s.op == kAllReduce ? str_cat("reduction ", reduce_op_name(static_cast<ReduceOp>(s.argument)))
                            : str_cat("root ", s.argument);
}

// Every rank's signature; throws the same error on every rank when one differs from rank 0's.
std::vector<Signature> agree(const Context& context, const char* name, const Signature& mine, Compare compare) {
  const int size = context.world_size();
  std::vector<Signature> all(static_cast<std::size_t>(size));
  context.check(MPI_Allgather(&mine, 16, MPI_INT64_T, all.data(), 16, MPI_INT64_T, context.communicator()), name);
  const Signature& first = all[0];
  for (int r = 1; r < size; ++r) {
    const Signature& s = all[static_cast<std::size_t>(r)];
    if (s.op != first.op)
      throw ValueError(str_cat("[", name, "] rank ", r, " called ", collective_name(s.op), " while rank 0 called ",
                               collective_name(first.op), ": every rank must call the same collectives in order"));
    if (s.argument != first.argument)
      throw ValueError(
          str_cat("[", name, "] rank ", r, " passed ", argument_text(s), " but rank 0 passed ", argument_text(first)));
    if (compare == Compare::Nothing) continue;
    const bool same_shape = s.dim == first.dim && s.trailing_hash == first.trailing_hash &&
                            (compare == Compare::TrailingShape || s.rows == first.rows);
    if (s.dtype != first.dtype || !same_shape) {
      const std::string message =
          str_cat("[", name, "] rank ", r, " passed ", describe(s), " but rank 0 passed ", describe(first),
                  compare == Compare::TrailingShape ? " (dim 0 may differ)" : "");
      if (s.dtype != first.dtype) throw ValueError(message);
      throw ShapeError(message);
    }
  }
  return all;
}

void require_defined(const char* name, const Tensor& t) {
  if (!t.defined()) throw ValueError(str_cat("[", name, "] the tensor is undefined"));
}

void require_root(const Context& context, const char* name, int root) {
  if (root < 0 || root >= context.world_size())
    throw ValueError(str_cat("[", name, "] root ", root, " is outside [0, ", context.world_size(), ")"));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Max:
      return MPI_MAX;
    case ReduceOp::Min:
      return MPI_MIN;
    case ReduceOp::Sum:
    case ReduceOp::Mean:
      break;
  }
  return MPI_SUM;
}

// MPI counts are int: a large tensor goes in chunks of 2^30 elements.
constexpr int64_t kChunk = int64_t{1} << 30;

int int_count(const char* name, int64_t count) {
  if (count > INT_MAX)
    throw ValueError(str_cat("[", name, "] ", count, " elements in one message, at most ", INT_MAX, " are supported"));
  return static_cast<int>(count);
}

}  // namespace

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Mean:
      return "mean";
    case ReduceOp::Max:
      return "max";
    case ReduceOp::Min:
      return "min";
  }
  return "?";
}

MPI_Datatype mpi_datatype(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return MPI_FLOAT;
    case Dtype::Float64:
      return MPI_DOUBLE;
    case Dtype::Int64:
      break;
  }
  return MPI_INT64_T;
}

void all_reduce(const Context& context, Tensor& t, ReduceOp op) {
  agree(context, "all_reduce", signature_of(kAllReduce, static_cast<int64_t>(op), t), Compare::Shape);
  require_defined("all_reduce", t);
  if (op == ReduceOp::Mean && !t.is_floating_point())
    throw ValueError(str_cat("[all_reduce] the mean of ", dtype_name(t.dtype()),
                             " tensors would truncate: reduce with sum and divide in a float type"));
  auto* data = static_cast<std::byte*>(t.raw_data());
  const std::size_t element = dtype_size(t.dtype());
  for (int64_t begin = 0; begin < t.numel(); begin += kChunk) {
    const auto count = static_cast<int>(std::min(kChunk, t.numel() - begin));
    context.check(MPI_Allreduce(MPI_IN_PLACE, data + begin * static_cast<int64_t>(element), count,
                                mpi_datatype(t.dtype()), mpi_op(op), context.communicator()),
                  "all_reduce");
  }
  if (op == ReduceOp::Mean)
    dispatch_float(t.dtype(), "all_reduce", [&]<class T>() {
      T* values = t.data<T>();
      const auto size = static_cast<T>(context.world_size());
      for (int64_t i = 0; i < t.numel(); ++i) values[i] /= size;
    });
}

void broadcast(const Context& context, Tensor& t, int root) {
  agree(context, "broadcast", signature_of(kBroadcast, root, t), Compare::Shape);
  require_root(context, "broadcast", root);
  require_defined("broadcast", t);
  auto* data = static_cast<std::byte*>(t.raw_data());
  const std::size_t element = dtype_size(t.dtype());
  for (int64_t begin = 0; begin < t.numel(); begin += kChunk) {
    const auto count = static_cast<int>(std::min(kChunk, t.numel() - begin));
    context.check(MPI_Bcast(data + begin * static_cast<int64_t>(element), count, mpi_datatype(t.dtype()), root,
                            context.communicator()),
                  "broadcast");
  }
}

Tensor all_gather(const Context& context, const Tensor& t) {
  const std::vector<Signature> all =
      agree(context, "all_gather", signature_of(kAllGather, 0, t), Compare::TrailingShape);
  require_defined("all_gather", t);
  Shape shape = t.dim() == 0 ? Shape{0} : t.shape();
  const int64_t row = shape_numel(Shape(shape.begin() + 1, shape.end()));  // elements per row
  shape[0] = 0;
  std::vector<int> counts, offsets;
  for (const Signature& s : all) {
    offsets.push_back(int_count("all_gather", shape[0] * row));
    counts.push_back(int_count("all_gather", s.rows * row));
    shape[0] += s.rows;
  }
  int_count("all_gather", shape[0] * row);
  Tensor out = empty(shape, t.dtype());
  context.check(
      MPI_Allgatherv(t.raw_data(), int_count("all_gather", t.numel()), mpi_datatype(t.dtype()), out.raw_data(),
                     counts.data(), offsets.data(), mpi_datatype(t.dtype()), context.communicator()),
      "all_gather");
  return out;
}

void barrier(const Context& context) { agree(context, "barrier", Signature{.op = kBarrier}, Compare::Nothing); }

namespace {

// Every rank's bytes on `root`, or on every rank for kAllGatherBytes.
std::vector<std::string> gather_any(const Context& context, Collective op, const std::string& bytes, int root) {
  const char* name = collective_name(op);
  const auto size = static_cast<int64_t>(bytes.size());
  const std::vector<Signature> all =
      agree(context, name, Signature{.op = op, .argument = root, .rows = size}, Compare::Nothing);
  require_root(context, name, root);
  const bool everywhere = op == kAllGatherBytes;
  std::vector<int> counts, offsets;
  int total = 0;
  for (const Signature& s : all) {
    offsets.push_back(total);
    counts.push_back(int_count(name, s.rows));
    total = int_count(name, int64_t{total} + s.rows);
  }
  std::string joined(static_cast<std::size_t>(total), '\0');
  const int count = int_count(name, size);
  if (everywhere)
    context.check(MPI_Allgatherv(bytes.data(), count, MPI_BYTE, joined.data(), counts.data(), offsets.data(), MPI_BYTE,
                                 context.communicator()),
                  name);
  else
    context.check(MPI_Gatherv(bytes.data(), count, MPI_BYTE, joined.data(), counts.data(), offsets.data(), MPI_BYTE,
                              root, context.communicator()),
                  name);
  std::vector<std::string> out;
  if (!everywhere && context.rank() != root) return out;
  for (std::size_t r = 0; r < all.size(); ++r)
    out.push_back(joined.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
  return out;
}

}  // namespace

std::vector<std::string> all_gather_bytes(const Context& context, const std::string& bytes) {
  return gather_any(context, kAllGatherBytes, bytes, 0);
}

std::vector<std::string> gather_bytes(const Context& context, const std::string& bytes, int root) {
  return gather_any(context, kGatherBytes, bytes, root);
}

std::string broadcast_bytes(const Context& context, const std::string& bytes, int root) {
  const std::vector<Signature> all = agree(
      context, "broadcast_bytes",
      Signature{.op = kBroadcastBytes, .argument = root, .rows = static_cast<int64_t>(bytes.size())}, Compare::Nothing);
  require_root(context, "broadcast_bytes", root);
  std::string out = context.rank() == root ? bytes : std::string(static_cast<std::size_t>(all[root].rows), '\0');
  context.check(
      MPI_Bcast(out.data(), int_count("broadcast_bytes", all[root].rows), MPI_BYTE, root, context.communicator()),
      "broadcast_bytes");
  return out;
}

}  // namespace humble::distributed
