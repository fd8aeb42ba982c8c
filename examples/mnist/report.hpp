// examples/mnist/report.hpp — the report stage: it only gathers finished runs.
//
// summarize() turns an experiment's runs into one Summary per group: every metric's mean ± std
// over the seeds and, from the bootstrap (metrics/statistics.hpp), 95 % intervals over the test
// rows of the seed-mean accuracy, NLL and ECE — and of its difference from the group's baseline,
// paired (every group is recomputed on the same resamples of the same test rows). Then each
// experiment writes its console table and the sections of report.html (experiment_report), and
// the shared writers put out metrics.json, history.csv and report.html.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments.hpp"

namespace study {

// One metric of a run: its metrics.json key, its table label, how to read it. `scaled` asks for
// the predictions after temperature scaling; the *_after_temperature metrics exist only for
// groups read before it (raw_only).
struct Metric {
  const char* key;
  const char* label;
  std::function<double(const Run&, bool scaled)> read;
  bool raw_only = false;
};
const std::vector<Metric>& all_metrics();  // in metrics.json order
const Metric& metric(const std::string& key);

struct Summary {
  const Group* group = nullptr;
  std::vector<const Run*> runs{};  // one per seed
  humble::metrics::Interval accuracy_ci{}, nll_ci{}, ece_ci{};
  std::optional<humble::metrics::Interval> accuracy_diff_ci{}, nll_diff_ci{}, ece_diff_ci{};  // minus the baseline's
  const Summary* baseline = nullptr;

  std::vector<double> values(const std::string& key) const;  // one per seed
  humble::metrics::MeanStd stat(const std::string& key) const;
  double mean(const std::string& key) const { return stat(key).mean; }
  const RunSpec& spec() const { return runs.front()->spec; }
};

// The bootstrap interval of test_accuracy, test_error, test_nll or ece — of the group's level, or
// (difference) of its paired difference from the baseline, nullopt without one.
std::optional<humble::metrics::Interval> interval_of(const Summary& s, const std::string& key, bool difference);

// `runs` is indexed like experiment.runs; a missing run (not executed here) drops its groups.
std::vector<Summary> summarize(const Experiment& experiment, const std::vector<std::optional<Run>>& runs,
                               const Config& config);

// --- writing ---------------------------------------------------------------------------------

// One section of report.html: it opens with what to look for, what the literature found and
// whether this run agrees (HTML sentences written from the run's numbers), then its body.
struct Section {
  std::string title{};
  std::string look_for{}, literature{}, this_run{};
  std::string body{};  // tables, figures, notes (HTML)
};

struct Context {
  const Config& config;
  const Experiment& experiment;
  const std::vector<Summary>& summaries;
  const std::vector<std::string>& class_names;
  std::filesystem::path out;
  std::vector<std::string>* files;  // every file written, for the closing line
};

struct ExperimentReport {
  std::string console;  // the table printed at the end of the run
  std::vector<Section> sections;
};
// Writes the experiment's pictures into ctx.out and returns its table and sections.
ExperimentReport experiment_report(const Context& ctx);

void write_metrics_json(const Context& ctx, double wall_seconds);
void write_history_csv(const Context& ctx);
// OUT/profile.json for --profile: the executed runs' profiles together, with their mean epoch time.
void write_profile_json(const std::vector<const Run*>& runs, const std::filesystem::path& path);
void write_report_html(const Context& ctx, const ExperimentReport& report, double wall_seconds,
                       const std::string& command);

// --- pieces the experiments share (report.cpp) -------------------------------------------------

void write_file(const std::filesystem::path& path, const std::string& text);  // atomic
// Creates `dir` (and its parents) when missing and checks that files can be written into it, so
// that a bad --out fails before training, not after.
void prepare_output_dir(const std::filesystem::path& dir);
void save_figure(const Context& ctx, const humble::plot::Figure& figure, const std::string& name);
std::string figure_html(const std::string& file, const std::string& caption);

std::string fixed(double value, int decimals = 4);
std::string duration_text(double seconds);                 // "42 s", "7 min 05 s"
std::string percent(double share, int decimals = 2);       // 0.0123 → "1.23 %"
std::string signed_fixed(double value, int decimals = 4);  // "+0.0950", "-0.0012"
std::string interval_text(const humble::metrics::Interval& interval, int decimals = 4);
std::string mean_std_text(const humble::metrics::MeanStd& s, int decimals = 4);
std::string html_escape(const std::string& text);
std::string cite(const std::string& key);  // "(Müller et al. 2019)" linking to the reference list

// A table of one row per summary: a label column, then per key "mean ± std", plus the bootstrap
// intervals (and paired differences from the baseline) when asked.
struct TableOptions {
  bool intervals = true;     // accuracy, NLL, ECE [95 % CI]
  bool differences = false;  // Δ from the baseline [95 % CI], for the same three
};
std::string console_rows(const std::vector<const Summary*>& rows, const std::vector<std::string>& keys,
                         const TableOptions& options = {});
std::string html_rows(const std::vector<const Summary*>& rows, const std::vector<std::string>& keys,
                      const TableOptions& options = {});
std::vector<const Summary*> all_rows(const std::vector<Summary>& summaries);

}  // namespace study
