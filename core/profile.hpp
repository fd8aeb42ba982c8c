// core/profile.hpp — where the time goes: calls and seconds per op, forward and backward apart,
// the GEMM time inside each, the optimizer step and data loading.
//
//   humble::profile::Session profiling;     // records while it lives (or run with HUMBLE_PROFILE=1,
//   train_one_epoch();                      // which prints the table to stderr at exit)
//   std::cout << profiling.report().table();
//
// What is measured, on the thread that runs the ops (wall time, steady clock):
//   - an op's forward: the time from the previous event on this thread to the op's record() call,
//     i.e. its validation, kernels and allocation; glue code between ops without a frame of its
//     own is counted in the next op, so keep it in a Frame when it matters;
//   - a Frame: everything from its start to its end that no inner frame took — a node's backward
//     ("linear.backward"), the engine's own bookkeeping ("autograd.engine"), an optimizer step
//     ("Adam.step"), a batch being drawn ("DataLoader.batch"), or a region of the caller's. Ops
//     called inside a frame belong to it (a backward's matmuls are part of "matmul.backward");
//   - GEMM: every blas::gemm and gemm_onto_row call, whole (its panels run on every thread; the
//     bias rows a linear layer's product accumulates onto are written by those panels, inside it),
//     charged to the op or frame it ran in and to the total. A GEMM called inside parallel tasks
//     (a convolution's tiles, each task doing its own GEMM) counts its time divided by the thread
//     count, its share of the wall time, charged to the op or frame running on the thread that
//     started the tasks.
// Each row's seconds are its own (self) time, so the rows add up to the time recorded, less what
// ran outside any op or frame ("(other)" in the table).
//
// Off (no Session alive, HUMBLE_PROFILE unset), every hook is one relaxed atomic load and a branch.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace humble::profile {

struct Entry {
  int64_t calls = 0;
  double seconds = 0;       // self time
  double gemm_seconds = 0;  // of which inside matrix products (blas::gemm, sparse::product_onto_row)
};

struct Report {
  std::map<std::string, Entry> ops;  // "linear", "linear.backward", "Adam.step", …
  double wall_seconds = 0;           // how long recording was on
  double gemm_seconds = 0;           // inside matrix products, all of it
  int64_t gemm_calls = 0;

  double gemm_share() const { return wall_seconds > 0 ? gemm_seconds / wall_seconds : 0.0; }
  Report& operator+=(const Report& other);
  std::string table() const;  // rows by seconds, with shares of the wall time and the GEMM part
  // {"ops": {"<name>": {"calls": n, "seconds": s, "gemm_seconds": g}, …}, "gemm_share": f,
  //  "wall_seconds": w, "gemm_seconds": t}
  std::string json() const;
};

namespace detail {
extern std::atomic<int> sessions;
void forward_op(const char* name);
}  // namespace detail
inline bool enabled() { return detail::sessions.load(std::memory_order_relaxed) > 0; }

// RAII: turns recording on while it lives; report() holds what was recorded since it began (on
// every thread; sessions may nest or overlap, each sees its own span).
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Report report() const;

 private:
  Report start_;
  std::chrono::steady_clock::time_point begin_;
};

// RAII: the time inside, less its inner frames, is charged to `name` + `suffix` (e.g. a node's
// name and ".backward"). Costs nothing when recording is off.
class Frame {
 public:
  explicit Frame(std::string_view name, std::string_view suffix = {}) {
    if (enabled()) open(name, suffix);
  }
  ~Frame() {
    if (open_) close();
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

 private:
  void open(std::string_view name, std::string_view suffix);
  void close();
  bool open_ = false;
};

// The hook record() calls once per op: the op `name` has just produced its output.
inline void forward_op(const char* name) {
  if (enabled()) detail::forward_op(name);
}

// RAII around one GEMM (core/blas.cpp).
class GemmTimer {
 public:
  GemmTimer() {
    if (enabled()) {
      begin_ = std::chrono::steady_clock::now();
      on_ = true;
    }
  }
  ~GemmTimer() {
    if (on_) stop();
  }
  GemmTimer(const GemmTimer&) = delete;
  GemmTimer& operator=(const GemmTimer&) = delete;

 private:
  void stop();
  std::chrono::steady_clock::time_point begin_;
  bool on_ = false;
};

}  // namespace humble::profile
