// toolsft data check: validate a dataset as training would read it and report what it holds
// (layouts, tools, lengths in the model's tokens, what max_seq_len would drop), without training.
// toolsft data tools: the distinct tool schemas a dataset offers, as a tools file (for example to
// generate synthetic conversations over a real dataset's tools).
#include <algorithm>
#include <map>
#include <cstdio>
#include <memory>

#include "chat/chat_format.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "data/dataset_rows.h"
#include "io/file_write.h"
#include "data/sft_dataset.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

namespace {

int data_tools(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"data", "FILE", "the dataset (JSONL, JSON array or one object)", ""},
      {"out", "FILE", "tools file to write (a JSON list of OpenAI tools)", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 2);
  if (args.flag("help") || !args.given("data") || !args.given("out")) {
    std::fputs(format_help("toolsft data tools --data FILE --out tools.json",
                           "Writes the distinct tools the dataset's rows offer, in order of first "
                           "use; a name offered with several schemas keeps its first (counted).",
                           kSpecs)
                   .c_str(),
               stdout);
    return args.flag("help") ? 0 : 2;
  }
  DatasetReadStats rs;
  const std::vector<DatasetRow> rows = read_dataset(args.str("data"), {}, &rs);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  std::map<std::string, nlohmann::ordered_json> seen;  // name -> first schema
  std::map<std::string, std::string> variants;          // name -> where another schema was seen
  for (const DatasetRow& r : rows) {
    if (!r.tools.is_array()) continue;
    for (const auto& t : r.tools) {
      const std::string name = t["function"]["name"].get<std::string>();
      auto it = seen.find(name);
      if (it == seen.end()) {
        seen[name] = t;
        out.push_back(t);
      } else if (it->second != t && !variants.count(name)) {
        variants[name] = r.where;
      }
    }
  }
  write_text_file(args.str("out"), out.dump(2) + "\n");
  std::printf("wrote %zu tools offered by %lld rows of %s to %s\n", out.size(),
              static_cast<long long>(rows.size()), args.str("data").c_str(),
              args.str("out").c_str());
  if (!variants.empty()) {
    std::printf("%zu tool names are offered with more than one schema; the first is kept:\n",
                variants.size());
    for (const auto& [name, where] : variants)
      std::printf("  %s (another schema at %s)\n", name.c_str(), where.c_str());
  }
  return 0;
}

}  // namespace

int cmd_data(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "tools") return data_tools(argc, argv);
  static const std::vector<OptionSpec> kSpecs = {
      {"data", "FILE", "the dataset (JSONL, JSON array or one object)", ""},
      {"model", "PATH", "model whose tokenizer and chat template render the rows", kDefaultModel},
      {"tools", "FILE", "tools offered to chat rows that have none of their own", ""},
      {"max-seq-len", "N", "report how many examples are longer than this", "512"},
      {"skip-invalid", "", "list every bad row (the first five in full) instead of stopping", ""},
      {"help", "", "show this help", ""},
  };
  auto help = [&](int code) {
    std::fputs(format_help("toolsft data check --data FILE [options]\n"
                           "       toolsft data tools --data FILE --out tools.json",
                           "Validates a dataset as training reads it and reports its layouts, "
                           "tools and token lengths.",
                           kSpecs)
                   .c_str(),
               stdout);
    return code;
  };
  if (argc < 2 || std::string(argv[1]) != "check")
    return help(argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") ? 0 : 2);
  Args args(kSpecs, argc, argv, 2);
  if (args.flag("help") || !args.given("data")) return help(args.flag("help") ? 0 : 2);
  const std::string data = args.str("data");
  const int64_t max_len = args.integer("max-seq-len");
  if (max_len < 2) fail("--max-seq-len must be at least 2");
  DatasetReadOptions ro;
  ro.skip_invalid = args.flag("skip-invalid");
  if (args.given("tools")) ro.tools = read_tools_file(args.str("tools"));
  DatasetReadStats rs;
  const std::vector<DatasetRow> rows = read_dataset(data, ro, &rs);

  const std::string model_path = resolve_model_path(args.str("model"));
  const Tokenizer tok = load_tokenizer(model_path);
  std::unique_ptr<ChatFormat> chat;
  try {
    chat = std::make_unique<ChatFormat>(ChatFormat::from_tokenizer(tok, model_path));
  } catch (const Error&) {
  }
  SftLoadOptions lo;
  const SftRowEncoder enc(tok, chat.get(), lo);
  std::vector<int64_t> lengths;
  int64_t loss_tokens = 0, no_loss = 0, render_errors = 0, calls = 0, tool_turns = 0;
  std::vector<std::string> errors = rs.first_errors;
  for (const DatasetRow& r : rows) {
    for (const auto& m : r.messages)
      if (m.contains("tool_calls")) calls += static_cast<int64_t>(m["tool_calls"].size());
      else if (m.value("role", "") == "tool") ++tool_turns;
    try {
      const SftExample ex = enc.encode(r);
      const int64_t l = std::count(ex.loss_mask.begin(), ex.loss_mask.end(), uint8_t{1});
      if (l == 0) ++no_loss;
      loss_tokens += l;
      lengths.push_back(static_cast<int64_t>(ex.ids.size()));
    } catch (const Error& e) {
      if (!args.flag("skip-invalid")) throw;
      ++render_errors;
      if (errors.size() < 5) errors.push_back(e.what());
    }
  }
  std::sort(lengths.begin(), lengths.end());
  auto pct = [&](double q) {
    return lengths.empty() ? 0 : lengths[std::min(lengths.size() - 1, static_cast<size_t>(q * lengths.size()))];
  };
  const int64_t over = lengths.end() - std::upper_bound(lengths.begin(), lengths.end(), max_len);
  std::printf("%s: %lld rows, %lld valid, %lld invalid\n", data.c_str(),
              static_cast<long long>(rs.rows), static_cast<long long>(rs.valid - render_errors),
              static_cast<long long>(rs.skipped_invalid + render_errors));
  std::printf("  layouts: %lld chat, %lld prompt/completion, %lld text\n",
              static_cast<long long>(rs.chat), static_cast<long long>(rs.prompt_completion),
              static_cast<long long>(rs.text));
  std::printf("  tools: %lld rows with their own, %lld with the dataset's; %lld tool calls, %lld "
              "tool results\n",
              static_cast<long long>(rs.own_tools), static_cast<long long>(rs.dataset_tools),
              static_cast<long long>(calls), static_cast<long long>(tool_turns));
  if (!lengths.empty()) {
    int64_t total = 0;
    for (int64_t l : lengths) total += l;
    std::printf("  tokens (%s): %lld in all, %lld with loss; per example min %lld, median %lld, "
                "p95 %lld, max %lld\n",
                model_path.c_str(), static_cast<long long>(total),
                static_cast<long long>(loss_tokens), static_cast<long long>(lengths.front()),
                static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.95)),
                static_cast<long long>(lengths.back()));
    std::printf("  longer than max_seq_len %lld: %lld (dropped by truncation: drop)\n",
                static_cast<long long>(max_len), static_cast<long long>(over));
  }
  if (no_loss) std::printf("  %lld examples have no token to learn from\n", static_cast<long long>(no_loss));
  for (const std::string& e : errors) std::printf("  invalid: %s\n", e.c_str());
  return 0;
}

}  // namespace tsft
