#include "data/sft_dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "chat/chat_format.h"
#include "core/error.h"
#include "core/rng.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
using LossOn = SftLoadOptions::LossOn;

constexpr size_t kKeptErrors = 5;

// One row of the file: its JSON text (or, for array files, the already parsed element).
struct RawRow {
  int64_t line = 0;
  size_t offset = 0;   // byte offset of the row in the file
  std::string text;    // JSONL
  ordered_json value;  // array files
  bool parsed = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// 1-based line and column of a byte offset.
std::pair<int64_t, int64_t> line_col(const std::string& text, size_t offset) {
  offset = std::min(offset, text.size());
  int64_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
  const size_t nl = offset == 0 ? std::string::npos : text.rfind('\n', offset - 1);
  const int64_t col = static_cast<int64_t>(offset - (nl == std::string::npos ? 0 : nl + 1)) + 1;
  return {line, col};
}

// nlohmann's message without its "[json.exception...] parse error at line L, column C: " prefix.
std::string parse_message(const ordered_json::parse_error& e) {
  const std::string w = e.what();
  const size_t col = w.find("column ");
  if (col != std::string::npos) {
    const size_t colon = w.find(": ", col);
    if (colon != std::string::npos) return w.substr(colon + 2);
  }
  return w;
}

// Byte offsets at which the top-level elements of a valid JSON array text start.
std::vector<size_t> array_element_offsets(const std::string& text) {
  std::vector<size_t> out;
  int depth = 0;
  bool in_string = false, escaped = false, want_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (want_element && c != ']') out.push_back(i);
    want_element = false;
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth == 1) want_element = true;
    } else if (c == ']' || c == '}')
      --depth;
    else if (c == ',' && depth == 1)
      want_element = true;
  }
  return out;
}

// Reads the rows of a JSONL file, a JSON-array file or a file holding one (multi-line) object.
// A JSON-array file that does not parse is one error for the whole file; a JSONL line that does
// not parse is that row's error.
std::vector<RawRow> read_rows(const std::string& path, const std::string& text) {
  std::vector<RawRow> rows;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) fail(path, ": the file is empty");
  if (text[first] == '[') {
    ordered_json all;
    try {
      all = ordered_json::parse(text);
    } catch (const ordered_json::parse_error& e) {
      const auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
      fail(path, ":", line, ":", col, ": invalid JSON: ", parse_message(e));
    }
    const std::vector<size_t> offsets = array_element_offsets(text);
    TSFT_CHECK(offsets.size() == all.size(), "found ", offsets.size(), " of ", all.size(),
               " elements");
    for (size_t i = 0; i < all.size(); ++i) {
      RawRow r;
      r.offset = offsets[i];
      r.line = line_col(text, offsets[i]).first;
      r.value = std::move(all[i]);
      r.parsed = true;
      rows.push_back(std::move(r));
    }
  } else if (text[first] == '{' && text.find('\n', first) < text.find_last_not_of(" \t\r\n") &&
             ordered_json::accept(text)) {
    // One object written over several lines (a pretty-printed single conversation).
    RawRow r;
    r.offset = first;
    r.line = line_col(text, first).first;
    r.value = ordered_json::parse(text);
    r.parsed = true;
    rows.push_back(std::move(r));
  } else {
    size_t at = 0;
    for (int64_t line = 1; at < text.size(); ++line) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string_view l(text.data() + at, end - at);
      if (l.find_first_not_of(" \t\r") != std::string_view::npos) {
        RawRow r;
        r.line = line;
        r.offset = at;
        r.text = std::string(l);
        rows.push_back(std::move(r));
      }
      at = end + 1;
    }
  }
  if (rows.empty()) fail(path, ": the file holds no rows");
  return rows;
}

// --- row validation: every failure names the field ------------------------------------------

struct RowContext {
  std::string where;  // "FILE:LINE"
  [[noreturn]] void bad(const std::string& field, const std::string& msg) const {
    fail(where, ": ", field, ": ", msg);
  }
};

std::string type_name(const ordered_json& j) {
  return j.type_name();
}

const std::string& get_string(const RowContext& cx, const ordered_json& obj, const char* key,
                              const std::string& field) {
  if (!obj.contains(key)) cx.bad(field, "missing");
  if (!obj[key].is_string()) cx.bad(field, "expected a string, got " + type_name(obj[key]));
  return obj[key].get_ref<const std::string&>();
}

// Message content: a string, null/absent (""), or a list of {"type": "text", "text": ...} parts.
std::string content_of(const RowContext& cx, const ordered_json& m, const std::string& field) {
  if (!m.contains("content") || m["content"].is_null()) return "";
  const ordered_json& c = m["content"];
  if (c.is_string()) return c.get<std::string>();
  if (c.is_array()) {
    std::string out;
    for (size_t k = 0; k < c.size(); ++k) {
      const std::string f = field + "[" + std::to_string(k) + "]";
      if (!c[k].is_object() || c[k].value("type", "") != "text" || !c[k].contains("text") ||
          !c[k]["text"].is_string())
        cx.bad(f, "expected a {\"type\": \"text\", \"text\": ...} part");
      out += c[k]["text"].get<std::string>();
    }
    return out;
  }
  cx.bad(field, "expected a string, got " + type_name(c));
}

// Arguments as a JSON object, whether given as one or as a JSON string.
ordered_json arguments_of(const RowContext& cx, const ordered_json& f, const std::string& field) {
  if (!f.contains("arguments") || f["arguments"].is_null()) return ordered_json::object();
  ordered_json args = f["arguments"];
  if (args.is_string()) {
    try {
      args = ordered_json::parse(args.get<std::string>());
    } catch (const ordered_json::parse_error& e) {
      cx.bad(field, "not valid JSON: " + parse_message(e));
    }
  }
  if (!args.is_object()) cx.bad(field, "expected a JSON object, got " + type_name(args));
  return args;
}

// {"id"?, "type": "function", "function": {"name", "arguments": object}}; also accepts the flat
// {"name", "arguments"} form.
ordered_json normalize_tool_call(const RowContext& cx, const ordered_json& call,
                                 const std::string& field) {
  if (!call.is_object()) cx.bad(field, "expected an object, got " + type_name(call));
  const bool nested = call.contains("function");
  const ordered_json& f = nested ? call["function"] : call;
  const std::string ff = nested ? field + ".function" : field;
  if (!f.is_object()) cx.bad(ff, "expected an object, got " + type_name(f));
  const std::string& name = get_string(cx, f, "name", ff + ".name");
  if (name.empty()) cx.bad(ff + ".name", "empty");
  ordered_json out = ordered_json::object();
  if (call.contains("id")) {
    if (!call["id"].is_string()) cx.bad(field + ".id", "expected a string");
    out["id"] = call["id"];
  }
  out["type"] = "function";
  out["function"] = {{"name", name}, {"arguments", arguments_of(cx, f, ff + ".arguments")}};
  return out;
}

ordered_json normalize_messages(const RowContext& cx, const ordered_json& msgs,
                                const std::string& field) {
  if (!msgs.is_array()) cx.bad(field, "expected a list, got " + type_name(msgs));
  if (msgs.empty()) cx.bad(field, "empty");
  ordered_json out = ordered_json::array();
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    const ordered_json& m = msgs[i];
    if (!m.is_object()) cx.bad(f, "expected an object, got " + type_name(m));
    const std::string& role = get_string(cx, m, "role", f + ".role");
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      cx.bad(f + ".role", "expected one of system, user, assistant, tool; got '" + role + "'");
    ordered_json n = ordered_json::object();
    n["role"] = role;
    n["content"] = content_of(cx, m, f + ".content");
    const bool has_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (has_calls) {
      if (role != "assistant") cx.bad(f + ".tool_calls", "only assistant messages make tool calls");
      const ordered_json& calls = m["tool_calls"];
      if (!calls.is_array()) cx.bad(f + ".tool_calls", "expected a list, got " + type_name(calls));
      if (!calls.empty()) {
        n["tool_calls"] = ordered_json::array();
        for (size_t k = 0; k < calls.size(); ++k)
          n["tool_calls"].push_back(
              normalize_tool_call(cx, calls[k], f + ".tool_calls[" + std::to_string(k) + "]"));
      }
    }
    if (role != "tool" && role != "assistant" && !m.contains("content"))
      cx.bad(f + ".content", "missing");
    if (role == "assistant" && !n.contains("tool_calls") &&
        n["content"].get_ref<const std::string&>().empty())
      cx.bad(f + ".content", "an assistant message needs content or tool_calls");
    if (role == "tool") {
      if (!m.contains("content")) cx.bad(f + ".content", "missing");
      if (m.contains("tool_call_id"))
        n["tool_call_id"] = get_string(cx, m, "tool_call_id", f + ".tool_call_id");
      if (m.contains("name")) n["name"] = get_string(cx, m, "name", f + ".name");
    }
    out.push_back(std::move(n));
  }
  return out;
}

// Tools: a list (or a JSON string holding one) of {"type": "function", "function": {...}} or bare
// {"name", "description", "parameters"} schemas, which are wrapped.
ordered_json normalize_tools(const RowContext& cx, const ordered_json& row) {
  if (!row.contains("tools") || row["tools"].is_null()) return ordered_json();
  ordered_json tools = row["tools"];
  if (tools.is_string()) {
    try {
      tools = ordered_json::parse(tools.get<std::string>());
    } catch (const ordered_json::parse_error& e) {
      cx.bad("tools", "not valid JSON: " + parse_message(e));
    }
  }
  if (!tools.is_array()) cx.bad("tools", "expected a list, got " + type_name(tools));
  ordered_json out = ordered_json::array();
  for (size_t k = 0; k < tools.size(); ++k) {
    const std::string f = "tools[" + std::to_string(k) + "]";
    const ordered_json& t = tools[k];
    if (!t.is_object()) cx.bad(f, "expected an object, got " + type_name(t));
    const bool nested = t.contains("function");
    const ordered_json& fn = nested ? t["function"] : t;
    if (!fn.is_object()) cx.bad(f + ".function", "expected an object, got " + type_name(fn));
    get_string(cx, fn, "name", nested ? f + ".function.name" : f + ".name");
    out.push_back(nested ? t : ordered_json{{"type", "function"}, {"function", t}});
  }
  return out.empty() ? ordered_json() : out;
}

// ShareGPT turns -> messages. function_call turns become assistant tool calls (consecutive ones
// share one message); observation / function / tool turns become tool results.
ordered_json sharegpt_to_messages(const RowContext& cx, const ordered_json& row) {
  const ordered_json& conv = row["conversations"];
  if (!conv.is_array()) cx.bad("conversations", "expected a list, got " + type_name(conv));
  ordered_json msgs = ordered_json::array();
  if (row.contains("system") && !row["system"].is_null())
    msgs.push_back({{"role", "system"}, {"content", get_string(cx, row, "system", "system")}});
  bool last_was_call = false;
  for (size_t i = 0; i < conv.size(); ++i) {
    const std::string f = "conversations[" + std::to_string(i) + "]";
    const ordered_json& t = conv[i];
    if (!t.is_object()) cx.bad(f, "expected an object, got " + type_name(t));
    const std::string& from = get_string(cx, t, "from", f + ".from");
    const std::string& value = get_string(cx, t, "value", f + ".value");
    std::string role;
    if (from == "human" || from == "user")
      role = "user";
    else if (from == "gpt" || from == "assistant" || from == "model")
      role = "assistant";
    else if (from == "system")
      role = "system";
    else if (from == "observation" || from == "function" || from == "tool")
      role = "tool";
    else if (from != "function_call")
      cx.bad(f + ".from",
             "expected one of human, gpt, system, function_call, observation, tool; got '" + from +
                 "'");
    if (from == "function_call") {
      ordered_json calls;
      try {
        calls = ordered_json::parse(value);
      } catch (const ordered_json::parse_error& e) {
        cx.bad(f + ".value", "a function_call must be JSON: " + parse_message(e));
      }
      if (calls.is_object()) calls = ordered_json::array({calls});
      if (!calls.is_array()) cx.bad(f + ".value", "expected a JSON object or list of them");
      if (!last_was_call)
        msgs.push_back(
            {{"role", "assistant"}, {"content", ""}, {"tool_calls", ordered_json::array()}});
      for (auto& c : calls) msgs.back()["tool_calls"].push_back(c);
      last_was_call = true;
      continue;
    }
    last_was_call = false;
    msgs.push_back({{"role", role}, {"content", value}});
  }
  return msgs;
}

// --- tokenizing one row ---------------------------------------------------------------------

// The text that opens an assistant turn ("<|im_start|>assistant\n"): what the generation prompt
// adds to a conversation. Empty when the template will not say.
std::string assistant_header(const ChatFormat& chat) {
  try {
    const ordered_json probe = ordered_json::array({{{"role", "user"}, {"content", "x"}}});
    const std::string plain = chat.render(probe, ordered_json(), false);
    const std::string gen = chat.render(probe, ordered_json(), true);
    if (gen.size() > plain.size() && gen.compare(0, plain.size(), plain) == 0)
      return gen.substr(plain.size());
  } catch (const Error&) {
  }
  return "";
}

struct Encoder {
  const Tokenizer& tok;
  const ChatFormat* chat;
  const SftLoadOptions& opt;
  std::string header;  // assistant_header(*chat)

  void push(SftExample& ex, const std::vector<int32_t>& ids, uint8_t mask) const {
    ex.ids.insert(ex.ids.end(), ids.begin(), ids.end());
    ex.loss_mask.insert(ex.loss_mask.end(), ids.size(), mask);
  }
  void start(SftExample& ex) const {
    if (tok.add_bos() && tok.bos_id() >= 0) push(ex, {tok.bos_id()}, 0);
  }
  void finish_with_eos(const RowContext& cx, SftExample& ex) const {
    if (!opt.add_eos) return;
    if (tok.eos_id() < 0) cx.bad("add_eos", "the tokenizer has no EOS token");
    // The EOS is a target whatever the pad id is: batches carry no padding to confuse it with.
    if (ex.ids.empty() || ex.ids.back() != tok.eos_id())
      push(ex, {tok.eos_id()}, 1);
    else
      ex.loss_mask.back() = 1;
  }

  SftExample prompt_completion(const RowContext& cx, const ordered_json& row) const {
    const std::string& prompt = get_string(cx, row, "prompt", "prompt");
    const std::string& completion = get_string(cx, row, "completion", "completion");
    const bool all = opt.loss_on == LossOn::kAll;
    SftExample ex;
    start(ex);
    push(ex, tok.encode(prompt), all);
    push(ex, tok.encode(completion), 1);
    finish_with_eos(cx, ex);
    return ex;
  }

  SftExample text(const RowContext& cx, const ordered_json& row) const {
    if (opt.loss_on == LossOn::kAssistant || opt.loss_on == LossOn::kCompletion)
      cx.bad("text", "a text row has no prompt/answer split to put the loss on (use loss on all)");
    SftExample ex;
    start(ex);
    push(ex, tok.encode(get_string(cx, row, "text", "text")), 1);
    finish_with_eos(cx, ex);
    return ex;
  }

  SftExample conversation(const RowContext& cx, const ordered_json& messages,
                          const ordered_json& tools, const std::string& field) const {
    if (!chat) cx.bad(field, "chat rows need the model's chat template, and there is none");
    RenderedConversation conv;
    try {
      conv = chat->render_with_spans(messages, tools);
    } catch (const Error& e) {
      cx.bad(field, e.what());
    }
    // The span of each assistant turn should already end with its end-of-turn marker; when the
    // template put it just after the span instead, it is still the assistant's to learn (it is
    // how generation stops), so the span grows over it.
    const std::string& eot = chat->end_of_turn();
    if (!eot.empty())
      for (TextSpan& s : conv.assistant)
        if (conv.text.compare(s.end, eot.size(), eot) == 0) s.end += eot.size();
    // A span found by its text can start inside the turn header (Qwen3 re-renders earlier replies
    // without their <think> block, and the match then begins at the header's "\n"). The header is
    // prompt, not reply: at serving time it is already there, so it carries no loss.
    for (TextSpan& s : conv.assistant)
      for (size_t j = header.empty() ? 0 : std::min(header.size() - 1, s.end - s.begin); j >= 1;
           --j)
        if (s.begin + j >= header.size() &&
            conv.text.compare(s.begin + j - header.size(), header.size(), header) == 0) {
          s.begin += j;
          break;
        }
    TokenizedConversation t;
    try {
      t = tokenize_conversation(conv, tok);
    } catch (const Error& e) {
      cx.bad(field, e.what());
    }
    SftExample ex;
    ex.ids = std::move(t.ids);
    if (opt.loss_on == LossOn::kAll)
      ex.loss_mask.assign(ex.ids.size(), 1);
    else
      ex.loss_mask = std::move(t.assistant_mask);
    return ex;
  }

  SftExample row(const RowContext& cx, const ordered_json& row) const {
    if (!row.is_object()) fail(cx.where, ": expected a JSON object, got ", type_name(row));
    SftExample ex;
    if (row.contains("messages")) {
      const ordered_json msgs = normalize_messages(cx, row["messages"], "messages");
      ex = conversation(cx, msgs, normalize_tools(cx, row), "messages");
    } else if (row.contains("conversations")) {
      const ordered_json msgs =
          normalize_messages(cx, sharegpt_to_messages(cx, row), "conversations");
      ex = conversation(cx, msgs, normalize_tools(cx, row), "conversations");
    } else if (row.contains("prompt") || row.contains("completion")) {
      ex = prompt_completion(cx, row);
    } else if (row.contains("text")) {
      ex = text(cx, row);
    } else {
      fail(cx.where,
           ": expected \"messages\", \"conversations\", \"prompt\"/\"completion\" or "
           "\"text\"; the row has none");
    }
    if (!ex.loss_mask.empty()) ex.loss_mask[0] = 0;  // nothing comes before it to predict it
    return ex;
  }
};

int64_t count_loss(const SftExample& ex) {
  return std::count(ex.loss_mask.begin(), ex.loss_mask.end(), uint8_t{1});
}

}  // namespace

std::vector<SftExample> load_sft_dataset(const std::string& path, const Tokenizer& tok,
                                         const ChatFormat* chat, const SftLoadOptions& opt,
                                         SftLoadStats* stats_out) {
  if (opt.max_seq_len < 2) fail("max_seq_len must be at least 2, got ", opt.max_seq_len);
  const std::string text = read_file(path);
  const std::vector<RawRow> rows = read_rows(path, text);
  SftLoadStats stats;
  std::vector<SftExample> out;
  const Encoder enc{tok, chat, opt, chat ? assistant_header(*chat) : std::string()};
  for (const RawRow& raw : rows) {
    ++stats.rows;
    const RowContext cx{path + ":" + std::to_string(raw.line)};
    SftExample ex;
    try {
      if (raw.parsed) {
        ex = enc.row(cx, raw.value);
      } else {
        ordered_json j;
        try {
          j = ordered_json::parse(raw.text);
        } catch (const ordered_json::parse_error& e) {
          fail(cx.where, ":", e.byte > 0 ? e.byte : 1, ": invalid JSON: ", parse_message(e));
        }
        ex = enc.row(cx, j);
      }
    } catch (const Error& e) {
      if (!opt.skip_invalid) throw;
      ++stats.skipped_invalid;
      if (stats.first_errors.size() < kKeptErrors) stats.first_errors.push_back(e.what());
      continue;
    }
    ex.source_line = raw.line;
    if (count_loss(ex) == 0) {
      ++stats.no_loss_tokens;
      continue;
    }
    if (static_cast<int64_t>(ex.ids.size()) > opt.max_seq_len) {
      if (opt.truncation == SftLoadOptions::Truncation::kDrop) {
        ++stats.dropped_too_long;
        continue;
      }
      ex.ids.resize(opt.max_seq_len);
      ex.loss_mask.resize(opt.max_seq_len);
      if (count_loss(ex) == 0) {
        ++stats.dropped_too_long;
        continue;
      }
      ++stats.truncated;
    }
    ++stats.kept;
    stats.tokens += static_cast<int64_t>(ex.ids.size());
    stats.loss_tokens += count_loss(ex);
    out.push_back(std::move(ex));
  }
  if (stats_out) *stats_out = stats;
  if (out.empty())
    fail(path, ": no example left to train on (", stats.rows, " rows: ", stats.dropped_too_long,
         " too long, ", stats.skipped_invalid, " invalid, ", stats.no_loss_tokens,
         " with no loss tokens)");
  return out;
}

SftSplit split_train_eval(const std::vector<SftExample>& examples, double fraction, int64_t count,
                          uint64_t seed) {
  const int64_t n = static_cast<int64_t>(examples.size());
  if (count < 0) fail("eval count must not be negative, got ", count);
  if (count == 0 && !(fraction >= 0.0 && fraction < 1.0))
    fail("eval fraction must be in [0, 1), got ", fraction);
  const int64_t n_eval = count > 0 ? count : static_cast<int64_t>(std::llround(fraction * n));
  if (n_eval >= n && n_eval > 0)
    fail("eval split of ", n_eval, " examples leaves none of the ", n, " to train on");
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  for (int64_t i = n; i > 1; --i) {
    const int64_t j =
        static_cast<int64_t>((static_cast<unsigned __int128>(rng.next_u64()) * i) >> 64);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<uint8_t> is_eval(n, 0);
  for (int64_t k = 0; k < n_eval; ++k) is_eval[order[k]] = 1;
  SftSplit s;
  for (int64_t i = 0; i < n; ++i) (is_eval[i] ? s.eval : s.train).push_back(examples[i]);
  return s;
}

}  // namespace tsft
