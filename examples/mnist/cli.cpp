// examples/mnist/cli.cpp — mnist_smoothing's flags (CLI11), with strict number checks.
#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <limits>

namespace study {
namespace {

// The whole of `text` as a T, or nothing ("12abc", "", "-1" for unsigned, "1e999" all fail).
template <class T>
std::optional<T> parse_whole(const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string in_quotes(const std::string& text) { return "'" + text + "'"; }

// "" when `text` is a finite number in [lo, hi] (or (lo, hi] with open_low), else what is wrong.
std::string number_error(const std::string& text, double lo, double hi, bool open_low) {
  const std::optional<double> value = parse_whole<double>(text);
  if (value && std::isfinite(*value) && (open_low ? *value > lo : *value >= lo) && *value <= hi) return "";
  const std::string range =
      hi == std::numeric_limits<double>::max()
          ? std::string(open_low ? "> " : ">= ") + humble::exact(lo)
          : std::string(open_low ? "in (" : "in [") + humble::exact(lo) + ", " + humble::exact(hi) + "]";
  return "expected a finite number " + range + ", got " + in_quotes(text);
}

// The validators also rewrite a good value in its plain decimal form, which is how CLI11 then reads
// it (CLI11 itself would read "010" as octal 8 and "0x10" as 16).
CLI::Validator finite_number(double lo, double hi, bool open_low = false) {
  return CLI::Validator(
      [=](std::string& text) {
        std::string error = number_error(text, lo, hi, open_low);
        if (error.empty()) text = humble::exact(*parse_whole<double>(text));
        return error;
      },
      "NUMBER");
}

template <class T>
CLI::Validator integer(T lo, T hi) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const std::optional<T> value = parse_whole<T>(text);
        if (!value || *value < lo || *value > hi)
          return "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                 in_quotes(text);
        text = std::to_string(*value);
        return "";
      },
      "INTEGER");
}

// "0,0.1,0.2": every item a number in [0, 1], none empty.
CLI::Validator smoothing_list() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t begin = 0, item = 1;
        for (;; ++item) {
          const std::size_t end = std::min(text.find(',', begin), text.size());
          const std::string piece = text.substr(begin, end - begin);
          if (piece.empty()) return "item " + std::to_string(item) + " of " + in_quotes(text) + " is empty";
          if (std::string error = number_error(piece, 0, 1, false); !error.empty())
            return "item " + std::to_string(item) + ": " + error;
          if (end == text.size()) return "";
          begin = end + 1;
        }
      },
      "EPS,...");
}

std::vector<double> numbers_of(const std::string& list) {
  std::vector<double> out;
  for (std::size_t begin = 0; begin <= list.size();) {
    const std::size_t end = std::min(list.find(',', begin), list.size());
    out.push_back(*parse_whole<double>(list.substr(begin, end - begin)));
    begin = end + 1;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& experiment_names() {
  static const std::vector<std::string> names = {"calibration", "compare", "sweep", "distillation", "label-noise"};
  return names;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  Config config;
  CommandLine result;
  std::string eps = "0,0.1";
  CLI::App app{
      "mnist_smoothing: how label smoothing changes confidence, calibration, distillation and robustness "
      "to label noise"};
  app.add_option("--experiment", config.experiment,
                 "calibration (default), compare, sweep, distillation or label-noise")
      ->check(CLI::IsMember(experiment_names()));
  app.add_flag("--quick", config.quick,
               "the CI-sized variant: 10,000 training images, 1 epoch (2 for distillation), 2 seeds");
  app.add_option("--dataset", config.dataset, "mnist or fashion")->check(CLI::IsMember({"mnist", "fashion"}));
  app.add_option("--data-dir", config.data_dir, "folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--model", config.model, "mlp (784-512-256-10) or cnn (LeNet-style)")
      ->check(CLI::IsMember({"mlp", "cnn"}));
  auto* epochs = app.add_option("--epochs", config.epochs, "training epochs")->transform(integer(1, 1000));
  app.add_option("--batch-size", config.batch_size, "batch size")->transform(integer(1, 60000));
  app.add_option("--optimizer", config.optimizer, "sgd (momentum 0.9), adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  app.add_option("--lr", config.lr, "learning rate")
      ->transform(finite_number(0, std::numeric_limits<double>::max(), true));
  auto* eps_option =
      app.add_option("--eps", eps, "label smoothing values in [0, 1], comma separated (calibration and sweep)")
          ->check(smoothing_list());
  app.add_option("--eps-schedule", config.eps_schedule,
                 "one more smoothed configuration whose eps follows a schedule over the steps: E, linear:A:B or "
                 "cosine:A:B (e.g. linear:0.2:0)")
      ->check([](const std::string& text) {
        try {
          humble::losses::SmoothingSchedule::parse(text);
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      });
  app.add_option("--loss", config.loss, "calibration only: ce (label-smoothed), confidence-penalty or focal")
      ->check(CLI::IsMember({"ce", "confidence-penalty", "focal"}));
  app.add_flag("--reference-loss", config.reference_loss,
               "train with cross_entropy_reference, the readable loss path (same science, slower)");
  app.add_flag("--detect-anomaly", config.detect_anomaly,
               "anomaly mode: stop at the first op whose output or input gradient is NaN or Inf, naming it");
  app.add_option("--seed", config.seed, "first random seed")
      ->transform(integer<uint64_t>(0, std::numeric_limits<uint64_t>::max()));
  auto* seeds = app.add_option("--seeds", config.seeds, "repeat with seeds seed..seed+K-1 and report mean ± std")
                    ->transform(integer(1, 100));
  app.add_option("--threads", config.threads, "threads for OpenBLAS and oneTBB")->transform(integer(1, 256));
  auto* limit = app.add_option("--train-limit", config.train_limit, "train on the first N images only (0 = all)")
                    ->transform(integer<int64_t>(0, std::numeric_limits<int64_t>::max()));
  app.add_option("--bootstrap", config.bootstrap_resamples, "bootstrap resamples of the test set for the intervals")
      ->transform(integer<int64_t>(1000, 100000));
  app.add_option("--runs", config.only_runs,
                 "execute only these runs of the plan (0-based, comma separated; see --list-runs) and write the "
                 "metrics of the groups they complete (no report.html)")
      ->delimiter(',')
      ->transform(integer(0, std::numeric_limits<int>::max()));
  app.add_flag("--list-runs", result.list_runs, "print the experiment's runs, one line each, and exit");
  app.add_option("--save-runs", config.save_runs, "write every executed run to DIR/run-<index>.json");
  app.add_option("--load-runs", config.load_runs,
                 "take the runs found in DIR (written by --save-runs for the same plan) instead of executing them");
  app.add_option("--out", config.out, "output folder (created if missing; checked before training)");
  app.add_flag("--profile", config.profile, "record where the training time goes: OUT/profile.json and a table");
  auto* parallel = app.add_option("--parallel", config.parallel,
                                  "under mpirun: data (every run on all processes; the default there) or sweep (the "
                                  "runs dealt out)")
                       ->check(CLI::IsMember({"none", "data", "sweep"}));

  try {
    app.parse(argc, argv);
    config.eps = numbers_of(eps);
    if (config.seed > std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(config.seeds - 1))
      throw CLI::ValidationError("--seeds", "seed " + std::to_string(config.seed) + " plus " +
                                                std::to_string(config.seeds - 1) + " more seeds pass 2^64 - 1");
    if (config.out.empty()) throw CLI::ValidationError("--out", "expected a folder, got ''");
    result.given = {.epochs = epochs->count() > 0,
                    .seeds = seeds->count() > 0,
                    .eps = eps_option->count() > 0,
                    .train_limit = limit->count() > 0};
    result.parallel_given = parallel->count() > 0;
    result.config = config;
  } catch (const CLI::CallForHelp&) {
    result.message = app.help();
  } catch (const CLI::ParseError& e) {
    result.exit_status = e.get_exit_code();
    result.message = std::string(e.what()) + "\nRun with --help for more information.\n";
  }
  return result;
}

}  // namespace study
