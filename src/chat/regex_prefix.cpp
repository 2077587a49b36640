// ECMA-262 pattern -> syntax tree -> Thompson NFA with ^/$ as assertion nodes -> per character
// node, the character nodes alive after it consumes (epsilon closures computed once) -> nodes that
// cannot reach a match pruned, so a non-empty state always has a completion.
#include "chat/regex_prefix.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace tsft {
namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;
constexpr uint64_t kMaxNfaNodes = 20000;  // all kinds; ids of character nodes fit in uint16_t
constexpr uint64_t kMaxFollowEntries = uint64_t{1} << 21;   // 4 MiB of closure tables
constexpr uint64_t kMaxClosureSteps = uint64_t{100} << 20;  // bounds compile time
constexpr uint32_t kMaxRepeatCount = 100000;
constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();
constexpr int kMaxNesting = 200;  // parentheses; the parser recurses on them
static_assert(kMaxNfaNodes < std::numeric_limits<uint16_t>::max());

// ---- character sets: sorted, disjoint, non-adjacent inclusive ranges ----

struct Range {
  char32_t lo, hi;
};
using CharSet = std::vector<Range>;

CharSet normalized(CharSet s) {
  std::sort(s.begin(), s.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  CharSet out;
  for (const Range& r : s) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

CharSet complement(const CharSet& s) {  // s normalized
  CharSet out;
  char32_t next = 0;
  for (const Range& r : s) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

const CharSet& digit_set() {
  static const CharSet s = {{'0', '9'}};
  return s;
}
const CharSet& word_set() {
  static const CharSet s = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return s;
}
// As std::regex's \s in the C locale (the validator's): ASCII only, unlike ECMA-262's.
const CharSet& space_set() {
  static const CharSet s = {{'\t', '\r'}, {' ', ' '}};
  return s;
}
const CharSet& dot_set() {
  static const CharSet s = complement(normalized({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
  return s;
}
const CharSet& any_set() {
  static const CharSet s = {{0, kMaxCodePoint}};
  return s;
}

// ---- syntax tree ----

struct Ast {
  enum class Kind { kEmpty, kSet, kConcat, kAlt, kRepeat, kLineStart, kLineEnd };
  Kind kind = Kind::kEmpty;
  CharSet set;            // kSet
  std::vector<Ast> kids;  // kConcat, kAlt; kRepeat has one
  uint32_t min = 0;       // kRepeat
  uint32_t max = 0;       // kRepeat; kUnbounded for * + {n,}
};

Ast set_ast(CharSet set) {
  Ast a;
  a.kind = Ast::Kind::kSet;
  a.set = std::move(set);
  return a;
}

// JSON-style quoting, as validate_json's messages show patterns.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

bool is_ascii_alnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int hex_value(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

// One item inside (or, for escapes, outside) a class: a single code point or a class escape.
struct ClassAtom {
  bool is_set = false;
  char32_t cp = 0;
  CharSet set;
};

class Parser {
 public:
  explicit Parser(const std::string& pattern) : pattern_(pattern) { decode(); }

  Ast parse() {
    Ast a = disjunction(0);
    if (pos_ < text_.size()) error(pos_, "unmatched ')'");
    return a;
  }

 private:
  [[noreturn]] void error(size_t pos, const std::string& what) const {
    fail("pattern ", quoted(pattern_), " at position ", pos, ": ", what);
  }

  void decode() {
    const auto* p = reinterpret_cast<const unsigned char*>(pattern_.data());
    const size_t n = pattern_.size();
    for (size_t i = 0; i < n;) {
      const unsigned char b = p[i];
      int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
      bool ok = len > 0 && i + len <= n;
      for (int k = 1; ok && k < len; ++k) {
        ok = (p[i + k] & 0xC0) == 0x80;
        cp = (cp << 6) | (p[i + k] & 0x3F);
      }
      static constexpr char32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
      if (!ok || cp < kMinOfLength[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
        fail("pattern ", quoted(pattern_), ": invalid UTF-8 at byte ", i);
      text_.push_back(cp);
      i += len;
    }
  }

  bool at_end() const { return pos_ >= text_.size(); }
  // The code point `ahead` places on, or 0xFFFFFFFF past the end (no code point has that value).
  char32_t peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : char32_t{0xFFFFFFFF};
  }

  Ast disjunction(int depth) {
    std::vector<Ast> alts;
    alts.push_back(alternative(depth));
    while (peek() == '|') {
      ++pos_;
      alts.push_back(alternative(depth));
    }
    if (alts.size() == 1) return std::move(alts[0]);
    Ast a;
    a.kind = Ast::Kind::kAlt;
    a.kids = std::move(alts);
    return a;
  }

  Ast alternative(int depth) {
    Ast seq;
    seq.kind = Ast::Kind::kConcat;
    while (!at_end() && peek() != '|' && peek() != ')') seq.kids.push_back(term(depth));
    if (seq.kids.size() == 1) return std::move(seq.kids[0]);
    if (seq.kids.empty()) return Ast{};
    return seq;
  }

  static bool starts_quantifier(char32_t c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

  Ast term(int depth) {
    const char32_t c = peek();
    if (c == '^' || c == '$') {
      ++pos_;
      if (starts_quantifier(peek()))
        error(pos_, str("a quantifier cannot apply to the anchor '", static_cast<char>(c), "'"));
      Ast a;
      a.kind = c == '^' ? Ast::Kind::kLineStart : Ast::Kind::kLineEnd;
      return a;
    }
    Ast a = atom(depth);
    if (!starts_quantifier(peek())) return a;
    uint32_t min = 0, max = 0;
    quantifier(&min, &max);
    if (peek() == '?') ++pos_;  // lazy: changes which match is found, not whether one is
    if (starts_quantifier(peek()))
      error(pos_, "a quantifier cannot follow another quantifier (nothing to repeat)");
    if (min == 1 && max == 1) return a;
    Ast r;
    r.kind = Ast::Kind::kRepeat;
    r.min = min;
    r.max = max;
    r.kids.push_back(std::move(a));
    return r;
  }

  // At '*', '+', '?' or '{'.
  void quantifier(uint32_t* min, uint32_t* max) {
    const char32_t c = peek();
    const size_t at = pos_++;
    if (c == '*') {
      *min = 0, *max = kUnbounded;
    } else if (c == '+') {
      *min = 1, *max = kUnbounded;
    } else if (c == '?') {
      *min = 0, *max = 1;
    } else {
      *min = number(at);
      *max = *min;
      if (peek() == ',') {
        ++pos_;
        *max = peek() == '}' ? kUnbounded : number(at);
      }
      if (peek() != '}') error(at, "malformed {n,m} quantifier (a literal '{' is written \\{)");
      ++pos_;
      if (*max != kUnbounded && *min > *max) error(at, "{n,m} quantifier with n > m");
    }
  }

  uint32_t number(size_t quantifier_at) {
    if (!(peek() >= '0' && peek() <= '9'))
      error(quantifier_at, "malformed {n,m} quantifier (a literal '{' is written \\{)");
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepeatCount)
        error(quantifier_at, str("repeat count above ", kMaxRepeatCount, " is not supported"));
      ++pos_;
    }
    return static_cast<uint32_t>(v);
  }

  Ast atom(int depth) {
    const size_t at = pos_;
    const char32_t c = peek();
    switch (c) {
      case '(':
        return group(depth);
      case '[':
        return set_ast(char_class());
      case '.':
        ++pos_;
        return set_ast(dot_set());
      case '\\': {
        ClassAtom e = escape(/*in_class=*/false);
        return set_ast(e.is_set ? std::move(e.set) : CharSet{{e.cp, e.cp}});
      }
      case '*':
      case '+':
      case '?':
        error(at, str("nothing to repeat before '", static_cast<char>(c), "'"));
      case '{':
        error(at, "nothing to repeat before '{' (a literal '{' is written \\{)");
      default:
        ++pos_;
        return set_ast({{c, c}});
    }
  }

  Ast group(int depth) {
    const size_t at = pos_++;  // '('
    if (depth >= kMaxNesting) error(at, str("groups nested deeper than ", kMaxNesting));
    if (peek() == '?') {
      const char32_t k = peek(1), k2 = peek(2);
      if (k == ':') {
        pos_ += 2;
      } else if (k == '=' || k == '!') {
        error(at, str("lookahead (?", static_cast<char>(k), "...) is not supported"));
      } else if (k == '<' && (k2 == '=' || k2 == '!')) {
        error(at, str("lookbehind (?<", static_cast<char>(k2), "...) is not supported"));
      } else if (k == '<') {
        error(at, "named groups (?<name>...) are not supported");
      } else {
        error(at, "'(?' other than (?: (inline flags and other extensions) is not supported");
      }
    }
    Ast inner = disjunction(depth + 1);
    if (peek() != ')') error(at, "missing ')' for this '('");
    ++pos_;
    return inner;
  }

  CharSet char_class() {
    const size_t at = pos_++;  // '['
    bool negate = false;
    if (peek() == '^') {
      negate = true;
      ++pos_;
    }
    CharSet set;
    for (;;) {
      if (at_end()) error(at, "missing ']' for this '['");
      if (peek() == ']') {
        ++pos_;
        break;
      }
      const size_t a_at = pos_;
      ClassAtom a = class_atom();
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < text_.size()) {
        ++pos_;
        ClassAtom b = class_atom();
        if (a.is_set || b.is_set)
          error(a_at, "a class escape (\\d \\w \\s ...) cannot bound a range (write \\- for '-')");
        if (a.cp > b.cp) error(a_at, "character class range out of order");
        set.push_back({a.cp, b.cp});
      } else if (a.is_set) {
        set.insert(set.end(), a.set.begin(), a.set.end());
      } else {
        set.push_back({a.cp, a.cp});
      }
    }
    set = normalized(std::move(set));
    return negate ? complement(set) : set;
  }

  ClassAtom class_atom() {
    if (peek() == '\\') return escape(/*in_class=*/true);
    ClassAtom a;
    a.cp = peek();
    ++pos_;
    return a;
  }

  // At '\'.
  ClassAtom escape(bool in_class) {
    const size_t at = pos_++;
    if (at_end()) error(at, "the pattern ends with a lone '\\'");
    const char32_t c = peek();
    ++pos_;
    ClassAtom a;
    auto set = [&](const CharSet& s, bool negated) {
      a.is_set = true;
      a.set = negated ? complement(s) : s;
      return a;
    };
    auto single = [&](char32_t cp) {
      a.cp = cp;
      return a;
    };
    switch (c) {
      case 'd':
      case 'D':
        return set(digit_set(), c == 'D');
      case 'w':
      case 'W':
        return set(word_set(), c == 'W');
      case 's':
      case 'S':
        return set(space_set(), c == 'S');
      case 't':
        return single('\t');
      case 'n':
        return single('\n');
      case 'r':
        return single('\r');
      case 'v':
        return single('\v');
      case 'f':
        return single('\f');
      case 'b':
        if (in_class) return single('\b');
        error(at, "word boundary \\b is not supported");
      case 'B':
        error(at, "word boundary \\B is not supported");
      case '0':
        if (peek() >= '0' && peek() <= '9') error(at, "octal escapes are not supported");
        return single(0);
      case 'x':
        return single(hex_digits(at, 2, "\\x needs two hex digits"));
      case 'u':
        return single(unicode_escape(at));
      case 'c':
        error(at, "control escapes \\cX are not supported");
      case 'k':
        error(at, "named backreferences \\k<name> are not supported");
      case 'p':
      case 'P':
        error(at, "Unicode property escapes \\p{...} are not supported");
      default:
        break;
    }
    if (c >= '1' && c <= '9')
      error(at, str("backreferences (\\", static_cast<char>(c), ") are not supported"));
    if (is_ascii_alnum(c))
      error(at, str("unknown escape \\", static_cast<char>(c), " is not supported"));
    return single(c);  // identity escape: \. \- \/ \$ \\ ...
  }

  char32_t hex_digits(size_t at, int count, const char* what) {
    char32_t v = 0;
    for (int i = 0; i < count; ++i) {
      const int h = hex_value(peek());
      if (h < 0) error(at, what);
      v = v * 16 + static_cast<char32_t>(h);
      ++pos_;
    }
    return v;
  }

  // After "\u": XXXX, a \uD8xx\uDCxx surrogate pair meaning one code point.
  char32_t unicode_escape(size_t at) {
    if (peek() == '{') error(at, "\\u{...} escapes (the u flag) are not supported");
    const char32_t hi = hex_digits(at, 4, "\\u needs four hex digits");
    if (hi >= 0xDC00 && hi <= 0xDFFF) error(at, "a lone low surrogate \\u is not supported");
    if (hi < 0xD800 || hi > 0xDBFF) return hi;
    if (peek() != '\\' || peek(1) != 'u')
      error(at, "a high surrogate \\u must be followed by a low surrogate \\u");
    pos_ += 2;
    const char32_t lo = hex_digits(at, 4, "\\u needs four hex digits");
    if (lo < 0xDC00 || lo > 0xDFFF)
      error(at, "a high surrogate \\u must be followed by a low surrogate \\u");
    return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
  }

  const std::string& pattern_;
  std::u32string text_;
  size_t pos_ = 0;
};

// ---- NFA size, before expanding anything ----

uint64_t capped(uint64_t v) {
  return std::min(v, kMaxNfaNodes + 1);
}

uint64_t nfa_nodes(const Ast& a) {
  switch (a.kind) {
    case Ast::Kind::kEmpty:
      return 0;
    case Ast::Kind::kSet:
    case Ast::Kind::kLineStart:
    case Ast::Kind::kLineEnd:
      return 1;
    case Ast::Kind::kConcat:
    case Ast::Kind::kAlt: {
      uint64_t n = a.kind == Ast::Kind::kAlt ? 1 : 0;
      for (const Ast& k : a.kids) n = capped(n + nfa_nodes(k));
      return n;
    }
    case Ast::Kind::kRepeat: {
      const uint64_t s = nfa_nodes(a.kids[0]);
      const uint64_t optional = a.max == kUnbounded ? 1 : a.max - a.min;
      return capped(a.min * s + optional * (s + 1));
    }
  }
  return 0;
}

// ---- Thompson NFA ----

struct NfaNode {
  enum class Kind : uint8_t { kChar, kSplit, kLineStart, kLineEnd, kMatch };
  Kind kind;
  CharSet set;                // kChar
  std::vector<uint32_t> out;  // successors (kChar, kLineStart, kLineEnd: one)
};

class Nfa {
 public:
  uint32_t add(NfaNode::Kind kind, std::vector<uint32_t> out = {}, CharSet set = {}) {
    nodes.push_back({kind, std::move(set), std::move(out)});
    TSFT_CHECK(nodes.size() <= kMaxNfaNodes + 8, "nfa_nodes() underestimated the NFA");
    return static_cast<uint32_t>(nodes.size() - 1);
  }

  // Builds `a` so that it continues at `next`; returns its entry.
  uint32_t build(const Ast& a, uint32_t next) {
    switch (a.kind) {
      case Ast::Kind::kEmpty:
        return next;
      case Ast::Kind::kSet:
        return add(NfaNode::Kind::kChar, {next}, a.set);
      case Ast::Kind::kLineStart:
        return add(NfaNode::Kind::kLineStart, {next});
      case Ast::Kind::kLineEnd:
        return add(NfaNode::Kind::kLineEnd, {next});
      case Ast::Kind::kConcat:
        for (auto it = a.kids.rbegin(); it != a.kids.rend(); ++it) next = build(*it, next);
        return next;
      case Ast::Kind::kAlt: {
        std::vector<uint32_t> out;
        for (const Ast& k : a.kids) out.push_back(build(k, next));
        return add(NfaNode::Kind::kSplit, std::move(out));
      }
      case Ast::Kind::kRepeat: {
        const Ast& body = a.kids[0];
        uint32_t cur = next;
        if (a.max == kUnbounded) {
          const uint32_t loop = add(NfaNode::Kind::kSplit);
          const uint32_t entry = build(body, loop);
          nodes[loop].out = {entry, next};
          cur = loop;
        } else {
          // x{0,k} nested as (x(x(x)?)?)?: after each x only one optional copy is live, where
          // x?x?x? would keep every later copy in the state.
          for (uint32_t j = 0; j < a.max - a.min; ++j) {
            const uint32_t entry = build(body, cur);
            cur = add(NfaNode::Kind::kSplit, {entry, next});
          }
        }
        for (uint32_t i = 0; i < a.min; ++i) cur = build(body, cur);
        return cur;
      }
    }
    return next;
  }

  std::vector<NfaNode> nodes;
};

// Character nodes reachable from a node without consuming, with ^ passable only at the start of
// the text and nothing consumable after a $ (which can then only reach the match).
class ClosureWalker {
 public:
  ClosureWalker(const Nfa& nfa, const std::vector<int32_t>& char_index, const std::string& pattern)
      : nfa_(nfa), char_index_(char_index), pattern_(pattern) {
    for (auto& s : stamp_) s.assign(nfa.nodes.size(), 0);
  }

  // Appends the sorted character-node indices to `out`; returns whether the match is reachable.
  bool run(uint32_t from, bool at_text_start, std::vector<uint16_t>* out) {
    ++round_;
    bool accepts = false;
    const size_t first = out->size();
    stack_.clear();
    stack_.push_back({from, false});
    while (!stack_.empty()) {
      const auto [id, after_end] = stack_.back();
      stack_.pop_back();
      uint32_t& seen = stamp_[after_end][id];
      if (seen == round_) continue;
      seen = round_;
      if (++steps_ > kMaxClosureSteps) too_complex();
      const NfaNode& n = nfa_.nodes[id];
      switch (n.kind) {
        case NfaNode::Kind::kChar:
          if (!after_end) out->push_back(static_cast<uint16_t>(char_index_[id]));
          break;
        case NfaNode::Kind::kSplit:
          for (uint32_t o : n.out) stack_.push_back({o, after_end});
          break;
        case NfaNode::Kind::kLineStart:
          if (at_text_start) stack_.push_back({n.out[0], after_end});
          break;
        case NfaNode::Kind::kLineEnd:
          stack_.push_back({n.out[0], true});
          break;
        case NfaNode::Kind::kMatch:
          accepts = true;
          break;
      }
    }
    std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
    if (out->size() > kMaxFollowEntries) too_complex();
    return accepts;
  }

 private:
  [[noreturn]] void too_complex() const {
    fail("pattern ", quoted(pattern_),
         ": too complex to follow character by character (its NFA's transition tables are too "
         "large)");
  }

  const Nfa& nfa_;
  const std::vector<int32_t>& char_index_;
  const std::string& pattern_;
  std::vector<uint32_t> stamp_[2];
  uint32_t round_ = 0;
  uint64_t steps_ = 0;
  std::vector<std::pair<uint32_t, bool>> stack_;
};

}  // namespace

std::shared_ptr<const RegexPrefix> RegexPrefix::compile(const std::string& pattern) {
  const Ast ast = Parser(pattern).parse();
  if (nfa_nodes(ast) + 6 > kMaxNfaNodes)
    fail("pattern ", quoted(pattern), ": its NFA would have more than ", kMaxNfaNodes,
         " states (counted repeats are expanded); too large to follow character by character");

  // regex_search = the pattern between an implicit leading and trailing "any code point" loop;
  // ^ and $ inside are assertions, so anchored alternatives need no special case.
  Nfa nfa;
  using K = NfaNode::Kind;
  const uint32_t match = nfa.add(K::kMatch);
  const uint32_t tail = nfa.add(K::kSplit);
  const uint32_t suffix = nfa.add(K::kChar, {tail}, any_set());
  nfa.nodes[tail].out = {suffix, match};
  const uint32_t body = nfa.build(ast, tail);
  const uint32_t head = nfa.add(K::kSplit);
  const uint32_t prefix = nfa.add(K::kChar, {head}, any_set());
  nfa.nodes[head].out = {prefix, body};

  std::vector<int32_t> char_index(nfa.nodes.size(), -1);
  std::vector<uint32_t> char_nodes;
  for (uint32_t i = 0; i < nfa.nodes.size(); ++i) {
    if (nfa.nodes[i].kind != K::kChar) continue;
    char_index[i] = static_cast<int32_t>(char_nodes.size());
    char_nodes.push_back(i);
  }
  const size_t n = char_nodes.size();

  // Closures over all character nodes, then keep the ones that can reach the match.
  ClosureWalker walker(nfa, char_index, pattern);
  std::vector<uint16_t> follow;
  std::vector<uint32_t> follow_begin(n + 1);
  std::vector<char> follow_accepts(n);
  for (size_t i = 0; i < n; ++i) {
    follow_begin[i] = static_cast<uint32_t>(follow.size());
    follow_accepts[i] = walker.run(nfa.nodes[char_nodes[i]].out[0], false, &follow);
  }
  follow_begin[n] = static_cast<uint32_t>(follow.size());
  std::vector<uint16_t> start;
  const bool start_accepts = walker.run(head, true, &start);

  std::vector<std::vector<uint32_t>> preds(n);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t k = follow_begin[i]; k < follow_begin[i + 1]; ++k) preds[follow[k]].push_back(i);
  std::vector<char> live(n, 0);
  std::vector<uint32_t> work;
  auto mark = [&](uint32_t i) {
    if (live[i] || nfa.nodes[char_nodes[i]].set.empty()) return;  // [] consumes nothing
    live[i] = 1;
    work.push_back(i);
  };
  for (uint32_t i = 0; i < n; ++i)
    if (follow_accepts[i]) mark(i);
  while (!work.empty()) {
    const uint32_t j = work.back();
    work.pop_back();
    for (uint32_t p : preds[j]) mark(p);
  }

  // And of those, the ones the start can reach (the trailing loop of "a$b" can reach the match but
  // is never entered), so tables and num_nodes() hold only nodes a walk can be in.
  std::vector<char> reachable(n, 0);
  auto reach = [&](uint32_t i) {
    if (!live[i] || reachable[i]) return;
    reachable[i] = 1;
    work.push_back(i);
  };
  for (uint16_t i : start) reach(i);
  while (!work.empty()) {
    const uint32_t i = work.back();
    work.pop_back();
    for (uint32_t k = follow_begin[i]; k < follow_begin[i + 1]; ++k) reach(follow[k]);
  }
  for (size_t i = 0; i < n; ++i) live[i] = live[i] && reachable[i];

  std::vector<int32_t> new_id(n, -1);
  std::shared_ptr<RegexPrefix> re(new RegexPrefix());
  re->pattern_ = pattern;
  for (uint32_t i = 0; i < n; ++i) {
    if (!live[i]) continue;
    new_id[i] = static_cast<int32_t>(re->nodes_.size());
    re->nodes_.emplace_back();
  }
  auto keep_live = [&](const uint16_t* b, const uint16_t* e, std::vector<uint16_t>* out) {
    for (; b != e; ++b)
      if (new_id[*b] >= 0) out->push_back(static_cast<uint16_t>(new_id[*b]));
  };  // old ids sorted -> new ids sorted (renumbering keeps order)
  for (uint32_t i = 0; i < n; ++i) {
    if (!live[i]) continue;
    Node& node = re->nodes_[new_id[i]];
    for (const Range& r : nfa.nodes[char_nodes[i]].set) {
      for (char32_t c = r.lo; c <= std::min<char32_t>(r.hi, 127); ++c)
        node.ascii[c >> 6] |= uint64_t{1} << (c & 63);
      if (r.hi >= 128) re->wide_ranges_.emplace_back(std::max<char32_t>(r.lo, 128), r.hi);
    }
    node.wide_end = static_cast<uint32_t>(re->wide_ranges_.size());
    node.follow_begin = static_cast<uint32_t>(re->follow_.size());
    keep_live(follow.data() + follow_begin[i], follow.data() + follow_begin[i + 1], &re->follow_);
    node.follow_end = static_cast<uint32_t>(re->follow_.size());
    node.follow_accepts = follow_accepts[i];
  }
  // wide_begin: where the previous node's ranges ended.
  for (size_t i = 0, prev = 0; i < re->nodes_.size(); ++i) {
    re->nodes_[i].wide_begin = static_cast<uint32_t>(prev);
    prev = re->nodes_[i].wide_end;
  }
  if (new_id[char_index[suffix]] >= 0) re->sink_ = new_id[char_index[suffix]];
  keep_live(start.data(), start.data() + start.size(), &re->start_.ids);
  re->start_.accepting = start_accepts;
  if (re->sink_ >= 0 &&
      std::binary_search(re->start_.ids.begin(), re->start_.ids.end(), re->sink_)) {
    re->start_.ids = {static_cast<uint16_t>(re->sink_)};
  }
  return re;
}

bool RegexPrefix::consumes(const Node& n, char32_t c) const {
  if (c < 128) return (n.ascii[c >> 6] >> (c & 63)) & 1;
  for (uint32_t i = n.wide_begin; i < n.wide_end; ++i) {
    if (c < wide_ranges_[i].first) return false;  // sorted
    if (c <= wide_ranges_[i].second) return true;
  }
  return false;
}

bool RegexPrefix::advance(State& s, char32_t c) const {
  const bool at_sink = sink_ >= 0 && s.ids.size() == 1 && s.ids[0] == sink_;
  if (at_sink) return true;  // consumes anything and stays accepting
  // Per thread scratch, so the shared RegexPrefix stays immutable and steady-state walking does
  // not allocate: `next` swaps buffers with s.ids.
  thread_local std::vector<uint16_t> next;
  thread_local std::vector<uint8_t> seen;
  if (seen.size() < nodes_.size()) seen.resize(nodes_.size(), 0);
  next.clear();
  bool accepting = false;
  for (uint16_t id : s.ids) {
    const Node& n = nodes_[id];
    if (!consumes(n, c)) continue;
    accepting |= n.follow_accepts;
    for (uint32_t k = n.follow_begin; k < n.follow_end; ++k) {
      const uint16_t f = follow_[k];
      if (!seen[f]) {
        seen[f] = 1;
        next.push_back(f);
      }
    }
  }
  bool reached_sink = false;
  for (uint16_t f : next) {
    seen[f] = 0;
    reached_sink |= f == sink_;
  }
  if (reached_sink) {
    next.assign(1, static_cast<uint16_t>(sink_));
    accepting = true;
  } else {
    std::sort(next.begin(), next.end());
  }
  s.ids.swap(next);
  s.accepting = accepting;
  return viable(s);
}

bool RegexPrefix::matches(std::u32string_view text) const {
  State s = start();
  for (char32_t c : text)
    if (!advance(s, c)) return false;
  return accepts(s);
}

}  // namespace tsft
