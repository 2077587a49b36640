// Command-line options: each subcommand declares its options once; parsing, defaults, --help text
// and errors for unknown or malformed flags all come from that one declaration.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tsft {

struct OptionSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // empty for a boolean flag
  std::string help;
  std::string default_value;
  bool repeatable = false;
};

class Args {
 public:
  // Parses argv[first..]; throws tsft::Error for unknown options, missing values and positionals
  // beyond max_positionals.
  Args(const std::vector<OptionSpec>& specs, int argc, char** argv, int first,
       int max_positionals = 0);

  bool flag(const std::string& name) const;
  std::string str(const std::string& name) const;  // value or default
  std::vector<std::string> all(const std::string& name) const;
  int64_t integer(const std::string& name) const;  // with a clear error on bad numbers
  double number(const std::string& name) const;
  bool given(const std::string& name) const { return values_.count(name) != 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  const OptionSpec& spec(const std::string& name) const;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

std::string format_help(const std::string& usage, const std::string& summary,
                        const std::vector<OptionSpec>& specs);

}  // namespace tsft
