// distributed/context.hpp — one process of an MPI job: its rank, the world's size, and what ends
// the whole job when one process fails.
//
// A Context initialises MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED) and finalises it when it is
// destroyed; a program run without mpirun is a world of one process. humble's collectives use a
// duplicate of MPI_COMM_WORLD, so that they never match a message of the program's own MPI calls.
// At most one Context lives in a process, and MPI cannot be initialised again after it.
//
// Failure: a rank that stops on an exception while the others wait for it in a collective would
// leave them waiting forever. run() prints the exception with the rank and aborts the whole job
// (MPI_Abort), so mpirun ends every process and exits non-zero; a Context destroyed by an escaping
// exception, or std::terminate, aborts the job the same way.
//
// Reference: the MPI 4.0 standard, https://www.mpi-forum.org/docs/ (chapters 6 and 11).
#pragma once

#include <mpi.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace humble::distributed {

// An MPI call that failed, or ranks that disagree about a collective: "[op] rank 1: …".
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Context {
 public:
  Context();   // initialises MPI unless the program already has (then leaves finalising to it)
  ~Context();  // MPI_Finalize (or MPI_Abort when an exception is unwinding and other ranks exist)
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const { return rank_; }              // in [0, world_size())
  int world_size() const { return world_size_; }  // 1 without mpirun
  int local_rank() const { return local_rank_; }  // among the ranks on this machine
  int local_size() const { return local_size_; }  // ranks on this machine
  bool is_root() const { return rank_ == 0; }
  MPI_Comm communicator() const { return comm_; }  // humble's duplicate of MPI_COMM_WORLD

  // "[rank 1/4] " — what every message about this process starts with.
  std::string tag() const;

  // Throws DistributedError "[op] rank r/P: <MPI's error text>" unless code is MPI_SUCCESS.
  void check(int code, const char* op) const;

  // Ends every process of the job with exit code `code`, after printing `message` on stderr.
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, world_size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool owns_mpi_ = false;
  int uncaught_at_start_ = 0;
};

// Runs `body` and returns its exit code. An exception escaping it is printed as
// "<program>: [rank r/P] <what()>" on stderr; then, with other ranks in the job, the whole job is
// aborted (they may be waiting for this rank), and alone, 1 is returned.
int run(const Context& context, const std::string& program, const std::function<int()>& body);

}  // namespace humble::distributed
