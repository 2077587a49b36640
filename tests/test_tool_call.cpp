// Tool-call parsers: each wire format's valid, parallel, mixed-with-text, malformed and cut-off
// replies, random corruption, and the assistant turns rendered by the real chat templates.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chat/tool_call.h"
#include "core/error.h"

namespace tsft {
namespace {

using Json = nlohmann::ordered_json;

constexpr ToolCallFormat kAllFormats[] = {ToolCallFormat::kHermes, ToolCallFormat::kLlama3Json,
                                          ToolCallFormat::kMistral, ToolCallFormat::kNameParameters,
                                          ToolCallFormat::kAuto};

// Holds for every reply, whatever the input: these are what callers rely on.
void expect_invariants(const ParsedReply& reply, const std::string& context) {
  SCOPED_TRACE(context);
  EXPECT_EQ(reply.valid, reply.error.empty()) << reply.error;
  if (reply.truncated) {
    EXPECT_FALSE(reply.valid);
  }
  for (size_t i = 0; i < reply.calls.size(); ++i) {
    const ToolCall& call = reply.calls[i];
    EXPECT_EQ(call.id, "call_" + std::to_string(i + 1));
    EXPECT_FALSE(call.name.empty());
    Json args;
    ASSERT_NO_THROW(args = Json::parse(call.arguments_json)) << call.arguments_json;
    EXPECT_TRUE(args.is_object()) << call.arguments_json;
    EXPECT_EQ(args.dump(), call.arguments_json);  // compact
  }
  EXPECT_NO_THROW((void)to_openai_json(reply));
}

ParsedReply parse(std::string_view text, ToolCallFormat format) {
  ParsedReply reply;
  EXPECT_NO_THROW(reply = parse_tool_calls(text, format)) << text;
  expect_invariants(reply, std::string(text));
  return reply;
}

void expect_call(const ParsedReply& reply, size_t index, const std::string& name,
                 const std::string& arguments) {
  ASSERT_LT(index, reply.calls.size()) << "error: " << reply.error;
  EXPECT_EQ(reply.calls[index].name, name);
  EXPECT_EQ(reply.calls[index].arguments_json, arguments);
}

// Cuts a valid reply at every byte: each prefix parses without throwing and is either valid
// with a prefix of the full reply's calls, or flagged. Some cut must be flagged truncated.
void expect_every_prefix_safe(const std::string& full, ToolCallFormat format) {
  const ParsedReply whole = parse(full, format);
  ASSERT_TRUE(whole.valid) << whole.error;
  ASSERT_FALSE(whole.calls.empty());
  int truncated = 0;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    const std::string prefix = full.substr(0, cut);
    for (ToolCallFormat f : {format, ToolCallFormat::kAuto}) {
      const ParsedReply part = parse(prefix, f);
      if (part.valid) {
        ASSERT_LE(part.calls.size(), whole.calls.size()) << prefix;
        for (size_t i = 0; i < part.calls.size(); ++i) {
          EXPECT_EQ(part.calls[i].name, whole.calls[i].name) << prefix;
          EXPECT_EQ(part.calls[i].arguments_json, whole.calls[i].arguments_json) << prefix;
        }
      }
      if (f == format && part.truncated) ++truncated;
    }
  }
  EXPECT_GT(truncated, 0) << full;
}

void expect_invalid(const ParsedReply& reply, const std::string& error_part) {
  EXPECT_FALSE(reply.valid);
  EXPECT_NE(reply.error.find(error_part), std::string::npos) << "error: " << reply.error;
}

// ---------------------------------------------------------------- Hermes / Qwen / SmolLM2

TEST(ToolCallHermes, SingleCall) {
  const ParsedReply r = parse(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": "
      "\"NY\"}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  EXPECT_FALSE(r.truncated);
  ASSERT_EQ(r.calls.size(), 1u);
  expect_call(r, 0, "get_weather", R"({"location":"NY"})");
  EXPECT_EQ(r.calls[0].id, "call_1");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallHermes, SeveralCallsKeepOrderAndKeyOrder) {
  const ParsedReply r = parse(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"unit\": \"c\", \"location\": "
      "\"NY\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"news\", \"n\": 3, "
      "\"exact\": true}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 2u);
  expect_call(r, 0, "get_weather", R"({"unit":"c","location":"NY"})");
  expect_call(r, 1, "search", R"({"query":"news","n":3,"exact":true})");
  EXPECT_EQ(r.calls[1].id, "call_2");
}

TEST(ToolCallHermes, SurroundingTextIsContent) {
  const ParsedReply r = parse(
      "Let me check that.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\nOne "
      "moment.",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 1u);
  expect_call(r, 0, "f", "{}");
  EXPECT_EQ(r.content, "Let me check that.\n\nOne moment.");
}

TEST(ToolCallHermes, ArgumentsAsStringSynonymsAndMissing) {
  const ParsedReply r = parse(
      "<tool_call>{\"name\": \"a\", \"arguments\": \"{\\\"location\\\": \\\"NY\\\"}\"}</tool_call>"
      "<tool_call>{\"name\": \"b\", \"parameters\": {\"x\": [1, 2.5, null]}}</tool_call>"
      "<tool_call>{\"name\": \"c\"}</tool_call>"
      "<tool_call>{\"name\": \"d\", \"arguments\": \"\"}</tool_call>"
      "<tool_call>{\"type\": \"function\", \"function\": {\"name\": \"e\", \"arguments\": {\"k\": "
      "1}}}</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 5u);
  expect_call(r, 0, "a", R"({"location":"NY"})");
  expect_call(r, 1, "b", R"({"x":[1,2.5,null]})");
  expect_call(r, 2, "c", "{}");
  expect_call(r, 3, "d", "{}");
  expect_call(r, 4, "e", R"({"k":1})");
}

TEST(ToolCallHermes, BracesInStringsAndUnicodeEscapes) {
  const ParsedReply r = parse(
      "<tool_call>\n{\"name\": \"run\", \"arguments\": {\"code\": \"if (x) { y(\\\"}\\\"); } "
      "}}]\", "
      "\"city\": \"M\\u00fcnchen\", \"smile\": \"\\ud83d\\ude00\", \"raw\": "
      "\"\xc3\xa9t\xc3\xa9\"}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 1u);
  const Json args = Json::parse(r.calls[0].arguments_json);
  EXPECT_EQ(args["code"], "if (x) { y(\"}\"); } }}]");
  EXPECT_EQ(args["city"], "M\xc3\xbcnchen");
  EXPECT_EQ(args["smile"], "\xf0\x9f\x98\x80");
  EXPECT_EQ(args["raw"], "\xc3\xa9t\xc3\xa9");
}

TEST(ToolCallHermes, SeveralObjectsOrAListInOneTag) {
  const ParsedReply r = parse(
      "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n{\"name\": \"b\", \"arguments\": "
      "{}}\n</tool_call>"
      "<tool_call>[{\"name\": \"c\", \"arguments\": {}}]</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[2].name, "c");
}

TEST(ToolCallHermes, TagsInsideThinkingAreNotCalls) {
  const ParsedReply r = parse(
      "<think>\nI should emit <tool_call> with the city.\n</think>\n\n"
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": "
      "\"NY\"}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "<think>\nI should emit <tool_call> with the city.\n</think>");

  // Without an opening <think>, a "</think>" after a call's start belongs to that call.
  const ParsedReply quoted =
      parse("<tool_call>{\"name\": \"say\", \"arguments\": {\"t\": \"</think>\"}}</tool_call>",
            ToolCallFormat::kHermes);
  EXPECT_TRUE(quoted.valid) << quoted.error;
  expect_call(quoted, 0, "say", R"({"t":"</think>"})");
}

TEST(ToolCallHermes, MalformedJsonNamesCallAndByte) {
  const ParsedReply r = parse(
      "<tool_call>{\"name\": \"ok\", \"arguments\": {}}</tool_call>\n"
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1,}}</tool_call>",
      ToolCallFormat::kHermes);
  expect_invalid(r, "tool call 2: invalid JSON at byte 35: ");
  EXPECT_FALSE(r.truncated);
  ASSERT_EQ(r.calls.size(), 1u);  // the good call is still returned
  EXPECT_EQ(r.calls[0].name, "ok");
}

TEST(ToolCallHermes, WrongTypes) {
  expect_invalid(
      parse("<tool_call>{\"name\": 3, \"arguments\": {}}</tool_call>", ToolCallFormat::kHermes),
      "tool call 1: \"name\" is a JSON number");
  expect_invalid(parse("<tool_call>{\"arguments\": {}}</tool_call>", ToolCallFormat::kHermes),
                 "tool call 1: missing \"name\"");
  expect_invalid(
      parse("<tool_call>{\"name\": \" \", \"arguments\": {}}</tool_call>", ToolCallFormat::kHermes),
      "empty \"name\"");
  expect_invalid(parse("<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>",
                       ToolCallFormat::kHermes),
                 "arguments is a JSON array, not an object");
  expect_invalid(parse("<tool_call>{\"name\": \"f\", \"arguments\": \"[1]\"}</tool_call>",
                       ToolCallFormat::kHermes),
                 "arguments string holds a JSON array");
  expect_invalid(parse("<tool_call>{\"name\": \"f\", \"arguments\": \"{oops\"}</tool_call>",
                       ToolCallFormat::kHermes),
                 "arguments string is not JSON");
  expect_invalid(parse("<tool_call>\"just a string\"</tool_call>", ToolCallFormat::kHermes),
                 "expected a JSON object");
  expect_invalid(parse("<tool_call>[]</tool_call>", ToolCallFormat::kHermes),
                 "empty list of calls");
  expect_invalid(parse("<tool_call>  </tool_call>", ToolCallFormat::kHermes), "empty <tool_call>");
}

TEST(ToolCallHermes, GarbageInsideTagAndStrayTags) {
  expect_invalid(parse("<tool_call>{\"name\": \"f\", \"arguments\": {}} thanks!</tool_call>",
                       ToolCallFormat::kHermes),
                 "tool call 1: unexpected text after the JSON at byte 31");
  expect_invalid(
      parse("<tool_call>get_weather(location=\"NY\")</tool_call>", ToolCallFormat::kHermes),
      "expected a JSON object, found 'get_weather");
  expect_invalid(parse("text </tool_call>", ToolCallFormat::kHermes),
                 "without an opening <tool_call>");
  const ParsedReply r = parse(
      "<tool_call>{\"name\": \"a\", \"arguments\": {}}<tool_call>{\"name\": \"b\", \"arguments\": "
      "{}}</tool_call>",
      ToolCallFormat::kHermes);
  expect_invalid(r, "tool call 1: <tool_call> not closed before the next <tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "b");
}

TEST(ToolCallHermes, UnclosedTagIsTruncated) {
  const ParsedReply r =
      parse("Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"loc",
            ToolCallFormat::kHermes);
  EXPECT_FALSE(r.valid);
  EXPECT_TRUE(r.truncated);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, "Sure.");
  // A whole JSON object without its closing tag still means generation stopped early.
  const ParsedReply whole =
      parse("<tool_call>{\"name\": \"f\", \"arguments\": {}}", ToolCallFormat::kHermes);
  EXPECT_TRUE(whole.truncated);
}

TEST(ToolCallHermes, EveryPrefixIsSafe) {
  expect_every_prefix_safe(
      "I'll look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"New "
      "{York}\", \"u\": \"\\u00e9\"}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"q\\\": "
      "1}\"}\n</tool_call>",
      ToolCallFormat::kHermes);
}

TEST(ToolCallHermes, EmptyAndPlainText) {
  const ParsedReply empty = parse("", ToolCallFormat::kHermes);
  EXPECT_TRUE(empty.valid);
  EXPECT_TRUE(empty.calls.empty());
  EXPECT_EQ(empty.content, "");
  const ParsedReply text = parse("  The weather in NY is {sunny}.\n", ToolCallFormat::kHermes);
  EXPECT_TRUE(text.valid);
  EXPECT_TRUE(text.calls.empty());
  EXPECT_EQ(text.content, "The weather in NY is {sunny}.");
}

TEST(ToolCallHermes, DeepNestingIsRefusedNotRecursed) {
  const std::string deep =
      "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": " + std::string(100000, '[') +
      std::string(100000, ']') + "}}</tool_call>";
  expect_invalid(parse(deep, ToolCallFormat::kHermes), "nested deeper than");
  const std::string deep_string = "<tool_call>{\"name\": \"f\", \"arguments\": \"" +
                                  std::string(100000, '[') + "\"}</tool_call>";
  expect_invalid(parse(deep_string, ToolCallFormat::kHermes), "nested deeper than");
}

// ---------------------------------------------------------------- Llama 3 JSON

TEST(ToolCallLlama3, SingleCallWithAndWithoutPythonTag) {
  for (const std::string prefix : {"", "<|python_tag|>"}) {
    const ParsedReply r =
        parse(prefix + "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"NY\"}}",
              ToolCallFormat::kLlama3Json);
    EXPECT_TRUE(r.valid) << r.error;
    ASSERT_EQ(r.calls.size(), 1u);
    expect_call(r, 0, "get_weather", R"({"location":"NY"})");
    EXPECT_EQ(r.content, "");
  }
}

TEST(ToolCallLlama3, SeveralCalls) {
  const ParsedReply r = parse(
      "{\"name\": \"a\", \"parameters\": {\"x\": 1}}; {\"name\": \"b\", \"arguments\": {\"y\": "
      "2}}\n"
      "[{\"name\": \"c\", \"parameters\": {}}, {\"name\": \"d\", \"parameters\": {}}]",
      ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 4u);
  expect_call(r, 0, "a", R"({"x":1})");
  expect_call(r, 1, "b", R"({"y":2})");
  expect_call(r, 3, "d", "{}");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallLlama3, SurroundingTextAndJsonThatIsNotACall) {
  const ParsedReply r = parse(
      "Calling it now: {\"name\": \"get_weather\", \"parameters\": {\"location\": \"NY\"}} (done)",
      ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "Calling it now:  (done)");
  const ParsedReply prose =
      parse("The result was {\"temp\": 20} and [1, 2] {not json}.", ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(prose.valid) << prose.error;
  EXPECT_TRUE(prose.calls.empty());
  EXPECT_EQ(prose.content, "The result was {\"temp\": 20} and [1, 2] {not json}.");
}

TEST(ToolCallLlama3, ArgumentsAsString) {
  const ParsedReply r =
      parse("{\"name\": \"get_weather\", \"parameters\": \"{\\\"location\\\":\\\"NY\\\"}\"}",
            ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(r.valid) << r.error;
  expect_call(r, 0, "get_weather", R"({"location":"NY"})");
}

TEST(ToolCallLlama3, MalformedAndWrongTypes) {
  expect_invalid(parse("{\"name\": \"f\", \"parameters\": {\"a\": }}", ToolCallFormat::kLlama3Json),
                 "tool call 1: invalid JSON at byte ");
  expect_invalid(parse("{\"name\": [\"f\"], \"parameters\": {}}", ToolCallFormat::kLlama3Json),
                 "\"name\" is a JSON array");
  expect_invalid(parse("{\"parameters\": {\"a\": 1}}", ToolCallFormat::kLlama3Json),
                 "missing \"name\"");
  expect_invalid(parse("{\"name\": \"f\", \"parameters\": 7}", ToolCallFormat::kLlama3Json),
                 "arguments is a JSON number");
  expect_invalid(
      parse("text {\"name\": \"f\", \"parameters\": {]} more", ToolCallFormat::kLlama3Json),
      "tool call 1: invalid JSON");
  expect_invalid(parse("<|python_tag|>brave_search.call(query=\"x\")", ToolCallFormat::kLlama3Json),
                 "expected a JSON call after <|python_tag|>");
  expect_invalid(parse("<|python_tag|>{\"result\": 1}", ToolCallFormat::kLlama3Json), "not a call");
}

TEST(ToolCallLlama3, TruncatedAndEveryPrefix) {
  const ParsedReply r =
      parse("{\"name\": \"get_weather\", \"parameters\": {\"loc", ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(r.truncated);
  EXPECT_TRUE(parse("<|python_tag|>", ToolCallFormat::kLlama3Json).truncated);
  expect_every_prefix_safe(
      "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"location\": \"a}b{c\", \"n\": "
      "[1, {\"x\": null}]}}",
      ToolCallFormat::kLlama3Json);
  expect_every_prefix_safe(
      "{\"name\": \"a\", \"parameters\": {}}\n{\"name\": \"b\", \"parameters\": \"{\\\"q\\\": "
      "\\\"\\u00e9\\\"}\"}",
      ToolCallFormat::kLlama3Json);
}

TEST(ToolCallLlama3, EmptyAndPlainText) {
  const ParsedReply empty = parse("", ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(empty.valid);
  EXPECT_TRUE(empty.calls.empty());
  const ParsedReply text = parse("Hello! How can I help?", ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(text.valid);
  EXPECT_EQ(text.content, "Hello! How can I help?");
}

// ---------------------------------------------------------------- Mistral

TEST(ToolCallMistral, ListForm) {
  const ParsedReply r = parse(
      "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"location\": \"NY\"}, \"id\": "
      "\"abc123XYZ\"}, "
      "{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"x\\\"}\"}]",
      ToolCallFormat::kMistral);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 2u);
  expect_call(r, 0, "get_weather", R"({"location":"NY"})");
  expect_call(r, 1, "search", R"({"query":"x"})");
  EXPECT_EQ(r.calls[0].id, "call_1");  // ids are ours; a model's id is not trusted
}

TEST(ToolCallMistral, NameArgsFormWithTextAndCallId) {
  const ParsedReply r = parse(
      "Checking both.[TOOL_CALLS]get_weather[ARGS]{\"location\": \"NY\"}"
      "[TOOL_CALLS]search[CALL_ID]a1b2c3d4e[ARGS]{\"query\": \"{x}\"}",
      ToolCallFormat::kMistral);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 2u);
  expect_call(r, 0, "get_weather", R"({"location":"NY"})");
  expect_call(r, 1, "search", R"({"query":"{x}"})");
  EXPECT_EQ(r.content, "Checking both.");
}

TEST(ToolCallMistral, MalformedAndWrongTypes) {
  expect_invalid(
      parse("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\" 1}}]", ToolCallFormat::kMistral),
      "tool call 1: invalid JSON at byte ");
  expect_invalid(
      parse("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": 1}]", ToolCallFormat::kMistral),
      "arguments is a JSON number");
  expect_invalid(parse("[TOOL_CALLS][ARGS]{}", ToolCallFormat::kMistral), "missing name");
  expect_invalid(parse("[TOOL_CALLS]f[ARGS]oops", ToolCallFormat::kMistral),
                 "arguments after [ARGS] are not JSON");
  expect_invalid(parse("[TOOL_CALLS] ?!", ToolCallFormat::kMistral),
                 "expected a JSON list or name[ARGS]");
  expect_invalid(parse("[TOOL_CALLS]f hello", ToolCallFormat::kMistral),
                 "expected [ARGS] after the call name 'f'");
  expect_invalid(
      parse("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}, 3]", ToolCallFormat::kMistral),
      "tool call 2: expected a JSON object, got a number");
}

TEST(ToolCallMistral, TruncatedAndEveryPrefix) {
  EXPECT_TRUE(parse("[TOOL_CALLS]", ToolCallFormat::kMistral).truncated);
  EXPECT_TRUE(parse("[TOOL_CALLS]get_weather[AR", ToolCallFormat::kMistral).truncated);
  expect_every_prefix_safe(
      "Sure.[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"location\": \"]}\"}}, "
      "{\"name\": \"b\", \"arguments\": {}}]",
      ToolCallFormat::kMistral);
  expect_every_prefix_safe(
      "[TOOL_CALLS]get_weather[ARGS]{\"location\": \"NY\"}[TOOL_CALLS]f[CALL_ID]123456789[ARGS]{}",
      ToolCallFormat::kMistral);
}

TEST(ToolCallMistral, EmptyAndPlainText) {
  EXPECT_TRUE(parse("", ToolCallFormat::kMistral).valid);
  const ParsedReply text = parse("No tools needed [really].", ToolCallFormat::kMistral);
  EXPECT_TRUE(text.valid);
  EXPECT_TRUE(text.calls.empty());
  EXPECT_EQ(text.content, "No tools needed [really].");
}

// ---------------------------------------------------------------- name: / parameters:

TEST(ToolCallNameParameters, SingleAndSeveral) {
  const ParsedReply r = parse(
      "I will call two tools.\nname: get_weather\nparameters: {\"location\": \"NY\"}\n\n"
      "name: \"search\"\narguments: {\"query\": \"a\\nb\",\n  \"n\": 2}\nThat's all.",
      ToolCallFormat::kNameParameters);
  EXPECT_TRUE(r.valid) << r.error;
  ASSERT_EQ(r.calls.size(), 2u);
  expect_call(r, 0, "get_weather", R"({"location":"NY"})");
  expect_call(r, 1, "search", R"({"query":"a\nb","n":2})");
  EXPECT_EQ(r.content, "I will call two tools.\n\n\n\nThat's all.");
}

TEST(ToolCallNameParameters, ArgumentsAsString) {
  const ParsedReply r =
      parse("name: f\nparameters: \"{\\\"a\\\": 1}\"", ToolCallFormat::kNameParameters);
  EXPECT_TRUE(r.valid) << r.error;
  expect_call(r, 0, "f", R"({"a":1})");
}

TEST(ToolCallNameParameters, MalformedAndWrongTypes) {
  expect_invalid(parse("name: f\nparameters: {\"a\": tru}", ToolCallFormat::kNameParameters),
                 "tool call 1: invalid JSON at byte ");
  expect_invalid(parse("name: f\nparameters: [1, 2]", ToolCallFormat::kNameParameters),
                 "not an object");
  expect_invalid(parse("name: f\nparameters: location=NY", ToolCallFormat::kNameParameters),
                 "parameters are not a JSON object");
  expect_invalid(parse("name:\nparameters: {}", ToolCallFormat::kNameParameters), "missing name");
  expect_invalid(parse("name: f\nhello there", ToolCallFormat::kNameParameters),
                 "expected 'parameters:'");
}

TEST(ToolCallNameParameters, TruncatedAndEveryPrefix) {
  EXPECT_TRUE(parse("name: get_weather", ToolCallFormat::kNameParameters).truncated);
  EXPECT_TRUE(parse("name: get_weather\nparam", ToolCallFormat::kNameParameters).truncated);
  expect_every_prefix_safe(
      "ok\nname: get_weather\nparameters: {\"location\": \"}{\"}\nname: b\nparameters: {}",
      ToolCallFormat::kNameParameters);
}

TEST(ToolCallNameParameters, EmptyAndPlainText) {
  EXPECT_TRUE(parse("", ToolCallFormat::kNameParameters).valid);
  const ParsedReply text = parse("My name: Bob.", ToolCallFormat::kNameParameters);
  EXPECT_TRUE(text.valid);
  EXPECT_EQ(text.content, "My name: Bob.");
}

// ---------------------------------------------------------------- auto, names, OpenAI shape

TEST(ToolCallAuto, DetectsEachFormat) {
  const std::pair<std::string, std::string> cases[] = {
      {"<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}</tool_call>", "f"},
      {"<|python_tag|>{\"name\": \"f\", \"parameters\": {\"a\": 1}}", "f"},
      {"{\"name\": \"f\", \"parameters\": {\"a\": 1}}", "f"},
      {"[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\": 1}}]", "f"},
      {"[TOOL_CALLS]f[ARGS]{\"a\": 1}", "f"},
      {"name: f\nparameters: {\"a\": 1}", "f"},
  };
  for (const auto& [text, name] : cases) {
    const ParsedReply r = parse(text, ToolCallFormat::kAuto);
    EXPECT_TRUE(r.valid) << text << ": " << r.error;
    ASSERT_EQ(r.calls.size(), 1u) << text;
    expect_call(r, 0, name, R"({"a":1})");
  }
  const ParsedReply plain = parse("name: Bob\nJust chatting.", ToolCallFormat::kAuto);
  EXPECT_TRUE(plain.valid);
  EXPECT_TRUE(plain.calls.empty());
  EXPECT_EQ(plain.content, "name: Bob\nJust chatting.");
}

TEST(ToolCallFormatName, KnownAndUnknown) {
  EXPECT_EQ(tool_call_format_from_name("hermes"), ToolCallFormat::kHermes);
  EXPECT_EQ(tool_call_format_from_name("qwen"), ToolCallFormat::kHermes);
  EXPECT_EQ(tool_call_format_from_name("llama3"), ToolCallFormat::kLlama3Json);
  EXPECT_EQ(tool_call_format_from_name("mistral"), ToolCallFormat::kMistral);
  EXPECT_EQ(tool_call_format_from_name("name_parameters"), ToolCallFormat::kNameParameters);
  EXPECT_EQ(tool_call_format_from_name("auto"), ToolCallFormat::kAuto);
  for (ToolCallFormat f : kAllFormats)
    EXPECT_EQ(tool_call_format_from_name(tool_call_format_name(f)), f);
  EXPECT_THROW(tool_call_format_from_name("gpt"), Error);
  EXPECT_THROW(tool_call_format_from_name(""), Error);
}

TEST(ToolCallOpenAi, Shape) {
  const ParsedReply r =
      parse("Hi <tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"\\u00e9\"}}</tool_call>",
            ToolCallFormat::kHermes);
  const Json j = Json::parse(to_openai_json(r));
  EXPECT_EQ(j["content"], "Hi");
  ASSERT_EQ(j["tool_calls"].size(), 1u);
  EXPECT_EQ(j["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(j["tool_calls"][0]["type"], "function");
  EXPECT_EQ(j["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(j["tool_calls"][0]["function"]["arguments"], "{\"a\":\"\xc3\xa9\"}");

  const Json only_calls = Json::parse(
      to_openai_json(parse("{\"name\": \"f\", \"parameters\": {}}", ToolCallFormat::kAuto)));
  EXPECT_TRUE(only_calls["content"].is_null());
  const Json no_calls = Json::parse(to_openai_json(parse("hello", ToolCallFormat::kAuto)));
  EXPECT_EQ(no_calls["content"], "hello");
  EXPECT_FALSE(no_calls.contains("tool_calls"));

  ParsedReply broken;
  broken.content = "bad \xff utf8";
  EXPECT_NO_THROW(Json::parse(to_openai_json(broken)));
}

// Random corruption of valid replies: the parsers must never throw or break an invariant.
TEST(ToolCallFuzz, CorruptedRepliesNeverThrow) {
  const std::string samples[] = {
      "Hi\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"N\\\"Y\", "
      "\"n\": [1, {\"b\": null}]}}\n</tool_call>",
      "<|python_tag|>{\"name\": \"f\", \"parameters\": \"{\\\"a\\\": \\\"\\u00e9\\\"}\"}",
      "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\": 1}}]",
      "[TOOL_CALLS]f[CALL_ID]abc[ARGS]{\"a\": \"}\"}",
      "name: f\nparameters: {\"a\": [true, false]}\n",
      "<think>x</think><tool_call>[{\"function\": {\"name\": \"g\", \"arguments\": "
      "{}}}]</tool_call>",
  };
  const std::string inserts[] = {"{",
                                 "}",
                                 "[",
                                 "]",
                                 "\"",
                                 "\\",
                                 ":",
                                 ",",
                                 "\n",
                                 "<tool_call>",
                                 "</tool_call>",
                                 "[TOOL_CALLS]",
                                 "[ARGS]",
                                 "name:",
                                 "parameters:",
                                 "<|python_tag|>",
                                 "\\u",
                                 "\xff",
                                 "\xc3",
                                 "\\ud800",
                                 "</think>"};
  std::mt19937 rng(1234);
  for (const std::string& sample : samples) {
    for (int iter = 0; iter < 400; ++iter) {
      std::string text = sample;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
        switch (rng() % 3) {
          case 0:
            if (at < text.size()) text.erase(at, 1 + rng() % 3);
            break;
          case 1:
            text.insert(at, inserts[rng() % std::size(inserts)]);
            break;
          default:
            if (at < text.size()) text[at] = static_cast<char>(rng() % 256);
        }
      }
      for (ToolCallFormat f : kAllFormats) parse(text, f);
    }
  }
}

// ---------------------------------------------------------------- real template renders

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The assistant tool-call turns that Qwen2.5, Qwen3 and Llama 3.2's own templates render from
// OpenAI messages: parsing the turn must give back the messages' calls.
TEST(ToolCallTemplates, RecoversCallsFromRenderedAssistantTurns) {
  const std::string path = std::string(TSFT_TEST_DATA_DIR) + "/tool_calls/render_cases.json";
  const Json data = Json::parse(read_file(path));
  ASSERT_GE(data["cases"].size(), 8u) << path;
  for (const Json& c : data["cases"]) {
    const std::string label =
        c["model"].get<std::string>() + " " + c["description"].get<std::string>();
    SCOPED_TRACE(label);
    const std::string rendered = c["expected"];
    const std::string start = c["assistant_start"];
    const size_t from = rendered.find(start);
    ASSERT_NE(from, std::string::npos);
    const size_t body = from + start.size();
    const size_t to = rendered.find(c["assistant_end"].get<std::string>(), body);
    ASSERT_NE(to, std::string::npos);
    const std::string turn = rendered.substr(body, to - body);

    for (ToolCallFormat f :
         {tool_call_format_from_name(c["format"].get<std::string>()), ToolCallFormat::kAuto}) {
      const ParsedReply r = parse(turn, f);
      EXPECT_TRUE(r.valid) << turn << "\n" << r.error;
      const Json& expected_calls = c["tool_calls"];
      ASSERT_EQ(r.calls.size(), expected_calls.size()) << turn;
      for (size_t i = 0; i < r.calls.size(); ++i) {
        EXPECT_EQ(r.calls[i].name, expected_calls[i]["function"]["name"]);
        const Json expected_args =
            Json::parse(expected_calls[i]["function"]["arguments"].get<std::string>());
        EXPECT_EQ(Json::parse(r.calls[i].arguments_json), expected_args) << turn;
      }
      EXPECT_EQ(r.content.find("tool_call"), std::string::npos) << r.content;
    }
  }
}

}  // namespace
}  // namespace tsft
