// examples/mnist/report.cpp — summaries with bootstrap intervals, the shared writers
// (metrics.json, history.csv, report.html) and the table and text helpers every experiment's
// report uses (contracts in report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sections.hpp"

namespace study {

using humble::metrics::Interval;
using humble::metrics::MeanStd;

namespace {

const humble::metrics::CalibrationReport& report_of(const Run& r, bool scaled) {
  return scaled ? r.test_scaled : r.test;
}

}  // namespace

const std::vector<Metric>& all_metrics() {
  using R = const Run&;
  static const std::vector<Metric> metrics = {
      {"test_accuracy", "accuracy", [](R r, bool s) { return report_of(r, s).accuracy; }},
      {"test_nll", "NLL (hard labels)", [](R r, bool s) { return report_of(r, s).nll; }},
      {"ece", "ECE (15 bins)", [](R r, bool s) { return report_of(r, s).ece; }},
      {"adaptive_ece", "adaptive ECE", [](R r, bool s) { return report_of(r, s).adaptive_ece; }},
      {"mce", "MCE", [](R r, bool s) { return report_of(r, s).mce; }},
      {"brier", "Brier score", [](R r, bool s) { return report_of(r, s).brier; }},
      {"signed_gap", "confidence - accuracy", [](R r, bool s) { return report_of(r, s).signed_gap; }},
      {"mean_confidence", "mean confidence", [](R r, bool s) { return report_of(r, s).mean_confidence; }},
      {"mean_confidence_correct", "  on correct", [](R r, bool s) { return report_of(r, s).mean_confidence_correct; }},
      {"mean_confidence_wrong", "  on wrong", [](R r, bool s) { return report_of(r, s).mean_confidence_wrong; }},
      {"frac_confidence_above_0_99", "share conf > 0.99",
       [](R r, bool s) { return report_of(r, s).frac_confidence_above_0_99; }},
      {"mean_logit_gap", "mean logit gap", [](R r, bool s) { return report_of(r, s).mean_logit_gap; }},
      {"optimal_logit_gap", "  optimal gap log(1+C(1-e)/e)", [](R r, bool) { return r.optimal_logit_gap; }},
      {"temperature", "fitted temperature T", [](R r, bool) { return r.temperature; }},
      {"test_nll_after_temperature", "NLL after T", [](R r, bool) { return r.test_scaled.nll; }, true},
      {"ece_after_temperature", "ECE after T", [](R r, bool) { return r.test_scaled.ece; }, true},
      {"adaptive_ece_after_temperature", "adaptive ECE after T", [](R r, bool) { return r.test_scaled.adaptive_ece; },
       true},
      {"mce_after_temperature", "MCE after T", [](R r, bool) { return r.test_scaled.mce; }, true},
      {"brier_after_temperature", "Brier after T", [](R r, bool) { return r.test_scaled.brier; }, true},
      {"signed_gap_after_temperature", "conf - acc after T", [](R r, bool) { return r.test_scaled.signed_gap; }, true},
      {"mean_confidence_after_temperature", "mean confidence after T",
       [](R r, bool) { return r.test_scaled.mean_confidence; }, true},
      {"frac_confidence_above_0_99_after_temperature", "share > 0.99 after T",
       [](R r, bool) { return r.test_scaled.frac_confidence_above_0_99; }, true},
      {"seconds_per_epoch", "seconds per epoch", [](R r, bool) { return r.seconds_per_epoch; }},
      {"test_error", "test error", [](R r, bool s) { return 1.0 - report_of(r, s).accuracy; }},
      {"max_confidence", "  confidence ceiling 1-e+e/C",
       [](R r, bool) { return r.spec.loss == "ce" ? humble::losses::max_confidence(10, r.spec.final_eps()) : 1.0; }},
      {"cluster_tightness", "penultimate spread/distance", [](R r, bool) { return r.clusters.ratio; }},
      {"within_class_spread", "  within-class spread", [](R r, bool) { return r.clusters.within_class_spread; }},
      {"between_class_distance", "  between-class distance",
       [](R r, bool) { return r.clusters.between_class_distance; }},
      {"wrong_class_entropy", "wrong-class entropy (1 = alike)", [](R r, bool) { return r.wrong_class_entropy; }},
      {"flipped_label_share", "training labels flipped", [](R r, bool) { return r.flipped_share; }},
  };
  return metrics;
}

const Metric& metric(const std::string& key) {
  for (const Metric& m : all_metrics())
    if (key == m.key) return m;
  throw humble::ValueError("[mnist_smoothing] no metric named '" + key + "'");
}

std::vector<double> Summary::values(const std::string& key) const {
  const Metric& m = metric(key);
  std::vector<double> out;
  for (const Run* r : runs) out.push_back(m.read(*r, group->scaled));
  return out;
}

MeanStd Summary::stat(const std::string& key) const { return humble::metrics::mean_std(values(key)); }

std::vector<Summary> summarize(const Experiment& experiment, const std::vector<std::optional<Run>>& runs,
                               const Config& config) {
  std::vector<Summary> summaries;
  std::map<std::size_t, std::size_t> index_of_group;  // group → its summary
  for (std::size_t g = 0; g < experiment.groups.size(); ++g) {
    const Group& group = experiment.groups[g];
    Summary s{.group = &group};
    for (const std::size_t r : group.runs)
      if (runs[r]) s.runs.push_back(&*runs[r]);
    if (s.runs.size() != group.runs.size()) continue;  // some of its runs ran elsewhere
    index_of_group[g] = summaries.size();
    summaries.push_back(s);
  }
  for (Summary& s : summaries)
    if (s.group->baseline && index_of_group.count(*s.group->baseline))
      s.baseline = &summaries[index_of_group.at(*s.group->baseline)];
  if (summaries.empty()) return summaries;

  // Per resample: accuracy, NLL, ECE of every (run, scaled) pair once; each group averages its
  // seeds; groups with a baseline add their differences. Statistics 3g, 3g+1, 3g+2 are group g's.
  const int64_t rows = summaries.front().runs.front()->predictions.size();
  const auto statistics = [&](std::span<const int64_t> sample) {
    std::map<std::pair<const Run*, bool>, humble::metrics::RowSampleMetrics> cache;
    const auto of = [&](const Summary& s) {
      humble::metrics::RowSampleMetrics mean;
      for (const Run* r : s.runs) {
        const auto key = std::make_pair(r, s.group->scaled);
        if (!cache.count(key))
          cache[key] = humble::metrics::evaluate_rows(s.group->scaled ? r->predictions_scaled : r->predictions, sample);
        mean.accuracy += cache[key].accuracy / static_cast<double>(s.runs.size());
        mean.nll += cache[key].nll / static_cast<double>(s.runs.size());
        mean.ece += cache[key].ece / static_cast<double>(s.runs.size());
      }
      return mean;
    };
    std::vector<double> values;
    for (const Summary& s : summaries) {
      const auto m = of(s);
      values.insert(values.end(), {m.accuracy, m.nll, m.ece});
    }
    for (const Summary& s : summaries) {
      if (!s.baseline) continue;
      const auto m = of(s), b = of(*s.baseline);
      values.insert(values.end(), {m.accuracy - b.accuracy, m.nll - b.nll, m.ece - b.ece});
    }
    return values;
  };
  const auto results =
      humble::metrics::bootstrap(rows, statistics, {.resamples = config.bootstrap_resamples, .seed = config.seed});
  std::size_t k = 0;
  for (Summary& s : summaries) {
    s.accuracy_ci = results[k++].interval;
    s.nll_ci = results[k++].interval;
    s.ece_ci = results[k++].interval;
  }
  for (Summary& s : summaries) {
    if (!s.baseline) continue;
    s.accuracy_diff_ci = results[k++].interval;
    s.nll_diff_ci = results[k++].interval;
    s.ece_diff_ci = results[k++].interval;
  }
  return summaries;
}

std::optional<Interval> interval_of(const Summary& s, const std::string& key, bool difference) {
  const std::optional<Interval> accuracy = difference ? s.accuracy_diff_ci : std::optional<Interval>(s.accuracy_ci);
  if (key == "test_accuracy") return accuracy;
  if (key == "test_error") {  // error = 1 − accuracy: a difference flips sign, a level is 1 − the interval
    if (!accuracy) return std::nullopt;
    return difference ? Interval{-accuracy->high, -accuracy->low} : Interval{1 - accuracy->high, 1 - accuracy->low};
  }
  if (key == "test_nll") return difference ? s.nll_diff_ci : std::optional<Interval>(s.nll_ci);
  if (key == "ece") return difference ? s.ece_diff_ci : std::optional<Interval>(s.ece_ci);
  throw humble::ValueError("[mnist_smoothing] no bootstrap interval for '" + key + "'");
}

// --- text helpers ------------------------------------------------------------------------------

std::string fixed(double value, int decimals) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string duration_text(double seconds) {
  char buffer[32];
  if (seconds < 60)
    std::snprintf(buffer, sizeof buffer, "%.0f s", seconds);
  else
    std::snprintf(buffer, sizeof buffer, "%d min %02d s", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  return buffer;
}

std::string percent(double share, int decimals) { return fixed(100.0 * share, decimals) + " %"; }

std::string signed_fixed(double value, int decimals) {
  return humble::str_cat(value >= 0 ? "+" : "", fixed(value, decimals));
}

std::string interval_text(const Interval& interval, int decimals) {
  return humble::str_cat("[", fixed(interval.low, decimals), ", ", fixed(interval.high, decimals), "]");
}

std::string mean_std_text(const MeanStd& s, int decimals) {
  if (s.count < 2 || !std::isfinite(s.mean)) return fixed(s.mean, decimals);  // no spread to show (or inf ± nan)
  return fixed(s.mean, decimals) + " ± " + fixed(s.std, decimals);
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

namespace {

struct Reference {
  const char* key;
  const char* short_form;
  const char* full;
};
const std::vector<Reference>& references() {
  static const std::vector<Reference> list = {
      {"szegedy2016", "Szegedy et al. 2016",
       "C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna. Rethinking the Inception Architecture for Computer "
       "Vision. CVPR 2016, §7. <a href=\"https://arxiv.org/abs/1512.00567\">arXiv:1512.00567</a>"},
      {"muller2019", "Müller et al. 2019",
       "R. Müller, S. Kornblith, G. Hinton. When Does Label Smoothing Help? NeurIPS 2019. "
       "<a href=\"https://arxiv.org/abs/1906.02629\">arXiv:1906.02629</a>"},
      {"lukasik2020", "Lukasik et al. 2020",
       "M. Lukasik, S. Bhojanapalli, A. K. Menon, S. Kumar. Does Label Smoothing Mitigate Label Noise? ICML 2020. "
       "<a href=\"https://arxiv.org/abs/2003.02819\">arXiv:2003.02819</a>"},
      {"guo2017", "Guo et al. 2017",
       "C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger. On Calibration of Modern Neural Networks. ICML 2017. "
       "<a href=\"https://arxiv.org/abs/1706.04599\">arXiv:1706.04599</a>"},
      {"pereyra2017", "Pereyra et al. 2017",
       "G. Pereyra, G. Tucker, J. Chorowski, Ł. Kaiser, G. Hinton. Regularizing Neural Networks by Penalizing "
       "Confident Output Distributions. ICLR 2017 workshop. "
       "<a href=\"https://arxiv.org/abs/1701.06548\">arXiv:1701.06548</a>"},
      {"lin2017", "Lin et al. 2017",
       "T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár. Focal Loss for Dense Object Detection. ICCV 2017. "
       "<a href=\"https://arxiv.org/abs/1708.02002\">arXiv:1708.02002</a>"},
      {"mukhoti2020", "Mukhoti et al. 2020",
       "J. Mukhoti, V. Kulharia, A. Sanyal, S. Golodetz, P. Torr, P. Dokania. Calibrating Deep Neural Networks using "
       "Focal Loss. NeurIPS 2020. <a href=\"https://arxiv.org/abs/2002.09437\">arXiv:2002.09437</a>"},
      {"hinton2015", "Hinton et al. 2015",
       "G. Hinton, O. Vinyals, J. Dean. Distilling the Knowledge in a Neural Network. NIPS 2014 Deep Learning "
       "Workshop. <a href=\"https://arxiv.org/abs/1503.02531\">arXiv:1503.02531</a>"},
      {"patrini2017", "Patrini et al. 2017",
       "G. Patrini, A. Rozza, A. K. Menon, R. Nock, L. Qu. Making Deep Neural Networks Robust to Label Noise: a Loss "
       "Correction Approach. CVPR 2017. <a href=\"https://arxiv.org/abs/1609.03683\">arXiv:1609.03683</a>"},
      {"efron1993", "Efron & Tibshirani 1993",
       "B. Efron, R. J. Tibshirani. An Introduction to the Bootstrap. Chapman &amp; Hall 1993, ch. 13 (percentile "
       "intervals)."},
  };
  return list;
}

}  // namespace

std::string cite(const std::string& key) {
  for (const Reference& r : references())
    if (key == r.key) return std::string("(<a href=\"#ref-") + r.key + "\">" + r.short_form + "</a>)";
  throw humble::ValueError("[mnist_smoothing] no reference named '" + key + "'");
}

// --- files -------------------------------------------------------------------------------------

// Whole or not at all (core/atomic_file.hpp): never a part of a file, never a temporary file left.
void write_file(const std::filesystem::path& path, const std::string& text) {
  humble::write_file_atomically(path.string(), text, "mnist_smoothing");
}

void prepare_output_dir(const std::filesystem::path& dir) {
  const auto fail = [&dir](const std::string& why) {
    return humble::IoError(humble::str_cat("[mnist_smoothing] --out ", dir.string(), ": ", why));
  };
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw humble::IoError("[mnist_smoothing] cannot create the output folder " + dir.string() + ": " + error.message());
  if (!std::filesystem::is_directory(dir)) throw fail("not a folder");
  const std::filesystem::path probe = dir / ".mnist_smoothing-write-test";
  try {
    write_file(probe, "");  // what every output does: a temporary file, renamed into place
  } catch (const humble::IoError& e) {
    throw fail(humble::str_cat("cannot write into it (", e.what(), ")"));
  }
  std::filesystem::remove(probe, error);
}

void save_figure(const Context& ctx, const humble::plot::Figure& figure, const std::string& name) {
  figure.save((ctx.out / name).string());
  ctx.files->push_back(name);
}

std::string figure_html(const std::string& file, const std::string& caption) {
  return "<figure><img src=\"" + file + "\" alt=\"" + html_escape(caption) + "\"><figcaption>" + caption +
         "</figcaption></figure>\n";
}

// --- tables ------------------------------------------------------------------------------------

std::vector<const Summary*> all_rows(const std::vector<Summary>& summaries) {
  std::vector<const Summary*> rows;
  for (const Summary& s : summaries) rows.push_back(&s);
  return rows;
}

namespace {

struct Column {
  std::string header;
  std::function<std::string(const Summary&)> cell;
};

const std::vector<std::pair<std::string, std::string>> kIntervalKeys = {
    {"test_accuracy", "accuracy"}, {"test_nll", "NLL"}, {"ece", "ECE"}};

std::vector<Column> columns_for(const std::vector<std::string>& keys, const TableOptions& options) {
  std::vector<Column> columns;
  for (const std::string& key : keys) {
    std::string label = metric(key).label;
    label.erase(0, label.find_first_not_of(' '));
    columns.push_back({label, [key](const Summary& s) { return mean_std_text(s.stat(key)); }});
  }
  if (options.intervals)
    for (const auto& [key, name] : kIntervalKeys)
      columns.push_back(
          {name + " 95% CI", [key](const Summary& s) { return interval_text(*interval_of(s, key, false)); }});
  if (options.differences)
    for (const auto& [key, name] : kIntervalKeys)
      columns.push_back({"Δ " + name + " vs baseline [95% CI]", [key](const Summary& s) -> std::string {
                           if (!s.baseline) return "";
                           const double d = s.mean(key) - s.baseline->mean(key);
                           return signed_fixed(d, 4) + " " + interval_text(*interval_of(s, key, true));
                         }});
  return columns;
}

}  // namespace

std::string console_rows(const std::vector<const Summary*>& rows, const std::vector<std::string>& keys,
                         const TableOptions& options) {
  const std::vector<Column> columns = columns_for(keys, options);
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(columns.size() + 1, 0);
  const auto length = [](const std::string& text) {  // code points, for ± and Δ
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  std::vector<std::string> header = {"configuration"};
  for (const Column& c : columns) header.push_back(c.header);
  cells.push_back(header);
  for (const Summary* s : rows) {
    std::vector<std::string> line = {s->group->label};
    for (const Column& c : columns) line.push_back(c.cell(*s));
    cells.push_back(line);
  }
  for (const auto& line : cells)
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], length(line[i]));
  std::string out;
  for (const auto& line : cells) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const std::string pad(width[i] - length(line[i]), ' ');
      out += i == 0 ? line[i] + pad : "  " + pad + line[i];
    }
    out += "\n";
  }
  return out;
}

// The same table for the page: each interval on a second line of its cell, so it stays narrow, and
// the differences from the baseline in a second table.
std::string html_rows(const std::vector<const Summary*>& rows, const std::vector<std::string>& keys,
                      const TableOptions& options) {
  const auto has_interval = [&](const std::string& key) {
    return options.intervals &&
           std::any_of(kIntervalKeys.begin(), kIntervalKeys.end(), [&](const auto& k) { return k.first == key; });
  };
  std::string out = "<table>\n<tr><th>configuration</th>";
  for (const std::string& key : keys) {
    std::string label = metric(key).label;
    label.erase(0, label.find_first_not_of(' '));
    out += "<th>" + html_escape(label) + (has_interval(key) ? "<br><small>[95% CI]</small>" : "") + "</th>";
  }
  out += "</tr>\n";
  for (const Summary* s : rows) {
    out += "<tr><td>" + html_escape(s->group->label) + "</td>";
    for (const std::string& key : keys) {
      out += "<td>" + html_escape(mean_std_text(s->stat(key)));
      if (has_interval(key)) out += "<br><small>" + interval_text(*interval_of(*s, key, false)) + "</small>";
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</table>\n";
  if (!options.differences) return out;
  out += "<table>\n<tr><th>configuration</th><th>baseline</th>";
  for (const auto& [key, name] : kIntervalKeys) out += "<th>Δ " + name + "<br><small>[95% CI, paired]</small></th>";
  out += "</tr>\n";
  for (const Summary* s : rows) {
    if (!s->baseline) continue;
    out += "<tr><td>" + html_escape(s->group->label) + "</td><td>" + html_escape(s->baseline->group->label) + "</td>";
    for (const auto& [key, name] : kIntervalKeys)
      out += "<td>" + signed_fixed(s->mean(key) - s->baseline->mean(key)) + "<br><small>" +
             interval_text(*interval_of(*s, key, true)) + "</small></td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// --- metrics.json, history.csv, report.html -------------------------------------------------------

void write_metrics_json(const Context& ctx, double wall_seconds) {
  const Config& config = ctx.config;
  nlohmann::json doc = {{"dataset", config.dataset},     {"model", config.model}, {"epochs", config.epochs},
                        {"optimizer", config.optimizer}, {"lr", config.lr},       {"batch_size", config.batch_size},
                        {"loss", config.loss},           {"seed", config.seed},   {"seeds", config.seeds}};
  doc["reference_loss"] = config.reference_loss;
  doc["experiment"] = config.experiment;
  doc["quick"] = config.quick;
  doc["train_limit"] = config.train_limit;
  doc["world_size"] = config.world_size;
  doc["parallel"] = config.parallel;
  if (!config.eps_schedule.empty()) doc["eps_schedule"] = config.eps_schedule;
  if (config.experiment == "distillation") doc["student_model"] = "784-128-10";
  doc["bootstrap"] = {{"resamples", config.bootstrap_resamples}, {"level", 0.95}, {"seed", config.seed}};
  doc["wall_seconds"] = wall_seconds;
  const auto number_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  const auto pair = [](const Interval& i) { return nlohmann::json::array({i.low, i.high}); };
  nlohmann::json runs = nlohmann::json::array();
  for (const Summary& s : ctx.summaries) {
    const RunSpec& spec = s.spec();
    nlohmann::json entry = {{"label", s.group->label}, {"method", s.group->method}};
    entry["eps"] = spec.loss == "ce" ? spec.final_eps() : spec.eps;
    if (!spec.eps_schedule.empty()) entry["eps_schedule"] = spec.eps_schedule;
    if (config.experiment == "label-noise" || spec.label_noise > 0) entry["label_noise"] = spec.label_noise;
    if (spec.teacher) {
      entry["teacher_eps"] = spec.teacher->final_eps();
      if (!spec.teacher->eps_schedule.empty()) entry["teacher_eps_schedule"] = spec.teacher->eps_schedule;
      entry["distill_temperature"] = spec.distill_temperature;
    }
    entry["model"] = spec.training.model;
    entry["seed"] = spec.seed;
    entry["seeds"] = s.runs.size();
    for (const Metric& m : all_metrics()) {
      if (m.raw_only && s.group->scaled) continue;
      const MeanStd stat = s.stat(m.key);
      entry[m.key] = number_or_null(stat.mean);
      if (s.runs.size() > 1) entry[std::string(m.key) + "_std"] = number_or_null(stat.std);
    }
    entry["accuracy_ci95"] = pair(s.accuracy_ci);
    entry["nll_ci95"] = pair(s.nll_ci);
    entry["ece_ci95"] = pair(s.ece_ci);
    if (s.baseline) {
      entry["baseline"] = s.baseline->group->label;
      entry["accuracy_diff_ci95"] = pair(*s.accuracy_diff_ci);
      entry["nll_diff_ci95"] = pair(*s.nll_diff_ci);
      entry["ece_diff_ci95"] = pair(*s.ece_diff_ci);
    }
    nlohmann::json per_seed = nlohmann::json::array();
    for (const Run* r : s.runs) {
      nlohmann::json one = {{"seed", r->spec.seed}};
      for (const Metric& m : all_metrics())
        if (!(m.raw_only && s.group->scaled)) one[m.key] = number_or_null(m.read(*r, s.group->scaled));
      per_seed.push_back(one);
    }
    entry["per_seed"] = per_seed;
    runs.push_back(entry);
  }
  doc["runs"] = runs;
  const humble::BlasInfo blas = humble::blas_info();
  doc["blas"] = {{"vendor", blas.vendor},
                 {"version", blas.version},
                 {"kernels", blas.kernels},
                 {"threads", blas.threads},
                 {"replaced", blas.replaced}};
  write_file(ctx.out / "metrics.json", doc.dump(2) + "\n");
  ctx.files->push_back("metrics.json");
}

void write_profile_json(const std::vector<const Run*>& runs, const std::filesystem::path& path) {
  humble::profile::Report total;
  double epoch_seconds = 0;
  std::size_t epochs = 0;
  for (const Run* r : runs) {
    total += r->profile;
    for (const EpochRecord& e : r->history) {
      epoch_seconds += e.seconds;
      ++epochs;
    }
  }
  nlohmann::json doc = nlohmann::json::parse(total.json());
  doc["epoch_seconds"] = epochs ? epoch_seconds / static_cast<double>(epochs) : 0.0;
  write_file(path, doc.dump(2) + "\n");
}

void write_history_csv(const Context& ctx) {
  std::ostringstream csv;
  csv << "eps,seed,epoch,train_loss,loss_floor,train_nll,test_nll,test_accuracy,test_mean_confidence,"
         "logit_gap_q1,logit_gap_median,logit_gap_q3,seconds,method,run\n";
  std::vector<const Run*> written;
  for (const Summary& s : ctx.summaries) {
    for (const Run* r : s.runs) {
      if (std::find(written.begin(), written.end(), r) != written.end()) continue;
      written.push_back(r);
      for (const EpochRecord& e : r->history)
        csv << r->spec.eps << ',' << r->spec.seed << ',' << e.epoch << ',' << e.train_loss << ',' << e.loss_floor << ','
            << e.train_nll << ',' << e.test_nll << ',' << e.test_accuracy << ',' << e.test_mean_confidence << ','
            << e.gap_q1 << ',' << e.gap_median << ',' << e.gap_q3 << ',' << e.seconds << ',' << s.group->method << ','
            << '"' << r->spec.key() << '"' << '\n';
    }
  }
  write_file(ctx.out / "history.csv", csv.str());
  ctx.files->push_back("history.csv");
}

ExperimentReport experiment_report(const Context& ctx) {
  const std::string& name = ctx.config.experiment;
  if (name == "compare") return compare_report(ctx);
  if (name == "sweep") return sweep_report(ctx);
  if (name == "distillation") return distillation_report(ctx);
  if (name == "label-noise") return label_noise_report(ctx);
  return calibration_report(ctx);
}

namespace {

const char* kStyle =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1320px;color:#222;"
    "line-height:1.45;padding:0 1em}h1{font-size:1.7em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;"
    "margin-top:2em}.lead{background:#f3f7fb;border-left:4px solid #0072B2;padding:.6em 1em;margin:1em 0}"
    ".lead p{margin:.4em 0}.setup{background:#fafafa;border:1px solid #ddd;padding:.6em 1em}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.88em}td,th{border:1px solid #ccc;padding:.2em .45em;"
    "text-align:right;vertical-align:top}td{white-space:nowrap}td:first-child,th:first-child{text-align:left}"
    "th{background:#eef2f6;font-weight:600}small{color:#555}"
    "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#444}"
    "pre{background:#f4f4f4;padding:.8em;overflow-x:auto;font-size:.85em}.refs li{margin:.3em 0}"
    ".note{font-size:.92em;color:#333}"
    "@media print{body{max-width:none;margin:0}h2{break-before:auto}figure,table,.lead{break-inside:avoid}}";

std::string experiment_title(const std::string& name) {
  if (name == "compare") return "Smoothing, confidence penalty, focal loss and temperature scaling on the same model";
  if (name == "sweep") return "How ε changes accuracy, calibration and confidence";
  if (name == "distillation") return "Does a smoothed teacher distil worse?";
  if (name == "label-noise") return "Label smoothing against label noise";
  return "How label smoothing changes confidence and calibration";
}

}  // namespace

void write_report_html(const Context& ctx, const ExperimentReport& report, double wall_seconds,
                       const std::string& command) {
  const Config& c = ctx.config;
  const std::string data_name = c.dataset == "fashion" ? "Fashion-MNIST" : "MNIST";
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>humble: "
       << html_escape(experiment_title(c.experiment)) << " (" << data_name << ")</title>\n<style>" << kStyle
       << "</style></head><body>\n<h1>" << html_escape(experiment_title(c.experiment)) << "</h1>\n";
  std::vector<const Run*> unique;  // a run can serve several groups (as trained, after scaling)
  for (const Summary& s : ctx.summaries)
    for (const Run* r : s.runs)
      if (std::find(unique.begin(), unique.end(), r) == unique.end()) unique.push_back(r);
  double run_seconds = 0;
  for (const Run* r : unique) run_seconds += r->seconds;

  html << "<div class=\"setup\"><p><b>Setup.</b> " << data_name << ", "
       << (c.train_limit > 0 ? std::to_string(c.train_limit) : std::string("55,000"))
       << " training images (5,000 more held out to fit the temperature T), all 10,000 test images. Model "
       << (c.model == "cnn" ? "LeNet-style CNN" : "MLP 784-512-256-10")
       << (c.experiment == "distillation" ? " (the teachers; students are MLPs 784-128-10)" : "") << ", " << c.optimizer
       << " lr " << c.lr << ", batch " << c.batch_size << ", " << c.epochs << " epoch" << (c.epochs > 1 ? "s" : "")
       << ", seeds " << c.seed << "…" << c.seed + c.seeds - 1 << " (" << unique.size() << " runs taking "
       << duration_text(run_seconds) << " in all; this report's process " << duration_text(wall_seconds)
       << " of wall time on " << humble::get_num_threads() << " threads" << (c.quick ? "; the --quick variant" : "")
       << ").</p>\n"
       << "<p><b>Reading the numbers.</b> <i>mean ± std</i> is over the seeds: how much another training run "
          "moves a number. <i>[low, high]</i> is a 95 % bootstrap interval over the test images "
       << cite("efron1993") << ", " << c.bootstrap_resamples
       << " resamples of the seed-mean: how much another test set of the same size would move it. "
          "<i>Δ vs baseline</i> is a paired difference — both models scored on the same resampled images — so "
          "its interval is narrower than the two intervals side by side suggest: when it excludes 0 the "
          "difference is beyond test-set noise.</p>\n<p><b>Command.</b> <code>"
       << html_escape(command) << "</code></p></div>\n";
  for (const Section& section : report.sections) {
    html << "<h2>" << html_escape(section.title) << "</h2>\n<div class=\"lead\"><p><b>What to look for.</b> "
         << section.look_for << "</p><p><b>What the literature found.</b> " << section.literature
         << "</p><p><b>This run.</b> " << section.this_run << "</p></div>\n"
         << section.body;
  }
  html << "<h2>References</h2>\n<ol class=\"refs\">\n";
  for (const Reference& r : references()) html << "<li id=\"ref-" << r.key << "\">" << r.full << "</li>\n";
  html << "</ol>\n<p class=\"note\">Written by humble's <code>mnist_smoothing</code> from this run's metrics.json; "
          "every sentence under <i>This run</i> is computed from it.</p>\n</body></html>\n";
  write_file(ctx.out / "report.html", html.str());
  ctx.files->push_back("report.html");
}

}  // namespace study
