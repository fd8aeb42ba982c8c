// bench/bench_libtorch.cpp — humble's benchmarks in libtorch (Debian libtorch-dev), for bench/run.
//
//   bench_libtorch --model mlp|cnn [--epochs E] [--inference P] [--threads T] [--seed S]
//       the job of bench_train.cpp: same models, optimizer, loss, batches, NLL logging and
//       inference; output lines as bench_train.cpp's, with impl `libtorch`;
//   bench_libtorch --loss [--threads 1,2]
//       forward + backward of cross_entropy(label_smoothing = 0.1) on the shapes and with the
//       timing method of bench_cross_entropy.cpp; output `libtorch,rows,classes,threads,seconds`.
// Threads via torch::set_num_threads(n); run with OMP_WAIT_POLICY=PASSIVE, as bench/run does.
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "time_samples.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using bench::seconds_since;
using bench::time_samples;

void bench_loss(const std::vector<int>& threads) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {128, 10}, {4096, 10}, {65536, 10}, {4096, 1000}, {512, 32000}};
  const auto options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1);
  torch::manual_seed(0);
  for (const auto& [rows, classes] : shapes) {
    torch::Tensor logits = torch::randn({rows, classes}).requires_grad_();  // (N, C)
    const torch::Tensor y = torch::randint(0, classes, {rows}, torch::kLong);
    for (int n : threads) {
      torch::set_num_threads(n);
      const auto step = [&] {
        logits.mutable_grad() = torch::Tensor();
        torch::nn::functional::cross_entropy(logits, y, options).backward();
      };
      for (double t : time_samples(step, 0.3, 5))
        std::printf("libtorch,%lld,%lld,%d,%.9g\n", static_cast<long long>(rows), static_cast<long long>(classes), n,
                    t);
      std::fflush(stdout);
    }
  }
}

// An IDX file's payload after its `header` bytes, as a uint8 tensor.
torch::Tensor read_idx(const std::string& path, std::size_t header) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto t = torch::empty({static_cast<int64_t>(bytes.size() - header)}, torch::kUInt8);
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end(), static_cast<char*>(t.data_ptr()));
  return t;
}

torch::nn::Sequential make_model(const std::string& kind) {
  namespace tn = torch::nn;
  if (kind == "mlp")
    return tn::Sequential(tn::Linear(784, 512), tn::ReLU(), tn::Linear(512, 256), tn::ReLU(), tn::Linear(256, 10));
  return tn::Sequential(tn::Conv2d(tn::Conv2dOptions(1, 6, 5).padding(2)), tn::ReLU(), tn::MaxPool2d(2),
                        tn::Conv2d(tn::Conv2dOptions(6, 16, 5)), tn::ReLU(), tn::MaxPool2d(2), tn::Flatten(),
                        tn::Linear(400, 120), tn::ReLU(), tn::Linear(120, 84), tn::ReLU(), tn::Linear(84, 10));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_kind = "mlp", data_dir = "data/mnist";
  std::vector<int> thread_counts = {2};
  int epochs = 2, passes = 3, seed = 0;
  bool loss = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--loss") {
      loss = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--model") {
      model_kind = value;
    } else if (flag == "--epochs") {
      epochs = std::stoi(value);
    } else if (flag == "--inference") {
      passes = std::stoi(value);
    } else if (flag == "--threads") {  // "2", or "1,2" with --loss
      thread_counts.clear();
      for (std::size_t at = 0; at < value.size();) {
        const std::size_t comma = std::min(value.find(',', at), value.size());
        thread_counts.push_back(std::stoi(value.substr(at, comma - at)));
        at = comma + 1;
      }
    } else if (flag == "--seed") {
      seed = std::stoi(value);
    } else if (flag == "--data-dir") {
      data_dir = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (loss) {
    bench_loss(thread_counts);
    return 0;
  }
  const int threads = thread_counts.front();
  torch::set_num_threads(threads);
  torch::manual_seed(seed);
  const bool cnn = model_kind == "cnn";
  const auto image_shape = [&](int64_t n) {
    return cnn ? std::vector<int64_t>{n, 1, 28, 28} : std::vector<int64_t>{n, 784};
  };
  const torch::Tensor train_images =
      read_idx(data_dir + "/train-images-idx3-ubyte", 16).view(image_shape(-1)).slice(0, 0, 55000);
  const torch::Tensor train_labels =
      read_idx(data_dir + "/train-labels-idx1-ubyte", 8).to(torch::kLong).slice(0, 0, 55000);
  const torch::Tensor test_images = read_idx(data_dir + "/t10k-images-idx3-ubyte", 16).view(image_shape(-1));
  const torch::Tensor test_labels = read_idx(data_dir + "/t10k-labels-idx1-ubyte", 8).to(torch::kLong);

  torch::nn::Sequential model = make_model(model_kind);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto smoothed = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1);
  const int64_t n = train_images.size(0);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto start = Clock::now();
    const torch::Tensor order = torch::randperm(n);
    double loss_sum = 0, nll_sum = 0;
    for (int64_t b = 0; b < n; b += 128) {
      const torch::Tensor idx = order.slice(0, b, std::min(b + 128, n));
      const torch::Tensor x = train_images.index_select(0, idx).to(torch::kFloat) / 255;  // (B, 784) or (B, 1, 28, 28)
      const torch::Tensor y = train_labels.index_select(0, idx);
      const torch::Tensor logits = model->forward(x);  // (B, K)
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, smoothed);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      torch::NoGradGuard no_grad;
      nll_sum += torch::nn::functional::cross_entropy(logits.detach(), y).item<double>();
    }
    std::printf("libtorch,%s_train,%d,%.6f\n", model_kind.c_str(), threads, seconds_since(start));
    std::fflush(stdout);
  }

  model->eval();
  double correct = 0;
  for (int pass = 0; pass < passes; ++pass) {
    torch::NoGradGuard no_grad;
    const auto start = Clock::now();
    correct = 0;
    for (int64_t b = 0; b < test_images.size(0); b += 1000) {
      const torch::Tensor x = test_images.slice(0, b, b + 1000).to(torch::kFloat) / 255;
      correct += model->forward(x).argmax(1).eq(test_labels.slice(0, b, b + 1000)).sum().item<double>();
    }
    std::printf("libtorch,%s_infer,%d,%.6f\n", model_kind.c_str(), threads, seconds_since(start));
    std::fflush(stdout);
  }
  if (passes > 0 && epochs > 0)
    std::printf("libtorch,%s_accuracy,%d,%.4f\n", model_kind.c_str(), threads,
                correct / static_cast<double>(test_images.size(0)));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("libtorch,%s_rss,%d,%.1f\n", model_kind.c_str(), threads, static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
}
