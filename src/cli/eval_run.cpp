#include "cli/eval_run.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "backend/cpu/matmul_int.h"
#include "chat/chat_format.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fs_util.h"
#include "core/progress.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "eval/call_gate.h"
#include "eval/perplexity_eval.h"
#include "eval/report_html.h"
#include "eval/report_markdown.h"
#include "eval/selection_eval.h"
#include "eval/tool_calling_eval.h"
#include "io/file_write.h"

namespace tsft {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The run's train and eval curves from metrics.jsonl (unparsable lines skipped).
ordered_json training_curves(const std::string& metrics_path) {
  std::ifstream in(metrics_path);
  if (!in) return ordered_json();
  ordered_json train = ordered_json::array(), eval = ordered_json::array();
  for (std::string line; std::getline(in, line);) {
    ordered_json j = ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step")) continue;
    if (j.contains("eval_loss")) {
      ordered_json e = {{"step", j["step"]}, {"eval_loss", j["eval_loss"]}};
      for (auto it = j.begin(); it != j.end(); ++it)  // quality measured during training
        if (it.key().rfind("task_", 0) == 0) e[it.key()] = it.value();
      eval.push_back(std::move(e));
    }
    else if (j.contains("loss"))
      train.push_back({{"step", j["step"]}, {"loss", j["loss"]}, {"lr", j.value("lr", 0.0)}});
  }
  if (train.empty() && eval.empty()) return ordered_json();
  return {{"train", train}, {"eval", eval}};
}

// The threshold the scoring entry of `model` takes from q.gate_thresholds: the report's entry of
// that name, or "name (scoring)" when it ran --mode both. nullopt (and a note) when that model
// reached no threshold there; tsft::Error when the report lacks the model.
std::optional<double> gate_threshold_for(const EvalRequest& q, const std::string& model) {
  for (const std::string& key : {model, model + " (scoring)"}) {
    const auto it = q.gate_thresholds.find(key);
    if (it == q.gate_thresholds.end()) continue;
    if (!it->second)
      std::fprintf(stderr, "%s: '%s' reached no threshold there; no gated numbers for it\n",
                   q.gate_thresholds_from.c_str(), key.c_str());
    return it->second;
  }
  std::string names;
  for (const auto& [name, _] : q.gate_thresholds)
    names += (names.empty() ? "'" : ", '") + name + "'";
  fail(q.gate_thresholds_from, ": no model named '", model, "' (it has ", names,
       "); name the models alike with --name");
}

// The gate options of one report entry: the target precision and a fixed threshold, from
// --gate-threshold or, when `look_up`, from the --gate-from report's entry named `name`.
GateOptions gate_options(const EvalRequest& q, bool look_up, const std::string& name) {
  GateOptions gate;
  gate.target_precision = q.gate_precision;
  if (q.gate_threshold) {
    gate.fixed_threshold = q.gate_threshold;
    gate.fixed_threshold_from = "--gate-threshold";
  } else if (look_up && !q.gate_thresholds.empty()) {
    gate.fixed_threshold = gate_threshold_for(q, name);
    gate.fixed_threshold_from = q.gate_thresholds_from;
  }
  return gate;
}

std::vector<int32_t> stop_ids(const LoadedModel& m) {
  std::vector<int32_t> ids = m.gen_defaults.eos_ids;
  if (m.tokenizer->eos_id() >= 0) ids.push_back(m.tokenizer->eos_id());
  return ids;
}

}  // namespace

GateThresholds gate_thresholds_of(const ordered_json& report, const std::string& source,
                                  const std::string& eval_task) {
  const std::string task = report.is_object() ? report.value("task", "") : "";
  if ((task != "tool_selection" && task != "tool_calling") || !report.contains("models") ||
      !report["models"].is_array())
    fail(source, ": not a tool-selection or tool-calling report.json of toolsft eval");
  if (eval_task != (task == "tool_selection" ? "tool-selection" : "tool-calling"))
    fail(source, ": a ", task, " report; a --task ", eval_task, " gate needs thresholds chosen on ",
         eval_task, " data");
  GateThresholds out;
  for (size_t i = 0; i < report["models"].size(); ++i) {
    const ordered_json& m = report["models"][i];
    const std::string where = str(source, ": models[", i, "]");
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string())
      fail(where, ": expected an object with a \"name\"");
    const std::string name = m["name"].get<std::string>();
    const ordered_json* ts = m.contains(task) ? &m[task] : nullptr;
    if (!ts || !ts->is_object() || !ts->contains("gate") || (*ts)["gate"].is_null())
      continue;  // a generation-mode entry, or turns without tools: no probabilities, no gate
    const std::string gw = str(where, ".", task, ".gate");
    const ordered_json& gate = (*ts)["gate"];
    if (!gate.is_object() || !gate.contains("operating_point"))
      fail(gw, ": expected an object with \"operating_point\"");
    const ordered_json& op = gate["operating_point"];
    if (op.is_null()) {
      out[name] = std::nullopt;
      continue;
    }
    if (!op.is_object() || !op.contains("threshold") || !op["threshold"].is_number())
      fail(gw, ".operating_point.threshold: expected a number");
    const double t = op["threshold"].get<double>();
    if (!(t >= 0 && t <= 1)) fail(gw, ".operating_point.threshold: ", t, " is not in [0, 1]");
    out[name] = t;
  }
  if (out.empty())
    fail(source, ": no model has a confidence gate (tool selection in scoring mode, or tool "
         "calling with tools offered)");
  return out;
}

GateThresholds read_gate_thresholds(const std::string& report_path, const std::string& task) {
  std::ifstream in(report_path, std::ios::binary);
  if (!in) fail(report_path, ": cannot open");
  ordered_json report;
  try {
    report = ordered_json::parse(in);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range (1e309)
    fail(report_path, ": not valid JSON: ", e.what());
  }
  return gate_thresholds_of(report, report_path, task);
}

ordered_json run_evaluation(const EvalRequest& q) {
  if (q.task != "tool-selection" && q.task != "tool-calling" && q.task != "perplexity")
    fail("eval task: expected tool-selection, tool-calling or perplexity, got '", q.task, "'");
  if (q.mode != "scoring" && q.mode != "generation" && q.mode != "both")
    fail("eval mode: expected scoring, generation or both, got '", q.mode, "'");
  if (q.decoding != "free" && q.decoding != "constrained" && q.decoding != "both")
    fail("eval decoding: expected free, constrained or both, got '", q.decoding, "'");
  if (q.max_examples < 0) fail("max examples must not be negative");
  if (q.max_errors < 0 || q.max_errors > 1000000)
    fail("max errors must be in [0, 1000000], got ", q.max_errors);
  if (q.batch_tokens < 16) fail("batch tokens must be at least 16, got ", q.batch_tokens);
  if (q.models.empty()) fail("no model to evaluate");
  if (!(q.gate_precision > 0 && q.gate_precision <= 1))
    fail("gate precision must be in (0, 1], got ", q.gate_precision);
  if (q.gate_threshold && !(*q.gate_threshold >= 0 && *q.gate_threshold <= 1))
    fail("gate threshold must be in [0, 1], got ", *q.gate_threshold);
  if (q.call_gate && !(*q.call_gate >= 0 && *q.call_gate <= 1))
    fail("call gate threshold must be in [0, 1], got ", *q.call_gate);
  if (q.gate_threshold && !q.gate_thresholds.empty())
    fail("give one gate threshold for every model or thresholds by model, not both");
  // Thresholds by model, looked up before any model is loaded so that a missing name fails early.
  // (Tool calling looks its thresholds up by entry name, which depends on the decoding, later.)
  std::map<std::string, GateOptions> selection_gates;
  for (const EvalModelSpec& spec : q.models) {
    const bool look_up = q.task == "tool-selection" && q.mode != "generation";
    selection_gates[spec.name] = gate_options(q, look_up, spec.name);
  }
  // The rows, read and validated once.
  const std::string data = q.data;
  DatasetReadOptions ro;
  ro.skip_invalid = q.skip_invalid;
  ro.tools = q.tools;
  DatasetReadStats rs;
  const std::vector<DatasetRow> rows = read_dataset(data, ro, &rs);
  if (rows.empty()) fail(data, ": no valid row to evaluate");
  if (rs.skipped_invalid) {
    std::fprintf(stderr, "%s: %lld invalid rows skipped\n", data.c_str(),
                 static_cast<long long>(rs.skipped_invalid));
    for (const std::string& e : rs.first_errors) std::fprintf(stderr, "  skipped: %s\n", e.c_str());
  }

  ordered_json report = ordered_json::object();
  report["format"] = "toolsft-eval/1";
  report["created"] = utc_now();
  report["task"] = q.task == "tool-selection" ? "tool_selection"
                   : q.task == "tool-calling" ? "tool_calling"
                                                 : "perplexity";
  report["dataset"] = {{"path", data}, {"rows", rs.rows}, {"examples", 0}};
  report["activations"] = activations_summary();  // how quantized weights were multiplied
  report["models"] = ordered_json::array();
  const bool progress = q.progress;

  for (const EvalModelSpec& spec : q.models) {
    std::fprintf(stderr, "== %s: %s%s%s\n", spec.name.c_str(), spec.path.c_str(),
                 spec.adapter.empty() ? "" : " + adapter ", spec.adapter.c_str());
    LoadedModel m = load_eval_model(spec);
    const Tokenizer& tok = *m.tokenizer;
    std::unique_ptr<ChatFormat> chat;
    try {
      chat = std::make_unique<ChatFormat>(ChatFormat::from_tokenizer(tok, spec.path));
    } catch (const Error&) {
      // No chat template: only prompt/completion and text rows can be evaluated.
    }
    ordered_json entry = ordered_json::object();
    entry["name"] = spec.name;
    entry["path"] = spec.adapter.empty() ? spec.path : spec.adapter;
    entry["step"] = spec.step ? ordered_json(*spec.step) : ordered_json();
    std::vector<ordered_json> entries;

    if (q.task == "tool-selection") {
      SelectionTaskOptions to;
      to.labels = q.labels;
      to.sentinel = q.sentinel;
      to.max_examples = q.max_examples;
      const SelectionTask task = build_selection_task(rows, tok, chat.get(), to);
      report["dataset"]["examples"] = task.examples.size();
      for (const char* md : {"generation", "scoring"}) {  // scoring last: the report details its calibration
        if (q.mode != "both" && q.mode != md) continue;
        SelectionRunOptions ro2;
        ro2.metrics.gate = selection_gates.at(spec.name);
        ro2.batch_tokens = q.batch_tokens;
        ro2.metrics.max_errors = static_cast<int>(q.max_errors);
        ro2.max_new_tokens = q.max_new_tokens;
        ro2.eos_ids = stop_ids(m);
        ProgressBar bar(static_cast<int64_t>(task.examples.size()), progress);
        const std::string label = "eval " + spec.name + " (" + md + ")";
        ro2.on_progress = [&](int64_t done, int64_t) { bar.update_count(done, label, "examples"); };
        const auto t0 = std::chrono::steady_clock::now();
        const ClassificationReport r =
            std::string(md) == "scoring"
                ? run_selection_scoring(*m.model, task, ro2)
                : run_selection_generation(*m.model, tok, task, to.sentinel, ro2);
        bar.finish();
        ordered_json e = entry;
        if (q.mode == "both") e["name"] = spec.name + " (" + md + ")";
        e["seconds"] = seconds_since(t0);
        e["tool_selection"] = to_json(r);
        entries.push_back(e);
      }
    } else if (q.task == "tool-calling") {
      if (!chat) fail(spec.path, ": tool-calling evaluation needs the model's chat template");
      ToolCallingTaskOptions to;
      to.max_cases = q.max_examples;
      const ToolCallingTask task = build_tool_calling_task(rows, tok, *chat, to);
      report["dataset"]["examples"] = task.cases.size();
      for (const char* dec : {"free", "constrained"}) {
        if (q.decoding != "both" && q.decoding != dec) continue;
        ToolCallingRunOptions ro2;
        ro2.max_new_tokens = q.max_new_tokens > 0 ? q.max_new_tokens : 256;
        ro2.max_errors = static_cast<int>(q.max_errors);
        ro2.eos_ids = stop_ids(m);
        ro2.format = reply_format(*chat, q.tool_format);
        ro2.constrained = std::string(dec) == "constrained";
        ro2.call_gate = q.call_gate;
        int64_t calls_withheld = 0;
        ro2.calls_withheld = &calls_withheld;
        double constraint_seconds = 0.0;
        ro2.constraint_seconds = &constraint_seconds;
        const std::string label = "eval " + spec.name + (q.decoding == "both" ? str(" (", dec, ")") : "");
        ProgressBar bar(static_cast<int64_t>(task.cases.size()), progress);
        ro2.on_progress = [&](int64_t done, int64_t) { bar.update_count(done, label, "turns"); };
        const auto t0 = std::chrono::steady_clock::now();
        const ToolCallReport r = run_tool_calling(*m.model, tok, task, ro2);
        bar.finish();
        ordered_json e = entry;
        if (q.decoding == "both") e["name"] = spec.name + " (" + dec + ")";
        e["seconds"] = seconds_since(t0);
        e["decoding"] = dec;
        if (ro2.constrained) e["constraint_seconds"] = constraint_seconds;
        if (q.call_gate)
          e["call_gate"] = {{"threshold", *q.call_gate}, {"calls_withheld", calls_withheld}};
        e["tool_calling"] = to_json(r);
        if (!r.gate_turns.empty()) {  // turns with tools, in a format whose calls open with text
          const GateOptions gate = gate_options(q, true, e["name"].get<std::string>());
          e["tool_calling"]["gate"] = to_json(call_gate(r.gate_turns, gate));
        }
        entries.push_back(e);
      }
    } else {
      SftLoadOptions lo;
      lo.max_seq_len = q.max_seq_len;
      lo.skip_invalid = q.skip_invalid;
      lo.tools = ro.tools;
      SftLoadStats st;
      std::vector<SftExample> ex = load_sft_dataset(data, tok, chat.get(), lo, &st);
      if (q.max_examples > 0 && static_cast<int64_t>(ex.size()) > q.max_examples) ex.resize(q.max_examples);
      report["dataset"]["examples"] = ex.size();
      ProgressBar bar(static_cast<int64_t>(ex.size()), progress);
      const auto t0 = std::chrono::steady_clock::now();
      const PerplexityAccumulator acc = run_perplexity(
          *m.model, ex, q.batch_tokens,
          [&](int64_t done, int64_t) { bar.update_count(done, "eval " + spec.name, "examples"); });
      bar.finish();
      ordered_json e = entry;
      e["seconds"] = seconds_since(t0);
      e["perplexity"] = to_json(acc);
      entries.push_back(e);
    }
    for (auto& e : entries) report["models"].push_back(std::move(e));
  }
  if (!q.run_dir.empty()) {
    const ordered_json curves = training_curves((fs::path(q.run_dir) / "metrics.jsonl").string());
    if (!curves.is_null()) report["training"] = curves;
  }

  return report;
}

void write_report(const ordered_json& report, const std::string& out, bool print_markdown,
                  bool announce) {
  ensure_writable_dir(out);
  const std::string md = render_markdown(report);
  write_text_file((fs::path(out) / "report.json").string(), report.dump(2) + "\n");
  write_text_file((fs::path(out) / "report.md").string(), md);
  write_text_file((fs::path(out) / "report.html").string(), render_html(report));
  if (print_markdown) std::fputs(md.c_str(), stdout);
  if (announce) std::printf("\nreport: %s/report.html (also report.md, report.json)\n", out.c_str());
}

}  // namespace tsft
