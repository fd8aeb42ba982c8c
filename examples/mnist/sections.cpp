// examples/mnist/sections.cpp — the pieces several experiments' reports share (see sections.hpp).
#include "sections.hpp"

#include <algorithm>
#include <cmath>

namespace study {

using humble::plot::BandSeries;
using humble::plot::Chart;
using humble::plot::Figure;
using humble::plot::LineSeries;

const Summary* find_summary(const std::vector<Summary>& summaries, const std::function<bool(const Summary&)>& pick) {
  for (const Summary& s : summaries)
    if (pick(s)) return &s;
  return nullptr;
}

std::string with_interval(const Summary& s, const std::string& key, int decimals) {
  return fixed(s.mean(key), decimals) + " " + interval_text(*interval_of(s, key, false), decimals);
}

bool beyond_noise(const Summary& s, const std::string& key) {
  if (!s.baseline) return false;
  const humble::metrics::Interval d = *interval_of(s, key, true);
  return d.low > 0 || d.high < 0;
}

std::string difference_text(const Summary& s, const std::string& key, int decimals) {
  const humble::metrics::Interval d = *interval_of(s, key, true);
  const double scale = key == "test_error" ? 100.0 : 1.0;  // errors in percentage points
  if (key == "test_error") decimals = 2;
  return signed_fixed(scale * (s.mean(key) - s.baseline->mean(key)), decimals) +
         (key == "test_error" ? " points" : "") + " [" + signed_fixed(scale * d.low, decimals) + ", " +
         signed_fixed(scale * d.high, decimals) + "], " +
         (beyond_noise(s, key) ? "beyond test-set noise" : "within test-set noise");
}

std::string more_or_less(double a, double b, const std::string& more, const std::string& less) {
  return a > b ? more : a < b ? less : "the same as";
}

std::string each(const std::vector<const Summary*>& rows, const std::function<std::string(const Summary&)>& sentence) {
  std::string out;
  for (const Summary* s : rows) {
    if (!out.empty()) out += ' ';
    out += sentence(*s) + '.';
  }
  return out;
}

std::string data_name(const Config& config) { return config.dataset == "fashion" ? "Fashion-MNIST" : "MNIST"; }

Figure reliability_figure(const std::string& title, const std::vector<const Summary*>& rows, int columns) {
  Figure figure(title, columns);
  for (const Summary* s : rows) {
    const Run& r = *s->runs.front();
    figure.add(humble::plot::reliability_diagram(s->group->scaled ? r.bins_scaled : r.bins, s->group->label));
  }
  return figure;
}

const Summary* lowest(const std::vector<const Summary*>& rows, const std::string& key) {
  return *std::min_element(rows.begin(), rows.end(),
                           [&](const Summary* a, const Summary* b) { return a->mean(key) < b->mean(key); });
}

const Summary* highest(const std::vector<const Summary*>& rows, const std::string& key) {
  return *std::max_element(rows.begin(), rows.end(),
                           [&](const Summary* a, const Summary* b) { return a->mean(key) < b->mean(key); });
}

Chart mean_std_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                     const std::vector<double>& x, const std::vector<CurveSeries>& series) {
  Chart chart(title, x_label, y_label);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::string& color = humble::plot::palette(i);
    BandSeries band{.color = color};
    LineSeries line{.label = series[i].label, .markers = true, .color = color};
    for (std::size_t k = 0; k < series[i].points.size(); ++k) {
      const humble::metrics::MeanStd s = series[i].points[k]->stat(series[i].key);
      const double scale = series[i].scale;
      band.x.push_back(x[k]);
      band.lower.push_back(scale * (s.mean - s.std));
      band.upper.push_back(scale * (s.mean + s.std));
      line.points.push_back({x[k], scale * s.mean});
    }
    if (series[i].points.front()->runs.size() > 1) chart.band(band);
    chart.line(line);
  }
  return chart;
}

}  // namespace study
