// ToolCallMatcher: a set of configurations (anyOf branches, and "this number or literal may end
// here" forks) stepped one byte at a time. Every step keeps only configurations that can still
// be completed into a valid reply, so any accepted prefix has a valid ending.
#include "chat/tool_call_grammar.h"

#include <algorithm>
#include <regex>
#include <set>

#include "chat/tool_call_grammar_internal.h"
#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tsft {

using namespace grammar_detail;

namespace {

constexpr int kMaxWhitespace = 4;
constexpr size_t kMaxStack = 40;
constexpr size_t kMaxConfigs = 64;

bool is_ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }

const Node& any_node() {
  static const Node node = [] {
    Node n;
    n.additional_allowed = true;
    return n;
  }();
  return node;
}

const Node& key_node() {
  static const Node node = [] {
    Node n;
    n.types = kString;
    return n;
  }();
  return node;
}

// How much of `marker` the text ends with after appending b to a text that ended with its first
// `pos` bytes.
uint16_t advance_marker(const std::string& marker, uint16_t pos, uint8_t b) {
  std::string s = marker.substr(0, pos);
  s.push_back(static_cast<char>(b));
  for (size_t k = std::min(s.size(), marker.size()); k > 0; --k)
    if (s.compare(s.size() - k, k, marker, 0, k) == 0) return static_cast<uint16_t>(k);
  return 0;
}

struct Rules {
  const ToolCallGrammar& grammar;
  const Node* call;
  bool can_call;  // some function may be called (a non-empty tool list, mode not none)
};

class Stepper {
 public:
  Stepper(const Rules& rules, std::vector<Config>& out) : r_(rules), out_(out) {}

  void step(Config c, uint8_t b) {
    if (c.stack.empty()) return envelope(c, b);
    switch (c.stack.back().kind) {
      case FrameKind::kValue: return value(c, b);
      case FrameKind::kObject: return object(c, b);
      case FrameKind::kArray: return array(c, b);
      case FrameKind::kString: return string(c, b);
      case FrameKind::kNumber: return number(c, b);
      case FrameKind::kLiteral: return literal(c, b);
    }
  }

 private:
  const ToolCallSyntax& syntax() const { return r_.grammar.syntax(); }
  ToolChoiceMode mode() const { return r_.grammar.choice().mode; }

  void emit(Config& c) { out_.push_back(std::move(c)); }

  // The byte was taken by the frame at `consumer`: arrays with uniqueItems below it, which are
  // reading an item, keep the item's text.
  static void record(Config& c, size_t consumer, uint8_t b) {
    if (c.unique_arrays == 0) return;
    for (size_t i = 0; i < consumer; ++i) {
      Frame& f = c.stack[i];
      if (f.kind == FrameKind::kArray && f.node->unique_items && f.phase == kArrItem)
        f.item_text.push_back(static_cast<char>(b));
    }
  }
  static void record_top(Config& c, uint8_t b) { record(c, c.stack.size() - 1, b); }

  static bool take_ws(Frame& f, uint8_t b) {
    if (!is_ws(b) || f.ws >= kMaxWhitespace) return false;
    ++f.ws;
    return true;
  }
  static bool take_ws(Config& c, uint8_t b) {
    if (!is_ws(b) || c.ws >= kMaxWhitespace) return false;
    ++c.ws;
    return true;
  }

  void push_value(Config& c, const Node* node) {
    Frame f;
    f.node = node ? node : &any_node();
    f.kind = FrameKind::kValue;
    c.stack.push_back(std::move(f));
  }

  // ---- outside the JSON --------------------------------------------------------------------

  void open_call(Config& c, uint8_t b) {
    push_value(c, r_.call);
    c.env = Envelope::kJson;
    value(c, b);
  }

  void envelope(Config& c, uint8_t b) {
    const std::string& open = syntax().open;
    const std::string& close = syntax().close;
    switch (c.env) {
      case Envelope::kText: {
        const uint16_t pos = advance_marker(open, c.pos, b);
        if (pos == open.size()) {
          if (!r_.can_call) return;
          c.env = Envelope::kOpenWs, c.pos = 0, c.ws = 0;
        } else {
          c.pos = pos;
        }
        return emit(c);
      }
      case Envelope::kLead:
        if (take_ws(c, b)) return emit(c);
        if (open.empty()) {
          if (b == '{' && r_.can_call) return open_call(c, b);
          if (mode() == ToolChoiceMode::kAuto || mode() == ToolChoiceMode::kNone) {
            if (b == '{') return;  // a reply starting with '{' would read as a call
            c.env = Envelope::kFree;
            return emit(c);
          }
          return;
        }
        if (!r_.can_call || b != static_cast<uint8_t>(open[0])) return;
        c.pos = 1;
        c.env = open.size() == 1 ? Envelope::kOpenWs : Envelope::kOpen;
        c.ws = 0;
        return emit(c);
      case Envelope::kFree:
        return emit(c);
      case Envelope::kOpen:
      case Envelope::kAfter:
        if (c.env == Envelope::kAfter && c.pos == 0) {
          if (take_ws(c, b)) return emit(c);
          if (open.empty() || !r_.can_call || b != static_cast<uint8_t>(open[0])) return;
        } else if (b != static_cast<uint8_t>(open[c.pos])) {
          return;
        }
        if (++c.pos == open.size()) c.env = Envelope::kOpenWs, c.pos = 0, c.ws = 0;
        return emit(c);
      case Envelope::kOpenWs:
        if (take_ws(c, b)) return emit(c);
        return open_call(c, b);
      case Envelope::kCloseWs:
      case Envelope::kClose:
        if (c.env == Envelope::kCloseWs) {
          if (take_ws(c, b)) return emit(c);
          c.pos = 0;
        }
        if (b != static_cast<uint8_t>(close[c.pos])) return;
        c.env = Envelope::kClose;
        if (++c.pos == close.size()) {
          ++c.calls;
          c.env = Envelope::kAfter, c.pos = 0, c.ws = 0;
        }
        return emit(c);
      case Envelope::kJson:
        TSFT_CHECK(false, "kJson with an empty stack");
    }
  }

  // The call object ended (the stack is empty again).
  void call_closed(Config& c) {
    c.ws = 0, c.pos = 0;
    if (syntax().close.empty()) {
      ++c.calls;
      c.env = Envelope::kAfter;
    } else {
      c.env = Envelope::kCloseWs;
    }
  }

  // ---- frames ------------------------------------------------------------------------------

  // Pops the finished top frame and tells its parent. False: the parent rejects it (a repeated
  // key, a repeated item of a uniqueItems array).
  bool finish_top(Config& c) {
    Frame child = std::move(c.stack.back());
    c.stack.pop_back();
    if (child.kind == FrameKind::kArray && child.node->unique_items) --c.unique_arrays;
    if (c.stack.empty()) {
      call_closed(c);
      return true;
    }
    Frame& p = c.stack.back();
    p.ws = 0;
    if (p.kind == FrameKind::kObject && p.phase == kObjKey) {
      if (child.kind == FrameKind::kLiteral) {
        p.prop = -1;
        for (size_t i = 0; i < p.node->key_texts.size(); ++i)
          if (p.node->key_texts[i] == child.text) p.prop = static_cast<int32_t>(i);
        TSFT_CHECK(p.prop >= 0);
      } else {
        const auto& names = p.node->prop_names;
        if (std::find(names.begin(), names.end(), child.text) != names.end()) return false;
        if (std::find(p.extra_keys.begin(), p.extra_keys.end(), child.text) != p.extra_keys.end())
          return false;
        p.extra_keys.push_back(child.text);
        p.prop = -2;
      }
      p.phase = kObjColon;
      return true;
    }
    if (p.kind == FrameKind::kObject && p.phase == kObjValue) {
      if (p.prop >= 0) p.used[p.prop] = 1;
      p.phase = kObjAfter;
      return true;
    }
    TSFT_CHECK(p.kind == FrameKind::kArray && p.phase == kArrItem);
    if (p.node->unique_items) {
      nlohmann::json item = nlohmann::json::parse(p.item_text, nullptr, false);
      TSFT_CHECK(!item.is_discarded(), "array item text '", p.item_text, "' is not JSON");
      for (const auto& seen : p.seen)
        if (seen == item) return false;
      p.seen.push_back(std::move(item));
      p.item_text.clear();
    }
    ++p.count;
    p.phase = kArrAfter;
    return true;
  }

  void value(Config& c, uint8_t b) {
    Frame& f = c.stack.back();
    if (take_ws(f, b)) {
      record_top(c, b);
      return emit(c);
    }
    const Node* n = f.node;
    if (!n->any_of.empty()) {
      for (const Node* alt : n->any_of) {
        Config branch = c;
        branch.stack.back().node = alt;
        value(branch, b);
      }
      return;
    }
    if (n->has_literals) {
      f.kind = FrameKind::kLiteral;
      f.candidates = &n->literals;
      return literal(c, b);
    }
    if (b == '{' && (n->types & kObject)) {
      if (c.stack.size() >= kMaxStack) return;
      f.kind = FrameKind::kObject;
      f.phase = kObjStart;
      f.used.assign(n->prop_names.size(), 0);
    } else if (b == '[' && (n->types & kArray)) {
      if (c.stack.size() >= kMaxStack) return;
      f.kind = FrameKind::kArray;
      f.phase = kArrStart;
      if (n->unique_items) ++c.unique_arrays;
    } else if (b == '"' && (n->types & kString)) {
      f.kind = FrameKind::kString;
      if (n->pattern) f.regex = n->pattern->start();
    } else if ((b == '-' || (b >= '0' && b <= '9')) && (n->types & (kInteger | kNumber))) {
      f.kind = FrameKind::kNumber;
      return number(c, b);
    } else if ((b == 't' || b == 'f') && (n->types & kBoolean)) {
      static const std::vector<std::string> kBooleans = {"true", "false"};
      f.kind = FrameKind::kLiteral;
      f.candidates = &kBooleans;
      return literal(c, b);
    } else if (b == 'n' && (n->types & kNull)) {
      static const std::vector<std::string> kNullText = {"null"};
      f.kind = FrameKind::kLiteral;
      f.candidates = &kNullText;
      return literal(c, b);
    } else {
      return;
    }
    f.ws = 0;
    record_top(c, b);
    emit(c);
  }

  // Object keys that may come next (unused, and in order for ordered objects).
  static bool key_allowed(const Frame& obj, size_t i) {
    if (obj.used[i]) return false;
    if (obj.node->ordered)
      for (size_t j = 0; j < i; ++j)
        if (!obj.used[j]) return false;
    return true;
  }
  static bool any_key_allowed(const Frame& obj) {
    if (obj.node->additional_allowed) return true;
    for (size_t i = 0; i < obj.used.size(); ++i)
      if (key_allowed(obj, i)) return true;
    return false;
  }
  static bool required_given(const Frame& obj) {
    for (size_t i = 0; i < obj.used.size(); ++i)
      if (obj.node->required[i] && !obj.used[i]) return false;
    return true;
  }

  void object(Config& c, uint8_t b) {
    Frame& f = c.stack.back();
    const Node* n = f.node;
    switch (f.phase) {
      case kObjStart:
      case kObjNext:
        if (take_ws(f, b)) {
          record_top(c, b);
          return emit(c);
        }
        if (b == '}' && f.phase == kObjStart && required_given(f)) {
          record_top(c, b);
          if (finish_top(c)) emit(c);
          return;
        }
        if (b != '"') return;
        f.phase = kObjKey;
        if (!n->key_texts.empty()) {
          Config declared = c;
          Frame key;
          key.node = n;
          key.kind = FrameKind::kLiteral;
          key.key = true;
          key.candidates = &n->key_texts;
          declared.stack.push_back(std::move(key));
          literal(declared, b);
        }
        if (n->additional_allowed) {
          Frame key;
          key.node = &key_node();
          key.kind = FrameKind::kString;
          key.key = true;
          c.stack.push_back(std::move(key));
          record_top(c, b);
          emit(c);
        }
        return;
      case kObjColon:
        if (take_ws(f, b)) {
          record_top(c, b);
          return emit(c);
        }
        if (b != ':') return;
        f.phase = kObjValue;
        record_top(c, b);
        push_value(c, f.prop >= 0 ? n->prop_nodes[f.prop] : n->additional);
        return emit(c);
      case kObjAfter:
        if (take_ws(f, b)) {
          record_top(c, b);
          return emit(c);
        }
        if (b == ',' && any_key_allowed(f)) {
          f.phase = kObjNext;
          f.ws = 0;
          record_top(c, b);
          return emit(c);
        }
        if (b == '}' && required_given(f)) {
          record_top(c, b);
          if (finish_top(c)) emit(c);
        }
        return;
      default:
        TSFT_CHECK(false, "object frame on top in phase ", int(f.phase));
    }
  }

  void start_item(Config& c, uint8_t b) {
    Frame& f = c.stack.back();
    if (f.node->max_items >= 0 && f.count >= f.node->max_items) return;
    f.phase = kArrItem;
    f.item_text.clear();
    push_value(c, f.node->items);
    value(c, b);
  }

  void array(Config& c, uint8_t b) {
    Frame& f = c.stack.back();
    const Node* n = f.node;
    if (take_ws(f, b)) {
      record_top(c, b);
      return emit(c);
    }
    switch (f.phase) {
      case kArrStart:
        if (b == ']') {
          if (n->min_items > 0) return;
          record_top(c, b);
          if (finish_top(c)) emit(c);
          return;
        }
        return start_item(c, b);
      case kArrNext:
        return start_item(c, b);
      case kArrAfter: {
        if (b == ']' && f.count >= n->min_items) {
          record_top(c, b);
          if (finish_top(c)) emit(c);
          return;
        }
        if (b != ',') return;
        if (n->max_items >= 0 && f.count >= n->max_items) return;
        const size_t finite = n->unique_items ? (n->items ? n->items->finite_values() : 0) : 0;
        if (finite > 0 && f.seen.size() >= finite) return;
        f.phase = kArrNext;
        f.ws = 0;
        record_top(c, b);
        return emit(c);
      }
      default:
        TSFT_CHECK(false, "array frame on top in phase ", int(f.phase));
    }
  }

  // ---- scalars -------------------------------------------------------------------------------

  // Which candidates a literal may still become (keys: unused, in order for ordered objects).
  static bool candidate_allowed(const Config& c, size_t i) {
    const Frame& f = c.stack.back();
    if (f.key) return key_allowed(c.stack[c.stack.size() - 2], i);
    return !seen_by_unique_parent(c, (*f.candidates)[i]);
  }

  // The top frame is an item of a uniqueItems array that already holds the value `text` writes.
  static bool seen_by_unique_parent(const Config& c, const std::string& text) {
    if (c.stack.size() < 2) return false;
    const Frame& p = c.stack[c.stack.size() - 2];
    if (p.kind != FrameKind::kArray || !p.node->unique_items || p.seen.empty()) return false;
    const nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
    if (v.is_discarded()) return false;
    return std::find(p.seen.begin(), p.seen.end(), v) != p.seen.end();
  }

  void literal(Config& c, uint8_t b) {
    {
      const Frame& f = c.stack.back();
      bool done = false;
      for (size_t i = 0; i < f.candidates->size() && !done; ++i)
        done = (*f.candidates)[i] == f.text && candidate_allowed(c, i);
      if (done) {  // it may end here, and b belongs to the parent
        Config ended = c;
        if (finish_top(ended)) step(std::move(ended), b);
      }
    }
    Frame& f = c.stack.back();
    f.text.push_back(static_cast<char>(b));
    for (size_t i = 0; i < f.candidates->size(); ++i) {
      const std::string& cand = (*f.candidates)[i];
      if (cand.size() >= f.text.size() && cand.compare(0, f.text.size(), f.text) == 0 &&
          candidate_allowed(c, i)) {
        record_top(c, b);
        return emit(c);
      }
    }
  }

  void number(Config& c, uint8_t b) {
    {
      const Frame& f = c.stack.back();
      if (number_complete(f.text, f.node->bounds)) {
        Config ended = c;
        if (finish_top(ended)) step(std::move(ended), b);
      }
    }
    Frame& f = c.stack.back();
    f.text.push_back(static_cast<char>(b));
    const NumberBounds& bounds = f.node->bounds;
    if (!number_prefix_viable(f.text, bounds)) return;
    if (number_complete(f.text, bounds) && seen_by_unique_parent(c, f.text)) {
      // A repeated item of a uniqueItems array: it must be able to grow into another number.
      bool grows = number_prefix_viable(f.text + ".", bounds);
      for (char d = '0'; d <= '9' && !grows; ++d) grows = number_prefix_viable(f.text + d, bounds);
      if (!grows) return;
    }
    record_top(c, b);
    emit(c);
  }

  // A whole character of string content; false when the string's constraints reject it.
  static bool add_char(Frame& f, uint32_t cp) {
    const Node* n = f.node;
    if (n->max_length >= 0 && f.count >= n->max_length) return false;
    if (n->pattern && !n->pattern->advance(f.regex, cp)) return false;
    if (f.key || n->format != StringFormat::kNone || !n->pattern_at_close.empty()) {
      unicode::append_utf8(f.text, cp);
      if (n->format == StringFormat::kDate && !date_prefix_viable(f.text)) return false;
      if (n->format == StringFormat::kDateTime && !date_time_prefix_viable(f.text)) return false;
    }
    ++f.count;
    return true;
  }

  // A multi-byte character starting with `lead` may fit: its first and last code points are
  // tried against the pattern (exact for the ASCII classes real patterns use).
  static bool lead_may_fit(const Frame& f, uint32_t lo, uint32_t hi) {
    const Node* n = f.node;
    if (n->format != StringFormat::kNone) return false;
    if (n->max_length >= 0 && f.count >= n->max_length) return false;
    if (!n->pattern) return true;
    for (uint32_t cp : {lo, hi, (lo + hi) / 2}) {
      RegexPrefix::State s = f.regex;
      if (n->pattern->advance(s, cp)) return true;
    }
    return false;
  }

  // Some escape after '\\' gives a character the string takes (a \u escape is open to any
  // string without a pattern or format).
  static bool escape_may_fit(const Frame& f) {
    if (!f.node->pattern && f.node->format == StringFormat::kNone) return true;
    for (uint32_t cp : {uint32_t('"'), uint32_t('\\'), uint32_t('/'), 8u, 12u, 10u, 13u, 9u}) {
      Frame copy = f;
      if (add_char(copy, cp)) return true;
    }
    return false;
  }

  static bool can_close(const Frame& f) {
    const Node* n = f.node;
    if (f.count < n->min_length) return false;
    if (n->pattern && !n->pattern->accepts(f.regex)) return false;
    if (n->format == StringFormat::kDate && !date_complete(f.text)) return false;
    if (n->format == StringFormat::kDateTime && !date_time_complete(f.text)) return false;
    if (!n->pattern_at_close.empty() && !pattern_matches(n->pattern_at_close, f.text)) return false;
    return true;
  }

  void string(Config& c, uint8_t b) {
    Frame& f = c.stack.back();
    auto accept = [&]() {
      record_top(c, b);
      emit(c);
    };
    if (f.escape == 1) {
      uint32_t cp = 0;
      switch (b) {
        case '"': case '\\': case '/': cp = b; break;
        case 'b': cp = 8; break;
        case 'f': cp = 12; break;
        case 'n': cp = 10; break;
        case 'r': cp = 13; break;
        case 't': cp = 9; break;
        case 'u':
          // \uXXXX is known only at its last digit, too late for a pattern or a format to
          // refuse it without a dead end: such strings take the character itself.
          if (f.node->pattern || f.node->format != StringFormat::kNone) return;
          f.escape = 2, f.code_point = 0;
          return accept();
        default: return;
      }
      f.escape = 0;
      if (add_char(f, cp)) accept();
      return;
    }
    if (f.escape >= 2) {
      int digit = -1;
      if (b >= '0' && b <= '9') digit = b - '0';
      if (b >= 'a' && b <= 'f') digit = b - 'a' + 10;
      if (b >= 'A' && b <= 'F') digit = b - 'A' + 10;
      if (digit < 0) return;
      f.code_point = f.code_point * 16 + static_cast<uint32_t>(digit);
      // No surrogate halves: \uD800-\uDFFF would need a pair; write the character itself.
      if (f.escape == 3 && f.code_point >= 0xD8 && f.code_point <= 0xDF) return;
      if (++f.escape < 6) return accept();
      f.escape = 0;
      if (add_char(f, f.code_point)) accept();
      return;
    }
    if (f.utf8_left > 0) {
      if ((b & 0xC0) != 0x80) return;
      if (f.utf8_left + 1 == f.utf8_length) {
        // The second byte rules out overlong forms, surrogates and code points past U+10FFFF
        // (RFC 3629's table), so the character's last byte is never the one refused.
        if (f.utf8_length == 3 && f.code_point == 0x0 && b < 0xA0) return;
        if (f.utf8_length == 3 && f.code_point == 0xD && b > 0x9F) return;
        if (f.utf8_length == 4 && f.code_point == 0x0 && b < 0x90) return;
        if (f.utf8_length == 4 && f.code_point == 0x4 && b > 0x8F) return;
      }
      f.code_point = (f.code_point << 6) | (b & 0x3F);
      if (--f.utf8_left > 0) return accept();
      const uint32_t cp = f.code_point;
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return;
      if (add_char(f, cp)) accept();
      return;
    }
    if (b == '"') {
      if (!can_close(f)) return;
      record_top(c, b);
      if (finish_top(c)) emit(c);
      return;
    }
    if (b == '\\') {
      if (f.node->max_length >= 0 && f.count >= f.node->max_length) return;
      if (!escape_may_fit(f)) return;
      f.escape = 1;
      return accept();
    }
    if (b < 0x20) return;
    if (b < 0x80) {
      if (add_char(f, b)) accept();
      return;
    }
    // UTF-8 lead bytes (no overlong two-byte forms, nothing past U+10FFFF).
    uint32_t lo, hi;
    if (b >= 0xC2 && b <= 0xDF) {
      f.utf8_left = 1, f.code_point = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      f.utf8_left = 2, f.code_point = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      f.utf8_left = 3, f.code_point = b & 0x07;
    } else {
      return;
    }
    f.utf8_length = static_cast<uint8_t>(f.utf8_left + 1);
    lo = f.code_point << (6 * f.utf8_left);
    hi = lo | ((1u << (6 * f.utf8_left)) - 1);
    lo = std::max(lo, f.utf8_left == 1 ? 0x80u : f.utf8_left == 2 ? 0x800u : 0x10000u);
    if (!lead_may_fit(f, lo, std::min(hi, 0x10FFFFu))) return;
    accept();
  }

  // A pattern RegexPrefix could not compile, checked as validate_json does when the string
  // closes (so such a string can run into a dead end; the decoder then stops at max_tokens).
  static bool pattern_matches(const std::string& pattern, const std::string& text) {
    try {
      return std::regex_search(text, std::regex(pattern, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
      return true;  // check_schema reports a broken pattern; nothing to hold the value to
    }
  }

  const Rules& r_;
  std::vector<Config>& out_;
};

Rules rules_of(const ToolCallGrammar& g, const Node* call) {
  const bool has_functions = !call->any_of.empty();
  return {g, call, has_functions && g.choice().mode != ToolChoiceMode::kNone};
}

bool config_can_end(const Config& c, const ToolCallGrammar& g) {
  if (!c.stack.empty()) return false;
  switch (c.env) {
    case Envelope::kText: return c.pos == 0;
    case Envelope::kFree: return true;
    case Envelope::kAfter: return c.pos == 0;
    case Envelope::kLead:
      return g.syntax().open.empty() && (g.choice().mode == ToolChoiceMode::kAuto ||
                                         g.choice().mode == ToolChoiceMode::kNone);
    default: return false;
  }
}

// All configurations after byte b; empty = b is not allowed.
std::vector<Config> step_all(const std::vector<Config>& configs, const Rules& rules, uint8_t b) {
  std::vector<Config> next;
  Stepper stepper(rules, next);
  for (const Config& c : configs) stepper.step(c, b);
  if (next.size() > kMaxConfigs) next.resize(kMaxConfigs);  // each one left is still viable
  return next;
}

// Where a set of configurations stands, as far as its way to an end goes: envelope and stack,
// each frame's kind, phase and property, and of what it has written only what decides what may
// follow (a literal's text, a number's length and sign and point, a pattern's automaton state,
// a date's length, a string's or array's length up to its minimum). closing_bytes prefers bytes
// that reach a place not reached before, so a pattern such as [0-9]+\.[0-9]+ goes on to its '.'
// rather than writing digits for ever.
std::string place_of(const std::vector<Config>& configs) {
  std::string out;
  const auto put = [&out](int64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (const Config& c : configs) {
    put(static_cast<int64_t>(c.env));
    put(c.pos);
    put(c.calls);
    put(static_cast<int64_t>(c.stack.size()));
    for (const Frame& f : c.stack) {
      put(reinterpret_cast<intptr_t>(f.node));
      put(static_cast<int64_t>(f.kind) << 16 | f.phase << 8 | f.key);
      put(f.escape << 8 | f.utf8_left);
      put(f.prop);
      const int64_t least = f.node == nullptr       ? 0
                            : f.kind == FrameKind::kArray ? f.node->min_items
                                                          : f.node->min_length;
      // A date's or date-time's length in full: what may follow depends on where it stands.
      const bool formatted = f.node != nullptr && f.kind == FrameKind::kString &&
                             f.node->format != StringFormat::kNone;
      put(formatted ? f.count : std::min<int64_t>(f.count, least));
      put(static_cast<int64_t>(f.extra_keys.size()));
      put(static_cast<int64_t>(f.seen.size()));
      for (uint8_t u : f.used) put(u);
      for (uint16_t id : f.regex.ids) put(id);
      put(f.regex.accepting);
      if (f.kind == FrameKind::kLiteral) out += f.text + '\0';
      if (f.kind == FrameKind::kNumber) {  // its length and form, not every digit
        put(static_cast<int64_t>(f.text.size()));
        put((f.text.find('-') != std::string::npos) << 1 | (f.text.find('.') != std::string::npos));
      }
    }
    out += '|';
  }
  return out;
}

}  // namespace

ToolCallMatcher::ToolCallMatcher(std::shared_ptr<const ToolCallGrammar> grammar)
    : grammar_(std::move(grammar)) {
  TSFT_CHECK(grammar_ != nullptr);
  Config start;
  const bool text_first = grammar_->choice().mode == ToolChoiceMode::kAuto ||
                          grammar_->choice().mode == ToolChoiceMode::kNone;
  start.env = text_first && !grammar_->syntax().open.empty() ? Envelope::kText : Envelope::kLead;
  configs_.push_back(std::move(start));
}

ToolCallMatcher::~ToolCallMatcher() = default;
ToolCallMatcher::ToolCallMatcher(const ToolCallMatcher&) = default;
ToolCallMatcher& ToolCallMatcher::operator=(const ToolCallMatcher&) = default;
ToolCallMatcher::ToolCallMatcher(ToolCallMatcher&&) noexcept = default;
ToolCallMatcher& ToolCallMatcher::operator=(ToolCallMatcher&&) noexcept = default;

bool ToolCallMatcher::feed(std::string_view bytes) {
  const Rules rules = rules_of(*grammar_, grammar_->call_);
  std::vector<Config> configs = configs_;
  for (char ch : bytes) {
    configs = step_all(configs, rules, static_cast<uint8_t>(ch));
    if (configs.empty()) return false;
  }
  configs_ = std::move(configs);
  return true;
}

bool ToolCallMatcher::allows(std::string_view bytes) const {
  if (bytes.empty()) return true;
  const Rules rules = rules_of(*grammar_, grammar_->call_);
  std::vector<Config> configs = step_all(configs_, rules, static_cast<uint8_t>(bytes[0]));
  for (size_t i = 1; i < bytes.size() && !configs.empty(); ++i)
    configs = step_all(configs, rules, static_cast<uint8_t>(bytes[i]));
  return !configs.empty();
}

void ToolCallMatcher::allowed_bytes(bool out[256]) const {
  const Rules rules = rules_of(*grammar_, grammar_->call_);
  for (int b = 0; b < 256; ++b) out[b] = !step_all(configs_, rules, static_cast<uint8_t>(b)).empty();
}

bool ToolCallMatcher::can_end() const {
  for (const Config& c : configs_)
    if (config_can_end(c, *grammar_)) return true;
  return false;
}

std::optional<std::string> ToolCallMatcher::closing_bytes(size_t max_bytes) const {
  static const std::string kOrder = [] {
    std::string o =
        "\"}],:0123456789<>/abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ-.[{\n ";
    for (int b = 1; b < 256; ++b)
      if (o.find(static_cast<char>(b)) == std::string::npos) o += static_cast<char>(b);
    return o;
  }();
  const Rules rules = rules_of(*grammar_, grammar_->call_);
  const auto ends = [&](const std::vector<Config>& configs) {
    for (const Config& c : configs)
      if (config_can_end(c, *grammar_)) return true;
    return false;
  };
  if (ends(configs_)) return std::string();
  // Greedy first: at each byte the first in kOrder that reaches a new place. It closes strings,
  // objects and calls in one pass and is all most states need.
  {
    std::vector<Config> at = configs_;
    std::set<std::string> reached = {place_of(at)};
    std::string out;
    while (out.size() < max_bytes) {
      bool moved = false;
      for (char b : kOrder) {
        std::vector<Config> next = step_all(at, rules, static_cast<uint8_t>(b));
        if (next.empty() || !reached.insert(place_of(next)).second) continue;
        at = std::move(next);
        out += b;
        moved = true;
        break;
      }
      if (!moved) break;  // every allowed byte leads back: search instead
      if (ends(at)) return out;
    }
  }
  // Else breadth first over places (an unanchored pattern such as [0-9]{2} after "9}": the
  // greedy walk goes back and forth between "a digit last" and "no digit last").
  struct Step {
    std::vector<Config> configs;
    int64_t parent;
    char byte;
    size_t depth;
  };
  std::vector<Step> steps;
  steps.push_back({configs_, -1, 0, 0});
  std::set<std::string> seen = {place_of(configs_)};
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].depth >= max_bytes) continue;
    for (char b : kOrder) {
      std::vector<Config> next = step_all(steps[i].configs, rules, static_cast<uint8_t>(b));
      if (next.empty() || !seen.insert(place_of(next)).second) continue;
      const bool done = ends(next);
      steps.push_back({std::move(next), static_cast<int64_t>(i), b, steps[i].depth + 1});
      if (done) {
        std::string out;
        for (int64_t k = static_cast<int64_t>(steps.size()) - 1; k > 0; k = steps[k].parent)
          out += steps[k].byte;
        std::reverse(out.begin(), out.end());
        return out;
      }
      if (steps.size() >= kMaxClosingSearch) return std::nullopt;
    }
  }
  return std::nullopt;
}

bool ToolCallMatcher::in_call() const {
  for (const Config& c : configs_)
    if (c.env == Envelope::kText || c.env == Envelope::kLead || c.env == Envelope::kFree ||
        c.env == Envelope::kAfter)
      return false;
  return true;
}

int64_t ToolCallMatcher::calls_finished() const {
  int64_t n = 0;
  for (const Config& c : configs_) n = std::max<int64_t>(n, c.calls);
  return n;
}

}  // namespace tsft
