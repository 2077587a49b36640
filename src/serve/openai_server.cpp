#include "serve/openai_server.h"

#include <algorithm>
#include <random>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "model/text_stream.h"
#include "serve/openai_api.h"

namespace tsft::serve {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += kHex[rng() & 15];
  return s;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::vector<std::pair<std::string, std::string>> kNoHeaders;

int reply_json(http::Responder& res, int status, const std::string& body,
               const std::vector<std::pair<std::string, std::string>>& headers = kNoHeaders) {
  res.respond(status, "application/json", body, headers);
  return status;
}

int reply_error(http::Responder& res, const ApiError& e) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (e.status == 429 || e.status == 503) headers.emplace_back("Retry-After", "1");
  return reply_json(res, e.status, error_body(e), headers);
}

// Where the text a client may see as content ends while the rest could still be a tool call:
// the first call opener of the reply's syntax, or a partial opener at the very end.
size_t content_visible(const std::string& text, ToolCallFormat f) {
  std::vector<std::string> openers;
  if (f == ToolCallFormat::kHermes || f == ToolCallFormat::kAuto) openers.push_back("<tool_call>");
  if (f == ToolCallFormat::kLlama3Json || f == ToolCallFormat::kAuto)
    openers.push_back("<|python_tag|>");
  if (f == ToolCallFormat::kMistral || f == ToolCallFormat::kAuto) openers.push_back("[TOOL_CALLS]");
  if (f == ToolCallFormat::kLlama3Json || f == ToolCallFormat::kAuto ||
      f == ToolCallFormat::kNameParameters) {
    // A bare JSON object (or "name:" form) reply is a call from its first character.
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return 0;
    if (text[first] == '{' || text[first] == '[' ||
        (f == ToolCallFormat::kNameParameters && text.compare(first, 5, "name:") == 0))
      return 0;
  }
  size_t visible = text.size() - partial_match_suffix(text, openers);
  for (const auto& o : openers) visible = std::min(visible, text.find(o));
  return visible;
}

// The reply prefilled for tool_choice "required" or a named function when constrained decoding is
// off, in the reply syntax, so the model can only go on with a call.
std::string forced_call_prefix(ToolCallFormat f, const std::string& name) {
  std::string open;
  if (f == ToolCallFormat::kHermes || f == ToolCallFormat::kAuto) open = "<tool_call>\n";
  else if (f == ToolCallFormat::kMistral) open = "[TOOL_CALLS][";
  open += "{\"name\": \"";
  if (!name.empty()) open += name + "\", \"arguments\": ";
  return open;
}

std::string sse(const ordered_json& j) { return "data: " + json_text(j) + "\n\n"; }

}  // namespace

struct OpenAiServer::Generation {
  bool chat = false;
  std::string model_name;
  Job job;
  std::string prefix;        // prefilled reply text (forced tool calls)
  bool parse_calls = false;  // tools are offered and tool_choice is not "none"
  bool hold_all = false;     // the whole reply is a call: nothing streams as content
  ToolCallFormat format = ToolCallFormat::kAuto;
  bool stream = false, include_usage = false;
  Clock::time_point start;
};

OpenAiServer::OpenAiServer(LoadedModel model,
                           std::vector<std::pair<std::string, LoraWeights>> adapters,
                           ServerConfig cfg)
    : model_(std::move(model)), adapter_weights_(std::move(adapters)), cfg_(std::move(cfg)) {
  if (!model_.tokenizer) fail(model_.path, ": the model has no tokenizer; the server needs one");
  const int64_t model_ctx = model_.model->config().context_length();
  if (cfg_.context <= 0) cfg_.context = model_ctx;
  if (cfg_.context > model_ctx)
    fail("--ctx ", cfg_.context, " is over the model's context of ", model_ctx, " positions");
  if (cfg_.engine.kv_budget_tokens <= 0)
    cfg_.engine.kv_budget_tokens = std::min<int64_t>(16 * cfg_.context, 65536);
  if (cfg_.engine.kv_budget_tokens < cfg_.context) cfg_.engine.kv_budget_tokens = cfg_.context;
  if (cfg_.max_tokens_limit < 1) fail("the max_tokens limit must be at least 1");
  targets_.push_back({cfg_.model_name, nullptr});
  for (auto& [name, w] : adapter_weights_) {
    if (name == cfg_.model_name) fail("adapter name '", name, "' is the base model's name");
    for (const auto& t : targets_)
      if (t.name == name) fail("two adapters are named '", name, "'");
    targets_.push_back({name, &w});
  }
  try {
    chat_.emplace(ChatFormat::from_tokenizer(*model_.tokenizer, model_.path));
  } catch (const Error& e) {
    chat_error_ = e.what();
    log_warn("serve: /v1/chat/completions is unavailable: ", chat_error_);
  }
  // The grammar and the call gate write calls the way the model was shown them; a template
  // that writes them some other way gets neither rather than a syntax it never learned.
  std::string unavailable;
  if (!chat_) {
    unavailable = "unavailable (no chat template)";
  } else if (const ToolCallFormat written = chat_->written_call_format();
             written == ToolCallFormat::kHermes || written == ToolCallFormat::kLlama3Json) {
    call_syntax_ = written == ToolCallFormat::kLlama3Json ? ToolCallSyntax::llama3_json()
                                                          : ToolCallSyntax::hermes();
    if (cfg_.constrained_decoding || cfg_.call_gate)
      token_table_ =
          std::make_shared<const TokenTable>(*model_.tokenizer, model_.gen_defaults.eos_ids);
    constraint_summary_ = std::string("on, ") + tool_call_format_name(written) + " syntax";
  } else {
    unavailable = "unavailable (the chat template writes tool calls in neither the Hermes nor the "
                  "Llama 3 JSON syntax)";
  }
  if (cfg_.call_gate) {
    if (!unavailable.empty()) fail("--call-gate: the call gate is ", unavailable);
    call_gate_ = std::make_shared<const CallGate>(*token_table_, call_syntax_, *cfg_.call_gate);
  }
  if (!cfg_.constrained_decoding) {
    constraint_summary_ = "off";
  } else if (!unavailable.empty()) {
    constraint_summary_ = unavailable;
    if (chat_) log_warn("serve: constrained decoding is ", constraint_summary_);
  }
  created_ = unix_now();
  engine_ = std::make_unique<Engine>(*model_.model, *model_.tokenizer, cfg_.engine);
}

OpenAiServer::~OpenAiServer() { engine_.reset(); }

const OpenAiServer::Target& OpenAiServer::target(const std::string& model) const {
  for (const auto& t : targets_)
    if (t.name == model) return t;
  std::string names;
  for (const auto& t : targets_) names += (names.empty() ? "" : ", ") + t.name;
  throw ApiError(404, "The model '" + model + "' does not exist; this server has: " + names,
                 "invalid_request_error", "model", "model_not_found");
}

void OpenAiServer::handle(const http::Request& req, http::Responder& res) {
  const auto t0 = Clock::now();
  std::string endpoint = req.path;
  int status = 500;
  try {
    route(req, res, endpoint, status);
  } catch (const ApiError& e) {
    status = reply_error(res, e);
  } catch (const std::exception& e) {
    log_warn("serve: ", req.method, " ", req.path, ": ", e.what());
    status = reply_error(res, ApiError(500, std::string("internal error: ") + e.what(),
                                       "server_error"));
  }
  metrics_.request(endpoint, status);
  if (endpoint == "/v1/chat/completions" || endpoint == "/v1/completions")
    metrics_.latency(seconds_since(t0));
}

void OpenAiServer::route(const http::Request& req, http::Responder& res, std::string& endpoint,
                         int& status) {
  const std::string& p = req.path;
  const bool known = p == "/health" || p == "/metrics" || p == "/v1/models" ||
                     p == "/v1/chat/completions" || p == "/v1/completions";
  if (!known) {
    endpoint = "other";
    throw ApiError(404, "no such endpoint: " + req.method + " " + p, "invalid_request_error", "",
                   "not_found");
  }
  const bool post = p == "/v1/chat/completions" || p == "/v1/completions";
  if (req.method != (post ? "POST" : "GET"))
    throw ApiError(405, req.method + " is not allowed on " + p + "; use " + (post ? "POST" : "GET"));
  if (p == "/health") {
    status = reply_json(res, 200, R"({"status":"ok"})");
    return;
  }
  if (!cfg_.api_key.empty()) {
    const std::string* auth = req.header("Authorization");
    if (auth == nullptr || *auth != "Bearer " + cfg_.api_key)
      throw ApiError(401,
                     auth == nullptr ? "missing API key: send Authorization: Bearer <key>"
                                     : "incorrect API key",
                     "invalid_request_error", "", "invalid_api_key");
  }
  if (p == "/metrics") {
    const EngineStats s = engine_->stats();
    GaugeValues g{s.queued,
                  s.running,
                  s.kv_reserved,
                  cfg_.engine.kv_budget_tokens,
                  connections_ ? connections_() : 0,
                  s.prefix_cache_bytes,
                  s.prefix_cache_entries,
                  s.prefix_reused_tokens};
    ConstraintCounters c{s.constrained_requests, s.constraint.tokens, s.constraint.rejected,
                         s.constraint.full_masks, s.constraint.seconds,
                         s.gated_requests,        s.calls_withheld};
    res.respond(200, "text/plain; version=0.0.4", metrics_.render(g, c));
    status = 200;
    return;
  }
  if (p == "/v1/models") {
    status = models(res);
    return;
  }
  // The body must be JSON whatever Content-Type says (curl -d sends form-urlencoded).
  status = p == "/v1/chat/completions" ? chat_completions(req, res) : completions(req, res);
}

int OpenAiServer::models(http::Responder& res) {
  ordered_json data = ordered_json::array();
  for (const auto& t : targets_)
    data.push_back({{"id", t.name},
                    {"object", "model"},
                    {"created", created_},
                    {"owned_by", "toolsft"},
                    {"root", t.adapter ? cfg_.model_name : t.name},
                    {"parent", t.adapter ? ordered_json(cfg_.model_name) : ordered_json()},
                    {"max_model_len", cfg_.context}});
  return reply_json(res, 200, json_text(ordered_json{{"object", "list"}, {"data", data}}));
}

namespace {

// Sampling fields over the model's defaults; the prompt + completion length checks.
void apply_sampling(const SamplingFields& s, const GenerationConfig& defaults, int64_t prompt_tokens,
                    int64_t context, int64_t limit, Job& job) {
  job.sampling = defaults.sampling;
  if (s.temperature) job.sampling.temperature = *s.temperature;
  if (s.top_p) job.sampling.top_p = *s.top_p;
  job.sampling.seed = s.seed ? *s.seed : std::random_device{}();
  job.stop = s.stop;
  job.eos_ids = defaults.eos_ids;
  if (prompt_tokens >= context)
    throw ApiError(400,
                   "This model's maximum context length is " + std::to_string(context) +
                       " tokens. However, your prompt has " + std::to_string(prompt_tokens) +
                       " tokens, leaving no room for a completion.",
                   "invalid_request_error", "messages", "context_length_exceeded");
  if (s.max_tokens) {
    if (*s.max_tokens > limit)
      throw ApiError(400, "max_tokens is " + std::to_string(*s.max_tokens) +
                              ", over this server's limit of " + std::to_string(limit),
                     "invalid_request_error", "max_tokens");
    if (prompt_tokens + *s.max_tokens > context)
      throw ApiError(400,
                     "This model's maximum context length is " + std::to_string(context) +
                         " tokens. However, you requested " +
                         std::to_string(prompt_tokens + *s.max_tokens) + " tokens (" +
                         std::to_string(prompt_tokens) + " in the prompt, " +
                         std::to_string(*s.max_tokens) + " in the completion).",
                     "invalid_request_error", "max_tokens", "context_length_exceeded");
    job.max_tokens = *s.max_tokens;
  } else {
    job.max_tokens = std::min(limit, context - prompt_tokens);
  }
}

}  // namespace

std::shared_ptr<const ToolCallGrammar> OpenAiServer::tool_grammar(const ChatRequest& r) const {
  if (!cfg_.constrained_decoding || !token_table_ || r.tools.is_null()) return nullptr;
  ToolChoiceSpec choice;
  switch (r.tool_choice) {
    case ToolChoice::kAuto: choice.mode = ToolChoiceMode::kAuto; break;
    case ToolChoice::kNone: choice.mode = ToolChoiceMode::kNone; break;
    case ToolChoice::kRequired: choice.mode = ToolChoiceMode::kRequired; break;
    case ToolChoice::kNamed: choice = {ToolChoiceMode::kNamed, r.tool_choice_name}; break;
  }
  try {
    return std::make_shared<const ToolCallGrammar>(r.tools, choice, call_syntax_);
  } catch (const Error& e) {
    // The grammar names the schema path first ("tools[1].function.parameters.properties.n.type:
    // unknown type \"integr\" ..."): that path is the param.
    const std::string msg = e.what();
    const size_t colon = msg.find(": ");
    const bool path = colon != std::string::npos &&
                      (msg.rfind("tools", 0) == 0 || msg.rfind("tool_choice", 0) == 0);
    throw ApiError(400, msg, "invalid_request_error", path ? msg.substr(0, colon) : "tools");
  }
}

int OpenAiServer::chat_completions(const http::Request& req, http::Responder& res) {
  ChatRequest r = parse_chat_request(req.body);
  const Target& t = target(r.model);
  if (!chat_) throw ApiError(400, "this model cannot chat: " + chat_error_);
  Generation g = begin(t, r.sampling);
  g.chat = true;
  // Compiled here, on the HTTP thread: a schema it cannot use is this request's 400.
  g.job.tool_grammar = tool_grammar(r);
  if (g.job.tool_grammar) g.job.token_table = token_table_;
  const bool offer_tools = !r.tools.is_null() && r.tool_choice != ToolChoice::kNone;
  g.parse_calls = offer_tools;
  // The call gate decides whether to call only where the model may choose (tool_choice auto).
  if (call_gate_ && offer_tools && r.tool_choice == ToolChoice::kAuto) {
    g.job.call_gate = call_gate_;
    g.job.token_table = token_table_;
  }
  g.format = reply_format(*chat_, ToolCallFormat::kAuto);
  std::string prompt;
  try {
    prompt = chat_->render(r.messages, offer_tools ? r.tools : ordered_json(),
                           /*add_generation_prompt=*/true);
  } catch (const Error& e) {
    throw ApiError(400, std::string("the chat template refused the messages: ") + e.what(),
                   "invalid_request_error", "messages");
  }
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    g.hold_all = true;
    // The grammar makes the reply a call (to that function) from its first byte; without it,
    // the reply is prefilled with the opener so the model can only go on with a call.
    if (!g.job.tool_grammar) {
      g.prefix = forced_call_prefix(g.format, r.tool_choice == ToolChoice::kNamed ? r.tool_choice_name : "");
      prompt += g.prefix;
    }
  }
  set_prompt(g, prompt, r.sampling);
  return run(g, res);
}

int OpenAiServer::completions(const http::Request& req, http::Responder& res) {
  CompletionRequest r = parse_completion_request(req.body);
  Generation g = begin(target(r.model), r.sampling);
  set_prompt(g, r.prompt, r.sampling);
  return run(g, res);
}

OpenAiServer::Generation OpenAiServer::begin(const Target& t, const SamplingFields& s) const {
  Generation g;
  g.model_name = t.name;
  g.job.adapter = t.adapter;
  g.start = Clock::now();
  g.stream = s.stream;
  g.include_usage = s.include_usage;
  return g;
}

void OpenAiServer::set_prompt(Generation& g, const std::string& text,
                              const SamplingFields& s) const {
  const Tokenizer& tok = *model_.tokenizer;
  g.job.prompt = tok.encode(text);
  if (tok.add_bos() && tok.bos_id() >= 0) g.job.prompt.insert(g.job.prompt.begin(), tok.bos_id());
  apply_sampling(s, model_.gen_defaults, static_cast<int64_t>(g.job.prompt.size()), cfg_.context,
                 cfg_.max_tokens_limit, g.job);
}

int OpenAiServer::run(Generation& g, http::Responder& res) {
  std::shared_ptr<JobHandle> h;
  try {
    h = engine_->submit(g.job);
  } catch (const Error& e) {
    throw ApiError(400, e.what());
  }
  if (!h)
    throw ApiError(429, "the server is busy: its request queue is full; retry shortly",
                   "rate_limit_exceeded", "", "server_busy");
  const std::string id = (g.chat ? "chatcmpl-" : "cmpl-") + random_hex(24);
  const int64_t created = unix_now();
  ordered_json chunk_base = {{"id", id},
                             {"object", g.chat ? "chat.completion.chunk" : "text_completion"},
                             {"created", created},
                             {"model", g.model_name}};
  // A streamed piece: chat deltas or completion text.
  auto piece_chunk = [&](const ordered_json& delta_or_text, const ordered_json& finish) {
    ordered_json c = chunk_base;
    ordered_json choice = {{"index", 0}};
    if (g.chat) choice["delta"] = delta_or_text;
    else choice["text"] = delta_or_text;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish;
    c["choices"] = ordered_json::array({choice});
    return sse(c);
  };
  // Text as the endpoint streams it: a chat content delta, or completion text.
  auto content_chunk = [&](const std::string& text) {
    return g.chat ? piece_chunk({{"content", text}}, nullptr) : piece_chunk(text, nullptr);
  };

  std::string text;        // generated so far
  size_t streamed = 0;     // bytes of text sent as content
  bool first = true;
  Clock::time_point last_piece = g.start;
  bool client_left = false;
  if (g.stream) {
    if (!res.start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}})) client_left = true;
    if (!client_left && g.chat &&
        !res.send_chunk(piece_chunk({{"role", "assistant"}, {"content", ""}}, nullptr)))
      client_left = true;
  }
  JobEvents ev;
  while (!client_left) {
    ev = h->wait(std::chrono::milliseconds(50));
    if (!ev.text.empty()) {
      const auto now = Clock::now();
      if (first) metrics_.time_to_first_token(std::chrono::duration<double>(now - g.start).count());
      else metrics_.inter_token_latency(std::chrono::duration<double>(now - last_piece).count());
      first = false;
      last_piece = now;
      text += ev.text;
      if (g.stream) {
        const size_t visible = g.hold_all ? 0 : g.parse_calls ? content_visible(text, g.format) : text.size();
        if (visible > streamed) {
          const std::string piece = text.substr(streamed, visible - streamed);
          streamed = visible;
          if (!res.send_chunk(content_chunk(piece)))
            client_left = true;
        }
      }
    }
    if (ev.done) break;
    if (res.client_gone()) client_left = true;
  }
  if (client_left) {
    h->cancel();
    return 499;  // nginx's "client closed request"; only the metrics see it
  }
  metrics_.tokens(ev.prompt_tokens, ev.completion_tokens);
  if (ev.finish_reason == "error") {
    if (g.stream) {
      ApiError e(500, ev.error, "server_error");
      res.send_chunk("data: " + error_body(e) + "\n\n");
      res.end_stream();
      return 500;
    }
    throw ApiError(500, "generation failed: " + ev.error, "server_error");
  }

  ParsedReply reply;
  if (g.parse_calls) reply = parse_tool_calls(g.prefix + text, g.format);
  const bool calls = g.parse_calls && !reply.calls.empty();
  if (!calls) {  // plain text (a malformed call stays visible as text, as vLLM does)
    reply = ParsedReply{};
    reply.content = g.prefix + text;
  }
  const std::string finish = openai_finish_reason(ev.finish_reason, calls);
  const ordered_json usage = usage_json(ev.prompt_tokens, ev.completion_tokens);
  const std::string call_id = "call_" + random_hex(16) + "_";

  if (!g.stream) {
    ordered_json body = {{"id", id},
                         {"object", g.chat ? "chat.completion" : "text_completion"},
                         {"created", created},
                         {"model", g.model_name}};
    ordered_json choice = {{"index", 0}};
    if (g.chat) choice["message"] = assistant_message(reply, call_id);
    else choice["text"] = reply.content;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish;
    body["choices"] = ordered_json::array({choice});
    body["usage"] = usage;
    return reply_json(res, 200, json_text(body));
  }

  // The rest of the stream: content not yet sent, then the calls whole, then the finish.
  std::string rest;
  if (!calls) rest = g.prefix.empty() ? text.substr(streamed) : reply.content.substr(streamed);
  bool ok = true;
  if (!rest.empty())
    ok = res.send_chunk(content_chunk(rest));
  if (ok && calls) {
    const ordered_json msg = assistant_message(reply, call_id);
    ordered_json tc = ordered_json::array();
    for (size_t i = 0; i < msg["tool_calls"].size(); ++i) {
      ordered_json c = msg["tool_calls"][i];
      c["index"] = i;
      tc.push_back(c);
    }
    ok = res.send_chunk(piece_chunk({{"tool_calls", tc}}, nullptr));
  }
  if (ok) ok = res.send_chunk(g.chat ? piece_chunk(ordered_json::object(), finish) : piece_chunk("", finish));
  if (ok && g.include_usage) {
    ordered_json c = chunk_base;
    c["choices"] = ordered_json::array();
    c["usage"] = usage;
    ok = res.send_chunk(sse(c));
  }
  if (ok) ok = res.send_chunk("data: [DONE]\n\n");
  res.end_stream();
  return 200;
}

}  // namespace tsft::serve
