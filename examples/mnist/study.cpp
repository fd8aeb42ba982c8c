// examples/mnist/study.cpp — data loading, the models, the training loop and the measurements.
//
// Legend: N images, B a batch, D = 784 pixels, H hidden units, K = 10 classes.
#include "study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

namespace study {
namespace {

using namespace humble;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// The network split at its penultimate layer: logits = head(features(x)).
struct Classifier : nn::Module {
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<nn::Linear> head;

  Classifier(std::shared_ptr<nn::Sequential> body, int64_t width)
      : features(register_module("features", std::move(body))),
        head(register_module("head", std::make_shared<nn::Linear>(width, 10))) {}
  Tensor forward(const Tensor& x) override { return (*head)((*features)(x)); }  // (B, K)
};

std::shared_ptr<Classifier> make_model(const std::string& kind) {
  using std::make_shared;
  if (kind == "mlp")
    return make_shared<Classifier>(
        make_shared<nn::Sequential>(nn::Sequential{make_shared<nn::Linear>(784, 512), make_shared<nn::ReLU>(),
                                                   make_shared<nn::Linear>(512, 256), make_shared<nn::ReLU>()}),
        256);
  // LeNet-5 style: (B, 1, 28, 28) → conv 6@5×5 pad 2 → pool → conv 16@5×5 → pool → 120 → 84 → K.
  return make_shared<Classifier>(
      make_shared<nn::Sequential>(
          nn::Sequential{make_shared<nn::Conv2d>(1, 6, 5, nn::Conv2dOptions{.padding = 2}), make_shared<nn::ReLU>(),
                         make_shared<nn::MaxPool2d>(2), make_shared<nn::Conv2d>(6, 16, 5), make_shared<nn::ReLU>(),
                         make_shared<nn::MaxPool2d>(2), make_shared<nn::Flatten>(), make_shared<nn::Linear>(400, 120),
                         make_shared<nn::ReLU>(), make_shared<nn::Linear>(120, 84), make_shared<nn::ReLU>()}),
      84);
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& config, const std::vector<Tensor>& params) {
  if (config.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = config.lr, .momentum = 0.9});
  if (config.optimizer == "adamw") return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = config.lr});
  return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = config.lr});
}

// The training objective for one batch; `eps` smooths every variant's targets where it applies. The
// reference path computes the same loss and gradient as the fast kernel, row by row (slower).
Tensor objective(const Config& config, const Tensor& logits, const Tensor& labels, double eps) {
  if (config.loss == "confidence-penalty") return losses::confidence_penalty(logits, labels, {.beta = 0.1});
  if (config.loss == "focal") return losses::focal_loss(logits, labels, {.gamma = 2.0});
  const losses::CrossEntropyOptions options{.label_smoothing = eps};
  return config.reference_loss ? losses::cross_entropy_reference(logits, labels, options)
                               : losses::cross_entropy(logits, labels, options);
}

data::ImageLayout layout_for(const Config& config) {
  return config.model == "cnn" ? data::ImageLayout::NCHW : data::ImageLayout::Flat;
}

// Logits (N, K) and penultimate activations (N, H) for a whole dataset, in eval mode and no-grad.
struct Outputs {
  Tensor logits, features, labels;
};
Outputs predict(Classifier& model, const data::Dataset& dataset, data::ImageLayout layout) {
  NoGradGuard no_grad;
  model.eval();
  data::DataLoader loader(dataset, {.batch_size = 1000, .shuffle = false, .layout = layout});
  std::vector<Tensor> logits, features, labels;
  for (const data::Batch& batch : loader) {
    Tensor h = (*model.features)(batch.images);
    features.push_back(h);
    logits.push_back((*model.head)(h));
    labels.push_back(batch.labels);
  }
  model.train();
  return {cat(logits), cat(features), cat(labels)};
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

}  // namespace

Data load_data(const Config& config) {
  const std::string dir = config.data_dir.empty() ? "data/" + config.dataset : config.data_dir;
  const data::Dataset all = data::load_mnist_split(dir, "train");
  Generator gen(config.seed);
  auto [fit, held_out] = data::split(all, std::min(config.validation_size, all.size() / 10), gen);
  if (config.train_limit > 0) fit = fit.limit(std::min(config.train_limit, fit.size()));
  return {fit, held_out, data::load_mnist_split(dir, "t10k")};
}

Run train_and_measure(const Config& config, const Data& data, double eps, uint64_t seed, const Progress& progress) {
  manual_seed(seed);  // the layers' initialisation
  auto model = make_model(config.model);
  auto optimizer = make_optimizer(config, model->parameters());
  const data::ImageLayout layout = layout_for(config);
  data::DataLoader loader(data.train, {.batch_size = config.batch_size, .layout = layout, .seed = seed});
  const auto names = config.dataset == "fashion"
                         ? kFashionClasses
                         : std::vector<std::string>{"digit 0", "digit 1", "digit 2", "digit 3", "digit 4",
                                                    "digit 5", "digit 6", "digit 7", "digit 8", "digit 9"};
  Run run;
  run.eps = eps;
  run.seed = seed;
  run.optimal_logit_gap = eps > 0 ? losses::optimal_logit_gap(10, eps) : INFINITY;
  double total_seconds = 0;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    std::optional<profile::Session> profiling;  // training only, not the evaluation below
    if (config.profile) profiling.emplace();
    const auto start = Clock::now();
    double loss_sum = 0, nll_sum = 0;
    int64_t seen = 0, batch_index = 0;
    for (const data::Batch& batch : loader) {
      const Tensor logits = (*model)(batch.images);  // (B, K)
      const Tensor loss = objective(config, logits, batch.labels, eps);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      const auto b = static_cast<double>(batch.labels.numel());
      loss_sum += loss.item() * b;
      {
        NoGradGuard no_grad;
        nll_sum += losses::cross_entropy(logits.detach(), batch.labels).item() * b;
      }
      seen += batch.labels.numel();
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (progress) progress(epoch, ++batch_index, loader.num_batches(), loss_sum / seen, seen / elapsed);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    total_seconds += seconds;
    if (profiling) run.profile += profiling->report();
    profiling.reset();
    const Outputs test = predict(*model, data.test, layout);
    const metrics::CalibrationReport report = metrics::evaluate(test.logits, test.labels);
    const std::vector<double> gaps = sorted_logit_gaps(test.logits);
    run.history.push_back({.epoch = epoch,
                           .train_loss = loss_sum / seen,
                           .loss_floor = config.loss == "ce" ? losses::loss_floor(10, eps) : 0.0,
                           .train_nll = nll_sum / seen,
                           .test_nll = report.nll,
                           .test_accuracy = report.accuracy,
                           .test_mean_confidence = report.mean_confidence,
                           .gap_q1 = quantile(gaps, 0.25),
                           .gap_median = quantile(gaps, 0.5),
                           .gap_q3 = quantile(gaps, 0.75),
                           .seconds = seconds});
  }
  run.seconds_per_epoch = total_seconds / config.epochs;

  const Outputs validation = predict(*model, data.validation, layout);
  run.temperature = metrics::fit_temperature(validation.logits, validation.labels);
  run.validation_nll = metrics::evaluate(validation.logits, validation.labels).nll;
  run.validation_nll_scaled = metrics::evaluate(validation.logits, validation.labels, run.temperature).nll;
  const Outputs test = predict(*model, data.test, layout);
  run.test = metrics::evaluate(test.logits, test.labels);
  run.test_scaled = metrics::evaluate(test.logits, test.labels, run.temperature);
  run.bins = metrics::reliability_bins(test.logits, test.labels);
  run.confidences = metrics::confidences(test.logits);
  run.projection = project_penultimate(test, *model, names);
  return run;
}

}  // namespace study
