// ChatFormat: templates that render tools are used as they are; for SmolLM2, which ignores tools,
// the tool prompt is injected (system turn, <tool_call> replies, <tool_response> turns), and the
// assistant spans still cover exactly what the assistant wrote.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
const std::string kData = TSFT_TEST_DATA_DIR;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

ChatFormat format_for(const std::string& dir, const std::string& eot) {
  const std::string d = kData + "/chat_templates/" + dir;
  const ordered_json cases = ordered_json::parse(read(d + "/render_cases.json"));
  ordered_json extra = ordered_json::object();
  for (auto& [k, v] : cases["special_tokens"].items()) extra[k] = v;
  return ChatFormat(ChatTemplate(read(d + "/chat_template.jinja"), dir), extra, eot);
}

const ordered_json kTools = ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
  "description": "Weather now", "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
  "required": ["city"]}}}])");

const ordered_json kConversation = ordered_json::parse(R"([
  {"role": "user", "content": "Weather in Paris?"},
  {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
    "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
  {"role": "tool", "tool_call_id": "c1", "content": "18C, sunny"},
  {"role": "assistant", "content": "It is 18C and sunny in Paris."}])");

TEST(ChatFormat, DetectsTemplatesThatRenderTools) {
  EXPECT_FALSE(format_for("SmolLM2-135M-Instruct", "<|im_end|>").template_handles_tools());
  EXPECT_TRUE(format_for("Qwen2.5-0.5B-Instruct", "<|im_end|>").template_handles_tools());
  EXPECT_TRUE(format_for("Qwen3-0.6B", "<|im_end|>").template_handles_tools());
  EXPECT_TRUE(format_for("Llama-3.2-1B-Instruct", "<|eot_id|>").template_handles_tools());
}

// What constrained decoding writes (serve picks its grammar's syntax from this): the template's own
// rendering of a call, and toolsft's <tool_call> prompt for SmolLM2.
TEST(ChatFormat, WrittenCallFormat) {
  EXPECT_EQ(format_for("SmolLM2-135M-Instruct", "<|im_end|>").written_call_format(),
            ToolCallFormat::kHermes);
  EXPECT_EQ(format_for("Qwen2.5-0.5B-Instruct", "<|im_end|>").written_call_format(),
            ToolCallFormat::kHermes);
  EXPECT_EQ(format_for("Qwen3-0.6B", "<|im_end|>").written_call_format(), ToolCallFormat::kHermes);
  EXPECT_EQ(format_for("Llama-3.2-1B-Instruct", "<|eot_id|>").written_call_format(),
            ToolCallFormat::kLlama3Json);
  // A template that writes calls some other way cannot be told apart: kAuto.
  const ChatFormat odd(ChatTemplate("{% if tools %}{% for t in tools %}{{ t.function.name }} "
                                    "{% endfor %}|{% endif %}{% for m in messages %}{{ m.role }}: {% if m.tool_calls %}"
                                    "CALL {{ m.tool_calls[0].function.name }}{% else %}"
                                    "{{ m.content }}{% endif %}|{% endfor %}"
                                    "{% if add_generation_prompt %}assistant: {% endif %}",
                                    "odd"),
                       ordered_json::object(), "|");
  EXPECT_EQ(odd.written_call_format(), ToolCallFormat::kAuto);
}

TEST(ChatFormat, InjectsToolPromptForSmolLM2) {
  const ChatFormat f = format_for("SmolLM2-135M-Instruct", "<|im_end|>");
  const std::string text = f.render(kConversation, kTools, true);
  const std::string want =
      "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user "
      "query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
      "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather "
      "now\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
      "\"required\": [\"city\"]}}}\n</tools>\n\nFor each function call, return a json object with "
      "function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
      "<function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
      "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
      "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\"}}\n</tool_call><|im_end|>\n"
      "<|im_start|>user\n<tool_response>\n18C, sunny\n</tool_response><|im_end|>\n"
      "<|im_start|>assistant\nIt is 18C and sunny in Paris.<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(text, want);
}

TEST(ChatFormat, SpansCoverToolCallsAndReplies) {
  for (const auto& [dir, eot] : std::vector<std::pair<std::string, std::string>>{
           {"SmolLM2-135M-Instruct", "<|im_end|>"},
           {"Qwen2.5-0.5B-Instruct", "<|im_end|>"},
           {"Qwen3-0.6B", "<|im_end|>"},
           {"Llama-3.2-1B-Instruct", "<|eot_id|>"}}) {
    const ChatFormat f = format_for(dir, eot);
    const RenderedConversation conv = f.render_with_spans(kConversation, kTools);
    ASSERT_EQ(conv.assistant.size(), 2u) << dir;
    const std::string call = conv.text.substr(conv.assistant[0].begin, conv.assistant[0].end - conv.assistant[0].begin);
    const std::string reply = conv.text.substr(conv.assistant[1].begin, conv.assistant[1].end - conv.assistant[1].begin);
    EXPECT_NE(call.find("get_weather"), std::string::npos) << dir << ": " << call;
    EXPECT_NE(call.find("Paris"), std::string::npos) << dir << ": " << call;
    EXPECT_EQ(call.find("Weather in Paris?"), std::string::npos) << dir << ": " << call;
    // Qwen3 renders the last reply with its (empty) <think> block, which the model writes too.
    const size_t at = reply.find("It is 18C and sunny in Paris.");
    ASSERT_NE(at, std::string::npos) << dir << ": " << reply;
    EXPECT_TRUE(at == 0 || (dir == "Qwen3-0.6B" && reply.rfind("<think>", 0) == 0)) << dir << ": " << reply;
    EXPECT_EQ(reply.find("<tool_response>"), std::string::npos) << dir << ": " << reply;
    EXPECT_EQ(reply.substr(reply.size() - eot.size()), eot) << dir;
  }
}

TEST(ChatFormat, BadToolCallArgumentsAreAClearError) {
  const ChatFormat f = format_for("SmolLM2-135M-Instruct", "<|im_end|>");
  ordered_json bad = kConversation;
  bad[1]["tool_calls"][0]["function"]["arguments"] = "{not json";
  try {
    f.render(bad, kTools, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("get_weather"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tsft
