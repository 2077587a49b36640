// Which part of a rendered conversation the assistant wrote (its content, tool calls and
// end-of-turn marker), found from the model's own template without {% generation %} markers,
// and the matching per-token mask that assistant-only loss uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tsft {

struct TextSpan {
  size_t begin = 0, end = 0;  // byte range [begin, end) of the rendered text
};

struct RenderedConversation {
  std::string text;                // the whole conversation, as the template renders it
  std::vector<TextSpan> assistant;  // one span per assistant message, in order
};

// Renders `messages` (no generation prompt) and finds each assistant message's span: the text
// the template adds between the render of the conversation before it (with the generation prompt)
// and the render that includes it, cut just after the last `end_of_turn` in it (e.g.
// "<|im_end|>"; empty keeps the whole addition), then found in the full render. Throws
// tsft::Error naming the message index when it cannot be found there.
RenderedConversation render_conversation(const ChatTemplate& tpl,
                                         const nlohmann::ordered_json& messages,
                                         const nlohmann::ordered_json& tools,
                                         const nlohmann::ordered_json& extra,
                                         const std::string& end_of_turn);

struct TokenizedConversation {
  std::vector<int32_t> ids;
  std::vector<uint8_t> assistant_mask;  // 1 where the token starts inside an assistant span
};

// Tokenizes the whole text at once (so ids are exactly what the model sees at serving time) and
// marks the tokens that start inside an assistant span.
TokenizedConversation tokenize_conversation(const RenderedConversation& conv, const Tokenizer& tok);

}  // namespace tsft
