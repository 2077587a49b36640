#include "eval/report_tables.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

const char kFormat[] = "toolsft-eval/1";

enum class Format { kPercent, kPercent2, kFixed1, kFixed2, kFixed3, kCount };

// One comparison column: the value at model[section][key] (section nullptr: the model itself).
struct Column {
  std::string header;
  const char* section;
  const char* key;
  Format format;
};

const Column kSelectionColumns[] = {
    {"Accuracy", "tool_selection", "accuracy", Format::kPercent},
    {"Macro-F1", "tool_selection", "macro_f1", Format::kPercent},
    {"ECE", "tool_selection.calibration", "ece", Format::kPercent2},
    {"Invalid", "tool_selection", "invalid_rate", Format::kPercent},
};
const Column kCallingColumns[] = {
    {"Name F1", "tool_calling", "name_f1", Format::kPercent},
    {"Args exact", "tool_calling", "arguments_exact_match", Format::kPercent},
    {"AST acc.", "tool_calling", "ast_accuracy", Format::kPercent},
    {"AST one-call", "tool_calling", "ast_accuracy_single", Format::kPercent},
    {"Hallucinated", "tool_calling", "hallucinated_call_rate", Format::kPercent},
    {"Missed", "tool_calling", "missed_call_rate", Format::kPercent},
};
const Column kPerplexityColumns[] = {
    {"Loss", "perplexity", "loss", Format::kFixed3},
    {"Perplexity", "perplexity", "perplexity", Format::kFixed2},
    {"Tokens", "perplexity", "tokens", Format::kCount},
};
const Column kPerplexityExtra = {"Perplexity", "perplexity", "perplexity", Format::kFixed2};
const Column kSeconds = {"Seconds", nullptr, "seconds", Format::kFixed1};
const char kGate[] = "tool_selection.gate";
const char kGateChosen[] = "tool_selection.gate.operating_point";
const char kGateFixed[] = "tool_selection.gate.fixed_threshold";

std::string format(std::optional<double> v, Format f) {
  switch (f) {
    case Format::kPercent:
      return format_percent(v, 1);
    case Format::kPercent2:
      return format_percent(v, 2);
    case Format::kFixed1:
      return format_fixed(v, 1);
    case Format::kFixed2:
      return format_fixed(v, 2);
    case Format::kFixed3:
      return format_fixed(v, 3);
    case Format::kCount:
      return format_count(v);
  }
  return kDash;
}

std::string models_where(size_t i) {
  return str("report.models[", i, "]");
}

// model[path] where path is "a" or "a.b"; nullptr when any step is missing or null (the
// contract's way of saying "not computed", e.g. calibration in generation mode).
const ordered_json* section(const ordered_json& model, const std::string& path,
                            const std::string& where) {
  const ordered_json* at = &model;
  std::string at_where = where;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = path.find('.', start);
    const std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto it = at->find(key);
    if (it == at->end() || it->is_null()) return nullptr;
    at_where += "." + key;
    if (!it->is_object()) fail(at_where, ": expected an object, got ", it->type_name());
    at = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return at;
}

std::optional<double> column_value(const ordered_json& model, const Column& c,
                                   const std::string& where) {
  if (c.section == nullptr) return number_field(model, c.key, where);
  const ordered_json* s = section(model, c.section, where);
  return s ? number_field(*s, c.key, where + "." + c.section) : std::nullopt;
}

// A string field shown as it is; any other JSON value (a call's arguments object) as compact JSON.
std::string text_field(const ordered_json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return kDash;
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

const ordered_json& model_at(const ordered_json& report, size_t i) {
  const ordered_json& models = report.at("models");
  TSFT_CHECK(i < models.size(), "model ", i, " of ", models.size());
  return models[i];
}

std::vector<std::string> string_array(const ordered_json& obj, const char* key,
                                      const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) fail(where, ".", key, ": expected an array of strings");
  std::vector<std::string> out;
  for (size_t k = 0; k < it->size(); ++k) {
    if (!(*it)[k].is_string()) fail(where, ".", key, "[", k, "]: expected a string");
    out.push_back((*it)[k].get<std::string>());
  }
  return out;
}

}  // namespace

ReportTask report_task(const ordered_json& report) {
  if (!report.is_object()) fail("report: expected a JSON object, got ", report.type_name());
  auto fmt = report.find("format");
  if (fmt == report.end() || !fmt->is_string() || fmt->get<std::string>() != kFormat) {
    fail("report.format: expected \"", kFormat, "\", got ",
         fmt == report.end() ? std::string("nothing") : fmt->dump());
  }
  auto models = report.find("models");
  if (models == report.end() || !models->is_array()) fail("report.models: expected an array");
  for (size_t i = 0; i < models->size(); ++i) {
    if (!(*models)[i].is_object()) fail(models_where(i), ": expected an object");
  }
  auto task = report.find("task");
  const std::string name =
      task != report.end() && task->is_string() ? task->get<std::string>() : "";
  if (name == "tool_selection") return ReportTask::kToolSelection;
  if (name == "tool_calling") return ReportTask::kToolCalling;
  if (name == "perplexity") return ReportTask::kPerplexity;
  fail("report.task: expected \"tool_selection\", \"tool_calling\" or \"perplexity\", got ",
       task == report.end() ? std::string("nothing") : task->dump());
}

const char* task_key(ReportTask task) {
  switch (task) {
    case ReportTask::kToolSelection:
      return "tool_selection";
    case ReportTask::kToolCalling:
      return "tool_calling";
    case ReportTask::kPerplexity:
      return "perplexity";
  }
  return "";
}

const char* task_title(ReportTask task) {
  switch (task) {
    case ReportTask::kToolSelection:
      return "Tool selection";
    case ReportTask::kToolCalling:
      return "Tool calling";
    case ReportTask::kPerplexity:
      return "Perplexity";
  }
  return "";
}

std::string model_name(const ordered_json& report, size_t i) {
  const ordered_json& m = model_at(report, i);
  auto it = m.find("name");
  if (it != m.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  return str("model ", i + 1);
}

std::optional<double> number_field(const ordered_json& obj, const char* key,
                                   const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) fail(where, ".", key, ": expected a number or null, got ", it->dump());
  const double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_created(const std::string& created) {
  // Exactly the shape the eval command writes; anything else is shown untouched.
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (created.size() != shape.size()) return created;
  for (size_t k = 0; k < shape.size(); ++k) {
    const bool digit = created[k] >= '0' && created[k] <= '9';
    if (shape[k] == 'd' ? !digit : created[k] != shape[k]) return created;
  }
  return created.substr(0, 10) + " " + created.substr(11, 5) + " UTC";
}

SharedEnds shared_ends(const std::vector<std::string>& texts) {
  SharedEnds e;
  if (texts.size() < 2) return e;
  size_t shortest = texts[0].size();
  for (const std::string& t : texts) shortest = std::min(shortest, t.size());
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  size_t p = 0;
  while (p < shortest && std::all_of(texts.begin(), texts.end(),
                                     [&](const std::string& t) { return t[p] == texts[0][p]; })) {
    ++p;
  }
  // Back to just after a whitespace character, so the kept part starts with a whole word.
  while (p > 0 && !space(texts[0][p - 1])) --p;
  size_t s = 0;
  const auto at_end = [](const std::string& t, size_t k) { return t[t.size() - 1 - k]; };
  while (s < shortest - p && std::all_of(texts.begin(), texts.end(), [&](const std::string& t) {
           return at_end(t, s) == at_end(texts[0], s);
         })) {
    ++s;
  }
  while (s > 0 && !space(at_end(texts[0], s - 1))) --s;
  e.prefix = p;
  e.suffix = s;
  return e;
}

ReportTable comparison_table(const ordered_json& report) {
  const ReportTask task = report_task(report);
  const ordered_json& models = report.at("models");
  std::vector<Column> columns;
  switch (task) {
    case ReportTask::kToolSelection:
      columns.assign(std::begin(kSelectionColumns), std::end(kSelectionColumns));
      break;
    case ReportTask::kToolCalling:
      columns.assign(std::begin(kCallingColumns), std::end(kCallingColumns));
      break;
    case ReportTask::kPerplexity:
      columns.assign(std::begin(kPerplexityColumns), std::end(kPerplexityColumns));
      break;
  }
  if (task != ReportTask::kPerplexity) {
    // Perplexity is optional beside the task's metrics: a column only when some model has it.
    for (const ordered_json& m : models) {
      if (m.contains("perplexity") && !m["perplexity"].is_null()) {
        columns.push_back(kPerplexityExtra);
        break;
      }
    }
  }
  if (task == ReportTask::kToolSelection) {
    // The gate's coverage at its target, and at an applied threshold, when some model has them.
    std::optional<double> target;
    bool gated = false, targets_differ = false, fixed = false;
    for (size_t i = 0; i < models.size(); ++i) {
      const ordered_json* g = section(models[i], kGate, models_where(i));
      if (!g) continue;
      const auto t = number_field(*g, "target_precision", models_where(i) + "." + kGate);
      targets_differ = targets_differ || (gated && t != target);
      if (!gated) target = t;
      gated = true;
      fixed = fixed || section(models[i], kGateFixed, models_where(i)) != nullptr;
    }
    if (gated) {
      columns.push_back(
          {target && !targets_differ ? "Cov. @ " + format_target(*target) + " prec." : "Gated cov.",
           kGateChosen, "coverage", Format::kPercent});
    }
    if (fixed) {
      columns.push_back({"Prec. @ thr.", kGateFixed, "precision", Format::kPercent});
      columns.push_back({"Cov. @ thr.", kGateFixed, "coverage", Format::kPercent});
    }
  }
  columns.push_back(kSeconds);

  ReportTable t;
  t.headers = {"Model", "Step"};
  t.kinds = {CellKind::kLabel, CellKind::kNumber};
  for (const Column& c : columns) {
    t.headers.push_back(c.header);
    t.kinds.push_back(CellKind::kNumber);
  }
  for (size_t i = 0; i < models.size(); ++i) {
    const std::string where = models_where(i);
    std::vector<std::string> row = {model_name(report, i),
                                    format_count(number_field(models[i], "step", where))};
    for (const Column& c : columns)
      row.push_back(format(column_value(models[i], c, where), c.format));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::optional<ReportTable> per_class_table(const ordered_json& report, size_t i) {
  const std::string where = models_where(i);
  const ordered_json* ts = section(model_at(report, i), "tool_selection", where);
  if (!ts) return std::nullopt;
  ReportTable t;
  t.headers = {"Label", "Support", "Predicted", "Precision", "Recall", "F1"};
  t.kinds = {CellKind::kLabel,  CellKind::kNumber, CellKind::kNumber,
             CellKind::kNumber, CellKind::kNumber, CellKind::kNumber};
  auto pc = ts->find("per_class");
  if (pc == ts->end() || pc->is_null()) return t;
  if (!pc->is_array()) fail(where, ".tool_selection.per_class: expected an array");
  for (size_t k = 0; k < pc->size(); ++k) {
    const ordered_json& c = (*pc)[k];
    const std::string cw = str(where, ".tool_selection.per_class[", k, "]");
    if (!c.is_object()) fail(cw, ": expected an object");
    t.rows.push_back({text_field(c, "label"), format_count(number_field(c, "support", cw)),
                      format_count(number_field(c, "predicted", cw)),
                      format_percent(number_field(c, "precision", cw)),
                      format_percent(number_field(c, "recall", cw)),
                      format_percent(number_field(c, "f1", cw))});
  }
  return t;
}

std::optional<ReportTable> confusion_table(const ordered_json& report, size_t i) {
  const std::string where = models_where(i) + ".tool_selection";
  const ordered_json* ts = section(model_at(report, i), "tool_selection", models_where(i));
  if (!ts) return std::nullopt;
  const std::vector<std::string> labels = string_array(*ts, "labels", where);
  ReportTable t;
  t.headers = {"Expected"};
  t.kinds = {CellKind::kLabel};
  for (const std::string& l : labels) {
    t.headers.push_back(l);
    t.kinds.push_back(CellKind::kNumber);
  }
  t.headers.push_back("(invalid)");
  t.kinds.push_back(CellKind::kNumber);
  auto cm = ts->find("confusion");
  if (cm == ts->end() || !cm->is_array() || cm->size() != labels.size()) {
    fail(where, ".confusion: expected ", labels.size(), " rows (one per label)");
  }
  for (size_t r = 0; r < labels.size(); ++r) {
    const ordered_json& row = (*cm)[r];
    if (!row.is_array() || row.size() != labels.size() + 1) {
      fail(where, ".confusion[", r, "]: expected ", labels.size() + 1,
           " counts (one per label, then \"(invalid)\")");
    }
    std::vector<std::string> cells = {labels[r]};
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c].is_number() || !std::isfinite(row[c].get<double>())) {
        fail(where, ".confusion[", r, "][", c, "]: expected a count, got ", row[c].dump());
      }
      cells.push_back(format_count(row[c].get<double>()));
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

std::string format_threshold(double t) {
  int decimals = 4;
  // Two significant digits of 1 - t at least: 0.99995 must not read as 1.0000.
  while (t < 1 && decimals < 10 && 1 - t < 100 * std::pow(10.0, -decimals)) ++decimals;
  return format_fixed(t, decimals);
}

std::string format_target(double p) {
  std::string s = format_fixed(p * 100, 2);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "%";
}

namespace {

// A gate point's cells: threshold, coverage, precision, answered, abstained (of n).
std::vector<std::string> gate_cells(const ordered_json* point, std::optional<double> n,
                                    const std::string& where) {
  if (!point) return {kDash, kDash, kDash, kDash, kDash};
  if (!point->is_object()) fail(where, ": expected an object or null");
  const auto threshold = number_field(*point, "threshold", where);
  const auto answered = number_field(*point, "answered", where);
  return {threshold ? format_threshold(*threshold) : kDash,
          format_percent(number_field(*point, "coverage", where)),
          format_percent(number_field(*point, "precision", where)), format_count(answered),
          n && answered ? format_count(*n - *answered) : kDash};
}

// gate[key] as an object, nullptr when missing or null.
const ordered_json* gate_point(const ordered_json& gate, const char* key) {
  auto it = gate.find(key);
  return it == gate.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

std::optional<ReportTable> gate_table(const ordered_json& report, size_t i) {
  const std::string where = models_where(i) + "." + kGate;
  const ordered_json* g = section(model_at(report, i), kGate, models_where(i));
  if (!g) return std::nullopt;
  const auto n = number_field(*g, "n", where);
  const auto target = number_field(*g, "target_precision", where);
  ReportTable t;
  t.headers = {"Operating point", "Threshold", "Coverage", "Precision", "Answered", "Abstained"};
  t.kinds = {CellKind::kLabel,  CellKind::kNumber, CellKind::kNumber,
             CellKind::kNumber, CellKind::kNumber, CellKind::kNumber};
  auto ops = g->find("operating_points");
  if (ops != g->end() && !ops->is_null()) {
    if (!ops->is_array()) fail(where, ".operating_points: expected an array");
    for (size_t k = 0; k < ops->size(); ++k) {
      const ordered_json& op = (*ops)[k];
      const std::string ow = str(where, ".operating_points[", k, "]");
      if (!op.is_object()) fail(ow, ": expected an object");
      const auto p = number_field(op, "target_precision", ow);
      std::vector<std::string> row = {str("precision \xE2\x89\xA5 ", p ? format_target(*p) : kDash,
                                          p && target && *p == *target ? " (target)" : "")};
      for (std::string& c : gate_cells(gate_point(op, "point"), n, ow + ".point"))
        row.push_back(std::move(c));
      t.rows.push_back(std::move(row));
    }
  }
  if (const ordered_json* fixed = gate_point(*g, "fixed_threshold")) {
    auto from = g->find("fixed_threshold_from");
    const std::string source =
        from != g->end() && from->is_string() ? from->get<std::string>() : "";
    std::vector<std::string> row = {source.empty() ? "threshold given"
                                                   : "threshold from " + source};
    for (std::string& c : gate_cells(fixed, n, where + ".fixed_threshold"))
      row.push_back(std::move(c));
    t.rows.push_back(std::move(row));
  }
  auto curve = g->find("curve");
  const ordered_json* all =
      curve != g->end() && curve->is_array() && !curve->empty() ? &curve->back() : nullptr;
  std::vector<std::string> row = {"answer everything"};
  for (std::string& c : gate_cells(all, n, where + ".curve[-1]")) row.push_back(std::move(c));
  t.rows.push_back(std::move(row));
  return t;
}

std::optional<ReportTable> call_gate_table(const ordered_json& report, size_t i) {
  const char kCallGate[] = "tool_calling.gate";
  const std::string where = models_where(i) + "." + kCallGate;
  const ordered_json* g = section(model_at(report, i), kCallGate, models_where(i));
  if (!g) return std::nullopt;
  const auto target = number_field(*g, "target_precision", where);
  auto curve = g->find("curve");
  auto rates = g->find("rates");
  if (curve == g->end() || !curve->is_array() || rates == g->end() || !rates->is_array() ||
      rates->size() != curve->size())
    fail(where, ": expected \"curve\" and \"rates\" arrays of one length");
  ReportTable t;
  t.headers = {"Gate", "Threshold", "Calls kept", "Precision", "AST one-call", "Hallucinated",
               "Missed"};
  t.kinds = {CellKind::kLabel,  CellKind::kNumber, CellKind::kNumber, CellKind::kNumber,
             CellKind::kNumber, CellKind::kNumber, CellKind::kNumber};
  // A row: the point's threshold, calls kept and precision, then the rates at that threshold
  // (`at`, or looked up in "rates" by the point's threshold).
  auto row = [&](std::string label, const ordered_json* point, const ordered_json* at,
                 const std::string& pw, bool show_threshold) {
    std::vector<std::string> r = {std::move(label)};
    if (!point) {
      for (int k = 0; k < 6; ++k) r.push_back(kDash);
      t.rows.push_back(std::move(r));
      return;
    }
    if (!point->is_object()) fail(pw, ": expected an object or null");
    const auto threshold = number_field(*point, "threshold", pw);
    if (!at && threshold)
      for (const ordered_json& x : *rates)
        if (x.is_object() && number_field(x, "threshold", where + ".rates") == threshold) at = &x;
    r.push_back(show_threshold && threshold ? format_threshold(*threshold) : kDash);
    r.push_back(format_count(number_field(*point, "answered", pw)));
    r.push_back(format_percent(number_field(*point, "precision", pw)));
    for (const char* key : {"ast_accuracy_single", "hallucinated_call_rate", "missed_call_rate"})
      r.push_back(at ? format_percent(number_field(*at, key, where + ".rates")) : kDash);
    t.rows.push_back(std::move(r));
  };
  if (!curve->empty())
    row("no gate (every call)", &curve->back(), &rates->back(), where + ".curve[-1]", false);
  auto ops = g->find("operating_points");
  if (ops != g->end() && ops->is_array()) {
    for (size_t k = 0; k < ops->size(); ++k) {
      const ordered_json& op = (*ops)[k];
      const std::string ow = str(where, ".operating_points[", k, "]");
      if (!op.is_object()) fail(ow, ": expected an object");
      const auto p = number_field(op, "target_precision", ow);
      row(str("precision \xE2\x89\xA5 ", p ? format_target(*p) : kDash,
              p && target && *p == *target ? " (target)" : ""),
          gate_point(op, "point"), nullptr, ow + ".point", true);
    }
  }
  if (const ordered_json* fixed = gate_point(*g, "fixed_threshold")) {
    auto from = g->find("fixed_threshold_from");
    const std::string source =
        from != g->end() && from->is_string() ? from->get<std::string>() : "";
    row(source.empty() ? "threshold given" : "threshold from " + source, fixed,
        gate_point(*g, "fixed_threshold_rates"), where + ".fixed_threshold", true);
  }
  return t;
}

std::optional<std::string> gate_summary(const ordered_json& report, size_t i) {
  const std::string where = models_where(i) + "." + kGate;
  const ordered_json* g = section(model_at(report, i), kGate, models_where(i));
  if (!g) return std::nullopt;
  const auto target = number_field(*g, "target_precision", where);
  const std::string goal = target ? format_target(*target) : kDash;
  std::string out;
  if (const ordered_json* op = gate_point(*g, "operating_point")) {
    const std::string ow = where + ".operating_point";
    if (!op->is_object()) fail(ow, ": expected an object or null");
    const auto threshold = number_field(*op, "threshold", ow);
    const auto coverage = number_field(*op, "coverage", ow);
    const std::string precision = format_percent(number_field(*op, "precision", ow));
    out = str("At the target precision of ", goal, ", the lowest threshold reaching it on this data "
              "is ", threshold ? format_threshold(*threshold) : kDash, ": it answers ",
              coverage == 1.0 ? str("every request at ", precision, " precision.")
                              : str(format_percent(coverage), " of the requests at ", precision,
                                    " precision and abstains on the rest."));
  } else if (number_field(*g, "n", where).value_or(0) > 0) {
    out = str("No threshold reaches the target precision of ", goal,
              " on this data: even the most confident answers fall short of it.");
  } else {
    out = "No examples: no curve.";
  }
  if (const ordered_json* fixed = gate_point(*g, "fixed_threshold")) {
    const std::string fw = where + ".fixed_threshold";
    if (!fixed->is_object()) fail(fw, ": expected an object or null");
    auto from = g->find("fixed_threshold_from");
    const std::string source =
        from != g->end() && from->is_string() ? from->get<std::string>() : "";
    const auto threshold = number_field(*fixed, "threshold", fw);
    out += str(" The threshold ", threshold ? format_threshold(*threshold) : kDash,
               source.empty() ? "" : " (from " + source + ")", " answers ",
               format_percent(number_field(*fixed, "coverage", fw)), " here at ",
               format_percent(number_field(*fixed, "precision", fw)), " precision.");
  }
  return out;
}

std::optional<ReportTable> errors_table(const ordered_json& report, size_t i) {
  const ReportTask task = report_task(report);
  if (task == ReportTask::kPerplexity) return std::nullopt;
  const std::string where = models_where(i) + "." + task_key(task);
  const ordered_json* s = section(model_at(report, i), task_key(task), models_where(i));
  if (!s) return std::nullopt;
  const bool selection = task == ReportTask::kToolSelection;
  ReportTable t;
  t.headers = {"Prompt", "Expected", "Got", selection ? "Confidence" : "Reason"};
  t.kinds = {CellKind::kFreeText, CellKind::kFreeText, CellKind::kFreeText,
             selection ? CellKind::kNumber : CellKind::kFreeText};
  auto errors = s->find("errors");
  if (errors == s->end() || errors->is_null()) return t;
  if (!errors->is_array()) fail(where, ".errors: expected an array");
  for (size_t k = 0; k < errors->size(); ++k) {
    const ordered_json& e = (*errors)[k];
    const std::string ew = str(where, ".errors[", k, "]");
    if (!e.is_object()) fail(ew, ": expected an object");
    t.rows.push_back(
        {text_field(e, "prompt"), text_field(e, "expected"), text_field(e, "got"),
         selection ? format_percent(number_field(e, "confidence", ew)) : text_field(e, "reason")});
  }
  return t;
}

}  // namespace tsft
