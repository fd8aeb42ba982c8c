// examples/mnist/parallel.hpp — the study as an MPI job: `mpirun -np P mnist_smoothing --parallel …`.
//
//   data   every run is trained by all P processes together (distributed::DataParallel): each takes
//          its part of every batch (--batch-size stays the global batch) and of every evaluation,
//          so the same flags give the same optimisation as one process, P times the cores.
//   sweep  the runs are dealt out to the processes (run i to rank i mod P), each trains whole runs
//          with its own threads, and rank 0 gathers them: every run's numbers are those of the
//          same run done alone, bit for bit.
// Only rank 0 prints the table and writes the files. Built without MPI (HUMBLE_WITH_MPI off), the
// job is this process alone and --parallel data|sweep say so.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "study.hpp"

namespace study {

class Job {
 public:
  virtual ~Job() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  bool is_root() const { return rank() == 0; }
  virtual std::string tag() const { return ""; }  // "[rank r/P] " with several processes
  virtual bool supports(const std::string& parallel) const { return parallel == "none"; }

  // The sharing of one run over every process (--parallel data).
  virtual std::unique_ptr<Sharing> share_runs() { return std::make_unique<Sharing>(); }
  // Runs train(i) for the runs i this process is dealt, then returns all `count` runs in order
  // on rank 0 (nothing elsewhere).
  virtual std::vector<Run> deal(std::size_t count, const std::function<Run(std::size_t)>& train) {
    std::vector<Run> runs;
    for (std::size_t i = 0; i < count; ++i) runs.push_back(train(i));
    return runs;
  }
};

// Makes the job (MPI's when built with it) and runs `body` in it. An exception from body is
// printed as "mnist_smoothing: [rank r/P] <message>" and ends every process of the job, non-zero.
int run_job(const std::function<int(Job&)>& body);

}  // namespace study
