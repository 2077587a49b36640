// Synthetic tool-calling chats in OpenAI layout: single calls, calls among distractor tools, no
// call, two parallel calls, call -> result -> answer, asking for missing values before calling,
// and a second request after a first call's result, with arguments that fit the schemas.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/gen_tool_selection.h"
#include "data/gen_tools.h"

namespace tsft {

enum class CallKind {
  kSingle,
  kDistractors,
  kNoCall,
  kParallel,
  kMultiTurn,
  kAskFirst,  // the request names no values: the assistant asks, the user answers, then the call
  kFollowUp,  // call -> result -> answer, then a second request and its call -> result -> answer
};
inline constexpr int kCallKinds = 7;
const char* call_kind_name(CallKind kind);  // "single", "distractors", "no_call", ...

struct ToolCallingOptions {
  int64_t n = 1000;
  uint64_t seed = 0;
  // Shares of the row kinds, in CallKind order; they must sum to 1. Counts are exact: each kind
  // gets floor(share * n) rows and the remainder goes to the largest fractional parts.
  double shares[kCallKinds] = {0.15, 0.2, 0.15, 0.1, 0.15, 0.1, 0.15};
  int max_offered = 4;                      // tools offered in distractor / no-call rows, at most
  NoiseOptions noise = {0.05, 0.05, 0.08};  // lighter than selection: arguments must stay clear
};

// The exact row count of each kind for n rows (see ToolCallingOptions::shares).
std::vector<int64_t> call_kind_counts(const double* shares, int64_t n);

// The same rule for any generator's kinds: `kinds` shares, each in [0, 1], summing to 1 (else
// tsft::Error naming kind_name(k), or all_kinds for the sum); each kind gets floor(share * n)
// rows and the remainder goes to the largest fractional parts, earlier kinds winning ties.
std::vector<int64_t> counts_from_shares(const double* shares, int kinds, int64_t n,
                                        const char* (*kind_name)(int),
                                        const char* all_kinds);

// Rows {"messages": [...], "tools": [offered tools]}: user request; assistant "tool_calls" with
// {"id", "type": "function", "function": {"name", "arguments": object}}; for multi-turn a "tool"
// turn with the call's "tool_call_id" and a JSON result, then the assistant's answer that uses
// it; for no-call rows the assistant's plain answer. Ask-first rows open with a request that
// names the tool's need but none of its required values; the assistant asks for them, the user
// gives them, and the call, result and answer follow (a tool without required parameters gets a
// single-call row instead). Follow-up rows add a second request after the first answer. The same tools, options and seed give the
// same rows. `stats` may be null (per_class counts kinds, per_tool counts calls).
std::vector<nlohmann::ordered_json> generate_tool_calling(const std::vector<GenTool>& tools,
                                                          const ToolCallingOptions& opt,
                                                          GenStats* stats);
void generate_tool_calling(const std::vector<GenTool>& tools, const ToolCallingOptions& opt,
                           GenStats* stats, const RowSink& sink);

}  // namespace tsft
