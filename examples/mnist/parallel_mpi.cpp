// examples/mnist/parallel_mpi.cpp — the job on MPI: runs shared by every process, or dealt out.
//
// A dealt-out run travels to rank 0 whole, as CBOR (which keeps every double's bits, ±inf
// included): fields() lists the members of each part of a Run once, for writing and for reading.
#include <concepts>
#include <cstdio>
#include <humble/distributed/distributed.hpp>
#include <nlohmann/json.hpp>

#include "parallel.hpp"

namespace study {
namespace {

using namespace humble;
using nlohmann::json;

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
    ddp_ = std::make_unique<distributed::DataParallel>(model, context_);
  }
  Tensor forward(const Tensor& part) override { return (*ddp_)(part); }
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

// The members of each part of a Run, for encode() and decode().
template <class F>
void fields(metrics::CalibrationReport& r, F&& f) {
  f("count", r.count), f("temperature", r.temperature), f("accuracy", r.accuracy), f("nll", r.nll);
  f("ece", r.ece), f("adaptive_ece", r.adaptive_ece), f("mce", r.mce), f("brier", r.brier);
  f("signed_gap", r.signed_gap), f("mean_confidence", r.mean_confidence);
  f("mean_confidence_correct", r.mean_confidence_correct), f("mean_confidence_wrong", r.mean_confidence_wrong);
  f("frac_confidence_above_0_99", r.frac_confidence_above_0_99), f("mean_logit_gap", r.mean_logit_gap);
}
template <class F>
void fields(metrics::ReliabilityBin& b, F&& f) {
  f("lo", b.lo), f("hi", b.hi), f("count", b.count), f("mean_confidence", b.mean_confidence);
  f("accuracy", b.accuracy);
}
template <class F>
void fields(plot::Point& p, F&& f) {
  f("x", p.x), f("y", p.y);
}
template <class F>
void fields(EpochRecord& e, F&& f) {
  f("epoch", e.epoch), f("train_loss", e.train_loss), f("loss_floor", e.loss_floor), f("train_nll", e.train_nll);
  f("test_nll", e.test_nll), f("test_accuracy", e.test_accuracy), f("test_mean_confidence", e.test_mean_confidence);
  f("gap_q1", e.gap_q1), f("gap_median", e.gap_median), f("gap_q3", e.gap_q3), f("seconds", e.seconds);
}
template <class F>
void fields(Projection& p, F&& f) {
  f("class_names", p.class_names), f("points", p.points);
}
template <class F>
void fields(Run& r, F&& f) {
  f("eps", r.eps), f("seed", r.seed), f("test", r.test), f("test_scaled", r.test_scaled);
  f("optimal_logit_gap", r.optimal_logit_gap), f("temperature", r.temperature);
  f("validation_nll", r.validation_nll), f("validation_nll_scaled", r.validation_nll_scaled);
  f("bins", r.bins), f("confidences", r.confidences), f("history", r.history), f("projection", r.projection);
  f("seconds_per_epoch", r.seconds_per_epoch);
}

template <class T>
concept Scalar = std::is_arithmetic_v<T> || std::same_as<T, std::string>;

template <class T>
json encode(const T& value) {
  if constexpr (Scalar<T>) {
    return value;
  } else if constexpr (requires { value.begin(); }) {
    json out = json::array();
    for (const auto& item : value) out.push_back(encode(item));
    return out;
  } else {
    json out = json::object();
    fields(const_cast<T&>(value), [&](const char* name, const auto& member) { out[name] = encode(member); });
    return out;
  }
}

template <class T>
void decode(const json& in, T& value) {
  if constexpr (Scalar<T>) {
    value = in.get<T>();
  } else if constexpr (requires { value.begin(); }) {
    value.resize(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) decode(in[i], value[i]);
  } else {
    fields(value, [&](const char* name, auto& member) { decode(in.at(name), member); });
  }
}

class MpiJob : public Job {
 public:
  explicit MpiJob(const distributed::Context& context) : context_(context) {}
  int rank() const override { return context_.rank(); }
  int size() const override { return context_.world_size(); }
  std::string tag() const override { return context_.tag(); }
  bool supports(const std::string& parallel) const override { return size() == 1 || parallel != "none"; }
  std::unique_ptr<Sharing> share_runs() override { return std::make_unique<DataParallelSharing>(context_); }

  std::vector<Run> deal(std::size_t count, const std::function<Run(std::size_t)>& train) override {
    json mine = json::array();
    for (std::size_t i = static_cast<std::size_t>(rank()); i < count; i += static_cast<std::size_t>(size()))
      mine.push_back({{"index", i}, {"run", encode(train(i))}});
    const std::vector<std::uint8_t> bytes = json::to_cbor(mine);
    const std::vector<std::string> all = distributed::gather_bytes(context_, std::string(bytes.begin(), bytes.end()));
    std::vector<Run> runs(count);
    for (const std::string& part : all)
      for (const json& entry : json::from_cbor(part))
        decode(entry.at("run"), runs.at(entry.at("index").get<std::size_t>()));
    return context_.is_root() ? runs : std::vector<Run>{};
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
