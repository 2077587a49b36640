// Cost of schema-constrained decoding: greedy generation on hand-written tool-calling rows with
// and without the grammar, on the default model. Prints decode tokens/s both ways, the time the
// constraint itself took per token, how often the sampler's pick was refused or the whole
// vocabulary had to be tested, and how many replies held an invalid call.
//
//   build/bench/bench_constrained [--model PATH] [--data JSONL] [--rows 12] [--max-new-tokens 96]
//                                 [--threads 2] [--tool-choice auto|required]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/cpu/blas_core.h"
#include "chat/chat_format.h"
#include "chat/json_schema.h"
#include "chat/tool_call.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/model_loader.h"
#include "model/generate.h"

using namespace tsft;
using nlohmann::ordered_json;

namespace {

// Calls that do not parse, name no offered function, or fail their schema. A reply cut by
// max_new_tokens inside a call counts in `cut`, not as invalid.
int invalid_calls(const std::string& text, const ordered_json& tools, int* cut) {
  const ParsedReply reply = parse_tool_calls(text, ToolCallFormat::kHermes);
  if (reply.truncated) ++*cut;
  int bad = reply.valid || reply.truncated ? 0 : 1;
  for (const ToolCall& call : reply.calls) {
    const ordered_json* schema = nullptr;
    for (const auto& t : tools)
      if (t["function"]["name"] == call.name) schema = &t["function"]["parameters"];
    if (!schema ||
        !validate_json(ordered_json::parse(call.arguments_json), *schema, "arguments").empty())
      ++bad;
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  tsft::restart_with_better_openblas_core(argv);  // as toolsft itself runs
  std::string model_path = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  std::string data = "tests/data/handwritten/tool_calling.jsonl";
  std::string choice = "auto";
  int rows = 12, max_new = 96, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_path = v;
    else if (k == "--data") data = v;
    else if (k == "--rows") rows = std::atoi(v.c_str());
    else if (k == "--max-new-tokens") max_new = std::atoi(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--tool-choice") choice = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    set_num_threads(threads);
    LoadedModel lm = load_model(model_path);
    const Tokenizer& tok = *lm.tokenizer;
    const ChatFormat chat = ChatFormat::from_tokenizer(tok, model_path);
    auto table = std::make_shared<TokenTable>(tok, lm.gen_defaults.eos_ids);
    const ToolChoiceSpec spec{choice == "required" ? ToolChoiceMode::kRequired : ToolChoiceMode::kAuto, ""};

    std::ifstream in(data);
    if (!in) fail("cannot open ", data);
    std::string line;
    int64_t tok_free = 0, tok_con = 0, rejected = 0, full_masks = 0;
    double sec_free = 0, sec_con = 0, sec_constraint = 0;
    int bad_free = 0, bad_con = 0, cut_free = 0, cut_con = 0, calls_free = 0, calls_con = 0, done = 0;
    while (done < rows && std::getline(in, line)) {
      if (line.empty()) continue;
      const ordered_json row = ordered_json::parse(line);
      ordered_json msgs = row["messages"];
      msgs.erase(msgs.size() - 1);
      const std::vector<int32_t> prompt = tok.encode(chat.render(msgs, row["tools"], true));
      GenerationConfig gen = lm.gen_defaults;
      gen.max_new_tokens = max_new;
      gen.sampling = {};
      const GenerationResult free_run = generate(*lm.model, tok, prompt, gen);
      gen.tool_grammar = std::make_shared<ToolCallGrammar>(row["tools"], spec);
      gen.token_table = table;
      const GenerationResult con_run = generate(*lm.model, tok, prompt, gen);
      tok_free += static_cast<int64_t>(free_run.tokens.size());
      tok_con += static_cast<int64_t>(con_run.tokens.size());
      sec_free += free_run.decode_seconds;
      sec_con += con_run.decode_seconds;
      sec_constraint += con_run.constraint.seconds;
      rejected += con_run.constraint.rejected;
      full_masks += con_run.constraint.full_masks;
      bad_free += invalid_calls(free_run.text, row["tools"], &cut_free);
      bad_con += invalid_calls(con_run.text, row["tools"], &cut_con);
      calls_free += static_cast<int>(parse_tool_calls(free_run.text, ToolCallFormat::kHermes).calls.size());
      calls_con += static_cast<int>(parse_tool_calls(con_run.text, ToolCallFormat::kHermes).calls.size());
      ++done;
      std::fprintf(stderr, "row %d: %zu / %zu tokens, constraint %.1f ms\n", done,
                   free_run.tokens.size(), con_run.tokens.size(), con_run.constraint.seconds * 1e3);
    }
    const double rate_free = tok_free / sec_free, rate_con = tok_con / sec_con;
    std::printf("| rows | tool_choice | decoding | tokens | tokens/s | constraint ms/token | refused picks | full masks | whole calls | invalid calls | cut in a call |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| %d | %s | free | %lld | %.1f | - | - | - | %d | %d | %d |\n", done, choice.c_str(),
                static_cast<long long>(tok_free), rate_free, calls_free, bad_free, cut_free);
    std::printf("| %d | %s | constrained | %lld | %.1f | %.3f | %lld | %lld | %d | %d | %d |\n", done,
                choice.c_str(), static_cast<long long>(tok_con), rate_con,
                sec_constraint / tok_con * 1e3, static_cast<long long>(rejected),
                static_cast<long long>(full_masks), calls_con, bad_con, cut_con);
    std::printf("\nslowdown of decoding: %.1f%% (tokens/s); constraint share of constrained decode time: %.1f%%\n",
                (rate_free / rate_con - 1.0) * 100.0, sec_constraint / sec_con * 100.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_constrained: %s\n", e.what());
    return 1;
  }
  return 0;
}
