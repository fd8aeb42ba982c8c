// examples/mnist/study.cpp — data loading, the models, the training loop and the measurements of
// one run (contract in study.hpp).
//
// Legend: N images, B a batch, D = 784 pixels, H hidden units, K = 10 classes.
#include "study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>

namespace study {
namespace {

using namespace humble;
using Clock = std::chrono::steady_clock;

constexpr int64_t kClasses = 10;
constexpr double kConfidencePenaltyBeta = 0.1;   // Pereyra et al. 2017 tune β per task; 0.1 is in their range
constexpr double kFocalGamma = 2.0;              // Lin et al. 2017's best value
constexpr uint64_t kNoiseStream = 0x6e6f697365;  // "noise": the label-noise generator is seed ^ this

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// The network split at its penultimate layer: logits = head(features(x)).
struct Classifier : nn::Module {
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> head;

  Classifier(std::shared_ptr<nn::Sequential> body, int64_t width)
      : features(register_module("features", std::move(body))),
        head(register_module("head", std::make_shared<nn::Linear>(width, kClasses))) {}
  Tensor forward(const Tensor& x) override { return (*head)((*features)(x)); }  // (B, K)
};

std::shared_ptr<Classifier> make_model(const std::string& kind) {
  using std::make_shared;
  if (kind == "mlp")
    return make_shared<Classifier>(
        make_shared<nn::Sequential>(nn::Sequential{make_shared<nn::Linear>(784, 512), make_shared<nn::ReLU>(),
                                                   make_shared<nn::Linear>(512, 256), make_shared<nn::ReLU>()}),
        256);
  if (kind == "student")  // the distillation student: one hidden layer of 128
    return make_shared<Classifier>(
        make_shared<nn::Sequential>(nn::Sequential{make_shared<nn::Linear>(784, 128), make_shared<nn::ReLU>()}), 128);
  // LeNet-5 style: (B, 1, 28, 28) → conv 6@5×5 pad 2 → pool → conv 16@5×5 → pool → 120 → 84 → K.
  return make_shared<Classifier>(
      make_shared<nn::Sequential>(
          nn::Sequential{make_shared<nn::Conv2d>(1, 6, 5, nn::Conv2dOptions{.padding = 2}), make_shared<nn::ReLU>(),
                         make_shared<nn::MaxPool2d>(2), make_shared<nn::Conv2d>(6, 16, 5), make_shared<nn::ReLU>(),
                         make_shared<nn::MaxPool2d>(2), make_shared<nn::Flatten>(), make_shared<nn::Linear>(400, 120),
                         make_shared<nn::ReLU>(), make_shared<nn::Linear>(120, 84), make_shared<nn::ReLU>()}),
      84);
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Training& training, const std::vector<Tensor>& params) {
  if (training.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = training.lr, .momentum = 0.9});
  if (training.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = training.lr});
  return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = training.lr});
}

data::ImageLayout layout_for(const std::string& model) {
  return model == "cnn" ? data::ImageLayout::NCHW : data::ImageLayout::Flat;
}

// A batch of images in another model's layout: (B, 784) ↔ (B, 1, 28, 28), the same pixels.
Tensor as_layout(const Tensor& images, data::ImageLayout layout) {
  const int64_t b = images.shape()[0];
  return layout == data::ImageLayout::NCHW ? images.reshape({b, 1, 28, 28}) : images.reshape({b, 784});
}

// The training objective of one batch; `eps` is this step's smoothing. The reference path computes
// the same loss and gradient as the fast kernel, row by row (slower).
struct Objective {
  const RunSpec& spec;
  Tensor noise_transition{};              // forward correction: T of the noise, (K, K)
  std::shared_ptr<nn::Module> teacher{};  // distillation
  data::ImageLayout teacher_layout = data::ImageLayout::Flat;

  Tensor operator()(const Tensor& logits, const data::Batch& batch, double eps) const {
    if (spec.loss == "confidence-penalty")
      return losses::confidence_penalty(logits, batch.labels, {.beta = kConfidencePenaltyBeta});
    if (spec.loss == "focal") return losses::focal_loss(logits, batch.labels, {.gamma = kFocalGamma});
    if (spec.loss == "forward-correction")
      return losses::forward_corrected_cross_entropy(logits, batch.labels, noise_transition);
    if (spec.loss == "distillation") {
      Tensor teacher_logits;  // (B, K)
      {
        NoGradGuard no_grad;
        teacher_logits = (*teacher)(as_layout(batch.images, teacher_layout));
      }
      return losses::distillation_loss(logits, teacher_logits, spec.distill_temperature);
    }
    const losses::CrossEntropyOptions options{.label_smoothing = eps};
    return spec.training.reference_loss ? losses::cross_entropy_reference(logits, batch.labels, options)
                                        : losses::cross_entropy(logits, batch.labels, options);
  }
};

// Logits (N, K) and penultimate activations (N, H) for a whole dataset, in eval mode and no-grad.
// With several processes each computes its share of the batches of 1000 and all are gathered, so
// every process holds what one process computes alone, bit for bit.
struct Outputs {
  Tensor logits, features, labels;
};
Outputs predict(Classifier& model, const data::Dataset& dataset, data::ImageLayout layout, Sharing& sharing) {
  NoGradGuard no_grad;
  model.eval();
  data::DataLoader loader(dataset, {.batch_size = 1000, .shuffle = false, .layout = layout});
  const data::Range mine = data::shard_range(loader.num_batches(), sharing.size(), sharing.rank());
  std::vector<Tensor> logits{empty({0, kClasses})}, features{empty({0, model.head->weight.shape()[1]})},
      labels{empty({0}, Dtype::Int64)};
  auto batch = loader.begin();
  for (int64_t b = 0; b < mine.end; ++b, ++batch) {
    if (b < mine.begin) continue;
    const data::Batch part = *batch;
    Tensor h = (*model.features)(part.images);
    features.push_back(h);
    logits.push_back((*model.head)(h));
    labels.push_back(part.labels);
  }
  model.train();
  return {sharing.gather(cat(logits)), sharing.gather(cat(features)), sharing.gather(cat(labels))};
}

// Top logit minus the mean of the other K − 1, per row, sorted.
std::vector<double> sorted_logit_gaps(const Tensor& logits) {
  const int64_t n = logits.shape()[0], k = logits.shape()[1];
  const std::vector<double> z = logits.to_vector();
  std::vector<double> gaps(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto row = z.begin() + i * k;
    const double top = *std::max_element(row, row + k), total = std::accumulate(row, row + k, 0.0);
    gaps[i] = top - (total - top) / static_cast<double>(k - 1);
  }
  std::sort(gaps.begin(), gaps.end());
  return gaps;
}

double quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

// Penultimate activations of ~100 test images of classes 0, 1, 2, with a 1 appended for the bias,
// projected onto the plane through those classes' templates (final-layer rows with their bias),
// with an orthonormal basis from Gram–Schmidt: e1 ∝ w1 − w0, e2 ∝ (w2 − w0) minus its e1 part.
Projection project_penultimate(const Outputs& out, const Classifier& model, const std::vector<std::string>& names) {
  const int64_t h = out.features.shape()[1];
  const std::vector<double> w = model.head->weight.to_vector(), b = model.head->bias.to_vector();
  const auto template_of = [&](int64_t k) {
    std::vector<double> t(w.begin() + k * h, w.begin() + (k + 1) * h);
    t.push_back(b[k]);
    return t;
  };
  const auto dot = [](const std::vector<double>& x, const std::vector<double>& y) {
    return std::inner_product(x.begin(), x.end(), y.begin(), 0.0);
  };
  const auto axpy = [](double a, const std::vector<double>& x, std::vector<double> y) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += a * x[i];
    return y;
  };
  const auto w0 = template_of(0), w1 = template_of(1), w2 = template_of(2);
  std::vector<double> e1 = axpy(-1, w0, w1);
  e1 = axpy(1 / std::sqrt(dot(e1, e1)) - 1, e1, e1);
  std::vector<double> e2 = axpy(-1, w0, w2);
  e2 = axpy(-dot(e2, e1), e1, e2);
  e2 = axpy(1 / std::sqrt(dot(e2, e2)) - 1, e2, e2);

  Projection projection;
  projection.points.resize(3);
  const std::vector<double> features = out.features.to_vector();
  const int64_t* labels = out.labels.data<int64_t>();
  for (int64_t i = 0; i < out.labels.numel(); ++i) {
    const int64_t k = labels[i];
    if (k > 2 || projection.points[k].size() >= 100) continue;
    std::vector<double> x(features.begin() + i * h, features.begin() + (i + 1) * h);
    x.push_back(1.0);
    projection.points[k].push_back({dot(x, e1), dot(x, e2)});
  }
  projection.class_names = {names[0], names[1], names[2]};
  return projection;
}

// A trained model and how its training went.
struct Trained {
  std::shared_ptr<Classifier> model;
  std::vector<EpochRecord> history;
  double train_seconds = 0, flipped_share = 0;
  profile::Report profile;  // with Training::profile
};

Trained train(const RunSpec& spec, const Data& data, Teachers& teachers, const Progress& progress, Sharing& sharing) {
  Trained out;
  data::Dataset train_set = data.train;
  if (spec.label_noise > 0) {
    Generator noise(spec.seed ^ kNoiseStream);
    const data::NoisyDataset noisy = data::with_symmetric_label_noise(data.train, spec.label_noise, noise);
    train_set = noisy.dataset;
    out.flipped_share = static_cast<double>(noisy.flipped) / static_cast<double>(train_set.size());
  }
  Objective objective{.spec = spec};
  if (spec.loss == "forward-correction")
    objective.noise_transition = losses::symmetric_noise_transition(kClasses, spec.label_noise);
  if (spec.loss == "distillation") {
    objective.teacher = teachers.get(*spec.teacher, data, sharing);
    objective.teacher->eval();
    objective.teacher_layout = layout_for(spec.teacher->training.model);
  }
  const losses::SmoothingSchedule schedule =
      spec.eps_schedule.empty()
          ? losses::SmoothingSchedule(losses::SmoothingSchedule::Shape::Constant, spec.eps, spec.eps)
          : losses::SmoothingSchedule::parse(spec.eps_schedule);

  manual_seed(spec.seed);  // the layers' initialisation
  out.model = make_model(spec.training.model);
  sharing.attach(*out.model);
  auto optimizer = make_optimizer(spec.training, out.model->parameters());
  const data::ImageLayout layout = layout_for(spec.training.model);
  data::DataLoader loader(train_set, {.batch_size = spec.training.batch_size,
                                      .layout = layout,
                                      .seed = spec.seed,
                                      .shards = sharing.size(),
                                      .shard = sharing.rank()});
  const int64_t total_steps = spec.training.epochs * loader.num_batches();
  int64_t step = 0;
  for (int epoch = 1; epoch <= spec.training.epochs; ++epoch) {
    std::optional<profile::Session> profiling;  // training only, not the evaluation below
    if (spec.training.profile) profiling.emplace();
    const auto start = Clock::now();
    double loss_sum = 0, nll_sum = 0, floor_sum = 0;
    int64_t seen = 0, batch_index = 0;
    for (const data::Batch& batch : loader) {  // this process's part of each batch
      const double eps = schedule.at(step++, total_steps);
      const auto b = static_cast<double>(batch.labels.numel());
      optimizer->zero_grad();
      if (b == 0) {  // no rows of a short last batch here
        sharing.skip_batch();
      } else {
        const Tensor logits = sharing.forward(*out.model, batch.images);  // (B, K)
        const Tensor loss = objective(logits, batch, eps);
        loss.backward();
        loss_sum += loss.item() * b;
        floor_sum += spec.loss == "ce" ? losses::loss_floor(kClasses, eps) * b : 0.0;
        NoGradGuard no_grad;
        nll_sum += losses::cross_entropy(logits.detach(), batch.labels).item() * b;
      }
      optimizer->step();
      seen += batch.labels.numel();
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (progress) progress(epoch, ++batch_index, loader.num_batches(), loss_sum / seen, seen / elapsed);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    out.train_seconds += seconds;
    if (profiling) out.profile += profiling->report();
    profiling.reset();
    const std::vector<double> sums = sharing.sum({loss_sum, nll_sum, floor_sum, static_cast<double>(seen)});
    loss_sum = sums[0];
    nll_sum = sums[1];
    floor_sum = sums[2];
    seen = static_cast<int64_t>(sums[3]);
    const Outputs test = predict(*out.model, data.test, layout, sharing);
    const metrics::CalibrationReport report = metrics::evaluate(test.logits, test.labels);
    const std::vector<double> gaps = sorted_logit_gaps(test.logits);
    out.history.push_back({.epoch = epoch,
                           .train_loss = loss_sum / seen,
                           .loss_floor = floor_sum / seen,
                           .train_nll = nll_sum / seen,
                           .test_nll = report.nll,
                           .test_accuracy = report.accuracy,
                           .test_mean_confidence = report.mean_confidence,
                           .gap_q1 = quantile(gaps, 0.25),
                           .gap_median = quantile(gaps, 0.5),
                           .gap_q3 = quantile(gaps, 0.75),
                           .seconds = seconds});
  }
  return out;
}

}  // namespace

std::string shortest_text(double value) {
  char buffer[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string RunSpec::key() const {
  std::string key = training.model + " " + training.optimizer + " lr=" + shortest_text(training.lr) +
                    " batch=" + std::to_string(training.batch_size) + " epochs=" + std::to_string(training.epochs) +
                    " loss=" + loss + (training.reference_loss ? " reference_loss" : "");
  if (eps_schedule.empty())
    key += " eps=" + shortest_text(eps);
  else
    key += " eps_schedule=" + eps_schedule;
  if (label_noise > 0) key += " label_noise=" + shortest_text(label_noise);
  if (teacher) key += " T=" + shortest_text(distill_temperature) + " teacher=(" + teacher->key() + ")";
  return key + " seed=" + std::to_string(seed);
}

double RunSpec::final_eps() const {
  return eps_schedule.empty() ? eps : losses::SmoothingSchedule::parse(eps_schedule).end();
}

Data load_data(const Config& config) {
  const std::string dir = config.data_dir.empty() ? "data/" + config.dataset : config.data_dir;
  const data::Dataset all = data::load_mnist_split(dir, "train");
  const data::Dataset test = data::load_mnist_split(dir, "t10k");
  const auto size_of = [](const data::Dataset& d) { return str_cat(d.image_shape()[0], "×", d.image_shape()[1]); };
  if (all.image_shape() != Shape{28, 28})
    throw ValueError(str_cat("[mnist_smoothing] the training images in ", dir, " are ", size_of(all),
                             "; the mlp and cnn models take 28×28 images"));
  if (test.image_shape() != all.image_shape())
    throw ValueError(str_cat("[mnist_smoothing] the test images in ", dir, " are ", size_of(test),
                             " but the training images are ", size_of(all)));
  if (all.size() < kMinTrainingImages)
    throw ValueError(str_cat("[mnist_smoothing] ", dir, " holds ", all.size(),
                             " training images; the study needs at least ", kMinTrainingImages,
                             " (a tenth is held out to fit the temperature)"));
  Generator gen(config.seed);
  auto [fit, held_out] = data::split(all, std::min(config.validation_size, all.size() / 10), gen);
  if (config.train_limit > 0) fit = fit.limit(std::min(config.train_limit, fit.size()));
  std::vector<std::string> names = kFashionClasses;
  if (config.dataset != "fashion")
    for (int k = 0; k < kClasses; ++k) names[k] = "digit " + std::to_string(k);
  return {fit, held_out, test, names};
}

Teachers::Teachers(const std::vector<RunSpec>& plan) {
  for (const RunSpec& spec : plan)
    if (spec.teacher) trained_[spec.teacher->key()] = nullptr;
}

Sharing& one_process() {
  static Sharing alone;
  return alone;
}

std::shared_ptr<nn::Module> Teachers::get(const RunSpec& spec, const Data& data, Sharing& sharing) {
  std::shared_ptr<nn::Module>& model = trained_[spec.key()];
  if (!model) model = train(spec, data, *this, {}, sharing).model;
  return model;
}

void Teachers::offer(const RunSpec& spec, std::shared_ptr<nn::Module> model) {
  const auto found = trained_.find(spec.key());
  if (found != trained_.end()) found->second = std::move(model);
}

Run execute(const RunSpec& spec, const Data& data, Teachers& teachers, const Progress& progress, Sharing& sharing) {
  const auto start = Clock::now();
  Trained trained = train(spec, data, teachers, progress, sharing);
  teachers.offer(spec, trained.model);  // a later student may learn from this run's model
  Classifier& model = *trained.model;
  const data::ImageLayout layout = layout_for(spec.training.model);

  Run run;
  run.spec = spec;
  run.history = std::move(trained.history);
  run.flipped_share = trained.flipped_share;
  run.profile = trained.profile;
  run.seconds_per_epoch = trained.train_seconds / spec.training.epochs;
  run.optimal_logit_gap = optimal_logit_gap_of(spec);

  const Outputs validation = predict(model, data.validation, layout, sharing);
  run.temperature = metrics::fit_temperature(validation.logits, validation.labels);
  run.validation_nll = metrics::evaluate(validation.logits, validation.labels).nll;
  run.validation_nll_scaled = metrics::evaluate(validation.logits, validation.labels, run.temperature).nll;
  const Outputs test = predict(model, data.test, layout, sharing);
  run.test = metrics::evaluate(test.logits, test.labels);
  run.test_scaled = metrics::evaluate(test.logits, test.labels, run.temperature);
  run.predictions = metrics::predictions(test.logits, test.labels);
  run.predictions_scaled = metrics::predictions(test.logits, test.labels, run.temperature);
  run.bins = metrics::reliability_bins(test.logits, test.labels);
  run.bins_scaled = metrics::reliability_bins(test.logits, test.labels, metrics::kDefaultBins, run.temperature);
  run.confidences = metrics::confidences(test.logits);
  run.projection = project_penultimate(test, model, data.class_names);
  run.clusters = metrics::cluster_tightness(test.features, test.labels);
  run.wrong_class_entropy = metrics::wrong_class_entropy(test.logits, test.labels);
  run.wrong_class_distribution = metrics::mean_wrong_class_distribution(test.logits, test.labels).to_vector();
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

double optimal_logit_gap_of(const RunSpec& spec) {
  const double eps = spec.loss == "ce" ? spec.final_eps() : 0.0;
  return eps > 0 ? losses::optimal_logit_gap(kClasses, eps) : INFINITY;
}

double seconds_per_training_image(const std::string& model_kind, const Data& data, int batch_size) {
  constexpr int kWarmup = 2, kTimed = 8;
  auto model = make_model(model_kind);
  auto optimizer = make_optimizer(Training{}, model->parameters());
  data::DataLoader loader(data.train, {.batch_size = batch_size, .layout = layout_for(model_kind)});
  int done = 0;
  int64_t images = 0;
  Clock::time_point start;
  for (const data::Batch& batch : loader) {
    if (done == kWarmup) start = Clock::now();
    if (done == kWarmup + kTimed) break;
    const Tensor loss = losses::cross_entropy((*model)(batch.images), batch.labels);
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    if (done++ >= kWarmup) images += batch.labels.numel();
  }
  if (images == 0) return 0.0;  // too few images to time: the estimate says nothing
  return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(images);
}

}  // namespace study
