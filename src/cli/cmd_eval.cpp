// toolsft eval: tool selection (candidate scoring and/or generation), tool calling or perplexity
// of one or more models on a dataset, written as report.json, report.md and report.html.
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "chat/tool_call.h"
#include "cli/args.h"
#include "cli/compute_options.h"
#include "cli/commands.h"
#include "cli/eval_models.h"
#include "cli/eval_run.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/dataset_rows.h"

namespace tsft {

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
      {"decoding", "NAME",
       "tool calling: free, constrained (schema-constrained: the reply is text or calls that "
       "validate against the offered tools), or both (each model twice, compared)",
       "free"},
      {"max-examples", "N", "evaluate at most N examples (turns for tool calling); 0 = all", "0"},
      {"max-errors", "N",
       "wrong answers (failing turns) listed in the report with their prompt, expected and "
       "actual output; the first N in data order", "20"},
      {"max-new-tokens", "N", "generation: most tokens per answer; 0 = automatic", "0"},
      {"max-seq-len", "N", "perplexity: longest sequence; longer ones are dropped", "2048"},
      {"batch-tokens", "N", "scoring and perplexity: tokens per batched forward", "1024"},
      {"gate-precision", "P",
       "tool selection (scoring) and tool calling: the confidence gate's target precision in "
       "(0, 1]; the report gives the lowest threshold reaching it on this data and the "
       "coverage/precision curve (tool calling: a call is kept only when the model's probability "
       "of opening it is >= the threshold; precision = calls kept that the turn wanted)",
       "0.99"},
      {"gate-threshold", "T",
       "tool selection (scoring) and tool calling: also report what gating at confidence >= T "
       "gives, in [0, 1] (a threshold chosen on held-out data)",
       ""},
      {"gate-from", "REPORT",
       "like --gate-threshold, with each model's chosen threshold taken from a report.json of "
       "the same models and task on held-out data (matched by name)",
       ""},
      {"call-gate", "T",
       "tool calling: decode with the call gate at T in [0, 1] (as serve --call-gate): a turn "
       "whose call probability is below T is answered in text, never with a call",
       ""},
      {"skip-invalid", "", "skip rows that fail validation instead of stopping", ""},
      {"out", "DIR", "where report.json, report.md and report.html go", "eval-report"},
      {"threads", "N", "worker threads; 0 = all cores", "0"},
      activations_option(),
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
  apply_activations_option(args);
  EvalRequest q;
  q.data = args.str("data");
  q.task = args.str("task");
  if (q.task != "tool-selection" && q.task != "tool-calling" && q.task != "perplexity")
    fail("--task: expected tool-selection, tool-calling or perplexity, got '", q.task, "'");
  q.mode = args.str("mode");
  if (q.mode != "scoring" && q.mode != "generation" && q.mode != "both")
    fail("--mode: expected scoring, generation or both, got '", q.mode, "'");
  q.tool_format = tool_call_format_from_name(args.str("tool-format"));
  q.decoding = args.str("decoding");
  if (q.decoding != "free" && q.decoding != "constrained" && q.decoding != "both")
    fail("--decoding: expected free, constrained or both, got '", q.decoding, "'");
  if (args.given("decoding") && q.task != "tool-calling")
    fail("--decoding applies to --task tool-calling only");
  q.max_examples = args.integer("max-examples");
  if (q.max_examples < 0) fail("--max-examples must not be negative");
  q.max_errors = args.integer("max-errors");
  if (q.max_errors < 0 || q.max_errors > 1000000)
    fail("--max-errors must be in [0, 1000000], got ", q.max_errors);
  q.batch_tokens = args.integer("batch-tokens");
  if (q.batch_tokens < 16) fail("--batch-tokens must be at least 16, got ", q.batch_tokens);
  q.max_new_tokens = args.integer("max-new-tokens");
  q.max_seq_len = args.integer("max-seq-len");
  q.labels = split_list(args.str("labels"));
  q.sentinel = args.str("sentinel");
  q.skip_invalid = args.flag("skip-invalid");
  if (args.given("tools")) q.tools = read_tools_file(args.str("tools"));
  q.progress = !args.flag("quiet");
  if (args.given("checkpoints")) q.run_dir = args.str("checkpoints");
  q.gate_precision = args.number("gate-precision");
  if (!(q.gate_precision > 0 && q.gate_precision <= 1))
    fail("--gate-precision: expected a precision in (0, 1], got ", args.str("gate-precision"));
  if (args.given("gate-threshold")) {
    q.gate_threshold = args.number("gate-threshold");
    if (!(*q.gate_threshold >= 0 && *q.gate_threshold <= 1))
      fail("--gate-threshold: expected a confidence in [0, 1], got ", args.str("gate-threshold"));
  }
  if (args.given("gate-threshold") && args.given("gate-from"))
    fail("--gate-threshold and --gate-from: give one or the other");
  const bool gated = args.given("gate-precision") || args.given("gate-threshold") ||
                     args.given("gate-from");
  if (gated && (q.task == "perplexity" || (q.task == "tool-selection" && q.mode == "generation")))
    fail("--gate-precision, --gate-threshold and --gate-from need tool-selection scoring "
         "(--task tool-selection with --mode scoring or both) or --task tool-calling");
  if (args.given("call-gate")) {
    if (q.task != "tool-calling") fail("--call-gate applies to --task tool-calling only");
    q.call_gate = args.number("call-gate");
    if (!(*q.call_gate >= 0 && *q.call_gate <= 1))
      fail("--call-gate: expected a probability in [0, 1], got ", args.str("call-gate"));
  }
  if (args.given("gate-from")) {
    q.gate_thresholds_from = args.str("gate-from");
    q.gate_thresholds = read_gate_thresholds(q.gate_thresholds_from, q.task);
  }

  // The models, in table order.
  std::vector<EvalModelSpec>& models = q.models;
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

  const nlohmann::ordered_json report = run_evaluation(q);
  write_report(report, args.str("out"), !args.flag("quiet"));
  return 0;
}

}  // namespace tsft
