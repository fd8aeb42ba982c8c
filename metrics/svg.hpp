// metrics/svg.hpp — a small SVG chart writer for humble's reports, with no dependencies.
//
// A Figure lays out Charts (panels) side by side, wrapping after `columns` panels. A Chart has a
// title, axis labels, ticks with numbers, a legend, and series drawn in the order added:
//   LineSeries     one <path>, plus one <circle> per point with markers (training curves)
//   BandSeries     one closed <path> between lower and upper (e.g. quartiles over seeds)
//   BarSeries      one <rect> per bar, translucent so overlaid histograms stay visible; outlined
//                  bars (border in the series colour) read well drawn over other bars
//   ScatterSeries  one <circle> per point; one series per group, each with its own colour
//   ErrorBarSeries one <path> holding every whisker (with end caps), plus one <circle> per point:
//                  an estimate with its interval along x, along y, or both
// plus ReferenceLines y = slope·x + intercept (dashed; the y = x diagonal, or y = c) and text
// Annotations placed at data coordinates. Data marks are the only <path>, <rect> and <circle>
// elements; axes, grid, frame, background and legend swatches use <line>, <polyline>,
// <polygon>, so a script can count marks. Non-finite data points are skipped (a line breaks).
// Axis ranges fit the data, rounded out to whole ticks, unless fixed with x_range()/y_range().
// Titles too wide for their panel (or figure) wrap at spaces.
// The legend (series and reference lines with a label) sits in a corner of the plot area, or
// below the x-axis label in rows, the plot area shrinking to make room.
// Colours come from Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/)
// in turn, unless a series names one. Text must be UTF-8; it is XML-escaped on output.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace humble::plot {

struct Point {
  double x = 0.0, y = 0.0;
};

// The i-th palette colour as "#rrggbb"; wraps around after 8 colours.
const std::string& palette(std::size_t index);

struct LineSeries {
  std::string label{};  // legend text; empty = not in the legend
  std::vector<Point> points{};
  bool markers = false;
  std::string color{};  // empty = next palette colour
};
struct BandSeries {
  std::string label{};
  std::vector<double> x{}, lower{}, upper{};  // one length
  std::string color{};
};
struct Bar {
  double left = 0.0, right = 0.0, top = 0.0, bottom = 0.0;  // data coordinates
};
struct BarSeries {
  std::string label{};
  std::vector<Bar> bars{};
  std::string color{};
  double opacity = 0.6;   // in [0, 1]
  bool outlined = false;  // border in the series colour instead of thin white separators
};
struct ScatterSeries {
  std::string label{};
  std::vector<Point> points{};
  std::string color{};
  double radius = 2.5;  // px
};
struct ErrorBar {
  Point at{};                        // the estimate (a percentile interval need not contain it)
  double x_low = 0.0, x_high = 0.0;  // its interval along x; x_low == x_high draws no whisker
  double y_low = 0.0, y_high = 0.0;  // and along y
};
struct ErrorBarSeries {
  std::string label{};
  std::vector<ErrorBar> bars{};
  std::string color{};
};
struct ReferenceLine {
  std::string label{};
  double slope = 1.0, intercept = 0.0;  // y = slope·x + intercept; the default is y = x
};
struct Annotation {
  Point at{};  // data coordinates; the text is centred on x, its baseline 4 px above y
  std::string text{};
};
enum class LegendCorner { TopLeft, TopRight, BottomLeft, BottomRight, Below };  // Below: under the x-axis label

class Chart {
 public:
  explicit Chart(std::string title, std::string x_label = "", std::string y_label = "");

  Chart& x_range(double lo, double hi);  // fixed axis range, lo < hi, both finite
  Chart& y_range(double lo, double hi);
  Chart& legend(LegendCorner corner);  // default TopLeft

  Chart& line(LineSeries series);
  Chart& band(BandSeries series);
  Chart& bars(BarSeries series);
  Chart& scatter(ScatterSeries series);
  Chart& error_bars(ErrorBarSeries series);  // every interval with low <= high
  Chart& reference(ReferenceLine line);
  Chart& annotate(Annotation annotation);

  using Series = std::variant<LineSeries, BandSeries, BarSeries, ScatterSeries, ErrorBarSeries>;

 private:
  friend class Figure;
  // Appends this chart's SVG elements for a panel whose top-left corner is (left, top) px;
  // `panel` makes the clip-path id unique within the figure.
  void render(std::string& out, double left, double top, std::size_t panel) const;

  template <class S>
  Chart& add(S series);

  std::string title_, x_label_, y_label_;
  std::optional<std::pair<double, double>> x_range_, y_range_;
  LegendCorner legend_corner_ = LegendCorner::TopLeft;
  std::vector<Series> series_;
  std::vector<ReferenceLine> references_;
  std::vector<Annotation> annotations_;
  std::size_t next_color_ = 0;
};

class Figure {
 public:
  static constexpr double kPanelWidth = 440.0, kPanelHeight = 340.0;  // px per chart

  explicit Figure(std::string title = "", int columns = 0);  // columns 0 = all panels in one row
  Figure& add(Chart chart);

  std::string to_svg() const;                // a standalone SVG document with a viewBox
  void save(const std::string& path) const;  // atomically (core/atomic_file.hpp); IoError on failure

 private:
  std::string title_;
  int columns_;
  std::vector<Chart> charts_;
};

}  // namespace humble::plot
