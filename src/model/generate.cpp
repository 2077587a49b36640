#include "model/generate.h"

#include <algorithm>
#include <chrono>

#include "core/clock.h"
#include "core/error.h"

namespace tsft {
namespace {

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much
// text must be held back from streaming because it may still turn into a stop string.
size_t stop_holdback(const std::string& text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops)
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  return hold;
}

// Bytes at the end of `text` that form an incomplete UTF-8 sequence.
size_t incomplete_utf8_tail(const std::string& text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const unsigned char c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

GenerationResult generate(Transformer& model, const Tokenizer& tok,
                          const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                          const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty: nothing to generate from");
  const int64_t ctx = model.config().max_positions > 0 ? model.config().max_positions : 4096;
  if (static_cast<int64_t>(prompt.size()) >= ctx)
    fail("the prompt has ", prompt.size(), " tokens, which fills the model's context of ", ctx);
  KvCache cache = model.make_cache(std::min<int64_t>(ctx, prompt.size() + gen.max_new_tokens));
  return generate_after(model, tok, cache, prompt, gen, on_text);
}

GenerationResult generate_after(Transformer& model, const Tokenizer& tok, KvCache& cache,
                                const std::vector<int32_t>& prompt, const GenerationConfig& gen,
                                const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt is empty: nothing to generate from");
  for (const auto& s : gen.stop)
    if (s.empty()) fail("stop strings must not be empty");
  if (cache.size() + static_cast<int64_t>(prompt.size()) >= cache.capacity())
    fail("the prompt has ", cache.size() + static_cast<int64_t>(prompt.size()),
         " tokens, which fills the cache of ", cache.capacity());

  GenerationResult res;
  res.prompt_tokens = cache.size() + static_cast<int64_t>(prompt.size());
  Sampler sampler(gen.sampling);
  const int64_t V = model.config().vocab;
  std::vector<float> logits(static_cast<size_t>(V));

  auto t0 = std::chrono::steady_clock::now();
  model.forward(prompt.data(), static_cast<int64_t>(prompt.size()), cache, logits.data(), 1);
  res.prompt_seconds = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  size_t streamed = 0;
  res.finish_reason = "length";
  for (int64_t i = 0; i < gen.max_new_tokens; ++i) {
    const int32_t next = sampler.sample(logits.data(), V);
    res.tokens.push_back(next);
    if (gen.stop_at_eos &&
        std::find(gen.eos_ids.begin(), gen.eos_ids.end(), next) != gen.eos_ids.end()) {
      res.finish_reason = "eos";
      break;
    }
    res.text = tok.decode(res.tokens, /*skip_special=*/true);
    bool stopped = false;
    for (const auto& s : gen.stop) {
      const size_t at = res.text.find(s);
      if (at != std::string::npos) {
        res.text.resize(at);
        stopped = true;
      }
    }
    if (stopped) {
      res.finish_reason = "stop";
      break;
    }
    if (on_text) {
      const size_t hold = std::max(stop_holdback(res.text, gen.stop), incomplete_utf8_tail(res.text));
      if (res.text.size() - hold > streamed) {
        on_text(res.text.substr(streamed, res.text.size() - hold - streamed));
        streamed = res.text.size() - hold;
      }
    }
    if (i + 1 == gen.max_new_tokens || cache.size() >= cache.capacity()) break;
    model.forward(&next, 1, cache, logits.data(), 1);
  }
  if (res.finish_reason != "stop") {  // final text without the ending EOS token
    std::vector<int32_t> text_ids(res.tokens);
    if (res.finish_reason == "eos") text_ids.pop_back();
    res.text = tok.decode(text_ids, /*skip_special=*/true);
  }
  if (on_text && res.text.size() > streamed) on_text(res.text.substr(streamed));
  res.decode_seconds = seconds_since(t0);
  return res;
}

}  // namespace tsft
