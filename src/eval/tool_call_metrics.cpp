// ToolCallMetrics: the per-turn AST check (pairing parallel calls by name, then checking each
// pair against the offered schema and the expected values) and the sums over turns.
#include "eval/tool_call_metrics.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "chat/json_schema.h"
#include "core/error.h"
#include "eval/rate.h"

namespace tsft {

namespace {

using Json = nlohmann::ordered_json;

// Lower-case (ASCII), whitespace runs -> one space, trimmed: "  New   York" == "new york".
std::string normalise_string(const std::string& s) {
  std::string out;
  bool pending_space = false;
  for (unsigned char c : s) {
    if (std::isspace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

// long double holds every int64/uint64 exactly on the platforms we build for, so 2^63 + 1 is
// not mistaken for 2^63 while 1 still equals 1.0.
bool numbers_equal(const Json& a, const Json& b) {
  auto as_ld = [](const Json& v) -> long double {
    if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
    if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
    return static_cast<long double>(v.get<double>());
  };
  return as_ld(a) == as_ld(b);
}

bool values_equal(const Json& a, const Json& b, bool normalise) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::string:
      return normalise ? normalise_string(a.get_ref<const std::string&>()) ==
                             normalise_string(b.get_ref<const std::string&>())
                       : a == b;
    case Json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!values_equal(a[i], b[i], normalise)) return false;
      }
      return true;
    case Json::value_t::object:
      if (a.size() != b.size()) return false;
      for (const auto& [key, value] : a.items()) {
        const auto it = b.find(key);
        if (it == b.end() || !values_equal(value, *it, normalise)) return false;
      }
      return true;
    default:  // null, boolean, binary
      return a == b;
  }
}

std::string clip(std::string s, size_t max = 80) {
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

// The offered tools by name -> their parameters schema.
std::map<std::string, Json> offered_functions(const Json& tools) {
  std::map<std::string, Json> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) fail("tools: expected an array of OpenAI tools, got ", tools.type_name());
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = str("tools[", i, "]");
    const Json fn = function_of_tool(tools[i], where);
    const auto name = fn.find("name");
    if (name == fn.end() || !name->is_string()) fail(where, ": function without a string name");
    const auto params = fn.find("parameters");
    out[name->get<std::string>()] = (params != fn.end() && params->is_object())
                                        ? *params
                                        : Json{{"type", "object"}, {"properties", Json::object()}};
  }
  return out;
}

// The predicted call's arguments as an object, or the reason they are not one.
std::optional<Json> parse_arguments(const ToolCall& call, std::string* why) {
  Json args;
  try {
    args = Json::parse(call.arguments_json);
  } catch (const Json::exception& e) {
    *why = str("arguments of ", call.name, " are not valid JSON: ", clip(call.arguments_json));
    return std::nullopt;
  }
  if (!args.is_object()) {
    *why = str("arguments of ", call.name, " are a JSON ", args.type_name(), ", not an object");
    return std::nullopt;
  }
  return args;
}

struct PairResult {
  bool pass = false;
  bool parsed = false;
  bool exact = false;
  int64_t expected_arguments = 0, correct_arguments = 0;
  std::string reason;
};

// Checks the schema-level rules and then the values, stopping at the first failure.
std::string ast_failure(const ExpectedCall& expected, const std::string& name, const Json& args,
                        const Json& schema) {
  const Json empty = Json::object();
  const auto props_it = schema.find("properties");
  const Json& props = (props_it != schema.end() && props_it->is_object()) ? *props_it : empty;
  const auto req = schema.find("required");
  if (req != schema.end() && req->is_array()) {
    for (const Json& key : *req) {
      if (key.is_string() && !args.contains(key.get<std::string>())) {
        return str("missing required argument '", key.get<std::string>(), "' in ", name);
      }
    }
  }
  // As validate_json: with "properties" given, a key outside them is invented unless
  // additionalProperties allows it; without "properties", any key unless it is false.
  const auto extra = schema.find("additionalProperties");
  const bool has_extra = extra != schema.end();
  const bool extra_allowed =
      props_it == schema.end()
          ? !(has_extra && extra->is_boolean() && !extra->get<bool>())
          : has_extra && (extra->is_object() || (extra->is_boolean() && extra->get<bool>()));
  if (!extra_allowed) {
    for (const auto& [key, value] : args.items()) {
      if (!props.contains(key)) return str("unknown argument '", key, "' in ", name);
    }
  }
  const std::vector<SchemaProblem> problems = validate_json(args, schema, "arguments");
  if (!problems.empty()) {
    std::string path = problems[0].path;  // "arguments", "arguments.days", "arguments[\"a b\"]"
    if (path.rfind("arguments", 0) == 0) path = path.substr(9);
    if (!path.empty() && path[0] == '.') path = path.substr(1);
    if (path.empty()) {
      return str("arguments of ", name, ": ", problems[0].message);
    }
    return str("argument '", path, "' in ", name, ": ", problems[0].message);
  }
  // An argument on one side only is fine when the other side means the schema's default.
  auto is_default = [&](const std::string& key, const Json& value) {
    const auto prop = props.find(key);
    if (prop == props.end() || !prop->is_object()) return false;
    const auto def = prop->find("default");
    return def != prop->end() && values_equal(*def, value, true);
  };
  for (const auto& [key, value] : expected.arguments.items()) {
    const auto got = args.find(key);
    if (got == args.end()) {
      if (!is_default(key, value)) return str("missing argument '", key, "' in ", name);
    } else if (!values_equal(value, *got, true)) {
      return str("argument '", key, "' in ", name, ": expected ", clip(value.dump()), ", got ",
                 clip(got->dump()));
    }
  }
  for (const auto& [key, value] : args.items()) {
    if (!expected.arguments.contains(key) && !is_default(key, value)) {
      return str("unexpected argument '", key, "' in ", name, " (not in the expected call)");
    }
  }
  return {};
}

PairResult check_pair(const ExpectedCall& expected, const ToolCall& call,
                      const std::map<std::string, Json>& offered) {
  PairResult r;
  r.expected_arguments = static_cast<int64_t>(expected.arguments.size());
  std::string why;
  const std::optional<Json> args = parse_arguments(call, &why);
  if (!args) {
    r.reason = why;
    return r;
  }
  r.parsed = true;
  r.exact = values_equal(expected.arguments, *args, false);
  for (const auto& [key, value] : expected.arguments.items()) {
    const auto got = args->find(key);
    if (got != args->end() && values_equal(value, *got, true)) ++r.correct_arguments;
  }
  const auto fn = offered.find(call.name);
  if (fn == offered.end()) {
    r.reason = str("unknown function '", call.name, "'");
    return r;
  }
  r.reason = ast_failure(expected, call.name, *args, fn->second);
  r.pass = r.reason.empty();
  return r;
}

// Lexicographic: passing pairs first, then exact arguments, then reproduced arguments.
struct Score {
  int64_t pass = 0, exact = 0, correct = 0;
  auto operator<=>(const Score&) const = default;
  void add(const PairResult& p) {
    pass += p.pass;
    exact += p.exact;
    correct += p.correct_arguments;
  }
};

// Pairs expected calls (rows) with predicted calls (columns) of one name: the best assignment
// by Score over all injections of the smaller side when that is cheap, else greedily.
std::vector<std::pair<int, int>> best_assignment(const std::vector<std::vector<PairResult>>& m) {
  const int rows = static_cast<int>(m.size());
  const int cols = rows ? static_cast<int>(m[0].size()) : 0;
  const bool transpose = rows > cols;
  const int small = std::min(rows, cols), large = std::max(rows, cols);
  auto at = [&](int s, int l) -> const PairResult& { return transpose ? m[l][s] : m[s][l]; };
  std::vector<int> choice(small), best;
  Score best_score{-1, -1, -1};
  if (large <= 8) {
    std::vector<bool> used(large, false);
    std::function<void(int, Score)> search = [&](int s, Score score) {
      if (s == small) {
        if (score > best_score) best_score = score, best = choice;
        return;
      }
      for (int l = 0; l < large; ++l) {
        if (used[l]) continue;
        used[l] = true;
        choice[s] = l;
        Score next = score;
        next.add(at(s, l));
        search(s + 1, next);
        used[l] = false;
      }
    };
    search(0, Score{});
  } else {
    std::vector<std::pair<int, int>> order;
    for (int s = 0; s < small; ++s)
      for (int l = 0; l < large; ++l) order.emplace_back(s, l);
    auto score_of = [&](const std::pair<int, int>& p) {
      Score sc;
      sc.add(at(p.first, p.second));
      return sc;
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto& a, const auto& b) { return score_of(a) > score_of(b); });
    std::vector<bool> s_used(small, false), l_used(large, false);
    best.assign(small, -1);
    for (const auto& [s, l] : order) {
      if (s_used[s] || l_used[l]) continue;
      s_used[s] = l_used[l] = true;
      best[s] = l;
    }
  }
  std::vector<std::pair<int, int>> pairs;
  for (int s = 0; s < small; ++s) {
    pairs.push_back(transpose ? std::pair{best[s], s} : std::pair{s, best[s]});
  }
  return pairs;
}

std::string calls_phrase(int64_t n) {
  return str(n, n == 1 ? " call" : " calls");
}

}  // namespace

bool ast_values_equal(const nlohmann::ordered_json& expected, const nlohmann::ordered_json& got) {
  return values_equal(expected, got, true);
}

bool json_values_equal(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b) {
  return values_equal(a, b, false);
}

TurnResult check_turn(const ToolCallTurn& turn) {
  TurnResult r;
  const std::map<std::string, Json> offered = offered_functions(turn.tools);
  const std::vector<ToolCall>& calls = turn.predicted.calls;
  r.call_turn = !turn.expected.empty();
  r.expected_calls = static_cast<int64_t>(turn.expected.size());
  r.predicted_calls = static_cast<int64_t>(calls.size());
  for (size_t i = 0; i < turn.expected.size(); ++i) {
    if (!turn.expected[i].arguments.is_object()) {
      fail("expected call ", i + 1, " (", turn.expected[i].name, "): arguments must be an object");
    }
  }
  std::string unused;
  for (const ToolCall& call : calls) r.arguments_parsed += parse_arguments(call, &unused) ? 1 : 0;

  // Pair by name: within each name, the best assignment; across names nothing can pair.
  std::map<std::string, std::pair<std::vector<int>, std::vector<int>>> by_name;
  for (size_t i = 0; i < turn.expected.size(); ++i) {
    by_name[turn.expected[i].name].first.push_back(static_cast<int>(i));
  }
  for (size_t j = 0; j < calls.size(); ++j)
    by_name[calls[j].name].second.push_back(static_cast<int>(j));
  std::vector<std::pair<int, PairResult>> pairs;  // (expected index, result)
  std::string first_unmatched_expected, first_unmatched_predicted;
  for (const auto& [name, sides] : by_name) {
    const auto& [exp_idx, pred_idx] = sides;
    if (exp_idx.size() > pred_idx.size() && first_unmatched_expected.empty()) {
      first_unmatched_expected = name;
    }
    if (pred_idx.size() > exp_idx.size() && first_unmatched_predicted.empty()) {
      first_unmatched_predicted = name;
    }
    if (exp_idx.empty() || pred_idx.empty()) continue;
    std::vector<std::vector<PairResult>> m(exp_idx.size());
    for (size_t e = 0; e < exp_idx.size(); ++e) {
      for (int p : pred_idx)
        m[e].push_back(check_pair(turn.expected[exp_idx[e]], calls[p], offered));
    }
    for (const auto& [e, p] : best_assignment(m)) pairs.emplace_back(exp_idx[e], m[e][p]);
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  r.name_matches = r.matched_calls = static_cast<int64_t>(pairs.size());
  for (const auto& [e, p] : pairs) {
    r.exact_arguments += p.exact;
    r.expected_arguments += p.expected_arguments;
    r.correct_arguments += p.correct_arguments;
  }

  // The verdict: the first problem in the order a reader would look for it.
  auto verdict = [&]() -> std::string {
    if (!turn.predicted.valid) return "unparsable output: " + clip(turn.predicted.error, 120);
    if (!r.call_turn) {
      if (calls.empty()) return {};
      std::string names;
      for (const ToolCall& c : calls) names += (names.empty() ? "" : ", ") + c.name;
      return str("called ", names, " but the turn needs no tool call");
    }
    for (const ToolCall& c : calls) {
      if (!offered.count(c.name)) return str("unknown function '", c.name, "'");
    }
    if (calls.size() != turn.expected.size()) {
      return str(calls_phrase(r.expected_calls), " expected, got ", r.predicted_calls);
    }
    if (!first_unmatched_expected.empty()) {
      return str("expected a call to ", first_unmatched_expected, ", got ",
                 first_unmatched_predicted);
    }
    for (const auto& [e, p] : pairs) {
      if (!p.pass) return p.reason;
    }
    return {};
  };
  r.reason = verdict();
  r.ast_pass = r.reason.empty();
  return r;
}

ToolCallMetrics::ToolCallMetrics(int max_errors) : max_errors_(max_errors) {
  TSFT_CHECK(max_errors >= 0);
}

TurnResult ToolCallMetrics::add(const ToolCallTurn& turn) {
  TurnResult r = check_turn(turn);
  ToolCallReport& s = sums_;
  ++s.turns;
  (r.call_turn ? s.call_turns : s.no_call_turns) += 1;
  s.expected_calls += r.expected_calls;
  s.predicted_calls += r.predicted_calls;
  name_matches_ += r.name_matches;
  arguments_parsed_ += r.arguments_parsed;
  matched_calls_ += r.matched_calls;
  exact_arguments_ += r.exact_arguments;
  expected_arguments_ += r.expected_arguments;
  correct_arguments_ += r.correct_arguments;
  if (r.call_turn) {
    ast_passes_ += r.ast_pass;
    if (r.expected_calls == 1) {
      ++s.single_call_turns;
      single_ast_passes_ += r.ast_pass;
    }
    missed_ += r.predicted_calls == 0;
  } else {
    hallucinated_ += r.predicted_calls > 0;
  }
  parse_errors_ += !turn.predicted.valid;
  if (turn.call_probability >= 0.0)
    s.gate_turns.push_back({turn.call_probability, r.call_turn,
                            r.call_turn && r.expected_calls == 1, r.predicted_calls > 0,
                            r.ast_pass});

  if (!r.ast_pass && static_cast<int>(s.errors.size()) < max_errors_) {
    Json expected = Json::array();
    for (const ExpectedCall& c : turn.expected) {
      expected.push_back({{"name", c.name}, {"arguments", c.arguments}});
    }
    s.errors.push_back({turn.prompt, r.call_turn ? expected.dump() : "(no tool call)",
                        turn.raw_output.empty() ? to_openai_json(turn.predicted) : turn.raw_output,
                        r.reason});
  }
  return r;
}

ToolCallReport ToolCallMetrics::report() const {
  ToolCallReport r = sums_;
  r.name_precision = ratio(name_matches_, r.predicted_calls);
  r.name_recall = ratio(name_matches_, r.expected_calls);
  r.name_f1 = ratio(2 * name_matches_, r.predicted_calls + r.expected_calls);
  r.arguments_parse_rate = ratio(arguments_parsed_, r.predicted_calls);
  r.arguments_exact_match = ratio(exact_arguments_, matched_calls_);
  r.argument_accuracy = ratio(correct_arguments_, expected_arguments_);
  r.ast_accuracy = ratio(ast_passes_, r.call_turns);
  r.ast_accuracy_single = ratio(single_ast_passes_, r.single_call_turns);
  r.hallucinated_call_rate = ratio(hallucinated_, r.no_call_turns);
  r.missed_call_rate = ratio(missed_, r.call_turns);
  r.output_parse_error_rate = ratio(parse_errors_, r.turns);
  return r;
}

nlohmann::ordered_json to_json(const ToolCallReport& r) {
  Json j;
  j["turns"] = r.turns;
  j["call_turns"] = r.call_turns;
  j["no_call_turns"] = r.no_call_turns;
  j["single_call_turns"] = r.single_call_turns;
  j["expected_calls"] = r.expected_calls;
  j["predicted_calls"] = r.predicted_calls;
  j["name_precision"] = or_null(r.name_precision);
  j["name_recall"] = or_null(r.name_recall);
  j["name_f1"] = or_null(r.name_f1);
  j["arguments_parse_rate"] = or_null(r.arguments_parse_rate);
  j["arguments_exact_match"] = or_null(r.arguments_exact_match);
  j["argument_accuracy"] = or_null(r.argument_accuracy);
  j["ast_accuracy"] = or_null(r.ast_accuracy);
  j["ast_accuracy_single"] = or_null(r.ast_accuracy_single);
  j["hallucinated_call_rate"] = or_null(r.hallucinated_call_rate);
  j["missed_call_rate"] = or_null(r.missed_call_rate);
  j["output_parse_error_rate"] = or_null(r.output_parse_error_rate);
  Json errors = Json::array();
  for (const ToolCallReport::Error& e : r.errors) {
    errors.push_back(
        {{"prompt", e.prompt}, {"expected", e.expected}, {"got", e.got}, {"reason", e.reason}});
  }
  j["errors"] = std::move(errors);
  return j;
}

}  // namespace tsft
