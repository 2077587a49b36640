#include "cli/recipe_run.h"

#include <sys/resource.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "chat/chat_format.h"
#include "cli/eval_models.h"
#include "cli/eval_run.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fs_util.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/dataset_rows.h"
#include "data/gen_generalist.h"
#include "data/gen_tool_calling.h"
#include "data/gen_tool_selection.h"
#include "data/gen_tools.h"
#include "data/system_prompt_template.h"
#include "eval/selection_eval.h"
#include "eval/tool_calling_eval.h"
#include "io/file_write.h"
#include "export/merge.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

namespace tsft {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

using Clock = std::chrono::steady_clock;

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

void write_jsonl(const std::string& path, const std::vector<ordered_json>& rows) {
  std::string text;
  for (const ordered_json& r : rows) text += r.dump() + "\n";
  const std::string tmp = path + ".tmp";
  write_text_file(tmp, text);
  fs::rename(tmp, path);
}

std::vector<std::string> tool_names(const std::vector<GenTool>& tools) {
  std::vector<std::string> names;
  for (const GenTool& t : tools) names.push_back(t.name);
  return names;
}

// Indices 0..n-1 in a seeded order: the first `held` are held out.
std::vector<size_t> seeded_order(size_t n, uint64_t seed) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  Rng rng(seed ^ 0x5eed511177ull);
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.next_u64() % i]);
  return idx;
}

struct SplitRows {
  std::vector<ordered_json> train, eval;
};

SplitRows split_rows(std::vector<ordered_json> rows, double fraction, int64_t count,
                     uint64_t seed) {
  const size_t n = rows.size();
  size_t held = count > 0 ? static_cast<size_t>(count)
                          : static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  if (fraction > 0 && held == 0) held = 1;
  if (held >= n) fail("holding out ", held, " of ", n, " rows leaves nothing to train on");
  SplitRows s;
  const std::vector<size_t> order = seeded_order(n, seed);
  for (size_t i = 0; i < n; ++i)
    (i < held ? s.eval : s.train).push_back(std::move(rows[order[i]]));
  return s;
}

std::vector<ordered_json> user_rows(const TrainConfig& cfg, const std::string& path) {
  DatasetReadOptions ro;
  ro.skip_invalid = cfg.data.skip_invalid;
  if (!cfg.data.tools.empty()) ro.tools = read_tools_file(cfg.data.tools);
  DatasetReadStats st;
  std::vector<ordered_json> out;
  for (const DatasetRow& r : read_dataset(path, ro, &st)) out.push_back(row_to_json(r));
  if (st.skipped_invalid)
    std::fprintf(stderr, "%s: %lld invalid rows skipped\n", path.c_str(),
                 static_cast<long long>(st.skipped_invalid));
  return out;
}

std::vector<GenTool> recipe_tools(const TrainConfig& cfg) {
  return cfg.generate.tools.empty() ? builtin_gen_tools() : load_gen_tools(cfg.generate.tools);
}

std::vector<ordered_json> generated_rows(const TrainConfig& cfg, const std::vector<GenTool>& tools) {
  const auto& g = cfg.generate;
  GenStats stats;
  if (g.task == "tool-selection") {
    ToolSelectionOptions o;
    o.n = g.num_examples;
    o.seed = static_cast<uint64_t>(g.seed);
    o.format = g.format == "chat" ? ToolSelectionOptions::Format::kChat
                                  : ToolSelectionOptions::Format::kPromptCompletion;
    o.sentinel = g.sentinel;
    return generate_tool_selection(tools, o, &stats);
  }
  if (g.task == "tool-calling-general") {
    GeneralistOptions o;
    o.n = g.num_examples;
    o.seed = static_cast<uint64_t>(g.seed);
    o.requests = static_cast<int>(g.requests_per_row);
    GeneralistStats gs;
    return generate_generalist(o, &gs);
  }
  ToolCallingOptions o;
  o.n = g.num_examples;
  o.seed = static_cast<uint64_t>(g.seed);
  const auto shares = g.shares();
  static_assert(std::tuple_size_v<decltype(shares)> == kCallKinds);
  std::copy(shares.begin(), shares.end(), std::begin(o.shares));
  std::vector<ordered_json> rows = generate_tool_calling(tools, o, &stats);
  if (!g.system_prompt.empty()) {
    const SystemPromptTemplate tpl = SystemPromptTemplate::load(g.system_prompt);
    for (size_t i = 0; i < rows.size(); ++i) {
      ordered_json msgs = ordered_json::array();
      msgs.push_back({{"role", "system"},
                      {"content", tpl.render(static_cast<uint64_t>(g.seed), static_cast<int64_t>(i))}});
      for (auto& m : rows[i]["messages"]) msgs.push_back(std::move(m));
      rows[i]["messages"] = std::move(msgs);
    }
  }
  return rows;
}

// A tool-selection test file of {"request", "tool"} rows in the recipe's own layout; other files
// are used as they are. Returns the path to evaluate.
std::string prepare_test_set(const TrainConfig& cfg, const std::vector<std::string>& names,
                             const std::string& data_dir) {
  const std::string& path = cfg.report.test_data;
  std::ifstream in(path);
  if (!in) fail("report.test_data: cannot read ", path);
  std::string first;
  while (std::getline(in, first) && first.find_first_not_of(" \t\r") == std::string::npos) {
  }
  const ordered_json j = ordered_json::parse(first, nullptr, false);
  if (cfg.report.task != "tool-selection" || !j.is_object() || !j.contains("request")) return path;
  in.clear();
  in.seekg(0);
  std::vector<ordered_json> rows;
  const bool chat = cfg.generate.format == "chat";
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    const ordered_json r = ordered_json::parse(line, nullptr, false);
    if (!r.is_object()) fail(where, ": not a JSON object");
    if (!r.contains("request") || !r["request"].is_string())
      fail(where, ": request: expected a string");
    if (!r.contains("tool") || !r["tool"].is_string()) fail(where, ": tool: expected a string");
    const std::string tool = r["tool"].get<std::string>();
    if (std::find(names.begin(), names.end(), tool) == names.end())
      fail(where, ": tool: '", tool, "' is not one of the recipe's tools");
    const std::string request = r["request"].get<std::string>();
    const std::string answer = tool_selection_answer(tool, cfg.generate.sentinel, chat);
    if (chat)
      rows.push_back({{"messages",
                       {{{"role", "system"}, {"content", tool_selection_system(names)}},
                        {{"role", "user"}, {"content", request}},
                        {{"role", "assistant"}, {"content", answer}}}}});
    else
      rows.push_back({{"prompt", tool_selection_prompt(names, request)}, {"completion", answer}});
  }
  const std::string out = data_dir + "/" + cfg.report.test_name + ".jsonl";
  write_jsonl(out, rows);
  std::fprintf(stderr, "report.test_data: %zu requests rendered in the recipe's layout -> %s\n",
               rows.size(), out.c_str());
  return out;
}

// Tool-call quality (or selection accuracy) of the weights being trained on the first N held-out
// rows, for TrainHooks::task_eval.
struct TaskEvaluator {
  TaskEvaluator(const TrainConfig& c, std::vector<std::string> l) : cfg(c), labels(std::move(l)) {}
  const TrainConfig& cfg;
  std::vector<std::string> labels;
  bool built = false;
  std::unique_ptr<ChatFormat> chat;
  ToolCallingTask calling;
  SelectionTask selection;

  nlohmann::json operator()(const Tokenizer& tok, const ModelConfig& mc, const ModelWeights& w,
                            const LoraWeights* lora) {
    if (!built) {
      DatasetReadOptions ro;
      std::vector<DatasetRow> rows = read_dataset(cfg.data.eval, ro, nullptr);
      if (static_cast<int64_t>(rows.size()) > cfg.eval.task_examples)
        rows.resize(static_cast<size_t>(cfg.eval.task_examples));
      if (!tok.chat_template().empty())
        chat = std::make_unique<ChatFormat>(ChatFormat::from_tokenizer(tok, cfg.model.path));
      if (cfg.report.task == "tool-calling") {
        if (!chat) fail("eval.task_examples: tool-calling evaluation needs a chat template");
        calling = build_tool_calling_task(rows, tok, *chat, {});
      } else if (cfg.report.task == "tool-selection") {
        SelectionTaskOptions to;
        to.labels = labels;
        to.sentinel = cfg.generate.sentinel;
        selection = build_selection_task(rows, tok, chat.get(), to);
      }
      built = true;
    }
    Transformer model(mc, lora ? merged_weights(mc, w, *lora) : copy_weights_f32(mc, w));
    std::vector<int32_t> eos;
    if (tok.eos_id() >= 0) eos.push_back(tok.eos_id());
    const auto t0 = Clock::now();
    nlohmann::json out;
    if (cfg.report.task == "tool-calling") {
      ToolCallingRunOptions o;
      o.max_new_tokens = cfg.report.max_new_tokens > 0 ? cfg.report.max_new_tokens : 256;
      o.eos_ids = eos;
      o.format = reply_format(*chat, ToolCallFormat::kAuto);
      const ordered_json r = to_json(run_tool_calling(model, tok, calling, o));
      for (const char* k : {"name_f1", "arguments_exact_match", "hallucinated_call_rate"})
        if (r.contains(k)) out[std::string("task_") + k] = r[k];
      out["task_turns"] = calling.cases.size();
    } else if (cfg.report.task == "tool-selection") {
      SelectionRunOptions o;
      const ordered_json r = to_json(run_selection_scoring(model, selection, o));
      out["task_accuracy"] = r["accuracy"];
      out["task_macro_f1"] = r["macro_f1"];
      out["task_examples"] = selection.examples.size();
    }
    out["task_eval_s"] = seconds_since(t0);
    return out;
  }
};

// The training part of a recipe: the data as made, no generate or report section. It is what
// output_dir/train_config.yaml holds, so `toolsft train --config` on it trains on the same rows,
// and `toolsft eval --checkpoints` finds the base model in it. The whole recipe config is saved
// beside it as recipe_config.yaml.
TrainConfig training_part(const TrainConfig& cfg) {
  TrainConfig t = cfg;
  t.generate = TrainConfig::Generate{};
  t.report = TrainConfig::Report{};
  t.eval.task_examples = 0;  // scored through TrainHooks::task_eval instead
  return t;
}

// True when output_dir holds the finished run of this training config. Keys that do not change
// what is trained (resume_from, progress, threads) are left out of the comparison, so a run
// finished with --train.resume_from latest is still recognised without the flag.
bool run_is_done(const TrainConfig& cfg) {
  const fs::path out(cfg.train.output_dir);
  const fs::path saved = out / "train_config.yaml";
  if (!(fs::exists(out / "model") || fs::exists(out / "adapter")) || !fs::exists(saved))
    return false;
  TrainConfig done;
  try {
    done = load_train_config(saved.string(), {});
  } catch (const Error&) {
    return false;  // unreadable or from another version: train again
  }
  TrainConfig now = cfg;
  for (TrainConfig* c : {&done, &now}) {
    c->train.resume_from.clear();
    c->train.progress = true;
    c->model.threads = 0;
  }
  return done == now;
}

// "accuracy 34.0% -> 99.9%"-style lines for the models the report compares.
struct Headline {
  std::string text;
  ordered_json json = ordered_json::object();
};

std::string pct(const ordered_json& v) {
  if (!v.is_number()) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * v.get<double>());
  return b;
}

Headline headline(const ordered_json& report, const std::string& task) {
  Headline h;
  const ordered_json* base = nullptr;
  const ordered_json* last = nullptr;
  for (const ordered_json& m : report["models"]) {
    if (m["name"] == "base") base = &m;
    last = &m;
  }
  std::vector<std::pair<std::string, std::string>> fields;  // (section.key, label)
  if (task == "tool-selection")
    fields = {{"accuracy", "accuracy"}, {"macro_f1", "macro-F1"}, {"calibration.ece", "ECE"}};
  else if (task == "tool-calling")
    fields = {{"name_f1", "tool-name F1"},
              {"arguments_exact_match", "argument exact match"},
              {"hallucinated_call_rate", "hallucinated calls"}};
  else
    fields = {{"perplexity", "perplexity"}};
  const char* section = task == "tool-selection"  ? "tool_selection"
                        : task == "tool-calling" ? "tool_calling"
                                                  : "perplexity";
  auto value = [&](const ordered_json* m, const std::string& k) -> ordered_json {
    if (!m || !m->contains(section)) return ordered_json();
    const ordered_json* v = &(*m)[section];
    for (size_t at = 0; at <= k.size();) {  // "calibration.ece": one level per dot
      const size_t dot = std::min(k.find('.', at), k.size());
      const std::string part = k.substr(at, dot - at);
      if (!v->is_object() || !v->contains(part)) return ordered_json();
      v = &(*v)[part];
      at = dot + 1;
    }
    return *v;
  };
  for (const auto& [k, label] : fields) {
    const ordered_json b = value(base, k), f = value(last == base ? nullptr : last, k);
    auto show = [&](const ordered_json& v) {
      if (task == "perplexity" && v.is_number()) {
        char s[32];
        std::snprintf(s, sizeof s, "%.3f", v.get<double>());
        return std::string(s);
      }
      if (k == "calibration.ece" && v.is_number()) {  // calibration targets are about 1%
        char s[32];
        std::snprintf(s, sizeof s, "%.2f%%", 100.0 * v.get<double>());
        return std::string(s);
      }
      return pct(v);
    };
    if (!h.text.empty()) h.text += ", ";
    h.text += label + " " + (base ? show(b) + " -> " : "") + (last && last != base ? show(f) : "");
    h.json[k == "calibration.ece" ? "ece" : k] = {{"base", b}, {"final", f}};
  }
  return h;
}

}  // namespace

bool is_recipe(const TrainConfig& cfg) {
  return cfg.generate.task != "none" || cfg.report.task != "none";
}

int run_recipe(TrainConfig cfg, const RecipeOptions& opt) {
  const auto t0 = Clock::now();
  const std::string recipe_yaml = to_yaml(cfg);  // as given: running it again redoes the recipe
  const std::string out = cfg.train.output_dir;
  const std::string data_dir = out + "/data";
  ensure_writable_dir(data_dir);
  ordered_json summary = ordered_json::object();
  summary["format"] = "toolsft-recipe/1";
  summary["output_dir"] = out;

  // 1. Data: generated (plus the user's rows), or the user's rows split for the report.
  std::vector<std::string> labels;
  const auto td = Clock::now();
  if (cfg.generate.task != "none") {
    const std::vector<GenTool> tools = recipe_tools(cfg);
    labels = tool_names(tools);
    SplitRows s = split_rows(generated_rows(cfg, tools), cfg.generate.eval_fraction, 0,
                             static_cast<uint64_t>(cfg.generate.seed));
    int64_t n_user = 0;
    if (!cfg.data.train.empty()) {
      for (ordered_json& r : user_rows(cfg, cfg.data.train)) s.train.push_back(std::move(r)), ++n_user;
      // Mixed in at seeded places, not all at the end.
      const std::vector<size_t> order = seeded_order(s.train.size(), cfg.generate.seed + 1);
      std::vector<ordered_json> mixed;
      for (size_t i : order) mixed.push_back(std::move(s.train[i]));
      s.train = std::move(mixed);
    }
    write_jsonl(data_dir + "/train.jsonl", s.train);
    write_jsonl(data_dir + "/eval.jsonl", s.eval);
    std::fprintf(stderr,
                 "generated %lld %s rows (seed %lld): %zu train%s, %zu held out -> %s/{train,eval}.jsonl\n",
                 static_cast<long long>(cfg.generate.num_examples), cfg.generate.task.c_str(),
                 static_cast<long long>(cfg.generate.seed), s.train.size(),
                 n_user ? str(" (", n_user, " from ", cfg.data.train, ")").c_str() : "",
                 s.eval.size(), data_dir.c_str());
    summary["data"] = {{"generated", cfg.generate.num_examples},
                       {"user_rows", n_user},
                       {"train", s.train.size()},
                       {"eval", s.eval.size()}};
    cfg.data.train = data_dir + "/train.jsonl";
    cfg.data.eval = data_dir + "/eval.jsonl";
    cfg.data.tools.clear();  // the user's rows now carry their tools
  } else if (cfg.report.task != "none" && cfg.data.eval.empty() &&
             (cfg.data.eval_fraction > 0 || cfg.data.eval_count > 0)) {
    SplitRows s = split_rows(user_rows(cfg, cfg.data.train), cfg.data.eval_fraction,
                             cfg.data.eval_count, static_cast<uint64_t>(cfg.data.seed));
    write_jsonl(data_dir + "/train.jsonl", s.train);
    write_jsonl(data_dir + "/eval.jsonl", s.eval);
    std::fprintf(stderr, "split %s (seed %lld): %zu train, %zu held out -> %s/{train,eval}.jsonl\n",
                 cfg.data.train.c_str(), static_cast<long long>(cfg.data.seed), s.train.size(),
                 s.eval.size(), data_dir.c_str());
    summary["data"] = {{"train", s.train.size()}, {"eval", s.eval.size()}};
    cfg.data.train = data_dir + "/train.jsonl";
    cfg.data.eval = data_dir + "/eval.jsonl";
    cfg.data.eval_fraction = 0;
    cfg.data.eval_count = 0;
    cfg.data.tools.clear();
  }
  summary["data_seconds"] = seconds_since(td);
  write_text_file(out + "/recipe_config.yaml", recipe_yaml);
  if (opt.generate_only) {
    std::printf("data written to %s (train.jsonl, eval.jsonl); --generate-only: stopping here\n",
                data_dir.c_str());
    return 0;
  }
  if (cfg.report.task == "tool-selection" && labels.empty() && !cfg.data.tools.empty()) {
    for (const auto& t : read_tools_file(cfg.data.tools)) labels.push_back(t["function"]["name"]);
  }
  std::string test_path;
  if (!cfg.report.test_data.empty()) {
    if (cfg.report.task == "tool-selection" && labels.empty() && cfg.generate.task == "none")
      labels = tool_names(builtin_gen_tools());
    test_path = prepare_test_set(cfg, labels, data_dir);
  }

  // 2. Training (skipped when this exact run already finished in output_dir).
  const auto tt = Clock::now();
  if (!opt.base_only) {
    if (run_is_done(training_part(cfg))) {
      std::fprintf(stderr,
                   "%s already holds the finished run of this config: training skipped (delete "
                   "it or change output_dir to train again)\n",
                   out.c_str());
      summary["train_skipped"] = true;
    } else {
      TrainHooks hooks;
      TaskEvaluator te(cfg, labels);
      if (cfg.eval.task_examples > 0) hooks.task_eval = std::ref(te);
      const TrainResult r = run_training(training_part(cfg), hooks);
      std::printf("trained %lld steps; final loss %.4f; output %s\n",
                  static_cast<long long>(r.steps),
                  r.step_losses.empty() ? 0.0 : r.step_losses.back(), r.final_dir.c_str());
      summary["train_steps"] = r.steps;
    }
  }
  summary["train_seconds"] = seconds_since(tt);

  // 3. Reports.
  const auto te = Clock::now();
  std::vector<std::string> lines;
  if (cfg.report.task != "none") {
    if (cfg.data.eval.empty())
      fail("report.task needs held-out data: set data.eval, data.eval_fraction or generate.task");
    EvalRequest q;
    q.task = cfg.report.task;
    q.mode = cfg.report.mode;
    q.labels = labels;
    q.sentinel = cfg.generate.sentinel;
    q.max_examples = cfg.report.max_examples;
    q.max_new_tokens = cfg.report.max_new_tokens;
    q.max_seq_len = cfg.data.max_seq_len;
    if (!cfg.data.tools.empty()) q.tools = read_tools_file(cfg.data.tools);
    if (opt.base_only) {
      EvalModelSpec base;
      base.name = "base";
      base.path = cfg.model.path;
      q.models.push_back(base);
    } else {
      q.run_dir = out;
      for (EvalModelSpec& s : run_models(out, cfg.report.base))
        if (cfg.report.checkpoints || s.name == "base" || s.name == "final")
          q.models.push_back(std::move(s));
    }
    struct Target {
      std::string name, data, dir;
    };
    std::vector<Target> targets = {{"held-out", cfg.data.eval, out + "/report"}};
    if (!test_path.empty())
      targets.push_back({cfg.report.test_name, test_path, out + "/report-" + cfg.report.test_name});
    summary["reports"] = ordered_json::object();
    for (const Target& t : targets) {
      q.data = t.data;
      std::fprintf(stderr, "== report on %s (%s)\n", t.name.c_str(), t.data.c_str());
      const ordered_json report = run_evaluation(q);
      write_report(report, t.dir, false, /*announce=*/false);
      // Confidence gate: each model's threshold is chosen on the held-out data (the first target)
      // and the further test set reports what it gives there.
      if (q.gate_thresholds.empty() && q.task == "tool-selection" && q.mode != "generation") {
        q.gate_thresholds_from = t.dir + "/report.json";
        q.gate_thresholds = gate_thresholds_of(report, q.gate_thresholds_from, q.task);
      }
      const Headline h = headline(report, cfg.report.task);
      lines.push_back(t.name + " (" + std::to_string(report["dataset"]["examples"].get<int64_t>()) +
                      " examples): " + h.text);
      summary["reports"][t.name] = {{"path", t.dir + "/report.html"},
                                    {"examples", report["dataset"]["examples"]},
                                    {"metrics", h.json}};
    }
  }
  summary["report_seconds"] = seconds_since(te);
  summary["wall_seconds"] = seconds_since(t0);
  summary["peak_rss_mib"] = peak_rss_mib();
  write_text_file(out + "/recipe_summary.json", summary.dump(2) + "\n");

  std::printf("\n== recipe done in %s, peak memory %.0f MiB ==\n",
              format_eta(summary["wall_seconds"].get<double>()).c_str(), peak_rss_mib());
  if (cfg.report.task != "none") {
    std::printf("report: %s/report/report.html\n", out.c_str());
    if (!test_path.empty())
      std::printf("report on %s: %s/report-%s/report.html\n", cfg.report.test_name.c_str(),
                  out.c_str(), cfg.report.test_name.c_str());
    for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  }
  return 0;
}

}  // namespace tsft
