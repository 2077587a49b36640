#include "eval/tool_calling_eval.h"

#include <algorithm>

#include "chat/chat_format.h"
#include "chat/tool_call_grammar.h"
#include "core/error.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "eval/prompt_split.h"
#include "model/call_start.h"
#include "model/generate.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

using nlohmann::ordered_json;

ToolCallingTask build_tool_calling_task(const std::vector<DatasetRow>& rows, const Tokenizer& tok,
                                        const ChatFormat& chat, const ToolCallingTaskOptions& opt) {
  SftLoadOptions lo;
  lo.loss_on = SftLoadOptions::LossOn::kAssistant;
  const SftRowEncoder enc(tok, &chat, lo);
  ToolCallingTask task;
  auto full = [&] {
    return opt.max_cases > 0 && static_cast<int64_t>(task.cases.size()) >= opt.max_cases;
  };
  for (const DatasetRow& r : rows) {
    if (full()) break;
    if (r.kind != DatasetRow::Kind::kChat)
      row_error(r, "messages", "tool-calling evaluation needs chat rows (messages or conversations)");
    int turn = 0;
    for (size_t i = 0; i < r.messages.size() && !full(); ++i) {
      const ordered_json& m = r.messages[i];
      if (m["role"] != "assistant") continue;
      ++turn;
      ToolCallingCase c;
      c.where = r.where + " turn " + std::to_string(turn);
      c.tools = r.tools;
      for (size_t j = i; j-- > 0;)
        if (r.messages[j]["role"] == "user" || r.messages[j]["role"] == "tool") {
          c.request = (r.messages[j]["role"] == "tool" ? "[tool result] " : "") +
                      r.messages[j]["content"].get<std::string>();
          break;
        }
      if (m.contains("tool_calls"))
        for (const auto& call : m["tool_calls"])
          c.expected.push_back({call["function"]["name"].get<std::string>(),
                                call["function"]["arguments"]});
      // The prompt exactly as training renders the conversation up to this reply.
      DatasetRow upto = r;
      upto.messages = ordered_json(r.messages.begin(), r.messages.begin() + static_cast<long>(i) + 1);
      const SftExample e = enc.encode(upto);
      const auto [begin, end] = last_loss_run(e);
      if (begin == end) row_error(r, "messages", "turn " + std::to_string(turn) + " renders no reply tokens");
      if (opt.max_prompt_tokens > 0 && static_cast<int64_t>(begin) > opt.max_prompt_tokens) {
        ++task.skipped_too_long;
        continue;
      }
      c.prompt_ids.assign(e.ids.begin(), e.ids.begin() + static_cast<long>(begin));
      task.cases.push_back(std::move(c));
    }
  }
  std::vector<const std::vector<int32_t>*> prompts;
  for (const ToolCallingCase& c : task.cases) prompts.push_back(&c.prompt_ids);
  task.shared_prefix = shared_prompt_prefix(prompts);
  return task;
}

ToolCallReport run_tool_calling(Transformer& model, const Tokenizer& tok,
                                const ToolCallingTask& task, const ToolCallingRunOptions& opt) {
  ToolCallMetrics metrics(opt.max_errors);
  const int64_t P = static_cast<int64_t>(task.shared_prefix.size());
  int64_t longest = 0;
  for (const ToolCallingCase& c : task.cases)
    longest = std::max<int64_t>(longest, static_cast<int64_t>(c.prompt_ids.size()));
  const int64_t ctx = model.config().context_length();
  GenerationConfig gen;
  gen.max_new_tokens = opt.max_new_tokens;
  gen.eos_ids = opt.eos_ids;
  ToolCallSyntax syntax;
  if (opt.constrained || opt.call_gate) {
    if (opt.format == ToolCallFormat::kLlama3Json) {
      syntax = ToolCallSyntax::llama3_json();
    } else if (opt.format != ToolCallFormat::kHermes) {
      fail(opt.constrained ? "constrained decoding" : "the call gate",
           " writes Hermes (<tool_call>) or Llama 3 JSON calls; this model's tool-call format is '",
           tool_call_format_name(opt.format), "': give --tool-format hermes or llama3");
    }
    gen.token_table = std::make_shared<TokenTable>(tok, opt.eos_ids);
  }
  // The call probability of every turn with tools, for the report's call gate, where the format
  // opens calls with text (Mistral's [TOOL_CALLS] is a special token: no text token starts it).
  if (!gen.token_table) gen.token_table = std::make_shared<TokenTable>(tok, opt.eos_ids);
  const bool json_calls = opt.format == ToolCallFormat::kLlama3Json ||
                          opt.format == ToolCallFormat::kNameParameters;
  auto call_start = std::make_shared<CallStart>(*gen.token_table, json_calls ? "{" : "<tool_call>");
  if (opt.format != ToolCallFormat::kMistral && !call_start->ids().empty())
    gen.call_start = std::move(call_start);
  if (opt.call_gate)
    gen.call_gate = std::make_shared<CallGate>(*gen.token_table, syntax, *opt.call_gate);
  KvCache cache = model.make_cache(std::min<int64_t>(ctx, longest + opt.max_new_tokens + 1));
  prefill_prefix(model, task.shared_prefix, cache);
  const int64_t n = static_cast<int64_t>(task.cases.size());
  double constraint_seconds = 0.0;
  int64_t withheld = 0;
  for (int64_t i = 0; i < n; ++i) {
    const ToolCallingCase& c = task.cases[static_cast<size_t>(i)];
    cache.truncate(P);
    const std::vector<int32_t> rest(c.prompt_ids.begin() + P, c.prompt_ids.end());
    const bool offers_tools = !c.tools.is_null() && !c.tools.empty();
    GenerationConfig g = gen;
    if (!offers_tools) g.call_gate = nullptr;  // no call to withhold
    g.max_new_tokens = std::min<int64_t>(gen.max_new_tokens,
                                         cache.capacity() - static_cast<int64_t>(c.prompt_ids.size()) - 1);
    ToolCallTurn turn;
    turn.tools = c.tools;
    turn.expected = c.expected;
    turn.prompt = c.request;
    if (g.max_new_tokens < 1) {
      turn.predicted.valid = false;
      turn.predicted.error = "the prompt fills the model's context";
      turn.raw_output = "(not generated: the prompt fills the context)";
    } else {
      if (opt.constrained) {
        try {
          // A turn of a conversation that offers no tools (glaive's plain chats) may only be
          // answered in text: the grammar of no tools.
          g.tool_grammar = std::make_shared<ToolCallGrammar>(
              c.tools.is_null() ? ordered_json::array() : c.tools, ToolChoiceSpec{}, syntax);
        } catch (const Error& e) {
          fail(c.where, ": ", e.what());
        }
      }
      const GenerationResult r = generate_after(model, tok, cache, rest, g);
      constraint_seconds += r.constraint.seconds;
      withheld += r.calls_withheld ? 1 : 0;
      turn.predicted = parse_tool_calls(r.text, opt.format);
      turn.raw_output = r.text;
      if (offers_tools) turn.call_probability = r.call_probability;
    }
    metrics.add(turn);
    if (opt.on_progress) opt.on_progress(i + 1, n);
  }
  if (opt.constraint_seconds) *opt.constraint_seconds = constraint_seconds;
  if (opt.calls_withheld) *opt.calls_withheld = withheld;
  return metrics.report();
}

}  // namespace tsft
