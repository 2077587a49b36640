// toolsft render: a conversation as the model will see it — the model's chat template (with the
// tool prompt injected when the template ignores tools), and which tokens the assistant wrote.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "cli/args.h"
#include "cli/conversation_file.h"
#include "cli/model_files.h"
#include "cli/commands.h"
#include "core/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

}  // namespace

int cmd_render(int argc, char** argv) {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "GGUF file or Hugging Face directory (its chat template and tokenizer)", kDefaultModel},
      {"conversation", "FILE", "JSON object or JSONL file with \"messages\" and optional \"tools\"", ""},
      {"line", "N", "which line of a JSONL file (1-based; 0 = the file is one JSON object)", "0"},
      {"generation-prompt", "", "end with the assistant's generation prompt (as at serving time)", ""},
      {"tokens", "", "list every token with a mark where the assistant wrote it", ""},
      {"help", "", "show this help", ""},
  };
  Args args(kSpecs, argc, argv, 1);
  if (args.flag("help")) {
    std::fputs(format_help("toolsft render --model PATH --conversation FILE [--line N] [--tokens]",
                           "Shows the prompt the model sees for a conversation and the assistant "
                           "tokens that assistant-only training learns.",
                           kSpecs)
                   .c_str(),
               stdout);
    return 0;
  }
  if (!args.given("conversation")) fail("no conversation: pass --conversation FILE");
  const ordered_json conv = read_conversation(args.str("conversation"), args.integer("line"));
  const ordered_json tools = conv.contains("tools") ? conv["tools"] : ordered_json();
  const std::string model = resolve_model_path(args.str("model"));
  const Tokenizer tok = load_tokenizer(model);
  const ChatFormat format = ChatFormat::from_tokenizer(tok, model);

  if (args.flag("generation-prompt")) {
    std::fputs(format.render(conv["messages"], tools, true).c_str(), stdout);
    return 0;
  }
  const RenderedConversation r = format.render_with_spans(conv["messages"], tools);
  const TokenizedConversation t = tokenize_conversation(r, tok);
  size_t n_masked = 0;
  for (uint8_t m : t.assistant_mask) n_masked += m;
  std::printf("== rendered (%zu bytes, %zu tokens, %zu written by the assistant; template %s tools) ==\n",
              r.text.size(), t.ids.size(), n_masked,
              format.template_handles_tools() ? "renders" : "ignores, tool prompt injected for");
  std::fputs(r.text.c_str(), stdout);
  std::printf("\n== assistant spans (what training learns) ==\n");
  for (size_t i = 0; i < r.assistant.size(); ++i)
    std::printf("[%zu] %s\n", i, r.text.substr(r.assistant[i].begin, r.assistant[i].end - r.assistant[i].begin).c_str());
  if (args.flag("tokens")) {
    std::printf("\n== tokens (* = assistant) ==\n");
    for (size_t k = 0; k < t.ids.size(); ++k) {
      std::string piece = tok.token_bytes(t.ids[k]);
      for (size_t p = 0; (p = piece.find('\n', p)) != std::string::npos;) piece.replace(p, 1, "\\n");
      std::printf("%6zu %c %6d  %s\n", k, t.assistant_mask[k] ? '*' : ' ', t.ids[k], piece.c_str());
    }
  }
  return 0;
}

}  // namespace tsft
