// examples/mnist/main.cpp — mnist_smoothing: experiments on how label smoothing changes
// confidence, calibration, distillation and robustness to label noise, on real MNIST (or
// Fashion-MNIST), each ending in a table, metrics.json, history.csv, SVG pictures and report.html.
//
//   mnist_smoothing                                  # calibration: MLP, Adam, ε ∈ {0, 0.1}, 5 epochs
//   mnist_smoothing --eps 0,0.05,0.1,0.2 --seeds 3   # calibration over more ε, mean ± std over 3 seeds
//   mnist_smoothing --experiment compare             # CE, LS, confidence penalty, focal, ± temperature scaling
//   mnist_smoothing --experiment distillation --quick
//   mpirun -np 2 mnist_smoothing --threads 1         # each run data-parallel on 2 processes
//   mpirun -np 4 mnist_smoothing --experiment sweep --parallel sweep   # the runs dealt out to 4 processes
//
// An experiment is a list of independent runs (experiments.hpp); this program plans it, prints an
// estimate of its time, executes the runs (or the --runs subset; runs finished elsewhere come from
// --load-runs) with a progress bar, and hands the finished runs to the report stage, which only
// gathers them.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "cli.hpp"
#include "experiments.hpp"
#include "parallel.hpp"
#include "report.hpp"
#include "run_file.hpp"

namespace {

using Clock = std::chrono::steady_clock;

using study::duration_text;

// What each run should cost, from a few timed batches of every model the plan trains: training
// images × epochs, plus evaluation (a forward pass, about a third of a training step) of the test
// set every epoch and of validation and test at the end; a student also runs its teacher forward
// on every batch.
struct Estimate {
  std::vector<double> seconds;  // per run
  std::map<std::string, double> per_image;
  double total() const {
    double sum = 0;
    for (const double s : seconds) sum += s;
    return sum;
  }
};

Estimate estimate(const study::Experiment& experiment, const std::vector<std::size_t>& chosen, const study::Data& data,
                  int batch_size) {
  Estimate out;
  for (const std::size_t i : chosen) {
    const study::RunSpec& spec = experiment.runs[i];
    for (const study::RunSpec* s = &spec; s; s = s->teacher.get())
      if (!out.per_image.count(s->training.model))
        out.per_image[s->training.model] = study::seconds_per_training_image(s->training.model, data, batch_size);
  }
  const auto images = [](const humble::data::Dataset& d) { return static_cast<double>(d.size()); };
  for (const std::size_t i : chosen) {
    const study::RunSpec& spec = experiment.runs[i];
    const double per_image = out.per_image.at(spec.training.model);
    double seconds = spec.training.epochs * (images(data.train) + images(data.test) / 3) * per_image +
                     (images(data.validation) + images(data.test)) / 3 * per_image;
    if (spec.teacher)
      seconds += spec.training.epochs * images(data.train) / 3 * out.per_image.at(spec.teacher->training.model);
    out.seconds.push_back(seconds);
  }
  return out;
}

// The progress over runs: on a terminal one bar redrawn after every batch, elsewhere one line per
// finished run. The time left is the estimate of the work to come, scaled by how long the work done
// so far took against its estimate.
// In a job of several processes, `tag` starts each line ("[rank 1/2] "), and a process that is
// not `speaking` (one sharing rank 0's runs) prints nothing; only rank 0 draws the bar.
class RunProgress {
 public:
  RunProgress(const Estimate& estimate, int epochs, std::string tag, bool speaking, bool bar)
      : estimate_(estimate),
        epochs_(epochs),
        start_(Clock::now()),
        tty_(bar && isatty(STDERR_FILENO)),
        tag_(std::move(tag)),
        speaking_(speaking) {}

  study::Progress for_run(std::size_t k, const std::string& label) {
    current_ = k;
    label_ = label;
    if (!tty_) return {};
    return [this](int epoch, int64_t batch, int64_t batches, double loss, double) {
      if (batch % 10 != 0 && batch != batches) return;
      draw((epoch - 1 + static_cast<double>(batch) / static_cast<double>(batches)) / epochs_, epoch, loss);
    };
  }

  void finished(const study::Run& run, std::size_t k) {
    done_estimate_ += estimate_.seconds[k];
    const double elapsed = seconds();
    if (tty_) std::fprintf(stderr, "\r\033[K");
    if (!speaking_) return;
    std::printf("%s[%zu/%zu] %-48s acc %.4f  NLL %.4f  ECE %.4f  %5.1fs  (elapsed %s, left ~%s)\n", tag_.c_str(), k + 1,
                estimate_.seconds.size(), label_.c_str(), run.test.accuracy, run.test.nll, run.test.ece, run.seconds,
                duration_text(elapsed).c_str(), duration_text(left(done_estimate_)).c_str());
    std::fflush(stdout);
  }

  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  // `done`: the estimated seconds of the work finished so far.
  double left(double done) const {
    const double speed = done > 0 ? seconds() / done : 1.0;
    return (estimate_.total() - done) * speed;
  }

  void draw(double current_share, int epoch, double loss) const {  // current_share: of the current run, in [0, 1]
    const std::size_t total = estimate_.seconds.size();
    const double share = (static_cast<double>(current_) + current_share) / static_cast<double>(total);
    const int width = 30, filled = static_cast<int>(width * std::min(share, 1.0));
    const double done = done_estimate_ + current_share * estimate_.seconds[current_];
    std::fprintf(stderr, "\r  runs [%.*s%*s] %zu/%zu  %s, left ~%s | %s epoch %d loss %.4f\033[K", filled,
                 "##############################", width - filled, "", current_ + 1, total,
                 duration_text(seconds()).c_str(), duration_text(left(done)).c_str(), label_.c_str(), epoch, loss);
  }

  const Estimate& estimate_;
  int epochs_;
  Clock::time_point start_;
  bool tty_;
  std::string tag_;
  bool speaking_;
  std::size_t current_ = 0;
  std::string label_;
  double done_estimate_ = 0;
};

std::string command_line(int argc, char** argv) {
  std::string out = "mnist_smoothing";
  for (int i = 1; i < argc; ++i) out += std::string(" ") + argv[i];
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  humble::run_on_best_blas_kernels(argv);
  const study::CommandLine parsed = study::parse_command_line(argc, argv);
  if (!parsed.config) {
    std::fputs(parsed.message.c_str(), parsed.exit_status == 0 ? stdout : stderr);
    return parsed.exit_status;
  }
  study::Config config = *parsed.config;
  const bool parallel_given = parsed.parallel_given;

  return study::run_job([&](study::Job& job) {
    if (!parallel_given && job.size() > 1) config.parallel = "data";
    if (!job.supports(config.parallel))
      throw humble::ValueError("[mnist_smoothing] --parallel " + config.parallel + " with " +
                               std::to_string(job.size()) +
                               " process(es): " + (job.size() > 1 ? "use data or sweep" : "this build has no MPI"));
    config.world_size = job.size();
    const bool root = job.is_root(), sweep = config.parallel == "sweep";
    config = study::with_defaults(config, parsed.given);
    const study::Experiment experiment = study::plan(config);
    if (parsed.list_runs) {
      for (std::size_t i = 0; i < experiment.runs.size() && root; ++i)
        std::printf("%zu %s\n", i, experiment.runs[i].key().c_str());
      return 0;
    }
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < experiment.runs.size(); ++i)
      if (config.only_runs.empty() ||
          std::find(config.only_runs.begin(), config.only_runs.end(), static_cast<int>(i)) != config.only_runs.end())
        chosen.push_back(i);
    for (const int i : config.only_runs)
      if (static_cast<std::size_t>(i) >= experiment.runs.size())
        throw humble::ValueError("[mnist_smoothing] --runs " + std::to_string(i) + " is not a run of the plan (0 to " +
                                 std::to_string(experiment.runs.size() - 1) + ")");

    const std::filesystem::path out(config.out);
    if (root) study::prepare_output_dir(out);  // a bad --out fails now, not after training
    humble::set_num_threads(config.threads);
    const study::Data data = study::load_data(config);
    if (root) {
      std::printf(
          "mnist_smoothing: experiment %s on %s, %s, %s lr %g, %d epoch%s, %s, %lld training / %lld validation / "
          "%lld test images, %d seed%s%s\n",
          config.experiment.c_str(), config.dataset.c_str(), config.model.c_str(), config.optimizer.c_str(), config.lr,
          config.epochs, config.epochs > 1 ? "s" : "",
          config.reference_loss ? "loss by the reference path" : "fused loss kernel",
          static_cast<long long>(data.train.size()), static_cast<long long>(data.validation.size()),
          static_cast<long long>(data.test.size()), config.seeds, config.seeds > 1 ? "s" : "",
          job.size() > 1 ? (", " + std::to_string(job.size()) + " processes, --parallel " + config.parallel).c_str()
                         : "");
      const humble::BlasInfo blas = humble::blas_info();
      const std::string picked = blas.replaced.empty() ? "" : " (OpenBLAS had picked " + blas.replaced + ")";
      std::printf("BLAS: %s %s, %s kernels%s, %d threads\n", blas.vendor.c_str(), blas.version.c_str(),
                  blas.kernels.c_str(), picked.c_str(), blas.threads);
    }
    // Runs finished elsewhere come from files; the others are executed here (or, in a sweep, by the
    // process each is dealt to).
    std::vector<std::optional<study::Run>> runs(experiment.runs.size());
    std::vector<std::size_t> to_execute;
    for (const std::size_t i : chosen) {
      if (!config.load_runs.empty())
        runs[i] = study::load_run(study::run_file(config.load_runs, i), experiment.runs[i]);
      if (!runs[i]) to_execute.push_back(i);
    }
    if (to_execute.size() < chosen.size() && root)
      std::printf("loaded %zu finished runs from %s/\n", chosen.size() - to_execute.size(), config.load_runs.c_str());
    const Estimate cost = estimate(experiment, to_execute, data, config.batch_size);
    if (root) {
      std::string speeds;
      for (const auto& [model, seconds] : cost.per_image)
        speeds +=
            (speeds.empty() ? "" : ", ") + model + " " + std::to_string(static_cast<long>(1 / seconds)) + " img/s";
      const std::string where =
          sweep ? "on " + std::to_string(job.size()) + (job.size() > 1 ? " processes" : " process") : "here";
      std::printf("plan: %zu runs in %zu groups, %zu to execute %s", experiment.runs.size(), experiment.groups.size(),
                  to_execute.size(), where.c_str());
      if (!to_execute.empty())
        std::printf(
            "; estimated %s (training speed measured just now: %s; other work on this machine makes the real "
            "time differ)",
            duration_text(cost.total()).c_str(), speeds.c_str());
      std::printf("\n");
      std::fflush(stdout);
    }

    // In a sweep every process deals the runs out alike, from rank 0's estimate, and executes its own.
    Estimate mine = cost;
    std::vector<std::size_t> executed_here = to_execute;
    if (sweep) {
      const std::vector<int> owner =
          study::deal_runs(experiment.runs, to_execute, job.from_root(cost.seconds), job.size());
      mine.seconds.clear();
      executed_here.clear();
      for (std::size_t k = 0; k < to_execute.size(); ++k)
        if (owner[k] == job.rank()) {
          executed_here.push_back(to_execute[k]);
          mine.seconds.push_back(cost.seconds[k]);
        }
    }
    const std::unique_ptr<study::Sharing> sharing =
        config.parallel == "data" ? job.share_runs() : std::make_unique<study::Sharing>();
    std::optional<humble::DetectAnomalyGuard> anomaly_mode;  // every op's output and input gradient checked
    if (config.detect_anomaly) {
      anomaly_mode.emplace();
      if (root) std::printf("mnist_smoothing: anomaly mode: the first NaN or Inf stops the run, naming the op\n");
    }
    study::Teachers teachers(experiment.runs);
    RunProgress progress(mine, config.epochs, sweep ? job.tag() : "", root || sweep, root);
    if (root && !config.save_runs.empty()) std::filesystem::create_directories(config.save_runs);
    std::string finished_here;  // a sweep's runs for rank 0: "<index> <run_text>" lines
    for (std::size_t k = 0; k < executed_here.size(); ++k) {
      const std::size_t i = executed_here[k];
      const std::string label = [&] {
        for (const study::Group& g : experiment.groups)
          if (!g.scaled && std::find(g.runs.begin(), g.runs.end(), i) != g.runs.end())
            return g.label + " seed " + std::to_string(experiment.runs[i].seed);
        return experiment.runs[i].key();
      }();
      runs[i] = study::execute(experiment.runs[i], data, teachers, progress.for_run(k, label), *sharing);
      if (config.experiment == "calibration" && (root || sweep))
        for (const study::EpochRecord& e : runs[i]->history)
          std::printf("%s%s epoch %d  train loss %.4f (floor %.4f)  test acc %.4f  NLL %.4f  conf %.4f  %.1fs\n",
                      sweep ? job.tag().c_str() : "", label.c_str(), e.epoch, e.train_loss, e.loss_floor,
                      e.test_accuracy, e.test_nll, e.test_mean_confidence, e.seconds);
      progress.finished(*runs[i], k);
      if (root && !config.save_runs.empty()) study::save_run(*runs[i], study::run_file(config.save_runs, i));
      if (sweep) finished_here += std::to_string(i) + " " + study::run_text(*runs[i]) + "\n";
    }
    if (sweep) {
      const std::vector<std::string> parts = job.gather(finished_here);
      for (std::size_t r = 0; r < parts.size(); ++r) {
        std::istringstream lines(parts[r]);
        for (std::string line; std::getline(lines, line);) {
          const std::size_t i = std::stoul(line.substr(0, line.find(' ')));
          runs.at(i) = study::run_from_text(line.substr(line.find(' ') + 1), experiment.runs.at(i),
                                            "the run rank " + std::to_string(r) + " sent");
          if (r > 0 && !config.save_runs.empty()) study::save_run(*runs[i], study::run_file(config.save_runs, i));
        }
      }
    }
    if (!root) return 0;

    const std::vector<study::Summary> summaries = study::summarize(experiment, runs, config);
    std::vector<std::string> files;
    const study::Context ctx{.config = config,
                             .experiment = experiment,
                             .summaries = summaries,
                             .class_names = data.class_names,
                             .out = out,
                             .files = &files};
    const double wall = progress.seconds();
    if (config.only_runs.empty()) {
      const study::ExperimentReport report = study::experiment_report(ctx);
      std::printf("%s", report.console.c_str());
      study::write_report_html(ctx, report, wall, command_line(argc, argv));
    } else {  // a part of the plan: its groups' numbers, without the experiment's pictures and text
      std::printf("%s", study::console_rows(study::all_rows(summaries), {"test_accuracy", "test_nll", "ece"}).c_str());
    }
    study::write_metrics_json(ctx, wall);
    study::write_history_csv(ctx);
    if (config.profile) {  // the runs executed here (a loaded run, or one another process ran, has no profile)
      std::vector<const study::Run*> profiled;
      humble::profile::Report total;
      for (const std::size_t i : executed_here) {
        profiled.push_back(&*runs[i]);
        total += runs[i]->profile;
      }
      std::printf("\n%s", total.table().c_str());
      study::write_profile_json(profiled, out / "profile.json");
      files.push_back("profile.json");
    }
    std::printf("\nwrote %zu files to %s/ in %s:", files.size(), config.out.c_str(), duration_text(wall).c_str());
    for (const std::string& file : files) std::printf(" %s", file.c_str());
    std::printf("\n");
    return 0;
  });
}
