// Prefix checks for constrained decoding: whether the start of a JSON number or of a date /
// date-time string can still be completed into a value that validate_json accepts.
#pragma once

#include <cmath>
#include <limits>
#include <string>

namespace tsft {

// Allowed numeric range (minimum/maximum with their exclusive forms) and integer-only.
struct NumberBounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_exclusive = false, hi_exclusive = false;
  bool integer_only = false;

  bool contains(double v) const {
    if (lo_exclusive ? v <= lo : v < lo) return false;
    if (hi_exclusive ? v >= hi : v > hi) return false;
    return !integer_only || v == std::floor(v);
  }
};

// Numbers a constrained decoder writes: -?(0|[1-9][0-9]*)(\.[0-9]+)?, no exponent, at most
// kMaxIntegerDigits before the point and kMaxFractionDigits after it (no point when
// integer_only).
constexpr int kMaxIntegerDigits = 15;
constexpr int kMaxFractionDigits = 12;

// `text` is a prefix of such a number with some completion inside `bounds`.
bool number_prefix_viable(const std::string& text, const NumberBounds& bounds);
// `text` is a whole such number inside `bounds`.
bool number_complete(const std::string& text, const NumberBounds& bounds);

// RFC 3339 full-date YYYY-MM-DD with a real calendar day; date-time
// YYYY-MM-DDTHH:MM:SS[.frac]{Z|+HH:MM|-HH:MM} (what validate_json accepts, restricted to an
// upper-case T and Z, seconds 00-59 and at most 9 fraction digits).
bool date_prefix_viable(const std::string& text);
bool date_complete(const std::string& text);
bool date_time_prefix_viable(const std::string& text);
bool date_time_complete(const std::string& text);

}  // namespace tsft
