#include "eval/report_html.h"

#include <algorithm>

#include "core/error.h"
#include "eval/report_tables.h"
#include "eval/svg_chart.h"
#include "eval/text_util.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

// System fonts only: the page must render the same with no network.
const char kStyle[] = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2328;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1220px; margin: 0 auto; padding: 28px 32px 36px; }
header { border-bottom: 1px solid #d8dce1; padding-bottom: 14px; margin-bottom: 8px; }
.eyebrow { margin: 0; color: #6a737d; font-size: 12px; letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: 2px 0 6px; font-size: 26px; font-weight: 650; }
h2 { margin: 28px 0 10px; font-size: 18px; font-weight: 650; }
.meta { margin: 0; color: #57606a; }
.lead { margin: 0 0 10px; color: #3b434b; max-width: 960px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px;
  align-items: stretch; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 12px 14px;
  overflow-x: auto; }
figure { margin: 0; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 0 auto; }
.note { margin: 0; color: #6a737d; font-style: italic; }
ul.notes { margin: 10px 0 0; padding-left: 20px; color: #6a737d; font-style: italic; }
.table-wrap { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; border-bottom: 1px solid #eaecef; text-align: left; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
th.num, td.num { text-align: right; white-space: nowrap; }
td.label { white-space: nowrap; }
td.text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
table.errors td.text:first-child { width: 45%; }
/* Tool calling: the expected and produced calls matter as much as the prompt. */
table.calling td.text:first-child { width: 30%; }
table.calling td.text:nth-child(2), table.calling td.text:nth-child(3) { width: 28%; }
/* Breaking anywhere lets long calls wrap, but must not squeeze a tool name into a few letters. */
table.errors td.text + td.text { min-width: 16ch; }
td.empty { color: #8b949e; font-style: italic; }
span.shared { color: #9aa1a9; }
footer { margin-top: 28px; color: #8b949e; font-size: 12px; }
@media (max-width: 820px) {
  main { padding: 16px 12px 24px; }
  th, td { padding: 5px 6px; }
}
@media print {
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  th, td { padding: 4px 6px; }
  .card, .table-wrap { overflow: visible; }
  .grid { grid-template-columns: 1fr 1fr; }
  .card, figure, tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)css";

// The charts section as it is built: a grid of charts, then one line for each chart left out
// (a card of its own would leave a hole in the grid).
struct Charts {
  std::string grid;
  std::vector<std::string> notes;
  int svg_count = 0;

  void chart(const std::string& svg) {
    grid += "<div class=\"card\"><figure>" + svg + "</figure></div>\n";
    ++svg_count;
  }
  void note(const std::string& text) { notes.push_back(text); }
  std::string html() const {
    std::string out;
    if (!grid.empty()) out += "<div class=\"grid\">\n" + grid + "</div>\n";
    if (!notes.empty()) {
      out += "<ul class=\"notes\">";
      for (const std::string& n : notes) out += "<li>" + html_escape(n) + "</li>";
      out += "</ul>\n";
    }
    return out;
  }
};

std::string cell_class(CellKind kind) {
  switch (kind) {
    case CellKind::kNumber:
      return "num";
    case CellKind::kLabel:
      return "label";
    case CellKind::kFreeText:
      return "text";
  }
  return "";
}

// A prompt in full, its beginning and end shared with the other prompts of the sample greyed so
// that the part which tells them apart stands out.
std::string prompt_html(const std::string& prompt, const SharedEnds& e) {
  if (prompt == kDash || e.prefix + e.suffix > prompt.size()) return html_escape(prompt);
  const std::string head = prompt.substr(0, e.prefix);
  const std::string middle = prompt.substr(e.prefix, prompt.size() - e.prefix - e.suffix);
  const std::string tail = prompt.substr(prompt.size() - e.suffix);
  std::string out;
  if (!head.empty()) out += "<span class=\"shared\">" + html_escape(head) + "</span>";
  out += html_escape(middle);
  if (!tail.empty()) out += "<span class=\"shared\">" + html_escape(tail) + "</span>";
  return out;
}

// `prompts`: column 0 holds prompts, drawn by prompt_html.
std::string table_html(const ReportTable& t, const std::string& table_class = "",
                       bool prompts = false) {
  SharedEnds ends;
  if (prompts) {
    std::vector<std::string> texts;
    for (const auto& row : t.rows) {
      if (row[0] != kDash) texts.push_back(row[0]);
    }
    ends = shared_ends(texts);
  }
  std::string out = "<div class=\"table-wrap\"><table" +
                    (table_class.empty() ? "" : " class=\"" + table_class + "\"") + "><thead><tr>";
  for (size_t c = 0; c < t.headers.size(); ++c) {
    out += "<th class=\"" + cell_class(t.kinds[c]) + "\">" + html_escape(t.headers[c]) + "</th>";
  }
  out += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      // An empty model output would be an invisible cell.
      if (row[c].empty() && t.kinds[c] == CellKind::kFreeText) {
        out += "<td class=\"text empty\">(empty)</td>";
      } else if (prompts && c == 0) {
        out += "<td class=\"text\">" + prompt_html(row[c], ends) + "</td>";
      } else {
        out += "<td class=\"" + cell_class(t.kinds[c]) + "\">" + html_escape(row[c]) + "</td>";
      }
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string string_field(const ordered_json& obj, const char* key) {
  auto it = obj.find(key);
  return obj.is_object() && it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// models[i][key] when it is an object, else nullptr (absent or null: not computed).
const ordered_json* model_section(const ordered_json& report, size_t i, const char* key) {
  const ordered_json& m = report["models"][i];
  auto it = m.find(key);
  return it != m.end() && it->is_object() ? &*it : nullptr;
}

// (step, value) points of report.training[part][*][key], finite values only, sorted by step.
std::vector<std::pair<double, double>> curve(const ordered_json& training, const char* part,
                                             const char* key) {
  std::vector<std::pair<double, double>> points;
  auto it = training.find(part);
  if (it == training.end() || it->is_null()) return points;
  const std::string where = str("report.training.", part);
  if (!it->is_array()) fail(where, ": expected an array");
  for (size_t k = 0; k < it->size(); ++k) {
    const ordered_json& e = (*it)[k];
    const std::string ew = str(where, "[", k, "]");
    if (!e.is_object()) fail(ew, ": expected an object");
    const auto step = number_field(e, "step", ew);
    const auto value = number_field(e, key, ew);
    if (step && value) points.emplace_back(*step, *value);
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return points;
}

void training_chart(Charts& charts, const ordered_json& report) {
  auto it = report.find("training");
  if (it == report.end() || it->is_null()) {
    charts.note("No training curves: this report has no training metrics.");
    return;
  }
  if (!it->is_object()) fail("report.training: expected an object");
  LineChart chart;
  chart.title = "Training and evaluation loss";
  chart.x_label = "step";
  chart.y_label = "loss";
  chart.width = 580;
  auto train = curve(*it, "train", "loss");
  auto eval = curve(*it, "eval", "eval_loss");
  if (!train.empty()) chart.series.push_back({"train loss", series_color(0), std::move(train)});
  // Evaluations are sparse: dots on each point show where they were taken.
  if (!eval.empty()) chart.series.push_back({"eval loss", series_color(1), std::move(eval), true});
  if (chart.series.empty()) {
    charts.note("No training curves: the training metrics hold no loss values.");
    return;
  }
  charts.chart(line_chart_svg(chart));

  // Task quality measured during training (recipes with eval.task_examples), when logged.
  LineChart task;
  task.title = "Task quality on fixed held-out examples during training";
  task.x_label = "step";
  task.y_label = "share";
  task.width = 580;
  const std::pair<const char*, const char*> keys[] = {
      {"task_name_f1", "tool-name F1"},
      {"task_arguments_exact_match", "argument exact match"},
      {"task_hallucinated_call_rate", "hallucinated calls"},
      {"task_accuracy", "accuracy"},
      {"task_macro_f1", "macro-F1"}};
  for (const auto& [key, label] : keys) {
    auto points = curve(*it, "eval", key);
    if (!points.empty())
      task.series.push_back({label, series_color(task.series.size()),
                             std::move(points), true});
  }
  if (!task.series.empty()) charts.chart(line_chart_svg(task));
}

// Per-tool F1 of every model, grouped by tool (labels in first-seen order across the models).
void f1_chart(Charts& charts, const ordered_json& report) {
  const size_t n = report["models"].size();
  BarChart chart;
  chart.title = "F1 per tool";
  chart.width = 580;
  std::vector<std::vector<std::pair<std::string, std::optional<double>>>> per_model;
  for (size_t i = 0; i < n; ++i) {
    const ordered_json* ts = model_section(report, i, "tool_selection");
    auto pc = ts ? ts->find("per_class") : ordered_json::const_iterator();
    if (!ts || pc == ts->end() || !pc->is_array()) continue;
    std::vector<std::pair<std::string, std::optional<double>>> f1;
    for (size_t k = 0; k < pc->size(); ++k) {
      const ordered_json& c = (*pc)[k];
      const std::string where = str("report.models[", i, "].tool_selection.per_class[", k, "]");
      if (!c.is_object()) fail(where, ": expected an object");
      const std::string label = string_field(c, "label");
      f1.emplace_back(label, number_field(c, "f1", where));
      if (std::find(chart.categories.begin(), chart.categories.end(), label) ==
          chart.categories.end()) {
        chart.categories.push_back(label);
      }
    }
    chart.series_names.push_back(model_name(report, i));
    per_model.push_back(std::move(f1));
  }
  if (chart.categories.empty()) {
    charts.note("No per-tool F1 chart: no model has per-class results.");
    return;
  }
  for (const std::string& label : chart.categories) {
    std::vector<std::optional<double>> row;
    for (const auto& f1 : per_model) {
      auto it = std::find_if(f1.begin(), f1.end(), [&](const auto& p) { return p.first == label; });
      row.push_back(it == f1.end() ? std::nullopt : it->second);
    }
    chart.values.push_back(std::move(row));
  }
  charts.chart(bar_chart_svg(chart));
}

void confusion_chart(Charts& charts, const ordered_json& report, size_t last) {
  const std::optional<ReportTable> t = confusion_table(report, last);
  if (!t) {
    charts.note("No confusion matrix: " + model_name(report, last) +
                " has no tool-selection results.");
    return;
  }
  HeatMap map;
  map.title = "Confusion matrix \xE2\x80\x94 " + model_name(report, last);
  map.row_axis = "expected tool";
  map.col_axis = "predicted tool";
  map.col_labels.assign(t->headers.begin() + 1, t->headers.end());
  map.width = 580;
  // confusion_table checked the shape; the counts are read back from the JSON, not the strings.
  const ordered_json& cm = report["models"][last]["tool_selection"]["confusion"];
  for (size_t r = 0; r < t->rows.size(); ++r) {
    map.row_labels.push_back(t->rows[r][0]);
    std::vector<double> counts;
    for (const ordered_json& v : cm[r]) counts.push_back(v.get<double>());
    map.counts.push_back(std::move(counts));
  }
  charts.chart(heat_map_svg(map));
}

void reliability_chart(Charts& charts, const ordered_json& report, size_t last) {
  const ordered_json* ts = model_section(report, last, "tool_selection");
  auto cal = ts ? ts->find("calibration") : ordered_json::const_iterator();
  if (!ts || cal == ts->end() || cal->is_null()) {
    charts.note("No reliability diagram: calibration is measured in scoring mode only.");
    return;
  }
  const std::string where = str("report.models[", last, "].tool_selection.calibration");
  if (!cal->is_object()) fail(where, ": expected an object");
  ReliabilityChart chart;
  chart.width = 580;
  chart.height = 430;
  chart.title = str("Reliability \xE2\x80\x94 ", model_name(report, last), " (ECE ",
                    format_percent(number_field(*cal, "ece", where), 2), ")");
  auto bins = cal->find("bins");
  if (bins == cal->end() || !bins->is_array()) fail(where, ".bins: expected an array");
  for (size_t k = 0; k < bins->size(); ++k) {
    const ordered_json& b = (*bins)[k];
    const std::string bw = str(where, ".bins[", k, "]");
    if (!b.is_object()) fail(bw, ": expected an object");
    ReliabilityBin bin;
    bin.lo = number_field(b, "lo", bw).value_or(0);
    bin.hi = number_field(b, "hi", bw).value_or(0);
    bin.count = number_field(b, "count", bw).value_or(0);
    bin.confidence = number_field(b, "confidence", bw);
    bin.accuracy = number_field(b, "accuracy", bw);
    chart.bins.push_back(bin);
  }
  charts.chart(reliability_svg(chart));
}

// Coverage/precision curves of every model with a confidence gate (tool selection in scoring
// mode; tool calling's call gate), each with its chosen operating point; the target precision is
// the last such model's. `task`: the models' section, "tool_selection" or "tool_calling".
void gate_chart(Charts& charts, const ordered_json& report, size_t last, const char* task) {
  const bool calls = std::string(task) == "tool_calling";
  CoveragePrecisionChart chart;
  chart.width = 580;
  chart.height = 430;
  const size_t n = report["models"].size();
  for (size_t i = 0; i < n; ++i) {
    const ordered_json* ts = model_section(report, i, task);
    auto g = ts ? ts->find("gate") : ordered_json::const_iterator();
    if (!ts || g == ts->end() || g->is_null()) continue;
    const std::string where = str("report.models[", i, "].", task, ".gate");
    if (!g->is_object()) fail(where, ": expected an object");
    GateSeries s;
    s.name = model_name(report, i);
    s.color = series_color(chart.series.size());
    auto curve = g->find("curve");
    if (curve != g->end() && !curve->is_null()) {
      if (!curve->is_array()) fail(where, ".curve: expected an array");
      for (size_t k = 0; k < curve->size(); ++k) {
        const ordered_json& p = (*curve)[k];
        const std::string pw = str(where, ".curve[", k, "]");
        if (!p.is_object()) fail(pw, ": expected an object");
        const auto coverage = number_field(p, "coverage", pw);
        const auto precision = number_field(p, "precision", pw);
        if (coverage && precision) s.points.emplace_back(*coverage, *precision);
      }
      std::stable_sort(s.points.begin(), s.points.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    // (coverage, precision) of an operating point, and its label.
    auto point = [&](const char* key, const std::string& what,
                     std::optional<std::pair<double, double>>& at, std::string& label) {
      auto it = g->find(key);
      if (it == g->end() || it->is_null()) return;
      const std::string pw = where + "." + key;
      if (!it->is_object()) fail(pw, ": expected an object or null");
      const auto coverage = number_field(*it, "coverage", pw);
      const auto precision = number_field(*it, "precision", pw);
      const auto threshold = number_field(*it, "threshold", pw);
      if (!coverage || !precision || !threshold) return;
      at = std::make_pair(*coverage, *precision);
      label = str(what, " ", format_threshold(*threshold), ": ", format_percent(*coverage),
                  calls ? " of the calls kept at " : " answered at ", format_percent(*precision),
                  " precision");
    };
    point("operating_point", "threshold", s.chosen, s.chosen_label);
    point("fixed_threshold", "held-out threshold", s.fixed, s.fixed_label);
    if (i == last || !chart.target_precision)
      chart.target_precision = number_field(*g, "target_precision", where);
    chart.series.push_back(std::move(s));
  }
  if (chart.series.empty()) {
    if (!calls)
      charts.note("No coverage/precision curve: the confidence gate is measured in scoring mode "
                  "only.");
    return;
  }
  if (chart.target_precision) chart.target_label = "target " + format_target(*chart.target_precision);
  if (calls) {
    chart.x_label = "share of the model's calls kept (call probability \xE2\x89\xA5 the threshold)";
    chart.y_label = "calls kept that the turn wanted";
  }
  chart.title = str(calls ? "Calls kept vs their precision \xE2\x80\x94 "
                          : "Coverage vs precision \xE2\x80\x94 ",
                    chart.series.size() == 1 ? chart.series[0].name
                    : calls                  ? "call gate"
                                             : "confidence gate");
  charts.chart(coverage_precision_svg(chart));
}

// Tool-calling metrics side by side for every model; rates where lower is better say so.
void calling_chart(Charts& charts, const ordered_json& report) {
  static const std::pair<const char*, const char*> kMetrics[] = {
      {"name_f1", "Tool name F1"},
      {"arguments_parse_rate", "Arguments parse"},
      {"arguments_exact_match", "Arguments exact match"},
      {"argument_accuracy", "Argument accuracy"},
      {"ast_accuracy", "AST accuracy"},
      {"ast_accuracy_single", "AST accuracy, one-call turns"},
      {"hallucinated_call_rate", "Hallucinated calls \xE2\x86\x93"},
      {"missed_call_rate", "Missed calls \xE2\x86\x93"},
      {"output_parse_error_rate", "Output parse errors \xE2\x86\x93"},
  };
  BarChart chart;
  chart.title = "Tool-calling metrics (\xE2\x86\x93 lower is better)";
  chart.width = 580;
  std::vector<const ordered_json*> sections;
  std::vector<size_t> model_index;
  for (size_t i = 0; i < report["models"].size(); ++i) {
    if (const ordered_json* tc = model_section(report, i, "tool_calling")) {
      sections.push_back(tc);
      model_index.push_back(i);
      chart.series_names.push_back(model_name(report, i));
    }
  }
  if (sections.empty()) {
    charts.note("No tool-calling chart: no model has tool-calling results.");
    return;
  }
  for (const auto& [key, title] : kMetrics) {
    chart.categories.push_back(title);
    std::vector<std::optional<double>> row;
    for (size_t s = 0; s < sections.size(); ++s) {
      row.push_back(
          number_field(*sections[s], key, str("report.models[", model_index[s], "].tool_calling")));
    }
    chart.values.push_back(std::move(row));
  }
  charts.chart(bar_chart_svg(chart));
}

}  // namespace

std::string render_html(const ordered_json& report) {
  const ReportTask task = report_task(report);
  const size_t n_models = report["models"].size();
  const ordered_json dataset = report.value("dataset", ordered_json::object());
  const std::string path = string_field(dataset, "path");
  const std::string created = string_field(report, "created");

  Charts charts;
  std::string b;
  b += "<header><p class=\"eyebrow\">toolsft evaluation</p><h1>" + html_escape(task_title(task)) +
       "</h1><p class=\"meta\">";
  std::vector<std::string> meta;
  if (!path.empty()) meta.push_back("<code>" + html_escape(path) + "</code>");
  if (dataset.is_object()) {
    if (auto examples = number_field(dataset, "examples", "report.dataset")) {
      meta.push_back(format_count(examples) + " examples");
    }
  }
  meta.push_back(str(n_models, n_models == 1 ? " model" : " models"));
  if (!created.empty()) meta.push_back(html_escape(format_created(created)));
  // Each piece is escaped where it is made (the path sits in <code>).
  for (size_t k = 0; k < meta.size(); ++k) b += (k ? " \xC2\xB7 " : "") + meta[k];
  b += "</p></header>\n";

  b += "<section><h2>Models</h2>\n" + table_html(comparison_table(report)) + "</section>\n";

  const size_t last = n_models ? n_models - 1 : 0;
  const std::string last_name = n_models ? model_name(report, last) : "";
  b += "<section><h2>Charts</h2>\n";
  if (task == ReportTask::kToolSelection) f1_chart(charts, report);
  if (task == ReportTask::kToolCalling) {
    calling_chart(charts, report);
    if (n_models) gate_chart(charts, report, last, "tool_calling");
  }
  training_chart(charts, report);
  if (task == ReportTask::kToolSelection && n_models) {
    confusion_chart(charts, report, last);
    reliability_chart(charts, report, last);
    gate_chart(charts, report, last, "tool_selection");
  }
  b += charts.html() + "</section>\n";

  if (task == ReportTask::kToolSelection && n_models) {
    if (auto per_class = per_class_table(report, last)) {
      b += "<section><h2>Per tool \xE2\x80\x94 " + html_escape(last_name) + "</h2>\n" +
           table_html(*per_class) + "</section>\n";
    }
    if (auto gate = gate_table(report, last)) {
      b += "<section><h2>Confidence gate \xE2\x80\x94 " + html_escape(last_name) + "</h2>\n" +
           "<p class=\"lead\">Answer only when the chosen tool's probability is at least the "
           "threshold; below it, abstain (say no tool fits, or ask the user). " +
           html_escape(*gate_summary(report, last)) + "</p>\n" + table_html(*gate) +
           "</section>\n";
    }
  }
  if (task == ReportTask::kToolCalling && n_models) {
    if (auto gate = call_gate_table(report, last)) {
      b += "<section><h2>Call gate \xE2\x80\x94 " + html_escape(last_name) + "</h2>\n" +
           "<p class=\"lead\">" + html_escape(kCallGateLead) + "</p>\n" + table_html(*gate) +
           "</section>\n";
    }
  }
  if (n_models) {
    if (auto errors = errors_table(report, last)) {
      b += "<section><h2>Errors \xE2\x80\x94 " + html_escape(last_name) + "</h2>\n";
      if (errors->rows.empty()) {
        b += "<div class=\"card\"><p class=\"note\">No errors in the sample.</p></div>\n";
      } else {
        b += table_html(*errors, task == ReportTask::kToolCalling ? "errors calling" : "errors",
                        true);
      }
      b += "</section>\n";
    }
  }
  b += "<footer id=\"report-end\">Generated by toolsft from report.json (" +
       html_escape(string_field(report, "format")) + ").</footer>\n";

  std::string title = str("toolsft eval \xC2\xB7 ", task_title(task));
  if (!path.empty()) title += " \xC2\xB7 " + path;
  return str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
             "<meta name=\"generator\" content=\"toolsft\"/>\n",
             "<meta name=\"toolsft-svg-count\" content=\"", charts.svg_count, "\"/>\n", "<title>",
             html_escape(title), "</title>\n<style>", kStyle, "</style>\n</head>\n",
             "<body>\n<main>\n", b, "</main>\n</body>\n</html>\n");
}

}  // namespace tsft
