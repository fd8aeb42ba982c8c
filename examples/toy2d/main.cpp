// examples/toy2d/main.cpp — label smoothing in two dimensions, trained in about a second.
//
// Three interleaved spiral arms (300 points, 3 classes) are fitted by an MLP 2-64-64-3 with Adam,
// once with ε = 0 and once with ε = 0.1. For each, the plane is coloured by the model's confidence
// (its max softmax probability): without smoothing confidence is near 1 almost everywhere, even
// far from any data; with ε = 0.1 it can never exceed 1 − ε + ε/C ≈ 0.933 and falls off between
// the arms. Writes toy2d.svg (or the path given as the argument); --help prints the usage.
//
// Legend: N points, K = 3 classes, G × G grid cells.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <humble/humble.hpp>
#include <numbers>

using namespace humble;

namespace {

constexpr int64_t kPerClass = 100, kClasses = 3, kGrid = 60;
constexpr double kExtent = 1.3;  // the plane shown is [−kExtent, kExtent]²

struct Points {
  Tensor x, y;  // (N, 2) float32, (N) int64
};

// Arm k: radius r ∈ [0, 1], angle 4r + 2πk/3, plus Gaussian noise of 0.2 radians.
Points spiral(Generator& gen) {
  std::vector<double> xy, labels;
  for (int64_t k = 0; k < kClasses; ++k)
    for (int64_t i = 0; i < kPerClass; ++i) {
      const double r = static_cast<double>(i) / (kPerClass - 1);
      const double angle = 4 * r + 2 * std::numbers::pi * k / kClasses + 0.2 * gen.normal();
      xy.insert(xy.end(), {r * std::cos(angle), r * std::sin(angle)});
      labels.push_back(static_cast<double>(k));
    }
  return {tensor(xy, {kPerClass * kClasses, 2}), tensor(labels, {kPerClass * kClasses}, Dtype::Int64)};
}

std::shared_ptr<nn::Sequential> train(const Points& data, double eps) {
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(nn::Sequential{
      std::make_shared<nn::Linear>(2, 64), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, 64),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(64, kClasses)});
  optim::Adam opt(model->parameters(), {.lr = 1e-2});
  for (int step = 0; step < 1500; ++step) {
    Tensor loss = losses::cross_entropy((*model)(data.x), data.y, {.label_smoothing = eps});
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  return model;
}

// The confidence map: grid cells grouped into confidence bands, one colour each, data on top.
plot::Chart confidence_map(nn::Module& model, const Points& data, double eps) {
  std::vector<double> centres;  // (G·G, 2)
  const double cell = 2 * kExtent / kGrid;
  for (int64_t i = 0; i < kGrid; ++i)
    for (int64_t j = 0; j < kGrid; ++j)
      centres.insert(centres.end(), {-kExtent + (j + 0.5) * cell, -kExtent + (i + 0.5) * cell});
  Tensor probs;
  {
    NoGradGuard no_grad;
    probs = softmax(model(tensor(centres, {kGrid * kGrid, 2})), 1);  // (G·G, K)
  }
  const std::vector<double> confidence = max(probs, {1}).to_vector();
  const std::vector<double> edges = {1.0 / 3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001};
  const std::vector<std::string> shades = {"#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08306b"};
  const double accuracy = mean(eq(argmax(model(data.x), 1), data.y).to(Dtype::Float32)).item();
  char title[128];
  std::snprintf(title, sizeof title, "eps = %g: training accuracy %.3f, max confidence allowed %.3f", eps, accuracy,
                losses::max_confidence(kClasses, eps));
  plot::Chart chart(title, "x1", "x2");
  chart.x_range(-kExtent, kExtent).y_range(-kExtent, kExtent).legend(plot::LegendCorner::Below);
  for (std::size_t band = 0; band + 1 < edges.size(); ++band) {
    char label[64];
    std::snprintf(label, sizeof label, "confidence %.2f-%.2f", edges[band], std::min(edges[band + 1], 1.0));
    plot::BarSeries cells{.label = label, .color = shades[band], .opacity = 1.0, .outlined = true};
    for (int64_t c = 0; c < kGrid * kGrid; ++c)
      if (confidence[c] >= edges[band] && confidence[c] < edges[band + 1])
        cells.bars.push_back({centres[2 * c] - cell / 2, centres[2 * c] + cell / 2, centres[2 * c + 1] + cell / 2,
                              centres[2 * c + 1] - cell / 2});
    if (!cells.bars.empty()) chart.bars(cells);
  }
  const std::vector<double> xy = data.x.to_vector(), labels = data.y.to_vector();
  const char* arm_colours[] = {"#d55e00", "#009e73", "#cc79a7"};
  for (int64_t k = 0; k < kClasses; ++k) {
    plot::ScatterSeries arm{.label = "class " + std::to_string(k), .color = arm_colours[k]};
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == static_cast<double>(k)) arm.points.push_back({xy[2 * i], xy[2 * i + 1]});
    chart.scatter(arm);
  }
  return chart;
}

}  // namespace

int main(int argc, char** argv) {
  run_on_best_blas_kernels(argv);
  std::string path = "toy2d.svg";
  CLI::App app{
      "toy2d: label smoothing in two dimensions; writes the confidence map of a spiral, without and with "
      "eps = 0.1"};
  app.add_option("path", path, "the SVG file to write (default: toy2d.svg)");
  CLI11_PARSE(app, argc, argv);
  try {
    Generator gen(7);
    const Points data = spiral(gen);
    plot::Figure figure("Confidence over the plane: a spiral fitted without and with label smoothing");
    for (double eps : {0.0, 0.1}) {
      auto model = train(data, eps);
      figure.add(confidence_map(*model, data, eps));
    }
    figure.save(path);
    std::printf("toy2d: wrote %s\n", path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "toy2d: %s\n", e.what());
    return 1;
  }
  return 0;
}
