// RegexPrefix: whole-text matching agrees with std::regex_search (std::wregex for non-ASCII) on
// the project's schema patterns and ~40 more over seeded random and mutated strings; viability is
// exact (brute force over every short string); unsupported syntax throws naming the construct.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "chat/regex_prefix.h"
#include "core/error.h"
#include "core/rng.h"

namespace tsft {
namespace {

std::string to_utf8(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// The test's own patterns are valid UTF-8; no error handling needed.
std::u32string from_utf8(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += c;
    i += len;
  }
  return out;
}

std::wstring to_wide(std::u32string_view s) {
  static_assert(sizeof(wchar_t) == 4, "the wregex reference needs UTF-32 wchar_t");
  return std::wstring(s.begin(), s.end());
}

bool is_ascii(std::u32string_view s) {
  for (char32_t c : s)
    if (c >= 0x80) return false;
  return true;
}

// A readable form of a test string for failure messages.
std::string show(std::u32string_view s) {
  std::string out = "\"";
  for (char32_t c : s) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%X}", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out + "\"";
}

// std::regex_search as validate_json calls it (on the UTF-8 bytes) while pattern and text are
// ASCII; std::wregex on code points otherwise (on bytes '.' and classes see parts of characters,
// and std::regex<char> truncates \u0141 to 'A').
class Reference {
 public:
  explicit Reference(const std::string& pattern)
      : ascii_pattern_(is_ascii(from_utf8(pattern)) && pattern.find("\\u") == std::string::npos),
        wide_(to_wide(from_utf8(pattern)), std::regex::ECMAScript) {
    if (ascii_pattern_) narrow_ = std::regex(pattern, std::regex::ECMAScript);
  }

  bool search(std::u32string_view text) const {
    if (ascii_pattern_ && is_ascii(text)) return std::regex_search(to_utf8(text), narrow_);
    return std::regex_search(to_wide(text), wide_);
  }

 private:
  bool ascii_pattern_;
  std::regex narrow_;
  std::wregex wide_;
};

std::shared_ptr<const RegexPrefix> compile_ok(const std::string& pattern) {
  try {
    return RegexPrefix::compile(pattern);
  } catch (const Error& e) {
    ADD_FAILURE() << pattern << ": " << e.what();
    return nullptr;
  }
}

// Walks `text`; every advance's result must equal viable() of the state it leaves.
bool walk_matches(const RegexPrefix& re, std::u32string_view text) {
  RegexPrefix::State s = re.start();
  for (char32_t c : text) {
    const bool ok = re.advance(s, c);
    EXPECT_EQ(ok, re.viable(s));
    if (!ok) return false;
  }
  return re.accepts(s);
}

struct MatchCase {
  std::string pattern;
  std::u32string alphabet;
  int max_len;
  std::vector<std::u32string> examples;  // matching strings; mutated copies make near misses
  bool one_sided = false;                // matches everything (or nothing) over the alphabet
};

// Random strings over the alphabet and 0-2 edits of the examples; ours == the reference on all.
void expect_agrees(const MatchCase& c, int count, uint64_t seed) {
  SCOPED_TRACE("pattern " + c.pattern);
  auto re = compile_ok(c.pattern);
  if (!re) return;
  const Reference ref(c.pattern);
  Rng rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng.next_u64() % n); };
  int positives = 0, negatives = 0, failures = 0;
  for (int t = 0; t < count; ++t) {
    std::u32string text;
    if (!c.examples.empty() && pick(2) == 0) {
      text = c.examples[pick(c.examples.size())];
      for (size_t edits = pick(3); edits > 0; --edits) {
        const size_t op = pick(3);
        const char32_t ch = c.alphabet[pick(c.alphabet.size())];
        if (op == 0 || text.empty()) {
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(pick(text.size() + 1)), ch);
        } else if (op == 1) {
          text.erase(pick(text.size()), 1);
        } else {
          text[pick(text.size())] = ch;
        }
      }
    } else {
      for (size_t len = pick(c.max_len + 1); len > 0; --len)
        text += c.alphabet[pick(c.alphabet.size())];
    }
    const bool want = ref.search(text);
    (want ? positives : negatives)++;
    if (walk_matches(*re, text) != want && ++failures <= 5)
      ADD_FAILURE() << show(text) << ": std::regex_search says " << want;
    EXPECT_EQ(re->matches(text), want);
  }
  if (!c.one_sided) {
    EXPECT_GT(positives, count / 100) << "too few matching strings to test " << c.pattern;
    EXPECT_GT(negatives, count / 100) << "too few failing strings to test " << c.pattern;
  }
}

const std::u32string kDigits = U"0123456789";
const std::u32string kUpper = U"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

TEST(RegexPrefix, ProjectPatternsAgreeWithStdRegex) {
  const std::vector<MatchCase> cases = {
      {"^([01][0-9]|2[0-3]):[0-5][0-9]$", U"0123459:", 7, {U"09:30", U"23:59", U"00:00"}},
      {"^PRJ-[0-9]{3}$", U"PRJ-019", 9, {U"PRJ-123", U"PRJ-000"}},
      {"^[0-9]+\\.[0-9]+\\.[0-9]+$", U"019.", 10, {U"1.2.3", U"10.0.11"}},
      {"^[A-Z.]{1,6}$", U"AZ.a", 8, {U"BRK.B", U"A"}},
      {"^[A-Z]{2,4}[0-9]{3}$", U"AQZ019", 9, {U"AB123", U"ABCD123"}},
      {"^[A-Z]{2}$", U"AZa", 3, {U"US"}},
      {"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$",
       kUpper + kDigits,
       36,
       {U"DE89370400440532013000", U"GB82WEST12345698765432", U"NL91ABNA0417164300"}},
      {"^[A-Z]{3}$", U"AZ0", 4, {U"USD", U"EUR"}},
      {"[0-9]{3}", U"0a9", 6, {U"123"}},
      {"a|b$", U"abc", 5, {U"a", U"cb"}},
  };
  uint64_t seed = 1;
  for (const MatchCase& c : cases) expect_agrees(c, 4000, seed++);
}

TEST(RegexPrefix, MorePatternsAgreeWithStdRegex) {
  const std::vector<MatchCase> cases = {
      {"^[a-z]+(?:-[a-z]+)*$", U"ab-", 8, {U"a-b", U"ab-ba-a"}},
      {"^\\d{4}-\\d{2}-\\d{2}$", U"0129-x", 11, {U"2024-01-31"}},
      {"^[A-Za-z_][A-Za-z0-9_]*$", U"aZ_09-", 6, {U"_a9"}},
      {"^\\w+@\\w+\\.\\w{2,}$", U"ab_@.1", 10, {U"a@b.cd", U"x_1@y.zz"}},
      {"^(?:\\+?1[-. ]?)?\\(?\\d{3}\\)?[-. ]?\\d{3}[-. ]?\\d{4}$",
       U"+1-. ()05",
       16,
       {U"+1 (555) 123-4567", U"5551234567", U"555.123.4567"}},
      {"^#?[0-9a-fA-F]{6}$", U"#0aFg", 8, {U"#a0F0a0", U"000000"}},
      {"^(https?|ftp)://[^\\s/$.?#].[^\\s]*$",
       U"htpsf:/.a ?#$",
       14,
       {U"http://a.b", U"ftp://x/y", U"https://h"}},
      {"^[^\\s]+$", U"a \t\n", 5, {U"aa"}},
      {"\\s{2,}", U"a \t\n\r\v\f", 6, {U"a  a"}},
      {"^.*$", U"a\n\r", 5, {U"aaa"}},
      {"^(a|ab)(c|bcd)(d*)$", U"abcd", 7, {U"abcd", U"ac", U"abcdd"}},
      {"^(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?$", U"0125:9", 9, {U"12:34", U"23:59:59"}},
      {"^[A-Z]{3}(?:,[A-Z]{3})*$", U"AB,", 12, {U"ABA", U"AAA,BBB"}},
      {"^-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?$", U"-1.e+0", 9, {U"-1.5e+10", U"0", U"3.14"}},
      {"^(?:true|false)$", U"truefals", 6, {U"true", U"false"}},
      {"^\\d{5}(?:-\\d{4})?$", U"01-", 11, {U"01234", U"12345-6789"}},
      {"(^\\d{5}$)|(^\\d{5}-\\d{4}$)", U"01-", 11, {U"01234", U"12345-6789"}},
      {"^[^@]+@[^@]+$", U"a@.", 6, {U"a@b"}},
      {"x*", U"xy", 5, {}, true},
      {"^$", U"a", 2, {U""}},
      {"^a*?b+?c??$", U"abc", 6, {U"abc", U"b"}},
      {"^(?:ab){2,3}$", U"ab", 8, {U"abab", U"ababab"}},
      {"^[\\w.-]+$", U"a_.-!", 5, {U"a.b-c"}},
      {"^[\\]\\[\\\\\\/\\-]+$", U"[]\\/-a", 5, {U"[]"}},
      {"\\.(jpg|png)$", U".jpgn", 8, {U"a.jpg", U".png"}},
      {"^v\\d+\\.\\d+(?:\\.\\d+)?(?:-[a-z0-9]+)?$", U"v1.2-a", 10, {U"v1.2", U"v1.2.3-rc1"}},
      {"^[a-c]{2,}?x|y{3}$", U"abcxy", 7, {U"abx", U"yyy"}},
      {"a{0}b", U"ab", 4, {U"b"}},
      {"^(?:a|)+b$", U"ab", 5, {U"aab", U"b"}},
      {"^(a*)*b$", U"ab", 6, {U"aab"}},
      {"[^abc]", U"abcd", 5, {U"d"}},
      {"^[^]{2}$", U"a\n", 3, {U"a\n"}},
      {"^\\x41\\u0042\\t\\0?$", U"AB\t", 5, {U"AB\t", std::u32string(U"AB\t") + char32_t{0}}},
      {"^a|b$|^c$", U"abcx", 4, {U"ax", U"xb", U"c"}},
      {"^\\D\\W\\S$", U"a1 _-", 4, {U"a-1", U" -_"}},
      {"[}\\]]{2}", U"}]a", 5, {U"}]"}},
      {"^(?:[a-z]+\\.)*[a-z]+$", U"ab.", 7, {U"a.b.c"}},
      {"^\\d{1,3}(?:,\\d{3})*(?:\\.\\d{2})?$", U"01,.", 10, {U"1,000.00", U"12", U"123,456"}},
      {"$", U"ab", 3, {}, true},
      {"^", U"ab", 3, {}, true},
      {"^(?:a|b$)c?", U"abc", 4, {U"ac", U"b"}},
      {"(^a|b)c", U"abc", 5, {U"ac", U"abc"}},
      {"[a-c-e]+$", U"abcde-", 5, {U"a-e"}},
      {"^[\\s\\d]{2}$", U"1 a\t", 3, {U"1 ", U"\t1"}},
  };
  uint64_t seed = 100;
  for (const MatchCase& c : cases) expect_agrees(c, 3000, seed++);
}

TEST(RegexPrefix, ProjectPatternsStepByStep) {
  auto re = RegexPrefix::compile("^([01][0-9]|2[0-3]):[0-5][0-9]$");
  RegexPrefix::State s = re->start();
  EXPECT_TRUE(re->viable(s));
  EXPECT_FALSE(re->accepts(s));
  RegexPrefix::State s2 = s;
  EXPECT_TRUE(re->advance(s2, '2'));
  RegexPrefix::State dead = s2;
  EXPECT_FALSE(re->advance(dead, '4'));  // 24:.. can never match
  EXPECT_FALSE(re->advance(s, '3'));     // neither can 3...
  for (char32_t c : std::u32string(U"3:5")) EXPECT_TRUE(re->advance(s2, c));
  EXPECT_FALSE(re->accepts(s2));
  EXPECT_TRUE(re->advance(s2, '9'));
  EXPECT_TRUE(re->accepts(s2));
  EXPECT_FALSE(re->advance(s2, '0'));

  // Unanchored: once a match is complete any continuation matches, and the state stays small.
  auto digits = RegexPrefix::compile("[0-9]{3}");
  RegexPrefix::State d = digits->start();
  for (char32_t c : std::u32string(U"ab12x9")) EXPECT_TRUE(digits->advance(d, c));
  EXPECT_FALSE(digits->accepts(d));
  for (char32_t c : std::u32string(U"99")) EXPECT_TRUE(digits->advance(d, c));
  EXPECT_TRUE(digits->accepts(d));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(digits->advance(d, U"x\n\u00e9"[i % 3]));
  EXPECT_TRUE(digits->accepts(d));
  EXPECT_EQ(d.ids.size(), 1u);

  auto iban = RegexPrefix::compile("^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$");
  RegexPrefix::State b = iban->start();
  size_t largest = 0;
  for (char32_t c : std::u32string(U"DE89370400440532013000ABCDEFGHIJKL")) {
    EXPECT_TRUE(iban->advance(b, c));
    largest = std::max(largest, b.ids.size());
  }
  EXPECT_TRUE(iban->accepts(b));
  EXPECT_LE(largest, 2u);  // counted repeats nest, so the optional copies are not all live
  EXPECT_FALSE(iban->advance(b, 'A'));  // 35 characters

  auto never = RegexPrefix::compile("a$b");
  EXPECT_FALSE(never->viable(never->start()));
  EXPECT_EQ(never->num_nodes(), 0u);
}

// viable(prefix) must equal "some completion matches". Every string of length <= kMaxLen over the
// alphabet is checked with std::regex_search; for prefixes of length <= kPrefixLen the patterns
// below need at most kMaxLen - kPrefixLen more characters to match if they can at all, so the
// bounded search decides viability there. Longer prefixes check accepts() and dead ends only.
TEST(RegexPrefix, ViabilityIsExact) {
  constexpr int kMaxLen = 8, kPrefixLen = 4;
  const std::vector<std::pair<std::string, std::u32string>> cases = {
      {"^a{2,3}b$", U"abc"},
      {"a|b$", U"abc"},
      {"^(ab|a)*c$", U"abc"},
      {"ab$", U"abc"},
      {"^$", U"ab"},
      {"^a^b", U"ab"},
      {"(^a|b)c", U"abc"},
      {"a$b", U"ab"},
      {"^(a|b$)c?", U"abc"},
      {"^[ab]{2}$|^c+$", U"abc"},
      {"^(?:a|b)*abb$", U"ab"},
      {"^a(b|$)", U"abc"},
      {"(a|$)b", U"ab"},
      {"^[^a]*$", U"ab\n"},
      {"^(a?){3}b$", U"ab"},
      {"^[]", U"ab"},
      {"^[^]?$", U"a\n"},
      {"c{0}$", U"ab"},
      {"^(?:ab){2,}$", U"abc"},
      {"\\d{2}", U"01a"},
      {"^(\\d+|x)-\\d$", U"1x-"},
      {"^a.c$", U"a\nc\r"},
      {"^([01][0-9]|2[0-3]):[0-5][0-9]", U"2:39"},
      {"^[A-Z]{2}$", U"AZ0"},
  };
  for (const auto& [pattern, alphabet] : cases) {
    SCOPED_TRACE("pattern " + pattern);
    auto re = compile_ok(pattern);
    if (!re) continue;
    const Reference ref(pattern);
    const size_t a = alphabet.size();
    // match[len][i]: the i-th string of length len (base-a digits, most significant first).
    std::vector<std::vector<char>> match(kMaxLen + 1), completable(kMaxLen + 1);
    size_t count = 1;
    for (int len = 0; len <= kMaxLen; ++len, count *= a) {
      match[len].resize(count);
      for (size_t i = 0; i < count; ++i) {
        std::u32string text(len, U' ');
        for (size_t k = len, v = i; k-- > 0; v /= a) text[k] = alphabet[v % a];
        match[len][i] = ref.search(text);
      }
    }
    for (int len = kMaxLen; len >= 0; --len) {
      completable[len] = match[len];
      if (len < kMaxLen)
        for (size_t i = 0; i < match[len].size(); ++i)
          for (size_t k = 0; k < a; ++k) completable[len][i] |= completable[len + 1][i * a + k];
    }
    int failures = 0;
    // Depth-first over the strings, carrying the state; `alive` = every advance returned true.
    struct Item {
      int len;
      size_t index;
      RegexPrefix::State state;
      bool alive;
      std::u32string text;
    };
    std::vector<Item> stack = {{0, 0, re->start(), re->viable(re->start()), U""}};
    while (!stack.empty() && failures < 5) {
      Item it = std::move(stack.back());
      stack.pop_back();
      const bool want_match = match[it.len][it.index];
      const bool ok =
          it.alive ? re->accepts(it.state) == want_match && re->viable(it.state) : !want_match;
      if (!ok || (it.len <= kPrefixLen && it.alive != bool(completable[it.len][it.index]))) {
        ++failures;
        ADD_FAILURE() << show(it.text) << ": ours alive=" << it.alive
                      << " accepts=" << (it.alive && re->accepts(it.state))
                      << ", reference matches=" << want_match
                      << " completable=" << bool(completable[it.len][it.index]);
      }
      if (it.len == kMaxLen) continue;
      for (size_t k = 0; k < a; ++k) {
        Item child{it.len + 1, it.index * a + k, it.state, it.alive, it.text + alphabet[k]};
        if (child.alive) child.alive = re->advance(child.state, alphabet[k]);
        stack.push_back(std::move(child));
      }
    }
  }
}

void expect_unsupported(const std::string& pattern, const std::string& needle) {
  try {
    RegexPrefix::compile(pattern);
    ADD_FAILURE() << pattern << ": compiled, expected an error mentioning " << needle;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << pattern << ": " << msg;
    EXPECT_NE(msg.find("pattern \""), std::string::npos) << msg;
  }
}

TEST(RegexPrefix, UnsupportedSyntaxThrowsNamingTheConstruct) {
  expect_unsupported("(a)\\1", "backreference");
  expect_unsupported("(?<y>\\d{4})-\\k<y>", "named groups");
  expect_unsupported("\\k<y>", "named backreference");
  expect_unsupported("a(?=b)", "lookahead");
  expect_unsupported("a(?!b)", "lookahead");
  expect_unsupported("(?<=a)b", "lookbehind");
  expect_unsupported("(?<!a)b", "lookbehind");
  expect_unsupported("\\bword\\b", "word boundary \\b");
  expect_unsupported("a\\Bb", "word boundary \\B");
  expect_unsupported("(?i)abc", "inline flags");
  expect_unsupported("\\p{L}+", "Unicode property");
  expect_unsupported("\\cJ", "control escapes");
  expect_unsupported("\\u{1F600}", "\\u{...}");
  expect_unsupported("\\012", "octal");
  expect_unsupported("\\q", "unknown escape \\q");
  expect_unsupported("\\A\\d+\\z", "unknown escape \\A");
  expect_unsupported("a{2}{3}", "cannot follow another quantifier");
  expect_unsupported("a**", "cannot follow another quantifier");
  expect_unsupported("^*a", "anchor");
  expect_unsupported("*a", "nothing to repeat");
  expect_unsupported("a|+", "nothing to repeat");
  expect_unsupported("a{", "malformed {n,m}");
  expect_unsupported("a{,3}", "malformed {n,m}");
  expect_unsupported("a{1,2", "malformed {n,m}");
  expect_unsupported("a{3,2}", "n > m");
  expect_unsupported("(ab", "missing ')'");
  expect_unsupported("ab)", "unmatched ')'");
  expect_unsupported("[ab", "missing ']'");
  expect_unsupported("[z-a]", "out of order");
  expect_unsupported("[\\d-z]", "cannot bound a range");
  expect_unsupported("a\\", "lone '\\'");
  expect_unsupported("\\x4", "two hex digits");
  expect_unsupported("\\uD83D", "surrogate");
  expect_unsupported("a{1000000}", "repeat count");
  expect_unsupported("(a{100}){300}", "more than 20000 states");
  expect_unsupported(std::string(300, '(') + std::string(300, ')'), "nested deeper");
  expect_unsupported("\xC3(", "invalid UTF-8");

  // Where: the position (in code points) of the construct.
  try {
    RegexPrefix::compile("^ab(?=c)");
    ADD_FAILURE() << "compiled";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"^ab(?=c)\" at position 3"), std::string::npos)
        << e.what();
  }
  // Large but within bounds.
  EXPECT_NO_THROW(RegexPrefix::compile("^[A-Za-z0-9 ]{1,2000}$"));
}

TEST(RegexPrefix, NonAsciiCodePoints) {
  const std::vector<MatchCase> cases = {
      {"^[à-ÿ]+$", U"aàéÿĀ", 5, {U"été"}},
      {"^\\u00e9t\\u00e9$", U"étaÉ", 4, {U"été"}},
      {"^.{2}$", U"日本\n\u2028a\U0001F600", 4, {U"日本", U"a\U0001F600"}},
      {"^[^a]$", U"a\U0001F600é\n", 2, {U"\U0001F600", U"\n"}},
      {"^Ω+$", U"Ωω", 4, {U"ΩΩ"}},
      {"^[α-ω]{3}$", U"αβωΩa", 4, {U"αβω"}},
      {"^[日本語]+$", U"日本語中", 4, {U"日本"}},
      {"café", U"caféfe", 6, {U"café"}},
      {"^(?:\\$|€)\\d+$", U"$€1£", 4, {U"€12", U"$1"}},
      {"^\\w+$", U"aé_1", 4, {U"a_1"}},
      {"^\\W\\S$", U"aé \u00a0", 3, {U"éé", U" a"}},
      {"^[\\u0100-\\uFFFF]+$", U"ĀÿＡ\U0001F600", 4, {U"ĀＡ"}},
  };
  uint64_t seed = 500;
  for (const MatchCase& c : cases) expect_agrees(c, 2000, seed++);

  // '.' is not a line terminator; \s is ASCII as in std::regex, so no-break space is \S.
  auto dot = RegexPrefix::compile("^.$");
  for (char32_t c : {U'\n', U'\r', U'\u2028', U'\u2029'}) EXPECT_FALSE(dot->matches({&c, 1}));
  EXPECT_TRUE(dot->matches(U"\U0010FFFF"));
  EXPECT_TRUE(RegexPrefix::compile("^\\S$")->matches(U"\u00a0"));
  // A surrogate pair written as two escapes is the one code point it encodes.
  // (std::wregex would read them as two UTF-16 units, which no UTF-32 text contains.)
  EXPECT_TRUE(RegexPrefix::compile("^\\uD83D\\uDE00$")->matches(U"\U0001F600"));
  auto pair_in_class = RegexPrefix::compile("^[a\\uD83D\\uDE00]$");
  EXPECT_TRUE(pair_in_class->matches(U"\U0001F600"));
  EXPECT_FALSE(pair_in_class->matches(U"\U0001F601"));
  EXPECT_TRUE(RegexPrefix::compile("^\\u00e9$")->matches(from_utf8("é")));
}

// One compiled pattern walked from several threads at once (advance keeps per-thread scratch).
TEST(RegexPrefix, SharedAcrossThreads) {
  auto re = RegexPrefix::compile("^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$|[0-9]{3}x");
  std::vector<std::u32string> texts;
  Rng rng(7);
  const std::u32string alphabet = U"AZ09x";
  for (int i = 0; i < 2000; ++i) {
    std::u32string t;
    for (size_t len = rng.next_u64() % 20; len > 0; --len) t += alphabet[rng.next_u64() % 5];
    texts.push_back(t);
  }
  std::vector<char> expected;
  for (const auto& t : texts) expected.push_back(re->matches(t));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 5; ++rep)
        for (size_t i = 0; i < texts.size(); ++i)
          mismatches[k] += re->matches(texts[i]) != bool(expected[i]);
    });
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace tsft
