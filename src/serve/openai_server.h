// The routes of `toolsft serve`: OpenAI's /v1/chat/completions, /v1/completions and /v1/models,
// plus /health and /metrics, over one loaded base model, its LoRA adapters and one Engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/tool_call_grammar.h"
#include "io/model_loader.h"
#include "model/constrained_sampling.h"
#include "model/lora.h"
#include "serve/engine.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/openai_api.h"

namespace tsft::serve {

struct ServerConfig {
  std::string model_name;          // the base model's id in /v1/models and requests
  std::string api_key;             // "" = no key; else Bearer KEY on every endpoint but /health
  int64_t context = 0;             // longest prompt + completion per request; 0 = the model's
  int64_t max_tokens_limit = 4096; // the most a request may ask for
  EngineOptions engine;            // kv_budget_tokens <= 0: 16 x context, at most 65536
  // Schema-constrained decoding of chat requests that offer tools: each reply is plain text or
  // calls that validate against the request's tools, and tool_choice required / named is
  // enforced by the grammar. Off: tools are only parsed from what the model wrote, and
  // required / named prefill the reply with a call opener.
  bool constrained_decoding = true;
  // Set: the call gate (model/call_start.h), in [0, 1]. A chat request with tools and
  // tool_choice auto whose reply's first-token call probability is below it is answered in text
  // (the model asks or says no tool fits) instead of calling. Choose it on held-out data
  // (toolsft eval --task tool-calling --gate-precision P: the report's operating point).
  std::optional<double> call_gate;
};

class OpenAiServer {
 public:
  // adapters: (name, weights) in the order /v1/models lists them.
  OpenAiServer(LoadedModel model, std::vector<std::pair<std::string, LoraWeights>> adapters,
               ServerConfig cfg);
  ~OpenAiServer();

  // The HTTP handler: routes one request and answers it (never throws).
  void handle(const http::Request& req, http::Responder& res);
  void set_connection_counter(std::function<int64_t()> f) { connections_ = std::move(f); }
  const ServerConfig& config() const { return cfg_; }
  // What constrained decoding does here, for the startup line: "on, hermes syntax" (or llama3:
  // the call syntax it writes), "off" (switched off), or why it is unavailable.
  const std::string& constrained_decoding_summary() const { return constraint_summary_; }

 private:
  struct Target {
    std::string name;
    const LoraWeights* adapter = nullptr;
  };
  struct Generation;  // one request's prompt and settings, shared by both endpoints

  void route(const http::Request& req, http::Responder& res, std::string& endpoint, int& status);
  int chat_completions(const http::Request& req, http::Responder& res);
  int completions(const http::Request& req, http::Responder& res);
  int models(http::Responder& res);
  const Target& target(const std::string& model) const;
  // The request's tool-call grammar when it offers tools and constrained decoding is on (null
  // otherwise); ApiError 400 naming the schema path for a schema the grammar cannot use.
  std::shared_ptr<const ToolCallGrammar> tool_grammar(const ChatRequest& r) const;
  // What both endpoints set alike: the target's name and adapter, the start time, stream flags.
  Generation begin(const Target& t, const SamplingFields& s) const;
  // The prompt's tokens (BOS added when the tokenizer adds one), then the sampling and length
  // fields over the model's defaults, checked against the context and the max_tokens limit.
  void set_prompt(Generation& g, const std::string& text, const SamplingFields& s) const;
  // Runs a generation and answers with its reply (JSON or SSE); returns the HTTP status.
  int run(Generation& g, http::Responder& res);

  LoadedModel model_;
  std::vector<std::pair<std::string, LoraWeights>> adapter_weights_;
  std::vector<Target> targets_;
  ServerConfig cfg_;
  std::optional<ChatFormat> chat_;
  std::string chat_error_;  // why chat is unavailable (no template), when it is
  // Constrained decoding: the call syntax of the template and one token table for every
  // request (null when off or unavailable).
  ToolCallSyntax call_syntax_;
  std::shared_ptr<const TokenTable> token_table_;  // with constrained decoding or the call gate
  std::shared_ptr<const CallGate> call_gate_;       // with ServerConfig::call_gate
  std::string constraint_summary_;
  ServerMetrics metrics_;
  std::unique_ptr<Engine> engine_;
  std::function<int64_t()> connections_;
  int64_t created_ = 0;
};

}  // namespace tsft::serve
