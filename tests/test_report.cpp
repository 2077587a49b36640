// Evaluation report rendering: report.json -> Markdown tables (rows, columns, formatted values,
// alignment) and HTML (one <svg> per chart with data, notes for absent data, escaped text,
// well-formed markup, no NaN, nothing fetched from the network). The reports are built by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "eval/report_html.h"
#include "eval/report_markdown.h"
#include "eval/report_tables.h"
#include "eval/svg_chart.h"
#include "eval/text_util.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
using Rows = std::vector<std::vector<std::string>>;

// ---- hand-made reports ----

// Two labels, four examples. base (generation mode): calculator x2 right; get_weather once taken
// for calculator, once invalid -> accuracy 2/4. final (scoring mode): 3/4 right, calibration with
// one empty bin. final also has perplexity; training has a null loss that must be skipped.
ordered_json selection_report() {
  return ordered_json::parse(R"({
    "format": "toolsft-eval/1", "created": "2026-11-21T18:30:00Z", "task": "tool_selection",
    "dataset": {"path": "data/eval.jsonl", "rows": 4, "examples": 4},
    "models": [
      {"name": "base", "path": "base.gguf", "step": null, "seconds": 10.04,
       "tool_selection": {"mode": "generation", "labels": ["calculator", "get_weather"], "n": 4,
         "accuracy": 0.5, "macro_precision": 0.6667, "macro_recall": 0.5, "macro_f1": 0.4,
         "invalid_rate": 0.25,
         "per_class": [
           {"label": "calculator", "support": 2, "predicted": 3, "precision": 0.6667, "recall": 1.0, "f1": 0.8},
           {"label": "get_weather", "support": 2, "predicted": 0, "precision": null, "recall": 0.0, "f1": null}],
         "confusion": [[2, 0, 0], [1, 0, 1]],
         "calibration": null,
         "errors": [{"prompt": "weather in Oslo?", "expected": "get_weather", "got": "", "confidence": null}]}},
      {"name": "final", "path": "runs/x/final", "step": 100, "seconds": 12.345,
       "perplexity": {"loss": 1.0, "perplexity": 2.718281828, "tokens": 100},
       "tool_selection": {"mode": "scoring", "labels": ["calculator", "get_weather"], "n": 4,
         "accuracy": 0.75, "macro_precision": 0.8333, "macro_recall": 0.75, "macro_f1": 0.7333,
         "invalid_rate": 0.0,
         "per_class": [
           {"label": "calculator", "support": 2, "predicted": 3, "precision": 0.6667, "recall": 1.0, "f1": 0.8},
           {"label": "get_weather", "support": 2, "predicted": 1, "precision": 1.0, "recall": 0.5, "f1": 0.6667}],
         "confusion": [[2, 0, 0], [1, 1, 0]],
         "calibration": {"ece": 0.0125, "bins": [
           {"lo": 0.0, "hi": 0.5, "count": 0, "confidence": null, "accuracy": null},
           {"lo": 0.5, "hi": 1.0, "count": 4, "confidence": 0.8, "accuracy": 0.75}]},
         "errors": [{"prompt": "<script>alert(1)</script> | weather?\nin \"Paris\" & <|im_start|>",
                     "expected": "get_weather", "got": "calculator", "confidence": 0.55}]}}
    ],
    "training": {
      "train": [{"step": 2, "loss": 1.5, "lr": 1e-5}, {"step": 1, "loss": 2.0, "lr": 1e-5},
                {"step": 3, "loss": null, "lr": 1e-5}],
      "eval": [{"step": 2, "eval_loss": 1.7}]}
  })");
}

// selection_report() with a confidence gate on "final" (scoring): confidences 0.95 right, 0.8
// right twice, 0.55 wrong. Curve: 0.95 -> 1 of 1, 0.8 -> 3 of 3, 0.55 -> 3 of 4. Every target up
// to 1 is reached at 0.8 (75% answered); the threshold 0.9 from a validation report answers 1.
ordered_json gated_report() {
  ordered_json r = selection_report();
  r["models"][1]["tool_selection"]["gate"] = ordered_json::parse(R"({
    "target_precision": 0.99, "n": 4, "full_coverage_precision": 0.75, "full_coverage_risk": 0.25,
    "operating_point": {"threshold": 0.8, "answered": 3, "correct": 3, "coverage": 0.75, "precision": 1.0},
    "operating_points": [
      {"target_precision": 0.9, "point": {"threshold": 0.8, "answered": 3, "correct": 3, "coverage": 0.75, "precision": 1.0}},
      {"target_precision": 0.95, "point": {"threshold": 0.8, "answered": 3, "correct": 3, "coverage": 0.75, "precision": 1.0}},
      {"target_precision": 0.99, "point": {"threshold": 0.8, "answered": 3, "correct": 3, "coverage": 0.75, "precision": 1.0}}],
    "fixed_threshold": {"threshold": 0.9, "answered": 1, "correct": 1, "coverage": 0.25, "precision": 1.0},
    "fixed_threshold_from": "val/report.json",
    "curve": [
      {"threshold": 0.95, "answered": 1, "correct": 1, "coverage": 0.25, "precision": 1.0},
      {"threshold": 0.8, "answered": 3, "correct": 3, "coverage": 0.75, "precision": 1.0},
      {"threshold": 0.55, "answered": 4, "correct": 3, "coverage": 1.0, "precision": 0.75}]
  })");
  return r;
}

// gated_report() where no threshold reaches any target (and none was applied).
ordered_json unreachable_gate_report() {
  ordered_json r = gated_report();
  ordered_json& g = r["models"][1]["tool_selection"]["gate"];
  g["operating_point"] = nullptr;
  for (auto& op : g["operating_points"]) op["point"] = nullptr;
  g["fixed_threshold"] = nullptr;
  g["fixed_threshold_from"] = nullptr;
  return r;
}

ordered_json calling_report() {
  return ordered_json::parse(R"({
    "format": "toolsft-eval/1", "created": "2026-11-21T18:30:00Z", "task": "tool_calling",
    "dataset": {"path": "data/calls.jsonl", "rows": 20, "examples": 20},
    "models": [
      {"name": "final", "path": "f", "step": 50, "seconds": 3,
       "tool_calling": {"turns": 20, "call_turns": 16, "no_call_turns": 4, "expected_calls": 18,
         "predicted_calls": 17, "name_precision": 0.94, "name_recall": 0.88, "name_f1": 0.9,
         "arguments_parse_rate": 1.0, "arguments_exact_match": 0.8, "argument_accuracy": 0.85,
         "ast_accuracy": 0.75, "ast_accuracy_single": 0.8, "hallucinated_call_rate": 0.05,
         "missed_call_rate": 0.1, "output_parse_error_rate": 0.0,
         "errors": [{"prompt": "book a table | for 2", "expected": {"name": "book", "arguments": {"n": 2}},
                     "got": "", "reason": "missed call | no tool"}]}}
    ]
  })");
}

ordered_json perplexity_report() {
  return ordered_json::parse(R"({
    "format": "toolsft-eval/1", "created": "2026-11-21T18:30:00Z", "task": "perplexity",
    "dataset": {"path": "data/chat.jsonl", "rows": 10, "examples": 10},
    "models": [
      {"name": "base", "step": null, "seconds": 1.54, "perplexity": {"loss": 2.0, "perplexity": 7.389056, "tokens": 1000}},
      {"name": "final", "step": 30, "seconds": 1.46, "perplexity": {"loss": 0.5, "perplexity": 1.648721, "tokens": 1000}}
    ],
    "training": {"train": [{"step": 10, "loss": 2.0}, {"step": 20, "loss": 1.0}], "eval": []}
  })");
}

// ---- Markdown helpers ----

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Cells of a Markdown table row; "\|" is part of a cell, not a separator.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t k = 1; k < line.size(); ++k) {
    if (line[k] == '|' && line[k - 1] != '\\') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += line[k];
    }
  }
  return out;
}

// The table under the first heading line equal to `heading`: header row, then body rows (the
// separator row is checked and dropped). The raw lines go to *raw when asked.
Rows table_after(const std::string& md, const std::string& heading,
                 std::vector<std::string>* raw = nullptr) {
  const std::vector<std::string> lines = lines_of(md);
  auto it = std::find(lines.begin(), lines.end(), heading);
  EXPECT_NE(it, lines.end()) << "no heading " << heading << " in\n" << md;
  if (it == lines.end()) return {};
  while (it != lines.end() && (it->empty() || (*it)[0] != '|')) ++it;
  Rows rows;
  for (; it != lines.end() && !it->empty() && (*it)[0] == '|'; ++it) {
    if (raw) raw->push_back(*it);
    if (rows.size() == 1 && rows.back().size() != 0 && it->find("---") != std::string::npos &&
        it->find_first_not_of("|-: ") == std::string::npos) {
      continue;  // the alignment row
    }
    rows.push_back(cells(*it));
  }
  return rows;
}

// ---- HTML / SVG helpers ----

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

std::vector<std::string> svgs(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    const size_t end = html.find("</svg>", at);
    if (end == std::string::npos) break;
    out.push_back(html.substr(at, end + 6 - at));
  }
  return out;
}

// Well-formed XML, as far as a report can break it: tags balance and nest, attribute values are
// quoted, every '&' starts an entity, and no '<' or '>' stands in text. Returns "" when fine, else
// what is wrong. "<!DOCTYPE ...>" is skipped; <style> content holds neither '<' nor '&'.
std::string xml_problem(const std::string& doc) {
  std::vector<std::string> open;
  for (size_t i = 0; i < doc.size(); ++i) {
    const char c = doc[i];
    if (c == '&') {
      const size_t semi = doc.find(';', i);
      const std::string ent = semi == std::string::npos ? "" : doc.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&#39;") {
        return "bare & at " + std::to_string(i) + ": " + doc.substr(i, 20);
      }
      continue;
    }
    if (c == '>')
      return "bare > at " + std::to_string(i) + ": " + doc.substr(i > 20 ? i - 20 : 0, 40);
    if (c != '<') continue;
    if (doc.compare(i, 9, "<!DOCTYPE") == 0) {
      i = doc.find('>', i);
      continue;
    }
    const bool closing = i + 1 < doc.size() && doc[i + 1] == '/';
    size_t k = i + (closing ? 2 : 1);
    std::string name;
    while (k < doc.size() && (std::isalnum(static_cast<unsigned char>(doc[k])) || doc[k] == '-')) {
      name += doc[k++];
    }
    if (name.empty())
      return "'<' without a tag name at " + std::to_string(i) + ": " + doc.substr(i, 20);
    // Scan the tag to its '>', stepping over quoted attribute values.
    char quote = 0;
    for (; k < doc.size(); ++k) {
      if (quote) {
        if (doc[k] == quote)
          quote = 0;
        else if (doc[k] == '<')
          return "'<' inside an attribute of <" + name + ">";
      } else if (doc[k] == '"' || doc[k] == '\'') {
        quote = doc[k];
      } else if (doc[k] == '>') {
        break;
      }
    }
    if (k == doc.size()) return "unterminated <" + name;
    const bool self_closing = doc[k - 1] == '/';
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) +
               ">";
      }
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = k;
  }
  return open.empty() ? "" : "<" + open.back() + "> never closed";
}

// Words "nan" or "inf" anywhere (what printf makes of a NaN or an infinity).
bool has_nan_or_inf(const std::string& s) {
  std::string word;
  for (size_t i = 0; i <= s.size(); ++i) {
    const char c = i < s.size() ? s[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    if (word == "nan" || word == "inf" || word == "infinity") return true;
    word.clear();
  }
  return false;
}

// The page's only URL may be the SVG namespace name (an identifier, never fetched).
void expect_no_urls(const std::string& html) {
  std::string rest = html;
  const std::string ns = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at = rest.find(ns); at != std::string::npos; at = rest.find(ns))
    rest.erase(at, ns.size());
  EXPECT_EQ(rest.find("http://"), std::string::npos);
  EXPECT_EQ(rest.find("https://"), std::string::npos);
  EXPECT_EQ(rest.find("url("), std::string::npos);
  EXPECT_EQ(rest.find("@import"), std::string::npos);
}

void expect_clean_page(const std::string& html) {
  EXPECT_EQ(xml_problem(html), "");
  for (const std::string& svg : svgs(html)) EXPECT_EQ(xml_problem(svg), "") << svg.substr(0, 200);
  EXPECT_FALSE(has_nan_or_inf(html));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  expect_no_urls(html);
}

std::string meta_svg_count(const std::string& html) {
  const std::string key = "<meta name=\"toolsft-svg-count\" content=\"";
  const size_t at = html.find(key);
  if (at == std::string::npos) return "";
  return html.substr(at + key.size(), html.find('"', at + key.size()) - at - key.size());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The checkers above catch what they are meant to catch.
TEST(ReportTestHelpers, CatchBrokenMarkup) {
  EXPECT_EQ(xml_problem("<svg a=\"1\"><g/><text>x &amp; y</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg><text>1 > 0</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg><text>a <|im_start|></text></svg>"), "");
  EXPECT_NE(xml_problem("<svg>"), "");
  EXPECT_TRUE(has_nan_or_inf("x=\"nan\""));
  EXPECT_TRUE(has_nan_or_inf("-inf"));
  EXPECT_FALSE(has_nan_or_inf("financial information"));
}

// ---- Markdown ----

TEST(ReportMarkdown, ToolSelectionTables) {
  const std::string md = render_markdown(selection_report());
  EXPECT_EQ(lines_of(md)[0], "# Tool selection · data/eval.jsonl · 2026-11-21 18:30 UTC");
  EXPECT_NE(md.find("4 examples. 2 models."), std::string::npos);

  const Rows models = table_after(md, "## Models");
  const Rows expected_models = {
      {"Model", "Step", "Accuracy", "Macro-F1", "ECE", "Invalid", "Perplexity", "Seconds"},
      {"base", "—", "50.0%", "40.0%", "—", "25.0%", "—", "10.0"},
      {"final", "100", "75.0%", "73.3%", "1.25%", "0.0%", "2.72", "12.3"}};
  EXPECT_EQ(models, expected_models);

  const Rows per_class = table_after(md, "## final: per class (scoring mode)");
  const Rows expected_per_class = {{"Label", "Support", "Predicted", "Precision", "Recall", "F1"},
                                   {"calculator", "2", "3", "66.7%", "100.0%", "80.0%"},
                                   {"get_weather", "2", "1", "100.0%", "50.0%", "66.7%"}};
  EXPECT_EQ(per_class, expected_per_class);

  // Short labels fit: the columns are named, and "(invalid)" comes last.
  const Rows confusion = table_after(md, "## final: confusion matrix");
  const Rows expected_confusion = {{"Expected", "calculator", "get_weather", "(invalid)"},
                                   {"calculator", "2", "0", "0"},
                                   {"get_weather", "1", "1", "0"}};
  EXPECT_EQ(confusion, expected_confusion);

  // Free text as code spans; "|" escaped; the newline shown as ⏎.
  const Rows errors = table_after(md, "## final: errors");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], (std::vector<std::string>{"Prompt", "Expected", "Got", "Confidence"}));
  EXPECT_EQ(errors[1][0],
            "`<script>alert(1)</script> \\| weather?⏎in \"Paris\" & <\\|im_start\\|>`");
  EXPECT_EQ(errors[1][1], "`get_weather`");
  EXPECT_EQ(errors[1][2], "`calculator`");
  EXPECT_EQ(errors[1][3], "55.0%");
  EXPECT_FALSE(has_nan_or_inf(md));
}

TEST(ReportMarkdown, ColumnsAreAlignedAndNumbersRightAligned) {
  std::vector<std::string> raw;
  table_after(render_markdown(selection_report()), "## Models", &raw);
  ASSERT_EQ(raw.size(), 4u);
  for (const std::string& line : raw) EXPECT_EQ(display_width(line), display_width(raw[0])) << line;
  EXPECT_EQ(raw[1].substr(0, 10), "| :---- | ");          // text column: left
  EXPECT_NE(raw[1].find("| ---: |"), std::string::npos);  // Step: right
  EXPECT_EQ(raw[2],
            "| base  |    — |    50.0% |    40.0% |     — |   25.0% |          — |    10.0 |");
}

TEST(ReportMarkdown, LongLabelsNumberTheConfusionColumns) {
  ordered_json r = selection_report();
  ordered_json& ts = r["models"][1]["tool_selection"];
  ts["labels"] = {"create_calendar_event_with_attendees", "get_weather_forecast_for_location",
                  "send_an_email_to_one_or_more_people"};
  ts["confusion"] = {{2, 0, 0, 0}, {1, 1, 0, 0}, {0, 0, 3, 1}};
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("Columns are numbered as the rows."), std::string::npos);
  const Rows confusion = table_after(md, "## final: confusion matrix");
  const Rows expected = {{"Expected", "1", "2", "3", "(invalid)"},
                         {"1 create_calendar_event_with_attendees", "2", "0", "0", "0"},
                         {"2 get_weather_forecast_for_location", "1", "1", "0", "0"},
                         {"3 send_an_email_to_one_or_more_people", "0", "0", "3", "1"}};
  EXPECT_EQ(confusion, expected);
}

TEST(ReportMarkdown, LongPromptsAreCutAndWideCharactersCounted) {
  ordered_json r = selection_report();
  r["models"][1]["tool_selection"]["errors"] = {
      {{"prompt", std::string(100, 'a')}, {"expected", "a"}, {"got", "b"}, {"confidence", 0.5}},
      {{"prompt", "把这句话翻译成英文"}, {"expected", "a`b"}, {"got", "b"}, {"confidence", 0.5}}};
  std::vector<std::string> raw;
  const Rows errors = table_after(render_markdown(r), "## final: errors", &raw);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[1][0], "`" + std::string(71, 'a') + "…`");  // 72 columns in all
  EXPECT_EQ(errors[2][0], "`把这句话翻译成英文`");
  EXPECT_EQ(errors[2][1], "``a`b``");  // a longer fence around a backtick
  for (const std::string& line : raw) EXPECT_EQ(display_width(line), display_width(raw[0])) << line;
}

// Prompts of one task share their instruction: Markdown shows what differs, HTML greys the rest.
TEST(ReportMarkdown, PromptsShowWhatDiffers) {
  const std::vector<std::string> prompts = {"Tools: a, b\nRequest: weather in Oslo\nTool:",
                                            "Tools: a, b\nRequest: 2+2\nTool:"};
  const SharedEnds e = shared_ends(prompts);
  EXPECT_EQ(e.prefix, 21u);  // "Tools: a, b\n" (12) + "Request: " (9)
  EXPECT_EQ(e.suffix, 6u);   // "\nTool:"
  ordered_json r = selection_report();
  r["models"][1]["tool_selection"]["errors"] = {{{"prompt", prompts[0]},
                                                 {"expected", "get_weather"},
                                                 {"got", "calculator"},
                                                 {"confidence", 0.5}},
                                                {{"prompt", prompts[1]},
                                                 {"expected", "calculator"},
                                                 {"got", "get_weather"},
                                                 {"confidence", 0.5}}};
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("2 wrong answers from the sample. Prompts show the part that differs between "
                    "them (… marks the beginning and end they all share), cut at 72 columns"),
            std::string::npos);
  const Rows errors = table_after(md, "## final: errors");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[1][0], "`…weather in Oslo…`");
  EXPECT_EQ(errors[2][0], "`…2+2…`");
  const std::string html = render_html(r);
  EXPECT_NE(html.find("<td class=\"text\"><span class=\"shared\">Tools: a, b\nRequest: </span>"
                      "weather in Oslo<span class=\"shared\">\nTool:</span></td>"),
            std::string::npos);
  expect_clean_page(html);
}

TEST(ReportText, SharedEndsKeepWordsWhole) {
  EXPECT_EQ(shared_ends({"calculate 12", "calculator 3"}).prefix, 0u);  // "calculat" is no word
  EXPECT_EQ(shared_ends({"ask: a b", "ask: c b"}).prefix, 5u);
  EXPECT_EQ(shared_ends({"ask: a b", "ask: c b"}).suffix, 2u);        // " b"
  const SharedEnds same = shared_ends({"same words", "same words"});  // never more than the text
  EXPECT_LE(same.prefix + same.suffix, 10u);
  EXPECT_EQ(shared_ends({"only one prompt here"}).prefix, 0u);
  EXPECT_EQ(shared_ends({}).suffix, 0u);
}

TEST(ReportMarkdown, ConfidenceGate) {
  const std::string md = render_markdown(gated_report());
  const Rows models = table_after(md, "## Models");
  EXPECT_EQ(models[0], (std::vector<std::string>{"Model", "Step", "Accuracy", "Macro-F1", "ECE",
                                                 "Invalid", "Perplexity", "Cov. @ 99% prec.",
                                                 "Prec. @ thr.", "Cov. @ thr.", "Seconds"}));
  EXPECT_EQ(models[1], (std::vector<std::string>{"base", "—", "50.0%", "40.0%", "—", "25.0%", "—",
                                                 "—", "—", "—", "10.0"}));
  EXPECT_EQ(models[2], (std::vector<std::string>{"final", "100", "75.0%", "73.3%", "1.25%", "0.0%",
                                                 "2.72", "75.0%", "100.0%", "25.0%", "12.3"}));
  EXPECT_EQ(table_after(md, "## final: confidence gate"),
            (Rows{{"Operating point", "Threshold", "Coverage", "Precision", "Answered", "Abstained"},
                  {"precision ≥ 90%", "0.8000", "75.0%", "100.0%", "3", "1"},
                  {"precision ≥ 95%", "0.8000", "75.0%", "100.0%", "3", "1"},
                  {"precision ≥ 99% (target)", "0.8000", "75.0%", "100.0%", "3", "1"},
                  {"threshold from val/report.json", "0.9000", "25.0%", "100.0%", "1", "3"},
                  {"answer everything", "0.5500", "100.0%", "75.0%", "4", "0"}}));
  EXPECT_NE(md.find("At the target precision of 99%, the lowest threshold reaching it on this "
                    "data is 0.8000: it answers 75.0% of the requests at 100.0% precision and "
                    "abstains on the rest. The threshold 0.9000 (from val/report.json) answers "
                    "25.0% here at 100.0% precision."),
            std::string::npos)
      << md;
  ordered_json all = gated_report();
  all["models"][1]["tool_selection"]["gate"]["operating_point"]["coverage"] = 1.0;
  EXPECT_NE(render_markdown(all).find("is 0.8000: it answers every request at 100.0% precision."),
            std::string::npos);
  // The gate comes after the confusion matrix and before the errors.
  EXPECT_LT(md.find("## final: confusion matrix"), md.find("## final: confidence gate"));
  EXPECT_LT(md.find("## final: confidence gate"), md.find("## final: errors"));
}

TEST(ReportMarkdown, ConfidenceGateThatReachesNoTarget) {
  const std::string md = render_markdown(unreachable_gate_report());
  EXPECT_NE(md.find("No threshold reaches the target precision of 99% on this data"),
            std::string::npos)
      << md;
  const Rows gate = table_after(md, "## final: confidence gate");
  ASSERT_EQ(gate.size(), 5u);  // header, three targets, answer everything: no applied threshold
  EXPECT_EQ(gate[3], (std::vector<std::string>{"precision ≥ 99% (target)", "—", "—", "—", "—", "—"}));
  EXPECT_EQ(gate[4][0], "answer everything");
  // No applied threshold anywhere: no columns for it.
  const Rows models = table_after(md, "## Models");
  EXPECT_EQ(std::count(models[0].begin(), models[0].end(), "Prec. @ thr."), 0);
  EXPECT_EQ(models[2][7], "—");  // coverage at the target
}

TEST(ReportMarkdown, NoGateNoGateColumnsOrSection) {
  const std::string md = render_markdown(selection_report());
  EXPECT_EQ(md.find("confidence gate"), std::string::npos);
  EXPECT_EQ(table_after(md, "## Models")[0].size(), 8u);
}

TEST(ReportMarkdown, ToolCalling) {
  const std::string md = render_markdown(calling_report());
  EXPECT_EQ(lines_of(md)[0], "# Tool calling · data/calls.jsonl · 2026-11-21 18:30 UTC");
  const Rows expected = {
      {"Model", "Step", "Name F1", "Args exact", "AST acc.", "AST one-call", "Hallucinated",
       "Missed", "Seconds"},
      {"final", "50", "90.0%", "80.0%", "75.0%", "80.0%", "5.0%", "10.0%", "3.0"}};
  EXPECT_EQ(table_after(md, "## Models"), expected);
  // Errors as a list (calls are long JSON); a non-string "expected" (a call object) is shown as
  // compact JSON, and "|" needs no escape outside a table.
  EXPECT_NE(
      md.find("## final: errors\n\n1 wrong answer from the sample. Prompts cut at 72 columns; "
              "report.html shows them in full.\n\n"
              "1. `book a table | for 2`\n"
              "   - Expected: `{\"name\":\"book\",\"arguments\":{\"n\":2}}`\n"
              "   - Got: *(empty)*\n"
              "   - Reason: `missed call | no tool`\n"),
      std::string::npos)
      << md;
  EXPECT_EQ(md.find("confusion"), std::string::npos);
}

TEST(ReportMarkdown, PerplexityOnly) {
  const std::string md = render_markdown(perplexity_report());
  const Rows expected = {{"Model", "Step", "Loss", "Perplexity", "Tokens", "Seconds"},
                         {"base", "—", "2.000", "7.39", "1000", "1.5"},
                         {"final", "30", "0.500", "1.65", "1000", "1.5"}};
  EXPECT_EQ(table_after(md, "## Models"), expected);
  EXPECT_EQ(md.find("errors"), std::string::npos);
  EXPECT_EQ(md.find("## final"), std::string::npos);
}

TEST(ReportMarkdown, EmptyErrorSample) {
  ordered_json r = selection_report();
  r["models"][1]["tool_selection"]["errors"] = ordered_json::array();
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("## final: errors\n\nNo errors in the sample.\n"), std::string::npos);
}

TEST(ReportMarkdown, NullMetricsShowAsDash) {
  ordered_json r = selection_report();
  ordered_json& ts = r["models"][1]["tool_selection"];
  for (const char* k : {"accuracy", "macro_f1", "invalid_rate"}) ts[k] = nullptr;
  ts["calibration"] = nullptr;
  ts["per_class"][1]["precision"] = nullptr;
  r["models"][1]["seconds"] = nullptr;
  r["models"][1].erase("perplexity");
  const std::string md = render_markdown(r);
  const Rows models = table_after(md, "## Models");
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].size(), 7u);  // no model has perplexity: no column for it
  EXPECT_EQ(models[2], (std::vector<std::string>{"final", "100", "—", "—", "—", "—", "—"}));
  EXPECT_EQ(table_after(md, "## final: per class (scoring mode)")[2][3], "—");
  EXPECT_FALSE(has_nan_or_inf(md));
}

TEST(ReportMarkdown, NoModels) {
  ordered_json r = perplexity_report();
  r["models"] = ordered_json::array();
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("0 models."), std::string::npos);
  EXPECT_EQ(table_after(md, "## Models").size(), 1u);  // the header only
}

// ---- contract violations are user errors naming the field ----

TEST(ReportErrors, NameTheField) {
  ordered_json r = selection_report();
  r["format"] = "toolsft-eval/2";
  EXPECT_NE(error_of([&] { render_markdown(r); }).find("report.format"), std::string::npos);
  r = selection_report();
  r["task"] = "ranking";
  EXPECT_NE(error_of([&] { render_html(r); }).find("report.task"), std::string::npos);
  r = selection_report();
  r["models"][1]["tool_selection"]["accuracy"] = "0.75";
  EXPECT_NE(error_of([&] { render_markdown(r); }).find("report.models[1].tool_selection.accuracy"),
            std::string::npos);
  r = selection_report();
  r["models"][1]["tool_selection"]["confusion"][1] = {1, 1};
  EXPECT_NE(error_of([&] { render_html(r); }).find("report.models[1].tool_selection.confusion[1]"),
            std::string::npos);
  r = selection_report();
  r["training"]["train"] = "loss.jsonl";
  EXPECT_NE(error_of([&] { render_html(r); }).find("report.training.train"), std::string::npos);
  r = selection_report();
  r["models"] = ordered_json::object();
  EXPECT_NE(error_of([&] { render_markdown(r); }).find("report.models"), std::string::npos);
}

// ---- HTML ----

TEST(ReportHtml, ToolSelectionPage) {
  const std::string html = render_html(selection_report());
  // F1 per tool, training loss, confusion heat map, reliability diagram.
  EXPECT_EQ(svgs(html).size(), 4u);
  EXPECT_EQ(count(html, "<svg"), 4u);
  EXPECT_EQ(meta_svg_count(html), "4");
  expect_clean_page(html);
  EXPECT_NE(html.find("<title>toolsft eval · Tool selection · data/eval.jsonl</title>"),
            std::string::npos);
  EXPECT_NE(html.find("2026-11-21 18:30 UTC"), std::string::npos);
  // The comparison table holds the same strings as the Markdown one.
  EXPECT_NE(html.find("<td class=\"num\">73.3%</td><td class=\"num\">1.25%</td>"),
            std::string::npos);
  // The prompt, escaped, in full.
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(
      html.find("&lt;script&gt;alert(1)&lt;/script&gt; | weather?\nin &quot;Paris&quot; &amp; "
                "&lt;|im_start|&gt;"),
      std::string::npos);
  EXPECT_EQ(html.find("<|im_start|>"), std::string::npos);
  // Charts: both models in the F1 legend, the ECE in the reliability title, the invalid column.
  EXPECT_NE(html.find("Reliability — final (ECE 1.25%)"), std::string::npos);
  EXPECT_NE(html.find(">(invalid)</text>"), std::string::npos);
  EXPECT_NE(html.find(">base</text>"), std::string::npos);
  EXPECT_NE(html.find(">final</text>"), std::string::npos);
  EXPECT_NE(html.find("<footer id=\"report-end\">"), std::string::npos);
}

TEST(ReportHtml, ReliabilityDrawsNoBarForAnEmptyBin) {
  const std::vector<std::string> charts = svgs(render_html(selection_report()));
  ASSERT_EQ(charts.size(), 4u);
  const std::string& rel = charts[3];
  ASSERT_NE(rel.find("Reliability"), std::string::npos);
  // One bar (the 0.5–1.0 bin) with its numbers in the tooltip; the empty bin shows its 0 count.
  EXPECT_EQ(count(rel, "predictions, accuracy"), 1u);
  EXPECT_NE(rel.find("confidence 0.50–1.00: 4 predictions, accuracy 75.0%, mean confidence 80.0%"),
            std::string::npos);
  EXPECT_NE(rel.find(" fill=\"#aab\">0</text>"), std::string::npos);
  EXPECT_NE(rel.find("stroke-dasharray=\"5 4\""), std::string::npos);  // the diagonal
}

TEST(ReportHtml, TrainingCurveSkipsNullsAndSortsBySteps) {
  const std::vector<std::string> charts = svgs(render_html(selection_report()));
  ASSERT_EQ(charts.size(), 4u);
  const std::string& loss = charts[1];
  ASSERT_NE(loss.find("Training and evaluation loss"), std::string::npos);
  // train: (1, 2.0), (2, 1.5) -> one polyline of two points; eval: one point -> one dot.
  EXPECT_EQ(count(loss, "<polyline"), 1u);
  const size_t pts = loss.find("points=\"");
  ASSERT_NE(pts, std::string::npos);
  const std::string points = loss.substr(pts + 8, loss.find('"', pts + 8) - pts - 8);
  EXPECT_EQ(count(points, ","), 2u);
  EXPECT_EQ(count(loss, "<circle"), 1u);
  EXPECT_NE(loss.find("eval loss at step 2: 1.7000"), std::string::npos);
}

TEST(ReportHtml, ConfidenceGateChartAndTable) {
  const std::string html = render_html(gated_report());
  const std::vector<std::string> charts = svgs(html);
  ASSERT_EQ(charts.size(), 5u);  // the four of ToolSelectionPage, then the gate's
  EXPECT_EQ(meta_svg_count(html), "5");
  expect_clean_page(html);
  const std::string& gate = charts[4];
  EXPECT_NE(gate.find("<title>Coverage vs precision — final</title>"), std::string::npos);
  // The curve: (25%, 100%), (75%, 100%), (100%, 75%) as one polyline of three points.
  EXPECT_EQ(count(gate, "<polyline"), 1u);
  const size_t pts = gate.find("points=\"");
  const std::string points = gate.substr(pts + 8, gate.find('"', pts + 8) - pts - 8);
  EXPECT_EQ(count(points, ","), 3u);
  // The chosen point (a dot ringed in white) and the applied threshold (a square), with tooltips
  // and the same words under the legend.
  EXPECT_NE(gate.find("<title>final: threshold 0.8000: 75.0% answered at 100.0% precision</title>"),
            std::string::npos);
  EXPECT_NE(
      gate.find("<title>final: held-out threshold 0.9000: 25.0% answered at 100.0% precision</title>"),
      std::string::npos);
  EXPECT_NE(gate.find(">● final: threshold 0.8000: 75.0% answered at 100.0% precision</text>"),
            std::string::npos);
  EXPECT_NE(gate.find(">target 99%</text>"), std::string::npos);
  EXPECT_NE(gate.find("stroke-dasharray=\"5 4\""), std::string::npos);  // the target line
  // The section under the charts, with the summary and the same table as the Markdown.
  EXPECT_NE(html.find("<h2>Confidence gate — final</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"label\">threshold from val/report.json</td><td class=\"num\">"
                      "0.9000</td><td class=\"num\">25.0%</td>"),
            std::string::npos);
  EXPECT_NE(html.find("answers 75.0% of the requests at 100.0% precision"), std::string::npos);
  EXPECT_EQ(html.find("No coverage/precision curve"), std::string::npos);
}

TEST(ReportHtml, ConfidenceGateWithoutAnOperatingPointHasNoMarkers) {
  const std::string html = render_html(unreachable_gate_report());
  const std::vector<std::string> charts = svgs(html);
  ASSERT_EQ(charts.size(), 5u);
  expect_clean_page(html);
  const std::string& gate = charts[4];
  EXPECT_EQ(count(gate, "% answered at"), 0u);  // no marker tooltips, no captions
  EXPECT_EQ(count(gate, "<polyline"), 1u);
}

TEST(ReportHtml, NoGateSaysWhy) {
  const std::string html = render_html(selection_report());
  EXPECT_NE(html.find("No coverage/precision curve: the confidence gate is measured in scoring "
                      "mode only."),
            std::string::npos);
  EXPECT_EQ(html.find("Confidence gate"), std::string::npos);
}

TEST(ReportHtml, ConfidenceGateOfManyModelsWrapsItsLegend) {
  ordered_json r = gated_report();
  const ordered_json gated = r["models"][1];
  r["models"] = ordered_json::array();
  for (int k = 0; k < 8; ++k) {
    ordered_json m = gated;
    m["name"] = "checkpoint-" + std::to_string(100 * (k + 1));
    r["models"].push_back(m);
  }
  const std::string html = render_html(r);
  expect_clean_page(html);
  const std::vector<std::string> charts = svgs(html);
  const auto gate = std::find_if(charts.begin(), charts.end(), [](const std::string& s) {
    return s.find("Coverage vs precision") != std::string::npos;
  });
  ASSERT_NE(gate, charts.end());
  EXPECT_NE(gate->find("<title>Coverage vs precision — confidence gate</title>"),
            std::string::npos);
  EXPECT_EQ(count(*gate, "<polyline"), 8u);
  EXPECT_EQ(count(*gate, "% answered at "), 16u + 2u);  // 8 dots and 8 squares, 2 captions
  // Legend entries lie inside the chart: no text starts left of 0 or beyond its width.
  for (size_t at = gate->find("<text x=\""); at != std::string::npos;
       at = gate->find("<text x=\"", at + 1)) {
    const double x = std::stod(gate->substr(at + 9));
    EXPECT_GE(x, 0);
    EXPECT_LE(x, 580);
  }
}

TEST(ReportErrors, BrokenGateNamesTheField) {
  ordered_json r = gated_report();
  r["models"][1]["tool_selection"]["gate"]["curve"] = "x";
  EXPECT_NE(error_of([&] { render_html(r); })
                .find("report.models[1].tool_selection.gate.curve: expected an array"),
            std::string::npos);
  r = gated_report();
  r["models"][1]["tool_selection"]["gate"]["operating_points"] = 3;
  EXPECT_NE(error_of([&] { render_markdown(r); })
                .find("report.models[1].tool_selection.gate.operating_points: expected an array"),
            std::string::npos);
  r = gated_report();
  r["models"][1]["tool_selection"]["gate"]["fixed_threshold"]["coverage"] = "most";
  EXPECT_NE(error_of([&] { render_markdown(r); })
                .find("report.models[1].tool_selection.gate.fixed_threshold.coverage: expected a "
                      "number"),
            std::string::npos);
}

TEST(ReportHtml, ToolCallingPage) {
  const std::string html = render_html(calling_report());
  EXPECT_EQ(svgs(html).size(), 1u);  // the metric bars; no training in this report
  EXPECT_EQ(meta_svg_count(html), "1");
  expect_clean_page(html);
  EXPECT_NE(html.find("No training curves: this report has no training metrics."),
            std::string::npos);
  EXPECT_NE(html.find(">AST accuracy</text>"), std::string::npos);
  EXPECT_NE(html.find(">75.0%</text>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"text\">missed call | no tool</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"text empty\">(empty)</td>"), std::string::npos);
  EXPECT_NE(html.find("{&quot;name&quot;:&quot;book&quot;"), std::string::npos);
}

// Tool-call quality logged during training (recipes' eval.task_examples) gets its own chart.
TEST(ReportHtml, TaskQualityDuringTraining) {
  ordered_json r = calling_report();
  r["training"] = {{"train", {{{"step", 5}, {"loss", 1.2}}, {{"step", 10}, {"loss", 0.8}}}},
                   {"eval",
                    {{{"step", 5}, {"eval_loss", 1.0}, {"task_name_f1", 0.4},
                      {"task_hallucinated_call_rate", 0.5}},
                     {{"step", 10}, {"eval_loss", 0.7}, {"task_name_f1", 0.9},
                      {"task_hallucinated_call_rate", 0.0}}}}};
  const std::vector<std::string> charts = svgs(render_html(r));
  ASSERT_EQ(charts.size(), 3u);  // metric bars, loss, task quality
  std::string task;
  for (const std::string& c : charts)
    if (c.find("Task quality on fixed held-out examples during training") != std::string::npos)
      task = c;
  ASSERT_FALSE(task.empty());
  EXPECT_NE(task.find("tool-name F1 at step 10: 0.9000"), std::string::npos) << task;
  EXPECT_NE(task.find("hallucinated calls at step 5: 0.5000"), std::string::npos);
  EXPECT_EQ(task.find("argument exact match"), std::string::npos);  // not logged: no series
  // Without task fields, only the loss chart.
  r["training"]["eval"] = {{{"step", 5}, {"eval_loss", 1.0}}};
  EXPECT_EQ(svgs(render_html(r)).size(), 2u);
}

TEST(ReportHtml, PerplexityOnlyPage) {
  ordered_json r = perplexity_report();
  std::string html = render_html(r);
  EXPECT_EQ(svgs(html).size(), 1u);  // the training loss
  expect_clean_page(html);
  r.erase("training");
  html = render_html(r);
  EXPECT_EQ(svgs(html).size(), 0u);
  EXPECT_EQ(meta_svg_count(html), "0");
  EXPECT_NE(html.find("No training curves"), std::string::npos);
  expect_clean_page(html);
}

TEST(ReportHtml, EmptyErrorsAndNullMetrics) {
  ordered_json r = selection_report();
  ordered_json& ts = r["models"][1]["tool_selection"];
  ts["errors"] = ordered_json::array();
  ts["calibration"] = nullptr;
  ts["per_class"][1]["f1"] = nullptr;
  for (const char* k : {"accuracy", "macro_f1", "invalid_rate"}) ts[k] = nullptr;
  r["training"]["eval"] = nullptr;
  const std::string html = render_html(r);
  EXPECT_EQ(svgs(html).size(), 3u);  // F1, loss, confusion
  EXPECT_EQ(meta_svg_count(html), "3");
  expect_clean_page(html);
  EXPECT_NE(html.find("No reliability diagram"), std::string::npos);
  EXPECT_NE(html.find("No errors in the sample."), std::string::npos);
  // get_weather has no F1 for either model: two dashes in the F1 chart, no bar.
  EXPECT_EQ(count(svgs(html)[0], ">—</text>"), 2u);
}

// JSON text cannot hold NaN or infinity, but a report built in memory can: shown as "—".
TEST(ReportHtml, NonFiniteNumbersAreNeverPrinted) {
  ordered_json r = selection_report();
  ordered_json& ts = r["models"][1]["tool_selection"];
  ts["accuracy"] = std::nan("");
  ts["calibration"]["ece"] = INFINITY;
  ts["calibration"]["bins"][1]["accuracy"] = std::nan("");
  ts["per_class"][0]["f1"] = -INFINITY;
  r["models"][1]["seconds"] = std::nan("");
  r["training"]["train"][0]["loss"] = std::nan("");
  const std::string md = render_markdown(r);
  const std::string html = render_html(r);
  EXPECT_FALSE(has_nan_or_inf(md));
  expect_clean_page(html);
  EXPECT_EQ(table_after(md, "## Models")[2],
            (std::vector<std::string>{"final", "100", "—", "73.3%", "—", "0.0%", "2.72", "—"}));
  EXPECT_NE(html.find("(ECE —)"), std::string::npos);
  ts["confusion"][0][0] = std::nan("");
  EXPECT_NE(error_of([&] { render_html(r); }).find("confusion[0][0]: expected a count"),
            std::string::npos);
}

TEST(ReportHtml, HostileTextStaysText) {
  ordered_json r = selection_report();
  r["models"][1]["name"] = "</title><script>x</script>";
  r["dataset"]["path"] = "a&b<c>.jsonl";
  r["models"][1]["tool_selection"]["labels"][0] = "<b>calc</b>";
  r["models"][1]["tool_selection"]["per_class"][0]["label"] = "<b>calc</b>";
  // Invalid UTF-8 and a control character (both illegal in XML) from a model's output.
  r["models"][1]["tool_selection"]["errors"][0]["got"] = std::string("bad \xC3\x28 \x01 byte");
  const std::string html = render_html(r);
  expect_clean_page(html);
  EXPECT_EQ(html.find("<b>calc"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;calc&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&amp;b&lt;c&gt;.jsonl"), std::string::npos);
  EXPECT_NE(html.find("bad \xEF\xBF\xBD( \xEF\xBF\xBD byte"), std::string::npos);
  EXPECT_EQ(svgs(html).size(), 4u);
}

TEST(ReportHtml, NoModels) {
  ordered_json r = selection_report();
  r["models"] = ordered_json::array();
  r.erase("training");
  const std::string html = render_html(r);
  expect_clean_page(html);
  EXPECT_EQ(svgs(html).size(), 0u);
  EXPECT_NE(html.find("No per-tool F1 chart"), std::string::npos);
}

// ---- pieces ----

TEST(ReportText, EscapingAndWidths) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(clean_utf8("ok\té\n"), "ok\té\n");
  EXPECT_EQ(clean_utf8("\x01"), "\xEF\xBF\xBD");
  EXPECT_EQ(clean_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(clean_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("é—"), 2u);
  EXPECT_EQ(display_width("把这"), 4u);
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);  // e + combining acute
  EXPECT_EQ(truncate_display("abcdef", 4), "abc…");
  EXPECT_EQ(truncate_display("abcd", 4), "abcd");
  EXPECT_EQ(truncate_display("把这句话", 5), "把这…");
}

TEST(ReportText, Formats) {
  EXPECT_EQ(format_percent(0.98765), "98.8%");
  EXPECT_EQ(format_percent(0.0125, 2), "1.25%");
  EXPECT_EQ(format_percent(std::nullopt), "—");
  EXPECT_EQ(format_fixed(2.718281828, 2), "2.72");
  EXPECT_EQ(format_fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(format_count(51234.0), "51234");
  EXPECT_EQ(format_fixed(std::nan(""), 2), "—");
  EXPECT_EQ(format_percent(INFINITY), "—");
  EXPECT_EQ(format_count(1e20), "100000000000000000000");
  EXPECT_EQ(format_created("2026-11-21T18:30:00Z"), "2026-11-21 18:30 UTC");
  EXPECT_EQ(format_created("yesterday"), "yesterday");
  ordered_json o = {{"a", 1.5}, {"b", nullptr}, {"c", "x"}};
  EXPECT_EQ(number_field(o, "a", "o"), 1.5);
  EXPECT_EQ(number_field(o, "b", "o"), std::nullopt);
  EXPECT_EQ(number_field(o, "missing", "o"), std::nullopt);
  EXPECT_NE(error_of([&] { number_field(o, "c", "o"); }).find("o.c: expected a number"),
            std::string::npos);
}

TEST(ReportText, GateFormats) {
  EXPECT_EQ(format_threshold(0.87341), "0.8734");
  EXPECT_EQ(format_threshold(0.5), "0.5000");
  EXPECT_EQ(format_threshold(0.99), "0.9900");
  EXPECT_EQ(format_threshold(0.999953), "0.9999530");  // not "1.0000"
  EXPECT_EQ(format_threshold(1.0), "1.0000");
  EXPECT_EQ(format_target(0.9), "90%");
  EXPECT_EQ(format_target(0.99), "99%");
  EXPECT_EQ(format_target(0.995), "99.5%");
  EXPECT_EQ(format_target(1.0), "100%");
}

TEST(SvgChart, CoveragePrecisionWithoutPointsSaysSo) {
  CoveragePrecisionChart c;
  c.title = "t";
  c.series.push_back({"s", "#000", {}, std::nullopt, std::nullopt, "", ""});
  const std::string svg = coverage_precision_svg(c);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(SvgChart, CoveragePrecisionDrawsOnePointPerPixel) {
  // 10,000 points along a line: the polyline keeps about one per half pixel of the plot.
  CoveragePrecisionChart c;
  c.title = "t";
  GateSeries s{"m", "#000", {}, std::nullopt, std::nullopt, "", ""};
  for (int k = 1; k <= 10000; ++k) s.points.emplace_back(k / 10000.0, 1.0 - k / 40000.0);
  c.series.push_back(s);
  const std::string svg = coverage_precision_svg(c);
  const size_t pts = svg.find("points=\"");
  ASSERT_NE(pts, std::string::npos);
  const size_t n = count(svg.substr(pts, svg.find('"', pts + 8) - pts), ",");
  EXPECT_GT(n, 100u);
  EXPECT_LT(n, 1200u);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_FALSE(has_nan_or_inf(svg));
}

TEST(SvgChart, NiceTicks) {
  Ticks t = nice_ticks(0, 1, 5);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.values[3], 0.6000000000000001);
  EXPECT_EQ(format_tick(t.values[3], t.step), "0.6");
  t = nice_ticks(5, 500, 6);
  EXPECT_DOUBLE_EQ(t.step, 100);
  EXPECT_EQ(t.values, (std::vector<double>{100, 200, 300, 400, 500}));
  EXPECT_EQ(format_tick(300, t.step), "300");
  t = nice_ticks(0.13, 0.47, 5);  // range 0.34: raw step 0.068 -> 0.05
  EXPECT_DOUBLE_EQ(t.step, 0.05);
  EXPECT_EQ(format_tick(t.values.front(), t.step), "0.15");
  t = nice_ticks(3, 3, 5);  // one value: a range around it, never a zero step
  EXPECT_GT(t.step, 0);
  EXPECT_GE(t.values.size(), 2u);
}

TEST(SvgChart, LineChartWithoutPointsSaysSo) {
  LineChart c;
  c.title = "t";
  c.series.push_back({"s", "#000", {}});
  const std::string svg = line_chart_svg(c);
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
  EXPECT_EQ(xml_problem(svg), "");
}

}  // namespace
}  // namespace tsft
