// toolsft tokenize: show the token ids and pieces a model's tokenizer gives for a text, so users
// can see exactly what the model will read.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// A piece as printable text: control characters and newlines escaped, like a JSON string body;
// a piece that is part of a multi-byte character is shown as its bytes (\xNN).
std::string printable(const std::string& bytes) {
  std::string out;
  const bool utf8 = valid_utf8(bytes);
  for (unsigned char c : bytes) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "GGUF file, Hugging Face directory or tokenizer.json", kDefaultModel},
      {"text", "TEXT", "the text to tokenize", ""},
      {"file", "FILE", "read the text from a file instead", ""},
      {"no-special", "", "treat special tokens in the text as plain text", ""},
      {"ids-only", "", "print only the ids, space-separated", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help")) {
    std::fputs(format_help("toolsft tokenize --model PATH --text TEXT",
                           "Prints each token's id and the text it stands for.", kSpecs)
                   .c_str(),
               stdout);
    return 0;
  }
  std::string text = args.str("text");
  if (args.given("file")) {
    if (args.given("text")) fail("give either --text or --file, not both");
    std::ifstream in(args.str("file"), std::ios::binary);
    if (!in) fail(args.str("file"), ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (!args.given("text") && !args.given("file")) fail("no text: pass --text TEXT or --file FILE");
  const Tokenizer tok = load_tokenizer(resolve_model_path(args.str("model")));
  const std::vector<int32_t> ids = tok.encode(text, !args.flag("no-special"));
  if (args.flag("ids-only")) {
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
  }
  std::printf("%zu tokens, %zu bytes\n", ids.size(), text.size());
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%6zu  %6d  %s%s\n", i, ids[i], printable(tok.token_bytes(ids[i])).c_str(),
                tok.is_special(ids[i]) ? "  (special)" : "");
  return 0;
}

}  // namespace tsft
