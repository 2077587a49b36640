#include "data/system_prompt_template.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "core/error.h"
#include "core/rng.h"

namespace tsft {
namespace {

const char* const kPlaceholders[] = {"date", "time", "weekday", "datetime"};

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

std::string trim_blank_lines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == '\n' || s[b] == '\r')) ++b;
  return s.substr(b);
}

// `text` with every "{{ name }}" replaced by value(name, line) (name without surrounding
// spaces, line 1-based); tsft::Error naming where:line for a "{{" that is never closed.
std::string substitute(const std::string& text, const std::string& where,
                       const std::function<std::string(const std::string&, int)>& value) {
  std::string out;
  size_t pos = 0;
  for (size_t open; (open = text.find("{{", pos)) != std::string::npos;) {
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + open, '\n'));
    const size_t end = text.find("}}", open + 2);
    if (end == std::string::npos) fail(where, ":", line, ": '{{' is never closed with '}}'");
    std::string name = text.substr(open + 2, end - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    out += text.substr(pos, open - pos) + value(name, line);
    pos = end + 2;
  }
  return out + text.substr(pos);
}

void check_placeholders(const std::string& text, const std::string& where) {
  substitute(text, where, [&](const std::string& name, int line) {
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
        std::end(kPlaceholders))
      fail(where, ":", line, ": unknown placeholder {{", name,
           "}}; known: {{date}}, {{time}}, {{weekday}}, {{datetime}}");
    return std::string();
  });
}

// Placeholders were checked when the template was parsed.
std::string fill(const std::string& text, const PromptClock& c) {
  return substitute(text, "system prompt", [&](const std::string& name, int) {
    if (name == "date") return format_date(c);
    if (name == "time") return format_time(c);
    if (name == "weekday") return weekday_name(c);
    return weekday_name(c) + " " + format_date(c) + " " + format_time(c);
  });
}

}  // namespace

std::string format_date(const PromptClock& c) {
  char b[32];
  std::snprintf(b, sizeof b, "%04d-%02d-%02d", c.year, c.month, c.day);
  return b;
}

std::string format_time(const PromptClock& c) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d:%02d", c.hour, c.minute);
  return b;
}

std::string weekday_name(const PromptClock& c) {
  // Zeller-style day count from 0000-03-01 (Sakamoto's method).
  static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  int y = c.year - (c.month < 3 ? 1 : 0);
  const int w = (y + y / 4 - y / 100 + y / 400 + t[c.month - 1] + c.day) % 7;  // 0 = Sunday
  static const char* names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                "Thursday", "Friday", "Saturday"};
  return names[w];
}

SystemPromptTemplate SystemPromptTemplate::parse(const std::string& text, const std::string& where) {
  SystemPromptTemplate t;
  if (trim_blank_lines(text).empty()) fail(where, ": the system prompt template is empty");
  check_placeholders(text, where);
  std::string cur;
  bool in_section = false;
  std::set<std::string> headings;
  int line_no = 0;
  auto flush = [&]() {
    if (in_section) t.sections_.push_back(trim_blank_lines(cur));
    else t.header_ = trim_blank_lines(cur);
    cur.clear();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    ++line_no;
    if (line.rfind("## ", 0) == 0) {
      flush();
      in_section = true;
      if (!headings.insert(line).second)
        fail(where, ":", line_no, ": section '", line, "' appears twice");
    }
    cur += line + "\n";
    pos = nl + 1;
  }
  flush();
  return t;
}

SystemPromptTemplate SystemPromptTemplate::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read system prompt template ", path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

PromptClock SystemPromptTemplate::clock_for(uint64_t seed, int64_t index) {
  Rng rng(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(index) * 0xd1b54a32d192ed03ull +
          0x5157);
  PromptClock c;
  c.year = 2025 + static_cast<int>(rng.next_u64() % 3);
  c.month = 1 + static_cast<int>(rng.next_u64() % 12);
  c.day = 1 + static_cast<int>(rng.next_u64() % static_cast<uint64_t>(days_in_month(c.year, c.month)));
  c.hour = 8 + static_cast<int>(rng.next_u64() % 12);
  c.minute = static_cast<int>(rng.next_u64() % 60);
  return c;
}

std::string SystemPromptTemplate::render(uint64_t seed, int64_t index) const {
  std::vector<size_t> order(sections_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(seed * 0xbf58476d1ce4e5b9ull + static_cast<uint64_t>(index) * 0x94d049bb133111ebull +
          0x0dd);
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[rng.next_u64() % i]);
  return render(clock_for(seed, index), order);
}

std::string SystemPromptTemplate::render(const PromptClock& clock,
                                         const std::vector<size_t>& order) const {
  std::string out = header_;
  for (size_t i : order) {
    TSFT_CHECK(i < sections_.size());
    if (!out.empty()) out += "\n\n";
    out += sections_[i];
  }
  return fill(out, clock);
}

}  // namespace tsft
