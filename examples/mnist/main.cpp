// examples/mnist/main.cpp — mnist_smoothing: train one model per ε on real MNIST (or
// Fashion-MNIST) and show, in a table, metrics.json, history.csv and SVG pictures, how label
// smoothing changes confidence and calibration.
//
//   mnist_smoothing                                  # MNIST, MLP, Adam, ε ∈ {0, 0.1}, 5 epochs
//   mnist_smoothing --eps 0,0.05,0.1,0.2 --seeds 3   # a sweep, mean ± std over 3 seeds
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "report.hpp"
#include "study.hpp"

namespace {

// A progress bar on a terminal; nothing per batch otherwise (one line per epoch is printed).
study::Progress progress_bar(double eps) {
  if (!isatty(STDERR_FILENO)) return {};
  return [eps](int epoch, int64_t batch, int64_t batches, double loss, double images_per_second) {
    if (batch % 10 != 0 && batch != batches) return;
    const int width = 30, filled = static_cast<int>(width * batch / batches);
    const double eta = (batches - batch) * (static_cast<double>(batch) / batches > 0 ? 1.0 : 0.0) *
                       (images_per_second > 0 ? 128.0 / images_per_second : 0.0);
    std::fprintf(stderr, "\r  eps %-5g epoch %d [%.*s%*s] %4lld/%lld  loss %.4f  %6.0f img/s  ETA %4.1fs", eps, epoch,
                 filled, "##############################", width - filled, "", static_cast<long long>(batch),
                 static_cast<long long>(batches), loss, images_per_second, eta);
    if (batch == batches) std::fprintf(stderr, "\r\033[K");
  };
}

}  // namespace

int main(int argc, char** argv) {
  humble::run_on_best_blas_kernels(argv);
  study::Config config;
  CLI::App app{"mnist_smoothing: how label smoothing changes confidence and calibration"};
  app.add_option("--dataset", config.dataset, "mnist or fashion")->check(CLI::IsMember({"mnist", "fashion"}));
  app.add_option("--data-dir", config.data_dir, "folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--model", config.model, "mlp (784-512-256-10) or cnn (LeNet-style)")
      ->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", config.epochs, "training epochs")->check(CLI::Range(1, 1000));
  app.add_option("--batch-size", config.batch_size, "batch size")->check(CLI::Range(1, 60000));
  app.add_option("--optimizer", config.optimizer, "sgd (momentum 0.9), adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  app.add_option("--lr", config.lr, "learning rate")->check(CLI::PositiveNumber);
  app.add_option("--eps", config.eps, "label smoothing values, comma separated (a sweep)")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--loss", config.loss, "ce (label-smoothed), confidence-penalty or focal")
      ->check(CLI::IsMember({"ce", "confidence-penalty", "focal"}));
  app.add_flag("--reference-loss", config.reference_loss,
               "train with cross_entropy_reference, the readable loss path (same science, slower)");
  app.add_option("--seed", config.seed, "first random seed");
  app.add_option("--seeds", config.seeds, "repeat with seeds seed..seed+K-1 and report mean ± std")
      ->check(CLI::Range(1, 100));
  app.add_option("--threads", config.threads, "threads for OpenBLAS and oneTBB")->check(CLI::Range(1, 256));
  app.add_option("--train-limit", config.train_limit, "train on the first N images only (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--out", config.out, "output folder");
  app.add_flag("--profile", config.profile, "record where the training time goes: OUT/profile.json and a table");
  CLI11_PARSE(app, argc, argv);

  try {
    humble::set_num_threads(config.threads);
    const study::Data data = study::load_data(config);
    std::printf(
        "mnist_smoothing: %s, %s, %s lr %g, %d epochs, %s, %lld training / %lld validation / %lld test images\n",
        config.dataset.c_str(), config.model.c_str(), config.optimizer.c_str(), config.lr, config.epochs,
        config.reference_loss ? "loss by the reference path" : "fused loss kernel",
        static_cast<long long>(data.train.size()), static_cast<long long>(data.validation.size()),
        static_cast<long long>(data.test.size()));
    const humble::BlasInfo blas = humble::blas_info();
    const std::string picked = blas.replaced.empty() ? "" : " (OpenBLAS had picked " + blas.replaced + ")";
    std::printf("BLAS: %s %s, %s kernels%s, %d threads\n", blas.vendor.c_str(), blas.version.c_str(),
                blas.kernels.c_str(), picked.c_str(), blas.threads);
    std::vector<std::vector<study::Run>> groups;
    for (double eps : config.eps) {
      auto& runs = groups.emplace_back();
      for (int k = 0; k < config.seeds; ++k) {
        const uint64_t seed = config.seed + static_cast<uint64_t>(k);
        runs.push_back(study::train_and_measure(config, data, eps, seed, progress_bar(eps)));
        for (const study::EpochRecord& e : runs.back().history)
          std::printf(
              "eps %-5g seed %llu epoch %d  train loss %.4f (floor %.4f)  test acc %.4f  NLL %.4f  conf %.4f  %.1fs\n",
              eps, static_cast<unsigned long long>(seed), e.epoch, e.train_loss, e.loss_floor, e.test_accuracy,
              e.test_nll, e.test_mean_confidence, e.seconds);
        std::fflush(stdout);
      }
    }
    const std::string table = study::format_table(groups);
    std::printf("%s", table.c_str());

    const std::filesystem::path out(config.out);
    std::filesystem::create_directories(out);
    study::write_metrics_json(config, groups, out / "metrics.json");
    study::write_history_csv(groups, out / "history.csv");
    const auto pictures = study::write_pictures(config, groups, out);
    study::write_report_html(config, pictures, table, out / "report.html");
    if (config.profile) {
      humble::profile::Report total;
      for (const auto& runs : groups)
        for (const study::Run& r : runs) total += r.profile;
      std::printf("\n%s", total.table().c_str());
      study::write_profile_json(groups, out / "profile.json");
    }
    std::printf("\nwrote %s/{metrics.json, history.csv, report.html} and %zu pictures\n", config.out.c_str(),
                pictures.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_smoothing: %s\n", e.what());
    return 1;
  }
  return 0;
}
