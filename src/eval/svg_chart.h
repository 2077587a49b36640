// SVG charts for the HTML report: a writer that escapes every piece of text, "nice" axis ticks,
// and the chart kinds the report draws, each from plain numbers and labels into one <svg> element.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tsft {

// Builds one <svg> element. Coordinates must be finite (a NaN is a programmer's bug: callers drop
// missing values before drawing); text is escaped here, so callers pass it raw.
class SvgWriter {
 public:
  SvgWriter(double width, double height, const std::string& title);
  void line(double x1, double y1, double x2, double y2, const std::string& stroke,
            double stroke_width = 1, const std::string& dash = "");
  void rect(double x, double y, double w, double h, const std::string& fill,
            const std::string& stroke = "", const std::string& tooltip = "");
  void circle(double cx, double cy, double r, const std::string& fill,
              const std::string& tooltip = "");
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                double stroke_width);
  // anchor: "start" | "middle" | "end"; rotate: degrees around (x, y).
  void text(double x, double y, const std::string& text, const std::string& anchor = "start",
            double size = 12, const std::string& fill = "#333", bool bold = false,
            double rotate = 0);
  std::string finish();  // the element, closed; the writer is spent

 private:
  std::string out_;
};

// About `target` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].
struct Ticks {
  std::vector<double> values;
  double step = 1;
};
Ticks nice_ticks(double lo, double hi, int target = 5);
std::string format_tick(double v, double step);  // as many decimals as the step needs

// Approximate width in pixels of text at `size` (for layout; no font metrics without a browser).
double text_width(const std::string& s, double size);

// Colours for series, in order (Tableau 10: distinct, colour-blind friendly in the first four).
const std::string& series_color(size_t i);

struct LineSeries {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (x, y), sorted by x, all finite
  bool markers = false;                           // dots on each point (sparse series)
};
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
  double width = 620, height = 320;
};
std::string line_chart_svg(const LineChart& chart);

// Horizontal bars, one group per category, one bar per series in each group; values are
// fractions in [0, 1] shown as percentages, nullopt drawn as "—" with no bar.
struct BarChart {
  std::string title;
  std::vector<std::string> series_names;  // legend (omitted for a single unnamed series)
  std::vector<std::string> categories;
  std::vector<std::vector<std::optional<double>>> values;  // [category][series]
  double width = 620;
};
std::string bar_chart_svg(const BarChart& chart);

// Counts in cells, coloured by their share of the row (a row is one expected class, so the
// colour reads as recall whatever the class sizes).
struct HeatMap {
  std::string title, row_axis, col_axis;
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<double>> counts;  // [row][col]
  double width = 620;
};
std::string heat_map_svg(const HeatMap& map);

// Reliability diagram: per confidence bin, a bar up to the bin's accuracy, a mark at its mean
// confidence, and its count; the diagonal is perfect calibration. Empty bins have no bar.
struct ReliabilityBin {
  double lo = 0, hi = 0, count = 0;
  std::optional<double> confidence, accuracy;
};
struct ReliabilityChart {
  std::string title;
  std::vector<ReliabilityBin> bins;
  double width = 420, height = 400;
};
std::string reliability_svg(const ReliabilityChart& chart);

// Coverage/precision of a confidence gate: per model, the precision of the answered requests
// against the share answered as the threshold falls, with its chosen operating point (a dot) and
// a threshold chosen on other data (a square); the target precision is a dashed line.
struct GateSeries {
  std::string name, color;
  std::vector<std::pair<double, double>> points;  // (coverage, precision), coverage ascending
  std::optional<std::pair<double, double>> chosen, fixed;  // (coverage, precision)
  std::string chosen_label, fixed_label;  // tooltips, and for the last series lines under the title
};
struct CoveragePrecisionChart {
  std::string title;
  std::vector<GateSeries> series;
  std::optional<double> target_precision;
  std::string target_label;  // the legend's name for the target line ("target 99%")
  std::string x_label =
      "coverage (share of requests answered at confidence \xE2\x89\xA5 the threshold)";
  std::string y_label = "precision of the answers";
  double width = 580, height = 430;
};
std::string coverage_precision_svg(const CoveragePrecisionChart& chart);

}  // namespace tsft
