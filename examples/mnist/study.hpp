// examples/mnist/study.hpp — one training run of the smoothing study, and what it measures.
//
// A run trains one model (MLP 784-512-256-10 or a LeNet-style CNN) on MNIST or Fashion-MNIST with
// one ε, then measures, on the test set, accuracy, NLL, calibration and confidence, before and
// after temperature scaling (T fitted on a held-out validation split), plus what the pictures
// need: reliability bins, confidences, per-epoch history and the penultimate-layer projection of
// Müller, Kornblith & Hinton (2019, https://arxiv.org/abs/1906.02629, figure 1).
#pragma once

#include <functional>
#include <humble/humble.hpp>
#include <string>
#include <vector>

namespace study {

struct Config {
  std::string dataset = "mnist";  // mnist | fashion
  std::string data_dir;           // default: data/<dataset>
  std::string model = "mlp";      // mlp | cnn
  int epochs = 5;
  int batch_size = 128;
  std::string optimizer = "adam";  // sgd | adam | adamw
  double lr = 1e-3;
  std::vector<double> eps = {0.0, 0.1};
  std::string loss = "ce";      // ce | confidence-penalty | focal
  bool reference_loss = false;  // ce through cross_entropy_reference, the readable path
  uint64_t seed = 0;
  int seeds = 1;
  int threads = 2;
  int64_t train_limit = 0;         // 0 = all training images
  int64_t validation_size = 5000;  // held out of the training set for fitting T
  std::string out = "out";
  bool profile = false;  // record where the training time goes (Run::profile)
};

struct Data {
  humble::data::Dataset train, validation, test;
};
Data load_data(const Config& config);

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, loss_floor = 0;  // the smoothed loss and its floor H(q′)
  double train_nll = 0;                   // the unsmoothed NLL on the same batches
  double test_nll = 0, test_accuracy = 0, test_mean_confidence = 0;
  double gap_q1 = 0, gap_median = 0, gap_q3 = 0;  // test logit gap (top − mean of the others)
  double seconds = 0;
};

struct Projection {
  std::vector<std::string> class_names;
  std::vector<std::vector<humble::plot::Point>> points;  // per class
};

struct Run {
  double eps = 0;
  uint64_t seed = 0;
  humble::metrics::CalibrationReport test, test_scaled;  // at T = 1 and at the fitted T
  double optimal_logit_gap = 0, temperature = 1, validation_nll = 0, validation_nll_scaled = 0;
  humble::metrics::ReliabilityBins bins;
  std::vector<double> confidences;
  std::vector<EpochRecord> history;
  Projection projection;
  double seconds_per_epoch = 0;
  humble::profile::Report profile;  // the training epochs', with Config::profile
};

// Called after every batch: epoch, batch index, batches per epoch, running loss, images/s.
using Progress = std::function<void(int, int64_t, int64_t, double, double)>;

Run train_and_measure(const Config& config, const Data& data, double eps, uint64_t seed, const Progress& progress);

}  // namespace study
