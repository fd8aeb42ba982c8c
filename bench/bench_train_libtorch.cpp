// bench/bench_train_libtorch.cpp — the job of bench_train.cpp in libtorch (Debian libtorch-dev).
//
// Same models, optimizer, loss, batches, NLL logging and inference as bench_train.cpp and
// bench_train_torch.py; threads via torch::set_num_threads(n) (run with OMP_WAIT_POLICY=PASSIVE,
// as bench/run does). Output lines as bench_train.cpp, with impl `libtorch`.
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

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

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
  int epochs = 2, threads = 2, passes = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") model_kind = value;
    else if (flag == "--epochs") epochs = std::stoi(value);
    else if (flag == "--inference") passes = std::stoi(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--data-dir") data_dir = value;
    else throw std::invalid_argument("unknown flag " + flag);
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const bool cnn = model_kind == "cnn";
  const auto image_shape = [&](int64_t n) { return cnn ? std::vector<int64_t>{n, 1, 28, 28} : std::vector<int64_t>{n, 784}; };
  const torch::Tensor train_images = read_idx(data_dir + "/train-images-idx3-ubyte", 16).view(image_shape(-1)).slice(0, 0, 55000);
  const torch::Tensor train_labels = read_idx(data_dir + "/train-labels-idx1-ubyte", 8).to(torch::kLong).slice(0, 0, 55000);
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
