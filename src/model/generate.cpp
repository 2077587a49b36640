#include "model/generate.h"

#include <algorithm>
#include <chrono>

#include "core/clock.h"
#include "core/error.h"
#include "model/call_start.h"
#include "model/text_stream.h"

namespace tsft {

GenerationResult generate(Transformer& model, const Tokenizer& tok,
                          const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                          const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty: nothing to generate from");
  const int64_t ctx = model.config().context_length();
  if (static_cast<int64_t>(prompt.size()) >= ctx)
    fail("the prompt has ", prompt.size(), " tokens, which fills the model's context of ", ctx);
  KvCache cache = model.make_cache(std::min<int64_t>(ctx, prompt.size() + gen.max_new_tokens));
  return generate_after(model, tok, cache, prompt, gen, on_text);
}

GenerationResult generate_after(Transformer& model, const Tokenizer& tok, KvCache& cache,
                                const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                                const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty: nothing to generate from");
  if (cache.size() + static_cast<int64_t>(prompt.size()) >= cache.capacity())
    fail("the prompt has ", cache.size() + static_cast<int64_t>(prompt.size()),
         " tokens, which fills the cache of ", cache.capacity());

  GenerationResult res;
  res.prompt_tokens = cache.size() + static_cast<int64_t>(prompt.size());
  TextStream stream(tok, gen.stop, gen.eos_ids, gen.stop_at_eos);
  Sampler sampler(gen.sampling);
  const int64_t V = model.config().vocab;
  std::vector<float> logits(static_cast<size_t>(V));

  auto t0 = std::chrono::steady_clock::now();
  model.forward(prompt.data(), static_cast<int64_t>(prompt.size()), cache, logits.data(), 1);
  res.prompt_seconds = seconds_since(t0);
  std::shared_ptr<const ToolCallGrammar> grammar = gen.tool_grammar;
  if (gen.call_gate) {  // the gate measures the call probability itself
    TSFT_CHECK(gen.token_table, "the call gate needs a token table");
    if (gen.call_gate->withhold(logits.data(), V, &res.call_probability)) {
      grammar = gen.call_gate->text_only;
      res.calls_withheld = true;
    }
  } else if (gen.call_start) {
    res.call_probability = gen.call_start->probability(logits.data(), V);
  }
  std::unique_ptr<ToolCallConstraint> constraint;
  if (grammar) {
    auto table = gen.token_table ? gen.token_table : std::make_shared<TokenTable>(tok, gen.eos_ids);
    constraint = std::make_unique<ToolCallConstraint>(std::move(table), grammar);
  }

  t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < gen.max_new_tokens; ++i) {
    int32_t next;
    if (constraint) {
      next = constraint->pick(sampler, logits.data(), V, gen.max_new_tokens - i);
      if (next < 0) break;  // no token fits (a grammar bug): end the reply as cut short
      constraint->accept(next);
    } else {
      next = sampler.sample(logits.data(), V);
    }
    const std::string piece = stream.push(next);
    if (on_text && !piece.empty()) on_text(piece);
    if (stream.finished() || i + 1 == gen.max_new_tokens || cache.size() >= cache.capacity()) break;
    model.forward(&next, 1, cache, logits.data(), 1);
  }
  const std::string rest = stream.close("length");
  if (on_text && !rest.empty()) on_text(rest);
  res.tokens = stream.tokens();
  res.text = stream.text();
  res.finish_reason = stream.finish_reason();
  res.decode_seconds = seconds_since(t0);
  if (constraint) res.constraint = constraint->stats();
  return res;
}

}  // namespace tsft
