// distributed/data_parallel.hpp — one model trained by every rank at once, each rank on its part of
// every batch (PyTorch's DistributedDataParallel, Horovod's DistributedOptimizer).
//
//   distributed::DataParallel ddp(model, context);          // rank 0's weights on every rank
//   Tensor loss = losses::cross_entropy(ddp(x_part), y_part);
//   optimizer.zero_grad();  loss.backward();  optimizer.step();
//
// Nothing else is called. Construction checks that every rank's model has the same parameter and
// buffer names, dtypes and shapes (one error on every rank otherwise, naming the first difference)
// and broadcasts rank 0's values. ddp(x) runs the model and notes which parameters its output
// depends on. During backward, a grad-ready hook (autograd/graph.hpp) copies each finished gradient
// into its bucket; a bucket whose gradients are all in is started as a non-blocking all-reduce
// (MPI_Iallreduce, progressed by a communication thread) while backward goes on with the layers
// below. The last gradient waits for every bucket, so once backward() returns every .grad() holds
//   Σ_r n_r · g_r / Σ_r n_r        g_r: rank r's gradient, n_r: rows of the batch it ran ddp(x) on,
// the gradient of a mean loss over the whole global batch, also when the parts differ in size (the
// last partial batch). A parameter no rank's output used keeps an undefined .grad() (the optimizer
// skips it, as in one process); one that only some ranks used gets zeros from the others. A rank
// with no rows in a global batch calls skip_batch() instead of forward and backward.
//
// Buckets hold parameters in the order backward finishes them — at first in reverse registration
// order, from the second step on in the order rank 0's first backward finished them — up to
// first_bucket_bytes for the first and bucket_bytes for each later one, one dtype each; every rank
// reduces them in the same order. Each bucket carries, after its gradients, one flag per parameter
// (1 where this rank had a gradient) and n_r, summed with them.
//
// Under the profiler (core/profile.hpp) the training thread's share shows as DataParallel.bucket
// (copying gradients into buckets), .wait (what backward waited for the all-reduces: the exposed
// communication), .combine, .prepare and .buffers; stats() adds the time the buckets were in flight.
//
// With one rank, ddp(x) is model(x) and nothing else happens. Reference: Li et al., "PyTorch
// Distributed: Experiences on Accelerating Data Parallel Training", VLDB 2020, arXiv:2006.15704.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../nn/module.hpp"
#include "context.hpp"

namespace humble::distributed {

struct DataParallelOptions {
  int64_t bucket_bytes = 25 << 20;       // gradient bytes per all-reduce (PyTorch's 25 MiB)
  int64_t first_bucket_bytes = 1 << 20;  // the first bucket (the last layers, ready first): small, to start early
  bool overlap = true;                   // start each bucket when it is ready; false: all after backward (to measure)
  bool weight_by_rows = true;            // Σ n_r g_r / Σ n_r; false: the plain mean Σ g_r / P (PyTorch's)
  bool broadcast_buffers = true;         // rank 0's buffers to every rank before each forward (BatchNorm statistics)
  double timeout_seconds = 1800;         // a bucket not reduced by then (a rank stopped taking part) throws
};

// Where the time of the gradient all-reduces went, summed over steps (seconds on this rank's clock).
struct CommunicationStats {
  int64_t steps = 0;
  int64_t buckets = 0;         // per step
  int64_t bytes_per_step = 0;  // reduced per step, flags included
  double window_seconds = 0;   // from starting the first bucket to the last one's completion
  double exposed_seconds = 0;  // of that, after the last gradient was ready: what backward waited for
};

class DataParallel {
 public:
  DataParallel(nn::Module& module, const Context& context, DataParallelOptions options = {});
  ~DataParallel();  // removes the hooks; stops the communication thread
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  Tensor operator()(const Tensor& input);  // the module's forward, prepared for this step's reduction
  // This rank has no rows in the current global batch: takes part in the step's reduction with
  // nothing (weight 0), leaving every parameter's .grad() the other ranks' combination.
  void skip_batch();

  // While the returned guard lives, ddp(x) and backward leave the gradients on this rank, where
  // they accumulate (PyTorch's no_sync()); the next backward outside it combines everything
  // accumulated. For several micro-batches per optimizer step; the weights n_r are the rows of
  // that last forward.
  class NoSync {
   public:
    explicit NoSync(DataParallel& ddp) : ddp_(ddp), previous_(ddp.syncing_) { ddp.syncing_ = false; }
    ~NoSync() { ddp_.syncing_ = previous_; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DataParallel& ddp_;
    bool previous_;
  };
  [[nodiscard]] NoSync no_sync() { return NoSync(*this); }

  nn::Module& module() { return module_; }
  const CommunicationStats& stats() const { return stats_; }
  void reset_stats();
  int64_t num_buckets() const;
  // The parameters of each bucket by name, in the order they are reduced (empty with one rank).
  std::vector<std::vector<std::string>> bucket_layout() const;

 private:
  struct Reducer;
  nn::Module& module_;
  DataParallelOptions options_;
  bool syncing_ = true;
  CommunicationStats stats_;
  std::unique_ptr<Reducer> reducer_;  // null with one rank
};

}  // namespace humble::distributed
