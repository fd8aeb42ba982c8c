// distributed/context.cpp — MPI's lifetime, the ranks, and ending the whole job on a failure.
#include "context.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "../core/error.hpp"

namespace humble::distributed {
namespace {

std::atomic<const Context*> current_context{nullptr};
std::terminate_handler previous_terminate = nullptr;

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

// std::terminate (e.g. an exception escaping a thread) with other ranks waiting: end them too.
[[noreturn]] void terminate_job() {
  const Context* context = current_context.load();
  if (context && context->world_size() > 1) {
    const std::exception_ptr error = std::current_exception();
    context->abort(str_cat(context->tag(), "std::terminate: ", error ? what_of(error) : "no exception"));
  }
  if (previous_terminate) previous_terminate();
  std::abort();
}

std::string error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<std::size_t>(length));
}

void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) throw DistributedError(str_cat("[Context] ", call, " failed: ", error_text(code)));
}

}  // namespace

Context::Context() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized) throw DistributedError("[Context] MPI was finalised already; a process can initialise it only once");
  if (current_context.load()) throw DistributedError("[Context] this process has a Context already; use that one");
  int provided = 0;
  if (!initialized) {
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    owns_mpi_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    if (owns_mpi_) MPI_Finalize();
    throw DistributedError(str_cat("[Context] MPI provides thread level ", provided,
                                   ", humble needs MPI_THREAD_SERIALIZED (", MPI_THREAD_SERIALIZED, ") or above"));
  }
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);  // failures become exceptions naming the op
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &world_size_);
  MPI_Comm local = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
  uncaught_at_start_ = std::uncaught_exceptions();
  current_context = this;
  previous_terminate = std::set_terminate(terminate_job);
}

Context::~Context() {
  std::set_terminate(previous_terminate);
  current_context = nullptr;
  if (world_size_ > 1 && std::uncaught_exceptions() > uncaught_at_start_)
    abort(tag() + "an exception is unwinding through the distributed::Context: ending the job");
  MPI_Comm_free(&comm_);
  if (owns_mpi_) MPI_Finalize();
}

void Context::check(int code, const char* op) const {
  if (code != MPI_SUCCESS) throw DistributedError(str_cat("[", op, "] ", tag(), error_text(code)));
}

std::string Context::tag() const { return world_size_ > 1 ? str_cat("[rank ", rank_, "/", world_size_, "] ") : ""; }

void Context::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for an MPI that does
}

int run(const Context& context, const std::string& program, const std::function<int()>& body) {
  std::string message;
  try {
    return body();
  } catch (...) {
    message = str_cat(program, ": ", context.tag(), what_of(std::current_exception()));
  }
  if (context.world_size() > 1) context.abort(message);
  std::fprintf(stderr, "%s\n", message.c_str());
  return 1;
}

}  // namespace humble::distributed
