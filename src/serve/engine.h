// The inference loop of `toolsft serve`: one thread owns the model and decodes every live request
// together (continuous batching: requests join and leave between steps), within a KV-cache budget.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chat/tool_call_grammar.h"
#include "model/call_start.h"
#include "model/constrained_sampling.h"
#include "model/lora.h"
#include "model/sampler.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace tsft::serve {

struct EngineOptions {
  int64_t max_batch = 16;            // sequences decoded together in one step
  int64_t max_queue = 64;            // requests waiting beyond this are refused (429)
  int64_t kv_budget_tokens = 32768;  // cache positions reserved across all live requests
  int64_t prefill_chunk = 256;       // prompt tokens of one request per step, so that a long
                                     // prompt does not stall the others' decoding
  int64_t max_step_tokens = 512;     // rows of one forward: decode tokens first, then prompt
                                     // chunks while room is left (bounds the step's time and the
                                     // model's workspace, as vLLM's max_num_batched_tokens does)
  int threads = 0;                   // compute threads of the engine thread (0 = all cores);
                                     // OpenMP's count is per thread, so the loop sets its own
  int64_t prefix_cache_bytes = int64_t{128} << 20;  // keys and values of past prompts kept for
                                     // reuse (serve/prefix_cache.h); 0: none. Prompts sharing a
                                     // prefix with a running one reuse it whatever this is.
};

// One generation request, as an HTTP thread hands it over (already templated and tokenized).
struct Job {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop;
  std::vector<int32_t> eos_ids;
  bool stop_at_eos = true;
  const LoraWeights* adapter = nullptr;  // owned by the server, outlives the engine
  // Set (both): schema-constrained decoding. Each token is picked by a ToolCallConstraint over
  // the grammar, so the reply is plain text or calls that validate against the request's tools.
  // The grammar is the request's; the table is the server's, shared by every request.
  std::shared_ptr<const ToolCallGrammar> tool_grammar;
  std::shared_ptr<const TokenTable> token_table;
  // Set: the call gate (model/call_start.h; needs token_table). A reply whose first-token call
  // probability is below its threshold is decoded as text only: the call is withheld.
  std::shared_ptr<const CallGate> call_gate;
};

// What arrived for a job since the last look.
struct JobEvents {
  std::string text;            // newly final text (may be empty)
  bool done = false;
  std::string finish_reason;   // with done: "eos", "stop", "length" or "error"
  std::string error;           // with finish_reason "error"
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// Shared by the engine (writer) and the HTTP thread that waits for the reply (reader).
class JobHandle {
 public:
  // Waits until there is new text or the job ended, or `timeout` passed; returns (and clears)
  // what came.
  JobEvents wait(std::chrono::milliseconds timeout);
  // The client left or gave up: the engine frees the sequence at its next step.
  void cancel();
  bool cancelled() const;

  // Engine side.
  void post_text(const std::string& text, int64_t completion_tokens);
  void finish(const std::string& reason, const std::string& error, int64_t completion_tokens);
  int64_t prompt_tokens = 0;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  bool done_ = false, cancelled_ = false;
  std::string reason_, error_;
  int64_t completion_tokens_ = 0;
};

struct EngineStats {
  int64_t queued = 0;            // waiting for a slot
  int64_t running = 0;           // live sequences
  int64_t kv_reserved = 0;       // cache positions reserved by live sequences
  int64_t steps = 0;             // forward passes so far
  int64_t generated_tokens = 0;  // tokens sampled so far
  // Prompt positions copied from the prefix cache or a running sequence instead of run.
  int64_t prefix_reused_tokens = 0;
  int64_t prefix_cache_bytes = 0;    // held by the prefix cache now
  int64_t prefix_cache_entries = 0;
  // Constrained decoding (Job::tool_grammar), summed over the sequences that ended.
  int64_t constrained_requests = 0;  // admitted with a grammar
  ConstraintStats constraint;        // tokens, refused picks, whole-vocabulary masks, seconds
  // The call gate (Job::call_gate): requests decoded with it, and those whose call it withheld.
  int64_t gated_requests = 0;
  int64_t calls_withheld = 0;
};

class Engine {
 public:
  // The model and tokenizer must outlive the engine; only the engine thread touches the model.
  Engine(Transformer& model, const Tokenizer& tok, EngineOptions opt);
  ~Engine();  // stops the loop; jobs still live or queued end with an error
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a job. Returns nullptr when the queue is full (the caller answers 429). tsft::Error
  // when the job can never run: empty prompt, or prompt + max_tokens over the KV budget.
  std::shared_ptr<JobHandle> submit(Job job);
  EngineStats stats() const;
  const EngineOptions& options() const { return opt_; }

 private:
  struct Pending {
    Job job;
    std::shared_ptr<JobHandle> handle;
  };
  void loop();

  Transformer& model_;
  const Tokenizer& tok_;
  EngineOptions opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace tsft::serve
