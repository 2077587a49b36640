#include "chat/chat_format.h"

#include "core/error.h"

namespace tsft {

using nlohmann::ordered_json;

ChatFormat::ChatFormat(ChatTemplate tpl, ordered_json extra, std::string end_of_turn,
                       ToolPromptStyle style)
    : tpl_(std::move(tpl)),
      extra_(std::move(extra)),
      end_of_turn_(std::move(end_of_turn)),
      style_(std::move(style)) {
  handles_tools_ = template_renders_tools(tpl_, extra_);
}

ChatFormat ChatFormat::from_tokenizer(const Tokenizer& tok, const std::string& source) {
  if (tok.chat_template().empty())
    fail(source, ": the model has no chat template (tokenizer.chat_template or tokenizer_config.json)");
  ordered_json extra = ordered_json::object();
  auto text_of = [&](int32_t id) { return id >= 0 ? tok.token_bytes(id) : std::string(); };
  extra["bos_token"] = text_of(tok.bos_id());
  extra["eos_token"] = text_of(tok.eos_id());
  return ChatFormat(ChatTemplate(tok.chat_template(), source + " chat template"), std::move(extra),
                    text_of(tok.eos_id()));
}

ordered_json ChatFormat::prepare(const ordered_json& messages, const ordered_json& tools) const {
  if (handles_tools_) return messages;
  // A template that ignores tools must still see the tool list and the tool turns, as text.
  bool needs_text = tools.is_array() && !tools.empty();
  for (const auto& m : messages)
    needs_text |= m.value("role", "") == "tool" ||
                  (m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty());
  return needs_text ? inject_tool_prompt(messages, tools, style_) : messages;
}

ordered_json ChatFormat::tools_for_template(const ordered_json& tools) const {
  return handles_tools_ ? tools : ordered_json();
}

std::string ChatFormat::render(const ordered_json& messages, const ordered_json& tools,
                               bool add_generation_prompt) const {
  return tpl_.render(prepare(messages, tools), tools_for_template(tools), add_generation_prompt, extra_);
}

RenderedConversation ChatFormat::render_with_spans(const ordered_json& messages,
                                                   const ordered_json& tools) const {
  return render_conversation(tpl_, prepare(messages, tools), tools_for_template(tools), extra_,
                             end_of_turn_);
}

ToolCallFormat ChatFormat::written_call_format() const {
  const std::string probe = "tsft_probe_call_7f3a";
  const ordered_json tools = ordered_json::array(
      {{{"type", "function"},
        {"function",
         {{"name", probe},
          {"description", "probe"},
          {"parameters",
           {{"type", "object"}, {"properties", {{"x", {{"type", "integer"}}}}}}}}}}});
  const ordered_json messages = ordered_json::array(
      {{{"role", "user"}, {"content", "hi"}},
       {{"role", "assistant"},
        {"content", ""},
        {"tool_calls",
         ordered_json::array({{{"id", "call_1"},
                               {"type", "function"},
                               {"function", {{"name", probe}, {"arguments", {{"x", 1}}}}}}})}}});
  std::string span;
  try {
    const RenderedConversation conv = render_with_spans(messages, tools);
    if (conv.assistant.size() != 1) return ToolCallFormat::kAuto;
    span = conv.text.substr(conv.assistant[0].begin, conv.assistant[0].end - conv.assistant[0].begin);
  } catch (const Error&) {
    return ToolCallFormat::kAuto;
  }
  // What stands before the call's name says how it is opened; Qwen3 puts an empty
  // <think></think> block before the call, so the opener need not start the span.
  const size_t name = span.find(probe);
  if (name == std::string::npos) return ToolCallFormat::kAuto;
  if (span.find("<tool_call>") < name) return ToolCallFormat::kHermes;
  if (span.find("[TOOL_CALLS]") < name) return ToolCallFormat::kMistral;
  const size_t brace = span.rfind('{', name);
  if (brace != std::string::npos && span.find_first_not_of(" \t\r\n") == brace &&
      span.find("\"parameters\"", name) != std::string::npos)
    return ToolCallFormat::kLlama3Json;
  return ToolCallFormat::kAuto;
}

ToolCallFormat reply_format(const ChatFormat& chat, ToolCallFormat requested) {
  if (requested == ToolCallFormat::kAuto && !chat.template_handles_tools())
    return ToolCallFormat::kHermes;
  return requested;
}

}  // namespace tsft
