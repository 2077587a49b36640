// Two kinds of failure: a programmer's bug (TSFT_CHECK: aborts with file and line) and a
// user's mistake (tsft::Error: a one-line message naming the file, field or value at fault).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tsft {

// Concatenates any streamable values into one string: str("bad dim ", 3, " in ", path).
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// A user's mistake (bad file, bad config, bad request). Caught at the CLI boundary and printed
// as one line; never a crash.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str(args...));
}

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace tsft

// Programmer's invariant: if it fails, the code is wrong, not the input.
#define TSFT_CHECK(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond)) ::tsft::check_failed(#cond, __FILE__, __LINE__, ::tsft::str("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
