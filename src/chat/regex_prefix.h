// Prefix matching for JSON Schema "pattern" strings: compiles an ECMA-262 pattern to a Thompson
// NFA over Unicode code points and walks it one character at a time, saying whether the text so
// far can still be completed into a match (for decoding that may only emit schema-valid JSON).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsft {

// What "matches" means: std::regex_search(text, std::regex(pattern, ECMAScript)), the test
// validate_json applies, with the text taken as code points (as std::wregex sees a UTF-32
// string). So a pattern without ^ may match anywhere, ^ is only the start of the text and $ only
// its end (no multiline), '.' is any code point but \n \r U+2028 U+2029, \d and \w are ASCII, and
// \s is the ASCII space, \t \n \v \f \r (std::regex's C locale; ECMA-262 adds Unicode spaces).
// For ASCII text and patterns this is exactly validate_json's answer; that one runs std::regex on
// UTF-8 bytes, so non-ASCII text ('.', [^...], counts) or \u/\x escapes above 0x7F can differ.
//
// Supported syntax: literals (any code point, also ']' and '}'), '.', escapes \d \D \w \W \s \S
// \t \n \r \v \f \0 \xHH \uXXXX (a \uD8xx\uDCxx pair is one code point) and \ before any
// character that is not an ASCII letter or digit; classes [...] and [^...] with ranges, the class
// escapes and \b (backspace) inside, [] (nothing) and [^] (anything); groups ( ) and (?: );
// alternation |; quantifiers * + ? {n} {n,} {n,m} and their lazy forms (same language); ^ and $
// anywhere (an anchor that can never hold just makes that path match nothing).
// compile() throws tsft::Error naming the pattern, the position (in code points) and the construct
// for everything else: backreferences \1 \k<..>, lookahead/lookbehind, \b \B word boundaries,
// named groups, inline flags (?i), \p{..}, \cX, \u{..}, octal escapes, unknown letter escapes,
// a quantifier on a quantifier or on an anchor, malformed syntax, and patterns whose NFA would
// exceed 20,000 nodes (counted repeats are expanded) or whose transition tables would be too large
// (such as (a|){6000}). The caller can then check the pattern only once the string is complete.
class RegexPrefix {
 public:
  static std::shared_ptr<const RegexPrefix> compile(const std::string& pattern);

  // Where the walk stands: the NFA character nodes alive after the text so far (sorted ids), and
  // whether that text matches now. Plain data, cheap to copy and compare.
  struct State {
    std::vector<uint16_t> ids;
    bool accepting = false;
    friend bool operator==(const State&, const State&) = default;
  };

  State start() const { return start_; }

  // Consumes one code point. False: no completion of (text so far + c) matches, and `s` is then
  // unspecified. Every node kept can still reach a match, so true means a completion exists.
  bool advance(State& s, char32_t c) const;

  // Some completion (possibly the empty one) of the text so far matches.
  bool viable(const State& s) const { return s.accepting || !s.ids.empty(); }
  // The text so far matches as it is.
  bool accepts(const State& s) const { return s.accepting; }

  // The whole of `text` matches (start, advance over every code point, accepts).
  bool matches(std::u32string_view text) const;

  const std::string& pattern() const { return pattern_; }
  // Live character nodes of the NFA (after pruning those that cannot reach a match).
  size_t num_nodes() const { return nodes_.size(); }

 private:
  struct Node {
    uint64_t ascii[2] = {0, 0};                 // which of code points 0..127 this node consumes
    uint32_t wide_begin = 0, wide_end = 0;      // its ranges >= 128, in wide_ranges_
    uint32_t follow_begin = 0, follow_end = 0;  // nodes alive after it consumes, in follow_
    bool follow_accepts = false;                // consuming here can end a match
  };

  RegexPrefix() = default;
  bool consumes(const Node& n, char32_t c) const;

  std::string pattern_;
  std::vector<Node> nodes_;
  std::vector<std::pair<char32_t, char32_t>> wide_ranges_;
  std::vector<uint16_t> follow_;
  State start_;
  // A node that consumes anything, follows itself and accepts (the implicit trailing .* of a
  // pattern without $): once alive every completion matches, so the state collapses to it.
  int32_t sink_ = -1;
};

}  // namespace tsft
