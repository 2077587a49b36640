// The procedural schema space: functions synthesised from the domain tables, and values drawn
// with the words a person would use for them (paraphrased where the schema wants a normal form).
#include "data/gen_schema_space.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "chat/json_schema.h"
#include "core/error.h"
#include "data/gen_values.h"

namespace tsft {

using nlohmann::ordered_json;

namespace {

const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                           "Friday", "Saturday", "Sunday"};
const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kNumberWords[] = {"zero",     "one",      "two",      "three",   "four",    "five",
                              "six",      "seven",    "eight",    "nine",    "ten",     "eleven",
                              "twelve",   "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                              "eighteen", "nineteen", "twenty"};

std::string pick_str(Rng& rng, const std::vector<std::string>& v) {
  return v[pick(rng, v.size())];
}
std::string pick_bar(Rng& rng, const char* bar) {
  return pick_str(rng, split_bar(bar));
}

int weekday_of(int64_t days) {
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}  // Monday=0

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

std::string two(int v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string offset_text(int minutes) {
  const int a = std::abs(minutes);
  return str(minutes < 0 ? "-" : "+", two(a / 60), ":", two(a % 60));
}

std::string number_text(int64_t n, Rng& rng) {
  if (n >= 0 && n <= 20 && chance(rng, 0.5)) return kNumberWords[n];
  return std::to_string(n);
}

std::string with_article(const std::string& noun) {
  const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(noun[0])));
  return (std::string("aeio").find(c) != std::string::npos ? "an " : "a ") + noun;
}

// ---- Dates and times -----------------------------------------------------------------------

struct Said {
  ordered_json value;
  std::string text;
  bool dated = false;
};

Said say_date(const DateContext& ctx, Rng& rng, bool past) {
  int64_t d = ctx.today;
  std::string text;
  const size_t form = pick(rng, 7);
  if (form == 0) {
    const int n = past ? 1 + static_cast<int>(pick(rng, 2)) : static_cast<int>(pick(rng, 3));
    d += past ? -n : n;
    static const char* kFuture[] = {"today", "tomorrow", "the day after tomorrow"};
    static const char* kPast[] = {"", "yesterday", "the day before yesterday"};
    text = past ? kPast[n] : kFuture[n];
  } else if (form == 1 || form == 2) {
    const int wd = static_cast<int>(pick(rng, 7));
    int delta = past ? weekday_of(d) - wd : wd - weekday_of(d);
    if (delta <= 0) delta += 7;  // "next Friday": the first Friday after today
    d += past ? -delta : delta;
    text = str(past ? "last " : "next ", kWeekdays[wd]);
  } else if (form == 3) {
    const int n = 3 + static_cast<int>(pick(rng, 12));
    d += past ? -n : n;
    text = past ? str(number_text(n, rng), " days ago") : str("in ", number_text(n, rng), " days");
  } else if (form == 4) {
    const int w = 1 + static_cast<int>(pick(rng, 3));
    d += past ? -7 * w : 7 * w;
    static const char* kWeeks[] = {"", "a week", "two weeks", "three weeks"};
    text = past ? str(kWeeks[w], " ago")
                : str(w == 1 && chance(rng, 0.5) ? "a week from today" : str("in ", kWeeks[w]));
  } else {
    d += past ? -static_cast<int64_t>(1 + pick(rng, 90)) : static_cast<int64_t>(1 + pick(rng, 120));
    int y, m, dd;
    civil_from_days(d, y, m, dd);
    const size_t style = pick(rng, 3);
    text = style == 0   ? str(kMonths[m - 1], " ", dd, ", ", y)
           : style == 1 ? str(dd, " ", kMonths[m - 1], " ", y)
                        : iso_date(d);
  }
  return {iso_date(d), text, true};
}

// Hours 6..22, minutes mostly on the quarter.
Said say_time(Rng& rng, int* hour_out = nullptr, int* minute_out = nullptr) {
  const int h = 6 + static_cast<int>(pick(rng, 17));
  static const int kMinutes[] = {0, 0, 15, 30, 30, 45, 10, 20};
  const int m = kMinutes[pick(rng, std::size(kMinutes))];
  if (hour_out) *hour_out = h, *minute_out = m;
  const int h12 = h % 12 == 0 ? 12 : h % 12;
  const char* part = h < 12 ? " in the morning" : h < 18 ? " in the afternoon" : " in the evening";
  const char* ampm = h < 12 ? "am" : "pm";
  std::string text;
  const size_t form = pick(rng, 4);
  if (h == 12 && m == 0 && chance(rng, 0.5)) {
    text = "noon";
  } else if (form == 0) {
    text = str(h12, m ? ":" + two(m) : std::string(), chance(rng, 0.5) ? " " : "", ampm);
  } else if (form == 1 && (m == 15 || m == 30 || m == 45)) {
    const int next = h12 % 12 + 1;
    text = m == 15   ? str("quarter past ", kNumberWords[h12], part)
           : m == 30 ? str("half past ", kNumberWords[h12], part)
                     : str("quarter to ", kNumberWords[next],
                           h + 1 < 12   ? " in the morning"
                           : h + 1 < 18 ? " in the afternoon"
                                        : " in the evening");
  } else if (form == 2 && m == 0) {
    text = str(kNumberWords[h12], " o'clock", part);
  } else {
    text = str(two(h), ":", two(m));
  }
  return {str(two(h), ":", two(m)), text, false};
}

// ---- Numbers -------------------------------------------------------------------------------

Said say_count(int64_t max, Rng& rng) {
  if (max >= 12 && chance(rng, 0.15)) return {12, "a dozen"};
  if (max >= 6 && chance(rng, 0.05)) return {6, "half a dozen"};
  if (max >= 24 && chance(rng, 0.03)) return {24, "two dozen"};
  if (chance(rng, 0.06)) return {2, "a couple of"};
  const int64_t n =
      2 + static_cast<int64_t>(pick(rng, static_cast<size_t>(std::min<int64_t>(max, 30) - 1)));
  return {n, number_text(n, rng)};
}

Said say_duration(Rng& rng) {
  static const std::pair<int, const char*> kForms[] = {{15, "a quarter of an hour"},
                                                       {15, "15 minutes"},
                                                       {20, "20 minutes"},
                                                       {30, "half an hour"},
                                                       {30, "thirty minutes"},
                                                       {45, "three quarters of an hour"},
                                                       {45, "45 minutes"},
                                                       {60, "an hour"},
                                                       {60, "one hour"},
                                                       {90, "an hour and a half"},
                                                       {90, "90 minutes"},
                                                       {90, "one and a half hours"},
                                                       {120, "two hours"},
                                                       {150, "two and a half hours"},
                                                       {180, "three hours"},
                                                       {75, "an hour and fifteen minutes"},
                                                       {40, "40 minutes"},
                                                       {25, "25 minutes"}};
  const auto& [v, t] = kForms[pick(rng, std::size(kForms))];
  return {v, t};
}

Said say_amount(bool integer, Rng& rng) {
  const size_t form = pick(rng, 6);
  if (form == 0) {
    static const std::pair<int, const char*> k[] = {{50, "fifty"},
                                                    {300, "three hundred"},
                                                    {1000, "a thousand"},
                                                    {250, "two hundred and fifty"},
                                                    {1500, "fifteen hundred"},
                                                    {20, "twenty"}};
    const auto& [v, t] = k[pick(rng, std::size(k))];
    return {v, t};
  }
  if (form == 1) {
    const int64_t k = 1 + static_cast<int64_t>(pick(rng, 9));
    const bool half = chance(rng, 0.5);
    const int64_t v = k * 1000 + (half ? 500 : 0);
    return {v, str(k, half ? ".5" : "", "k")};
  }
  if (form == 2) {
    const int64_t v = 1000 + static_cast<int64_t>(pick(rng, 40)) * 250;
    return {v, str(v / 1000, ",", str(1000 + v % 1000).substr(1))};
  }
  if (!integer && form >= 3 && form <= 4) {
    const int64_t cents = 100 + static_cast<int64_t>(pick(rng, 50000));
    const double v = static_cast<double>(cents) / 100.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return {v, buf};
  }
  const int64_t v = 5 + static_cast<int64_t>(pick(rng, 995));
  return {v, std::to_string(v)};
}

Said say_percent(bool integer, Rng& rng) {
  static const std::pair<int, const char*> k[] = {
      {25, "a quarter"}, {50, "half"}, {10, "a tenth"}, {75, "three quarters"}, {20, "a fifth"}};
  if (chance(rng, 0.35)) {
    const auto& [v, t] = k[pick(rng, std::size(k))];
    return {v, t};
  }
  if (!integer && chance(rng, 0.3)) {
    const double v = 0.5 + static_cast<double>(pick(rng, 40));
    return {v, str(format_number(v, 1), chance(rng, 0.5) ? "%" : " percent")};
  }
  const int64_t v = 1 + static_cast<int64_t>(pick(rng, 99));
  return {v, str(v, chance(rng, 0.5) ? "%" : " percent")};
}

std::string person(Rng& rng) {
  return pick_str(rng, word_pool("people"));
}

std::string email_of(const std::string& name, Rng& rng) {
  std::string local;
  for (char c : name) {
    if (c == ' ')
      local += '.';
    else if (std::isalpha(static_cast<unsigned char>(c)))
      local += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return local + "@" + pick_str(rng, word_pool("mail_domains"));
}

std::string join_and(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

// The first n letters of an entity, upper-cased: an ID's prefix ("invoice" -> "INV").
std::string initials(const std::string& entity, size_t n) {
  std::string out;
  for (char c : entity)
    if (std::isalpha(static_cast<unsigned char>(c)) && out.size() < n)
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The shape of an ID that starts from `prefix` (upper-case letters of its entity): mostly the
// PREFIX-digits form, but also one letter, no separator, a suffix, spaces, slashes, digits only
// and lower case, as people's IDs come (loan "L-88213", plate "KA 55 901", user "k.osei"), so a
// model learns to copy an ID whole, punctuation and spaces included.
std::string draw_id_shape(const std::string& prefix, int digits, Rng& rng) {
  const std::string d(static_cast<size_t>(digits), '#');
  std::string lower = prefix;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  switch (pick(rng, 10)) {
    case 0: return str(prefix.substr(0, 1), "-", d);         // L-88213
    case 1: return str(prefix, d);                            // INV48213
    case 2: return str(prefix, "-", d, "-@@");                // INV-48213-KX
    case 3: return "@@ ## ###";                               // KA 55 901
    case 4: return str(prefix, "/", d.substr(0, 4), "/##");  // INV/4821/07
    case 5: return str("###-", d);                            // 120-48213
    case 6: return str(lower, "-", d);                        // inv-48213
    case 7: return str(lower.substr(0, 1), ".", lower, "##"); // i.inv42
    default: return str(prefix, "-", d);                      // INV-48213
  }
}

// A value of `shape`: '#' a digit (the first digit of a run never 0), '@' a letter.
std::string fill_id_shape(const std::string& shape, Rng& rng) {
  std::string v;
  for (size_t i = 0; i < shape.size(); ++i) {
    const char c = shape[i];
    const bool first = i == 0 || shape[i - 1] != c;
    if (c == '#') v += static_cast<char>('0' + (first ? 1 + pick(rng, 9) : pick(rng, 10)));
    else if (c == '@') v += static_cast<char>('A' + pick(rng, 26));
    else v += c;
  }
  return v;
}

// "INV-#####" -> "^INV-[0-9]{5}$"; "i.inv##" -> "^i\\.inv[0-9]{2}$".
std::string id_pattern(const std::string& shape) {
  std::string out = "^";
  for (size_t i = 0; i < shape.size();) {
    const char c = shape[i];
    size_t j = i;
    while (j < shape.size() && shape[j] == c) ++j;
    if (c == '#' || c == '@') {
      out += str(c == '#' ? "[0-9]{" : "[A-Z]{", j - i, "}");
    } else {
      for (size_t k = i; k < j; ++k) out += c == '.' ? std::string("\\.") : std::string(1, c);
    }
    i = j;
  }
  return out + "$";
}

// The ID as a schema's description shows it: digits counted up, letters X ("INV-12345").
std::string id_example(const std::string& shape) {
  std::string v;
  int n = 0;
  for (char c : shape) {
    if (c == '#') v += static_cast<char>('0' + (++n % 10));
    else if (c == '@') v += 'X';
    else v += c;
  }
  return v;
}

// The value of one parameter and how the request says it.
Said say_value(const ParamSpec& p, const DateContext& ctx, Rng& rng) {
  const ordered_json& s = p.schema;
  auto code_pick = [&](const std::vector<NamedCode>& table, double code_share) -> Said {
    std::vector<const NamedCode*> ok;
    for (const auto& e : table)
      if (!s.contains("enum") ||
          std::find(s["enum"].begin(), s["enum"].end(), ordered_json(e.code)) != s["enum"].end())
        ok.push_back(&e);
    const NamedCode& e = *ok[pick(rng, ok.size())];
    return {e.code, chance(rng, code_share) ? e.code : e.name};
  };
  switch (p.kind) {
    case ValueKind::kQuoted: {
      const std::string t = pick_str(rng, word_pool(p.def->pool));
      const char* q = chance(rng, 0.5) ? "'" : "\"";
      return {t, str(q, t, q)};
    }
    case ValueKind::kPerson: {
      const std::string n = person(rng);
      return {n, n};
    }
    case ValueKind::kEmail: {
      const std::string e = email_of(person(rng), rng);
      return {e, e};
    }
    case ValueKind::kCity: {
      const std::string c = pick_str(rng, word_pool("cities"));
      return {c, c};
    }
    case ValueKind::kAirport:
      return code_pick(airports(), 0.15);
    case ValueKind::kCurrency:
      return code_pick(currencies(), 0.1);
    case ValueKind::kCountry:
      return code_pick(countries(), 0.05);
    case ValueKind::kLanguage:
      return code_pick(languages(), 0.0);
    case ValueKind::kColor:
      return code_pick(colors(), 0.0);
    case ValueKind::kCount:
      return say_count(s["maximum"].get<int64_t>(), rng);
    case ValueKind::kDuration:
      return say_duration(rng);
    case ValueKind::kAmount:
      return say_amount(s["type"] == "integer", rng);
    case ValueKind::kPercent:
      return say_percent(s["type"] == "integer", rng);
    case ValueKind::kSmallInt: {
      const int64_t lo = s["minimum"].get<int64_t>(), hi = s["maximum"].get<int64_t>();
      const int64_t v = lo + static_cast<int64_t>(pick(
                                 rng, static_cast<size_t>(std::min<int64_t>(hi - lo + 1, 25))));
      return {v, number_text(v, rng)};
    }
    case ValueKind::kDate:
    case ValueKind::kPastDate:
      return say_date(ctx, rng, p.kind == ValueKind::kPastDate);
    case ValueKind::kDateTime: {
      Said d = say_date(ctx, rng, false);
      const Said t = say_time(rng);
      return {str(d.value.get<std::string>(), "T", t.value.get<std::string>(), ":00",
                  offset_text(ctx.tz_minutes)),
              str(d.text, " at ", t.text), true};
    }
    case ValueKind::kTime:
      return say_time(rng);
    case ValueKind::kBool: {
      const bool v = chance(rng, 0.5);
      return {v, pick_bar(rng, v ? p.def->phrases : p.def->pool)};
    }
    case ValueKind::kEnum: {
      const EnumPool& pool = enum_pool(p.def->pool);
      const EnumValue& e = pool.values[pick(rng, pool.values.size())];
      return {e.value, pick_bar(rng, e.says)};
    }
    case ValueKind::kCode: {
      const std::string v = fill_id_shape(p.id_shape, rng);
      return {v, v};
    }
    case ValueKind::kStringList: {
      std::vector<std::string> pool = word_pool(p.def->pool);
      const size_t maxn = s.contains("maxItems") ? s["maxItems"].get<size_t>() : 4;
      const size_t n = 1 + pick(rng, std::min<size_t>(maxn, 4));
      std::vector<std::string> out;
      for (size_t i = 0; i < n; ++i) {
        const size_t j = pick(rng, pool.size());
        out.push_back(pool[j]);
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
      }
      return {out, join_and(out)};
    }
    case ValueKind::kWeekdays: {
      const ordered_json& names = s["items"]["enum"];
      const size_t form = pick(rng, 3);
      if (form == 0) return {ordered_json(names.begin(), names.begin() + 5), "weekdays"};
      if (form == 1) return {ordered_json(names.begin() + 5, names.end()), "weekends"};
      const size_t a = pick(rng, 7), b = (a + 1 + pick(rng, 6)) % 7;
      const size_t lo = std::min(a, b), hi = std::max(a, b);
      return {ordered_json::array({names[lo], names[hi]}),
              str(kWeekdays[lo], "s and ", kWeekdays[hi], "s")};
    }
    case ValueKind::kLineItems: {
      std::vector<NamedCode> pool = countable_items();
      const size_t n = 1 + pick(rng, 3);
      ordered_json items = ordered_json::array();
      std::vector<std::string> said;
      for (size_t i = 0; i < n; ++i) {
        const size_t j = pick(rng, pool.size());
        const NamedCode it = pool[j];
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
        const int64_t q =
            chance(rng, 0.3) ? 1 : (chance(rng, 0.1) ? 12 : 2 + static_cast<int64_t>(pick(rng, 9)));
        items.push_back({{"name", it.name}, {"quantity", q}});
        said.push_back(q == 1                        ? with_article(it.name)
                       : q == 12 && chance(rng, 0.6) ? str("a dozen ", it.code)
                                                     : str(number_text(q, rng), " ", it.code));
      }
      return {items, join_and(said)};
    }
    case ValueKind::kAddress: {
      const std::string street = str(1 + pick(rng, 120), " ", pick_str(rng, word_pool("streets")));
      const std::string city = pick_str(rng, word_pool("cities"));
      return {{{"street", street}, {"city", city}}, str(street, ", ", city)};
    }
    case ValueKind::kContact: {
      const std::string n = person(rng), e = email_of(n, rng);
      return {{{"name", n}, {"email", e}},
              chance(rng, 0.5) ? str(n, " (", e, ")") : str(n, " at ", e)};
    }
    case ValueKind::kRange: {
      const int64_t lo = 50 * static_cast<int64_t>(1 + pick(rng, 20));
      const int64_t hi = lo + 50 * static_cast<int64_t>(1 + pick(rng, 20));
      return {{{"min", lo}, {"max", hi}},
              chance(rng, 0.5) ? str("between ", lo, " and ", hi) : str("from ", lo, " to ", hi)};
    }
  }
  TSFT_CHECK(false, "unhandled value kind");
  return {};
}

// ---- Schemas -------------------------------------------------------------------------------

enum class Style { kSnake, kCamel, kDottedSnake, kDottedCamel, kPascal, kKebab };

std::vector<std::string> words_of(const std::string& phrase) {
  std::vector<std::string> out(1);
  for (char c : phrase) {
    if (c == ' ' || c == '-') {
      if (!out.back().empty()) out.emplace_back();
    } else if (std::isalnum(static_cast<unsigned char>(c))) {
      out.back() += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

std::string styled(const std::vector<std::string>& w, bool camel, bool pascal = false,
                   char sep = '_') {
  std::string out;
  for (size_t i = 0; i < w.size(); ++i) {
    std::string x = w[i];
    if ((camel && i > 0) || pascal)
      x[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(x[0])));
    if (i > 0 && !camel && !pascal) out += sep;
    out += x;
  }
  return out;
}

ordered_json some_of(const std::vector<NamedCode>& table, size_t n, Rng& rng) {
  std::vector<NamedCode> pool = table;
  ordered_json out = ordered_json::array();
  while (out.size() < n && !pool.empty()) {
    const size_t j = pick(rng, pool.size());
    out.push_back(pool[j].code);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
  }
  return out;
}

ordered_json schema_of(const ParamDef& d, const std::string& entity, bool required,
                       std::string* id_shape, Rng& rng) {
  ordered_json s = {{"type", "string"}, {"description", d.description}};
  switch (d.kind) {
    case ValueKind::kQuoted:
      if (chance(rng, 0.3)) s["maxLength"] = 200;
      break;
    case ValueKind::kPerson:
    case ValueKind::kCity:
      break;
    case ValueKind::kEmail:
      if (chance(rng, 0.3)) s["pattern"] = "^[^@\\s]+@[^@\\s]+\\.[a-z]+$";
      break;
    case ValueKind::kAirport:
      s["pattern"] = "^[A-Z]{3}$";
      break;
    case ValueKind::kCurrency:
      if (chance(rng, 0.3)) {
        s["enum"] = some_of(currencies(), 5 + pick(rng, 6), rng);
        if (!required && chance(rng, 0.5)) s["default"] = s["enum"][0];
      } else {
        s["pattern"] = "^[A-Z]{3}$";
        if (!required && chance(rng, 0.5)) s["default"] = chance(rng, 0.5) ? "USD" : "EUR";
      }
      break;
    case ValueKind::kCountry:
      s["pattern"] = "^[A-Z]{2}$";
      break;
    case ValueKind::kLanguage:
      s["enum"] = some_of(languages(), 5 + pick(rng, 6), rng);
      if (!required && chance(rng, 0.5)) s["default"] = s["enum"][0];
      break;
    case ValueKind::kColor:
      s["pattern"] = "^#[0-9A-F]{6}$";
      break;
    case ValueKind::kCount: {
      static const int kMax[] = {12, 20, 50, 100};
      s = {{"type", "integer"},
           {"description", d.description},
           {"minimum", 1},
           {"maximum", kMax[pick(rng, 4)]}};
      if (!required && chance(rng, 0.4)) s["default"] = 1;
      break;
    }
    case ValueKind::kDuration:
      s = {{"type", "integer"},
           {"description", str(d.description, " (minutes)")},
           {"minimum", 5},
           {"maximum", chance(rng, 0.5) ? 240 : 480}};
      if (!required && chance(rng, 0.4)) s["default"] = 60;
      break;
    case ValueKind::kAmount:
      s = {{"type", chance(rng, 0.7) ? "number" : "integer"},
           {"description", d.description},
           {"minimum", 0}};
      if (chance(rng, 0.3)) s["maximum"] = 1000000;
      break;
    case ValueKind::kPercent:
      s = {{"type", chance(rng, 0.6) ? "number" : "integer"},
           {"description", d.description},
           {"minimum", 0},
           {"maximum", 100}};
      if (!required && chance(rng, 0.3)) s["default"] = 0;
      break;
    case ValueKind::kSmallInt: {
      const std::string id = d.id;
      const int lo = id == "floor" ? 0 : 1;
      const int hi = id == "rating" ? 5 : id == "floor" ? 30 : 50;
      s = {{"type", "integer"}, {"description", d.description}, {"minimum", lo}, {"maximum", hi}};
      if (!required && chance(rng, 0.5)) s["default"] = id == "limit" ? 10 : lo;
      break;
    }
    case ValueKind::kDate:
    case ValueKind::kPastDate:
      s["format"] = "date";
      break;
    case ValueKind::kDateTime:
      s["format"] = "date-time";
      break;
    case ValueKind::kTime:
      s["pattern"] = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
      break;
    case ValueKind::kBool:
      s = {{"type", "boolean"}, {"description", d.description}};
      if (chance(rng, 0.6)) s["default"] = false;
      break;
    case ValueKind::kEnum: {
      ordered_json values = ordered_json::array();
      for (const auto& v : enum_pool(d.pool).values) values.push_back(v.value);
      s["enum"] = values;
      if (!required && chance(rng, 0.5)) s["default"] = values[pick(rng, values.size())];
      break;
    }
    case ValueKind::kCode: {  // a reference: letters from the entity, an R, then digits
      *id_shape = draw_id_shape(initials(entity, 2) + "R", 5 + static_cast<int>(pick(rng, 3)), rng);
      if (chance(rng, 0.5)) s["pattern"] = id_pattern(*id_shape);
      break;
    }
    case ValueKind::kStringList:
      s = {{"type", "array"},
           {"description", d.description},
           {"items", {{"type", "string"}}},
           {"minItems", 1}};
      if (chance(rng, 0.4)) s["maxItems"] = 4 + static_cast<int>(pick(rng, 6));
      break;
    case ValueKind::kWeekdays: {
      const bool shortn = chance(rng, 0.4);
      ordered_json names = ordered_json::array();
      for (const char* w : kWeekdays) {
        std::string x = words_of(w)[0];
        names.push_back(shortn ? x.substr(0, 3) : x);
      }
      s = {{"type", "array"},
           {"description", d.description},
           {"items", {{"type", "string"}, {"enum", names}}},
           {"minItems", 1},
           {"maxItems", 7},
           {"uniqueItems", true}};
      break;
    }
    case ValueKind::kLineItems:
      s = {{"type", "array"},
           {"description", d.description},
           {"items",
            {{"type", "object"},
             {"properties",
              {{"name", {{"type", "string"}, {"description", "Item name, singular"}}},
               {"quantity", {{"type", "integer"}, {"minimum", 1}, {"maximum", 99}}}}},
             {"required", ordered_json::array({"name", "quantity"})},
             {"additionalProperties", false}}},
           {"minItems", 1}};
      break;
    case ValueKind::kAddress:
      s = {{"type", "object"},
           {"description", d.description},
           {"properties",
            {{"street", {{"type", "string"}, {"description", "Number and street"}}},
             {"city", {{"type", "string"}}},
             {"postal_code", {{"type", "string"}}}}},
           {"required", ordered_json::array({"street", "city"})},
           {"additionalProperties", false}};
      break;
    case ValueKind::kContact:
      s = {{"type", "object"},
           {"description", d.description},
           {"properties", {{"name", {{"type", "string"}}}, {"email", {{"type", "string"}}}}},
           {"required", ordered_json::array({"name"})}};
      break;
    case ValueKind::kRange:
      s = {{"type", "object"},
           {"description", d.description},
           {"properties",
            {{"min", {{"type", "number"}, {"minimum", 0}}},
             {"max", {{"type", "number"}, {"minimum", 0}}}}},
           {"required", ordered_json::array({"min", "max"})},
           {"additionalProperties", false}};
      break;
  }
  return s;
}

ParamSpec id_param(const std::string& entity, bool camel, Rng& rng) {
  const std::string prefix = initials(entity, 3);
  const int digits = 4 + static_cast<int>(pick(rng, 3));
  std::vector<std::string> w = words_of(entity);
  if (chance(rng, 0.2)) w.clear();
  w.push_back("id");
  ParamSpec p;
  p.key = styled(w, camel);
  p.kind = ValueKind::kCode;
  p.required = true;
  p.id_shape = draw_id_shape(prefix, digits, rng);
  std::string desc = str(char(std::toupper(static_cast<unsigned char>(entity[0]))),
                         entity.substr(1), " ID");
  if (chance(rng, 0.6)) desc += str(", e.g. ", id_example(p.id_shape));
  p.schema = {{"type", "string"}, {"description", desc}};
  if (chance(rng, 0.5)) p.schema["pattern"] = id_pattern(p.id_shape);
  return p;
}

std::string normal_key(const std::string& name) {
  std::string out;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string last_segment(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

}  // namespace

std::string iso_date(int64_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  return str(y, "-", two(m), "-", two(d));
}

int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string DateContext::system_message() const {
  return str("Today is ", iso_date(today), " (", kWeekdays[weekday_of(today)],
             "). The user's time zone is UTC", offset_text(tz_minutes), ".");
}

DateContext draw_date_context(Rng& rng) {
  static const int kOffsets[] = {0, 60, 60, 120, -300, -240, -420, 330, 540, 600, -180, 180};
  DateContext c;
  c.today = days_from_civil(2025, 1, 1) + static_cast<int64_t>(pick(rng, 3 * 365));
  c.tz_minutes = kOffsets[pick(rng, std::size(kOffsets))];
  return c;
}

std::string key_words(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '_' || c == '-' || c == '.') {
      out += ' ';
    } else if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out += ' ';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string plural(const std::string& noun) {
  const auto ends = [&](const char* s) {
    const std::string e = s;
    return noun.size() >= e.size() && noun.compare(noun.size() - e.size(), e.size(), e) == 0;
  };
  if (ends("s") || ends("x") || ends("ch") || ends("sh")) return noun + "es";
  if (ends("y") && noun.size() > 1 &&
      std::string("aeiou").find(noun[noun.size() - 2]) == std::string::npos)
    return noun.substr(0, noun.size() - 1) + "ies";
  return noun + "s";
}

bool is_reserved_name(const std::string& name) {
  static const std::set<std::string> kKeys = [] {
    std::set<std::string> k;
    for (const auto& n : reserved_function_names()) {
      k.insert(normal_key(n));
      k.insert(normal_key(last_segment(n)));
    }
    return k;
  }();
  return kKeys.count(normal_key(name)) || kKeys.count(normal_key(last_segment(name)));
}

FunctionSpec synth_function(Rng& rng, int domain) {
  const auto& domains = domain_defs();
  for (int attempt = 0;; ++attempt) {
    TSFT_CHECK(attempt < 100, "no unreserved function name could be drawn");
    FunctionSpec fn;
    fn.domain = &domains[domain >= 0 ? static_cast<size_t>(domain) : pick(rng, domains.size())];
    fn.entity = pick_bar(rng, fn.domain->entities);
    fn.verb = &verb_def(pick_bar(rng, fn.domain->verbs));
    const bool many = std::string(fn.verb->id) == "list" || std::string(fn.verb->id) == "export";

    // Name: verb + entity (plural for list/export), in one of the naming styles.
    std::vector<std::string> w = words_of(pick_bar(rng, fn.verb->names));
    const std::vector<std::string> ent = words_of(many ? plural(fn.entity) : fn.entity);
    if (chance(rng, 0.12))
      w.insert(w.begin(), ent.begin(), ent.end());  // "lead_create"
    else
      w.insert(w.end(), ent.begin(), ent.end());
    static const Style kStyles[] = {Style::kSnake,       Style::kSnake,       Style::kCamel,
                                    Style::kDottedSnake, Style::kDottedSnake, Style::kDottedCamel,
                                    Style::kCamel,       Style::kPascal,      Style::kKebab};
    const Style style = kStyles[pick(rng, std::size(kStyles))];
    const bool camel =
        style == Style::kCamel || style == Style::kDottedCamel || style == Style::kPascal;
    const std::string ns = fn.domain->ns;
    switch (style) {
      case Style::kSnake:
        fn.name = styled(w, false);
        break;
      case Style::kCamel:
        fn.name = styled(w, true);
        break;
      case Style::kDottedSnake:
        fn.name = ns + "." + styled(w, false);
        break;
      case Style::kDottedCamel:
        fn.name = ns + "." + styled(w, true);
        break;
      case Style::kPascal:
        fn.name = styled(w, false, true);
        break;
      case Style::kKebab:
        fn.name = styled(w, false, false, '-');
        break;
    }
    if (is_reserved_name(fn.name) || fn.name.size() > 64) continue;

    // Parameters: the entity's ID for verbs that act on one, then required and optional ones
    // from the domain, at most one of each kind (two airports excepted: from and to).
    const bool camel_keys = camel || (style == Style::kDottedSnake && chance(rng, 0.1));
    if (fn.verb->needs_id) fn.params.push_back(id_param(fn.entity, camel_keys, rng));
    std::vector<std::string> cand = split_bar(fn.domain->params);
    for (size_t i = cand.size(); i > 1; --i) std::swap(cand[i - 1], cand[pick(rng, i)]);
    const std::string verb = fn.verb->id;
    size_t n_req = verb == "list" || verb == "export" ? pick(rng, 2)
                   : fn.verb->needs_id ? (verb == "update" || verb == "assign" ? 1 : pick(rng, 2))
                                       : 1 + pick(rng, 2);
    size_t n_opt = pick(rng, 4);
    std::set<ValueKind> kinds;
    std::set<std::string> keys;
    for (const auto& p : fn.params) keys.insert(p.key);
    for (const std::string& id : cand) {
      if (n_req == 0 && n_opt == 0) break;
      const ParamDef& d = param_def(id);
      if (kinds.count(d.kind) && d.kind != ValueKind::kAirport) continue;
      if (verb == "assign" && n_req > 0 && d.kind != ValueKind::kPerson) continue;
      const bool req = n_req > 0 && d.kind != ValueKind::kBool;
      if (!req && n_opt == 0) continue;
      ParamSpec p;
      p.def = &d;
      p.kind = d.kind;
      p.required = req;
      p.key = styled(words_of(pick_bar(rng, d.names)), camel_keys);
      if (!keys.insert(p.key).second) continue;
      p.schema = schema_of(d, fn.entity, req, &p.id_shape, rng);
      kinds.insert(d.kind);
      (req ? n_req : n_opt)--;
      fn.params.push_back(std::move(p));
    }

    ordered_json props = ordered_json::object();
    ordered_json required = ordered_json::array();
    for (const auto& p : fn.params) {
      props[p.key] = p.schema;
      if (p.required) required.push_back(p.key);
    }
    ordered_json params = {{"type", "object"}, {"properties", props}};
    if (!required.empty()) params["required"] = required;
    if (chance(rng, 0.3)) params["additionalProperties"] = false;
    const std::string gloss = fn.verb->gloss;
    const std::string g =
        str(char(std::toupper(static_cast<unsigned char>(gloss[0]))), gloss.substr(1));
    const std::string what = many ? plural(fn.entity) : with_article(fn.entity);
    const size_t form = pick(rng, 3);
    const std::string desc = form == 0   ? str(g, " ", what, " in ", fn.domain->topic, ".")
                             : form == 1 ? str(g, "s ", what, ".")
                                         : str(g, " ", what, " (", fn.domain->topic, ")");
    fn.tool = {{"type", "function"},
               {"function", {{"name", fn.name}, {"description", desc}, {"parameters", params}}}};
    const auto problems = check_schema(params, fn.name);
    TSFT_CHECK(problems.empty(), fn.name, ": ", problems[0].path, ": ", problems[0].message);
    return fn;
  }
}

FunctionRequest make_function_request(const FunctionSpec& fn, const DateContext& ctx, Rng& rng,
                                      const std::string& omit) {
  FunctionRequest req;
  std::vector<std::vector<TextPiece>> clauses;
  for (const ParamSpec& p : fn.params) {
    if (p.key == omit || (!p.required && !chance(rng, 0.45))) continue;
    const Said v = say_value(p, ctx, rng);
    req.arguments[p.key] = v.value;
    req.dated = req.dated || v.dated;
    std::vector<TextPiece> c;
    if (p.kind == ValueKind::kBool) {
      c.push_back({v.text, true});
    } else {
      std::string phrase =
          p.def ? pick_bar(rng, p.def->phrases) : pick_bar(rng, "{v}|with ID {v}|number {v}");
      if (p.def && chance(rng, 0.15) && p.kind != ValueKind::kEnum &&
          p.kind != ValueKind::kDuration)
        phrase = pick_bar(rng, "with {k} {v}|{k}: {v}|and the {k} {v}");
      // "on tomorrow" -> "tomorrow": relative dates carry no preposition.
      if ((p.kind == ValueKind::kDate || p.kind == ValueKind::kPastDate) &&
          std::islower(static_cast<unsigned char>(v.text[0])) &&
          (phrase == "on {v}" || phrase == "for {v}"))
        phrase = "{v}";
      const size_t k = phrase.find("{k}");
      if (k != std::string::npos) phrase.replace(k, 3, key_words(p.key));
      const size_t at = phrase.find("{v}");
      if (at > 0) c.push_back({phrase.substr(0, at), false});
      c.push_back({v.text, true});
      if (at + 3 < phrase.size()) c.push_back({phrase.substr(at + 3), false});
    }
    clauses.push_back(std::move(c));
  }
  // The ID first (it names the thing), the rest in any order.
  const size_t fixed = fn.verb->needs_id && !clauses.empty() && omit != fn.params[0].key ? 1 : 0;
  for (size_t i = clauses.size(); i > fixed + 1; --i)
    std::swap(clauses[i - 1], clauses[fixed + pick(rng, i - fixed)]);

  std::string frame = pick_bar(rng, fn.verb->frames);
  const auto capital = [](std::string t) {
    t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
    return t;
  };
  for (auto [key, val] : {std::pair<std::string, std::string>{"{ae}", with_article(fn.entity)},
                          {"{Ae}", capital(with_article(fn.entity))},
                          {"{es}", plural(fn.entity)},
                          {"{Es}", capital(plural(fn.entity))},
                          {"{e}", fn.entity}}) {
    for (size_t at; (at = frame.find(key)) != std::string::npos;)
      frame.replace(at, key.size(), val);
  }
  const size_t at = frame.find("{args}");
  TSFT_CHECK(at != std::string::npos, frame);
  req.pieces.push_back({frame.substr(0, at), false});
  for (size_t i = 0; i < clauses.size(); ++i) {
    // A clause of its own "and ..." (a flag's phrase) takes a comma, never "and and".
    const bool has_and = clauses[i][0].text.rfind("and ", 0) == 0;
    req.pieces.push_back({i == 0                                ? " "
                          : i + 1 == clauses.size() && !has_and ? " and "
                                                                : ", ",
                          false});
    req.pieces.insert(req.pieces.end(), clauses[i].begin(), clauses[i].end());
  }
  req.pieces.push_back({frame.substr(at + 6), false});
  if (omit.empty()) {  // with a value left out the arguments are incomplete on purpose
    const auto problems = validate_json(req.arguments, fn.parameters(), "arguments");
    TSFT_CHECK(problems.empty(), fn.name, ": ", problems[0].path, ": ", problems[0].message);
  }
  return req;
}

}  // namespace tsft
