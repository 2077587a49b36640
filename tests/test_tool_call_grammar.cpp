// Schema-constrained tool calls at the byte level: what the grammar accepts and rejects per
// tool_choice and syntax, the number/date prefix checks, and random walks over random schemas of
// every feature (and over the hand-written set's 68 schemas) that must never reach a dead end and
// must always end in calls that parse and validate.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/json_schema.h"
#include "chat/tool_call.h"
#include "chat/tool_call_grammar.h"
#include "chat/value_prefix.h"
#include "core/error.h"
#include "core/rng.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

const char* kWeatherTools = R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object",
    "properties": {"city": {"type": "string", "minLength": 1},
                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                   "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city"]}}},
  {"type": "function", "function": {"name": "send_email", "parameters": {
    "type": "object",
    "properties": {"to": {"type": "string"}, "body": {"type": "string"}},
    "required": ["to", "body"]}}}
])";

std::shared_ptr<const ToolCallGrammar> grammar(const char* tools,
                                               ToolChoiceSpec choice = {},
                                               ToolCallSyntax syntax = ToolCallSyntax::hermes()) {
  return std::make_shared<ToolCallGrammar>(ordered_json::parse(tools), choice, syntax);
}

// How many bytes of `text` the matcher takes before refusing one (text.size() = all).
size_t accepted_prefix(const std::shared_ptr<const ToolCallGrammar>& g, const std::string& text) {
  ToolCallMatcher m(g);
  for (size_t i = 0; i < text.size(); ++i)
    if (!m.feed(text.substr(i, 1))) return i;
  return text.size();
}

bool accepts_whole(const std::shared_ptr<const ToolCallGrammar>& g, const std::string& text) {
  ToolCallMatcher m(g);
  return m.feed(text) && m.can_end();
}

TEST(ToolCallGrammar, AcceptsValidCallsAndText) {
  auto g = grammar(kWeatherTools);
  EXPECT_TRUE(accepts_whole(g, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                               "{\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>"));
  EXPECT_TRUE(accepts_whole(g, "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"unit\":"
                               "\"celsius\",\"city\":\"Oslo\"}}</tool_call>"));
  EXPECT_TRUE(accepts_whole(g, "Sure, checking.\n<tool_call>\n{\"name\": \"send_email\", "
                               "\"arguments\": {\"to\": \"a@b.c\", \"body\": \"hi \\\"you\\\" \\u00e9\"}}"
                               "\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", "
                               "\"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>"));
  EXPECT_TRUE(accepts_whole(g, "Hello! How can I help?"));
  EXPECT_TRUE(accepts_whole(g, ""));
}

// closing_bytes takes any state to a valid end: "" where the reply may end already; the
// open string, object and call closed, and missing required keys given values, otherwise.
TEST(ToolCallGrammar, ClosingBytesEndEveryPrefixValidly) {
  auto g = grammar(kWeatherTools);
  ToolCallMatcher text(g);
  ASSERT_TRUE(text.feed("Sure"));
  EXPECT_EQ(text.closing_bytes(), std::optional<std::string>(""));
  const std::string call =
      "<tool_call>\n{\"name\": \"send_email\", \"arguments\": {\"to\": \"a@b.c\", "
      "\"body\": \"hi\"}}\n</tool_call>";
  for (size_t cut = 1; cut < call.size(); ++cut) {
    ToolCallMatcher m(g);
    ASSERT_TRUE(m.feed(call.substr(0, cut)));
    const auto close = m.closing_bytes();
    ASSERT_TRUE(close.has_value()) << call.substr(0, cut);
    EXPECT_FALSE(close->empty()) << call.substr(0, cut);
    ASSERT_TRUE(m.feed(*close)) << call.substr(0, cut) << " + " << *close;
    EXPECT_TRUE(m.can_end()) << call.substr(0, cut) << " + " << *close;
    EXPECT_LE(close->size(), 64u) << call.substr(0, cut) << " + " << *close;
  }
  // Within a call whose required "body" is not written yet, the close writes it.
  ToolCallMatcher m(g);
  ASSERT_TRUE(m.feed("<tool_call>{\"name\": \"send_email\", \"arguments\": {\"to\": \"x"));
  const auto close = m.closing_bytes();
  ASSERT_TRUE(close.has_value());
  EXPECT_NE(close->find("\"body\""), std::string::npos) << *close;
  // Too few bytes allowed: none found.
  EXPECT_EQ(m.closing_bytes(3), std::nullopt);
}

TEST(ToolCallGrammar, RejectsInvalidCallsAtTheFirstWrongByte) {
  auto g = grammar(kWeatherTools);
  const std::string open = "<tool_call>\n{\"name\": \"";
  // Unknown function: the first byte that leaves every offered name.
  EXPECT_EQ(accepted_prefix(g, open + "get_time\""), open.size() + 4);
  // Arguments before the name (the call object is ordered).
  EXPECT_EQ(accepted_prefix(g, "<tool_call>{\"arguments\""), std::string("<tool_call>{\"").size());
  const std::string call = open + "get_weather\", \"arguments\": {";
  // Unknown argument key.
  EXPECT_EQ(accepted_prefix(g, call + "\"town\": 1}}"), call.size() + 1);
  // Wrong type: a string for an integer.
  EXPECT_EQ(accepted_prefix(g, call + "\"city\": \"x\", \"days\": \"3\""),
            call.size() + std::string("\"city\": \"x\", \"days\": ").size());
  // Out of range: days 8 (the 8 is refused since 8 cannot start an allowed number... 80 can't).
  EXPECT_EQ(accepted_prefix(g, call + "\"city\": \"x\", \"days\": 8"),
            call.size() + std::string("\"city\": \"x\", \"days\": ").size());
  // Enum value outside the list.
  EXPECT_EQ(accepted_prefix(g, call + "\"city\": \"x\", \"unit\": \"kelvin\""),
            call.size() + std::string("\"city\": \"x\", \"unit\": \"").size());
  // Missing required key: '}' refused before "city".
  EXPECT_EQ(accepted_prefix(g, call + "\"days\": 2}"), call.size() + std::string("\"days\": 2").size());
  // minLength 1: the empty city cannot close.
  EXPECT_EQ(accepted_prefix(g, call + "\"city\": \"\""), call.size() + std::string("\"city\": \"").size());
  // A repeated key.
  EXPECT_EQ(accepted_prefix(g, call + "\"city\": \"a\", \"city\""),
            call.size() + std::string("\"city\": \"a\", \"").size());
  // Unclosed call: cannot end.
  ToolCallMatcher m(g);
  ASSERT_TRUE(m.feed(call + "\"city\": \"Oslo\"}}"));
  EXPECT_FALSE(m.can_end());
  ASSERT_TRUE(m.feed("\n</tool_call>"));
  EXPECT_TRUE(m.can_end());
  EXPECT_EQ(m.calls_finished(), 1);
  // After a call, no more plain text.
  EXPECT_FALSE(m.allows("x"));
  EXPECT_TRUE(m.allows("\n<tool_call>"));
}

TEST(ToolCallGrammar, WhitespaceRunsAreBounded) {
  auto g = grammar(kWeatherTools);
  ToolCallMatcher m(g);
  ASSERT_TRUE(m.feed("<tool_call>{\"name\":    "));
  EXPECT_FALSE(m.allows(" "));
  EXPECT_TRUE(m.allows("\"get_weather\""));
}

TEST(ToolCallGrammar, ToolChoiceModes) {
  const std::string call =
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
  auto none = grammar(kWeatherTools, {ToolChoiceMode::kNone, ""});
  EXPECT_TRUE(accepts_whole(none, "Just text, even <tool_ and </tool_call>."));
  EXPECT_EQ(accepted_prefix(none, call), std::string("<tool_call").size());

  auto required = grammar(kWeatherTools, {ToolChoiceMode::kRequired, ""});
  EXPECT_TRUE(accepts_whole(required, call));
  EXPECT_TRUE(accepts_whole(required, "  " + call));
  EXPECT_FALSE(accepts_whole(required, ""));
  EXPECT_EQ(accepted_prefix(required, "Sure" + call), 0u);

  auto named = grammar(kWeatherTools, {ToolChoiceMode::kNamed, "send_email"});
  EXPECT_FALSE(accepts_whole(named, call));
  EXPECT_TRUE(accepts_whole(named, "<tool_call>{\"name\": \"send_email\", \"arguments\": "
                                   "{\"to\": \"x@y.z\", \"body\": \"b\"}}</tool_call>"));
  EXPECT_THROW(grammar(kWeatherTools, {ToolChoiceMode::kNamed, "nope"}), Error);
  EXPECT_THROW(grammar("[]", {ToolChoiceMode::kRequired, ""}), Error);
  // No tools at all: auto is plain text that never opens a call.
  auto empty = grammar("[]");
  EXPECT_TRUE(accepts_whole(empty, "hi"));
  EXPECT_EQ(accepted_prefix(empty, "<tool_call>"), std::string("<tool_call").size());
}

TEST(ToolCallGrammar, Llama3JsonSyntax) {
  auto g = grammar(kWeatherTools, {}, ToolCallSyntax::llama3_json());
  EXPECT_TRUE(accepts_whole(
      g, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}"));
  EXPECT_TRUE(accepts_whole(g, "It is sunny."));
  EXPECT_FALSE(accepts_whole(g, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}"));
  auto required = grammar(kWeatherTools, {ToolChoiceMode::kRequired, ""}, ToolCallSyntax::llama3_json());
  EXPECT_EQ(accepted_prefix(required, "Hi"), 0u);
}

TEST(ToolCallGrammar, BadSchemasAreNamed) {
  try {
    grammar(R"([{"type": "function", "function": {"name": "f", "parameters": {
      "type": "object", "properties": {"a": {"type": "strin"}}}}}])");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tools[0]"), std::string::npos) << e.what();
  }
}

TEST(ValuePrefix, NumbersInsideBounds) {
  NumberBounds days{1, 7, false, false, true};
  EXPECT_TRUE(number_prefix_viable("", days));
  EXPECT_FALSE(number_prefix_viable("-", days));
  EXPECT_TRUE(number_prefix_viable("7", days));
  EXPECT_FALSE(number_prefix_viable("8", days));
  EXPECT_FALSE(number_prefix_viable("0", days));
  EXPECT_FALSE(number_prefix_viable("1.", days));  // integers only
  EXPECT_TRUE(number_complete("3", days));
  EXPECT_FALSE(number_complete("0", days));

  NumberBounds big{100, 250, false, false, true};
  EXPECT_TRUE(number_prefix_viable("1", big));   // 100-199
  EXPECT_TRUE(number_prefix_viable("2", big));   // 200-250
  EXPECT_FALSE(number_prefix_viable("3", big));  // 300+ too big, 3 and 30-39 too small
  EXPECT_TRUE(number_prefix_viable("25", big));
  EXPECT_FALSE(number_prefix_viable("26", big));
  EXPECT_FALSE(number_complete("25", big));

  NumberBounds price;
  price.lo = 0, price.lo_exclusive = true;
  EXPECT_TRUE(number_prefix_viable("0", price));  // 0.5
  EXPECT_FALSE(number_complete("0", price));
  EXPECT_TRUE(number_prefix_viable("0.", price));
  EXPECT_FALSE(number_prefix_viable("-", price));
  EXPECT_FALSE(number_prefix_viable("01", price));  // no leading zeros
  EXPECT_TRUE(number_complete("0.25", price));
  EXPECT_FALSE(number_complete("0.", price));

  NumberBounds neg{-10, -2, false, false, false};
  EXPECT_TRUE(number_prefix_viable("-", neg));
  EXPECT_FALSE(number_prefix_viable("1", neg));
  EXPECT_TRUE(number_prefix_viable("-1", neg));   // -10, -1.x? no: -1.x > -2; -10 yes
  EXPECT_FALSE(number_complete("-1", neg));
  EXPECT_TRUE(number_complete("-10", neg));
  EXPECT_FALSE(number_prefix_viable("-11", neg));
  EXPECT_TRUE(number_prefix_viable("-2.", neg));  // -2.0 only
  EXPECT_TRUE(number_prefix_viable("-2.1", neg));
  EXPECT_FALSE(number_prefix_viable("-1.", neg));  // (-2, -1]

  NumberBounds any;
  EXPECT_FALSE(number_prefix_viable("1e5", any));  // no exponents
  EXPECT_FALSE(number_prefix_viable("1234567890123456", any));  // 16 integer digits
}

TEST(ValuePrefix, DatesAreRealDays) {
  EXPECT_TRUE(date_prefix_viable("2026-02-2"));
  EXPECT_FALSE(date_prefix_viable("2026-02-3"));
  EXPECT_TRUE(date_prefix_viable("2024-02-29"));
  EXPECT_FALSE(date_prefix_viable("2026-02-29"));
  EXPECT_TRUE(date_prefix_viable("202"));  // 2024-02-29 still possible
  EXPECT_FALSE(date_prefix_viable("2026-13"));
  EXPECT_FALSE(date_prefix_viable("2026-00"));
  EXPECT_FALSE(date_prefix_viable("2026-04-31"));
  EXPECT_TRUE(date_complete("2026-04-30"));
  EXPECT_FALSE(date_complete("2026-04-3"));
  EXPECT_TRUE(date_time_prefix_viable("2026-03-14T2"));
  EXPECT_FALSE(date_time_prefix_viable("2026-03-14T24"));
  EXPECT_FALSE(date_time_prefix_viable("2026-03-14 10"));
  EXPECT_TRUE(date_time_complete("2026-03-14T10:00:00Z"));
  EXPECT_TRUE(date_time_complete("2026-03-14T10:00:00.250-05:00"));
  EXPECT_FALSE(date_time_complete("2026-03-14T10:00:00"));
  EXPECT_FALSE(date_time_prefix_viable("2026-03-14T10:00:00Z1"));
  EXPECT_FALSE(date_time_prefix_viable("2026-03-14T10:00:00+24"));
}

// ---- random walks -------------------------------------------------------------------------

// A random schema of depth <= `depth` drawing on every feature the grammar constrains.
ordered_json random_schema(Rng& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng.next_u64() % static_cast<uint64_t>(n)); };
  static const char* kPatterns[] = {
      "^[A-Z]{3}$", "^([01][0-9]|2[0-3]):[0-5][0-9]$", "^[0-9]+\\.[0-9]+\\.[0-9]+$",
      "^PRJ-[0-9]{3}$", "^[A-Z]{2}[0-9]{2}[A-Z0-9]{4,8}$", "[0-9]{2}", "^(red|green|blue)$",
      "^[a-z]+(-[a-z]+)*$"};
  const int kind = depth <= 0 ? pick(9) : pick(14);
  switch (kind) {
    case 0: return {{"type", "string"}};
    case 1: return {{"type", "string"}, {"pattern", kPatterns[pick(8)]}};
    case 2: return {{"type", "string"}, {"format", pick(2) ? "date" : "date-time"}};
    case 3: return {{"type", "string"}, {"minLength", 2}, {"maxLength", 5}};
    case 4: {
      ordered_json s = {{"type", "integer"}};
      if (pick(2)) s["minimum"] = pick(50) - 10;
      if (pick(2)) s["maximum"] = 40 + pick(200);
      return s;
    }
    case 5: {
      ordered_json s = {{"type", "number"}};
      if (pick(2)) s["exclusiveMinimum"] = 0;
      if (pick(2)) s["maximum"] = 99.5;
      return s;
    }
    case 6: return pick(2) ? ordered_json{{"type", "string"}, {"enum", {"low", "high", "lowest"}}}
                           : ordered_json{{"enum", {1, 2, 12, "x"}}};
    case 7: return {{"type", pick(2) ? "boolean" : "null"}};
    case 8: return {{"type", {"string", "null"}}, {"maxLength", 3}};
    case 9:
    case 10: {
      ordered_json s = {{"type", "object"}, {"properties", ordered_json::object()}};
      const int n = 1 + pick(4);
      ordered_json req = ordered_json::array();
      for (int i = 0; i < n; ++i) {
        const std::string k = std::string(1, static_cast<char>('a' + i)) + (pick(2) ? "_id" : "");
        s["properties"][k] = random_schema(rng, depth - 1);
        if (pick(2)) req.push_back(k);
      }
      if (!req.empty()) s["required"] = req;
      const int extra = pick(4);
      if (extra == 1) s["additionalProperties"] = false;
      // (An extra-key schema only without required keys: a random walk would rarely type a
      // required name among the free keys it may invent.)
      if (extra == 2 && req.empty()) s["additionalProperties"] = {{"type", "integer"}};
      return s;
    }
    case 11: {
      ordered_json s = {{"type", "array"}, {"items", random_schema(rng, depth - 1)}};
      if (pick(2)) s["minItems"] = 1;
      if (pick(2)) s["maxItems"] = 3;
      if (pick(3) == 0) s = {{"type", "array"}, {"items", {{"enum", {"a", "b"}}}}, {"uniqueItems", true}};
      return s;
    }
    case 12:
      return {{"anyOf", {random_schema(rng, depth - 1), {{"type", "integer"}, {"maximum", 5}}}}};
    default:
      return {{"type", "object"},
              {"allOf", {{{"properties", {{"x", {{"type", "integer"}}}, {"y", {{"type", "string"}}}}},
                          {"required", {"x"}}},
                         {{"properties", {{"x", {{"minimum", 3}}}, {"y", {{"maxLength", 2}}}}}}}}};
  }
}

// Walks the matcher byte by byte, preferring bytes that close things, until it may end and a
// coin says stop. Fails the test on a dead end (no byte allowed and no end).
std::string random_walk(const std::shared_ptr<const ToolCallGrammar>& g, Rng& rng,
                        bool start_call) {
  ToolCallMatcher m(g);
  std::string out;
  if (start_call && m.allows("<tool_call>\n")) {
    EXPECT_TRUE(m.feed("<tool_call>\n"));
    out = "<tool_call>\n";
  }
  static const std::string kPrefer = "\"}],:abcdi_0123456789-ntfrueals<>/";
  for (int steps = 0; steps < 5000; ++steps) {
    bool allowed[256];
    m.allowed_bytes(allowed);
    std::vector<uint8_t> bytes, printable;
    for (int b = 0; b < 256; ++b) {
      if (!allowed[b]) continue;
      bytes.push_back(static_cast<uint8_t>(b));
      if (b >= 0x20 && b < 0x7F) printable.push_back(static_cast<uint8_t>(b));
    }
    const bool can_end = m.can_end();
    if (bytes.empty() && !can_end) {
      ADD_FAILURE() << "dead end after: " << out;
      return out;
    }
    if (can_end && (bytes.empty() || rng.uniform() < 0.3)) return out;
    uint8_t b = 0;
    bool chosen = false;
    if (rng.uniform() < 0.6) {
      std::vector<uint8_t> preferred;
      for (char p : kPrefer)
        if (allowed[static_cast<uint8_t>(p)]) preferred.push_back(static_cast<uint8_t>(p));
      if (!preferred.empty()) {
        // Closing bytes first (half the time), else a byte that writes structure, the random
        // schemas' key names, digits or literals: walks then end in a few hundred bytes.
        b = rng.uniform() < 0.5 ? preferred[0] : preferred[rng.next_u64() % preferred.size()];
        chosen = true;
      }
    }
    if (!chosen) {
      const auto& from = !printable.empty() && rng.uniform() < 0.95 ? printable : bytes;
      b = from[rng.next_u64() % from.size()];
    }
    EXPECT_TRUE(m.feed(std::string(1, static_cast<char>(b))));
    out.push_back(static_cast<char>(b));
  }
  ADD_FAILURE() << "walk did not end: " << out.substr(0, 400);
  return out;
}

// The walk's output parses into calls to offered functions that validate.
void expect_valid_reply(const std::string& text, const ordered_json& tools, ToolChoiceSpec choice) {
  const ParsedReply reply = parse_tool_calls(text, ToolCallFormat::kHermes);
  ASSERT_TRUE(reply.valid) << reply.error << "\n" << text;
  ASSERT_FALSE(reply.truncated) << text;
  if (choice.mode == ToolChoiceMode::kRequired || choice.mode == ToolChoiceMode::kNamed) {
    EXPECT_FALSE(reply.calls.empty()) << text;
  }
  if (choice.mode == ToolChoiceMode::kNone) {
    EXPECT_TRUE(reply.calls.empty()) << text;
  }
  for (const ToolCall& call : reply.calls) {
    const ordered_json* schema = nullptr;
    for (const auto& t : tools)
      if (t["function"]["name"] == call.name) schema = &t["function"]["parameters"];
    ASSERT_NE(schema, nullptr) << "unknown function " << call.name << " in " << text;
    if (choice.mode == ToolChoiceMode::kNamed) {
      EXPECT_EQ(call.name, choice.name);
    }
    const auto problems =
        validate_json(ordered_json::parse(call.arguments_json), *schema, "arguments");
    for (const auto& p : problems) ADD_FAILURE() << p.path << ": " << p.message << "\n" << text;
  }
}

TEST(ToolCallGrammar, RandomSchemasNeverDeadEndAndAlwaysValidate) {
  Rng rng(7);
  int calls = 0;
  for (int round = 0; round < 200; ++round) {
    ordered_json tools = ordered_json::array();
    const int n = 1 + static_cast<int>(rng.next_u64() % 3);
    for (int i = 0; i < n; ++i) {
      ordered_json params = random_schema(rng, 3);
      if (!(params.contains("type") && params["type"] == "object"))
        params = {{"type", "object"}, {"properties", {{"v", params}}}, {"required", {"v"}}};
      tools.push_back({{"type", "function"},
                       {"function", {{"name", "fn_" + std::to_string(i)}, {"parameters", params}}}});
    }
    ASSERT_TRUE(check_schema(tools[0]["function"]["parameters"], "p").empty()) << tools.dump();
    static const ToolChoiceMode kModes[] = {ToolChoiceMode::kAuto, ToolChoiceMode::kRequired,
                                            ToolChoiceMode::kNamed, ToolChoiceMode::kNone};
    const ToolChoiceSpec choice{kModes[round % 4], "fn_0"};
    auto g = std::make_shared<ToolCallGrammar>(tools, choice);
    for (int walk = 0; walk < 4; ++walk) {
      const std::string text = random_walk(g, rng, walk % 2 == 0);
      if (HasFailure()) {
        ADD_FAILURE() << "tools: " << tools.dump();
        return;
      }
      expect_valid_reply(text, tools, choice);
      if (HasFailure()) {
        ADD_FAILURE() << "tools: " << tools.dump();
        return;
      }
      calls += static_cast<int>(parse_tool_calls(text, ToolCallFormat::kHermes).calls.size());
    }
  }
  EXPECT_GT(calls, 200);  // the walks did write calls, not only text
}

// closing_bytes from any point of a call over random schemas (patterns, bounds, enums, nested
// objects and arrays, required keys, anyOf, allOf): the bytes it gives feed, end the reply
// validly, and stay short (a pattern such as [0-9]+\.[0-9]+ moves on to its '.').
TEST(ToolCallGrammar, ClosingBytesEndRandomCallsAtAnyPoint) {
  Rng rng(5);
  int closed = 0;
  size_t longest = 0;
  for (int round = 0; round < 150; ++round) {
    ordered_json params = random_schema(rng, 3);
    if (!(params.contains("type") && params["type"] == "object"))
      params = {{"type", "object"}, {"properties", {{"v", params}}}, {"required", {"v"}}};
    const ordered_json tools = ordered_json::array(
        {{{"type", "function"}, {"function", {{"name", "fn_0"}, {"parameters", params}}}}});
    const ToolChoiceSpec choice{round % 2 ? ToolChoiceMode::kRequired : ToolChoiceMode::kAuto, ""};
    auto g = std::make_shared<ToolCallGrammar>(tools, choice);
    const std::string walk = random_walk(g, rng, true);
    ASSERT_FALSE(HasFailure()) << tools.dump();
    for (int k = 0; k < 8; ++k) {
      const size_t cut = walk.empty() ? 0 : rng.next_u64() % walk.size();
      ToolCallMatcher m(g);
      ASSERT_TRUE(m.feed(walk.substr(0, cut)));
      const auto close = m.closing_bytes();
      ASSERT_TRUE(close.has_value()) << tools.dump() << "\n" << walk.substr(0, cut);
      ASSERT_TRUE(m.feed(*close));
      ASSERT_TRUE(m.can_end()) << walk.substr(0, cut) << " + " << *close;
      expect_valid_reply(walk.substr(0, cut) + *close, tools, choice);
      ASSERT_FALSE(HasFailure()) << tools.dump();
      longest = std::max(longest, close->size());
      ++closed;
    }
  }
  EXPECT_EQ(closed, 150 * 8);
  EXPECT_LE(longest, 200u);
}

TEST(ToolCallGrammar, HandwrittenSchemasNeverDeadEndAndAlwaysValidate) {
  std::ifstream in(std::string(TSFT_TEST_DATA_DIR) + "/handwritten/tool_calling_schemas.json");
  ASSERT_TRUE(in.good());
  const ordered_json all = ordered_json::parse(in);
  ASSERT_GE(all.size(), 60u);
  Rng rng(11);
  for (size_t i = 0; i < all.size(); ++i) {
    const ordered_json tools = ordered_json::array({all[i]});
    const ToolChoiceSpec choice{ToolChoiceMode::kRequired, ""};
    auto g = std::make_shared<ToolCallGrammar>(tools, choice);
    for (int walk = 0; walk < 3; ++walk) {
      const std::string text = random_walk(g, rng, false);
      expect_valid_reply(text, tools, choice);
      if (HasFailure()) {
        ADD_FAILURE() << "schema " << i << ": " << all[i].dump();
        return;
      }
    }
  }
}

}  // namespace
}  // namespace tsft
