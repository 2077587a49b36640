#include "cli/args.h"

#include <cerrno>
#include <cstdlib>

#include "core/error.h"

namespace tsft {

Args::Args(const std::vector<OptionSpec>& specs, int argc, char** argv, int first,
           int max_positionals)
    : specs_(specs) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      if (static_cast<int>(positionals_.size()) >= max_positionals)
        fail("unexpected argument '", a, "' (see --help)");
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_inline = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const OptionSpec& s = spec(name);
    if (s.value_name.empty()) {
      if (has_inline) fail("option --", name, " takes no value");
      value = std::string(1, '1');  // (not = "1": GCC 12 warns falsely on that)
    } else if (!has_inline) {
      if (i + 1 >= argc) fail("option --", name, " needs a value (", s.value_name, ")");
      value = argv[++i];
    }
    auto& slot = values_[name];
    if (!slot.empty() && !s.repeatable) fail("option --", name, " given more than once");
    slot.push_back(value);
  }
}

const OptionSpec& Args::spec(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return s;
  fail("unknown option --", name, " (see --help)");
}

bool Args::flag(const std::string& name) const {
  spec(name);
  return values_.count(name) != 0;
}

std::string Args::str(const std::string& name) const {
  const OptionSpec& s = spec(name);
  auto it = values_.find(name);
  return it == values_.end() ? s.default_value : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  spec(name);
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t Args::integer(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0)
    fail("option --", name, " expects an integer, got '", v, "'");
  return x;
}

double Args::number(const std::string& name) const {
  const std::string v = str(name);
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno != 0)
    fail("option --", name, " expects a number, got '", v, "'");
  return x;
}

std::string format_help(const std::string& usage, const std::string& summary,
                        const std::vector<OptionSpec>& specs) {
  std::string out = "usage: " + usage + "\n\n" + summary + "\n\noptions:\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "\n" + std::string(28, ' ');
    out += left + s.help;
    if (!s.default_value.empty()) out += " (default: " + s.default_value + ")";
    out += "\n";
  }
  return out;
}

}  // namespace tsft
