// Tool-calling metrics: per assistant turn, the model's parsed calls against the expected ones
// (names, argument parsing and values, the AST check against the offered schemas) and their sums.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_call.h"

namespace tsft {

struct ExpectedCall {
  std::string name;
  nlohmann::ordered_json arguments;  // an object
};

// One assistant turn to score.
struct ToolCallTurn {
  nlohmann::ordered_json tools;        // the OpenAI tools list offered (null/empty: none)
  std::vector<ExpectedCall> expected;  // empty: the turn needs no tool, the reply is text
  ParsedReply predicted;               // parse_tool_calls of the model's output
  std::string prompt;                  // for the error sample
  std::string raw_output;              // for the error sample; to_openai_json(predicted) if empty
  double call_probability = -1.0;      // the model's first-token call probability; -1 unknown
};

// How one turn fared.
struct TurnResult {
  bool call_turn = false;  // expected calls were non-empty
  int64_t expected_calls = 0, predicted_calls = 0;
  int64_t name_matches = 0;      // multiset intersection of expected and predicted names
  int64_t arguments_parsed = 0;  // predicted calls whose arguments_json parses to an object
  int64_t matched_calls = 0;     // expected/predicted pairs with the same name (= name_matches)
  int64_t exact_arguments = 0;   // matched pairs whose arguments are equal JSON values
  int64_t expected_arguments = 0, correct_arguments = 0;  // (key, value) pairs of matched calls
  bool ast_pass = false;  // only meaningful for call turns; no-call turns pass iff no call made
  std::string reason;     // why the turn fails (empty when it passes)
};

// The AST check of one turn (see ToolCallMetrics for what is checked). Throws tsft::Error when
// an offered tool is malformed (the dataset's mistake); never for anything the model wrote.
TurnResult check_turn(const ToolCallTurn& turn);

// The value comparison of the AST check: strings equal after lower-casing (ASCII) and
// collapsing runs of whitespace (and trimming), numbers numerically (1 == 1.0), booleans and
// null exactly, arrays element by element in order, objects by key set then recursively.
bool ast_values_equal(const nlohmann::ordered_json& expected, const nlohmann::ordered_json& got);

// Plain JSON value equality, except that object key order does not matter (ordered_json's own
// == compares objects in insertion order) and numbers compare numerically.
bool json_values_equal(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);

struct ToolCallReport {
  int64_t turns = 0, call_turns = 0, no_call_turns = 0;
  int64_t single_call_turns = 0;  // call turns expecting exactly one call
  int64_t expected_calls = 0, predicted_calls = 0;
  // Names as multisets per turn: precision = matched / predicted calls, recall = matched /
  // expected calls, F1 = 2 * matched / (predicted + expected).
  std::optional<double> name_precision, name_recall, name_f1;
  std::optional<double> arguments_parse_rate;   // over predicted calls
  std::optional<double> arguments_exact_match;  // over matched calls
  std::optional<double> argument_accuracy;      // over expected (key, value) pairs of matched calls
  // Call turns passing the AST check, over call turns only: a no-call turn has nothing to
  // check beyond "no call was made", which hallucinated_call_rate reports.
  std::optional<double> ast_accuracy;
  std::optional<double> ast_accuracy_single;  // the same over one-call turns only
  std::optional<double> hallucinated_call_rate;   // no-call turns with any call, over no-call turns
  std::optional<double> missed_call_rate;         // call turns with no call, over call turns
  std::optional<double> output_parse_error_rate;  // turns with ParsedReply.valid == false
  struct Error {
    std::string prompt, expected, got, reason;
  };
  std::vector<Error> errors;  // the first max_errors failing turns
  // Turns with a call probability, for the call gate (a call made below a threshold is
  // withheld): what each turn needed and what it did.
  struct GateTurn {
    double call_probability = 0.0;
    bool call_turn = false, single = false, called = false, ast_pass = false;
  };
  std::vector<GateTurn> gate_turns;
};

// Accumulates turns. A call turn passes the AST check when the reply parsed (valid), the
// predicted calls pair one-to-one with the expected ones by name (parallel calls unordered) and
// every pair passes: the function was offered; arguments are a JSON object; every required
// argument is present; no argument outside the schema's properties (unless additionalProperties
// is true or a schema; a schema without "properties" takes any key unless it is false); types
// strict against the schema (validate_json); values equal to the expected ones (ast_values_equal),
// where an argument left out on one side passes only when the other side's value equals the
// schema's "default". A no-call turn passes when nothing was called.
class ToolCallMetrics {
 public:
  explicit ToolCallMetrics(int max_errors = 20);

  TurnResult add(const ToolCallTurn& turn);
  ToolCallReport report() const;

 private:
  int max_errors_;
  ToolCallReport sums_;  // counts in the report's fields plus the numerators below
  int64_t name_matches_ = 0, arguments_parsed_ = 0, matched_calls_ = 0, exact_arguments_ = 0;
  int64_t expected_arguments_ = 0, correct_arguments_ = 0;
  int64_t ast_passes_ = 0, single_ast_passes_ = 0, hallucinated_ = 0, missed_ = 0, parse_errors_ = 0;
};

// The report's "tool_calling" object (docs/EVAL_REPORT.md).
nlohmann::ordered_json to_json(const ToolCallReport& report);

}  // namespace tsft
