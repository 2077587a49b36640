// toolsft generate: load a model, tokenize a prompt, generate with the chosen sampling, print.
#include <cstdio>
#include <filesystem>

#include "chat/chat_format.h"
#include "chat/tool_call.h"
#include "chat/tool_call_grammar.h"
#include "cli/args.h"
#include "cli/compute_options.h"
#include "cli/commands.h"
#include "cli/model_files.h"
#include "cli/conversation_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"
#include "io/model_loader.h"
#include "model/call_start.h"

namespace tsft {

namespace {

const std::vector<OptionSpec>& generate_options() {
  static const std::vector<OptionSpec> kSpecs = {
      {"model", "PATH", "GGUF file or Hugging Face model directory", kDefaultModel},
      {"prompt", "TEXT", "prompt text, used as is (special tokens like <|im_start|> are parsed)", ""},
      {"prompt-file", "FILE", "read the prompt from a file instead", ""},
      {"conversation", "FILE", "instead of a prompt: a JSON/JSONL conversation (messages, tools), "
                               "rendered with the model's chat template", ""},
      {"line", "N", "which line of a JSONL --conversation file (1-based; 0 = one JSON object)", "0"},
      {"json", "", "print the reply as an OpenAI assistant message with parsed tool_calls", ""},
      {"tool-format", "NAME", "tool-call syntax for --json: auto, hermes, llama3, mistral, name_parameters", "auto"},
      {"decoding", "NAME",
       "with a --conversation that offers tools: constrained (the reply is text or calls that "
       "validate against the tools' schemas) or free", "constrained"},
      {"tool-choice", "CHOICE",
       "with constrained decoding: auto, none, required, or a function name (must call it)",
       "auto"},
      {"call-gate", "T",
       "with a --conversation that offers tools (tool choice auto): answer in text when the "
       "model's probability of opening a call is below T in [0, 1]", ""},
      {"max-new-tokens", "N", "most tokens to generate", "128"},
      {"temperature", "T", "sampling temperature; 0 = greedy", "0"},
      {"top-k", "K", "sample among the K most likely tokens; 0 = off", "0"},
      {"top-p", "P", "nucleus sampling mass; 1 = off", "1"},
      {"seed", "S", "random seed for sampling", "0"},
      {"stop", "STR", "stop before this string (repeatable)", "", true},
      {"ignore-eos", "", "keep generating after an end-of-sequence token", ""},
      {"add-bos", "", "prepend the BOS token even if the tokenizer does not", ""},
      {"print-ids", "", "also print the prompt and generated token ids", ""},
      {"threads", "N", "worker threads; 0 = all cores", "0"},
      activations_option(),
      {"quiet", "", "print only the generated text", ""},
      {"help", "", "show this help", ""},
  };
  return kSpecs;
}

std::string read_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) fail(path, ": cannot open");
  std::string s;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  const auto& specs = generate_options();
  Args args(specs, argc, argv, 1);
  if (args.flag("help")) {
    std::fputs(format_help("toolsft generate --model PATH --prompt TEXT [options]",
                           "Generates a continuation of the prompt.", specs)
                   .c_str(),
               stdout);
    return 0;
  }
  if (args.flag("quiet")) set_log_level(LogLevel::kWarn);
  set_num_threads(static_cast<int>(args.integer("threads")));
  apply_activations_option(args);

  std::string prompt = args.str("prompt");
  if (args.given("prompt") + args.given("prompt-file") + args.given("conversation") > 1)
    fail("give one of --prompt, --prompt-file and --conversation");
  if (args.given("prompt-file")) prompt = read_file(args.str("prompt-file"));
  nlohmann::ordered_json conversation;
  if (args.given("conversation")) conversation = read_conversation(args.str("conversation"), args.integer("line"));
  if (prompt.empty() && conversation.is_null())
    fail("no prompt: pass --prompt TEXT, --prompt-file FILE or --conversation FILE");
  const ToolCallFormat tool_format = tool_call_format_from_name(args.str("tool-format"));

  GenerationConfig gen;
  gen.max_new_tokens = args.integer("max-new-tokens");
  if (gen.max_new_tokens < 1) fail("--max-new-tokens must be at least 1");
  gen.sampling.temperature = static_cast<float>(args.number("temperature"));
  gen.sampling.top_k = static_cast<int32_t>(args.integer("top-k"));
  gen.sampling.top_p = static_cast<float>(args.number("top-p"));
  gen.sampling.seed = static_cast<uint64_t>(args.integer("seed"));
  if (gen.sampling.temperature < 0) fail("--temperature must be >= 0");
  if (gen.sampling.top_k < 0) fail("--top-k must be >= 0");
  if (!(gen.sampling.top_p > 0.0f && gen.sampling.top_p <= 1.0f)) fail("--top-p must be in (0, 1]");
  gen.stop = args.all("stop");
  gen.stop_at_eos = !args.flag("ignore-eos");

  const std::string path = resolve_model_path(args.str("model"));
  if (!std::filesystem::exists(path))
    fail(path, ": model not found", args.str("model") == kDefaultModel ? " (run scripts/setup.sh to fetch it)" : "");
  LoadedModel m = load_model(path);
  if (!m.tokenizer) fail(path, ": the model has no tokenizer (tokenizer.json or GGUF tokenizer)");
  gen.eos_ids = m.gen_defaults.eos_ids;
  if (!conversation.is_null()) {
    const ChatFormat format = ChatFormat::from_tokenizer(*m.tokenizer, path);
    const auto tools = conversation.contains("tools") ? conversation["tools"] : nlohmann::ordered_json();
    prompt = format.render(conversation["messages"], tools, /*add_generation_prompt=*/true);
    const std::string decoding = args.str("decoding");
    if (decoding != "constrained" && decoding != "free")
      fail("--decoding: expected constrained or free, got '", decoding, "'");
    const bool offers_tools = tools.is_array() && !tools.empty();
    const bool gated = args.given("call-gate");
    if (gated && !offers_tools) fail("--call-gate needs a --conversation that offers tools");
    if ((decoding == "constrained" || gated) && offers_tools) {
      const ToolCallFormat wire = reply_format(format, tool_format);
      if (wire != ToolCallFormat::kHermes && wire != ToolCallFormat::kLlama3Json)
        fail("constrained decoding and the call gate write Hermes (<tool_call>) or Llama 3 JSON "
             "calls; give --tool-format hermes or llama3 for this model, or --decoding free");
      const ToolCallSyntax syntax = wire == ToolCallFormat::kLlama3Json
                                        ? ToolCallSyntax::llama3_json()
                                        : ToolCallSyntax::hermes();
      const std::string choice = args.str("tool-choice");
      if (decoding == "constrained") {
        ToolChoiceSpec spec;
        if (choice == "none") spec.mode = ToolChoiceMode::kNone;
        else if (choice == "required") spec.mode = ToolChoiceMode::kRequired;
        else if (choice != "auto") spec = {ToolChoiceMode::kNamed, choice};
        try {
          gen.tool_grammar = std::make_shared<ToolCallGrammar>(tools, spec, syntax);
        } catch (const Error& e) {
          fail(args.str("conversation"), ": ", e.what());
        }
      }
      if (gated) {
        if (choice != "auto") fail("--call-gate needs --tool-choice auto (the model chooses)");
        gen.token_table = std::make_shared<TokenTable>(*m.tokenizer, gen.eos_ids);
        gen.call_gate = std::make_shared<CallGate>(*gen.token_table, syntax,
                                                   args.number("call-gate"));
      }
    }
  } else if (args.given("decoding") || args.given("tool-choice") || args.given("call-gate")) {
    fail("--decoding, --tool-choice and --call-gate need a --conversation that offers tools");
  }

  std::vector<int32_t> ids = m.tokenizer->encode(prompt);
  if ((m.tokenizer->add_bos() || args.flag("add-bos")) && m.tokenizer->bos_id() >= 0)
    ids.insert(ids.begin(), m.tokenizer->bos_id());
  if (args.flag("print-ids")) std::fprintf(stderr, "prompt ids: %s\n", ids_to_string(ids).c_str());

  const bool json = args.flag("json");
  GenerationResult r = generate(*m.model, *m.tokenizer, ids, gen, [json](const std::string& piece) {
    if (json) return;
    std::fputs(piece.c_str(), stdout);
    std::fflush(stdout);
  });
  if (json) std::fputs(to_openai_json(parse_tool_calls(r.text, tool_format)).c_str(), stdout);
  std::fputs("\n", stdout);
  if (args.flag("print-ids"))
    std::fprintf(stderr, "generated ids: %s\n", ids_to_string(r.tokens).c_str());
  const double pp = r.prompt_seconds > 0 ? r.prompt_tokens / r.prompt_seconds : 0.0;
  const double tg = r.decode_seconds > 0 ? r.tokens.size() / r.decode_seconds : 0.0;
  if (gen.call_gate)
    log_info("call probability ", r.call_probability, r.calls_withheld
                 ? ": below the call gate, answered in text" : ": at or above the call gate");
  log_info("prompt ", r.prompt_tokens, " tokens (", static_cast<int>(pp), " tok/s), generated ",
           r.tokens.size(), " tokens (", static_cast<int>(tg), " tok/s), finish: ", r.finish_reason);
  return 0;
}

}  // namespace tsft
