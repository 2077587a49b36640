// toolsft eval: tool selection (candidate scoring and/or generation), tool calling or perplexity
// of one or more models on a dataset, written as report.json, report.md and report.html.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "chat/chat_format.h"
#include "chat/tool_call.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "core/fs_util.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "eval/perplexity_eval.h"
#include "eval/report_html.h"
#include "eval/report_markdown.h"
#include "eval/selection_eval.h"
#include "eval/tool_calling_eval.h"
#include "export/export_files.h"

namespace tsft {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(at, comma - at);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    at = comma + 1;
  }
  return out;
}

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
    if (j.contains("eval_loss"))
      eval.push_back({{"step", j["step"]}, {"eval_loss", j["eval_loss"]}});
    else if (j.contains("loss"))
      train.push_back({{"step", j["step"]}, {"loss", j["loss"]}, {"lr", j.value("lr", 0.0)}});
  }
  if (train.empty() && eval.empty()) return ordered_json();
  return {{"train", train}, {"eval", eval}};
}

std::vector<int32_t> stop_ids(const LoadedModel& m) {
  std::vector<int32_t> ids = m.gen_defaults.eos_ids;
  if (m.tokenizer->eos_id() >= 0) ids.push_back(m.tokenizer->eos_id());
  return ids;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"data", "FILE", "evaluation data (JSONL or JSON array; the formats training reads)", ""},
      {"task", "NAME", "tool-selection, tool-calling or perplexity", "tool-selection"},
      {"model", "PATH",
       "a model to evaluate: GGUF, Hugging Face directory, checkpoint directory or LoRA adapter "
       "directory (repeatable; compared in order)",
       "", true},
      {"name", "NAME", "the table name of each --model, in order (repeatable)", "", true},
      {"base", "PATH", "base model of LoRA adapters given with --model", ""},
      {"checkpoints", "RUN_DIR",
       "evaluate a training run: its base model, every checkpoint and the final model; the "
       "run's loss curves go into the report",
       ""},
      {"no-base", "", "with --checkpoints: leave out the base model", ""},
      {"mode", "NAME",
       "tool selection: scoring (each candidate's log-probability), generation, or both",
       "scoring"},
      {"labels", "A,B,...", "the candidate tools (default: every answer in the data)", ""},
      {"sentinel", "TEXT", "text before the tool name in answers, stripped from labels", ""},
      {"tools", "FILE", "tools offered to chat rows that have none of their own", ""},
      {"tool-format", "NAME", "tool-call syntax to parse: auto, hermes, llama3, mistral, "
                              "name_parameters (auto: hermes for templates that ignore tools, "
                              "else detected per reply)", "auto"},
      {"max-examples", "N", "evaluate at most N examples (turns for tool calling); 0 = all", "0"},
      {"max-new-tokens", "N", "generation: most tokens per answer; 0 = automatic", "0"},
      {"max-seq-len", "N", "perplexity: longest sequence; longer ones are dropped", "2048"},
      {"batch-tokens", "N", "scoring and perplexity: tokens per batched forward", "1024"},
      {"skip-invalid", "", "skip rows that fail validation instead of stopping", ""},
      {"out", "DIR", "where report.json, report.md and report.html go", "eval-report"},
      {"threads", "N", "worker threads; 0 = all cores", "0"},
      {"quiet", "", "no progress bar, no Markdown on stdout", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help") || !args.given("data")) {
    std::fputs(format_help(
                   "toolsft eval --data FILE [--task NAME] (--model PATH ... | --checkpoints RUN)",
                   "Evaluates models on a dataset and writes a JSON, Markdown and HTML report.",
                   kSpecs)
                   .c_str(),
               stdout);
    return args.flag("help") ? 0 : 2;
  }
  set_num_threads(static_cast<int>(args.integer("threads")));
  const std::string task_name = args.str("task");
  if (task_name != "tool-selection" && task_name != "tool-calling" && task_name != "perplexity")
    fail("--task: expected tool-selection, tool-calling or perplexity, got '", task_name, "'");
  const std::string mode = args.str("mode");
  if (mode != "scoring" && mode != "generation" && mode != "both")
    fail("--mode: expected scoring, generation or both, got '", mode, "'");
  const ToolCallFormat tool_format = tool_call_format_from_name(args.str("tool-format"));
  const int64_t max_examples = args.integer("max-examples");
  if (max_examples < 0) fail("--max-examples must not be negative");
  const int64_t batch_tokens = args.integer("batch-tokens");
  if (batch_tokens < 16) fail("--batch-tokens must be at least 16, got ", batch_tokens);

  // The models, in table order.
  std::vector<EvalModelSpec> models;
  if (args.given("checkpoints"))
    models = run_models(args.str("checkpoints"), !args.flag("no-base"));
  const std::vector<std::string> names = args.all("name");
  const std::vector<std::string> paths = args.all("model");
  if (names.size() > paths.size()) fail("--name given ", names.size(), " times for ", paths.size(), " --model");
  for (size_t i = 0; i < paths.size(); ++i) {
    EvalModelSpec s = model_spec_of(paths[i], args.str("base"));
    if (i < names.size()) s.name = names[i];
    models.push_back(s);
  }
  if (models.empty()) models.push_back(model_spec_of(resolve_model_path(kDefaultModel), ""));
  std::set<std::string> seen;
  for (EvalModelSpec& s : models)
    for (int k = 2; !seen.insert(s.name).second; ++k) s.name += "-" + std::to_string(k);

  // The rows, read and validated once.
  const std::string data = args.str("data");
  DatasetReadOptions ro;
  ro.skip_invalid = args.flag("skip-invalid");
  if (args.given("tools")) ro.tools = read_tools_file(args.str("tools"));
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
  report["task"] = task_name == "tool-selection" ? "tool_selection"
                   : task_name == "tool-calling" ? "tool_calling"
                                                 : "perplexity";
  report["dataset"] = {{"path", data}, {"rows", rs.rows}, {"examples", 0}};
  report["models"] = ordered_json::array();
  const bool progress = !args.flag("quiet");

  for (const EvalModelSpec& spec : models) {
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

    if (task_name == "tool-selection") {
      SelectionTaskOptions to;
      to.labels = split_list(args.str("labels"));
      to.sentinel = args.str("sentinel");
      to.max_examples = max_examples;
      const SelectionTask task = build_selection_task(rows, tok, chat.get(), to);
      report["dataset"]["examples"] = task.examples.size();
      for (const char* md : {"generation", "scoring"}) {  // scoring last: the report details its calibration
        if (mode != "both" && mode != md) continue;
        SelectionRunOptions ro2;
        ro2.batch_tokens = batch_tokens;
        ro2.max_new_tokens = args.integer("max-new-tokens");
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
        if (mode == "both") e["name"] = spec.name + " (" + md + ")";
        e["seconds"] = seconds_since(t0);
        e["tool_selection"] = to_json(r);
        entries.push_back(e);
      }
    } else if (task_name == "tool-calling") {
      if (!chat) fail(spec.path, ": tool-calling evaluation needs the model's chat template");
      ToolCallingTaskOptions to;
      to.max_cases = max_examples;
      const ToolCallingTask task = build_tool_calling_task(rows, tok, *chat, to);
      report["dataset"]["examples"] = task.cases.size();
      ToolCallingRunOptions ro2;
      ro2.max_new_tokens = args.integer("max-new-tokens") > 0 ? args.integer("max-new-tokens") : 256;
      ro2.eos_ids = stop_ids(m);
      ro2.format = tool_format;
      // Templates that ignore tools get toolsft's Hermes-style tool prompt (chat/tool_prompt.h),
      // so that is the syntax to read; guessing would take a cut-off JSON answer for a call.
      if (tool_format == ToolCallFormat::kAuto && !chat->template_handles_tools())
        ro2.format = ToolCallFormat::kHermes;
      ProgressBar bar(static_cast<int64_t>(task.cases.size()), progress);
      ro2.on_progress = [&](int64_t done, int64_t) {
        bar.update_count(done, "eval " + spec.name, "turns");
      };
      const auto t0 = std::chrono::steady_clock::now();
      const ToolCallReport r = run_tool_calling(*m.model, tok, task, ro2);
      bar.finish();
      ordered_json e = entry;
      e["seconds"] = seconds_since(t0);
      e["tool_calling"] = to_json(r);
      entries.push_back(e);
    } else {
      SftLoadOptions lo;
      lo.max_seq_len = args.integer("max-seq-len");
      lo.skip_invalid = args.flag("skip-invalid");
      lo.tools = ro.tools;
      SftLoadStats st;
      std::vector<SftExample> ex = load_sft_dataset(data, tok, chat.get(), lo, &st);
      if (max_examples > 0 && static_cast<int64_t>(ex.size()) > max_examples) ex.resize(max_examples);
      report["dataset"]["examples"] = ex.size();
      ProgressBar bar(static_cast<int64_t>(ex.size()), progress);
      const auto t0 = std::chrono::steady_clock::now();
      const PerplexityAccumulator acc = run_perplexity(
          *m.model, ex, batch_tokens,
          [&](int64_t done, int64_t) { bar.update_count(done, "eval " + spec.name, "examples"); });
      bar.finish();
      ordered_json e = entry;
      e["seconds"] = seconds_since(t0);
      e["perplexity"] = to_json(acc);
      entries.push_back(e);
    }
    for (auto& e : entries) report["models"].push_back(std::move(e));
  }
  if (args.given("checkpoints")) {
    const ordered_json curves =
        training_curves((fs::path(args.str("checkpoints")) / "metrics.jsonl").string());
    if (!curves.is_null()) report["training"] = curves;
  }

  const std::string out = args.str("out");
  ensure_writable_dir(out);
  const std::string md = render_markdown(report);
  write_text_file((fs::path(out) / "report.json").string(), report.dump(2) + "\n");
  write_text_file((fs::path(out) / "report.md").string(), md);
  write_text_file((fs::path(out) / "report.html").string(), render_html(report));
  if (!args.flag("quiet")) std::fputs(md.c_str(), stdout);
  std::printf("\nreport: %s/report.html (also report.md, report.json)\n", out.c_str());
  return 0;
}

}  // namespace tsft
