// toolsft gen: write synthetic tool-selection or tool-calling training data (JSONL) from the
// built-in tools or the user's own tools file, deterministically by seed.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/fs_util.h"
#include "data/gen_generalist.h"
#include "data/gen_tool_calling.h"
#include "data/gen_tool_selection.h"

namespace tsft {
namespace {

// JSONL written beside the destination and renamed into place by commit(), so a reader never
// sees half a file; rows stream through, so no row count is limited by memory. Without
// commit() (an error on the way), the destructor removes the partial file.
class JsonlFile {
 public:
  explicit JsonlFile(const std::string& path) : path_(path), tmp_(str(path, ".tmp-", ::getpid())) {
    std::error_code ec;
    std::filesystem::create_directories(parent_dir(path), ec);
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) fail(path, ": cannot create ", tmp_, ": ", std::strerror(errno));
  }
  ~JsonlFile() {
    if (!committed_) {
      out_.close();
      std::error_code ec;
      std::filesystem::remove(tmp_, ec);
    }
  }
  void write(const nlohmann::ordered_json& row) { out_ << row.dump() << '\n'; }
  void commit() {
    out_.close();
    if (!out_) fail(tmp_, ": write failed (disk full?)");
    fsync_file(tmp_);
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) fail(path_, ": cannot move the finished file into place: ", ec.message());
    committed_ = true;
    fsync_dir(parent_dir(path_));
  }

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

void print_counts(const char* title, const std::map<std::string, int64_t>& counts, int64_t n) {
  std::printf("%s\n", title);
  for (const auto& [k, v] : counts)
    std::printf("  %-20s %8lld  %5.1f%%\n", k.c_str(), static_cast<long long>(v),
                n > 0 ? 100.0 * static_cast<double>(v) / static_cast<double>(n) : 0.0);
}

}  // namespace

int cmd_gen(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"n", "N", "rows to write", "1000"},
      {"seed", "S", "random seed (the same seed writes the same bytes)", "0"},
      {"out", "FILE", "output JSONL file", ""},
      {"tools", "FILE",
       "JSON list of OpenAI tools (optional \"x-toolsft-examples\" templates); default: the six "
       "built-in tools (configs/tools/default_tools.json)",
       ""},
      {"format", "F", "tool-selection rows: prompt-completion or chat", "prompt-completion"},
      {"sentinel", "TOKEN", "tool-selection answer prefix, e.g. <tool> (default: a space)", ""},
      {"hard", "SHARE", "tool-selection: share of hard-negative rows", "0.1"},
      {"noise", "SCALE", "multiplies the chances of lowercase/punctuation/typo noise (0 = none)",
       "1"},
      {"single", "SHARE", "tool-calling: one tool offered, one call (general: 0.2)", "0.15"},
      {"distractors", "SHARE", "tool-calling: several tools offered, one call (general: 0.3)",
       "0.2"},
      {"no-call", "SHARE", "tool-calling: no tool fits, a plain answer (general: 0.3)", "0.15"},
      {"parallel", "SHARE",
       "tool-calling: two calls in one assistant message (general: 2 or 3 calls, 0.2)", "0.1"},
      {"multi-turn", "SHARE", "tool-calling: call, tool result, answer using it", "0.15"},
      {"ask-first", "SHARE",
       "tool-calling: a request without its values; the assistant asks for them, then calls",
       "0.1"},
      {"follow-up", "SHARE",
       "tool-calling: call, result, answer, then a second request and its call", "0.15"},
      {"max-tools", "K", "tool-calling: at most K tools offered per row (general: 5)", "4"},
      {"requests", "N",
       "tool-calling-general: 1..N requests per row (uniform) over its offered functions, each "
       "after the last one's answer",
       "1"},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1, /*max_positionals=*/1);
  const std::string what = args.positionals().empty() ? "" : args.positionals()[0];
  if (args.flag("help") || what.empty() || !args.given("out")) {
    std::fputs(format_help("toolsft gen tool-selection|tool-calling|tool-calling-general --out "
                           "FILE [options]",
                           "Writes synthetic training rows as JSONL: tool-selection (request -> "
                           "tool name), tool-calling (OpenAI chats with tool calls) or "
                           "tool-calling-general (the same layout, over functions drawn from a "
                           "procedural schema space). See docs/DATA.md.",
                           kSpecs)
                   .c_str(),
               stdout);
    return args.flag("help") ? 0 : 2;
  }
  if (what != "tool-selection" && what != "tool-calling" && what != "tool-calling-general")
    fail("unknown generator '", what, "' (tool-selection, tool-calling or tool-calling-general)");
  // An option of the other generator would be silently ignored: say so instead.
  const bool selection = what == "tool-selection";
  for (const char* o : {"format", "sentinel", "hard"})
    if (!selection && args.given(o)) fail("--", o, " applies to tool-selection only");
  for (const char* o : {"single", "distractors", "no-call", "parallel", "multi-turn", "ask-first",
                        "follow-up", "max-tools"})
    if (selection && args.given(o)) fail("--", o, " applies to tool-calling only");
  const bool general = what == "tool-calling-general";
  for (const char* o : {"multi-turn", "ask-first", "follow-up", "tools"})
    if (general && args.given(o)) fail("--", o, " does not apply to tool-calling-general");
  if (!general && args.given("requests")) fail("--requests applies to tool-calling-general only");
  const std::vector<GenTool> loaded =
      args.given("tools") ? load_gen_tools(args.str("tools")) : std::vector<GenTool>{};
  const std::vector<GenTool>& tools = args.given("tools") ? loaded : builtin_gen_tools();
  const int64_t n = args.integer("n");
  const int64_t seed = args.integer("seed");
  if (seed < 0) fail("--seed must not be negative, got ", seed);
  const double noise_scale = args.number("noise");
  if (noise_scale < 0) fail("--noise must not be negative, got ", noise_scale);
  auto scaled = [&](NoiseOptions o) {
    o.lowercase *= noise_scale, o.no_punct *= noise_scale, o.typos *= noise_scale;
    return o;
  };

  GenStats stats;
  JsonlFile out(args.str("out"));
  int64_t written = 0;
  const RowSink sink = [&](nlohmann::ordered_json row) {
    out.write(row);
    ++written;
  };
  if (what == "tool-selection") {
    ToolSelectionOptions opt;
    opt.n = n;
    opt.seed = static_cast<uint64_t>(seed);
    const std::string format = args.str("format");
    if (format == "chat")
      opt.format = ToolSelectionOptions::Format::kChat;
    else if (format != "prompt-completion")
      fail("--format must be prompt-completion or chat, got '", format, "'");
    opt.sentinel = args.str("sentinel");
    opt.hard_share = args.number("hard");
    opt.noise = scaled(opt.noise);
    generate_tool_selection(tools, opt, &stats, sink);
  } else if (general) {
    GeneralistOptions opt;
    opt.n = n;
    opt.seed = static_cast<uint64_t>(seed);
    const char* kNames[kGeneralKinds] = {"single", "distractors", "no-call", "parallel"};
    for (int k = 0; k < kGeneralKinds; ++k)
      if (args.given(kNames[k])) opt.shares[k] = args.number(kNames[k]);
    if (args.given("max-tools")) opt.max_offered = static_cast<int>(args.integer("max-tools"));
    opt.requests = static_cast<int>(args.integer("requests"));
    opt.noise = scaled(opt.noise);
    GeneralistStats gs;
    generate_generalist(opt, &gs, sink);
    out.commit();
    std::printf("wrote %lld %s rows to %s (seed %lld)\n", static_cast<long long>(written),
                what.c_str(), args.str("out").c_str(), static_cast<long long>(seed));
    print_counts("rows per kind:", gs.per_kind, n);
    print_counts("no-call rows:", gs.per_no_call, gs.per_kind["no_call"]);
    std::printf("requests: %lld; calls: %lld to %zu distinct functions; rows with a date: %lld\n",
                static_cast<long long>(gs.requests), static_cast<long long>(gs.calls),
                gs.functions.size(), static_cast<long long>(gs.dated_rows));
    std::printf("duplicate requests: %lld (%.2f%%)\n", static_cast<long long>(gs.duplicates),
                100.0 * static_cast<double>(gs.duplicates) / static_cast<double>(n));
    return 0;
  } else {
    ToolCallingOptions opt;
    opt.n = n;
    opt.seed = static_cast<uint64_t>(seed);
    const char* kNames[kCallKinds] = {"single",     "distractors", "no-call",  "parallel",
                                      "multi-turn", "ask-first",   "follow-up"};
    for (int k = 0; k < kCallKinds; ++k) opt.shares[k] = args.number(kNames[k]);
    opt.max_offered = static_cast<int>(args.integer("max-tools"));
    opt.noise = scaled(opt.noise);
    generate_tool_calling(tools, opt, &stats, sink);
  }
  out.commit();
  std::printf("wrote %lld %s rows to %s (%zu tools, seed %lld)\n", static_cast<long long>(written),
              what.c_str(), args.str("out").c_str(), tools.size(), static_cast<long long>(seed));
  if (what == "tool-selection") {
    print_counts("rows per tool:", stats.per_class, n);
    std::printf("hard negatives: %lld\n", static_cast<long long>(stats.hard));
  } else {
    print_counts("rows per kind:", stats.per_class, n);
    int64_t calls = 0;
    for (const auto& [k, v] : stats.per_tool) calls += v;
    print_counts("calls per tool:", stats.per_tool, calls);
  }
  std::printf("duplicate requests: %lld (%.2f%%)\n", static_cast<long long>(stats.duplicates),
              100.0 * static_cast<double>(stats.duplicates) / static_cast<double>(n));
  return 0;
}

}  // namespace tsft
