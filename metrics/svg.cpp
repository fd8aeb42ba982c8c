// metrics/svg.cpp — the SVG chart writer (see svg.hpp).
//
// Coordinates: data (x, y) map linearly into each panel's plot area in px, y growing downward.
// A panel is Figure::kPanelWidth × kPanelHeight: margins hold the title, tick numbers and axis
// labels (and the legend when it goes below); otherwise the legend sits in a plot-area corner.
#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "../core/atomic_file.hpp"
#include "../core/error.hpp"

namespace humble::plot {
namespace {

constexpr double kMarginLeft = 64.0, kMarginRight = 18.0, kMarginTop = 38.0, kMarginBottom = 50.0;  // px
constexpr double kFigureTitleHeight = 34.0;
constexpr double kFontSize = 12.0, kLabelFontSize = 13.0, kTitleFontSize = 15.0;
constexpr const char* kInk = "#333333";
constexpr const char* kReferenceColor = "#555555";

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // C++20 deduces it; clang 14 still needs the guide

std::string fixed(double value, int decimals = 1) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// XML text and attribute escaping; control characters (invalid in XML 1.0) become spaces.
std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const char* entity = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : nullptr;
    if (entity) {
      out += entity;
    } else {
      out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

// A rough width for layout: 0.6 em per UTF-8 code point.
double text_width(std::string_view text, double font_size) {
  const auto code_points = std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; });
  return 0.6 * font_size * static_cast<double>(code_points);
}

enum class Anchor { Start, Middle, End };  // where text sits relative to its point
constexpr const char* kAnchorNames[] = {"start", "middle", "end"};

std::string text_element(double x, double y, std::string_view content, double size, Anchor anchor = Anchor::Middle,
                         std::string_view extra_attributes = "") {
  return str_cat("<text x=\"", fixed(x), "\" y=\"", fixed(y), "\" font-size=\"", fixed(size, 0), "\" text-anchor=\"",
                 kAnchorNames[static_cast<int>(anchor)], "\" fill=\"", kInk, "\"", extra_attributes, ">",
                 escape(content), "</text>\n");
}

std::string line_element(double x1, double y1, double x2, double y2, std::string_view stroke_attributes) {
  return str_cat("<line x1=\"", fixed(x1), "\" y1=\"", fixed(y1), "\" x2=\"", fixed(x2), "\" y2=\"", fixed(y2), "\" ",
                 stroke_attributes, "/>\n");
}

std::string polygon_element(const std::vector<Point>& corners, std::string_view style_attributes) {
  std::string points;
  for (const Point& p : corners) points += str_cat(fixed(p.x), ",", fixed(p.y), " ");
  return str_cat("<polygon points=\"", points, "\" ", style_attributes, "/>\n");
}

std::string circle_element(Point center, double radius, std::string_view style_attributes) {
  return str_cat("<circle cx=\"", fixed(center.x), "\" cy=\"", fixed(center.y), "\" r=\"", fixed(radius), "\" ",
                 style_attributes, "/>\n");
}

// A title's lines: one at `size` px when it fits in max_width, else wrapped at spaces with `size`
// lowered by 2 px. Bold glyphs run about 10% wider than text_width's estimate.
std::vector<std::string> title_lines(std::string_view title, double& size, double max_width) {
  constexpr double kBold = 1.1;
  if (text_width(title, kBold * size) <= max_width) return {std::string(title)};
  size -= 2.0;
  std::vector<std::string> lines = {""};
  for (std::size_t start = 0; start <= title.size();) {
    const std::size_t end = std::min(title.find(' ', start), title.size());
    const std::string word(title.substr(start, end - start));
    const std::string joined = lines.back().empty() ? word : lines.back() + " " + word;
    if (!lines.back().empty() && text_width(joined, kBold * size) > max_width) {
      lines.push_back(word);
    } else {
      lines.back() = joined;
    }
    start = end + 1;
  }
  return lines;
}

std::string title_element(double x, double first_baseline, const std::vector<std::string>& lines, double size) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += text_element(x, first_baseline + 1.2 * size * static_cast<double>(i), lines[i], size, Anchor::Middle,
                        " font-weight=\"bold\"");
  }
  return out;
}

bool finite(Point p) { return std::isfinite(p.x) && std::isfinite(p.y); }

// Axis range [lo, hi] and its ticks at 1, 2 or 5 × 10^k, about five of them.
struct Axis {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void include(double value) {
    if (std::isfinite(value)) lo = std::min(lo, value), hi = std::max(hi, value);
  }
  double step() const {
    const double raw = (hi - lo) / 5.0, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    return magnitude * (fraction < 1.5 ? 1.0 : fraction < 3.0 ? 2.0 : fraction < 7.0 ? 5.0 : 10.0);
  }
  // The fixed range when given; else the data's (or [0, 1] without data) rounded out to ticks.
  Axis fitted(const std::optional<std::pair<double, double>>& fixed_range) const {
    if (fixed_range) return {fixed_range->first, fixed_range->second};
    if (lo > hi) return {0.0, 1.0};
    Axis out = *this;
    if (out.lo == out.hi) {
      const double pad = out.lo == 0.0 ? 0.5 : 0.1 * std::abs(out.lo);
      out.lo -= pad, out.hi += pad;
    }
    const double tick = out.step();
    return {std::floor(out.lo / tick) * tick, std::ceil(out.hi / tick) * tick};
  }
  std::vector<double> ticks() const {
    const double tick = step();
    std::vector<double> out;
    for (double k = std::ceil(lo / tick - 1e-9); k * tick <= hi + 1e-9 * tick; ++k) {
      out.push_back(k == 0.0 ? 0.0 : k * tick);  // k may be −0.0, which prints as "-0"
    }
    return out;
  }
  int decimals() const { return std::max(0, static_cast<int>(-std::floor(std::log10(step()) + 1e-9))); }
};

// The plot area of one panel, in px, and the data → px map.
struct Frame {
  double left, top, width, height;
  Axis x, y;
  Point to_px(Point p) const {
    return {left + (p.x - x.lo) / (x.hi - x.lo) * width, top + height - (p.y - y.lo) / (y.hi - y.lo) * height};
  }
};

// "M x y L x y …" through the finite points, starting a new subpath after each non-finite one.
std::string path_data(const std::vector<Point>& points, const Frame& frame) {
  std::string d;
  bool pen_down = false;
  for (const Point& p : points) {
    if (!finite(p)) {
      pen_down = false;
      continue;
    }
    const Point q = frame.to_px(p);
    d += str_cat(pen_down ? "L" : "M", fixed(q.x), " ", fixed(q.y), " ");
    pen_down = true;
  }
  return d;
}

// The outline of a band: along the upper edge, back along the lower one.
std::vector<Point> band_outline(const BandSeries& band) {
  std::vector<Point> upper, lower;
  for (std::size_t i = 0; i < band.x.size(); ++i) {
    if (!std::isfinite(band.x[i]) || !std::isfinite(band.lower[i]) || !std::isfinite(band.upper[i])) continue;
    upper.push_back({band.x[i], band.upper[i]});
    lower.push_back({band.x[i], band.lower[i]});
  }
  upper.insert(upper.end(), lower.rbegin(), lower.rend());
  return upper;
}

void check_range(const char* op, double lo, double hi) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) {
    throw ValueError(str_cat("[", op, "] range must be finite with lo < hi, got [", lo, ", ", hi, "]"));
  }
}

// How a series looks: the attributes its marks share, reused by its legend swatch.
enum class Swatch { Line, Box };
struct Look {
  std::string style;
  Swatch swatch;
};

Look look_of(const Chart::Series& series) {
  return std::visit(
      Overloaded{
          [](const LineSeries& s) {
            return Look{
                str_cat("fill=\"none\" stroke=\"", escape(s.color), "\" stroke-width=\"2\" stroke-linejoin=\"round\""),
                Swatch::Line};
          },
          [](const BandSeries& s) {
            return Look{str_cat("fill=\"", escape(s.color), "\" fill-opacity=\"0.25\" stroke=\"none\""), Swatch::Box};
          },
          [](const BarSeries& s) {
            const std::string border = s.outlined ? escape(s.color) : "#ffffff";
            return Look{str_cat("fill=\"", escape(s.color), "\" fill-opacity=\"", fixed(s.opacity, 2), "\" stroke=\"",
                                border, "\" stroke-width=\"", s.outlined ? "1.5" : "0.5", "\""),
                        Swatch::Box};
          },
          [](const ScatterSeries& s) {
            return Look{str_cat("fill=\"", escape(s.color), "\" fill-opacity=\"0.75\""), Swatch::Box};
          },
          [](const ErrorBarSeries& s) {
            return Look{str_cat("fill=\"none\" stroke=\"", escape(s.color), "\" stroke-width=\"1.5\""), Swatch::Line};
          }},
      series);
}

const std::string kReferenceStyle =
    str_cat("stroke=\"", kReferenceColor, "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");

void draw_series(std::string& out, const Chart::Series& series, const Look& look, const Frame& frame) {
  const auto rect = [&](Point a, Point b) {
    out += str_cat("<rect x=\"", fixed(std::min(a.x, b.x)), "\" y=\"", fixed(std::min(a.y, b.y)), "\" width=\"",
                   fixed(std::abs(b.x - a.x)), "\" height=\"", fixed(std::abs(b.y - a.y)), "\" ", look.style, "/>\n");
  };
  const auto path = [&](const std::vector<Point>& points, const char* close) {
    const std::string d = path_data(points, frame);
    if (!d.empty()) out += str_cat("<path d=\"", d, close, "\" ", look.style, "/>\n");
  };
  const auto circles = [&](const std::vector<Point>& points, double radius, std::string_view style) {
    for (const Point& p : points) {
      if (finite(p)) out += circle_element(frame.to_px(p), radius, style);
    }
  };
  std::visit(
      Overloaded{[&](const LineSeries& s) {
                   path(s.points, "");
                   if (s.markers) circles(s.points, 3.5, str_cat("fill=\"", escape(s.color), "\""));
                 },
                 [&](const BandSeries& s) { path(band_outline(s), "Z"); },
                 [&](const BarSeries& s) {
                   for (const Bar& bar : s.bars) {
                     const Point a = frame.to_px({bar.left, bar.bottom}), b = frame.to_px({bar.right, bar.top});
                     if (finite(a) && finite(b)) rect(a, b);
                   }
                 },
                 [&](const ScatterSeries& s) { circles(s.points, s.radius, look.style); },
                 [&](const ErrorBarSeries& s) {
                   // Each whisker a subpath from low to high with 4 px caps across its ends.
                   constexpr double kCap = 4.0;
                   std::string d;
                   const auto segment = [&](Point a, Point b) {
                     d += str_cat("M", fixed(a.x), " ", fixed(a.y), " L", fixed(b.x), " ", fixed(b.y), " ");
                   };
                   std::vector<Point> centers;
                   for (const ErrorBar& bar : s.bars) {
                     if (!finite(bar.at)) continue;
                     centers.push_back(bar.at);
                     if (bar.x_low < bar.x_high) {
                       const Point lo = frame.to_px({bar.x_low, bar.at.y}), hi = frame.to_px({bar.x_high, bar.at.y});
                       segment(lo, hi);
                       segment({lo.x, lo.y - kCap}, {lo.x, lo.y + kCap});
                       segment({hi.x, hi.y - kCap}, {hi.x, hi.y + kCap});
                     }
                     if (bar.y_low < bar.y_high) {
                       const Point lo = frame.to_px({bar.at.x, bar.y_low}), hi = frame.to_px({bar.at.x, bar.y_high});
                       segment(lo, hi);
                       segment({lo.x - kCap, lo.y}, {lo.x + kCap, lo.y});
                       segment({hi.x - kCap, hi.y}, {hi.x + kCap, hi.y});
                     }
                   }
                   if (!d.empty()) out += str_cat("<path d=\"", d, "\" ", look.style, "/>\n");
                   circles(centers, 4.0, str_cat("fill=\"", escape(s.color), "\""));
                 }},
      series);
}

// A reference line y = slope·x + intercept, cut to the x interval where it stays in the y range.
void draw_reference(std::string& out, const ReferenceLine& reference, const Frame& frame) {
  double x0 = frame.x.lo, x1 = frame.x.hi;
  if (reference.slope != 0.0) {
    const double a = (frame.y.lo - reference.intercept) / reference.slope;
    const double b = (frame.y.hi - reference.intercept) / reference.slope;
    x0 = std::max(x0, std::min(a, b));
    x1 = std::min(x1, std::max(a, b));
  } else if (reference.intercept < frame.y.lo || reference.intercept > frame.y.hi) {
    return;
  }
  if (!(x0 < x1)) return;
  const Point a = frame.to_px({x0, reference.slope * x0 + reference.intercept});
  const Point b = frame.to_px({x1, reference.slope * x1 + reference.intercept});
  out += line_element(a.x, a.y, b.x, b.y, kReferenceStyle);
}

void draw_axes(std::string& out, const Frame& frame) {
  const double right = frame.left + frame.width, bottom = frame.top + frame.height;
  for (const double tick : frame.x.ticks()) {
    const double px = frame.to_px({tick, 0.0}).x;
    out += line_element(px, frame.top, px, bottom, "stroke=\"#e6e6e6\"");
    out += line_element(px, bottom, px, bottom + 5.0, str_cat("stroke=\"", kInk, "\""));
    out += text_element(px, bottom + 18.0, fixed(tick, frame.x.decimals()), kFontSize);
  }
  for (const double tick : frame.y.ticks()) {
    const double py = frame.to_px({0.0, tick}).y;
    out += line_element(frame.left, py, right, py, "stroke=\"#e6e6e6\"");
    out += line_element(frame.left - 5.0, py, frame.left, py, str_cat("stroke=\"", kInk, "\""));
    out += text_element(frame.left - 8.0, py + 4.0, fixed(tick, frame.y.decimals()), kFontSize, Anchor::End);
  }
  out += str_cat("<polyline points=\"", fixed(frame.left), ",", fixed(frame.top), " ", fixed(frame.left), ",",
                 fixed(bottom), " ", fixed(right), ",", fixed(bottom), "\" fill=\"none\" stroke=\"", kInk, "\"/>\n");
}

struct LegendEntry {
  std::string label;
  Look look;
};

// Legend entries flow left to right, wrapping before max_width (0 stacks them in a column);
// `at` holds each entry's offset from the legend's top-left corner.
constexpr double kLegendRow = 18.0, kLegendPad = 8.0, kSwatchWidth = 22.0, kSwatchGap = 6.0, kEntryGap = 16.0;
struct LegendLayout {
  std::vector<Point> at;
  double width = 0.0, height = 0.0;
};

LegendLayout layout_legend(const std::vector<LegendEntry>& entries, double max_width) {
  LegendLayout layout;
  double x = kLegendPad, y = kLegendPad / 2;
  for (const LegendEntry& entry : entries) {
    const double width = kSwatchWidth + kSwatchGap + text_width(entry.label, kFontSize);
    if (x > kLegendPad && x + width + kLegendPad > max_width) {
      x = kLegendPad;
      y += kLegendRow;
    }
    layout.at.push_back({x, y});
    layout.width = std::max(layout.width, x + width + kLegendPad);
    x += width + kEntryGap;
  }
  layout.height = y + kLegendRow + kLegendPad / 2;
  return layout;
}

void draw_legend(std::string& out, const std::vector<LegendEntry>& entries, const LegendLayout& layout, Point origin,
                 bool background) {
  const double x = origin.x, y = origin.y, w = layout.width, h = layout.height;
  if (background) {
    out += polygon_element({{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}},
                           "fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const double x0 = x + layout.at[i].x, x1 = x0 + kSwatchWidth, middle = y + layout.at[i].y + kLegendRow / 2;
    const Look& look = entries[i].look;
    out += look.swatch == Swatch::Box
               ? polygon_element({{x0, middle - 5}, {x1, middle - 5}, {x1, middle + 5}, {x0, middle + 5}}, look.style)
               : line_element(x0, middle, x1, middle, look.style);
    out += text_element(x1 + kSwatchGap, middle + 4.0, entries[i].label, kFontSize, Anchor::Start);
  }
}

}  // namespace

const std::string& palette(std::size_t index) {
  // Okabe–Ito, ordered for contrast on white: blue, orange, bluish green, vermillion,
  // reddish purple, sky blue, black, yellow.
  static const std::vector<std::string> colors = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                  "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
  return colors[index % colors.size()];
}

Chart::Chart(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

Chart& Chart::x_range(double lo, double hi) {
  check_range("Chart::x_range", lo, hi);
  x_range_ = {lo, hi};
  return *this;
}

Chart& Chart::y_range(double lo, double hi) {
  check_range("Chart::y_range", lo, hi);
  y_range_ = {lo, hi};
  return *this;
}

Chart& Chart::legend(LegendCorner corner) {
  legend_corner_ = corner;
  return *this;
}

template <class S>
Chart& Chart::add(S series) {
  if (series.color.empty()) series.color = palette(next_color_++);
  series_.emplace_back(std::move(series));
  return *this;
}

Chart& Chart::line(LineSeries series) { return add(std::move(series)); }

Chart& Chart::error_bars(ErrorBarSeries series) {
  for (const ErrorBar& bar : series.bars) {
    if (!(bar.x_low <= bar.x_high && bar.y_low <= bar.y_high)) {
      throw ValueError(str_cat("[Chart::error_bars] interval x [", bar.x_low, ", ", bar.x_high, "], y [", bar.y_low,
                               ", ", bar.y_high, "] in '", series.label, "'; expected low <= high"));
    }
  }
  return add(std::move(series));
}
Chart& Chart::scatter(ScatterSeries series) { return add(std::move(series)); }

Chart& Chart::band(BandSeries series) {
  if (series.lower.size() != series.x.size() || series.upper.size() != series.x.size()) {
    throw ShapeError(str_cat("[Chart::band] x, lower and upper must have one length, got ", series.x.size(), ", ",
                             series.lower.size(), ", ", series.upper.size(), " for '", series.label, "'"));
  }
  return add(std::move(series));
}

Chart& Chart::bars(BarSeries series) {
  if (!(series.opacity >= 0.0 && series.opacity <= 1.0)) {
    throw ValueError(
        str_cat("[Chart::bars] opacity must be in [0, 1], got ", series.opacity, " for '", series.label, "'"));
  }
  return add(std::move(series));
}

Chart& Chart::reference(ReferenceLine line) {
  references_.push_back(std::move(line));
  return *this;
}

Chart& Chart::annotate(Annotation annotation) {
  annotations_.push_back(std::move(annotation));
  return *this;
}

void Chart::render(std::string& out, double left, double top, std::size_t panel) const {
  std::vector<Look> looks;
  std::vector<LegendEntry> entries;
  for (const Series& series : series_) {
    looks.push_back(look_of(series));
    const std::string& label = std::visit([](const auto& s) -> const std::string& { return s.label; }, series);
    if (!label.empty()) entries.push_back({label, looks.back()});
  }
  for (const ReferenceLine& reference : references_) {
    if (!reference.label.empty()) entries.push_back({reference.label, {kReferenceStyle, Swatch::Line}});
  }
  const double plot_width = Figure::kPanelWidth - kMarginLeft - kMarginRight;
  const bool below = legend_corner_ == LegendCorner::Below;
  const LegendLayout legend = layout_legend(entries, below ? plot_width : 0.0);
  const double legend_height_below = below && !entries.empty() ? legend.height : 0.0;

  // Axis ranges fit every mark; reference lines span whatever range results.
  Axis x, y;
  const auto include = [&](Point p) {
    x.include(p.x);
    y.include(p.y);
  };
  for (const Series& series : series_) {
    std::visit(Overloaded{[&](const BandSeries& s) {
                            for (const Point& p : band_outline(s)) include(p);
                          },
                          [&](const BarSeries& s) {
                            for (const Bar& bar : s.bars) {
                              include({bar.left, bar.bottom});
                              include({bar.right, bar.top});
                            }
                          },
                          [&](const ErrorBarSeries& s) {
                            for (const ErrorBar& bar : s.bars) {
                              if (!finite(bar.at)) continue;
                              include({bar.x_low, bar.y_low});
                              include({bar.x_high, bar.y_high});
                            }
                          },
                          [&](const auto& s) {
                            for (const Point& p : s.points) include(p);
                          }},
               series);
  }
  for (const Annotation& annotation : annotations_) include(annotation.at);
  const Frame frame{left + kMarginLeft, top + kMarginTop,
                    plot_width,         Figure::kPanelHeight - kMarginTop - kMarginBottom - legend_height_below,
                    x.fitted(x_range_), y.fitted(y_range_)};
  const double right = frame.left + frame.width, bottom = frame.top + frame.height;

  double title_size = kTitleFontSize;
  const std::vector<std::string> title = title_lines(title_, title_size, frame.width);
  // One line sits 24 px down; two share the top margin.
  out += title_element(frame.left + frame.width / 2, top + (title.size() == 1 ? 24.0 : 16.0), title, title_size);
  out += text_element(frame.left + frame.width / 2, bottom + 40.0, x_label_, kLabelFontSize);
  const Point y_label_at{left + 16.0, frame.top + frame.height / 2};
  out += text_element(y_label_at.x, y_label_at.y, y_label_, kLabelFontSize, Anchor::Middle,
                      str_cat(" transform=\"rotate(-90 ", fixed(y_label_at.x), " ", fixed(y_label_at.y), ")\""));
  draw_axes(out, frame);

  const std::string clip_id = str_cat("plot-area-", panel);
  out +=
      str_cat("<clipPath id=\"", clip_id, "\">\n",
              polygon_element({{frame.left, frame.top}, {right, frame.top}, {right, bottom}, {frame.left, bottom}}, ""),
              "</clipPath>\n<g clip-path=\"url(#", clip_id, ")\">\n");
  for (std::size_t i = 0; i < series_.size(); ++i) draw_series(out, series_[i], looks[i], frame);
  out += "</g>\n";
  for (const ReferenceLine& reference : references_) draw_reference(out, reference, frame);
  for (const Annotation& annotation : annotations_) {
    const Point at = frame.to_px(annotation.at);
    if (finite(at)) out += text_element(at.x, at.y - 4.0, annotation.text, 11.0);
  }

  if (entries.empty()) return;
  constexpr double kInset = 8.0;
  const bool on_right = legend_corner_ == LegendCorner::TopRight || legend_corner_ == LegendCorner::BottomRight;
  const bool on_bottom = legend_corner_ == LegendCorner::BottomLeft || legend_corner_ == LegendCorner::BottomRight;
  const Point origin = below ? Point{frame.left, bottom + 46.0}
                             : Point{on_right ? right - kInset - legend.width : frame.left + kInset,
                                     on_bottom ? bottom - kInset - legend.height : frame.top + kInset};
  draw_legend(out, entries, legend, origin, !below);
}

Figure::Figure(std::string title, int columns) : title_(std::move(title)), columns_(columns) {
  if (columns < 0) throw ValueError(str_cat("[Figure] columns must be >= 0 (0 = one row), got ", columns));
}

Figure& Figure::add(Chart chart) {
  charts_.push_back(std::move(chart));
  return *this;
}

std::string Figure::to_svg() const {
  if (charts_.empty()) throw ValueError("[Figure::to_svg] the figure has no charts; expected at least one (add one)");
  const std::size_t count = charts_.size();
  const std::size_t columns = columns_ == 0 ? count : std::min<std::size_t>(columns_, count);
  const std::size_t rows = (count + columns - 1) / columns;
  const double width = Figure::kPanelWidth * static_cast<double>(columns);
  double title_size = 17.0;
  const std::vector<std::string> title = title_lines(title_, title_size, width - 20.0);
  const double header = title_.empty() ? 0.0 : kFigureTitleHeight + 1.2 * title_size * (title.size() - 1.0);
  const double height = header + Figure::kPanelHeight * static_cast<double>(rows);
  std::string out =
      str_cat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
              fixed(width, 0), "\" height=\"", fixed(height, 0), "\" viewBox=\"0 0 ", fixed(width, 0), " ",
              fixed(height, 0), "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
  if (!title_.empty()) out += str_cat("<title>", escape(title_), "</title>\n");
  out += polygon_element({{0, 0}, {width, 0}, {width, height}, {0, height}}, "fill=\"#ffffff\"");
  if (!title_.empty()) out += title_element(width / 2, 24.0, title, title_size);
  for (std::size_t i = 0; i < count; ++i) {
    const double left = Figure::kPanelWidth * static_cast<double>(i % columns);
    const double top = header + Figure::kPanelHeight * static_cast<double>(i / columns);
    charts_[i].render(out, left, top, i);
  }
  return out + "</svg>\n";
}

void Figure::save(const std::string& path) const { write_file_atomically(path, to_svg(), "Figure::save"); }

}  // namespace humble::plot
