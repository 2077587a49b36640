// Synthetic data generators: determinism by seed, balanced classes, the duplicate bound, exact
// kind shares, every call valid against its schema and recoverable from the request, user tools
// files (with and without templates, and broken ones), and rows the SFT loader accepts.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <set>

#include "chat/chat_format.h"
#include "chat/chat_template.h"
#include "chat/json_schema.h"
#include "core/error.h"
#include "data/gen_tool_calling.h"
#include "data/gen_tool_selection.h"
#include "data/gen_values.h"
#include "data/sft_dataset.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kUserTools = kData + "/gen/user_tools.json";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string bytes(const std::vector<ordered_json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tsft_gen_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The request inside a prompt/completion row ("...\nRequest: X\nTool:").
std::string request_of(const ordered_json& row) {
  const std::string p = row["prompt"].get<std::string>();
  const size_t a = p.find("\nRequest: ") + 10, b = p.rfind("\nTool:");
  return p.substr(a, b - a);
}

// Options for n tool-calling rows all of one kind.
ToolCallingOptions only_kind(CallKind kind, int64_t n) {
  ToolCallingOptions opt;
  opt.n = n;
  for (double& share : opt.shares) share = 0;
  opt.shares[static_cast<int>(kind)] = 1;
  return opt;
}

// single / distractors / no_call / parallel / multi_turn / ask_first / follow_up, read from the
// row's shape.
std::string kind_of(const ordered_json& row) {
  const ordered_json& m = row["messages"];
  int call_turns = 0;
  for (const auto& msg : m) call_turns += msg.contains("tool_calls");
  if (m.size() > 2 && !m[1].contains("tool_calls")) return "ask_first";
  if (call_turns == 2) return "follow_up";
  for (const auto& msg : m)
    if (msg["role"] == "tool") return "multi_turn";
  if (!m[1].contains("tool_calls")) return "no_call";
  if (m[1]["tool_calls"].size() == 2) return "parallel";
  return row["tools"].size() == 1 ? "single" : "distractors";
}

const ordered_json* offered_schema(const ordered_json& row, const std::string& name) {
  for (const auto& t : row["tools"])
    if (t["function"]["name"] == name) {
      EXPECT_TRUE(t["function"].contains("parameters")) << name;
      return t["function"].contains("parameters") ? &t["function"]["parameters"] : nullptr;
    }
  return nullptr;
}

const Tokenizer& smollm2() {
  static const Tokenizer t = Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json");
  return t;
}

// ---------------------------------------------------------------------------------------------

TEST(GenTools, BuiltinsAreTheShippedConfigFile) {
  const ordered_json shipped =
      ordered_json::parse(read(kData + "/../../configs/tools/default_tools.json"));
  EXPECT_EQ(shipped, ordered_json::parse(builtin_tools_json()));
  const auto& tools = builtin_gen_tools();
  std::vector<std::string> names;
  for (const auto& t : tools) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"calculator", "get_weather", "set_reminder",
                                             "search_web", "translate_text", "send_email"}));
  for (const auto& t : tools) {
    EXPECT_GE(t.examples.size(), 12u) << t.name;
    EXPECT_GE(t.hard_examples.size(), 4u) << t.name;
    EXPECT_EQ(t.tool.dump().find("x-toolsft"), std::string::npos) << t.name;  // stripped
    EXPECT_TRUE(check_schema(t.parameters, t.name).empty()) << t.name;
  }
  EXPECT_EQ(tools[1].phrase, "get the current weather or a forecast for a city");
}

TEST(GenValues, ArithmeticEvaluator) {
  EXPECT_EQ(eval_arithmetic("(3 + 4) * 2"), 14.0);
  EXPECT_EQ(eval_arithmetic("sqrt(144) / 4"), 3.0);
  EXPECT_EQ(eval_arithmetic("2 ^ 3 ^ 2"), 512.0);  // right-associative
  EXPECT_EQ(eval_arithmetic("10 - 4 - 3"), 3.0);   // left-associative
  EXPECT_EQ(eval_arithmetic("-2 * 3.5"), -7.0);
  EXPECT_EQ(eval_arithmetic("1 / 0"), std::nullopt);
  EXPECT_EQ(eval_arithmetic("2 +"), std::nullopt);
  EXPECT_EQ(eval_arithmetic("two"), std::nullopt);
  EXPECT_EQ(format_number(1.5, 4), "1.5");
  EXPECT_EQ(format_number(2.0 / 3.0, 4), "0.6667");
  EXPECT_EQ(format_number(-7.0, 4), "-7");
}

TEST(GenValues, DrawnValuesFitTheirSchemas) {
  const char* schemas[] = {
      R"({"type": "integer", "minimum": -3, "maximum": 3})",
      R"({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})",
      R"({"type": "string", "minLength": 12, "maxLength": 40})",
      R"({"type": "string", "format": "date"})",
      R"({"type": "string", "format": "date-time"})",
      R"({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"})",
      R"({"type": ["string", "null"], "enum": ["a", "b", null]})",
      R"({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9},
          "minItems": 2, "maxItems": 4, "uniqueItems": true})",
      R"({"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 5, "maximum": 6}]})",
      R"({"type": "object", "properties": {"a": {"type": "string"},
          "b": {"type": "object", "properties": {"c": {"type": "number"}}, "required": ["c"]}},
          "required": ["b"], "additionalProperties": false})",
      R"({"type": "string", "x-toolsft-values": ["only", "these"]})",
      // Draft 4 exclusive flags, and allOf that drawing does not read (redrawn until it fits).
      R"({"type": "number", "minimum": 0, "maximum": 1, "exclusiveMinimum": true,
          "exclusiveMaximum": true})",
      R"({"type": "integer", "minimum": 0, "maximum": 20, "allOf": [{"minimum": 3}]})",
  };
  Rng rng(7);
  for (const char* text : schemas) {
    const ordered_json s = ordered_json::parse(text);
    for (int i = 0; i < 200; ++i) {
      const ordered_json v = draw_value(s, "value", rng, "test");
      const auto problems = validate_json(v, s, "");
      ASSERT_TRUE(problems.empty()) << text << " drew " << v.dump() << ": " << problems[0].message;
    }
  }
  // A schema no draw can meet is a clear error, not a hang or an invalid call.
  EXPECT_THROW(draw_value(ordered_json::parse(
                              R"({"type": "integer", "maximum": 5, "allOf": [{"minimum": 10}]})"),
                          "x", rng, "tools.json: f.x"),
               Error);
  EXPECT_THROW(draw_value(ordered_json::parse(R"({"type": "string", "pattern": "^Z{9}$"})"), "x",
                          rng, "tools.json: f.x"),
               Error);
}

TEST(GenTools, NoiseNeverTouchesValues) {
  const std::vector<TextPiece> pieces = {
      {"Hello, World. Weather in ", false}, {"New York", true}, {"?", false}};
  Rng rng(1);
  NoiseOptions all{1.0, 1.0, 0.0};
  EXPECT_EQ(noisy_text(pieces, all, rng, false), "hello world weather in New York");
  EXPECT_EQ(noisy_text(pieces, all, rng, true), "hello world weather in new york");
  EXPECT_EQ(noisy_text(pieces, NoiseOptions{0, 0, 0}, rng, false),
            "Hello, World. Weather in New York?");
  // A typo changes the text pieces by one letter (dropped, doubled or swapped), never the value.
  for (int i = 0; i < 50; ++i) {
    const std::string t = noisy_text(pieces, NoiseOptions{0, 0, 1.0}, rng, false);
    EXPECT_NE(t, "Hello, World. Weather in New York?");
    EXPECT_NE(t.find("New York?"), std::string::npos) << t;
    const long diff = static_cast<long>(t.size()) - 34;
    EXPECT_LE(std::labs(diff), 2) << t;
  }
}

// Tool selection ------------------------------------------------------------------------------

TEST(GenToolSelection, SameSeedSameBytesOtherSeedOtherBytes) {
  ToolSelectionOptions opt;
  opt.n = 300;
  opt.seed = 11;
  const std::string a = bytes(generate_tool_selection(builtin_gen_tools(), opt, nullptr));
  EXPECT_EQ(a, bytes(generate_tool_selection(builtin_gen_tools(), opt, nullptr)));
  opt.seed = 12;
  EXPECT_NE(a, bytes(generate_tool_selection(builtin_gen_tools(), opt, nullptr)));
}

TEST(GenToolSelection, BalancedClassesPromptLayoutAndAnswers) {
  ToolSelectionOptions opt;
  opt.n = 1000;  // 1000 = 6 * 166 + 4: the first four tools get one row more
  GenStats st;
  const auto rows = generate_tool_selection(builtin_gen_tools(), opt, &st);
  ASSERT_EQ(rows.size(), 1000u);
  const std::map<std::string, int64_t> want = {{"calculator", 167},     {"get_weather", 167},
                                               {"set_reminder", 167},   {"search_web", 167},
                                               {"translate_text", 166}, {"send_email", 166}};
  EXPECT_EQ(st.per_class, want);
  std::map<std::string, int64_t> seen;
  const std::vector<std::string> names = {"calculator", "get_weather",    "set_reminder",
                                          "search_web", "translate_text", "send_email"};
  for (const auto& r : rows) {
    const std::string c = r["completion"].get<std::string>();
    ASSERT_EQ(c[0], ' ');
    ++seen[c.substr(1)];
    EXPECT_EQ(r["prompt"], tool_selection_prompt(names, request_of(r)));
  }
  EXPECT_EQ(seen, want);
  EXPECT_EQ(tool_selection_prompt({"a", "b"}, "hi"),
            "Choose the one tool that handles the request.\nTools: a, b\nRequest: hi\nTool:");
  // The classes are shuffled, not in blocks: the first 12 rows are not one tool.
  std::set<std::string> first;
  for (int i = 0; i < 12; ++i) first.insert(rows[i]["completion"].get<std::string>());
  EXPECT_GT(first.size(), 2u);
}

TEST(GenToolSelection, ChatFormatAndSentinel) {
  ToolSelectionOptions opt;
  opt.n = 12;
  opt.format = ToolSelectionOptions::Format::kChat;
  opt.sentinel = "<tool>";
  for (const auto& r : generate_tool_selection(builtin_gen_tools(), opt, nullptr)) {
    ASSERT_EQ(r["messages"].size(), 3u);
    EXPECT_EQ(r["messages"][0]["role"], "system");
    EXPECT_EQ(r["messages"][0]["content"],
              "Choose the one tool that handles the user's request. Tools: calculator, "
              "get_weather, set_reminder, search_web, translate_text, send_email. Answer with "
              "the tool's name only.");
    EXPECT_EQ(r["messages"][2]["content"].get<std::string>().rfind("<tool>", 0), 0u);
  }
  EXPECT_EQ(tool_selection_answer("calculator", "", false), " calculator");
  EXPECT_EQ(tool_selection_answer("calculator", "", true), "calculator");
  EXPECT_EQ(tool_selection_answer("calculator", "<tool>", false), "<tool>calculator");
}

// The stated bound: at most 2% duplicate requests at n = 10000 with the built-in tools, counted
// here from the rows themselves. Without the retries (retries = 0) the raw draws repeat more,
// which shows the retries are what hold the bound.
TEST(GenToolSelection, DuplicateRequestsAtMostTwoPercent) {
  ToolSelectionOptions opt;
  opt.n = 10000;
  opt.seed = 5;
  GenStats st;
  const auto rows = generate_tool_selection(builtin_gen_tools(), opt, &st);
  std::set<std::string> seen;
  int64_t dups = 0;
  for (const auto& r : rows) dups += seen.insert(request_of(r)).second ? 0 : 1;
  EXPECT_EQ(dups, st.duplicates);
  EXPECT_LE(dups, 200);
  opt.retries = 0;
  GenStats raw;
  generate_tool_selection(builtin_gen_tools(), opt, &raw);
  EXPECT_GT(raw.duplicates, dups);
  std::printf("duplicates at n=10000: %lld with retries, %lld without\n",
              static_cast<long long>(dups), static_cast<long long>(raw.duplicates));
}

TEST(GenToolSelection, HardNegativesPointAtOtherTools) {
  ToolSelectionOptions opt;
  opt.n = 3000;
  opt.hard_share = 0.1;
  GenStats st;
  const auto rows = generate_tool_selection(builtin_gen_tools(), opt, &st);
  EXPECT_GE(st.hard, 240);  // 10% of 3000 = 300, binomial sd about 16
  EXPECT_LE(st.hard, 360);
  int essay = 0;
  for (const auto& r : rows)
    if (request_of(r).find("weather formula for my calculator essay") != std::string::npos) {
      EXPECT_EQ(r["completion"], " search_web");
      ++essay;
    }
  EXPECT_GT(essay, 0);
  opt.hard_share = 0;
  GenStats none;
  generate_tool_selection(builtin_gen_tools(), opt, &none);
  EXPECT_EQ(none.hard, 0);
}

// Tool calling --------------------------------------------------------------------------------

TEST(GenToolCalling, KindCountsAreExact) {
  const double half[kCallKinds] = {0.5, 0.5, 0, 0, 0, 0, 0};
  EXPECT_EQ(call_kind_counts(half, 3), (std::vector<int64_t>{2, 1, 0, 0, 0, 0, 0}));
  const double def[kCallKinds] = {0.15, 0.2, 0.15, 0.1, 0.15, 0.1, 0.15};
  // 1.05, 1.4, 1.05, 0.7, 1.05, 0.7, 1.05 -> floors 1, 1, 1, 0, 1, 0, 1; the two left go to the
  // largest fractions, .7 (parallel) and .7 (ask-first), the earlier first.
  EXPECT_EQ(call_kind_counts(def, 7), (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(call_kind_counts(def, 8), (std::vector<int64_t>{1, 2, 1, 1, 1, 1, 1}));
  EXPECT_EQ(call_kind_counts(def, 1000),
            (std::vector<int64_t>{150, 200, 150, 100, 150, 100, 150}));
  const double bad[kCallKinds] = {0.5, 0.6, 0, 0, 0, 0, 0};
  EXPECT_THROW(call_kind_counts(bad, 10), Error);
  const double neg[kCallKinds] = {1.5, -0.5, 0, 0, 0, 0, 0};
  EXPECT_THROW(call_kind_counts(neg, 10), Error);
}

TEST(GenToolCalling, SameSeedSameBytesOtherSeedOtherBytes) {
  ToolCallingOptions opt;
  opt.n = 200;
  opt.seed = 3;
  const std::string a = bytes(generate_tool_calling(builtin_gen_tools(), opt, nullptr));
  EXPECT_EQ(a, bytes(generate_tool_calling(builtin_gen_tools(), opt, nullptr)));
  opt.seed = 4;
  EXPECT_NE(a, bytes(generate_tool_calling(builtin_gen_tools(), opt, nullptr)));
}

// "540 / 6.5" -> {"540", "6.5"}.
std::vector<std::string> numbers_in(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j == i ? i + 1 : j;
  }
  return out;
}

// An arithmetic expression with at least one number (the calculator's word problems).
bool is_word_problem_expression(const std::string& s) {
  std::string rest = s;
  for (size_t at; (at = rest.find("sqrt")) != std::string::npos;) rest.erase(at, 4);
  return !numbers_in(s).empty() &&
         rest.find_first_not_of("0123456789. +-*/^()") == std::string::npos;
}

// The numbers written in the built-in templates' formulas ("#c * 9 / 5 + 32": 9, 5, 32).
const std::set<std::string>& formula_constants() {
  static const std::set<std::string> out = [] {
    std::set<std::string> c;
    for (const auto& tool : builtin_gen_tools())
      for (const auto* list : {&tool.examples, &tool.hard_examples})
        for (const auto& t : *list)
          for (const auto& part : t.parts) {
            std::string f = part.derived;
            for (size_t i = 0; i < f.size(); ++i)  // drop the #names, which may hold digits
              if (f[i] == '#')
                while (i + 1 < f.size() && std::isalnum(static_cast<unsigned char>(f[i + 1])))
                  f[++i] = ' ';
            for (const auto& n : numbers_in(f)) c.insert(n);
          }
    return c;
  }();
  return out;
}

// Every leaf of the arguments can be read back from the request: strings verbatim (dates also
// as "March 14, 2026"), numbers as written; booleans come from words the template says.
void expect_recoverable(const ordered_json& v, const ordered_json& schema, const std::string& text,
                        const std::string& where) {
  static const char* kMonths[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
  if (v.is_object()) {
    for (const auto& [k, sub] : v.items())
      expect_recoverable(sub, schema["properties"][k], text, where + "." + k);
  } else if (v.is_array()) {
    for (const auto& sub : v) expect_recoverable(sub, schema["items"], text, where + "[]");
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (text.find(s) != std::string::npos) return;
    const std::string format = schema.value("format", std::string());
    if (format.empty() && is_word_problem_expression(s)) {
      // A word problem's expression is built from numbers the request names, and constants of
      // its template's formula (" * 9 / 5 + 32"): at least one number of the request, and
      // every other number a formula constant.
      int from_text = 0;
      for (const auto& n : numbers_in(s)) {
        if (text.find(n) != std::string::npos)
          ++from_text;
        else
          EXPECT_TRUE(formula_constants().count(n)) << where << " " << n << " of " << s << " in "
                                                    << text;
      }
      EXPECT_GE(from_text, 1) << where << " " << s << " in " << text;
      EXPECT_TRUE(eval_arithmetic(s).has_value()) << where << " " << s;
      return;
    }
    ASSERT_TRUE(format == "date" || format == "date-time") << where << " " << s << " in " << text;
    const std::string human = str(kMonths[std::stoi(s.substr(5, 2)) - 1], " ",
                                  std::stoi(s.substr(8, 2)), ", ", s.substr(0, 4));
    EXPECT_NE(text.find(human), std::string::npos) << where << " " << s << " in " << text;
  } else if (v.is_number()) {
    const std::string n = v.is_number_float() ? format_number(v.get<double>(), 6) : v.dump();
    EXPECT_NE(text.find(n), std::string::npos) << where << " " << n << " in " << text;
  }
}

// Checks one call turn: ids, offered names, arguments that validate and can be read back from
// what the user has said so far.
void check_calls(const ordered_json& r, const ordered_json& turn, const std::string& said,
                 std::map<std::string, std::set<std::string>>* args,
                 std::set<std::string>* types) {
  std::set<std::string> ids;
  for (const auto& call : turn["tool_calls"]) {
    EXPECT_EQ(call["type"], "function");
    EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
    ids.insert(call["id"].get<std::string>());
    const std::string name = call["function"]["name"].get<std::string>();
    const ordered_json* schema = offered_schema(r, name);
    EXPECT_NE(schema, nullptr) << name << " is called but not offered";
    if (!schema) continue;
    const ordered_json& a = call["function"]["arguments"];
    EXPECT_TRUE(a.is_object());
    const auto problems = validate_json(a, *schema, "arguments");
    EXPECT_TRUE(problems.empty()) << name << ": " << problems[0].path << ": "
                                  << problems[0].message;
    expect_recoverable(a, *schema, said, name);
    for (const auto& [k, v] : a.items()) {
      (*args)[name].insert(k);
      types->insert(v.type_name());
      if (v.is_object())
        for (const auto& [k2, v2] : v.items()) {
          (*args)[name].insert(k + "." + k2);
          types->insert(v2.type_name());
          if (v2.is_number_float()) types->insert("float");
          if (v2.is_number_integer()) types->insert("integer");
        }
      if (v.is_number_float()) types->insert("float");
      if (v.is_number_integer()) types->insert("integer");
    }
  }
  EXPECT_EQ(ids.size(), turn["tool_calls"].size()) << "call ids must differ";
}

// Checks one row's structure and calls; returns its kind. Every kind's turns, in order:
//   no_call: user, answer                 single / distractors / parallel: user, call
//   multi_turn: user, call, tool, answer  ask_first: user, question, user, call, tool, answer
//   follow_up: user, call, tool, answer, user, call, tool, answer
std::string check_row(const ordered_json& r, std::map<std::string, std::set<std::string>>* args,
                      std::set<std::string>* types) {
  const ordered_json& m = r["messages"];
  const std::string kind = kind_of(r);
  static const std::map<std::string, std::string> kShape = {
      {"no_call", "ua"},       {"single", "uc"},        {"distractors", "uc"},
      {"parallel", "uc"},      {"multi_turn", "ucta"},  {"ask_first", "uaucta"},
      {"follow_up", "uctaucta"}};
  std::string shape;
  for (const auto& msg : m)
    shape += msg["role"] == "user" ? 'u' : msg["role"] == "tool" ? 't'
             : msg.contains("tool_calls")                         ? 'c'
                                                                  : 'a';
  EXPECT_EQ(shape, kShape.at(kind)) << r.dump();
  if (shape != kShape.at(kind)) return kind;
  std::string said;  // what the user has written so far
  for (size_t i = 0; i < m.size(); ++i) {
    const ordered_json& msg = m[i];
    if (msg["role"] == "user") said += msg["content"].get<std::string>() + "\n";
    if (msg["role"] == "assistant" && !msg.contains("tool_calls")) {
      EXPECT_FALSE(msg["content"].get<std::string>().empty());
    }
    if (msg.contains("tool_calls")) check_calls(r, msg, said, args, types);
    if (msg["role"] == "tool") {
      EXPECT_EQ(msg["tool_call_id"], m[i - 1]["tool_calls"][0]["id"]);
      EXPECT_TRUE(ordered_json::accept(msg["content"].get<std::string>()));
    }
  }
  if (kind == "ask_first") {
    // The first request names no value of the call (a short one may occur by chance: "do f"
    // and the value "f"), and the assistant's turn asks for them.
    const ordered_json& a = m[3]["tool_calls"][0]["function"]["arguments"];
    const std::string first = m[0]["content"].get<std::string>();
    for (const auto& [k, v] : a.items())
      if (v.is_string() && v.get<std::string>().size() >= 4) {
        EXPECT_EQ(first.find(v.get<std::string>()), std::string::npos) << first;
      }
    const std::string q = m[1]["content"].get<std::string>();
    EXPECT_TRUE(q.find('?') != std::string::npos || q.find("need") != std::string::npos ||
                q.find("give me") != std::string::npos)
        << q;
  }
  return kind;
}

TEST(GenToolCalling, EveryCallValidatesAndEveryToolAndTypeIsCovered) {
  ToolCallingOptions opt;
  opt.n = 3000;
  opt.seed = 9;
  GenStats st;
  const auto rows = generate_tool_calling(builtin_gen_tools(), opt, &st);
  std::map<std::string, int64_t> kinds;
  std::map<std::string, std::set<std::string>> args;
  std::set<std::string> types;
  for (const auto& r : rows) ++kinds[check_row(r, &args, &types)];
  const std::map<std::string, int64_t> want = {
      {"single", 450},   {"distractors", 600}, {"no_call", 450},  {"parallel", 300},
      {"multi_turn", 450}, {"ask_first", 300}, {"follow_up", 450}};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(st.per_class, want);
  // Every parameter of every built-in tool, nested ones included, appears in some call.
  for (const auto& t : builtin_gen_tools()) {
    std::set<std::string> all;
    for (const auto& [k, v] : t.parameters["properties"].items()) {
      all.insert(k);
      if (v.contains("properties"))
        for (const auto& [k2, v2] : v["properties"].items()) all.insert(k + "." + k2);
    }
    EXPECT_EQ(args[t.name], all) << t.name;
  }
  EXPECT_EQ(types, (std::set<std::string>{"string", "number", "integer", "float", "boolean",
                                          "array", "object"}));
}

TEST(GenToolCalling, MultiTurnAnswersUseTheResult) {
  const ToolCallingOptions opt = only_kind(CallKind::kMultiTurn, 600);
  std::set<std::string> tools_seen;
  for (const auto& r : generate_tool_calling(builtin_gen_tools(), opt, nullptr)) {
    const ordered_json& m = r["messages"];
    ASSERT_EQ(m.size(), 4u);
    const ordered_json result = ordered_json::parse(m[2]["content"].get<std::string>());
    const std::string answer = m[3]["content"].get<std::string>();
    const std::string name = m[1]["tool_calls"][0]["function"]["name"].get<std::string>();
    const ordered_json& a = m[1]["tool_calls"][0]["function"]["arguments"];
    tools_seen.insert(name);
    if (name == "calculator") {
      const double want = *eval_arithmetic(a["expression"].get<std::string>());
      const int precision = a.contains("precision") ? a["precision"].get<int>() : 4;
      EXPECT_NEAR(result["result"].get<double>(), want, 0.5 * std::pow(10.0, -precision) + 1e-9);
    } else if (name == "translate_text") {
      EXPECT_NE(answer.find(result["translation"].get<std::string>()), std::string::npos);
    } else if (name == "get_weather") {
      EXPECT_NE(answer.find(std::to_string(result["temperature"].get<int>())), std::string::npos);
      EXPECT_NE(answer.find(a["city"].get<std::string>()), std::string::npos);
    } else if (name == "send_email") {
      EXPECT_NE(answer.find(result["message_id"].get<std::string>()), std::string::npos);
    } else if (name == "search_web") {
      EXPECT_NE(answer.find(result["results"][0]["url"].get<std::string>()), std::string::npos);
    } else if (name == "set_reminder") {
      EXPECT_NE(answer.find(a["task"].get<std::string>()), std::string::npos);
    }
  }
  EXPECT_EQ(tools_seen.size(), 6u);
}

TEST(GenToolCalling, DistractorRowsOfferSeveralToolsUpToTheLimit) {
  ToolCallingOptions opt;
  opt.n = 500;
  opt.max_offered = 3;
  size_t most = 0;
  for (const auto& r : generate_tool_calling(builtin_gen_tools(), opt, nullptr)) {
    const std::string kind = kind_of(r);
    most = std::max(most, r["tools"].size());
    if (kind == "distractors") {
      EXPECT_GE(r["tools"].size(), 2u);
    }
    if (kind == "parallel" && r["messages"][1]["tool_calls"][0]["function"]["name"] !=
                                  r["messages"][1]["tool_calls"][1]["function"]["name"]) {
      EXPECT_GE(r["tools"].size(), 2u);
    }
  }
  EXPECT_EQ(most, 3u);
}

// User tools files -----------------------------------------------------------------------------

TEST(GenUserTools, TemplatesAndSchemaOnlyToolsBothWork) {
  const auto tools = load_gen_tools(kUserTools);
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0].examples.size(), 3u);
  EXPECT_TRUE(tools[1].examples.empty());  // convert_currency: requests from the schema
  EXPECT_EQ(tools[1].phrase, "convert an amount of money from one currency to another");
  EXPECT_EQ(tools[2].parameters["type"], "object");  // ping: no parameters at all
  // x-toolsft-values guide drawing but are not shown to the model.
  EXPECT_EQ(tools[0].tool.dump().find("x-toolsft"), std::string::npos);

  ToolCallingOptions opt;
  opt.n = 400;
  std::map<std::string, std::set<std::string>> args;
  std::set<std::string> types;
  int schema_only = 0;
  for (const auto& r : generate_tool_calling(tools, opt, nullptr)) {
    check_row(r, &args, &types);
    if (r["messages"][0]["content"].get<std::string>().find(
            "convert an amount of money from one currency to another") != std::string::npos)
      ++schema_only;
  }
  EXPECT_GT(schema_only, 20);
  EXPECT_TRUE(args["convert_currency"].count("account.id"));
  EXPECT_TRUE(args["book_table"].count("outdoor"));  // from the {outdoor=true} template

  ToolSelectionOptions sel;
  sel.n = 90;
  GenStats st;
  generate_tool_selection(tools, sel, &st);
  EXPECT_EQ(st.per_class, (std::map<std::string, int64_t>{
                              {"book_table", 30}, {"convert_currency", 30}, {"ping", 30}}));
}

// Glaive-like tools without examples: the ask-first rows ask for the required values in words
// the schema gives and the user's answer holds every argument; follow-up rows call again from
// the second request alone; schema-only requests also read as a person writes them.
TEST(GenUserTools, AskFirstFollowUpAndSpokenRequests) {
  const std::string path = write_temp("spoken.json", R"([
    {"name": "search_recipes", "description": "Search for recipes by ingredients",
     "parameters": {"type": "object", "properties": {
       "ingredients": {"type": "array", "items": {"type": "string"},
                       "description": "The ingredients to include"},
       "cuisine": {"type": "string", "description": "The cuisine"}},
       "required": ["ingredients"]}},
    {"name": "buy_product", "description": "Buy a product",
     "parameters": {"type": "object", "properties": {
       "product_name": {"type": "string"}, "product_id": {"type": "string"},
       "quantity": {"type": "integer", "minimum": 1, "maximum": 9}},
       "required": ["product_name", "product_id", "quantity"]}},
    {"name": "get_time", "description": "Get the current time",
     "parameters": {"type": "object", "properties": {}}}])");
  const auto tools = load_gen_tools(path);
  std::filesystem::remove(path);
  EXPECT_EQ(field_words("ingredients", tools[0].parameters["properties"]["ingredients"]),
            "ingredients to include");
  EXPECT_EQ(field_words("product_name", tools[1].parameters["properties"]["product_name"]),
            "product name");

  ToolCallingOptions opt;
  opt.n = 600;
  opt.seed = 5;
  std::map<std::string, std::set<std::string>> args;
  std::set<std::string> types;
  std::map<std::string, int> kinds;
  int spoken = 0;
  std::set<std::string> foods, products, ids;
  for (const auto& r : generate_tool_calling(tools, opt, nullptr)) {
    const std::string kind = check_row(r, &args, &types);
    ++kinds[kind];
    const ordered_json& m = r["messages"];
    for (const auto& msg : m)
      if (msg.contains("tool_calls"))
        for (const auto& c : msg["tool_calls"]) {
          const ordered_json& a = c["function"]["arguments"];
          if (a.contains("ingredients"))
            for (const auto& i : a["ingredients"]) foods.insert(i.get<std::string>());
          if (a.contains("product_name")) products.insert(a["product_name"].get<std::string>());
          if (a.contains("product_id")) ids.insert(a["product_id"].get<std::string>());
        }
    if (kind == "ask_first") {
      const ordered_json& call = m[3]["tool_calls"][0]["function"];
      EXPECT_NE(call["name"], "get_time") << "nothing to ask for";
      const std::string q = m[1]["content"].get<std::string>();
      if (call["name"] == "search_recipes") {
        EXPECT_NE(q.find("the ingredients to include"), std::string::npos) << q;
      } else {
        EXPECT_NE(q.find("the product name, product id and quantity"), std::string::npos) << q;
      }
      // Every value comes from the user's answer, not the first request.
      for (const auto& [k, v] : call["arguments"].items())
        expect_recoverable(v, tools[0].name == call["name"]
                                  ? tools[0].parameters["properties"][k]
                                  : tools[1].parameters["properties"][k],
                           m[2]["content"].get<std::string>(), k);
    }
    if (kind == "follow_up") {
      const ordered_json& call = m[5]["tool_calls"][0]["function"];
      const ordered_json* schema = offered_schema(r, call["name"].get<std::string>());
      ASSERT_NE(schema, nullptr);
      expect_recoverable(call["arguments"], *schema, m[4]["content"].get<std::string>(),
                         "second call");
    }
    const std::string first = m[0]["content"].get<std::string>();
    if (first.find(" is ") != std::string::npos || first.find(" are ") != std::string::npos ||
        first.find("Use ") != std::string::npos)
      ++spoken;
  }
  EXPECT_GT(kinds["ask_first"], 40);
  EXPECT_GT(kinds["follow_up"], 60);
  EXPECT_GT(spoken, 60) << "schema-only requests said as sentences";
  // Values that fit the field: foods for ingredients, products for a product's name, and an
  // identifier (not a product) for its id.
  for (const char* f : {"chicken", "rice", "garlic"}) EXPECT_TRUE(foods.count(f)) << f;
  EXPECT_TRUE(products.count("coffee maker"));
  for (const auto& id : ids) EXPECT_NE(id.find('-'), std::string::npos) << id;
}

// A tool's phrase reads after "Can you ...": third-person and noun-phrase descriptions are made
// verb phrases.
TEST(GenUserTools, PhrasesAreVerbPhrases) {
  const auto tools = parse_gen_tools(ordered_json::parse(R"([
    {"name": "get_weather", "description": "Returns the weather for a city. Uses an API."},
    {"name": "find_items", "description": "Searches the catalogue"},
    {"name": "calculate_financing", "description": "Monthly payment for a car loan"},
    {"name": "weather", "description": "Weather for a city"},
    {"name": "book_table", "description": "Book a table"},
    {"name": "url_info", "description": "URL details"}])"),
                                     "phrases");
  EXPECT_EQ(tools[0].phrase, "return the weather for a city");
  EXPECT_EQ(tools[1].phrase, "search the catalogue");
  EXPECT_EQ(tools[2].phrase, "calculate monthly payment for a car loan");
  EXPECT_EQ(tools[3].phrase, "weather for a city");  // no verb anywhere: as written
  EXPECT_EQ(tools[4].phrase, "book a table");
  EXPECT_EQ(tools[5].phrase, "URL details");
}

// A templated tool whose pattern no pool fits (its templates give the value) cannot be asked
// for from its schema alone: ask-first rows use the other tools, or become single calls.
TEST(GenUserTools, AskFirstSkipsToolsOnlyTheirTemplatesCanFill) {
  const std::string path = write_temp("sku.json", R"([
    {"name": "lookup", "description": "Look up an item",
     "parameters": {"type": "object", "properties": {
       "sku": {"type": "string", "pattern": "^SKU-[0-9]{6}$"}}, "required": ["sku"]},
     "x-toolsft-examples": ["Look up {sku=\"SKU-123456\"}"]},
    {"name": "weather", "description": "Get the weather",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"]}}])");
  const auto tools = load_gen_tools(path);
  std::filesystem::remove(path);
  const ToolCallingOptions opt = only_kind(CallKind::kAskFirst, 50);
  GenStats st;
  for (const auto& r : generate_tool_calling(tools, opt, &st))
    EXPECT_EQ(r["messages"][3]["tool_calls"][0]["function"]["name"], "weather");
  EXPECT_EQ(st.per_class, (std::map<std::string, int64_t>{{"ask_first", 50}}));
  const std::vector<GenTool> only_lookup = {tools[0]};
  GenStats single;
  for (const auto& r : generate_tool_calling(only_lookup, opt, &single))
    EXPECT_EQ(r["messages"][1]["tool_calls"][0]["function"]["arguments"]["sku"], "SKU-123456");
  EXPECT_EQ(single.per_class, (std::map<std::string, int64_t>{{"single", 50}}));
}

// A rule across the arguments (here: root allOf making optional "b" required) that no single
// value's drawing sees: requests are drawn again until the whole object fits.
TEST(GenUserTools, RulesAcrossArgumentsAreMet) {
  const std::string path = write_temp("across.json", R"([{"name": "f", "description": "Do f",
      "parameters": {"type": "object", "properties": {"a": {"type": "integer"},
                     "b": {"type": "string", "enum": ["x", "y"]}},
                     "required": ["a"], "allOf": [{"required": ["b"]}]}}])");
  const auto tools = load_gen_tools(path);
  std::filesystem::remove(path);
  ToolCallingOptions opt;
  opt.n = 200;
  std::map<std::string, std::set<std::string>> args;
  std::set<std::string> types;
  for (const auto& r : generate_tool_calling(tools, opt, nullptr)) check_row(r, &args, &types);
  EXPECT_EQ(args["f"], (std::set<std::string>{"a", "b"}));
}

// A user's tools may reuse a built-in tool's name with other argument types (glaive's send_email
// takes one "to" string; these take a float precision, days and urgent as strings): the result
// and answer of a call -> result -> answer row must still be written, not abort the generator.
TEST(GenUserTools, BuiltinNamesWithOtherArgumentTypes) {
  const std::string path = write_temp("same_names.json", R"([
      {"name": "send_email", "description": "Send an email",
       "parameters": {"type": "object", "properties": {"to": {"type": "string"},
                      "subject": {"type": "string"}, "body": {"type": "string"}},
                      "required": ["to", "subject", "body"]}},
      {"name": "calculator", "description": "Evaluate an expression",
       "parameters": {"type": "object", "properties": {"expression": {"type": "string",
                      "enum": ["2 + 3", "7 * 6"]}, "precision": {"type": "number"}},
                      "required": ["expression", "precision"]}},
      {"name": "get_weather", "description": "Get the weather",
       "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                      "days": {"type": "string"}}, "required": ["city", "days"]}},
      {"name": "set_reminder", "description": "Set a reminder",
       "parameters": {"type": "object", "properties": {"task": {"type": "string"},
                      "date": {"type": "string"}, "urgent": {"type": "string"}},
                      "required": ["task", "date", "urgent"]}}])");
  const auto tools = load_gen_tools(path);
  std::filesystem::remove(path);
  const ToolCallingOptions opt = only_kind(CallKind::kMultiTurn, 200);
  std::set<std::string> called;
  for (const auto& r : generate_tool_calling(tools, opt, nullptr)) {
    const ordered_json& m = r["messages"];
    ASSERT_EQ(m.size(), 4u);
    const ordered_json& call = m[1]["tool_calls"][0]["function"];
    const std::string name = call["name"].get<std::string>();
    called.insert(name);
    const std::string answer = m[3]["content"].get<std::string>();
    if (name == "send_email") {  // the one recipient, named as given
      EXPECT_NE(answer.find(call["arguments"]["to"].get<std::string>()), std::string::npos);
    } else if (name == "get_weather") {  // "days" is not a count here: no forecast sentence
      EXPECT_EQ(answer.find("Over the next"), std::string::npos);
    }
  }
  EXPECT_EQ(called.size(), 4u);
}

// Word problems: "{#a:lo-hi}" numbers drawn in their bounds and shown (the same number each time
// its name is used), "{expression~\"...\"}" built from them and not shown.
TEST(GenUserTools, WordProblemNumbersBuildTheArgument) {
  const std::string path = write_temp("word.json", R"([{"name": "calc",
      "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                     "required": ["expression"]},
      "x-toolsft-examples": [
        "{#n:2-9} split {#a:10.00-99.99}; {#n} shares, each?{expression~\"#a / #n\"}"]}])");
  const auto tools = load_gen_tools(path);
  std::filesystem::remove(path);
  Rng rng(3);
  std::set<std::string> distinct;
  for (int i = 0; i < 200; ++i) {
    const GenRequest req = make_request(tools[0], rng);
    const std::string text = plain_text(req.pieces);
    const std::string e = req.arguments["expression"].get<std::string>();
    distinct.insert(e);
    const size_t slash = e.find(" / ");
    ASSERT_NE(slash, std::string::npos) << e;
    const std::string a = e.substr(0, slash), n = e.substr(slash + 3);
    EXPECT_EQ(text, n + " split " + a + "; " + n + " shares, each?");
    EXPECT_GE(std::stoi(n), 2);
    EXPECT_LE(std::stoi(n), 9);
    EXPECT_GE(std::stod(a), 10.0);
    EXPECT_LE(std::stod(a), 99.99);
    const size_t dot = a.find('.');
    if (dot != std::string::npos) {
      EXPECT_LE(a.size() - dot - 1, 2u) << a;
    }
    EXPECT_TRUE(eval_arithmetic(e).has_value()) << e;
  }
  EXPECT_GT(distinct.size(), 150u);  // 8 x 9,000 possible: drawn, not fixed
}

// In tool selection (only the tool is used) dates and times sometimes read as people say them;
// in tool calling every date stays recoverable (check_row's expect_recoverable).
TEST(GenToolSelection, SelectionRequestsUseLooseDatesAndTimes) {
  ToolSelectionOptions sel;
  sel.n = 600;
  // The strict forms: 2026-03-14 or March 14, 2026 (any case, after the lowercase noise).
  const std::regex strict_date(R"(\d{4}-\d\d-\d\d|[a-z]+ \d{1,2}, \d{4})", std::regex::icase);
  int reminders = 0, loose = 0, on_bare = 0;
  for (const auto& r : generate_tool_selection(builtin_gen_tools(), sel, nullptr)) {
    if (r["completion"] != " set_reminder") continue;
    ++reminders;
    std::string q = request_of(r);
    if (!std::regex_search(q, strict_date)) ++loose;
    for (char& c : q) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* w : {" on tomorrow", " on today", " on tonight", " on next ", " on this "})
      if (q.find(w) != std::string::npos) ++on_bare;
  }
  EXPECT_EQ(reminders, 100);
  EXPECT_GT(loose, 35);  // about half the reminders say their date loosely
  EXPECT_LT(loose, 65);
  EXPECT_EQ(on_bare, 0);
}

std::string load_error(const std::string& json) {
  const std::string path = write_temp("bad_tools.json", json);
  try {
    load_gen_tools(path);
  } catch (const Error& e) {
    std::filesystem::remove(path);
    return std::string(e.what()).substr(path.size());  // the part after the file name
  }
  std::filesystem::remove(path);
  return "(no error)";
}

TEST(GenUserTools, BadFilesNameTheFileAndField) {
  EXPECT_EQ(load_error("[{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": "
                       "{\"x\": {\"type\": \"int\"}}}}]"),
            ": [0]: field 'parameters.properties.x.type': unknown type \"int\" (string, integer, "
            "number, boolean, array, object or null)");
  EXPECT_EQ(load_error(R"([{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
      "x-toolsft-examples": ["Use {b}"]}}])"),
            ": [0].function: x-toolsft-examples[0]: slot {b} names no parameter of the tool");
  EXPECT_EQ(load_error(R"([{"name": "f", "parameters": {"type": "object",
      "properties": {"a": {"type": "string"}}, "required": ["a"]},
      "x-toolsft-examples": ["Do it"]}])"),
            ": [0]: x-toolsft-examples[0]: the request's arguments.a: missing required property "
            "(add a slot for it)");
  EXPECT_EQ(load_error(R"([{"name": "f", "parameters": {"type": "object",
      "properties": {"a": {"type": "integer"}}}, "x-toolsft-examples": ["{a=\"x\"}"]}])"),
            ": [0]: x-toolsft-examples[0]: {a=...}: a: expected integer, got string \"x\"");
  // Word-problem templates: (template, the error after ": [0]: x-toolsft-examples[0]: ").
  const std::string calc = R"([{"name": "f", "parameters": {"type": "object", "properties":
      {"e": {"type": "string"}, "k": {"type": "integer"}}}, "x-toolsft-examples": [")";
  const std::pair<std::string, std::string> word_problems[] = {
      {R"({#a} and {e~\"#a + #b\"})",
       "{e}: #b is not a number of this template (add {#b} where the request says it)"},
      {R"({#a:9-x}{e~\"#a\"})",
       "{#a:9-x}: the range must read LOW-HIGH with plain numbers (10-500, 0.5-9.5)"},
      {"{#a:9-2}", "{#a:9-2}: the low end is above the high end"},
      {R"({#a}{k~\"#a\"})", "{k~...}: a formula makes a string, and 'k' is not a string parameter"},
      {"{#a}{e~#a}", "{e~#a}: the formula after '~' must be a quoted, non-empty string"}};
  for (const auto& [tpl, message] : word_problems)
    EXPECT_EQ(load_error(calc + tpl + "\"]}]"), ": [0]: x-toolsft-examples[0]: " + message) << tpl;
  EXPECT_EQ(load_error(R"([{"name": "f"}, {"name": "f"}])"),
            ": [1]: field 'name': \"f\" is used twice");
  EXPECT_EQ(load_error(R"({"tools": [{"function": {"name": 1}}]})"),
            ": tools[0].function: field 'name' must be a string");
  EXPECT_EQ(load_error("[]"), ": the list of tools is empty");
  EXPECT_EQ(load_error("{\"x\": 1}").substr(0, 30), ": expected a JSON list of tool");
  EXPECT_EQ(load_error("[1,").substr(0, 17), ": not valid JSON:");
  EXPECT_THROW(load_gen_tools(temp_path("missing.json")), Error);
}

// The project's loader ----------------------------------------------------------------------------

TEST(GenRows, LoadWithTheSftLoader) {
  const ChatFormat chat = ChatFormat::from_tokenizer(smollm2(), "smollm2");
  SftLoadOptions lo;
  lo.max_seq_len = 8192;  // calling rows carry up to four tool schemas
  auto load = [&](const std::vector<ordered_json>& rows, const std::string& name) {
    const std::string path = write_temp(name, bytes(rows));
    SftLoadStats st;
    const auto ex = load_sft_dataset(path, smollm2(), &chat, lo, &st);
    std::filesystem::remove(path);
    EXPECT_EQ(st.rows, static_cast<int64_t>(rows.size())) << name;
    EXPECT_EQ(st.kept, static_cast<int64_t>(rows.size())) << name;
    EXPECT_GT(st.loss_tokens, 0) << name;
    size_t longest = 0;
    for (const auto& e : ex) longest = std::max(longest, e.ids.size());
    std::printf("%s: %zu rows, %lld tokens, longest %zu\n", name.c_str(), ex.size(),
                static_cast<long long>(st.tokens), longest);
    return ex.size();
  };
  ToolSelectionOptions sel;
  sel.n = 60;
  EXPECT_EQ(load(generate_tool_selection(builtin_gen_tools(), sel, nullptr), "sel_pc.jsonl"), 60u);
  sel.format = ToolSelectionOptions::Format::kChat;
  sel.sentinel = "<tool>";
  EXPECT_EQ(load(generate_tool_selection(builtin_gen_tools(), sel, nullptr), "sel_chat.jsonl"),
            60u);
  ToolCallingOptions call;
  call.n = 100;
  EXPECT_EQ(load(generate_tool_calling(builtin_gen_tools(), call, nullptr), "call.jsonl"), 100u);
  EXPECT_EQ(load(generate_tool_calling(load_gen_tools(kUserTools), call, nullptr), "user.jsonl"),
            100u);
}

// A template that renders tools and calls itself (Qwen2.5): every calling row loads, and the
// trained tokens of a call row hold the call's name and arguments but not the tool's result.
TEST(GenRows, CallsRenderInATemplateWithTools) {
  const std::string dir = kData + "/chat_templates/Qwen2.5-0.5B-Instruct";
  const ordered_json cases = ordered_json::parse(read(dir + "/render_cases.json"));
  ordered_json extra = ordered_json::object();
  for (auto& [k, v] : cases["special_tokens"].items()) extra[k] = v;
  const ChatFormat chat(ChatTemplate(read(dir + "/chat_template.jinja"), "qwen2.5"), extra,
                        "<|im_end|>");
  const Tokenizer tok = smollm2().with_special_tokens({"<|im_start|>", "<|im_end|>"});
  const ToolCallingOptions opt = only_kind(CallKind::kMultiTurn, 60);
  const auto rows = generate_tool_calling(builtin_gen_tools(), opt, nullptr);
  const std::string path = write_temp("qwen.jsonl", bytes(rows));
  SftLoadOptions lo;
  lo.max_seq_len = 8192;
  const auto ex = load_sft_dataset(path, tok, &chat, lo, nullptr);
  std::filesystem::remove(path);
  ASSERT_EQ(ex.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<int32_t> trained;
    for (size_t t = 0; t < ex[i].ids.size(); ++t)
      if (ex[i].loss_mask[t]) trained.push_back(ex[i].ids[t]);
    const std::string text = tok.decode(trained);
    const ordered_json& m = rows[i]["messages"];
    const ordered_json& fn = m[1]["tool_calls"][0]["function"];
    EXPECT_NE(text.find(fn["name"].get<std::string>()), std::string::npos) << text;
    for (const auto& [k, v] : fn["arguments"].items())
      EXPECT_NE(text.find("\"" + k + "\""), std::string::npos) << k << " in " << text;
    EXPECT_NE(text.find(m[3]["content"].get<std::string>()), std::string::npos) << text;
    EXPECT_EQ(text.find(m[2]["content"].get<std::string>()), std::string::npos) << text;
  }
}

TEST(GenCli, WritesTheFileAndReportsBadTools) {
  const std::string out = temp_path("cli.jsonl");
  const std::string cmd =
      std::string(TSFT_BINARY) + " gen tool-calling --n 25 --seed 2 --out " + out + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ToolCallingOptions opt;
  opt.n = 25;
  opt.seed = 2;
  EXPECT_EQ(read(out), bytes(generate_tool_calling(builtin_gen_tools(), opt, nullptr)));
  std::filesystem::remove(out);
  const std::string bad = write_temp("cli_bad.json", R"([{"name": "f", "parameters": []}])");
  const std::string log = temp_path("cli.log");
  const std::string cmd2 = std::string(TSFT_BINARY) + " gen tool-selection --tools " + bad +
                           " --out " + out + " 2> " + log;
  EXPECT_NE(std::system(cmd2.c_str()), 0);
  EXPECT_NE(read(log).find(bad + ": [0]: field 'parameters' must be a JSON Schema object"),
            std::string::npos)
      << read(log);
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove(bad);
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace tsft
