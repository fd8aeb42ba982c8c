// distributed/collectives.hpp — collectives on tensors over every rank of a Context.
//
// Every rank must call the same collectives in the same order. Each call first checks that the
// ranks agree: the same operation, the same dtype and shape (all_gather: the same shape after
// dim 0), the same root or reduction. When they do not, every rank throws the same error naming
// the first rank that differs from rank 0 —
//   "[all_reduce] rank 1 passed float32 (3, 4) but rank 0 passed float32 (4, 4)"
// (ShapeError for shapes, ValueError otherwise) — so a mistake is an exception, never a hang or a
// silently wrong sum. Results are written into the tensor's own storage (every handle sees them);
// tensors are contiguous, as every humble tensor is. One check costs one small all-gather
// (16 int64 per rank); DataParallel's gradient all-reduces check their layout once, at construction.
//
// The byte versions carry anything serialised (e.g. whole training runs) and check nothing.
#pragma once

#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "context.hpp"

namespace humble::distributed {

enum class ReduceOp { Sum, Mean, Max, Min };
const char* reduce_op_name(ReduceOp op);  // "sum", "mean", …

// t becomes op over every rank's t, elementwise, on every rank. Mean (Σ / P) needs a float dtype:
// an integer mean would truncate.
void all_reduce(const Context& context, Tensor& t, ReduceOp op = ReduceOp::Sum);
// t becomes rank `root`'s t on every rank.
void broadcast(const Context& context, Tensor& t, int root = 0);
// Every rank's t, concatenated along dim 0 in rank order (a 0-dim t counts as one row): dim 0 may
// differ between ranks, the other dims and the dtype may not.
Tensor all_gather(const Context& context, const Tensor& t);
// Returns once every rank has called it.
void barrier(const Context& context);

// Every rank's bytes, in rank order: on every rank, or on `root` only (empty elsewhere).
std::vector<std::string> all_gather_bytes(const Context& context, const std::string& bytes);
std::vector<std::string> gather_bytes(const Context& context, const std::string& bytes, int root = 0);
// Rank `root`'s bytes, on every rank.
std::string broadcast_bytes(const Context& context, const std::string& bytes, int root = 0);

// The MPI datatype of a dtype's elements: MPI_FLOAT, MPI_DOUBLE, MPI_INT64_T.
MPI_Datatype mpi_datatype(Dtype dtype);

}  // namespace humble::distributed
