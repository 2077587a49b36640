// The toolsft binary end to end: bad inputs give one line naming the file and the problem and a
// non-zero exit (no crash); generate and inspect work on the tiny and default models.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace {

const std::string kBin = TSFT_BINARY;
const std::string kData = TSFT_TEST_DATA_DIR;
const std::string kDefaultModel = tsft::testing::default_model_path();

using tsft::testing::CliResult;

CliResult run(const std::string& args) { return tsft::testing::run_binary(kBin, args); }

std::string write_file(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / ("tsft_cli_" + name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

std::string chat_prompt() {
  return write_file("chat_prompt.txt",
                    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n");
}

void expect_one_line_error(const CliResult& r, const std::string& must_contain) {
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(must_contain), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(Cli, BadModelFilesGiveOneLineErrors) {
  const std::string bad_magic = write_file("bad_magic.gguf", "NOPE0000000000000000000000");
  expect_one_line_error(run("inspect " + bad_magic), bad_magic);
  expect_one_line_error(run("generate --model " + bad_magic + " --prompt hi"), bad_magic);
  const std::string truncated = write_file("truncated.gguf", std::string("GGUF\x03\x00\x00\x00", 8));
  expect_one_line_error(run("inspect " + truncated), truncated);
  expect_one_line_error(run("inspect /nonexistent/model.gguf"), "/nonexistent/model.gguf");
}

TEST(Cli, BadOptionsGiveOneLineErrors) {
  expect_one_line_error(run("generate --no-such-flag"), "--no-such-flag");
  expect_one_line_error(run("generate --model " + kData + "/tiny/llama --max-new-tokens abc --prompt x"),
                        "--max-new-tokens");
  expect_one_line_error(run("generate --model " + kData + "/tiny/llama --temperature -1 --prompt x"),
                        "--temperature");
  EXPECT_EQ(run("no-such-command").exit_code, 2);
}

TEST(Cli, TokenizeShowsIdsAndPieces) {
  // Ids from the Hugging Face golden (tests/data/tokenizer_golden.jsonl, first line).
  const CliResult ids = run("tokenize --model " + kData + "/smollm2/tokenizer.json --ids-only --text 'Hello, world!'");
  EXPECT_EQ(ids.exit_code, 0) << ids.out;
  EXPECT_EQ(ids.out, "19556 28 905 17\n");
  const CliResult pieces = run("tokenize --model " + kData + "/smollm2/tokenizer.json --text '<|im_end|>x'");
  EXPECT_EQ(pieces.exit_code, 0) << pieces.out;
  EXPECT_NE(pieces.out.find("<|im_end|>  (special)"), std::string::npos) << pieces.out;
  expect_one_line_error(run("tokenize --model /nonexistent.json --text x"), "/nonexistent.json");
}

TEST(Cli, RenderShowsPromptAndAssistantSpans) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const std::string conv = write_file(
      "conv.json",
      R"({"messages": [{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "get_weather",
       "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": "18C"},
      {"role": "assistant", "content": "18C in Paris."}],
      "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]})");
  const CliResult r = run("render --model " + kDefaultModel + " --conversation " + conv);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ignores, tool prompt injected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[0] <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                       "\"Paris\"}}\n</tool_call><|im_end|>"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[1] 18C in Paris.<|im_end|>"), std::string::npos) << r.out;
  const std::string bad = write_file("bad.jsonl", "{\"messages\": []}\n{oops\n");
  expect_one_line_error(run("render --model " + kDefaultModel + " --conversation " + bad + " --line 2"),
                        bad + ":2: invalid JSON");
}

TEST(Cli, GenerateFromConversationPrintsOpenAiMessage) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const std::string conv = write_file(
      "gen_conv.json", R"({"messages": [{"role": "user", "content": "What is the capital of France?"}]})");
  const CliResult r = run("generate --model " + kDefaultModel + " --quiet --json --max-new-tokens 16 --conversation " + conv);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);  // the whole output is one JSON message
  EXPECT_NE(j["content"].get<std::string>().find("Paris"), std::string::npos) << r.out;
  expect_one_line_error(run("generate --model " + kDefaultModel + " --conversation " + conv + " --tool-format xml"),
                        "xml");
}

// Constrained decoding from the command line: tool_choice required and named force a call whose
// arguments fit the schema (an enum and a bounded integer); none forbids calls; errors name the
// option.
TEST(Cli, GenerateConstrainedToolCalls) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const std::string conv = write_file("gen_tools.json", R"({
    "messages": [{"role": "user", "content": "Set the living room lights to 40 percent."}],
    "tools": [{"type": "function", "function": {"name": "set_light", "parameters": {"type": "object",
      "properties": {"room": {"type": "string", "enum": ["living_room", "kitchen"]},
                     "level": {"type": "integer", "minimum": 0, "maximum": 100}},
      "required": ["room", "level"]}}},
              {"type": "function", "function": {"name": "lock_door", "parameters": {"type": "object",
      "properties": {"door": {"type": "string", "enum": ["front", "back"]}}, "required": ["door"]}}}]})");
  const std::string base = "generate --model " + kDefaultModel +
                           " --quiet --json --max-new-tokens 64 --threads 2 --conversation " + conv;
  for (const std::string choice : {"required", "lock_door"}) {
    const CliResult r = run(base + " --tool-choice " + choice);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.contains("tool_calls")) << r.out;
    const auto& fn = j["tool_calls"][0]["function"];
    const auto args = nlohmann::json::parse(fn["arguments"].get<std::string>());
    if (choice == "lock_door") {
      EXPECT_EQ(fn["name"], "lock_door");
    }
    if (fn["name"] == "set_light") {
      EXPECT_TRUE(args["room"] == "living_room" || args["room"] == "kitchen") << r.out;
      EXPECT_GE(args["level"].get<int>(), 0);
      EXPECT_LE(args["level"].get<int>(), 100);
    } else {
      EXPECT_TRUE(args["door"] == "front" || args["door"] == "back") << r.out;
    }
  }
  const CliResult none = run(base + " --tool-choice none");
  ASSERT_EQ(none.exit_code, 0) << none.out;
  EXPECT_FALSE(nlohmann::json::parse(none.out).contains("tool_calls")) << none.out;
  expect_one_line_error(run(base + " --tool-choice open_window"), "open_window");
  expect_one_line_error(run(base + " --decoding fancy"), "--decoding");
  // The call gate: at 1 the reply is text, constrained or free; it needs tool choice auto and
  // a conversation with tools.
  for (const char* decoding : {"constrained", "free"}) {
    const CliResult gated = run(base + " --call-gate 1 --decoding " + decoding);
    ASSERT_EQ(gated.exit_code, 0) << gated.out;
    EXPECT_FALSE(nlohmann::json::parse(gated.out).contains("tool_calls")) << gated.out;
  }
  expect_one_line_error(run(base + " --call-gate 1 --tool-choice required"),
                        "--call-gate needs --tool-choice auto");
  expect_one_line_error(run(base + " --call-gate 1.5"), "call gate threshold must be in [0, 1]");
  expect_one_line_error(run("generate --model " + kDefaultModel + " --prompt hi --call-gate 0.5"),
                        "--call-gate need a --conversation that offers tools");
}

TEST(Cli, InspectProbesTheChatTemplateForTools) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const CliResult r = run("inspect " + kDefaultModel);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("tools: ignores them"), std::string::npos) << r.out;
}

TEST(Cli, InspectDescribesTinyModel) {
  const CliResult r = run("inspect " + kData + "/tiny/qwen3");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("qwen3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 key/value"), std::string::npos) << r.out;
}

TEST(Cli, GenerateOnDefaultModel) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const CliResult r = run("generate --model " + kDefaultModel +
                    " --quiet --max-new-tokens 24 --prompt-file " + chat_prompt());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Paris"), std::string::npos) << r.out;
}

TEST(Cli, StopStringEndsGeneration) {
  ASSERT_TRUE(std::filesystem::exists(kDefaultModel));
  const CliResult r = run("generate --model " + kDefaultModel +
                    " --quiet --max-new-tokens 40 --stop Paris --prompt-file " + chat_prompt());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("Paris"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("capital of France"), std::string::npos) << r.out;
}

}  // namespace
