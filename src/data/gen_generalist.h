// Tool-calling rows for generalisation: every row offers functions freshly drawn from the
// procedural schema space (gen_schema_space.h), so a model learns to read schemas, not names.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/gen_tool_selection.h"
#include "data/gen_tools.h"

namespace tsft {

enum class GeneralKind { kSingle, kDistractors, kNoCall, kParallel };
inline constexpr int kGeneralKinds = 4;
const char* general_kind_name(GeneralKind kind);  // "single", "distractors", "no_call", "parallel"

struct GeneralistOptions {
  int64_t n = 1000;
  uint64_t seed = 0;
  // Shares of the row kinds, in GeneralKind order, summing to 1; counts are exact (largest
  // remainders). No-call rows split evenly into chit-chat, a request for a function of an
  // unrelated domain, a request missing a required value (the assistant asks for it), and a
  // near miss: a request whose words fit the offered functions (same domain) but whose action
  // none of them does, and a general question about what an offered function works on.
  double shares[kGeneralKinds] = {0.2, 0.3, 0.3, 0.2};
  int max_offered = 5;  // tools offered per row, at most (2..5 in distractor rows)
  NoiseOptions noise = {0.05, 0.05, 0.05};
  double system_share = 0.25;  // rows with no date that still carry "Today is ..."
  // Requests per row, 1..requests (uniform): after the first, further requests over the same
  // offered functions, kinds drawn by `shares`, each after the last one's answer (a call's
  // "tool" results and a short reply). The long part of a row is its tools, written once: with
  // requests = 4, 400 rows have 1.28x the tokens of one request per row and 2.5x the calls
  // (docs/DATA.md).
  int requests = 1;
};

struct GeneralistStats {
  std::map<std::string, int64_t> per_kind;     // single, distractors, no_call, parallel
  std::map<std::string, int64_t> per_no_call;  // chat, unsupported, missing_value, near_miss,
                                               // topic_question
  std::map<std::string, int64_t> functions;    // calls per function name
  int64_t calls = 0;
  int64_t requests = 0;    // user requests in all rows (rows x requests per row)
  int64_t dated_rows = 0;  // rows whose request states a date
  int64_t duplicates = 0;  // rows whose request text was already written
};

// Rows {"messages": [system?, user, assistant, ...], "tools": [offered]} in the layout of
// generate_tool_calling: the assistant's "tool_calls" hold {"id", "type": "function",
// "function": {"name", "arguments": object}}; no-call rows hold a plain answer. A system
// message "Today is YYYY-MM-DD (Weekday). The user's time zone is UTC+HH:MM." comes with every
// row whose request says a date ("next Friday", "March 20, 2026"). With requests > 1 a row may
// go on: ["tool" results and an assistant reply, if it called], user, assistant, ... (the first
// request's kind is the row's kind, counted in per_kind). Same options, same rows.
void generate_generalist(const GeneralistOptions& opt, GeneralistStats* stats, const RowSink& sink);
std::vector<nlohmann::ordered_json> generate_generalist(const GeneralistOptions& opt,
                                                        GeneralistStats* stats);

}  // namespace tsft
