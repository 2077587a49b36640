// Tool-calling evaluation: every assistant turn of chat rows with tools becomes one test (the
// conversation before it as the prompt, its tool calls or text as the expected reply); the model
// generates the reply greedily, it is parsed into calls and scored by ToolCallMetrics.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chat/tool_call.h"
#include "eval/tool_call_metrics.h"

namespace tsft {

class ChatFormat;
class Tokenizer;
class Transformer;
struct DatasetRow;

struct ToolCallingCase {
  std::string where;    // FILE:LINE, turn N
  std::string request;  // the last user (or tool) message, for the error sample
  std::vector<int32_t> prompt_ids;  // as training renders the conversation up to the turn
  nlohmann::ordered_json tools;
  std::vector<ExpectedCall> expected;  // empty: the turn answers in text
};

struct ToolCallingTaskOptions {
  int64_t max_cases = 0;  // 0 = all
  int64_t max_prompt_tokens = 0;  // 0 = no limit; longer prompts are skipped and counted
};

struct ToolCallingTask {
  std::vector<ToolCallingCase> cases;
  std::vector<int32_t> shared_prefix;  // longest token prefix of every prompt (each keeps one)
  int64_t skipped_too_long = 0;
};

// Chat rows only (tsft::Error naming the row otherwise). Every assistant message is a case.
ToolCallingTask build_tool_calling_task(const std::vector<DatasetRow>& rows, const Tokenizer& tok,
                                        const ChatFormat& chat, const ToolCallingTaskOptions& opt);

struct ToolCallingRunOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_ids;
  ToolCallFormat format = ToolCallFormat::kAuto;
  // Schema-constrained decoding (chat/tool_call_grammar.h) with each case's tools and
  // tool_choice auto: the reply is text or calls that validate. Needs format hermes or llama3.
  bool constrained = false;
  double* constraint_seconds = nullptr;  // when set: the constraint's time over the run
  // Set: the call gate while decoding (model/call_start.h, threshold in [0, 1]): a turn with
  // tools whose call probability is below it is answered in text. Needs format hermes or llama3.
  std::optional<double> call_gate;
  int64_t* calls_withheld = nullptr;  // when set: the turns the call gate made text only
  int max_errors = 20;
  std::function<void(int64_t, int64_t)> on_progress;  // (done, total)
};

ToolCallReport run_tool_calling(Transformer& model, const Tokenizer& tok,
                                const ToolCallingTask& task, const ToolCallingRunOptions& opt);

}  // namespace tsft
