// Dataset rows: real-world row shapes normalise to one layout, every kind of malformed row is an
// error naming FILE:LINE and the field, tools come per row or once for the dataset, and rows whose
// tool schemas differ keep exactly their own schema (tools that load datasets into one columnar
// table merge them, adding null keys to every schema and corrupting the prompts).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "core/error.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace tsft {
namespace {

using testing::error_of;
using testing::write_temp;
const Tokenizer& smollm2() { return testing::smollm2_tokenizer(); }
const ChatFormat& smollm2_chat() { return testing::smollm2_chat_format(); }

using nlohmann::ordered_json;
const std::string kData = TSFT_TEST_DATA_DIR;

const char* kWeatherTool =
    R"({"type": "function", "function": {"name": "get_weather", "description": "Weather now",)"
    R"( "parameters": {"type": "object", "properties": {"city": {"type": "string"},)"
    R"( "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}})";
const char* kEmailTool =
    R"({"name": "send_email", "parameters": {"type": "object", "properties":)"
    R"( {"to": {"type": "array", "items": {"type": "string"}}, "body": {"type": "string"}},)"
    R"( "required": ["to", "body"]}})";

TEST(DatasetRows, RealWorldShapesNormaliseToOneLayout) {
  const std::string rows =
      // OpenAI fine-tuning layout: arguments as a JSON string, extra keys ignored.
      std::string(R"({"messages": [{"role": "system", "content": "Be brief."}, )") +
      R"({"role": "user", "content": "Weather in Oslo?"}, {"role": "assistant", "content": null, )" +
      R"("tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", )" +
      R"("arguments": "{\"city\": \"Oslo\"}"}}]}, {"role": "tool", "tool_call_id": "call_1", )" +
      R"("content": "{\"temp\": 3}"}, {"role": "assistant", "content": "3 degrees."}], )" +
      R"("tools": [)" + kWeatherTool + R"(], "metadata": {"source": "x"}})" + "\n" +
      // Content as a list of text parts, flat tool call, arguments as an object.
      R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "Mail "}, )" +
      R"({"type": "text", "text": "Bo"}]}, {"role": "assistant", "tool_calls": [{"name": )" +
      R"("send_email", "arguments": {"to": ["bo@x.org"], "body": "hi"}}]}], "tools": [)" +
      kEmailTool + "]}\n" +
      // LLaMA-Factory ShareGPT with tools as a JSON string, function_call and observation turns.
      R"({"conversations": [{"from": "human", "value": "Oslo?"}, {"from": "function_call", )" +
      R"("value": "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}"}, )" +
      R"({"from": "observation", "value": "3"}, {"from": "gpt", "value": "3 degrees."}], )" +
      R"("tools": "[{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\"}}]", )" +
      R"("system": "S"})" + "\n" + R"({"prompt": "2+2=", "completion": "4"})" + "\n" +
      R"({"text": "plain"})" + "\n";
  DatasetReadStats st;
  const auto r = read_dataset(write_temp("shapes.jsonl", rows), {}, &st);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(st.chat, 3);
  EXPECT_EQ(st.prompt_completion, 1);
  EXPECT_EQ(st.text, 1);
  EXPECT_EQ(st.own_tools, 3);
  const ordered_json& call = r[0].messages[2]["tool_calls"][0];
  EXPECT_EQ(call["id"], "call_1");
  EXPECT_EQ(call["function"]["arguments"], ordered_json::parse(R"({"city": "Oslo"})"));
  EXPECT_EQ(r[0].messages[2]["content"], "");
  EXPECT_EQ(r[0].messages[3]["tool_call_id"], "call_1");
  EXPECT_EQ(r[1].messages[0]["content"], "Mail Bo");
  EXPECT_EQ(r[1].messages[1]["tool_calls"][0]["function"]["name"], "send_email");
  EXPECT_EQ(r[1].tools[0]["type"], "function");  // a bare function is wrapped
  EXPECT_EQ(r[2].messages[0]["role"], "system");
  EXPECT_EQ(r[2].messages[2]["role"], "assistant");
  EXPECT_EQ(r[2].messages[3]["role"], "tool");
  EXPECT_EQ(r[2].tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(r[3].kind, DatasetRow::Kind::kPromptCompletion);
  EXPECT_EQ(r[3].where.substr(r[3].where.size() - 2), ":4");
  EXPECT_EQ(r[4].text, "plain");
}

TEST(DatasetRows, DifferingSchemasStayExactlyAsEachRowGaveThem) {
  const std::string text = std::string(R"({"messages": [{"role": "user", "content": "a"}, )") +
                           R"({"role": "assistant", "content": "b"}], "tools": [)" + kWeatherTool +
                           "]}\n" + R"({"messages": [{"role": "user", "content": "c"}, )" +
                           R"({"role": "assistant", "content": "d"}], "tools": [)" + kEmailTool +
                           "]}\n";
  const std::string path = write_temp("schemas.jsonl", text);
  const auto r = read_dataset(path, {}, nullptr);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].tools[0], ordered_json::parse(kWeatherTool));
  EXPECT_EQ(r[1].tools[0]["function"], ordered_json::parse(kEmailTool));
  // And what the model sees: each prompt holds its own schema and nothing of the other's.
  const ChatFormat& chat = smollm2_chat();
  const std::string a = chat.render_with_spans(r[0].messages, r[0].tools).text;
  const std::string b = chat.render_with_spans(r[1].messages, r[1].tools).text;
  EXPECT_NE(a.find("\"enum\": [\"c\", \"f\"]"), std::string::npos) << a;
  EXPECT_EQ(a.find("send_email"), std::string::npos);
  EXPECT_EQ(b.find("\"enum\""), std::string::npos) << b;
  EXPECT_EQ(b.find("null"), std::string::npos) << b;
  EXPECT_NE(b.find("\"items\": {\"type\": \"string\"}"), std::string::npos) << b;
}

TEST(DatasetRows, DatasetToolsGoToRowsWithoutTheirOwn) {
  const std::string tools_path =
      write_temp("tools.json", std::string(R"({"tools": [)") + kWeatherTool + "]}");
  DatasetReadOptions opt;
  opt.tools = read_tools_file(tools_path);
  const std::string text =
      std::string(R"({"messages": [{"role": "user", "content": "Oslo?"}, {"role": "assistant", )") +
      R"("tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": )" +
      R"({"city": "Oslo"}}}]}]})" + "\n" +
      R"({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], )" +
      R"("tools": [)" + kEmailTool + "]}\n";
  DatasetReadStats st;
  const auto r = read_dataset(write_temp("ds_tools.jsonl", text), opt, &st);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0].own_tools);
  EXPECT_EQ(r[0].tools, opt.tools);
  EXPECT_TRUE(r[1].own_tools);
  EXPECT_EQ(r[1].tools[0]["function"]["name"], "send_email");
  EXPECT_EQ(st.dataset_tools, 1);
  EXPECT_EQ(st.own_tools, 1);
  // Without the dataset's tools, the first row's call names a tool nobody offered — allowed (no
  // tools at all), but with tools offered that lack it, it is an error.
  EXPECT_NO_THROW(read_dataset(write_temp("ds_tools.jsonl", text), {}, nullptr));
  DatasetReadOptions other;
  other.tools = normalize_tool_list(ordered_json::parse(std::string("[") + kEmailTool + "]"), "x");
  EXPECT_NE(error_of([&] { read_dataset(write_temp("ds_tools.jsonl", text), other, nullptr); })
                .find("ds_tools.jsonl:1: messages[1].tool_calls[0].function.name: calls "
                      "'get_weather', which is not among the row's tools"),
            std::string::npos);
  // The loader for training takes the same option.
  SftLoadOptions so;
  so.tools = opt.tools;
  so.max_seq_len = 4096;
  const auto ex = load_sft_dataset(write_temp("ds_tools.jsonl", text), smollm2(), &smollm2_chat(),
                                   so, nullptr);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_NE(smollm2().decode(ex[0].ids).find("\"unit\""), std::string::npos);
}

TEST(DatasetRows, ToolsFilesAreCheckedWithTheirPath) {
  EXPECT_NE(error_of([] { read_tools_file(write_temp("t1.json", "[{\"name\": 3}]")); })
                .find("t1.json: tools[0].name: expected a string, got number"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_tools_file(write_temp("t2.json", "{\"x\": 1}")); })
                .find("t2.json: tools: expected a list of tools"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_tools_file(write_temp("t3.json", "[\n{\"name\": \"a\",}\n]")); })
                .find("t3.json:2:"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_tools_file(write_temp("t4.json", "[]")); }).find("no tools"),
            std::string::npos);
  EXPECT_NE(
      error_of([] {
        read_tools_file(write_temp("t5.json", R"([{"name": "a", "parameters": "object"}])"));
      }).find("t5.json: tools[0].parameters: expected a JSON Schema object, got string"),
      std::string::npos);
  EXPECT_NE(error_of([] { read_tools_file("/nonexistent/tools.json"); }).find("cannot open"),
            std::string::npos);
}

// Every kind of malformed row, each alone on line 2 after a good row.
TEST(DatasetRows, EveryMalformedRowNamesLineAndField) {
  const std::string good = R"({"prompt": "p", "completion": "c"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([1, 2])", ":2: expected a JSON object, got array"},
      {R"({"prompt": "p", "completion": )", ":2:31: invalid JSON"},
      {R"({"prompt": 1e309, "completion": "c"})", ":2: invalid JSON: number overflow parsing '1e309'"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{\"a\": 1e999}"}]}]})",
       ":2: messages[0].tool_calls[0].arguments: not valid JSON"},
      {R"({"foo": 1})", ":2: expected \"messages\", \"conversations\""},
      {R"({"prompt": "p"})", ":2: completion: missing"},
      {R"({"prompt": 1, "completion": "c"})", ":2: prompt: expected a string, got number"},
      {R"({"text": null})", ":2: text: expected a string, got null"},
      {R"({"messages": {}})", ":2: messages: expected a list, got object"},
      {R"({"messages": []})", ":2: messages: empty"},
      {R"({"messages": ["hi"]})", ":2: messages[0]: expected an object, got string"},
      {R"({"messages": [{"content": "x"}]})", ":2: messages[0].role: missing"},
      {R"({"messages": [{"role": "bot", "content": "x"}]})", ":2: messages[0].role: expected one of"},
      {R"({"messages": [{"role": "user"}]})", ":2: messages[0].content: missing"},
      {R"({"messages": [{"role": "user", "content": 5}]})",
       ":2: messages[0].content: expected a string, got number"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       ":2: messages[0].content[0]: expected a {\"type\": \"text\""},
      {R"({"messages": [{"role": "user", "content": "x"}, {"role": "assistant"}]})",
       ":2: messages[1].content: an assistant message needs content or tool_calls"},
      {R"({"messages": [{"role": "user", "content": "x", "tool_calls": []}]})",
       ":2: messages[0].tool_calls: only assistant messages make tool calls"},
      {R"({"messages": [{"role": "assistant", "tool_calls": {}}]})",
       ":2: messages[0].tool_calls: expected a list, got object"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}]})",
       ":2: messages[0].tool_calls[0].function.name: missing"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": ""}}]}]})",
       ":2: messages[0].tool_calls[0].function.name: empty"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "[1]"}]}]})",
       ":2: messages[0].tool_calls[0].arguments: expected a JSON object, got array"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{x"}]}]})",
       ":2: messages[0].tool_calls[0].arguments: not valid JSON"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"id": 7, "name": "f"}]}]})",
       ":2: messages[0].tool_calls[0].id: expected a string"},
      {R"({"messages": [{"role": "tool", "content": "r", "tool_call_id": 3}]})",
       ":2: messages[0].tool_call_id: expected a string, got number"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})",
       ":2: tools: expected a list, got object"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": "[{"})",
       ":2: tools: not valid JSON"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"function": 1}]})",
       ":2: tools[0].function: expected an object, got number"},
      {R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"description": "d"}]})",
       ":2: tools[0].name: missing"},
      {R"({"conversations": "hi"})", ":2: conversations: expected a list, got string"},
      {R"({"conversations": [{"from": "human"}]})", ":2: conversations[0].value: missing"},
      {R"({"conversations": [{"from": "robot", "value": "x"}]})",
       ":2: conversations[0].from: expected one of"},
      {R"({"conversations": [{"from": "function_call", "value": "not json"}]})",
       ":2: conversations[0].value: a function_call must be JSON"},
      {R"({"conversations": [{"from": "function_call", "value": "3"}]})",
       ":2: conversations[0].value: expected a JSON object or list of them"},
      {R"({"conversations": [{"from": "human", "value": "x"}], "system": 1})",
       ":2: system: expected a string, got number"},
  };
  for (const auto& [row, want] : cases) {
    const std::string path = write_temp("bad_rows.jsonl", good + "\n" + row + "\n");
    const std::string err = error_of([&] { read_dataset(path, {}, nullptr); });
    EXPECT_NE(err.find("bad_rows.jsonl" + want), std::string::npos) << row << "\n  -> " << err;
  }
  // All of them in one file with skip_invalid: each counted, the good one kept.
  std::string all = good + "\n";
  for (const auto& c : cases) all += c.first + "\n";
  DatasetReadOptions opt;
  opt.skip_invalid = true;
  DatasetReadStats st;
  const auto r = read_dataset(write_temp("bad_rows.jsonl", all), opt, &st);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(st.rows, static_cast<int64_t>(cases.size()) + 1);
  EXPECT_EQ(st.skipped_invalid, static_cast<int64_t>(cases.size()));
  EXPECT_EQ(st.first_errors.size(), 5u);
}

}  // namespace
}  // namespace tsft
