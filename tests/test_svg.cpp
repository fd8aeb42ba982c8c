// tests/test_svg.cpp — the SVG chart writer (metrics/svg.hpp) and the report plots built on it
// (metrics/report_plots.hpp).
//
// Output must parse as XML (checked with xmllint from Debian's libxml2-utils), carry its title,
// axis labels and legend entries with text escaped, and hold exactly one data mark per element
// the series ask for: data marks are the only <path>, <rect> and <circle> elements.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <humble/humble.hpp>
#include <humble/metrics/calibration.hpp>
#include <humble/metrics/report_plots.hpp>
#include <humble/metrics/svg.hpp>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace test_svg {

namespace plot = humble::plot;
namespace metrics = humble::metrics;

using test_support::contains;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// The value of every `attribute="…"` in the document, in order.
std::vector<std::string> attribute_values(const std::string& svg, const std::string& attribute) {
  std::vector<std::string> values;
  const std::string key = " " + attribute + "=\"";
  for (std::size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
    const std::size_t begin = at + key.size();
    values.push_back(svg.substr(begin, svg.find('"', begin) - begin));
  }
  return values;
}

// A fresh path in the temp directory, removed (with any ".tmp" sibling) when it goes out of scope.
struct TempPath {
  std::filesystem::path path;
  explicit TempPath(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(std::random_device{}()) + ".svg")) {}
  ~TempPath() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    std::filesystem::remove(path.string() + ".tmp", ignored);
  }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// xmllint's exit code for the figure saved to disk: 0 when it is well-formed XML.
int xmllint_exit_code(const plot::Figure& figure, const std::string& name) {
  const TempPath file(name);
  figure.save(file.path.string());
  return std::system(("xmllint --noout '" + file.path.string() + "'").c_str());
}

// One chart with every kind of series: 1 line of 3 points with markers, 1 band, 4 bars,
// 2 scatter groups of 5 and 2 points, 2 reference lines and one annotation.
plot::Chart every_series_chart() {
  plot::Chart chart("Loss <train> & \"test\"", "epoch", "loss (nats)");
  chart.line({.label = "train <ε = 0.1>", .points = {{1, 0.9}, {2, 0.5}, {3, 0.4}}, .markers = true})
      .band({.label = "quartiles", .x = {1, 2, 3}, .lower = {0.8, 0.45, 0.35}, .upper = {1.0, 0.6, 0.45}})
      .bars({.label = "histogram", .bars = {{0, 0.5, 0.3}, {0.5, 1, 0.6}, {1, 1.5, 0.2}, {1.5, 2, 0.1}}})
      .scatter({.label = "class 0", .points = {{0.1, 0.1}, {0.2, 0.3}, {0.4, 0.2}, {0.3, 0.5}, {0.5, 0.4}}})
      .scatter({.label = "class 1", .points = {{2.5, 0.8}, {2.8, 0.7}}})
      .reference({.label = "y = x"})
      .reference({.label = "chance", .slope = 0.0, .intercept = 0.25})
      .annotate({.at = {2, 0.5}, .text = "n = 12 & more"});
  return chart;
}

}  // namespace

TEST_CASE("svg: a figure with every series kind is well-formed XML with title, labels and legend") {
  plot::Figure figure("Figure & <title>", 2);
  figure.add(every_series_chart()).add(plot::Chart("second panel", "x", "y").line({.points = {{0, 0}, {1, 1}}}));
  const std::string svg = figure.to_svg();
  CHECK(xmllint_exit_code(figure, "humble-svg-every-series") == 0);
  CHECK(contains(svg, "viewBox=\"0 0 880 374\""));  // two panels side by side under the title
  CHECK(contains(svg, "Figure &amp; &lt;title&gt;"));
  CHECK(contains(svg, "Loss &lt;train&gt; &amp; &quot;test&quot;"));
  CHECK_FALSE(contains(svg, "<train>"));
  for (const std::string text :
       {">epoch<", ">loss (nats)<", ">train &lt;ε = 0.1&gt;<", ">quartiles<", ">histogram<", ">class 0<", ">class 1<",
        ">y = x<", ">chance<", ">n = 12 &amp; more<", ">second panel<"}) {
    CHECK_MESSAGE(contains(svg, text), text);
  }
  // Marks: 2 lines + 1 band = 3 paths; 4 bars; 3 markers + 5 + 2 scatter points = 10 circles.
  CHECK(occurrences(svg, "<path ") == 3);
  CHECK(occurrences(svg, "<rect ") == 4);
  CHECK(occurrences(svg, "<circle ") == 10);
  CHECK(occurrences(svg, "stroke-dasharray") == 2 + 2);  // 2 reference lines + their 2 legend swatches
  const std::vector<std::string> font_sizes = attribute_values(svg, "font-size");
  CHECK(font_sizes.size() == occurrences(svg, "<text "));
  for (const std::string& size : font_sizes) CHECK(std::stod(size) >= 11.0);
}

TEST_CASE("svg: series colours follow the palette unless given") {
  std::set<std::string> colors;
  for (std::size_t i = 0; i < 8; ++i) colors.insert(plot::palette(i));
  CHECK(colors.size() == 8);
  CHECK(plot::palette(8) == plot::palette(0));
  plot::Figure figure;
  figure.add(plot::Chart("colours")
                 .line({.points = {{0, 0}, {1, 1}}})
                 .line({.points = {{0, 1}, {1, 0}}, .color = "#123456"})
                 .line({.points = {{0, 0.5}, {1, 0.5}}}));
  const std::string svg = figure.to_svg();
  CHECK(contains(svg, "stroke=\"" + plot::palette(0) + "\""));
  CHECK(contains(svg, "stroke=\"#123456\""));
  CHECK(contains(svg, "stroke=\"" + plot::palette(1) + "\""));  // the third line takes the second colour
}

TEST_CASE("svg: non-finite points are skipped and break a line and fixed ranges give fixed ticks") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  plot::Figure figure;
  figure.add(plot::Chart("gaps", "step", "loss")
                 .x_range(0, 4)
                 .y_range(0, 1)
                 .line({.points = {{0, 0.1}, {1, 0.2}, {2, nan}, {3, 0.4}, {4, 0.5}}, .markers = true}));
  const std::string svg = figure.to_svg();
  CHECK(occurrences(svg, "<path ") == 1);
  const std::vector<std::string> paths = attribute_values(svg, "d");
  REQUIRE(paths.size() == 1);
  CHECK(occurrences(paths[0], "M") == 2);  // two subpaths: 2 points, then 2 points
  CHECK(occurrences(paths[0], "L") == 2);
  CHECK(occurrences(svg, "<circle ") == 4);
  for (const std::string tick : {">0.0<", ">0.2<", ">0.4<", ">0.6<", ">0.8<", ">1.0<", ">0<", ">1<", ">4<"}) {
    CHECK_MESSAGE(contains(svg, tick), tick);
  }
  CHECK_FALSE(contains(svg, ">-0"));
  CHECK(xmllint_exit_code(figure, "humble-svg-gaps") == 0);
}

TEST_CASE("svg: a legend below shrinks the plot area and outlined bars take the series colour") {
  const auto render = [](plot::LegendCorner place) {
    plot::Figure figure;
    figure.add(plot::Chart("legend", "x", "y")
                   .bars({.label = "outlined", .bars = {{0, 1, 1}}, .color = "#123456", .outlined = true})
                   .legend(place));
    return figure.to_svg();
  };
  const std::string inside = render(plot::LegendCorner::TopLeft), below = render(plot::LegendCorner::Below);
  CHECK(contains(below, "stroke=\"#123456\" stroke-width=\"1.5\""));
  CHECK(contains(below, ">outlined<"));
  // The axes' corner sits at the plot area's bottom: 38 px top margin + (340 − 38 − 50) px of plot
  // area = 290 px; a one-row legend below (4 + 18 + 4 px) lifts it to 264 px.
  CHECK(contains(inside, "<polyline points=\"64.0,38.0 64.0,290.0 "));
  CHECK(contains(below, "<polyline points=\"64.0,38.0 64.0,264.0 "));
}

TEST_CASE("svg: a title too wide for its panel wraps onto more lines") {
  const std::string title = "a chart title far too long to fit on one line of a single panel of this figure";
  plot::Figure figure;
  figure.add(plot::Chart(title));
  const std::string svg = figure.to_svg();
  CHECK_FALSE(contains(svg, ">" + title + "<"));
  std::string joined;  // the bold lines, rejoined, give back the title
  const std::string bold = "font-weight=\"bold\">";
  for (std::size_t at = svg.find(bold); at != std::string::npos; at = svg.find(bold, at + 1)) {
    const std::size_t begin = at + bold.size();
    if (!joined.empty()) joined += ' ';
    joined += svg.substr(begin, svg.find("</text>", begin) - begin);
  }
  CHECK(joined == title);
  CHECK(occurrences(svg, bold) == 2);
}

TEST_CASE("svg: save writes the document atomically and names the path when it cannot") {
  plot::Figure figure("saved");
  figure.add(every_series_chart());
  const TempPath file("humble-svg-save");
  figure.save(file.path.string());
  CHECK(read_file(file.path) == figure.to_svg());
  CHECK_FALSE(std::filesystem::exists(file.path.string() + ".tmp"));
  const std::string unwritable = "/nonexistent-humble-dir/figure.svg";
  CHECK_THROWS_AS(figure.save(unwritable), humble::IoError);
  try {
    figure.save(unwritable);
  } catch (const humble::IoError& error) {
    CHECK(contains(error.what(), "[Figure::save]"));
    CHECK(contains(error.what(), unwritable));
  }
}

TEST_CASE("svg: validation errors") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  plot::Chart chart("c");
  CHECK_THROWS_AS(chart.x_range(1, 0), humble::ValueError);
  CHECK_THROWS_AS(chart.x_range(1, 1), humble::ValueError);
  CHECK_THROWS_AS(chart.y_range(0, nan), humble::ValueError);
  CHECK_THROWS_AS(chart.band({.label = "b", .x = {1, 2}, .lower = {0}, .upper = {1, 2}}), humble::ShapeError);
  CHECK_THROWS_AS(chart.bars({.label = "b", .opacity = 1.5}), humble::ValueError);
  CHECK_THROWS_AS(plot::Figure("f", -1), humble::ValueError);
  CHECK_THROWS_AS(plot::Figure("empty").to_svg(), humble::ValueError);
}

TEST_CASE("plot: reliability diagram of the four-row example") {
  // Confidences 0.90 (right), 0.85 (wrong), 0.72 (right), 0.70 (wrong): 3 non-empty bins of 15.
  std::vector<double> logits;
  for (const double p : {0.90, 0.85, 0.28, 0.70}) logits.insert(logits.end(), {std::log(p), std::log(1 - p)});
  const metrics::ReliabilityBins bins = metrics::reliability_bins(
      humble::tensor(logits, {4, 2}, humble::Dtype::Float64), humble::tensor({0, 1, 1, 1}, {4}, humble::Dtype::Int64));
  plot::Figure figure;
  figure.add(plot::reliability_diagram(bins, "ε = 0")).add(plot::reliability_diagram(bins, "no gap", false));
  const std::string svg = figure.to_svg();
  CHECK(xmllint_exit_code(figure, "humble-svg-reliability") == 0);
  CHECK(occurrences(svg, "<rect ") == 3 * 2 + 3);                  // accuracy + gap bars, then accuracy bars alone
  CHECK(contains(svg, ">ε = 0 (ECE 0.34"));                        // ECE 0.3425 in the title
  CHECK(contains(svg, ">confidence (max softmax probability)<"));  // the axes, with their units
  CHECK(contains(svg, ">accuracy in the bin (fraction)<"));
  CHECK(contains(svg, ">accuracy<"));  // the legend
  CHECK(contains(svg, ">perfect calibration<"));
  CHECK(contains(svg, ">gap to mean confidence<"));
  CHECK(occurrences(svg, ">2</text>") == 2);  // bin 10 holds 2 rows, once per panel
  CHECK(occurrences(svg, ">1</text>") == 4);  // bins 12 and 13 hold 1 row each
}

TEST_CASE("plot: overlaid confidence histograms and the penultimate projection") {
  const std::vector<std::pair<std::string, std::vector<double>>> groups = {{"ε = 0", {0.99, 0.98, 0.97, 0.6}},
                                                                           {"ε = 0.1", {0.9, 0.88, 0.86, 0.5, 0.45}}};
  plot::Figure figure("confidence");
  figure.add(plot::confidence_histograms(groups, "test set", 10));
  const std::vector<std::vector<plot::Point>> points = {{{0, 0}, {1, 0}}, {{0, 1}, {1, 1}, {2, 1}}, {{3, 3}}};
  figure.add(plot::penultimate_projection(points, {"airplane", "automobile", "bird"}, "penultimate layer"));
  const std::string svg = figure.to_svg();
  CHECK(xmllint_exit_code(figure, "humble-svg-histograms") == 0);
  // Non-empty bins of 10: ε = 0 fills (0.9, 1] and (0.5, 0.6]; ε = 0.1 fills (0.8, 0.9] and (0.4, 0.5].
  CHECK(occurrences(svg, "<rect ") == 4);
  CHECK(occurrences(svg, "<circle ") == 6);
  for (const std::string label :
       {">ε = 0<", ">ε = 0.1<", ">airplane<", ">automobile<", ">bird<", ">share of predictions (fraction)<"}) {
    CHECK_MESSAGE(contains(svg, label), label);
  }
  CHECK_THROWS_AS(plot::confidence_histograms({{"empty", {}}}, "t"), humble::ValueError);
  CHECK_THROWS_AS(plot::confidence_histograms({{"bad", {1.5}}}, "t"), humble::ValueError);
  CHECK_THROWS_AS(plot::confidence_histograms(groups, "t", 0), humble::ValueError);
  CHECK_THROWS_AS(plot::penultimate_projection(points, {"airplane"}, "t"), humble::ShapeError);
}

TEST_CASE("svg: error bars draw every whisker in one path, a dot per estimate, and widen the axes") {
  plot::Chart chart("accuracy against ECE", "ECE", "accuracy");
  chart.error_bars({.label = "CE",
                    .bars = {{.at = {0.01, 0.97}, .x_low = 0.005, .x_high = 0.02, .y_low = 0.96, .y_high = 0.98},
                             {.at = {0.10, 0.98}, .x_low = 0.09, .x_high = 0.11}}});  // no y whisker
  chart.error_bars(
      {.label = "LS", .bars = {{.at = {0.3, 0.5}, .x_low = 0.31, .x_high = 0.4, .y_low = 0.5, .y_high = 0.5}}});
  const plot::Figure figure = plot::Figure().add(chart);
  const std::string svg = figure.to_svg();
  CHECK(xmllint_exit_code(figure, "humble-svg-error-bars") == 0);
  CHECK(occurrences(svg, "<path ") == 2);    // one per series
  CHECK(occurrences(svg, "<circle ") == 3);  // one per estimate
  // Whiskers: 2 + 1 + 1 intervals, each a line and two caps, each "M … L …".
  CHECK(occurrences(svg, " L") == 3 * 4);
  CHECK(contains(svg, ">CE<"));
  CHECK(contains(svg, ">LS<"));
  CHECK(contains(svg, ">0.4<"));  // the x axis reaches the whisker's end at 0.4
  std::string message;
  try {
    plot::Chart("bad").error_bars({.label = "bad", .bars = {{.at = {1, 1}, .x_low = 2, .x_high = 0}}});
  } catch (const humble::ValueError& e) {
    message = e.what();
  }
  CHECK(contains(message, "[Chart::error_bars] interval x [2, 0]"));
}

}  // namespace test_svg
