// Role spans on every shipped template: each assistant message's span holds its content and ends
// with the end-of-turn marker, and decoding the masked tokens gives back exactly those spans.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/role_spans.h"
#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
const std::string kData = TSFT_TEST_DATA_DIR;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// SmolLM2's tokenizer plus the template's own markers as special tokens (new ids past the
// vocabulary), so every template's turn markers stay whole tokens as in the real model.
Tokenizer tokenizer_with(const std::vector<std::string>& markers) {
  return Tokenizer::from_json_file(kData + "/smollm2/tokenizer.json").with_special_tokens(markers);
}

struct TemplateCase {
  std::string dir, end_of_turn;
  std::vector<std::string> markers;
};

class RoleSpans : public ::testing::TestWithParam<TemplateCase> {};

TEST_P(RoleSpans, MaskedTokensDecodeToTheAssistantTurns) {
  const TemplateCase& tc = GetParam();
  const std::string dir = kData + "/chat_templates/" + tc.dir;
  ChatTemplate tpl(read(dir + "/chat_template.jinja"), tc.dir);
  tpl.set_clock([] {  // the reference renders were made on 17 Dec 2025
    std::tm t{};
    t.tm_year = 125, t.tm_mon = 11, t.tm_mday = 17, t.tm_hour = 12;
    return std::chrono::system_clock::from_time_t(timegm(&t));
  });
  const Tokenizer tok = tokenizer_with(tc.markers);
  int checked = 0, cut_spans = 0;
  for (const char* file : {"/render_cases.json", "/generated_cases.json"}) {
    const ordered_json cases = ordered_json::parse(read(dir + file));
    ordered_json base_extra = ordered_json::object();
    for (auto& [k, v] : cases["special_tokens"].items()) base_extra[k] = v;
    for (const auto& c : cases["cases"]) {
      if (c.contains("expected_error")) continue;  // the template refuses this conversation
      ordered_json extra = base_extra;
      if (c.contains("extra"))
        for (auto& [k, v] : c["extra"].items()) extra[k] = v;
      const ordered_json& msgs = c["messages"];
      const ordered_json tools = c.contains("tools") ? c["tools"] : ordered_json();
      size_t n_assistant = 0;
      for (const auto& m : msgs) n_assistant += m["role"] == "assistant";
      if (n_assistant == 0) continue;
      const std::string desc = c["description"].get<std::string>();
      RenderedConversation conv;
      try {
        conv = render_conversation(tpl, msgs, tools, extra, tc.end_of_turn);
      } catch (const Error& e) {
        ADD_FAILURE() << desc << ": " << e.what();
        continue;
      }
      if (!c["add_generation_prompt"].get<bool>()) {
        EXPECT_EQ(conv.text, c["expected"].get<std::string>()) << desc;
      }
      ASSERT_EQ(conv.assistant.size(), n_assistant) << desc;
      const TokenizedConversation t = tokenize_conversation(conv, tok);
      // Token start offsets. A token that starts before a span but reaches into it (content that
      // begins with "\n" right after the role header's "\n") is not the assistant's: at serving
      // time that header is already in the prompt. So the masked tokens must decode to each span
      // from its first token start on, and that cut must stay within the straddling token.
      std::vector<size_t> start(t.ids.size() + 1, 0);
      for (size_t k = 0; k < t.ids.size(); ++k) start[k + 1] = start[k] + tok.token_bytes(t.ids[k]).size();
      std::string spans;
      size_t a = 0;
      for (const auto& m : msgs) {
        if (m["role"] != "assistant") continue;
        const TextSpan sp = conv.assistant[a++];
        const std::string text = conv.text.substr(sp.begin, sp.end - sp.begin);
        // Templates trim content and move reasoning; Llama drops content beside a tool call.
        if (m.contains("content") && m["content"].is_string() && !m.contains("tool_calls")) {
          std::string content = m["content"].get<std::string>();
          if (const size_t think = content.rfind("</think>"); think != std::string::npos)
            content = content.substr(think + 8);
          const size_t b = content.find_first_not_of(" \t\r\n");
          content = b == std::string::npos ? "" : content.substr(b, content.find_last_not_of(" \t\r\n") - b + 1);
          EXPECT_NE(text.find(content), std::string::npos) << desc << ": " << text;
        }
        EXPECT_EQ(text.substr(text.size() - tc.end_of_turn.size()), tc.end_of_turn) << desc << ": " << text;
        size_t first = 0;
        while (start[first] < sp.begin) ++first;
        EXPECT_LE(start[first] - sp.begin, start[first] - start[first > 0 ? first - 1 : 0]) << desc;
        cut_spans += start[first] != sp.begin;
        spans += conv.text.substr(start[first], sp.end - start[first]);
      }
      std::vector<int32_t> masked;
      for (size_t k = 0; k < t.ids.size(); ++k)
        if (t.assistant_mask[k]) masked.push_back(t.ids[k]);
      EXPECT_EQ(tok.decode(masked), spans) << desc;
      ++checked;
    }
  }
  std::printf("[ %s ] %d conversations with assistant turns checked; %d replies start inside a "
              "token that began in the role header\n", tc.dir.c_str(), checked, cut_spans);
  EXPECT_GT(checked, 3) << "too few cases with assistant turns";
}

INSTANTIATE_TEST_SUITE_P(
    Templates, RoleSpans,
    ::testing::Values(
        TemplateCase{"SmolLM2-135M-Instruct", "<|im_end|>", {}},
        TemplateCase{"Qwen2.5-0.5B-Instruct", "<|im_end|>", {}},
        TemplateCase{"Qwen3-0.6B", "<|im_end|>", {}},
        TemplateCase{"Llama-3.2-1B-Instruct", "<|eot_id|>",
                     {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                      "<|eom_id|>", "<|python_tag|>"}}),
    [](const auto& info) {
      std::string n = info.param.dir;
      for (char& ch : n)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

}  // namespace
}  // namespace tsft
