#include "chat/role_spans.h"

#include "core/error.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

ordered_json first_n(const ordered_json& messages, size_t n) {
  ordered_json out = ordered_json::array();
  for (size_t i = 0; i < n; ++i) out.push_back(messages[i]);
  return out;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Text that must appear inside the assistant's span, to reject accidental matches: its content
// (trimmed, and after any </think>, since templates trim and move reasoning), else the name of
// its first tool call.
std::string anchor_of(const ordered_json& msg) {
  if (msg.contains("content") && msg["content"].is_string()) {
    std::string c = msg["content"].get<std::string>();
    const size_t think = c.rfind("</think>");
    if (think != std::string::npos) c = c.substr(think + 8);
    c = trim(c);
    if (!c.empty()) return c;
  }
  if (msg.contains("tool_calls") && msg["tool_calls"].is_array() && !msg["tool_calls"].empty()) {
    const ordered_json& c = msg["tool_calls"][0];
    const ordered_json& f = c.contains("function") ? c["function"] : c;
    if (f.contains("name") && f["name"].is_string()) return f["name"].get<std::string>();
  }
  return "";
}

// Where `seg` (the assistant's text as rendered when it was the last message) stands in the full
// render, at or after `from`. Templates that rewrite earlier turns (Qwen3 drops the <think> block
// of replies before the last user message) render a shorter text there: then the longest suffix
// of `seg` starting at a line boundary that still holds the message's anchor is searched for.
bool locate(const std::string& full, const std::string& seg, size_t from, size_t expected_at,
            const std::string& anchor, TextSpan& span) {
  if (expected_at >= from && full.compare(expected_at, seg.size(), seg) == 0) {
    span = {expected_at, expected_at + seg.size()};
    return true;
  }
  // The earliest occurrence wins: a later identical reply must not be taken for this one.
  bool found = false;
  for (size_t k = 0; k < seg.size();) {
    const std::string cand = seg.substr(k);
    if (!anchor.empty() && cand.find(anchor) == std::string::npos) break;
    const size_t at = full.find(cand, from);
    if (at != std::string::npos && (!found || at < span.begin)) {
      span = {at, at + cand.size()};
      found = true;
    }
    const size_t nl = seg.find('\n', k);
    if (nl == std::string::npos) break;
    k = nl + 1;
  }
  return found;
}

}  // namespace

RenderedConversation render_conversation(const ChatTemplate& tpl, const ordered_json& messages,
                                         const ordered_json& tools, const ordered_json& extra,
                                         const std::string& end_of_turn) {
  if (!messages.is_array()) fail("messages must be a list");
  RenderedConversation out;
  out.text = tpl.render(messages, tools, /*add_generation_prompt=*/false, extra);
  size_t prev_end = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ordered_json& msg = messages[i];
    if (!msg.is_object() || !msg.contains("role") || msg["role"] != "assistant") continue;
    std::string before, upto;
    try {
      before = tpl.render(first_n(messages, i), tools, /*add_generation_prompt=*/true, extra);
      upto = tpl.render(first_n(messages, i + 1), tools, /*add_generation_prompt=*/false, extra);
    } catch (const Error& e) {
      fail("message ", i, " (assistant): cannot render the conversation up to it: ", e.what());
    }
    // Usually `before` is a prefix of `upto`. Some generation prompts are not (Qwen3 with
    // enable_thinking=false adds an empty <think></think> that a reply with reasoning replaces):
    // the assistant's part then starts where the two renders part.
    size_t common = 0;
    while (common < before.size() && common < upto.size() && before[common] == upto[common]) ++common;
    std::string seg = upto.substr(common);
    if (!end_of_turn.empty()) {
      const size_t eot = seg.rfind(end_of_turn);
      if (eot != std::string::npos) seg.resize(eot + end_of_turn.size());
    }
    TextSpan span;
    if (seg.empty() || !locate(out.text, seg, prev_end, common, anchor_of(msg), span))
      fail("message ", i, " (assistant): its rendered reply was not found in the full conversation");
    out.assistant.push_back(span);
    prev_end = span.end;
  }
  return out;
}

TokenizedConversation tokenize_conversation(const RenderedConversation& conv, const Tokenizer& tok) {
  TokenizedConversation out;
  out.ids = tok.encode(conv.text);
  out.assistant_mask.assign(out.ids.size(), 0);
  size_t at = 0, s = 0;
  for (size_t k = 0; k < out.ids.size(); ++k) {
    while (s < conv.assistant.size() && conv.assistant[s].end <= at) ++s;
    if (s < conv.assistant.size() && at >= conv.assistant[s].begin) out.assistant_mask[k] = 1;
    at += tok.token_bytes(out.ids[k]).size();
  }
  if (at != conv.text.size())
    fail("the token ids cover ", at, " bytes of a ", conv.text.size(),
         "-byte conversation (the tokenizer has no token for some bytes), so the assistant mask "
         "cannot be aligned");
  return out;
}

}  // namespace tsft
