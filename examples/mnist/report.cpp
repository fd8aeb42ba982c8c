// examples/mnist/report.cpp — the study's outputs: the side-by-side table, metrics.json,
// history.csv, the SVG pictures and report.html that shows them together.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace study {
namespace {

using humble::plot::BandSeries;
using humble::plot::Chart;
using humble::plot::Figure;
using humble::plot::LineSeries;
using humble::plot::Point;
using humble::plot::ReferenceLine;

struct Stat {
  double mean = 0, std = 0;
};

// One table/JSON row: its label, how to read it from a run, and its printf format.
struct Metric {
  const char* key;
  const char* label;
  std::function<double(const Run&)> read;
};

const std::vector<Metric>& metric_rows() {
  static const std::vector<Metric> rows = {
      {"test_accuracy", "accuracy", [](const Run& r) { return r.test.accuracy; }},
      {"test_nll", "NLL (hard labels)", [](const Run& r) { return r.test.nll; }},
      {"ece", "ECE (15 bins)", [](const Run& r) { return r.test.ece; }},
      {"adaptive_ece", "adaptive ECE", [](const Run& r) { return r.test.adaptive_ece; }},
      {"mce", "MCE", [](const Run& r) { return r.test.mce; }},
      {"brier", "Brier score", [](const Run& r) { return r.test.brier; }},
      {"signed_gap", "confidence - accuracy", [](const Run& r) { return r.test.signed_gap; }},
      {"mean_confidence", "mean confidence", [](const Run& r) { return r.test.mean_confidence; }},
      {"mean_confidence_correct", "  on correct", [](const Run& r) { return r.test.mean_confidence_correct; }},
      {"mean_confidence_wrong", "  on wrong", [](const Run& r) { return r.test.mean_confidence_wrong; }},
      {"frac_confidence_above_0_99", "share conf > 0.99",
       [](const Run& r) { return r.test.frac_confidence_above_0_99; }},
      {"mean_logit_gap", "mean logit gap", [](const Run& r) { return r.test.mean_logit_gap; }},
      {"optimal_logit_gap", "  optimal gap log(1+C(1-e)/e)", [](const Run& r) { return r.optimal_logit_gap; }},
      {"temperature", "fitted temperature T", [](const Run& r) { return r.temperature; }},
      {"test_nll_after_temperature", "NLL after T", [](const Run& r) { return r.test_scaled.nll; }},
      {"ece_after_temperature", "ECE after T", [](const Run& r) { return r.test_scaled.ece; }},
      {"adaptive_ece_after_temperature", "adaptive ECE after T",
       [](const Run& r) { return r.test_scaled.adaptive_ece; }},
      {"mce_after_temperature", "MCE after T", [](const Run& r) { return r.test_scaled.mce; }},
      {"brier_after_temperature", "Brier after T", [](const Run& r) { return r.test_scaled.brier; }},
      {"signed_gap_after_temperature", "conf - acc after T", [](const Run& r) { return r.test_scaled.signed_gap; }},
      {"mean_confidence_after_temperature", "mean confidence after T",
       [](const Run& r) { return r.test_scaled.mean_confidence; }},
      {"frac_confidence_above_0_99_after_temperature", "share > 0.99 after T",
       [](const Run& r) { return r.test_scaled.frac_confidence_above_0_99; }},
      {"seconds_per_epoch", "seconds per epoch", [](const Run& r) { return r.seconds_per_epoch; }},
  };
  return rows;
}

Stat stat_of(const std::vector<Run>& runs, const std::function<double(const Run&)>& read) {
  Stat s;
  for (const Run& r : runs) s.mean += read(r);
  s.mean /= static_cast<double>(runs.size());
  for (const Run& r : runs) s.std += (read(r) - s.mean) * (read(r) - s.mean);
  s.std = runs.size() > 1 ? std::sqrt(s.std / static_cast<double>(runs.size() - 1)) : 0.0;
  return s;
}

std::string eps_label(double eps) {
  std::ostringstream out;
  out << "eps = " << eps;
  return out.str();
}

std::string eps_tag(double eps) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", eps);
  return buffer;
}

// Writes `text` to dir/name through a temporary file, so a reader never sees half a file.
void write_file(const std::filesystem::path& path, const std::string& text) {
  const auto temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary);
    out << text;
    if (!out) throw humble::IoError("[mnist_smoothing] cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path);
}

Chart training_curves(const std::vector<std::vector<Run>>& groups, const std::string& what,
                      const std::function<double(const EpochRecord&)>& read, bool with_floor) {
  Chart chart(what + " per epoch", "epoch", what);
  for (const auto& runs : groups) {
    LineSeries series{.label = eps_label(runs.front().eps), .markers = true};
    for (const EpochRecord& e : runs.front().history) series.points.push_back({double(e.epoch), read(e)});
    chart.line(series);
    if (with_floor && runs.front().history.front().loss_floor > 0) {
      LineSeries floor{.label = "floor H(q') at " + eps_label(runs.front().eps)};
      for (const EpochRecord& e : runs.front().history) floor.points.push_back({double(e.epoch), e.loss_floor});
      chart.line(floor);
    }
  }
  return chart;
}

}  // namespace

std::string format_table(const std::vector<std::vector<Run>>& groups) {
  std::string table;
  char cell[64];
  const auto put = [&](const char* format, auto... values) {
    std::snprintf(cell, sizeof cell, format, values...);
    table += cell;
  };
  put("%-30s", "test set");
  for (const auto& runs : groups) put("  %18s", eps_label(runs.front().eps).c_str());
  table += "\n";
  for (const Metric& metric : metric_rows()) {
    put("%-30s", metric.label);
    for (const auto& runs : groups) {
      const Stat s = stat_of(runs, metric.read);
      if (runs.size() > 1)
        put("  %10.4f ± %6.4f", s.mean, s.std);
      else
        put("  %18.4f", s.mean);
    }
    table += "\n";
  }
  return table;
}

void write_metrics_json(const Config& config, const std::vector<std::vector<Run>>& groups,
                        const std::filesystem::path& path) {
  nlohmann::json doc = {{"dataset", config.dataset}, {"model", config.model},
                        {"epochs", config.epochs},   {"optimizer", config.optimizer},
                        {"lr", config.lr},           {"batch_size", config.batch_size},
                        {"loss", config.loss},       {"seed", config.seed},
                        {"seeds", config.seeds},     {"reference_loss", config.reference_loss}};
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& group : groups) {
    nlohmann::json entry = {{"eps", group.front().eps}, {"seeds", group.size()}};
    for (const Metric& metric : metric_rows()) {
      const Stat s = stat_of(group, metric.read);
      entry[metric.key] = std::isfinite(s.mean) ? nlohmann::json(s.mean) : nlohmann::json(nullptr);
      if (group.size() > 1) entry[std::string(metric.key) + "_std"] = s.std;
    }
    runs.push_back(entry);
  }
  doc["runs"] = runs;
  const humble::BlasInfo blas = humble::blas_info();
  doc["blas"] = {{"vendor", blas.vendor},
                 {"version", blas.version},
                 {"kernels", blas.kernels},
                 {"threads", blas.threads},
                 {"replaced", blas.replaced}};
  write_file(path, doc.dump(2) + "\n");
}

void write_profile_json(const std::vector<std::vector<Run>>& groups, const std::filesystem::path& path) {
  humble::profile::Report total;
  double epoch_seconds = 0;
  std::size_t epochs = 0;
  for (const auto& runs : groups)
    for (const Run& r : runs) {
      total += r.profile;
      for (const EpochRecord& e : r.history) {
        epoch_seconds += e.seconds;
        ++epochs;
      }
    }
  nlohmann::json doc = nlohmann::json::parse(total.json());
  doc["epoch_seconds"] = epochs ? epoch_seconds / static_cast<double>(epochs) : 0.0;
  write_file(path, doc.dump(2) + "\n");
}

void write_history_csv(const std::vector<std::vector<Run>>& groups, const std::filesystem::path& path) {
  std::ostringstream csv;
  csv << "eps,seed,epoch,train_loss,loss_floor,train_nll,test_nll,test_accuracy,test_mean_confidence,"
         "logit_gap_q1,logit_gap_median,logit_gap_q3,seconds\n";
  for (const auto& runs : groups)
    for (const Run& r : runs)
      for (const EpochRecord& e : r.history)
        csv << r.eps << ',' << r.seed << ',' << e.epoch << ',' << e.train_loss << ',' << e.loss_floor << ','
            << e.train_nll << ',' << e.test_nll << ',' << e.test_accuracy << ',' << e.test_mean_confidence << ','
            << e.gap_q1 << ',' << e.gap_median << ',' << e.gap_q3 << ',' << e.seconds << '\n';
  write_file(path, csv.str());
}

std::vector<std::string> write_pictures(const Config& config, const std::vector<std::vector<Run>>& groups,
                                        const std::filesystem::path& dir) {
  using namespace humble::plot;
  std::vector<std::string> files;
  const auto save = [&](const Figure& figure, const std::string& name) {
    figure.save((dir / name).string());
    files.push_back(name);
  };
  const std::string data_name = config.dataset == "fashion" ? "Fashion-MNIST" : "MNIST";

  Figure reliability("Reliability diagrams on the " + data_name + " test set (first seed)");
  for (const auto& runs : groups) reliability.add(reliability_diagram(runs.front().bins, eps_label(runs.front().eps)));
  save(reliability, "reliability.svg");

  std::vector<std::pair<std::string, std::vector<double>>> confidence_groups;
  for (const auto& runs : groups) confidence_groups.emplace_back(eps_label(runs.front().eps), runs.front().confidences);
  save(Figure().add(confidence_histograms(confidence_groups, "Confidence (max softmax) on the test set")),
       "confidence_histograms.svg");

  Figure curves("Training curves (first seed)", 2);
  curves.add(training_curves(
      groups, "train loss", [](const EpochRecord& e) { return e.train_loss; }, true));
  curves.add(training_curves(
      groups, "test NLL", [](const EpochRecord& e) { return e.test_nll; }, false));
  curves.add(training_curves(
      groups, "test accuracy", [](const EpochRecord& e) { return e.test_accuracy; }, false));
  curves.add(training_curves(
      groups, "test mean confidence", [](const EpochRecord& e) { return e.test_mean_confidence; }, false));
  save(curves, "training_curves.svg");

  Figure gaps("Test logit gap (top logit - mean of the others) over training: median and quartiles");
  for (const auto& runs : groups) {
    const Run& r = runs.front();
    Chart chart(eps_label(r.eps), "epoch", "logit gap");
    BandSeries band{.label = "quartiles"};
    LineSeries median{.label = "median", .markers = true};
    for (const EpochRecord& e : r.history) {
      band.x.push_back(e.epoch);
      band.lower.push_back(e.gap_q1);
      band.upper.push_back(e.gap_q3);
      median.points.push_back({double(e.epoch), e.gap_median});
    }
    chart.band(band).line(median);
    if (std::isfinite(r.optimal_logit_gap))
      chart.reference(
          {.label = "optimal gap " + eps_tag(r.optimal_logit_gap), .slope = 0, .intercept = r.optimal_logit_gap});
    gaps.add(chart);
  }
  save(gaps, "logit_gap.svg");

  Figure projection("Penultimate layer projected on the plane of three class templates (Mueller et al. 2019)");
  for (const auto& runs : groups)
    projection.add(penultimate_projection(runs.front().projection.points, runs.front().projection.class_names,
                                          eps_label(runs.front().eps)));
  save(projection, "penultimate.svg");

  if (groups.size() > 1) {
    Figure sweep("Sweep over eps (mean over seeds)", 2);
    for (const char* key : {"test_accuracy", "test_nll", "ece", "mean_confidence"}) {
      const Metric& metric = *std::find_if(metric_rows().begin(), metric_rows().end(),
                                           [&](const Metric& m) { return std::string(m.key) == key; });
      LineSeries series{.label = metric.label, .markers = true};
      for (const auto& runs : groups) series.points.push_back({runs.front().eps, stat_of(runs, metric.read).mean});
      sweep.add(Chart(std::string(metric.label) + " against eps", "eps", metric.label).line(series));
    }
    save(sweep, "sweep.svg");
  }
  return files;
}

void write_report_html(const Config& config, const std::vector<std::string>& pictures, const std::string& table,
                       const std::filesystem::path& path) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>humble: label smoothing on " << config.dataset
       << "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1400px}pre{background:#f4f4f4;"
          "padding:1em}img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}</style></head><body>\n"
       << "<h1>How label smoothing changes confidence: " << config.dataset << ", " << config.model << ", "
       << config.epochs << " epochs</h1>\n<pre>";
  for (char c : table) html << (c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c));
  html << "</pre>\n";
  for (const std::string& picture : pictures)
    html << "<div><img src=\"" << picture << "\" alt=\"" << picture << "\"></div>\n";
  html << "</body></html>\n";
  write_file(path, html.str());
}

}  // namespace study
