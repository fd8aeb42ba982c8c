// examples/mnist/parallel_mpi.cpp — the job on MPI: runs shared by every process, or dealt out.
#include <cstdio>
#include <humble/distributed/distributed.hpp>

#include "parallel.hpp"

namespace study {
namespace {

using namespace humble;

// One run trained by every process at once; at the end of each, rank 0 prints how its gradient
// all-reduces went.
class DataParallelSharing : public Sharing {
 public:
  explicit DataParallelSharing(const distributed::Context& context) : context_(context) {}
  ~DataParallelSharing() override { report(); }
  int rank() const override { return context_.rank(); }
  int size() const override { return context_.world_size(); }
  void attach(nn::Module& model) override {
    report();
    ddp_.reset();  // a teacher's, before its student's
    ddp_ = std::make_unique<distributed::DataParallel>(model, context_);
  }
  Tensor forward(nn::Module& model, const Tensor& part) override {
    if (!ddp_ || &ddp_->module() != &model)
      throw ValueError("[mnist_smoothing] a data-parallel forward pass of a model that was not attached");
    return (*ddp_)(part);
  }
  void skip_batch() override { ddp_->skip_batch(); }
  std::vector<double> sum(std::vector<double> values) override {
    Tensor t = tensor(values, {static_cast<int64_t>(values.size())}, Dtype::Float64);
    distributed::all_reduce(context_, t);
    return t.to_vector();
  }
  Tensor gather(const Tensor& rows) override { return distributed::all_gather(context_, rows); }

 private:
  void report() const {
    if (!ddp_ || !context_.is_root() || ddp_->stats().steps == 0) return;
    const distributed::CommunicationStats& s = ddp_->stats();
    std::printf(
        "gradient all-reduce: %lld buckets, %.2f MB per step; per step %.3f ms in flight, %.3f ms of it "
        "after backward\n",
        static_cast<long long>(s.buckets), static_cast<double>(s.bytes_per_step) / 1e6,
        1e3 * s.window_seconds / static_cast<double>(s.steps), 1e3 * s.exposed_seconds / static_cast<double>(s.steps));
  }
  const distributed::Context& context_;
  std::unique_ptr<distributed::DataParallel> ddp_;
};

class MpiJob : public Job {
 public:
  explicit MpiJob(const distributed::Context& context) : context_(context) {}
  int rank() const override { return context_.rank(); }
  int size() const override { return context_.world_size(); }
  std::string tag() const override { return context_.tag(); }
  bool supports(const std::string& parallel) const override { return size() == 1 || parallel != "none"; }
  std::unique_ptr<Sharing> share_runs() override { return std::make_unique<DataParallelSharing>(context_); }
  std::vector<double> from_root(const std::vector<double>& values) override {
    Tensor t = tensor(values, {static_cast<int64_t>(values.size())}, Dtype::Float64);
    distributed::broadcast(context_, t, 0);
    return t.to_vector();
  }
  std::vector<std::string> gather(const std::string& text) override {
    return distributed::gather_bytes(context_, text, 0);
  }

 private:
  const distributed::Context& context_;
};

}  // namespace

int run_job(const std::function<int(Job&)>& body) {
  distributed::Context context;
  MpiJob job(context);
  return distributed::run(context, "mnist_smoothing", [&] { return body(job); });
}

}  // namespace study
