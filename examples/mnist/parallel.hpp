// examples/mnist/parallel.hpp — the study as an MPI job: `mpirun -np P mnist_smoothing --parallel …`.
//
//   data   every run is trained by all P processes together (distributed::DataParallel): each takes
//          its part of every batch (--batch-size stays the global batch) and of every evaluation,
//          so the same flags give the same optimisation as one process, P times the cores.
//   sweep  the experiment's runs are dealt out to the processes (deal_runs), each trains whole runs
//          with its own threads, and rank 0 gathers them (as run_file.hpp's text) into one table,
//          one metrics.json and one report: every run's numbers are those of the same run done
//          alone, bit for bit.
// Only rank 0 writes the files. Built without MPI (HUMBLE_WITH_MPI off), the job is this process
// alone and --parallel data|sweep say so.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  // Rank 0's values, on every rank (each rank passes as many).
  virtual std::vector<double> from_root(const std::vector<double>& values) { return values; }
  // Every rank's text in rank order, on rank 0 (nothing elsewhere).
  virtual std::vector<std::string> gather(const std::string& text) { return {text}; }
};

// Makes the job (MPI's when built with it) and runs `body` in it. An exception from body is
// printed as "mnist_smoothing: [rank r/P] <message>" and ends every process of the job, non-zero.
int run_job(const std::function<int(Job&)>& body);

// The process that executes each of `chosen` (indices into `plan`), from each one's estimated
// seconds: a teacher's run and its students' runs go to one process (which then trains the
// teacher once), and these units go, longest first, to the process with the least work so far.
// The same arguments give the same answer in every process.
std::vector<int> deal_runs(const std::vector<RunSpec>& plan, const std::vector<std::size_t>& chosen,
                           const std::vector<double>& seconds, int processes);

}  // namespace study
