#include "eval/report_markdown.h"

#include <algorithm>

#include "core/error.h"
#include "eval/report_tables.h"
#include "eval/text_util.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

// Widths past which text cells are cut (with "…"): the terminal is the first reader, and the HTML
// report shows the same text in full.
constexpr size_t kPromptWidth = 72;
constexpr size_t kFreeTextWidth = 40;
constexpr size_t kListTextWidth = 400;  // expected/produced calls in the tool-calling error list
// A confusion matrix wider than this numbers its columns instead of repeating the labels.
constexpr size_t kMaxTableWidth = 120;

// One line of text: newlines become "⏎" (so a prompt's shape stays visible), tabs spaces.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : clean_utf8(s)) {
    if (c == '\n') {
      out += "\xE2\x8F\x8E";
    } else if (c == '\r') {
      continue;
    } else {
      out += c == '\t' ? ' ' : c;
    }
  }
  return out;
}

// Plain text in a table cell: "|" would end the cell, and the rest would become markup on GitHub
// (HTML tags, links, emphasis, code).
std::string md_label(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) {
    if (c == '|' || c == '\\' || c == '<' || c == '>' || c == '`' || c == '*' || c == '[' ||
        c == ']') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Free text as a code span, so GitHub shows it verbatim ("<script>", "<|im_start|>"). The fence is
// one backtick longer than the longest run inside. In a table "|" is still escaped, because GFM
// splits table cells before it parses code spans.
std::string md_code(const std::string& s, size_t width, bool in_table = true) {
  // "``" is no empty code span in Markdown; an empty model output is worth naming.
  if (s.empty()) return "*(empty)*";
  std::string text = truncate_display(one_line(s), width);
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string escaped;
  for (char c : text) {
    if (c == '|' && in_table) escaped += '\\';
    escaped += c;
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !escaped.empty() && (escaped.front() == '`' || escaped.back() == '`');
  return fence + (pad ? " " : "") + escaped + (pad ? " " : "") + fence;
}

std::string render_cell(const std::string& text, CellKind kind, bool first_column) {
  if (text == kDash) return text;
  switch (kind) {
    case CellKind::kNumber:
      return text;
    case CellKind::kLabel:
      return md_label(text);
    case CellKind::kFreeText:
      return md_code(text, first_column ? kPromptWidth : kFreeTextWidth);
  }
  return text;
}

struct RenderedTable {
  std::vector<std::vector<std::string>> cells;  // header row first
  std::vector<size_t> widths;
  size_t total_width = 0;
};

RenderedTable render_cells(const ReportTable& t) {
  RenderedTable r;
  const size_t n = t.headers.size();
  std::vector<std::string> header;
  for (const std::string& h : t.headers) header.push_back(md_label(h));
  r.cells.push_back(std::move(header));
  for (const auto& row : t.rows) {
    TSFT_CHECK(row.size() == n, "row of ", row.size(), " cells in a table of ", n, " columns");
    std::vector<std::string> cells;
    for (size_t c = 0; c < n; ++c) cells.push_back(render_cell(row[c], t.kinds[c], c == 0));
    r.cells.push_back(std::move(cells));
  }
  // At least 3 columns wide: the separator row needs "---".
  r.widths.assign(n, 3);
  for (const auto& row : r.cells) {
    for (size_t c = 0; c < n; ++c) r.widths[c] = std::max(r.widths[c], display_width(row[c]));
  }
  r.total_width = 1;
  for (size_t w : r.widths) r.total_width += w + 3;
  return r;
}

std::string pad(const std::string& s, size_t width, bool right) {
  const std::string fill(width - std::min(width, display_width(s)), ' ');
  return right ? fill + s : s + fill;
}

std::string table_text(const ReportTable& t, const RenderedTable& r) {
  std::string out;
  const size_t n = t.headers.size();
  auto line = [&](const std::vector<std::string>& cells) {
    out += "|";
    for (size_t c = 0; c < n; ++c) {
      out += " " + pad(cells[c], r.widths[c], t.kinds[c] == CellKind::kNumber) + " |";
    }
    out += "\n";
  };
  line(r.cells[0]);
  out += "|";
  for (size_t c = 0; c < n; ++c) {
    const bool right = t.kinds[c] == CellKind::kNumber;
    out += " " +
           (right ? std::string(r.widths[c] - 1, '-') + ":"
                  : ":" + std::string(r.widths[c] - 1, '-')) +
           " |";
  }
  out += "\n";
  for (size_t k = 1; k < r.cells.size(); ++k) line(r.cells[k]);
  return out;
}

std::string table_text(const ReportTable& t) {
  return table_text(t, render_cells(t));
}

// The confusion matrix, with numbered columns when the labels would make it too wide to read in a
// terminal: "1 calculator" on the rows, "1" on the columns.
std::string confusion_text(ReportTable t) {
  RenderedTable r = render_cells(t);
  if (r.total_width <= kMaxTableWidth) return table_text(t, r);
  const size_t labels = t.rows.size();
  for (size_t k = 0; k < labels; ++k) {
    t.headers[k + 1] = std::to_string(k + 1);
    t.rows[k][0] = str(k + 1, " ", t.rows[k][0]);
  }
  return "Columns are numbered as the rows.\n\n" + table_text(t);
}

// Tool-calling errors as a numbered list: expected and produced calls are long JSON that a table
// would have to cut to stay readable in a terminal.
std::string error_list(const ReportTable& t) {
  std::string out;
  for (size_t k = 0; k < t.rows.size(); ++k) {
    const auto& row = t.rows[k];
    // Indented under the number; outside a table "|" needs no escape and only the prompt is cut.
    auto code = [&](size_t c, size_t width) {
      return row[c] == kDash ? std::string(kDash) : md_code(row[c], width, false);
    };
    out += str(k + 1, ". ", code(0, kPromptWidth), "\n");
    for (size_t c = 1; c < row.size(); ++c) {
      out += str("   - ", t.headers[c], ": ", code(c, kListTextWidth), "\n");
    }
  }
  return out;
}

// Replaces the prompts (column 0) by the part that tells them apart, "…" where the beginning or
// end they all share was (see shared_ends). False when they share nothing worth cutting.
bool cut_shared_prompt_ends(ReportTable& t) {
  std::vector<std::string> prompts;
  for (const auto& row : t.rows) {
    if (row[0] != kDash) prompts.push_back(row[0]);
  }
  const SharedEnds e = shared_ends(prompts);
  if (e.prefix == 0 && e.suffix == 0) return false;
  for (auto& row : t.rows) {
    if (row[0] == kDash) continue;
    std::string middle = row[0].substr(e.prefix, row[0].size() - e.prefix - e.suffix);
    const size_t a = middle.find_first_not_of(" \t\r\n"), b = middle.find_last_not_of(" \t\r\n");
    middle = a == std::string::npos ? "" : middle.substr(a, b - a + 1);
    row[0] = (e.prefix ? "\xE2\x80\xA6" : "") + middle + (e.suffix ? "\xE2\x80\xA6" : "");
  }
  return true;
}

std::string string_field(const ordered_json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string render_markdown(const ordered_json& report) {
  const ReportTask task = report_task(report);
  std::string out = str("# ", task_title(task));
  const ordered_json dataset = report.value("dataset", ordered_json::object());
  const std::string path = dataset.is_object() ? string_field(dataset, "path") : "";
  if (!path.empty()) out += " · " + md_label(path);
  const std::string created = string_field(report, "created");
  if (!created.empty()) out += " · " + md_label(format_created(created));
  out += "\n\n";
  if (dataset.is_object()) {
    const auto examples = number_field(dataset, "examples", "report.dataset");
    if (examples) out += str(format_count(examples), " examples. ");
  }
  const size_t n_models = report.at("models").size();
  out += str(n_models, n_models == 1 ? " model" : " models", ".\n\n");

  out += "## Models\n\n" + table_text(comparison_table(report));
  if (n_models == 0) return out;

  const size_t last = n_models - 1;
  const std::string name = md_label(model_name(report, last));
  if (task == ReportTask::kToolSelection) {
    if (auto per_class = per_class_table(report, last)) {
      const ordered_json& ts = report["models"][last]["tool_selection"];
      const std::string mode = string_field(ts, "mode");
      out += str("\n## ", name, ": per class", mode.empty() ? "" : " (" + md_label(mode) + " mode)",
                 "\n\n", table_text(*per_class));
      out += str("\n## ", name, ": confusion matrix\n\n",
                 "Rows: expected tool. Columns: predicted tool, then outputs naming no tool.\n\n",
                 confusion_text(*confusion_table(report, last)));
      if (auto gate = gate_table(report, last)) {
        out += str("\n## ", name, ": confidence gate\n\n",
                   "Answer only when the chosen tool's probability is at least the threshold; "
                   "below it, abstain (say no tool fits, or ask the user). ",
                   md_label(*gate_summary(report, last)), "\n\n", table_text(*gate));
      }
    } else {
      out += str("\n", name, " has no tool-selection results.\n");
    }
  }
  if (task == ReportTask::kToolCalling) {
    if (auto gate = call_gate_table(report, last))
      out += str("\n## ", name, ": call gate\n\n", kCallGateLead, "\n\n", table_text(*gate));
  }
  if (auto errors = errors_table(report, last)) {
    out += str("\n## ", name, ": errors\n\n");
    const size_t n = errors->rows.size();
    if (n == 0) {
      out += "No errors in the sample.\n";
    } else {
      const bool cut = cut_shared_prompt_ends(*errors);
      out += str(n, n == 1 ? " wrong answer" : " wrong answers", " from the sample. Prompts ",
                 cut ? "show the part that differs between them (\xE2\x80\xA6 marks the beginning "
                       "and end they all share), "
                     : "",
                 "cut at ", kPromptWidth, " columns; report.html shows them in full.\n\n",
                 task == ReportTask::kToolSelection ? table_text(*errors) : error_list(*errors));
    }
  } else if (task == ReportTask::kToolCalling) {
    out += str("\n", name, " has no tool-calling results.\n");
  }
  return out;
}

}  // namespace tsft
