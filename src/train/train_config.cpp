// The key table of TrainConfig and everything derived from it: YAML loading, overrides,
// validation, help text, YAML / JSON dumps and the Markdown reference.
#include "train/train_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <variant>

#include "core/error.h"

namespace tsft {
namespace {

namespace fs = std::filesystem;

using FieldRef = std::variant<std::string*, int64_t*, double*, bool*, std::vector<std::string>*>;

enum class Kind { kString, kPath, kInt, kFloat, kBool, kEnum, kList };

constexpr double kInf = std::numeric_limits<double>::infinity();

// Allowed interval of a numeric key; open ends are strict.
struct Bound {
  double lo = -kInf, hi = kInf;
  bool lo_open = false, hi_open = false;
  bool contains(double v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
};

struct KeyDef {
  const char* section;
  const char* key;
  FieldRef (*field)(TrainConfig&);
  Kind kind;
  const char* help;
  std::vector<std::string> choices = {};  // kEnum: the values; kList: allowed elements
  Bound bound = {};
  bool required = false;
  const char* literal = nullptr;  // kPath: a word taken as is, not as a path ("latest")

  std::string name() const { return std::string(section) + "." + key; }
};

// Name and member come from the same tokens, so they cannot drift apart.
#define TSFT_KEY(s, k) \
  .section = #s, .key = #k, .field = [](TrainConfig& c) -> FieldRef { return &c.s.k; }

const Bound kNonNegative{.lo = 0};
const Bound kPositive{.lo = 0, .lo_open = true};
const Bound kAtLeastOne{.lo = 1};
const Bound kUnitOpen{.lo = 0, .hi = 1, .hi_open = true};  // [0, 1)
const Bound kUnitClosed{.lo = 0, .hi = 1};                 // [0, 1]

const std::vector<std::string> kLoraModules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                               "gate_proj", "up_proj", "down_proj"};

const std::vector<KeyDef>& key_table() {
  static const std::vector<KeyDef> table = {
      {TSFT_KEY(model, path), .kind = Kind::kPath,
       .help = "model to fine-tune: a Hugging Face model directory or a GGUF file",
       .required = true},
      {TSFT_KEY(model, chat_template), .kind = Kind::kPath,
       .help = "Jinja chat template file used instead of the model's own; \"\" = the model's"},
      {TSFT_KEY(model, threads), .kind = Kind::kInt, .help = "worker threads; 0 = all cores",
       .bound = kNonNegative},
      {TSFT_KEY(model, add_special_tokens), .kind = Kind::kList,
       .help = "new special tokens (e.g. a sentinel) added to the tokenizer, with embedding rows "
               "starting at the mean embedding; full fine-tuning only"},

      {TSFT_KEY(data, train), .kind = Kind::kPath,
       .help = "training data (JSONL); required unless generate.task makes it (then rows given "
               "here are added to the generated ones)"},
      {TSFT_KEY(data, eval), .kind = Kind::kPath,
       .help = "evaluation data (JSONL); \"\" = none, or held out of data.train by "
               "eval_fraction / eval_count"},
      {TSFT_KEY(data, eval_fraction), .kind = Kind::kFloat,
       .help = "fraction of data.train held out for evaluation when data.eval is \"\"",
       .bound = kUnitOpen},
      {TSFT_KEY(data, eval_count), .kind = Kind::kInt,
       .help = "number of data.train examples held out for evaluation (instead of "
               "eval_fraction)",
       .bound = kNonNegative},
      {TSFT_KEY(data, max_seq_len), .kind = Kind::kInt,
       .help = "tokens per row: the longest example, and the length of a packed row",
       .bound = {.lo = 2}},
      {TSFT_KEY(data, packing), .kind = Kind::kBool,
       .help = "pack several examples into each row of max_seq_len tokens"},
      {TSFT_KEY(data, truncation), .kind = Kind::kEnum,
       .help = "examples longer than max_seq_len: drop them, or truncate them",
       .choices = {"drop", "truncate"}},
      {TSFT_KEY(data, loss_on), .kind = Kind::kEnum,
       .help = "tokens that carry loss: auto = assistant turns of chats and the completion of "
               "prompt/completion pairs; all = every token",
       .choices = {"auto", "assistant", "completion", "all"}},
      {TSFT_KEY(data, seed), .kind = Kind::kInt, .help = "seed of the train/eval split"},
      {TSFT_KEY(data, add_eos), .kind = Kind::kBool,
       .help = "end every example with the end-of-sequence token"},
      {TSFT_KEY(data, tools), .kind = Kind::kPath,
       .help = "JSON file of tools offered to every chat row that has no \"tools\" of its own; "
               "\"\" = none"},
      {TSFT_KEY(data, skip_invalid), .kind = Kind::kBool,
       .help = "skip rows that fail validation (counted and the first ones shown) instead of "
               "stopping at the first"},

      {TSFT_KEY(lora, enabled), .kind = Kind::kBool,
       .help = "train LoRA adapters instead of all weights"},
      {TSFT_KEY(lora, r), .kind = Kind::kInt, .help = "adapter rank", .bound = kAtLeastOne},
      {TSFT_KEY(lora, alpha), .kind = Kind::kFloat,
       .help = "adapter scale numerator: the update is scaled by alpha / r", .bound = kPositive},
      {TSFT_KEY(lora, dropout), .kind = Kind::kFloat, .help = "dropout on the adapters' input",
       .bound = kUnitOpen},
      {TSFT_KEY(lora, target_modules), .kind = Kind::kList,
       .help = "linear layers that get adapters", .choices = kLoraModules},
      {TSFT_KEY(lora, base_weights), .kind = Kind::kEnum,
       .help = "frozen base weights held as f32, or kept quantized as loaded (less memory)",
       .choices = {"f32", "quantized"}},

      {TSFT_KEY(train, output_dir), .kind = Kind::kPath,
       .help = "directory for checkpoints, metrics.jsonl and the final model", .required = true},
      {TSFT_KEY(train, seed), .kind = Kind::kInt,
       .help = "seed of initialisation, shuffling and dropout"},
      {TSFT_KEY(train, epochs), .kind = Kind::kFloat,
       .help = "passes over the training data (may be fractional); unused when max_steps > 0",
       .bound = kPositive},
      {TSFT_KEY(train, max_steps), .kind = Kind::kInt,
       .help = "optimizer steps to run; -1 = from epochs", .bound = {.lo = -1}},
      {TSFT_KEY(train, batch_size), .kind = Kind::kInt, .help = "packed rows per micro-batch",
       .bound = kAtLeastOne},
      {TSFT_KEY(train, grad_accum), .kind = Kind::kInt, .help = "micro-batches per optimizer step",
       .bound = kAtLeastOne},
      {TSFT_KEY(train, learning_rate), .kind = Kind::kFloat,
       .help = "peak learning rate (after warmup)", .bound = kPositive},
      {TSFT_KEY(train, lr_scheduler), .kind = Kind::kEnum,
       .help = "learning-rate schedule; all but constant warm up linearly from 0 first",
       .choices = {"constant", "constant_with_warmup", "linear", "cosine"}},
      {TSFT_KEY(train, warmup_ratio), .kind = Kind::kFloat,
       .help = "fraction of the steps spent warming up", .bound = kUnitClosed},
      {TSFT_KEY(train, warmup_steps), .kind = Kind::kInt,
       .help = "warmup steps; wins over warmup_ratio when > 0", .bound = kNonNegative},
      {TSFT_KEY(train, weight_decay), .kind = Kind::kFloat, .help = "AdamW decoupled weight decay",
       .bound = kNonNegative},
      {TSFT_KEY(train, adam_beta1), .kind = Kind::kFloat,
       .help = "AdamW decay rate of the first moment", .bound = kUnitOpen},
      {TSFT_KEY(train, adam_beta2), .kind = Kind::kFloat,
       .help = "AdamW decay rate of the second moment", .bound = kUnitOpen},
      {TSFT_KEY(train, adam_eps), .kind = Kind::kFloat,
       .help = "AdamW epsilon added to the denominator", .bound = kPositive},
      {TSFT_KEY(train, max_grad_norm), .kind = Kind::kFloat,
       .help = "clip the global gradient norm to this; 0 = no clipping", .bound = kNonNegative},
      {TSFT_KEY(train, precision), .kind = Kind::kEnum,
       .help = "compute precision; auto = chosen for the model and CPU",
       .choices = {"auto", "f32", "bf16"}},
      {TSFT_KEY(train, gradient_checkpointing), .kind = Kind::kBool,
       .help = "recompute activations in the backward pass to save memory"},
      {TSFT_KEY(train, logging_steps), .kind = Kind::kInt,
       .help = "log loss, learning rate and throughput every this many steps",
       .bound = kAtLeastOne},
      {TSFT_KEY(train, save_steps), .kind = Kind::kInt,
       .help = "save a checkpoint every this many steps; 0 = only at the end",
       .bound = kNonNegative},
      {TSFT_KEY(train, save_total_limit), .kind = Kind::kInt,
       .help = "checkpoints kept in output_dir, oldest deleted first; 0 = keep all",
       .bound = kNonNegative},
      {TSFT_KEY(train, resume_from), .kind = Kind::kPath,
       .help = "\"\" = start fresh, \"latest\" = newest checkpoint in output_dir, or a "
               "checkpoint directory",
       .literal = "latest"},
      {TSFT_KEY(train, progress), .kind = Kind::kBool, .help = "show a progress bar on stderr"},

      {TSFT_KEY(eval, steps), .kind = Kind::kInt,
       .help = "evaluate every this many steps; 0 = only at the end", .bound = kNonNegative},
      {TSFT_KEY(eval, max_batches), .kind = Kind::kInt,
       .help = "evaluate on at most this many batches; 0 = all", .bound = kNonNegative},
      {TSFT_KEY(eval, batch_size), .kind = Kind::kInt, .help = "rows per evaluation batch",
       .bound = kAtLeastOne},
      {TSFT_KEY(eval, task_examples), .kind = Kind::kInt,
       .help = "held-out examples evaluated with report.task (tool-call quality or tool-selection "
               "accuracy) at every evaluation, logged to metrics.jsonl; 0 = loss only",
       .bound = kNonNegative},

      {TSFT_KEY(generate, task), .kind = Kind::kEnum,
       .help = "synthetic data made before training into output_dir/data: none, or the "
               "tool-selection / tool-calling generator, or tool-calling-general (functions "
               "drawn from a space of schemas, offered per row; docs/DATA.md)",
       .choices = {"none", "tool-selection", "tool-calling", "tool-calling-general"}},
      {TSFT_KEY(generate, num_examples), .kind = Kind::kInt,
       .help = "rows generated (train and held-out together)", .bound = kAtLeastOne},
      {TSFT_KEY(generate, seed), .kind = Kind::kInt,
       .help = "seed of the generator and of the train/held-out split"},
      {TSFT_KEY(generate, eval_fraction), .kind = Kind::kFloat,
       .help = "share of the generated rows held out for evaluation (output_dir/data/eval.jsonl)",
       .bound = kUnitOpen},
      {TSFT_KEY(generate, format), .kind = Kind::kEnum,
       .help = "tool-selection rows as prompt/completion pairs or as chats",
       .choices = {"prompt-completion", "chat"}},
      {TSFT_KEY(generate, sentinel), .kind = Kind::kString,
       .help = "tool-selection answer prefix (e.g. <tool>, usually also in "
               "model.add_special_tokens); \"\" = a space"},
      {TSFT_KEY(generate, tools), .kind = Kind::kPath,
       .help = "JSON list of OpenAI tools to generate for; \"\" = the six built-in tools"},
      {TSFT_KEY(generate, system_prompt), .kind = Kind::kPath,
       .help = "tool-calling: system prompt template put first in every generated chat, with "
               "{{date}}/{{time}}/{{weekday}}/{{datetime}} filled per row and its '## ' sections "
               "shuffled per row (docs/RECIPES.md); \"\" = none"},
      {TSFT_KEY(generate, requests_per_row), .kind = Kind::kInt,
       .help = "tool-calling-general: each row holds 1..N requests (uniform) over its offered "
               "functions, each after the last one's answer; the tools are written once, so "
               "more requests per row carry more supervised answers per training token",
       .bound = kAtLeastOne},
      {TSFT_KEY(generate, share_single), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows with one tool offered and one call",
       .bound = kUnitClosed},
      {TSFT_KEY(generate, share_distractors), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows with several tools offered and one call",
       .bound = kUnitClosed},
      {TSFT_KEY(generate, share_no_call), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows no tool fits, answered in text", .bound = kUnitClosed},
      {TSFT_KEY(generate, share_parallel), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows with two calls in one assistant message",
       .bound = kUnitClosed},
      {TSFT_KEY(generate, share_multi_turn), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows call -> tool result -> answer", .bound = kUnitClosed},
      {TSFT_KEY(generate, share_ask_first), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows whose request lacks its values; the assistant asks "
               "for them, then calls",
       .bound = kUnitClosed},
      {TSFT_KEY(generate, share_follow_up), .kind = Kind::kFloat,
       .help = "tool-calling: share of rows with a second request after a first call's result "
               "(the generate.share_* keys sum to 1)",
       .bound = kUnitClosed},

      {TSFT_KEY(report, task), .kind = Kind::kEnum,
       .help = "evaluation after training on the held-out data, written to output_dir/report: "
               "none, tool-selection, tool-calling or perplexity",
       .choices = {"none", "tool-selection", "tool-calling", "perplexity"}},
      {TSFT_KEY(report, base), .kind = Kind::kBool,
       .help = "evaluate the base model too, for before/after"},
      {TSFT_KEY(report, checkpoints), .kind = Kind::kBool,
       .help = "evaluate every kept checkpoint, not only the final model"},
      {TSFT_KEY(report, mode), .kind = Kind::kEnum,
       .help = "tool selection: score every tool's exact probability, generate, or both",
       .choices = {"scoring", "generation", "both"}},
      {TSFT_KEY(report, max_examples), .kind = Kind::kInt,
       .help = "evaluate at most this many held-out examples; 0 = all", .bound = kNonNegative},
      {TSFT_KEY(report, max_new_tokens), .kind = Kind::kInt,
       .help = "generation budget per answer; 0 = automatic", .bound = kNonNegative},
      {TSFT_KEY(report, test_data), .kind = Kind::kPath,
       .help = "a further test set (e.g. hand-written) reported on its own in "
               "output_dir/report-<test_name>; tool selection also takes rows "
               "{\"request\", \"tool\"}, rendered in the recipe's prompt layout"},
      {TSFT_KEY(report, test_name), .kind = Kind::kString,
       .help = "name of report.test_data in the reports"},
  };
  return table;
}
#undef TSFT_KEY

const std::vector<std::string> kSections = {"model", "data",     "lora",  "train",
                                            "eval",  "generate", "report"};

const KeyDef* find_key(const std::string& dotted) {
  for (const KeyDef& d : key_table())
    if (d.name() == dotted) return &d;
  return nullptr;
}

bool is_section(const std::string& s) {
  return std::find(kSections.begin(), kSections.end(), s) != kSections.end();
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The closest of `candidates` to `word`, or "" when none is close enough to be a likely typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

std::string did_you_mean(const std::string& s) {
  return s.empty() ? "" : "; did you mean " + s + "?";
}

// "; did you mean train.learning_rate?" for a mistyped key, also when the key exists under
// another section (train.max_seq_len -> data.max_seq_len).
std::string suggest_key(const std::string& section, const std::string& key) {
  for (const KeyDef& d : key_table())
    if (d.key == key) return did_you_mean(d.name());
  std::vector<std::string> names;
  for (const KeyDef& d : key_table()) names.push_back(d.name());
  return did_you_mean(closest(section + "." + key, names));
}

[[noreturn]] void fail_unknown_key(const std::string& section, const std::string& key,
                                   const std::string& where) {
  fail("unknown key ", section, ".", key, " (", where, ")", suggest_key(section, key), " Keys of ",
       section, ": ", [&] {
         std::vector<std::string> keys;
         for (const KeyDef& d : key_table())
           if (d.section == section) keys.push_back(d.key);
         return join(keys, ", ");
       }());
}

std::string format_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, r.ptr);
  return s;
}

std::string describe_bound(const Bound& b) {
  auto num = [](double v) { return format_double(v); };
  if (std::isfinite(b.lo) && std::isfinite(b.hi))
    return "in " + std::string(b.lo_open ? "(" : "[") + num(b.lo) + ", " + num(b.hi) +
           (b.hi_open ? ")" : "]");
  if (std::isfinite(b.lo)) return (b.lo_open ? "> " : ">= ") + num(b.lo);
  if (std::isfinite(b.hi)) return (b.hi_open ? "< " : "<= ") + num(b.hi);
  return "";
}

const char* kind_word(Kind k) {
  switch (k) {
    case Kind::kString:
      return "string";
    case Kind::kPath:
      return "path";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kBool:
      return "bool";
    case Kind::kEnum:
      return "enum";
    case Kind::kList:
      return "list";
  }
  return "?";
}

const char* expected_word(Kind k) {
  switch (k) {
    case Kind::kInt:
      return "an integer";
    case Kind::kFloat:
      return "a number";
    case Kind::kBool:
      return "true or false";
    case Kind::kList:
      return "a list";
    default:
      return "a string";
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<bool> parse_bool(const std::string& s) {
  const std::string l = lower(s);
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  const char* b = s.data() + (!s.empty() && s[0] == '+');
  auto r = std::from_chars(b, s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || b == s.data() + s.size())
    return std::nullopt;
  return v;
}

std::optional<double> parse_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const char* b = s.data() + (s[0] == '+');
  auto r = std::from_chars(b, s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string describe_node(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

// Where a value came from, for messages: "run.yaml:7" or "--train.seed".
std::string file_where(const std::string& file, const YAML::Mark& m) {
  return m.line >= 0 ? file + ":" + std::to_string(m.line + 1) : file;
}

// Loading state: the config being filled and where each key was set.
struct Loader {
  TrainConfig cfg;
  std::map<std::string, std::string> where;  // dotted key -> "run.yaml:7" / "--train.seed"

  std::string at(const std::string& dotted) const {
    auto it = where.find(dotted);
    return it == where.end() ? "default" : it->second;
  }

  // Sets one key from a YAML node. `base_dir` resolves relative paths (cwd when empty).
  void set(const KeyDef& d, const YAML::Node& node, const std::string& loc,
           const fs::path& base_dir) {
    const std::string name = d.name();
    auto wrong = [&](const std::string& got) {
      fail(name, ": expected ", expected_word(d.kind), ", got ", got, " (", loc, ")");
    };
    FieldRef ref = d.field(cfg);
    if (d.kind == Kind::kList) {
      auto* out = std::get<std::vector<std::string>*>(ref);
      std::vector<std::string> items;
      if (node.IsSequence()) {
        for (const YAML::Node& e : node) {
          if (!e.IsScalar()) wrong("a list containing " + describe_node(e));
          items.push_back(e.Scalar());
        }
      } else if (node.IsScalar()) {
        std::stringstream ss(node.Scalar());
        for (std::string part; std::getline(ss, part, ',');)
          if (!trim(part).empty()) items.push_back(trim(part));
      } else if (!node.IsNull()) {
        wrong(describe_node(node));
      }
      std::set<std::string> seen;
      for (const std::string& it : items) {
        if (!d.choices.empty() &&
            std::find(d.choices.begin(), d.choices.end(), it) == d.choices.end())
          fail(name, ": unknown value '", it, "' (", loc, ")", did_you_mean(closest(it, d.choices)),
               " Allowed: ", join(d.choices, ", "));
        if (!seen.insert(it).second) fail(name, ": '", it, "' is listed twice (", loc, ")");
      }
      *out = std::move(items);
    } else if (node.IsNull() && (d.kind == Kind::kString || d.kind == Kind::kPath)) {
      *std::get<std::string*>(ref) = "";
    } else if (!node.IsScalar()) {
      wrong(describe_node(node));
    } else {
      const std::string& s = node.Scalar();
      switch (d.kind) {
        case Kind::kInt: {
          auto v = parse_int(s);
          if (!v) wrong("'" + s + "'");
          if (!d.bound.contains(static_cast<double>(*v)))
            fail(name, ": must be ", describe_bound(d.bound), ", got ", *v, " (", loc, ")");
          *std::get<int64_t*>(ref) = *v;
          break;
        }
        case Kind::kFloat: {
          auto v = parse_double(s);
          if (!v) wrong("'" + s + "'");
          if (!d.bound.contains(*v))
            fail(name, ": must be ", describe_bound(d.bound), ", got ", s, " (", loc, ")");
          *std::get<double*>(ref) = *v;
          break;
        }
        case Kind::kBool: {
          auto v = parse_bool(s);
          if (!v) wrong("'" + s + "'");
          *std::get<bool*>(ref) = *v;
          break;
        }
        case Kind::kEnum:
          if (std::find(d.choices.begin(), d.choices.end(), s) == d.choices.end())
            fail(name, ": unknown value '", s, "' (", loc, ")", did_you_mean(closest(s, d.choices)),
                 " Allowed: ", join(d.choices, ", "));
          *std::get<std::string*>(ref) = s;
          break;
        case Kind::kPath: {
          std::string v = s;
          if (!v.empty() && !(d.literal && v == d.literal)) {
            fs::path p(v);
            if (p.is_relative()) p = (base_dir.empty() ? fs::current_path() : base_dir) / p;
            v = p.lexically_normal().string();
          }
          *std::get<std::string*>(ref) = v;
          break;
        }
        case Kind::kString:
          *std::get<std::string*>(ref) = s;
          break;
        case Kind::kList:
          break;  // handled above
      }
    }
    where[name] = loc;
  }

  void load_file(const std::string& yaml_path) {
    if (!fs::exists(yaml_path)) fail("config file '", yaml_path, "' does not exist");
    YAML::Node root;
    try {
      root = YAML::LoadFile(yaml_path);
    } catch (const YAML::ParserException& e) {
      fail(file_where(yaml_path, e.mark), ": invalid YAML: ", e.msg);
    } catch (const YAML::BadFile&) {
      fail("cannot read config file '", yaml_path, "'");
    }
    if (root.IsNull()) return;
    if (!root.IsMap())
      fail(yaml_path, ": expected sections (", join(kSections, ", "), ") at the top level, got ",
           describe_node(root));
    const fs::path base_dir = fs::absolute(yaml_path).parent_path();
    std::map<std::string, std::string> seen;  // duplicate keys: yaml-cpp keeps both silently
    for (const auto& sec : root) {
      const std::string section = sec.first.Scalar();
      const std::string sec_loc = file_where(yaml_path, sec.first.Mark());
      if (!is_section(section))
        fail("unknown section '", section, "' (", sec_loc, ")",
             did_you_mean(closest(section, kSections)), " Sections: ", join(kSections, ", "));
      if (seen.count(section))
        fail("section ", section, " appears twice (", seen[section], " and ", sec_loc, ")");
      seen[section] = sec_loc;
      if (sec.second.IsNull()) continue;
      if (!sec.second.IsMap())
        fail(section, ": expected a mapping of keys, got ", describe_node(sec.second), " (",
             sec_loc, ")");
      for (const auto& kv : sec.second) {
        const std::string key = kv.first.Scalar();
        const std::string loc = file_where(yaml_path, kv.first.Mark());
        const KeyDef* d = find_key(section + "." + key);
        if (!d) fail_unknown_key(section, key, loc);
        if (seen.count(d->name()))
          fail(d->name(), ": given twice (", seen[d->name()], " and ", loc, ")");
        seen[d->name()] = loc;
        set(*d, kv.second, loc, base_dir);
      }
    }
  }

  void apply_override(const std::string& ov) {
    const size_t eq = ov.find('=');
    const std::string name = ov.substr(0, eq);
    const std::string loc = "--" + name;
    if (eq == std::string::npos) fail("override '", ov, "' is not of the form section.key=value");
    const KeyDef* d = find_key(name);
    if (!d) {
      const size_t dot = name.find('.');
      if (dot == std::string::npos || !is_section(name.substr(0, dot)))
        fail("unknown config key '", name, "' (", loc, ")", did_you_mean(closest(name, [] {
               std::vector<std::string> n;
               for (const KeyDef& k : key_table()) n.push_back(k.name());
               return n;
             }())));
      fail_unknown_key(name.substr(0, dot), name.substr(dot + 1), loc);
    }
    const std::string raw = ov.substr(eq + 1);
    YAML::Node node;
    bool parsed = true;
    try {
      node = YAML::Load(raw);
    } catch (const YAML::Exception&) {
      parsed = false;
    }
    const bool textual = d->kind == Kind::kString || d->kind == Kind::kPath;
    // Strings are taken literally unless YAML reads them as one scalar (so '"a b"' unquotes, but
    // a path with '#' or ': ' in it still works).
    if (textual && (!parsed || !(node.IsScalar() || node.IsNull()))) node = YAML::Node(raw);
    if (!parsed && !textual)
      fail(name, ": expected ", expected_word(d->kind), ", got '", raw, "' (", loc, ")");
    set(*d, node, loc, fs::path());
  }

  void validate(const std::string& yaml_path) {
    for (const KeyDef& d : key_table()) {
      if (d.required && std::get<std::string*>(d.field(cfg))->empty())
        fail("missing required key ", d.name(), " (set it",
             yaml_path.empty() ? "" : " in " + yaml_path + " or", " with --", d.name(), ")");
    }
    if (cfg.data.train.empty() && cfg.generate.task == "none")
      fail("missing required key data.train (set it",
           yaml_path.empty() ? "" : " in " + yaml_path + " or",
           " with --data.train, or make data with generate.task)");
    const auto& g = cfg.generate;
    if (g.task != "none" && !cfg.data.eval.empty())
      fail("data.eval (", at("data.eval"), ") and generate.task (", at("generate.task"),
           ") are both given: the generated held-out rows are the evaluation data; put a further "
           "test set in report.test_data");
    if (g.task != "none" && (cfg.data.eval_fraction > 0 || cfg.data.eval_count > 0))
      fail("data.eval_fraction / data.eval_count split data.train, but generate.task holds out "
           "generate.eval_fraction of the generated rows; use that");
    if (g.task == "tool-calling-general" && !g.tools.empty())
      fail("generate.tools (", at("generate.tools"),
           ") does not apply to tool-calling-general: it draws its own functions per row");
    if (g.task != "tool-calling-general" && g.requests_per_row != 1)
      fail("generate.requests_per_row (", at("generate.requests_per_row"),
           ") is for generate.task: tool-calling-general");
    if (g.task == "tool-calling-general" && g.format != "prompt-completion")
      fail("generate.format (", at("generate.format"), ") is for tool-selection rows");
    if ((g.task == "tool-calling" || g.task == "tool-calling-general") && !g.sentinel.empty())
      fail("generate.sentinel is for tool-selection rows (", at("generate.sentinel"), ")");
    if (!g.system_prompt.empty() && g.task != "tool-calling")
      fail("generate.system_prompt (", at("generate.system_prompt"),
           ") is for generate.task: tool-calling");
    {
      static const char* kShareKeys[] = {
          "generate.share_single",   "generate.share_distractors", "generate.share_no_call",
          "generate.share_parallel", "generate.share_multi_turn",  "generate.share_ask_first",
          "generate.share_follow_up"};
      const auto shares = g.shares();
      const auto default_shares = TrainConfig::Generate{}.shares();
      static_assert(std::size(kShareKeys) == std::tuple_size_v<decltype(shares)>);
      double sum = 0;
      std::string given, changed;  // set anywhere; set to other than the default
      for (size_t k = 0; k < shares.size(); ++k) {
        sum += shares[k];
        const std::string one = str(kShareKeys[k], " (", at(kShareKeys[k]), ")");
        if (at(kShareKeys[k]) != "default") given += (given.empty() ? "" : ", ") + one;
        if (shares[k] != default_shares[k]) changed += (changed.empty() ? "" : ", ") + one;
      }
      // A resolved config repeats every key with its default: only a changed share is an error.
      if (!changed.empty() && g.task != "tool-calling")
        fail(changed, ": the generate.share_* keys are for generate.task: tool-calling");
      if (g.task == "tool-calling" && std::fabs(sum - 1.0) > 1e-6)
        fail("the generate.share_* keys must sum to 1, got ", sum,
             given.empty() ? "" : str(" (set: ", given, ")"));
    }
    if (cfg.eval.task_examples > 0 && cfg.report.task == "none")
      fail("eval.task_examples (", at("eval.task_examples"),
           ") scores held-out examples with report.task, which is none");
    const auto& t = cfg.train;
    if (t.max_steps == 0)
      fail("train.max_steps: must be -1 (use train.epochs) or > 0, got 0 (", at("train.max_steps"),
           ")");
    const auto& dt = cfg.data;
    if (!dt.eval.empty() && dt.eval_fraction > 0)
      fail("data.eval_fraction (", at("data.eval_fraction"), ") and data.eval (", at("data.eval"),
           ") are both given; use one");
    if (!dt.eval.empty() && dt.eval_count > 0)
      fail("data.eval_count (", at("data.eval_count"), ") and data.eval (", at("data.eval"),
           ") are both given; use one");
    if (dt.eval_fraction > 0 && dt.eval_count > 0)
      fail("data.eval_fraction (", at("data.eval_fraction"), ") and data.eval_count (",
           at("data.eval_count"), ") are both given; use one");
    const auto& l = cfg.lora;
    if (l.enabled && l.target_modules.empty())
      fail("lora.target_modules: empty while lora.enabled is true (", at("lora.target_modules"),
           ")");
    if (!l.enabled && l.base_weights == "quantized")
      fail(
          "lora.base_weights: 'quantized' needs lora.enabled: true, since full fine-tuning "
          "updates the base weights (",
          at("lora.base_weights"), ")");
  }
};

// A value as YAML text that reads back to the same value.
std::string yaml_value(const KeyDef& d, TrainConfig& cfg) {
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>)
          return nlohmann::json(*p).dump();
        else if constexpr (std::is_same_v<T, int64_t>)
          return std::to_string(*p);
        else if constexpr (std::is_same_v<T, double>)
          return format_double(*p);
        else if constexpr (std::is_same_v<T, bool>)
          return *p ? "true" : "false";
        else {
          std::string s = "[";
          for (size_t i = 0; i < p->size(); ++i)
            s += (i ? ", " : "") + nlohmann::json((*p)[i]).dump();
          return s + "]";
        }
      },
      d.field(cfg));
}

// The default as shown in help: plain text, "" for an empty string, "required" when required.
std::string default_text(const KeyDef& d) {
  if (d.required) return "required";
  TrainConfig defaults;
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>)
          return p->empty() ? "\"\"" : *p;
        else if constexpr (std::is_same_v<T, int64_t>)
          return std::to_string(*p);
        else if constexpr (std::is_same_v<T, double>)
          return format_double(*p);
        else if constexpr (std::is_same_v<T, bool>)
          return *p ? "true" : "false";
        else
          return join(*p, ",");
      },
      d.field(defaults));
}

std::string type_text(const KeyDef& d, const char* enum_sep) {
  if (d.kind == Kind::kEnum) return join(d.choices, enum_sep);
  std::string t = kind_word(d.kind);
  if (d.kind == Kind::kList) t += " of string";
  return t;
}

std::string help_text(const KeyDef& d) {
  std::string h = d.help;
  const std::string b = describe_bound(d.bound);
  if (!b.empty()) h += " (" + b + ")";
  if (d.kind == Kind::kList && !d.choices.empty()) h += "; any of " + join(d.choices, ", ");
  return h;
}

}  // namespace

LoraConfig TrainConfig::lora_config() const {
  LoraConfig lc;
  lc.rank = lora.r;
  lc.alpha = static_cast<float>(lora.alpha);
  lc.dropout = static_cast<float>(lora.dropout);
  lc.target_modules = lora.target_modules;
  return lc;
}

TrainConfig load_train_config(const std::string& yaml_path,
                              const std::vector<std::string>& overrides) {
  Loader loader;
  if (!yaml_path.empty()) loader.load_file(yaml_path);
  for (const std::string& ov : overrides) loader.apply_override(ov);
  loader.validate(yaml_path);
  return loader.cfg;
}

bool is_config_key(const std::string& dotted) {
  return find_key(dotted) != nullptr;
}

const std::vector<std::pair<std::string, std::string>>& flag_aliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {
      {"model", "model.path"},
      {"data", "data.train"},
      {"eval-data", "data.eval"},
      {"max-seq-len", "data.max_seq_len"},
      {"lora", "lora.enabled"},
      {"output-dir", "train.output_dir"},
      {"epochs", "train.epochs"},
      {"max-steps", "train.max_steps"},
      {"batch-size", "train.batch_size"},
      {"grad-accum", "train.grad_accum"},
      {"lr", "train.learning_rate"},
      {"warmup-ratio", "train.warmup_ratio"},
      {"logging-steps", "train.logging_steps"},
      {"save-steps", "train.save_steps"},
      {"save-total-limit", "train.save_total_limit"},
      {"seed", "train.seed"},
      {"eval-steps", "eval.steps"},
      {"num-examples", "generate.num_examples"},
  };
  return aliases;
}

std::vector<std::string> overrides_from_args(int argc, char** argv,
                                             std::vector<std::string>* rest) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      if (rest) rest->push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    for (const auto& [alias, key] : flag_aliases())
      if (name == alias) name = key;
    const KeyDef* d = find_key(name);
    if (!d) {
      const size_t dot = name.find('.');
      if (dot != std::string::npos && is_section(name.substr(0, dot)))
        fail_unknown_key(name.substr(0, dot), name.substr(dot + 1), "--" + name);
      if (rest) rest->push_back(arg);
      continue;
    }
    if (eq != std::string::npos) {
      out.push_back(name + "=" + arg.substr(eq + 1));
    } else if (d->kind == Kind::kBool) {
      if (i + 1 < argc && parse_bool(argv[i + 1]))
        out.push_back(name + "=" + argv[++i]);
      else
        out.push_back(name + "=true");
    } else if (i + 1 < argc) {
      out.push_back(name + "=" + argv[++i]);
    } else {
      fail("--", name, " needs a value (", expected_word(d->kind), ")");
    }
  }
  return out;
}

std::string to_yaml(const TrainConfig& cfg_in) {
  TrainConfig cfg = cfg_in;  // the table's accessors take a mutable config
  std::string out = "# toolsft train config (resolved: every key, paths absolute)\n";
  std::string section;
  for (const KeyDef& d : key_table()) {
    if (section != d.section) {
      section = d.section;
      out += (out.empty() ? "" : "\n") + section + ":\n";
    }
    std::string line = "  " + std::string(d.key) + ": " + yaml_value(d, cfg);
    if (line.size() < 40) line.resize(40, ' ');
    out += line + "  # " + d.help + "\n";
  }
  return out;
}

nlohmann::json to_json(const TrainConfig& cfg_in) {
  TrainConfig cfg = cfg_in;
  nlohmann::json j = nlohmann::json::object();
  for (const KeyDef& d : key_table())
    std::visit([&](auto* p) { j[d.section][d.key] = *p; }, d.field(cfg));
  return j;
}

std::string config_help() {
  std::string out =
      "Run config: a YAML file with sections model, data, lora, train, eval; any key can also be\n"
      "given as --section.key VALUE or --section.key=VALUE, which wins over the file. Relative\n"
      "paths in the file are relative to the file. Lists: [a, b] or a,b.\n";
  std::string section;
  for (const KeyDef& d : key_table()) {
    if (section != d.section) out += "\n" + (section = d.section) + ":\n";
    out += "  --" + d.name() + " <" + type_text(d, "|") + ">  " +
           (d.required ? "(required)" : "(default " + default_text(d) + ")") + "\n      " +
           help_text(d) + "\n";
  }
  out += "\nshort forms:\n";
  for (const auto& [alias, key] : flag_aliases()) out += "  --" + alias + " = --" + key + "\n";
  return out;
}

std::string config_reference_markdown() {
  std::string out =
      "# Run config reference\n\n"
      "<!-- Generated from the key table in src/train/train_config.cpp by "
      "config_reference_markdown();\n"
      "     test_train_config fails when this file is stale (TSFT_UPDATE_DOCS=1 rewrites it). "
      "-->\n\n"
      "`toolsft train` reads a YAML file with the sections `model`, `data`, `lora`, `train` and "
      "`eval`,\n"
      "and for recipes `generate` (synthetic data made first) and `report` (evaluation after "
      "training);\n"
      "see docs/RECIPES.md.\n"
      "Any key can also be given on the command line as `--section.key VALUE` or "
      "`--section.key=VALUE`;\n"
      "the command line wins over the file. Values are YAML scalars; lists are `[a, b]` or "
      "`a,b`.\n"
      "Relative paths in the file are resolved against the file's directory, those on the "
      "command line\n"
      "against the working directory. Unknown keys, wrong types and out-of-range values are "
      "errors that\n"
      "name the key and the file and line. The resolved config (every key, absolute paths) can "
      "be loaded\n"
      "again as it is.\n";
  std::string section;
  for (const KeyDef& d : key_table()) {
    if (section != d.section) {
      section = d.section;
      out += "\n## " + section + "\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    }
    std::string type =
        d.kind == Kind::kEnum ? "one of `" + join(d.choices, "`, `") + "`" : type_text(d, ", ");
    std::string def = default_text(d);
    if (!d.required) def = "`" + def + "`";
    out += "| `" + d.name() + "` | " + type + " | " + def + " | " + help_text(d) + " |\n";
  }
  out += "\n## Short forms on the command line\n\n| flag | key |\n|---|---|\n";
  for (const auto& [alias, key] : flag_aliases()) out += "| `--" + alias + "` | `" + key + "` |\n";
  return out;
}

}  // namespace tsft
