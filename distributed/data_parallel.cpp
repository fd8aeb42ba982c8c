// distributed/data_parallel.cpp — the model check, buckets, grad-ready hooks and the communication thread.
//
// Threads: the communication thread is the only one that calls MPI while a step's buckets are in
// flight, and the training thread calls MPI only while the communication thread is idle (before
// the first bucket of a step is handed over, after the last one is reduced): what
// MPI_THREAD_SERIALIZED allows. The mutex orders the hand-overs.
#include "data_parallel.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "../autograd/graph.hpp"
#include "../core/dispatch.hpp"
#include "../core/error.hpp"
#include "../core/factories.hpp"
#include "../core/parallel.hpp"
#include "../core/profile.hpp"
#include "collectives.hpp"

namespace humble::distributed {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One line per parameter and buffer, and one for the options: what every rank must agree on.
std::vector<std::string> layout_of(const nn::Module& module, const DataParallelOptions& o) {
  std::vector<std::string> lines;
  for (const auto& [kind, named] :
       {std::pair{"parameter", module.named_parameters()}, std::pair{"buffer", module.named_buffers()}})
    for (const auto& [name, t] : named)
      lines.push_back(str_cat(kind, " '", name, "' ", dtype_name(t.dtype()), " ", shape_str(t.shape()),
                              t.requires_grad() ? "" : " (frozen)"));
  lines.push_back(str_cat("options bucket_bytes ", o.bucket_bytes, ", first_bucket_bytes ", o.first_bucket_bytes,
                          ", overlap ", o.overlap, ", weight_by_rows ", o.weight_by_rows, ", broadcast_buffers ",
                          o.broadcast_buffers));
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every rank throws the same error when some rank's layout differs from rank 0's.
void check_same_layout(const Context& context, const std::vector<std::string>& mine) {
  const std::vector<std::string> all = all_gather_bytes(context, joined(mine));
  const std::vector<std::string> first = split_lines(all[0]);
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] == all[0]) continue;
    const std::vector<std::string> other = split_lines(all[r]);
    std::size_t i = 0;
    while (i < first.size() && i < other.size() && first[i] == other[i]) ++i;
    const auto line = [i](const std::vector<std::string>& lines) {
      return i < lines.size() ? "has " + lines[i] : std::string("has nothing more");
    };
    throw ValueError(str_cat("[DataParallel] rank ", r, "'s model differs from rank 0's: rank ", r, " ", line(other),
                             " where rank 0 ", line(first)));
  }
}

// The leaves (AutogradMeta) that `out` was computed from, through its graph.
std::unordered_set<const AutogradMeta*> leaves_behind(const Tensor& out) {
  std::unordered_set<const AutogradMeta*> leaves;
  const auto& meta = out.impl()->autograd;
  if (!meta) return leaves;
  if (!meta->grad_fn) {
    leaves.insert(meta.get());
    return leaves;
  }
  std::unordered_set<const Node*> seen{meta->grad_fn.get()};
  std::vector<const Node*> stack{meta->grad_fn.get()};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    for (const auto& input : node->inputs) {
      if (!input) continue;
      if (!input->grad_fn)
        leaves.insert(input.get());
      else if (seen.insert(input->grad_fn.get()).second)
        stack.push_back(input->grad_fn.get());
    }
  }
  return leaves;
}

}  // namespace

struct DataParallel::Reducer {
  // A bucket's buffer, (elements): its parameters' gradients (each scaled by n_r), then one flag
  // per parameter (1 where this rank had a gradient), then n_r (1 without weight_by_rows).
  struct Bucket {
    Dtype dtype;
    std::vector<std::size_t> params;  // positions in Reducer::params
    std::vector<int64_t> offsets;     // of each parameter's gradient in the buffer
    int64_t gradient_elements = 0;
    int64_t elements() const { return gradient_elements + static_cast<int64_t>(params.size()) + 1; }
  };
  enum class Phase { Idle, Local, Prepared, Reduced };  // Local: a forward inside no_sync()

  const Context& context;
  const DataParallelOptions& options;
  CommunicationStats& stats;
  std::vector<std::string> names;
  std::vector<Tensor> params;  // those that require grad, in registration order
  std::vector<Tensor> module_buffers;
  std::vector<std::size_t> bucket_of, slot_of;
  std::vector<Bucket> buckets;
  std::vector<int64_t> hook_ids;
  std::vector<std::size_t> finish_order;  // of the first combined backward, until the rebuild
  bool rebuilt = false;

  // The step in progress (training thread only).
  Phase phase = Phase::Idle;
  double rows = 0;
  std::vector<Tensor> buffers;   // per bucket
  std::vector<char> ready;       // per parameter: its gradient is in its bucket
  std::vector<int64_t> missing;  // per bucket: parameters not ready yet
  std::size_t next_launch = 0;   // buckets start in order
  Clock::time_point first_launch, last_ready;

  // Shared with the communication thread, under `mutex`.
  std::mutex mutex;
  std::condition_variable wake, reduced;
  std::deque<std::size_t> queue;  // buckets to start
  std::size_t completed = 0;      // buckets of this step reduced
  bool training_thread_waits = false, stopping = false;
  std::exception_ptr failure;
  std::thread thread;

  Reducer(nn::Module& module, const Context& context_, const DataParallelOptions& options_, CommunicationStats& stats_)
      : context(context_), options(options_), stats(stats_) {
    for (const auto& [name, p] : module.named_parameters())
      if (p.requires_grad()) {
        names.push_back(name);
        params.push_back(p);
      }
    module_buffers = module.buffers();
    std::vector<std::size_t> reverse(params.size());
    for (std::size_t k = 0; k < params.size(); ++k) reverse[k] = params.size() - 1 - k;
    plan_buckets(reverse);
    for (std::size_t i = 0; i < params.size(); ++i)
      hook_ids.push_back(add_grad_ready_hook(params[i], [this, i] { on_gradient_ready(i); }));
    thread = std::thread([this] { communicate(); });
  }

  ~Reducer() {
    for (std::size_t i = 0; i < params.size(); ++i) remove_grad_ready_hook(params[i], hook_ids[i]);
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_one();
    thread.join();
  }

  // The parameters in `order` (positions in params); a new bucket when the dtype changes or the
  // next gradient would overflow the current bucket (so a parameter larger than a bucket gets one
  // of its own).
  void plan_buckets(const std::vector<std::size_t>& order) {
    buckets.clear();
    bucket_of.resize(params.size());
    slot_of.resize(params.size());
    for (std::size_t k : order) {
      const Tensor& p = params[k];
      const auto bytes = [](const Bucket& b) {
        return b.gradient_elements * static_cast<int64_t>(dtype_size(b.dtype));
      };
      const int64_t capacity = buckets.size() <= 1 ? options.first_bucket_bytes : options.bucket_bytes;
      if (buckets.empty() || buckets.back().dtype != p.dtype() ||
          bytes(buckets.back()) + p.numel() * static_cast<int64_t>(dtype_size(p.dtype())) > capacity)
        buckets.push_back(Bucket{.dtype = p.dtype(), .params = {}, .offsets = {}});
      Bucket& b = buckets.back();
      bucket_of[k] = buckets.size() - 1;
      slot_of[k] = b.params.size();
      b.params.push_back(k);
      b.offsets.push_back(b.gradient_elements);
      b.gradient_elements += p.numel();
      if (b.elements() > INT32_MAX)
        throw ValueError(str_cat("[DataParallel] parameter '", names[k], "' has ", p.numel(),
                                 " elements: a bucket holds fewer than 2^31"));
    }
    stats.buckets = static_cast<int64_t>(buckets.size());
    stats.bytes_per_step = 0;
    for (const Bucket& b : buckets) stats.bytes_per_step += b.elements() * static_cast<int64_t>(dtype_size(b.dtype));
  }

  // After the first combined step, the buckets follow the order in which rank 0's backward
  // finished the parameters (those it did not see last, in reverse registration order): the
  // registration order misleads at layer boundaries, e.g. a layer's bias listed before the next
  // layer's weight although both come from one node. PyTorch rebuilds its buckets the same way.
  void rebuild_buckets() {
    std::vector<char> seen(params.size(), 0);
    for (std::size_t i : finish_order) seen[i] = 1;
    for (std::size_t k = params.size(); k-- > 0;)
      if (!seen[k]) finish_order.push_back(k);
    Tensor order = empty({static_cast<int64_t>(params.size())}, Dtype::Int64);  // (parameters)
    std::copy(finish_order.begin(), finish_order.end(), order.data<int64_t>());
    broadcast(context, order, 0);
    plan_buckets(std::vector<std::size_t>(order.data<int64_t>(), order.data<int64_t>() + order.numel()));
    finish_order.clear();
    rebuilt = true;
  }

  // --- the training thread -----------------------------------------------------------------

  // Before a forward pass (or skip_batch): the previous step must be complete; rank 0's buffers
  // are copied to every rank.
  void begin_step() {
    const profile::Frame frame("DataParallel.buffers");
    if (phase == Phase::Prepared && next_launch > 0)
      throw DistributedError(str_cat("[DataParallel] ", context.tag(),
                                     "the last step's backward did not reach every parameter its forward used, "
                                     "so its gradients were never combined across ranks"));
    if (phase == Phase::Reduced && !rebuilt) rebuild_buckets();
    phase = Phase::Idle;
    if (!options.broadcast_buffers) return;
    NoGradGuard no_grad;
    for (const Tensor& buffer : module_buffers) {
      Tensor value = buffer.clone();
      broadcast(context, value, 0);
      buffer.detach().copy_(value);
    }
  }

  void prepare(double batch_rows, const std::unordered_set<const AutogradMeta*>& used) {
    const profile::Frame frame("DataParallel.prepare");
    rows = batch_rows;
    const double weight = options.weight_by_rows ? rows : 1.0;
    buffers.assign(buckets.size(), Tensor());
    missing.assign(buckets.size(), 0);
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      buffers[b] = empty({buckets[b].elements()}, buckets[b].dtype);  // (elements)
      missing[b] = static_cast<int64_t>(buckets[b].params.size());
      dispatch_float(buckets[b].dtype, "DataParallel",
                     [&]<class T>() { buffers[b].data<T>()[buckets[b].elements() - 1] = static_cast<T>(weight); });
    }
    ready.assign(params.size(), 0);
    next_launch = 0;
    {
      std::lock_guard lock(mutex);
      completed = 0;
    }
    phase = Phase::Prepared;
    // What the output does not depend on gets no gradient from this rank: zeros, flag 0.
    for (std::size_t i = 0; i < params.size(); ++i)
      if (!used.contains(params[i].impl()->autograd.get())) {
        write_gradient(i, Tensor());
        ready[i] = 1;
        --missing[bucket_of[i]];
      }
    if (std::all_of(ready.begin(), ready.end(), [](char r) { return r != 0; }))
      launch_ready();  // no backward will come
  }

  // The grad-ready hook of parameter i: its gradient for this backward is final.
  void on_gradient_ready(std::size_t i) {
    if (phase == Phase::Local) return;
    const profile::Frame frame("DataParallel.bucket");
    if (phase != Phase::Prepared)
      throw ValueError(str_cat("[DataParallel] ", context.tag(), "backward reached parameter '", names[i], "' ",
                               phase == Phase::Reduced
                                   ? "again after this step's gradients were combined: one backward per ddp(x)"
                                   : "without a forward pass through the DataParallel: call ddp(x), not the module"));
    const std::size_t b = bucket_of[i];
    if (ready[i] && b < next_launch)
      throw ValueError(str_cat("[DataParallel] ", context.tag(), "parameter '", names[i],
                               "' got a gradient after its bucket was reduced: the forward's output does not use it, "
                               "but the loss does"));
    write_gradient(i, params[i].grad());
    if (!rebuilt && !ready[i]) finish_order.push_back(i);
    if (!ready[i]) {
      ready[i] = 1;
      --missing[b];
    }
    launch_ready();
  }

  void write_gradient(std::size_t i, const Tensor& grad) {
    const Bucket& bucket = buckets[bucket_of[i]];
    Tensor& buffer = buffers[bucket_of[i]];
    const int64_t offset = bucket.offsets[slot_of[i]], n = params[i].numel();
    dispatch_float(bucket.dtype, "DataParallel", [&]<class T>() {
      T* out = buffer.data<T>();
      const auto weight = static_cast<T>(options.weight_by_rows ? rows : 1.0);
      if (grad.defined()) {
        const T* g = grad.data<T>();
        parallel_for(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t k = lo; k < hi; ++k) out[offset + k] = g[k] * weight;
        });
      } else {
        std::fill(out + offset, out + offset + n, T(0));
      }
      out[bucket.gradient_elements + static_cast<int64_t>(slot_of[i])] = grad.defined() ? T(1) : T(0);
    });
  }

  // Hands every complete bucket, in order, to the communication thread (without overlap: only
  // once all are complete); after the last, waits for them all.
  void launch_ready() {
    if (!options.overlap && std::any_of(missing.begin(), missing.end(), [](int64_t m) { return m > 0; })) return;
    const std::size_t before = next_launch;
    while (next_launch < buckets.size() && missing[next_launch] == 0) {
      if (next_launch == 0) first_launch = Clock::now();
      ++next_launch;
    }
    if (next_launch == before) return;
    {
      std::lock_guard lock(mutex);
      for (std::size_t b = before; b < next_launch; ++b) queue.push_back(b);
    }
    wake.notify_one();
    if (next_launch == buckets.size()) {
      last_ready = Clock::now();
      finish();
    }
  }

  void finish() {
    {
      const profile::Frame frame("DataParallel.wait");
      std::unique_lock lock(mutex);
      training_thread_waits = true;
      wake.notify_one();
      const auto deadline = Clock::now() + std::chrono::duration<double>(options.timeout_seconds);
      const bool done = reduced.wait_until(lock, deadline, [this] { return completed == buckets.size() || failure; });
      training_thread_waits = false;
      if (failure) std::rethrow_exception(failure);
      if (!done)
        throw DistributedError(str_cat("[DataParallel] ", context.tag(), "bucket ", completed, " of ", buckets.size(),
                                       " was not reduced within ", options.timeout_seconds,
                                       " s: another rank stopped taking part, or the ranks ran different numbers of "
                                       "steps"));
    }
    const Clock::time_point done = Clock::now();
    ++stats.steps;
    stats.window_seconds += seconds_between(first_launch, done);
    stats.exposed_seconds += seconds_between(last_ready, done);
    const profile::Frame frame("DataParallel.combine");
    for (std::size_t b = 0; b < buckets.size(); ++b) combine(b);
    phase = Phase::Reduced;
  }

  // Each parameter's .grad() becomes its slice of the reduced bucket divided by Σ n_r, or
  // undefined when no rank had a gradient for it.
  void combine(std::size_t b) {
    const Bucket& bucket = buckets[b];
    dispatch_float(bucket.dtype, "DataParallel", [&]<class T>() {
      T* values = buffers[b].data<T>();
      const T total = values[bucket.elements() - 1];
      for (std::size_t s = 0; s < bucket.params.size(); ++s) {
        const Tensor& p = params[bucket.params[s]];
        if (values[bucket.gradient_elements + static_cast<int64_t>(s)] == T(0)) {
          p.set_grad(Tensor());
          continue;
        }
        const int64_t offset = bucket.offsets[s];
        if (total > T(0))
          parallel_for(p.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
            for (int64_t k = lo; k < hi; ++k) values[offset + k] /= total;
          });
        p.set_grad(buffers[b].slice(offset, offset + p.numel()).reshape(p.shape()));
      }
    });
  }

  // --- the communication thread ----------------------------------------------------------

  void communicate() {
    std::vector<std::pair<std::size_t, MPI_Request>> in_flight;
    std::unique_lock lock(mutex);
    while (true) {
      if (in_flight.empty()) wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) return;
      std::deque<std::size_t> starting;
      starting.swap(queue);
      const bool hurry = training_thread_waits;
      lock.unlock();
      try {
        for (std::size_t b : starting) {
          MPI_Request request = MPI_REQUEST_NULL;
          context.check(MPI_Iallreduce(MPI_IN_PLACE, buffers[b].raw_data(), static_cast<int>(buckets[b].elements()),
                                       mpi_datatype(buckets[b].dtype), MPI_SUM, context.communicator(), &request),
                        "DataParallel");
          in_flight.emplace_back(b, request);
        }
        std::size_t finished = 0;
        while (!in_flight.empty()) {  // buckets complete in the order they started
          int flag = 0;
          context.check(MPI_Test(&in_flight.front().second, &flag, MPI_STATUS_IGNORE), "DataParallel");
          if (!flag) break;
          in_flight.erase(in_flight.begin());
          ++finished;
        }
        if (finished == 0 && !in_flight.empty()) {
          if (hurry)
            std::this_thread::yield();
          else
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        lock.lock();
        completed += finished;
        if (finished > 0) reduced.notify_one();
      } catch (...) {
        lock.lock();
        failure = std::current_exception();
        in_flight.clear();
        reduced.notify_one();
      }
    }
  }
};

DataParallel::DataParallel(nn::Module& module, const Context& context, DataParallelOptions options)
    : module_(module), options_(options) {
  if (context.world_size() == 1) return;
  check_same_layout(context, layout_of(module, options));
  // Every rank has the same options now, so these checks fail on every rank or on none.
  if (options.bucket_bytes < 1 || options.first_bucket_bytes < 1)
    throw ValueError(str_cat("[DataParallel] bucket sizes must be >= 1 byte, got bucket_bytes ", options.bucket_bytes,
                             ", first_bucket_bytes ", options.first_bucket_bytes));
  if (!(options.timeout_seconds > 0))
    throw ValueError(str_cat("[DataParallel] timeout_seconds must be > 0, got ", options.timeout_seconds));
  NoGradGuard no_grad;
  for (const auto& [name, t] : module.state_dict()) {
    Tensor value = t.detach().clone();
    broadcast(context, value, 0);
    t.detach().copy_(value);
  }
  reducer_ = std::make_unique<Reducer>(module, context, options_, stats_);
}

DataParallel::~DataParallel() = default;

Tensor DataParallel::operator()(const Tensor& input) {
  if (!reducer_) return module_(input);
  reducer_->begin_step();
  if (!syncing_) {  // inside no_sync(): this backward's gradients stay here
    reducer_->phase = Reducer::Phase::Local;
    return module_(input);
  }
  Tensor out = module_(input);
  if (out.requires_grad())
    reducer_->prepare(input.dim() == 0 ? 1.0 : static_cast<double>(input.shape()[0]), leaves_behind(out));
  return out;
}

void DataParallel::skip_batch() {
  if (!reducer_) return;
  reducer_->begin_step();
  reducer_->prepare(0, {});
}

void DataParallel::reset_stats() {
  stats_.steps = 0;
  stats_.window_seconds = stats_.exposed_seconds = 0;
}

int64_t DataParallel::num_buckets() const { return reducer_ ? static_cast<int64_t>(reducer_->buckets.size()) : 0; }

std::vector<std::vector<std::string>> DataParallel::bucket_layout() const {
  std::vector<std::vector<std::string>> layout;
  if (!reducer_) return layout;
  for (const auto& bucket : reducer_->buckets) {
    auto& names = layout.emplace_back();
    for (std::size_t i : bucket.params) names.push_back(reducer_->names[i]);
  }
  return layout;
}

}  // namespace humble::distributed
