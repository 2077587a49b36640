#include "chat/value_prefix.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace tsft {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct NumberText {
  bool negative = false;
  std::string integer;  // digits before the point
  bool point = false;
  std::string fraction;
};

// Splits `text` if it is a prefix of the number syntax above; false otherwise.
bool split_number(const std::string& text, bool integer_only, NumberText* out) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    out->negative = true;
    ++i;
  }
  while (i < text.size() && is_digit(text[i])) out->integer.push_back(text[i++]);
  if (out->integer.size() > 1 && out->integer[0] == '0') return false;
  if (static_cast<int>(out->integer.size()) > kMaxIntegerDigits) return false;
  if (i < text.size() && text[i] == '.') {
    if (integer_only || out->integer.empty()) return false;
    out->point = true;
    ++i;
    while (i < text.size() && is_digit(text[i])) out->fraction.push_back(text[i++]);
    if (static_cast<int>(out->fraction.size()) > kMaxFractionDigits) return false;
  }
  return i == text.size();
}

// The allowed set seen through the sign: the magnitudes x >= 0 with (negative ? -x : x) allowed.
struct Magnitudes {
  double lo, hi;
  bool lo_excl, hi_excl, integer_only;

  explicit Magnitudes(const NumberBounds& b, bool negative) : integer_only(b.integer_only) {
    if (negative) {
      lo = -b.hi, hi = -b.lo, lo_excl = b.hi_exclusive, hi_excl = b.lo_exclusive;
    } else {
      lo = b.lo, hi = b.hi, lo_excl = b.lo_exclusive, hi_excl = b.hi_exclusive;
    }
  }
  bool contains(double x) const {
    if (lo_excl ? x <= lo : x < lo) return false;
    if (hi_excl ? x >= hi : x > hi) return false;
    return !integer_only || x == std::floor(x);
  }
  // Some allowed x in [a, b) (b > a). Integers: some integer in [a, b).
  bool meets(double a, double b) const {
    if (integer_only) {
      double k = std::max(std::ceil(a), lo_excl ? std::floor(lo) + 1 : std::ceil(lo));
      double top = std::min(std::ceil(b) - 1, hi_excl ? std::ceil(hi) - 1 : std::floor(hi));
      return k <= top;
    }
    const bool below_hi = hi_excl ? a < hi : a <= hi;
    return below_hi && lo < b;  // [a, b) is dense: an exclusive lo still leaves room below b
  }
};

}  // namespace

bool number_prefix_viable(const std::string& text, const NumberBounds& bounds) {
  NumberText n;
  if (!split_number(text, bounds.integer_only, &n)) return false;
  const Magnitudes m(bounds, n.negative);
  const double inf = std::numeric_limits<double>::infinity();
  if (n.integer.empty()) return m.meets(0.0, inf);  // "" or "-": any magnitude
  const double p = std::strtod(n.integer.c_str(), nullptr);
  if (n.point) {
    // p.F and its extensions: [p.F, p.F + 10^-len(F)); with F empty a digit must follow.
    const double base = n.fraction.empty() ? p : std::strtod((n.integer + "." + n.fraction).c_str(), nullptr);
    const double width = std::pow(10.0, -static_cast<double>(n.fraction.size()));
    if (!n.fraction.empty() && m.contains(base)) return true;
    if (static_cast<int>(n.fraction.size()) == kMaxFractionDigits) return false;
    return m.meets(base, base + width);
  }
  if (m.contains(p)) return true;
  if (!m.integer_only && m.meets(p, p + 1)) return true;  // p.F
  if (n.integer == "0") return false;                     // no digit may follow a leading 0
  double scale = 1.0;
  for (size_t digits = n.integer.size(); static_cast<int>(digits) < kMaxIntegerDigits; ++digits) {
    scale *= 10.0;
    if (m.meets(p * scale, (p + 1) * scale)) return true;
  }
  return false;
}

bool number_complete(const std::string& text, const NumberBounds& bounds) {
  NumberText n;
  if (!split_number(text, bounds.integer_only, &n)) return false;
  if (n.integer.empty() || (n.point && n.fraction.empty())) return false;
  return bounds.contains(std::strtod(text.c_str(), nullptr));
}

namespace {

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in(int y, int m) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

// Checks `text` against a template of fixed characters and digit ranges: '9' any digit, '5' 0-5,
// '2' 0-2, '1' 0-1, '3' 0-3; anything else must match exactly.
bool fits(const std::string& text, size_t from, const std::string& tmpl) {
  for (size_t i = 0; i < tmpl.size() && from + i < text.size(); ++i) {
    const char c = text[from + i], t = tmpl[i];
    if (t >= '0' && t <= '9') {
      if (!is_digit(c) || c > t) return false;
    } else if (c != t) {
      return false;
    }
  }
  return true;
}

// HH:MM with HH 00-23 (prefix of it from `from`).
bool hour_minute_fits(const std::string& text, size_t from) {
  if (!fits(text, from, "29:59")) return false;
  return !(text.size() > from + 1 && text[from] == '2' && text[from + 1] > '3');
}

}  // namespace

bool date_prefix_viable(const std::string& text) {
  if (text.size() > 10 || !fits(text, 0, "9999-19-39")) return false;
  if (text.size() <= 5) return true;
  // Some (month, day) agrees with what is written; with the year unfinished a leap year is always
  // among its completions (ten consecutive numbers hold two multiples of 4, at most one of 100).
  const int year = text.size() >= 4 ? std::atoi(text.substr(0, 4).c_str()) : 2024;
  for (int m = 1; m <= 12; ++m) {
    for (int d = 1; d <= days_in(year, m); ++d) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%02d-%02d", m, d);
      if (std::string(buf).compare(0, text.size() - 5, text, 5) == 0) return true;
    }
  }
  return false;
}

bool date_complete(const std::string& text) { return text.size() == 10 && date_prefix_viable(text); }

bool date_time_prefix_viable(const std::string& text) {
  if (!date_prefix_viable(text.substr(0, std::min<size_t>(text.size(), 10)))) return false;
  if (text.size() <= 10) return true;
  if (text[10] != 'T') return false;
  if (!hour_minute_fits(text, 11) || !fits(text, 16, ":59")) return false;
  size_t pos = 19;
  if (text.size() <= pos) return true;
  if (text[pos] == '.') {
    const size_t start = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos - start > 9) return false;
    if (pos == text.size()) return true;
    if (pos == start) return false;
  }
  if (text[pos] == 'Z') return pos + 1 == text.size();
  if (text[pos] != '+' && text[pos] != '-') return false;
  return text.size() <= pos + 6 && hour_minute_fits(text, pos + 1);
}

bool date_time_complete(const std::string& text) {
  if (!date_time_prefix_viable(text) || text.size() < 20) return false;
  if (text.back() == 'Z') return true;
  const size_t sign = text.size() - 6;
  return text.size() >= 25 && (text[sign] == '+' || text[sign] == '-') && text[sign + 3] == ':';
}

}  // namespace tsft
