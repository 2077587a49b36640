#include "eval/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "core/error.h"
#include "eval/text_util.h"

namespace tsft {

namespace {

const char kAxis[] = "#555";
const char kGrid[] = "#e3e6ea";
const char kMuted[] = "#777";

std::string num(double v) {
  TSFT_CHECK(std::isfinite(v), "non-finite SVG coordinate");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string attr(const char* name, const std::string& value) {
  return str(" ", name, "=\"", html_escape(value), "\"");
}

// Maps a data interval onto a pixel interval.
struct Scale {
  double d0, d1, r0, r1;
  double operator()(double v) const {
    return d1 == d0 ? r0 : r0 + (v - d0) * (r1 - r0) / (d1 - d0);
  }
};

// A legend entry: a swatch (filled square, or a line when `line`) and a name.
struct LegendItem {
  std::string name, color;
  bool line;
  std::string dash;
  bool dot = false;  // a dot instead of a square swatch (point markers)
};
LegendItem swatch(const std::string& name, const std::string& color) {
  return {name, color, false, ""};
}
LegendItem stroke(const std::string& name, const std::string& color, const std::string& dash = "") {
  return {name, color, true, dash};
}

double legend_width(const std::vector<LegendItem>& items) {
  double w = 0;
  for (const LegendItem& it : items) w += 22 + text_width(it.name, 12) + 14;
  return w;
}

// Draws the legend on one row ending at x_right (baseline y).
void draw_legend(SvgWriter& svg, const std::vector<LegendItem>& items, double x_right, double y) {
  double x = x_right - legend_width(items) + 14;
  for (const LegendItem& it : items) {
    if (it.line) {
      svg.line(x, y - 4, x + 16, y - 4, it.color, 2.5, it.dash);
    } else if (it.dot) {
      svg.circle(x + 8, y - 4, 4.5, it.color);
    } else {
      svg.rect(x + 3, y - 9, 10, 10, it.color);
    }
    svg.text(x + 22, y, it.name);
    x += 22 + text_width(it.name, 12) + 14;
  }
}

// Legend items in rows no wider than `max_width`, in order.
std::vector<std::vector<LegendItem>> legend_rows(const std::vector<LegendItem>& items,
                                                 double max_width) {
  std::vector<std::vector<LegendItem>> rows(1);
  for (const LegendItem& it : items) {
    std::vector<LegendItem> wider = rows.back();
    wider.push_back(it);
    if (!rows.back().empty() && legend_width(wider) > max_width) rows.emplace_back();
    rows.back().push_back(it);
  }
  return rows;
}

// Text cut (with "…") to fit `max_px` at `size`.
std::string fit_text(const std::string& s, double max_px, double size) {
  if (text_width(s, size) <= max_px) return s;
  const size_t chars = static_cast<size_t>(std::max(1.0, max_px / (size * 0.58)));
  return truncate_display(s, chars);
}

// Sequential blue scale (ColorBrewer "Blues"), t in [0, 1].
std::string blue(double t) {
  static const double stops[][3] = {
      {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int k = std::min(3, static_cast<int>(t));
  const double f = t - k;
  char buf[16];
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(stops[k][c] + f * (stops[k + 1][c] - stops[k][c])));
  }
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

}  // namespace

// ---- writer ----

SvgWriter::SvgWriter(double width, double height, const std::string& title) {
  out_ = str("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"", num(width),
             "\" height=\"", num(height), "\" viewBox=\"0 0 ", num(width), " ", num(height),
             "\" role=\"img\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, "
             "'Helvetica Neue', Arial, sans-serif\" font-size=\"12\"><title>",
             html_escape(title), "</title>");
}

void SvgWriter::line(double x1, double y1, double x2, double y2, const std::string& stroke,
                     double stroke_width, const std::string& dash) {
  out_ += str("<line x1=\"", num(x1), "\" y1=\"", num(y1), "\" x2=\"", num(x2), "\" y2=\"", num(y2),
              "\"", attr("stroke", stroke), " stroke-width=\"", num(stroke_width), "\"",
              dash.empty() ? "" : attr("stroke-dasharray", dash), "/>");
}

void SvgWriter::rect(double x, double y, double w, double h, const std::string& fill,
                     const std::string& stroke, const std::string& tooltip) {
  out_ += str("<rect x=\"", num(x), "\" y=\"", num(y), "\" width=\"", num(std::max(0.0, w)),
              "\" height=\"", num(std::max(0.0, h)), "\"", attr("fill", fill),
              stroke.empty() ? "" : attr("stroke", stroke));
  out_ += tooltip.empty() ? "/>" : str("><title>", html_escape(tooltip), "</title></rect>");
}

void SvgWriter::circle(double cx, double cy, double r, const std::string& fill,
                       const std::string& tooltip) {
  out_ += str("<circle cx=\"", num(cx), "\" cy=\"", num(cy), "\" r=\"", num(r), "\"",
              attr("fill", fill));
  out_ += tooltip.empty() ? "/>" : str("><title>", html_escape(tooltip), "</title></circle>");
}

void SvgWriter::polyline(const std::vector<std::pair<double, double>>& points,
                         const std::string& stroke, double stroke_width) {
  std::string pts;
  for (const auto& [x, y] : points) pts += (pts.empty() ? "" : " ") + num(x) + "," + num(y);
  out_ += str("<polyline points=\"", pts, "\" fill=\"none\"", attr("stroke", stroke),
              " stroke-width=\"", num(stroke_width), "\" stroke-linejoin=\"round\"/>");
}

void SvgWriter::text(double x, double y, const std::string& text, const std::string& anchor,
                     double size, const std::string& fill, bool bold, double rotate) {
  out_ += str(
      "<text x=\"", num(x), "\" y=\"", num(y), "\"",
      anchor == "start" ? "" : attr("text-anchor", anchor),
      size == 12 ? "" : str(" font-size=\"", num(size), "\""), attr("fill", fill),
      bold ? " font-weight=\"600\"" : "",
      rotate == 0 ? "" : str(" transform=\"rotate(", num(rotate), " ", num(x), " ", num(y), ")\""),
      ">", html_escape(text), "</text>");
}

std::string SvgWriter::finish() {
  out_ += "</svg>";
  return std::move(out_);
}

// ---- axes ----

Ticks nice_ticks(double lo, double hi, int target) {
  TSFT_CHECK(std::isfinite(lo) && std::isfinite(hi) && target > 0);
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    lo -= 0.5 * std::max(1.0, std::abs(lo));
    hi += 0.5 * std::max(1.0, std::abs(hi));
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  Ticks t;
  t.step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  for (double k = std::ceil(lo / t.step - 1e-9); k * t.step <= hi + 1e-9 * t.step; k += 1) {
    const double v = k * t.step;
    t.values.push_back(std::abs(v) < 1e-9 * t.step ? 0.0 : v);
  }
  return t;
}

std::string format_tick(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return format_fixed(v, decimals);
}

double text_width(const std::string& s, double size) {
  return static_cast<double>(display_width(s)) * size * 0.58;
}

const std::string& series_color(size_t i) {
  static const std::string kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColors[i % 10];
}

// ---- line chart ----

std::string line_chart_svg(const LineChart& c) {
  SvgWriter svg(c.width, c.height, c.title);
  const double left = 60, right = 18, top = 44, bottom = 46;
  const double pw = c.width - left - right, ph = c.height - top - bottom;
  svg.text(8, 20, c.title, "start", 14, "#222", true);

  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  std::vector<LegendItem> legend;
  for (const LineSeries& s : c.series) {
    for (const auto& [x, y] : s.points) {
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
    legend.push_back(stroke(s.name, s.color));
  }
  if (!(xmin <= xmax)) {
    svg.text(c.width / 2, c.height / 2, "no data", "middle", 12, kMuted);
    return svg.finish();
  }
  draw_legend(svg, legend, c.width - right, 20);

  const Ticks yt0 = nice_ticks(ymin, ymax, 5);
  const double ylo = std::floor(ymin / yt0.step + 1e-9) * yt0.step;
  const double yhi = std::ceil(ymax / yt0.step - 1e-9) * yt0.step;
  const Ticks yt = nice_ticks(ylo, yhi == ylo ? ylo + yt0.step : yhi, 5);
  const double y0 = yt.values.empty() ? ylo : std::min(ylo, yt.values.front());
  const double y1 = yt.values.empty() ? yhi : std::max(yhi, yt.values.back());
  // Training curves read from step 0; an axis starting at the first logged step (5, 10) looks cut.
  if (xmin > 0 && xmin <= 0.2 * xmax) xmin = 0;
  const Ticks xt = nice_ticks(xmin, xmax, 6);
  const double x1 = xmax > xmin ? xmax : xmin + 1;
  const Scale sx{xmin, x1, left, left + pw}, sy{y0, y1, top + ph, top};

  for (double v : yt.values) {
    svg.line(left, sy(v), left + pw, sy(v), kGrid);
    svg.text(left - 6, sy(v) + 4, format_tick(v, yt.step), "end", 11, kAxis);
  }
  for (double v : xt.values) {
    if (v < xmin - 1e-9 || v > x1 + 1e-9) continue;
    svg.line(sx(v), top + ph, sx(v), top + ph + 4, kAxis);
    svg.text(sx(v), top + ph + 17, format_tick(v, xt.step), "middle", 11, kAxis);
  }
  svg.line(left, top, left, top + ph, kAxis);
  svg.line(left, top + ph, left + pw, top + ph, kAxis);
  svg.text(left + pw / 2, c.height - 8, c.x_label, "middle", 12, kAxis);
  svg.text(16, top + ph / 2, c.y_label, "middle", 12, kAxis, false, -90);

  for (const LineSeries& s : c.series) {
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : s.points) px.emplace_back(sx(x), sy(y));
    if (px.size() > 1) svg.polyline(px, s.color, 2);
    if (s.markers || px.size() == 1) {
      for (size_t k = 0; k < px.size(); ++k) {
        svg.circle(px[k].first, px[k].second, 3.5, s.color,
                   str(s.name, " at ", c.x_label, " ", format_tick(s.points[k].first, 1), ": ",
                       format_fixed(s.points[k].second, 4)));
      }
    }
  }
  return svg.finish();
}

// ---- horizontal grouped bars ----

std::string bar_chart_svg(const BarChart& c) {
  const size_t n_series = std::max<size_t>(1, c.series_names.size());
  const bool legend = c.series_names.size() > 1 ||
                      (n_series == 1 && !c.series_names.empty() && !c.series_names[0].empty());
  const double bar_h = n_series > 1 ? 14 : 18, bar_gap = 2, group_gap = 12;
  double label_w = 40;
  for (const std::string& cat : c.categories) label_w = std::max(label_w, text_width(cat, 12));
  label_w = std::min(label_w, 220.0);
  const double left = label_w + 16, right = 56, top = legend ? 52 : 34, bottom = 30;
  const double group_h = n_series * bar_h + (n_series - 1) * bar_gap;
  const size_t groups = c.categories.size();
  const double ph = groups == 0 ? 30 : groups * group_h + (groups - 1) * group_gap + 12;
  const double height = top + ph + bottom, pw = c.width - left - right;

  SvgWriter svg(c.width, height, c.title);
  svg.text(8, 20, c.title, "start", 14, "#222", true);
  if (legend) {
    std::vector<LegendItem> items;
    for (size_t s = 0; s < c.series_names.size(); ++s) {
      items.push_back(swatch(c.series_names[s], series_color(s)));
    }
    draw_legend(svg, items, c.width - right, 40);
  }
  const Scale sx{0, 1, left, left + pw};
  for (int k = 0; k <= 5; ++k) {
    const double v = k / 5.0;
    svg.line(sx(v), top, sx(v), top + ph, kGrid);
    svg.text(sx(v), top + ph + 16, format_percent(v, 0), "middle", 11, kAxis);
  }
  for (size_t g = 0; g < groups; ++g) {
    const double gy = top + 6 + g * (group_h + group_gap);
    svg.text(left - 8, gy + group_h / 2 + 4, fit_text(c.categories[g], label_w, 12), "end");
    for (size_t s = 0; s < n_series; ++s) {
      const double y = gy + s * (bar_h + bar_gap);
      std::optional<double> v;
      if (g < c.values.size() && s < c.values[g].size()) v = c.values[g][s];
      const std::string series = s < c.series_names.size() ? c.series_names[s] : "";
      if (!v) {
        svg.text(left + 4, y + bar_h / 2 + 4, kDash, "start", 11, kMuted);
        continue;
      }
      const double value = v.value();
      const double x_end = sx(std::clamp(value, 0.0, 1.0));
      svg.rect(left, y, x_end - left, bar_h, series_color(s), "",
               str(c.categories[g], series.empty() ? "" : " (" + series + ")", ": ",
                   format_percent(value)));
      svg.text(x_end + 4, y + bar_h / 2 + 4, format_percent(value), "start", 11, "#333");
    }
  }
  svg.line(left, top, left, top + ph, kAxis);
  return svg.finish();
}

// ---- heat map ----

std::string heat_map_svg(const HeatMap& m) {
  const size_t rows = m.row_labels.size(), cols = m.col_labels.size();
  double row_w = 30, col_w = 0;
  for (const std::string& l : m.row_labels) row_w = std::max(row_w, text_width(l, 12));
  for (const std::string& l : m.col_labels) col_w = std::max(col_w, text_width(l, 11));
  row_w = std::min(row_w, 180.0);
  col_w = std::min(col_w, 150.0);
  const double legend_w = 86;
  const double left = 28 + row_w + 10, top = 36;
  const double cell =
      std::clamp((m.width - left - 16 - legend_w) / std::max<size_t>(1, cols), 30.0, 64.0);
  // Column labels lie flat when they fit in a cell, else they are turned 40 degrees.
  const bool turned = col_w > cell - 6;
  const double label_h = turned ? col_w * std::sin(40 * std::numbers::pi / 180) + 4 : 22;
  const double grid_w = cols * cell, grid_h = rows * cell;
  const double width = std::max(m.width, left + grid_w + 16 + legend_w);
  const double height = top + grid_h + label_h + 24;

  SvgWriter svg(width, height, m.title);
  svg.text(8, 20, m.title, "start", 14, "#222", true);
  for (size_t r = 0; r < rows; ++r) {
    double total = 0;
    if (r < m.counts.size()) {
      for (double v : m.counts[r]) total += std::max(0.0, v);
    }
    const double y = top + r * cell;
    svg.text(left - 8, y + cell / 2 + 4, fit_text(m.row_labels[r], row_w, 12), "end");
    for (size_t c = 0; c < cols; ++c) {
      const double v = r < m.counts.size() && c < m.counts[r].size() ? m.counts[r][c] : 0;
      const double share = total > 0 ? std::max(0.0, v) / total : 0;
      const double x = left + c * cell;
      svg.rect(x, y, cell, cell, blue(share), "#fff",
               str(m.row_labels[r], " \xE2\x86\x92 ", m.col_labels[c], ": ", format_count(v), " (",
                   format_percent(share), " of the row)"));
      const std::string fill = share > 0.5 ? "#fff" : v == 0 ? "#aab" : "#222";
      svg.text(x + cell / 2, y + cell / 2 + 4, format_count(v), "middle", cell < 40 ? 10 : 11,
               fill);
    }
  }
  svg.rect(left, top, grid_w, grid_h, "none", "#c8ccd2");
  for (size_t c = 0; c < cols; ++c) {
    const double cx = left + c * cell + cell / 2;
    if (turned) {
      svg.text(cx + 3, top + grid_h + 12, fit_text(m.col_labels[c], col_w, 11), "end", 11, "#333",
               false, -40);
    } else {
      svg.text(cx, top + grid_h + 15, m.col_labels[c], "middle", 11);
    }
  }
  svg.text(left + grid_w / 2, height - 8, m.col_axis, "middle", 12, kAxis);
  svg.text(14, top + grid_h / 2, m.row_axis, "middle", 12, kAxis, false, -90);

  // Colour scale: five steps of the row share.
  const double lx = left + grid_w + 20;
  svg.text(lx, top + 8, "share of row", "start", 11, kAxis);
  for (int k = 0; k <= 4; ++k) {
    const double y = top + 16 + k * 18;
    svg.rect(lx, y, 16, 16, blue(k / 4.0), "#c8ccd2");
    svg.text(lx + 22, y + 12, format_percent(k / 4.0, 0), "start", 11, kAxis);
  }
  return svg.finish();
}

// ---- reliability diagram ----

std::string reliability_svg(const ReliabilityChart& c) {
  SvgWriter svg(c.width, c.height, c.title);
  const double left = 52, right = 16, top = 60, bottom = 46;
  const double pw = c.width - left - right, ph = c.height - top - bottom;
  svg.text(8, 20, c.title, "start", 14, "#222", true);
  draw_legend(svg,
              {swatch("accuracy", series_color(0)), stroke("mean confidence", series_color(1)),
               stroke("perfect calibration", "#999", "5 4")},
              c.width - right, 42);
  const Scale sx{0, 1, left, left + pw}, sy{0, 1, top + ph, top};
  for (int k = 0; k <= 5; ++k) {
    const double v = k / 5.0;
    svg.line(left, sy(v), left + pw, sy(v), kGrid);
    svg.text(left - 6, sy(v) + 4, format_fixed(v, 1), "end", 11, kAxis);
    svg.line(sx(v), top + ph, sx(v), top + ph + 4, kAxis);
    svg.text(sx(v), top + ph + 17, format_fixed(v, 1), "middle", 11, kAxis);
  }
  for (const ReliabilityBin& b : c.bins) {
    const double lo = std::clamp(b.lo, 0.0, 1.0), hi = std::clamp(b.hi, 0.0, 1.0);
    const double x0 = sx(lo) + 1, x1 = sx(hi) - 1, xm = (sx(lo) + sx(hi)) / 2;
    double label_at = 0;
    if (b.count > 0 && b.accuracy) {
      const double a = std::clamp(*b.accuracy, 0.0, 1.0);
      svg.rect(x0, sy(a), x1 - x0, sy(0) - sy(a), series_color(0), "",
               str("confidence ", format_fixed(lo, 2), "\xE2\x80\x93", format_fixed(hi, 2), ": ",
                   format_count(b.count), " predictions, accuracy ", format_percent(a),
                   ", mean confidence ", format_percent(b.confidence)));
      label_at = a;
    }
    if (b.count > 0 && b.confidence) {
      const double conf = std::clamp(*b.confidence, 0.0, 1.0);
      svg.line(x0, sy(conf), x1, sy(conf), series_color(1), 2.5);
      label_at = std::max(label_at, conf);
    }
    svg.text(xm, sy(label_at) - 5, format_count(b.count), "middle", 10,
             b.count > 0 ? "#333" : "#aab");
  }
  svg.line(sx(0), sy(0), sx(1), sy(1), "#999", 1.5, "5 4");
  svg.line(left, top, left, top + ph, kAxis);
  svg.line(left, top + ph, left + pw, top + ph, kAxis);
  svg.text(left + pw / 2, c.height - 8, "confidence (probability of the chosen tool)", "middle", 12,
           kAxis);
  svg.text(14, top + ph / 2, "accuracy", "middle", 12, kAxis, false, -90);
  return svg.finish();
}

// ---- coverage / precision of a confidence gate ----

std::string coverage_precision_svg(const CoveragePrecisionChart& c) {
  std::vector<LegendItem> items;
  bool any_fixed = false, any_point = false;
  double ymin = 1;
  for (const GateSeries& s : c.series) {
    items.push_back(stroke(s.name, s.color));
    for (const auto& [x, y] : s.points) ymin = std::min(ymin, y), any_point = true;
    any_fixed = any_fixed || s.fixed.has_value();
    if (s.fixed) ymin = std::min(ymin, s.fixed->second);
  }
  items.push_back({"chosen threshold", "#444", false, "", true});
  if (any_fixed) items.push_back(swatch("threshold from held-out data", "#444"));
  if (c.target_precision) {
    items.push_back(stroke(c.target_label.empty() ? "target " + format_percent(*c.target_precision)
                                                  : c.target_label,
                           "#999", "5 4"));
    ymin = std::min(ymin, *c.target_precision);
  }
  // The last series' points in words under the legend: labels beside the markers would cross the
  // curves, which crowd the top of the plot.
  std::vector<std::string> captions;
  if (!c.series.empty()) {
    const GateSeries& last = c.series.back();
    if (last.chosen && !last.chosen_label.empty())
      captions.push_back("\xE2\x97\x8F " + last.name + ": " + last.chosen_label);
    if (last.fixed && !last.fixed_label.empty())
      captions.push_back("\xE2\x96\xA0 " + last.name + ": " + last.fixed_label);
  }
  const double left = 58, right = 16, bottom = 46;
  const auto rows = legend_rows(items, c.width - left - right);
  const double legend_end = 42 + 18.0 * static_cast<double>(rows.size() - 1);
  const double top = legend_end + 20 + 16.0 * static_cast<double>(captions.size());
  const double ph = c.height - top - bottom, pw = c.width - left - right;
  SvgWriter svg(c.width, c.height, c.title);
  svg.text(8, 20, c.title, "start", 14, "#222", true);
  if (!any_point) {
    svg.text(c.width / 2, c.height / 2, "no data", "middle", 12, kMuted);
    return svg.finish();
  }
  for (size_t r = 0; r < rows.size(); ++r)
    draw_legend(svg, rows[r], c.width - right, 42 + 18.0 * r);
  for (size_t k = 0; k < captions.size(); ++k)
    svg.text(left, legend_end + 18 + 16.0 * k, fit_text(captions[k], pw, 11), "start", 11, "#333");

  // Precision from a round value below the lowest one shown, up to 100%: a well-gated model's
  // curve lives in the top few percent, which an axis from 0 would flatten.
  const Ticks t0 = nice_ticks(std::max(0.0, ymin), 1.0, 5);
  double y0 = std::max(0.0, std::floor(std::max(0.0, ymin) / t0.step + 1e-9) * t0.step);
  if (y0 > 1 - 1e-9) y0 = 0.9;  // every answer right: still show where 100% sits
  const Ticks yt = nice_ticks(y0, 1.0, 5);
  const Scale sx{0, 1, left, left + pw}, sy{y0, 1, top + ph, top};
  for (double v : yt.values) {
    if (v < y0 - 1e-9 || v > 1 + 1e-9) continue;
    svg.line(left, sy(v), left + pw, sy(v), kGrid);
    svg.text(left - 6, sy(v) + 4, format_percent(v, yt.step < 0.01 ? 1 : 0), "end", 11, kAxis);
  }
  for (int k = 0; k <= 5; ++k) {
    const double v = k / 5.0;
    svg.line(sx(v), top + ph, sx(v), top + ph + 4, kAxis);
    svg.text(sx(v), top + ph + 17, format_percent(v, 0), "middle", 11, kAxis);
  }
  if (c.target_precision) {
    const double y = sy(std::clamp(*c.target_precision, 0.0, 1.0));
    svg.line(left, y, left + pw, y, "#999", 1.5, "5 4");
  }
  for (size_t k = 0; k < c.series.size(); ++k) {
    const GateSeries& s = c.series[k];
    // Thousands of examples give thousands of points; those landing on the same pixel are one.
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : s.points) {
      const std::pair<double, double> p = {sx(std::clamp(x, 0.0, 1.0)),
                                           sy(std::clamp(y, 0.0, 1.0))};
      if (px.empty() || std::abs(p.first - px.back().first) >= 0.5 ||
          std::abs(p.second - px.back().second) >= 0.5) {
        px.push_back(p);
      }
    }
    if (px.size() > 1) svg.polyline(px, s.color, 2);
    if (px.size() == 1) svg.circle(px[0].first, px[0].second, 3, s.color);
  }
  // Markers over every curve: a dot for the chosen threshold, a square for one from elsewhere,
  // each ringed in white so that it stands out where curves cross.
  for (const GateSeries& s : c.series) {
    auto at = [&](const std::pair<double, double>& p) {
      return std::make_pair(sx(std::clamp(p.first, 0.0, 1.0)), sy(std::clamp(p.second, 0.0, 1.0)));
    };
    if (s.chosen) {
      const auto [x, y] = at(*s.chosen);
      svg.circle(x, y, 7, "#fff");
      svg.circle(x, y, 5.5, s.color, s.name + ": " + s.chosen_label);
    }
    if (s.fixed) {
      const auto [x, y] = at(*s.fixed);
      svg.rect(x - 6, y - 6, 12, 12, "#fff");
      svg.rect(x - 4.5, y - 4.5, 9, 9, s.color, "", s.name + ": " + s.fixed_label);
    }
  }
  svg.line(left, top, left, top + ph, kAxis);
  svg.line(left, top + ph, left + pw, top + ph, kAxis);
  svg.text(left + pw / 2, c.height - 8, c.x_label, "middle", 12, kAxis);
  svg.text(14, top + ph / 2, c.y_label, "middle", 12, kAxis, false, -90);
  return svg.finish();
}

}  // namespace tsft
