// examples/mnist/study.hpp — one run of the smoothing study, and what it measures.
//
// A run trains one model (MLP 784-512-256-10, a LeNet-style CNN, or the small student MLP
// 784-128-10) on MNIST or Fashion-MNIST with one training objective, then measures, on the test
// set, accuracy, NLL, calibration and confidence, before and after temperature scaling (T fitted
// on a held-out validation split), plus what the pictures and intervals need: reliability bins,
// per-row predictions, per-epoch history, the penultimate-layer projection of Müller, Kornblith &
// Hinton (2019, https://arxiv.org/abs/1906.02629, figure 1) and how tight its class clusters are.
//
// A run is decided by its RunSpec and the data alone: execute(spec, data) gives the same bits in
// any process, in any order, next to any other runs (each run seeds everything it draws from its
// own seed). A distilled student's spec holds its teacher's spec; the teacher is trained from it
// (or taken from a Teachers cache that trained it from the same spec before).
#pragma once

#include <functional>
#include <humble/humble.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace study {

// The command line: what to run and on which data (experiments.cpp turns it into runs).
struct Config {
  std::string experiment = "calibration";  // calibration | compare | sweep | distillation | label-noise
  bool quick = false;                      // the CI-sized variant: fewer images, epochs and seeds
  std::string dataset = "mnist";           // mnist | fashion
  std::string data_dir;                    // default: data/<dataset>
  std::string model = "mlp";               // mlp | cnn
  int epochs = 5;
  int batch_size = 128;
  std::string optimizer = "adam";  // sgd | adam | adamw
  double lr = 1e-3;
  std::vector<double> eps = {0.0, 0.1};
  std::string eps_schedule;     // e.g. "linear:0.2:0": one more configuration beside the constant ones
  std::string loss = "ce";      // calibration only: ce | confidence-penalty | focal
  bool reference_loss = false;  // ce through cross_entropy_reference, the readable path
  bool detect_anomaly = false;  // train under humble::DetectAnomalyGuard
  uint64_t seed = 0;
  int seeds = 1;
  int threads = 2;
  int64_t train_limit = 0;         // 0 = all training images
  int64_t validation_size = 5000;  // held out of the training set for fitting T
  int64_t bootstrap_resamples = 1000;
  std::vector<int> only_runs;  // execute only these runs of the plan (empty = all)
  std::string save_runs;       // write every executed run to this folder (run_file.hpp)
  std::string load_runs;       // take the runs found in this folder instead of executing them
  std::string out = "out";
  bool profile = false;           // record where the training time goes (Run::profile, OUT/profile.json)
  std::string parallel = "none";  // none | data | sweep (parallel.hpp)
  int world_size = 1;             // processes of the job
};

struct Data {
  humble::data::Dataset train, validation, test;
  std::vector<std::string> class_names;  // (K)
};
// Both splits, checked before any training: 28×28 images (what the models take) in both, and at
// least kMinTrainingImages training images (a tenth of them is held out to fit the temperature).
inline constexpr int64_t kMinTrainingImages = 10;
Data load_data(const Config& config);

// How a model is trained: shared by every run of an experiment.
struct Training {
  std::string model = "mlp";  // mlp | cnn | student (784-128-10)
  int epochs = 5;
  int batch_size = 128;
  std::string optimizer = "adam";
  double lr = 1e-3;
  bool reference_loss = false;  // ce through cross_entropy_reference (same science, slower)
  bool profile = false;         // record where the training time goes (Run::profile); changes no number
};

// One run: everything that decides its numbers.
struct RunSpec {
  Training training{};
  std::string loss = "ce";     // ce (smoothed by eps) | confidence-penalty | focal | forward-correction | distillation
  double eps = 0.0;            // label smoothing ε of the ce targets
  std::string eps_schedule{};  // when set (e.g. "linear:0.2:0"), ε follows it over the steps instead
  double label_noise = 0.0;    // symmetric noise rate of the training labels (the test set stays clean)
  uint64_t seed = 0;           // initialisation, batch order and label noise
  std::shared_ptr<const RunSpec> teacher{};  // distillation: the teacher's own spec
  double distill_temperature = 0.0;          // distillation: T

  std::string key() const;   // every field in one line: names the run (and its teacher) unambiguously
  double final_eps() const;  // the ε of the last step (eps, or the schedule's end)
};

// The shortest decimal text that reads back as `value` (0.1, 0.001, 1e-05): keys never confuse two numbers.
std::string shortest_text(double value);

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, loss_floor = 0;  // the training objective and its floor (H(q′) for ce, else 0)
  double train_nll = 0;                   // the unsmoothed NLL on the same batches (against the training labels)
  double test_nll = 0, test_accuracy = 0, test_mean_confidence = 0;
  double gap_q1 = 0, gap_median = 0, gap_q3 = 0;  // test logit gap (top − mean of the others)
  double seconds = 0;
};

struct Projection {
  std::vector<std::string> class_names;
  std::vector<std::vector<humble::plot::Point>> points;  // per class
};

struct Run {
  RunSpec spec;
  humble::metrics::CalibrationReport test, test_scaled;          // at T = 1 and at the fitted T
  humble::metrics::Predictions predictions, predictions_scaled;  // per test row, for the bootstrap
  double optimal_logit_gap = 0, temperature = 1, validation_nll = 0, validation_nll_scaled = 0;
  humble::metrics::ReliabilityBins bins, bins_scaled;  // 15 equal-width bins at T = 1 and at the fitted T
  std::vector<double> confidences;
  std::vector<EpochRecord> history;
  Projection projection;
  humble::metrics::ClusterTightness clusters;    // of the penultimate activations of the test set
  double wrong_class_entropy = 0;                // of the test logits (1 = wrong classes alike)
  std::vector<double> wrong_class_distribution;  // (C, C): mean q per true class
  double flipped_share = 0;                      // training labels changed by the noise
  double seconds_per_epoch = 0, seconds = 0;     // training per epoch; the whole run
  humble::profile::Report profile;               // the training epochs', with Training::profile
};

// Called after every batch: epoch, batch index, batches per epoch, running loss, images/s.
using Progress = std::function<void(int, int64_t, int64_t, double, double)>;

// How the processes of a job share one run (`--parallel data`, parallel.hpp): each trains on its
// part of every batch with the gradients combined, and evaluates its part of each data set. This
// base class is one process doing all of it (one_process()).
class Sharing {
 public:
  virtual ~Sharing() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // Called with each run's fresh model. forward() is then a training forward pass of that model on
  // this process's part of a batch (backward combines every process's gradients), and
  // skip_batch() stands in for forward and backward when that part is empty.
  virtual void attach(humble::nn::Module&) {}
  virtual humble::Tensor forward(humble::nn::Module& model, const humble::Tensor& part) { return model(part); }
  virtual void skip_batch() {}
  virtual std::vector<double> sum(std::vector<double> values) { return values; }  // over the processes
  virtual humble::Tensor gather(const humble::Tensor& rows) { return rows; }      // everyone's rows, by rank
};
Sharing& one_process();

// Trained teachers by spec key: a teacher that several students share is trained once per
// process. It changes no number: a teacher trained here has the bits of one trained anywhere else.
// Only the specs named at construction (the plan's teachers) are kept.
class Teachers {
 public:
  explicit Teachers(const std::vector<RunSpec>& plan);  // keeps the teachers of these runs
  // Trains it (shared like the student that needs it) if not kept yet.
  std::shared_ptr<humble::nn::Module> get(const RunSpec& spec, const Data& data, Sharing& sharing);
  void offer(const RunSpec& spec, std::shared_ptr<humble::nn::Module> model);  // kept if a teacher

 private:
  std::map<std::string, std::shared_ptr<humble::nn::Module>> trained_;  // by key; null until trained
};

Run execute(const RunSpec& spec, const Data& data, Teachers& teachers, const Progress& progress = {},
            Sharing& sharing = one_process());

// log(1 + C(1 − ε)/ε) at the run's final ε for the ce loss; +inf without smoothing or for other losses.
double optimal_logit_gap_of(const RunSpec& spec);

// Seconds one training image costs `model` (forward + backward + step) on this machine now,
// from a few timed batches: what the time estimate is made of.
double seconds_per_training_image(const std::string& model, const Data& data, int batch_size);

}  // namespace study
