// distributed/checkpoint.cpp — rank 0 writes, every rank reads, and every rank learns of a failure.
#include "checkpoint.hpp"

#include "../core/error.hpp"
#include "collectives.hpp"

namespace humble::distributed {
namespace {

// Runs `attempt`; returns "" or what it threw.
template <class F>
std::string failure_of(F&& attempt) {
  try {
    attempt();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

void save_checkpoint(const Context& context, const std::string& path, const training::Checkpoint& checkpoint) {
  std::string failure;
  if (context.is_root()) failure = failure_of([&] { training::save_checkpoint(path, checkpoint); });
  failure = broadcast_bytes(context, failure, 0);
  if (!failure.empty()) throw IoError(str_cat("[save_checkpoint] rank 0 could not write ", path, ": ", failure));
}

void load_checkpoint(const Context& context, const std::string& path, training::Checkpoint& checkpoint) {
  std::string failure = failure_of([&] { training::load_checkpoint(path, checkpoint); });
  if (!failure.empty()) failure = str_cat(path, ": ", failure);  // the path as this rank saw it
  const std::vector<std::string> failures = all_gather_bytes(context, failure);
  for (std::size_t r = 0; r < failures.size(); ++r)
    if (!failures[r].empty()) throw IoError(str_cat("[load_checkpoint] rank ", r, " could not read ", failures[r]));
}

}  // namespace humble::distributed
