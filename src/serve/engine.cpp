#include "serve/engine.h"

#include <algorithm>
#include <numeric>
#include <exception>

#include "core/error.h"
#include "core/log.h"
#include "core/threads.h"
#include "model/text_stream.h"
#include "serve/prefix_cache.h"

namespace tsft::serve {

JobEvents JobHandle::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, timeout, [&] { return done_ || !text_.empty(); });
  JobEvents ev;
  ev.text.swap(text_);
  ev.done = done_;
  ev.finish_reason = reason_;
  ev.error = error_;
  ev.prompt_tokens = prompt_tokens;
  ev.completion_tokens = completion_tokens_;
  return ev;
}

void JobHandle::cancel() {
  std::lock_guard<std::mutex> lk(mu_);
  cancelled_ = true;
}

bool JobHandle::cancelled() const {
  std::lock_guard<std::mutex> lk(mu_);
  return cancelled_;
}

void JobHandle::post_text(const std::string& text, int64_t completion_tokens) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    text_ += text;
    completion_tokens_ = completion_tokens;
  }
  if (!text.empty()) cv_.notify_all();
}

void JobHandle::finish(const std::string& reason, const std::string& error,
                       int64_t completion_tokens) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = true;
    reason_ = reason;
    error_ = error;
    completion_tokens_ = completion_tokens;
  }
  cv_.notify_all();
}

Engine::Engine(Transformer& model, const Tokenizer& tok, EngineOptions opt)
    : model_(model), tok_(tok), opt_(opt) {
  if (opt_.max_batch < 1) fail("max batch must be at least 1, got ", opt_.max_batch);
  if (opt_.max_queue < 0) fail("max queue must be >= 0, got ", opt_.max_queue);
  if (opt_.kv_budget_tokens < 2) fail("the KV budget must be at least 2 tokens");
  if (opt_.prefill_chunk < 1) fail("the prefill chunk must be at least 1 token");
  if (opt_.max_step_tokens < 1) fail("the step token budget must be at least 1");
  if (opt_.prefix_cache_bytes < 0) fail("the prefix cache budget must be >= 0");
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<JobHandle> Engine::submit(Job job) {
  if (job.prompt.empty()) fail("the prompt is empty");
  if (job.max_tokens < 1) fail("max_tokens must be at least 1");
  TSFT_CHECK(!(job.tool_grammar || job.call_gate) == !job.token_table,
             "a tool grammar or a call gate needs a token table, and only they use one");
  const int64_t need = static_cast<int64_t>(job.prompt.size()) + job.max_tokens;
  if (need > opt_.kv_budget_tokens)
    fail("the prompt (", job.prompt.size(), " tokens) plus max_tokens (", job.max_tokens,
         ") needs ", need, " cache positions, over the server's KV budget of ",
         opt_.kv_budget_tokens);
  auto handle = std::make_shared<JobHandle>();
  handle->prompt_tokens = static_cast<int64_t>(job.prompt.size());
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) return nullptr;
    if (static_cast<int64_t>(queue_.size()) >= opt_.max_queue + opt_.max_batch - stats_.running)
      return nullptr;
    queue_.push_back(Pending{std::move(job), handle});
    stats_.queued = static_cast<int64_t>(queue_.size());
  }
  cv_.notify_all();
  return handle;
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

namespace {

// next_token of a sequence that samples nothing this step (its prompt goes on), and of one whose
// grammar allows no token.
constexpr int32_t kNotYet = -1, kNoToken = -2;

void add_to(ConstraintStats& sum, const ConstraintStats& c) {
  sum.tokens += c.tokens;
  sum.rejected += c.rejected;
  sum.full_masks += c.full_masks;
  sum.seconds += c.seconds;
}

// One live sequence: its request, cache, sampler and text so far.
struct Live {
  Live(Job j, std::shared_ptr<JobHandle> h, const ModelConfig& cfg, const Tokenizer& tok)
      : job(std::move(j)),
        handle(std::move(h)),
        cache(cfg, static_cast<int64_t>(job.prompt.size()) + job.max_tokens),
        sampler(job.sampling),
        stream(tok, job.stop, job.eos_ids, job.stop_at_eos) {
    if (job.tool_grammar)
      constraint = std::make_unique<ToolCallConstraint>(job.token_table, job.tool_grammar);
  }
  int64_t reserved() const { return cache.capacity(); }

  Job job;
  std::shared_ptr<JobHandle> handle;
  KvCache cache;
  Sampler sampler;
  std::unique_ptr<ToolCallConstraint> constraint;  // with Job::tool_grammar
  TextStream stream;
  int64_t fed = 0;       // prompt tokens already run
  int32_t last = -1;     // the token sampled last (the next step's input)
  int64_t generated = 0;
  bool done = false;
  bool withheld = false;  // the call gate made the reply text only
};

}  // namespace

void Engine::loop() {
  set_num_threads(opt_.threads);
  std::vector<std::unique_ptr<Live>> live;
  int64_t reserved = 0;
  const int64_t V = model_.config().vocab;
  std::vector<float> logits;
  std::vector<int32_t> next_token;  // per sequence of a step: its sampled token
  std::vector<BatchSeq> seqs;
  std::vector<size_t> order;
  PrefixCache prefix_cache(model_.config(), opt_.prefix_cache_bytes);
  std::vector<char> waits;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty() || !live.empty(); });
      if (stop_) break;
      // Admit in arrival order while there is a slot and cache room; the queue head waits for
      // room rather than being overtaken, so a long request is not starved.
      while (!queue_.empty() && static_cast<int64_t>(live.size()) < opt_.max_batch) {
        Pending& p = queue_.front();
        if (p.handle->cancelled()) {
          p.handle->finish("cancelled", "", 0);
          queue_.pop_front();
          continue;
        }
        const int64_t need = static_cast<int64_t>(p.job.prompt.size()) + p.job.max_tokens;
        if (reserved + need > opt_.kv_budget_tokens) break;
        try {
          live.push_back(std::make_unique<Live>(std::move(p.job), p.handle, model_.config(), tok_));
          reserved += need;
          if (live.back()->constraint) ++stats_.constrained_requests;
          if (live.back()->job.call_gate) ++stats_.gated_requests;
        } catch (const std::exception& e) {  // e.g. out of memory for the cache
          p.handle->finish("error", e.what(), 0);
        }
        queue_.pop_front();
      }
      stats_.queued = static_cast<int64_t>(queue_.size());
      stats_.running = static_cast<int64_t>(live.size());
      stats_.kv_reserved = reserved;
    }
    // Sequences whose client left are dropped before spending a step on them.
    for (auto& l : live)
      if (l->handle->cancelled()) {
        l->handle->finish("cancelled", "", l->generated);
        l->done = true;
      }
    // Prompt positions the prefix cache or another sequence already holds are copied, not run.
    // A prompt sharing a longer prefix with an earlier one still being run waits for it: sixteen
    // requests arriving together with the same system prompt and tools run that prefix once.
    int64_t reused = 0;
    waits.assign(live.size(), 0);
    for (size_t i = 0; i < live.size(); ++i) {
      Live& l = *live[i];
      const int64_t P = static_cast<int64_t>(l.job.prompt.size());
      const int64_t limit = P - 1;  // the last prompt token runs: its logits pick the first token
      if (l.done || l.fed >= limit) continue;
      const int32_t* prompt = l.job.prompt.data();
      const KvCache* from = nullptr;
      int64_t have = l.fed, pending = 0;
      const PrefixCache::Match kept = prefix_cache.match(l.job.prompt, limit, l.job.adapter);
      if (kept.tokens > have) {
        from = kept.cache;
        have = kept.tokens;
      }
      for (size_t j = 0; j < live.size(); ++j) {
        const Live& d = *live[j];
        if (j == i || d.done || d.job.adapter != l.job.adapter) continue;
        const int64_t dP = static_cast<int64_t>(d.job.prompt.size());
        const int64_t same = common_prefix(prompt, limit, d.job.prompt.data(), dP);
        const int64_t ready = std::min(same, d.fed);  // of those, the positions d holds
        if (ready > have) {
          from = &d.cache;
          have = ready;
        }
        if (j < i && same > ready) pending = std::max(pending, same);
      }
      if (from != nullptr) {
        l.cache.copy_from(*from, have);
        reused += have - l.fed;
        l.fed = have;
      }
      waits[i] = pending > l.fed ? 1 : 0;
    }
    seqs.clear();
    order.clear();
    // Decode tokens first (one row each), then prompt chunks while the step has rows to spare;
    // a prompt that gets none waits for the next step.
    int64_t rows = 0;
    for (size_t i = 0; i < live.size(); ++i)
      if (!live[i]->done && live[i]->fed >= static_cast<int64_t>(live[i]->job.prompt.size())) {
        order.push_back(i);
        ++rows;
      }
    std::vector<int64_t> chunk(live.size(), 0);
    for (size_t i = 0; i < live.size(); ++i) {
      Live& l = *live[i];
      const int64_t left = static_cast<int64_t>(l.job.prompt.size()) - l.fed;
      if (l.done || left <= 0 || waits[i]) continue;
      const int64_t room = std::max<int64_t>(opt_.max_step_tokens - rows, 0);
      // The first sequence of a step always gets a chunk, so a step is never empty.
      chunk[i] = std::min({opt_.prefill_chunk, left, rows == 0 ? opt_.prefill_chunk : room});
      if (chunk[i] <= 0) continue;
      order.push_back(i);
      rows += chunk[i];
    }
    // Sequences sharing an adapter sit next to each other, so each adapter costs one small GEMM
    // pair per layer and target rather than one per sequence.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::less<const LoraWeights*>()(live[a]->job.adapter, live[b]->job.adapter);
    });
    for (size_t i : order) {
      Live& l = *live[i];
      if (chunk[i] > 0)
        seqs.push_back({l.job.prompt.data() + l.fed, chunk[i], &l.cache, l.job.adapter});
      else
        seqs.push_back({&l.last, 1, &l.cache, l.job.adapter});
    }
    int64_t sampled = 0;
    if (!seqs.empty()) {
      logits.resize(seqs.size() * static_cast<size_t>(V));
      try {
        model_.forward_batch(seqs, logits.data());
        // Sampling first, over the threads (each sequence has its own sampler, so the draws are
        // those of a serial loop): 16 softmaxes over the vocabulary were a serial tenth of a step.
        // A sequence samples once this step's rows reach the end of its prompt (kNotYet before).
        // A constrained sequence picks among the tokens its grammar allows (kNoToken: none is,
        // a grammar bug, and the reply ends as cut short, as generate() ends it).
        next_token.assign(order.size(), kNotYet);
        std::exception_ptr failure;  // an exception must not leave an OpenMP region
#pragma omp parallel for schedule(dynamic, 1) if (order.size() > 1)
        for (size_t s = 0; s < order.size(); ++s) {
          Live& l = *live[order[s]];
          if (l.fed + seqs[s].n < static_cast<int64_t>(l.job.prompt.size())) continue;
          try {
            float* row = logits.data() + s * V;
            const CallGate* gate = l.job.call_gate.get();
            double call_probability = 0.0;
            if (gate && l.generated == 0 && gate->withhold(row, V, &call_probability)) {
              l.constraint =
                  std::make_unique<ToolCallConstraint>(l.job.token_table, gate->text_only);
              l.withheld = true;
            }
            if (l.constraint) {
              const int32_t id =
                  l.constraint->pick(l.sampler, row, V, l.job.max_tokens - l.generated);
              if (id >= 0) l.constraint->accept(id);
              next_token[s] = id >= 0 ? id : kNoToken;
            } else {
              next_token[s] = l.sampler.sample(row, V);
            }
          } catch (...) {
#pragma omp critical(engine_sampling_failure)
            if (!failure) failure = std::current_exception();
          }
        }
        if (failure) std::rethrow_exception(failure);
        for (size_t s = 0; s < order.size(); ++s) {
          Live& l = *live[order[s]];
          const int64_t P = static_cast<int64_t>(l.job.prompt.size());
          if (l.fed < P) {
            l.fed += seqs[s].n;
            if (l.fed >= P) prefix_cache.store(l.job.prompt.data(), P, l.job.adapter, l.cache);
          }
          if (next_token[s] == kNotYet) continue;  // more prompt to run before the first token
          if (next_token[s] == kNoToken) {
            l.handle->post_text(l.stream.close("length"), l.generated);
            l.handle->finish(l.stream.finish_reason(), "", l.generated);
            l.done = true;
            continue;
          }
          const int32_t next = next_token[s];
          ++l.generated;
          ++sampled;
          const std::string piece = l.stream.push(next);
          l.last = next;
          const bool full = l.cache.size() >= l.cache.capacity();
          if (l.stream.finished() || l.generated >= l.job.max_tokens || full) {
            const std::string rest = l.stream.close("length");
            l.handle->post_text(piece + rest, l.generated);
            l.handle->finish(l.stream.finish_reason(), "", l.generated);
            l.done = true;
          } else if (!piece.empty()) {
            l.handle->post_text(piece, l.generated);
          }
        }
      } catch (const std::exception& e) {
        // A failed step fails the requests in it, not the server.
        log_warn("serve: a decoding step failed: ", e.what());
        for (size_t i : order) {
          live[i]->handle->finish("error", e.what(), live[i]->generated);
          live[i]->done = true;
        }
      }
    }
    ConstraintStats ended;  // of the constrained sequences that ended this step
    int64_t withheld = 0;
    for (auto& l : live) {
      if (!l->done) continue;
      reserved -= l->reserved();
      if (l->constraint && l->job.tool_grammar) add_to(ended, l->constraint->stats());
      withheld += l->withheld ? 1 : 0;
    }
    live.erase(std::remove_if(live.begin(), live.end(), [](const auto& l) { return l->done; }),
               live.end());
    std::lock_guard<std::mutex> lk(mu_);
    stats_.steps += seqs.empty() ? 0 : 1;
    stats_.generated_tokens += sampled;
    stats_.prefix_reused_tokens += reused;
    stats_.prefix_cache_bytes = prefix_cache.bytes();
    stats_.prefix_cache_entries = prefix_cache.entries();
    add_to(stats_.constraint, ended);
    stats_.calls_withheld += withheld;
    stats_.running = static_cast<int64_t>(live.size());
    stats_.kv_reserved = reserved;
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& l : live) l->handle->finish("error", "the server is shutting down", l->generated);
  for (auto& p : queue_) p.handle->finish("error", "the server is shutting down", 0);
  queue_.clear();
}

}  // namespace tsft::serve
