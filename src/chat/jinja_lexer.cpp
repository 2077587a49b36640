// Jinja tokenizer. The whitespace rules mirror jinja2.lexer.Lexer.tokeniter: "-" strips all
// whitespace on that side, lstrip_blocks strips a block/comment tag's indentation when only
// whitespace precedes it on its line, trim_blocks drops one newline after a block/comment tag.
#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace tsft::jinja {
namespace {

using unicode::append_utf8;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }


class Lexer {
 public:
  Lexer(const std::string& src, const std::string& name, const LexOptions& opts)
      : src_(src), name_(name), opts_(opts) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit(TokenType::Text, src_.substr(pos), pos);
        break;
      }
      char kind = src_[start + 1];  // '{', '%' or '#'
      char sign = start + 2 < src_.size() ? src_[start + 2] : 0;
      if (sign != '-' && sign != '+') sign = 0;
      std::string text = src_.substr(pos, start - pos);
      if (sign == '-') {
        size_t e = text.size();
        while (e > 0 && is_space(text[e - 1])) --e;
        text.resize(e);
      } else if (sign == 0 && opts_.lstrip_blocks && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        bool line_starting = pos == 0 || src_[pos - 1] == '\n';
        if (l_pos > 0 || line_starting) {
          bool all_ws = l_pos < text.size();
          for (size_t i = l_pos; i < text.size(); ++i)
            if (!is_space(text[i])) all_ws = false;
          if (all_ws) text.resize(l_pos);
        }
      }
      if (!text.empty()) emit(TokenType::Text, text, pos);
      size_t inner = start + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(start, inner);
      } else if (kind == '%' && try_raw(start, inner, pos)) {
        // pos advanced past {% endraw %}
      } else {
        pos = lex_tag(start, inner, kind == '{');
      }
    }
    tokens_.push_back({TokenType::Eof, "", position(src_.size()).first, position(src_.size()).second});
    return std::move(tokens_);
  }

 private:
  std::pair<int, int> position(size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    return {static_cast<int>(line), static_cast<int>(pos - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void fail_at(size_t pos, const std::string& msg) const {
    auto [l, c] = position(pos);
    tsft::fail(name_, ":", l, ":", c, ": ", msg);
  }

  void emit(TokenType t, std::string v, size_t pos) {
    auto [l, c] = position(pos);
    tokens_.push_back({t, std::move(v), l, c});
  }

  size_t find_tag(size_t pos) const {
    for (size_t i = pos; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  // After a block or comment end: "-" eats all whitespace, "+" keeps it, else trim_blocks drops
  // one newline.
  size_t after_block_end(size_t pos, char sign) const {
    if (sign == '-') {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
    } else if (sign == 0 && opts_.trim_blocks && pos < src_.size() && src_[pos] == '\n') {
      ++pos;
    }
    return pos;
  }

  size_t lex_comment(size_t start, size_t inner) {
    size_t end = src_.find("#}", inner);
    if (end == std::string::npos) fail_at(start, "missing end of comment tag");
    char sign = (end > inner && (src_[end - 1] == '-' || src_[end - 1] == '+')) ? src_[end - 1] : 0;
    return after_block_end(end + 2, sign);
  }

  // {% raw %}...{% endraw %}: the body is emitted verbatim.
  bool try_raw(size_t start, size_t inner, size_t& pos_out) {
    size_t p = inner;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0 || (p + 3 < src_.size() && is_name_char(src_[p + 3]))) return false;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    char sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) fail_at(start, "expected end of raw tag");
    size_t body = after_block_end(p + 2, sign);
    for (size_t q = body; (q = src_.find("{%", q)) != std::string::npos; q += 2) {
      size_t r = q + 2;
      char lsign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) lsign = src_[r++];
      while (r < src_.size() && is_space(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      while (r < src_.size() && is_space(src_[r])) ++r;
      char esign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) esign = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string text = src_.substr(body, q - body);
      if (lsign == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      }
      if (!text.empty()) emit(TokenType::Text, text, body);
      pos_out = after_block_end(r + 2, esign);
      return true;
    }
    fail_at(start, "missing endraw");
  }

  size_t lex_tag(size_t start, size_t inner, bool is_var) {
    emit(is_var ? TokenType::VarBegin : TokenType::BlockBegin, "", start);
    size_t p = inner;
    int depth = 0;
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) fail_at(start, is_var ? "missing '}}'" : "missing '%}'");
      if (depth == 0) {
        if (is_var) {
          if (src_.compare(p, 3, "-}}") == 0) {
            emit(TokenType::VarEnd, "", p);
            p += 3;
            while (p < src_.size() && is_space(src_[p])) ++p;
            return p;
          }
          if (src_.compare(p, 2, "}}") == 0) {
            emit(TokenType::VarEnd, "", p);
            return p + 2;
          }
        } else {
          char sign = 0;
          size_t q = p;
          if (src_[q] == '-' || src_[q] == '+') sign = src_[q++];
          if (src_.compare(q, 2, "%}") == 0) {
            emit(TokenType::BlockEnd, "", p);
            return after_block_end(q + 2, sign);
          }
        }
      }
      char c = src_[p];
      if (is_name_start(c)) {
        size_t e = p;
        while (e < src_.size() && is_name_char(src_[e])) ++e;
        emit(TokenType::Name, src_.substr(p, e - p), p);
        p = e;
      } else if (is_digit(c)) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* kOps2[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* o : kOps2)
          if (src_.compare(p, 2, o) == 0) op = o;
        if (op.empty()) {
          if (!std::strchr("+-*/%~[](){},.:|=<>;", c)) fail_at(p, std::string("unexpected char '") + c + "'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        emit(TokenType::Op, op, p);
        p += op.size();
      }
    }
  }

  size_t lex_number(size_t p) {
    size_t e = p;
    while (e < src_.size() && (is_digit(src_[e]) || src_[e] == '_')) ++e;
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      is_float = true;
      ++e;
      while (e < src_.size() && (is_digit(src_[e]) || src_[e] == '_')) ++e;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        is_float = true;
        e = q;
        while (e < src_.size() && is_digit(src_[e])) ++e;
      }
    }
    std::string s;
    for (size_t i = p; i < e; ++i)
      if (src_[i] != '_') s += src_[i];
    emit(is_float ? TokenType::Float : TokenType::Int, s, p);
    return e;
  }

  // Decodes Python string escapes, as jinja2 does with "unicode-escape".
  size_t lex_string(size_t p) {
    char q = src_[p];
    std::string out;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) fail_at(p, "unterminated string");
      char c = src_[i];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) fail_at(p, "unterminated string");
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + n > src_.size()) fail_at(p, "truncated escape");
          for (size_t k = i; k < i + n; ++k)
            if (!std::isxdigit(static_cast<unsigned char>(src_[k]))) fail_at(p, "invalid escape in string");
          uint32_t cp = static_cast<uint32_t>(std::stoul(src_.substr(i, n), nullptr, 16));
          if (cp > 0x10FFFF) fail_at(p, "invalid escape in string");
          append_utf8(out, cp);
          i += n;
          break;
        }
        default:
          out += '\\';
          out += e;
      }
    }
    emit(TokenType::String, out, p);
    return i + 1;
  }

  std::string src_;
  const std::string& name_;
  LexOptions opts_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& name, const LexOptions& opts) {
  // jinja2 normalizes newlines and drops one trailing newline unless keep_trailing_newline.
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src += source[i];
    }
  }
  if (!opts.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(src, name, opts).run();
}

}  // namespace tsft::jinja
