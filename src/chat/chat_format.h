// The one way toolsft turns a conversation into model input, shared by training, evaluation and
// serving: the model's own chat template, plus the injected tool prompt when the template ignores
// tools, plus the assistant spans that assistant-only loss trains on.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chat/chat_template.h"
#include "chat/role_spans.h"
#include "chat/tool_call.h"
#include "chat/tool_prompt.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

class ChatFormat {
 public:
  // extra: template variables such as bos_token / eos_token; end_of_turn: the text closing an
  // assistant turn (included in its span).
  ChatFormat(ChatTemplate tpl, nlohmann::ordered_json extra, std::string end_of_turn,
             ToolPromptStyle style = {});

  // The template the tokenizer carries (GGUF tokenizer.chat_template or tokenizer_config.json),
  // bos/eos token texts as variables, and the eos token as end of turn. Throws tsft::Error naming
  // `source` when there is no template.
  static ChatFormat from_tokenizer(const Tokenizer& tok, const std::string& source);

  bool template_handles_tools() const { return handles_tools_; }
  const std::string& end_of_turn() const { return end_of_turn_; }
  ChatTemplate& chat_template() { return tpl_; }

  // The messages the template will see (tool prompt injected when needed).
  nlohmann::ordered_json prepare(const nlohmann::ordered_json& messages,
                                 const nlohmann::ordered_json& tools) const;
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     bool add_generation_prompt) const;
  RenderedConversation render_with_spans(const nlohmann::ordered_json& messages,
                                         const nlohmann::ordered_json& tools) const;

  // How an assistant's tool call is written in this format, read from the assistant's span of a
  // rendered probe conversation with one call (no guessing from the template's text): kHermes
  // for <tool_call> JSON (Qwen, and toolsft's tool prompt for templates that ignore tools),
  // kLlama3Json for a bare {"name", "parameters"} object, kMistral for [TOOL_CALLS], kAuto when
  // the span is none of these or the template raises.
  ToolCallFormat written_call_format() const;

 private:
  nlohmann::ordered_json tools_for_template(const nlohmann::ordered_json& tools) const;

  ChatTemplate tpl_;
  nlohmann::ordered_json extra_;
  std::string end_of_turn_;
  ToolPromptStyle style_;
  bool handles_tools_ = false;
};

// The syntax replies are read in: `requested`, except that kAuto with a template that ignores
// tools means toolsft's Hermes-style tool prompt (chat/tool_prompt.h) is what the model was
// shown, so that is the syntax to read; guessing would take a cut-off JSON answer for a call.
ToolCallFormat reply_format(const ChatFormat& chat, ToolCallFormat requested);

}  // namespace tsft
