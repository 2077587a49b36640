#include "data/sft_dataset.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "chat/chat_format.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/dataset_rows.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;
using LossOn = SftLoadOptions::LossOn;

constexpr size_t kKeptErrors = 5;

// --- tokenizing one row ---------------------------------------------------------------------

// The text that opens an assistant turn ("<|im_start|>assistant\n"): what the generation prompt
// adds to a conversation. Empty when the template will not say.
std::string assistant_header(const ChatFormat& chat) {
  try {
    const ordered_json probe = ordered_json::array({{{"role", "user"}, {"content", "x"}}});
    const std::string plain = chat.render(probe, ordered_json(), false);
    const std::string gen = chat.render(probe, ordered_json(), true);
    if (gen.size() > plain.size() && gen.compare(0, plain.size(), plain) == 0)
      return gen.substr(plain.size());
  } catch (const Error&) {
  }
  return "";
}

struct Encoder {
  const Tokenizer& tok;
  const ChatFormat* chat;
  const SftLoadOptions& opt;
  std::string header;  // assistant_header(*chat)

  void push(SftExample& ex, const std::vector<int32_t>& ids, uint8_t mask) const {
    ex.ids.insert(ex.ids.end(), ids.begin(), ids.end());
    ex.loss_mask.insert(ex.loss_mask.end(), ids.size(), mask);
  }
  void start(SftExample& ex) const {
    if (tok.add_bos() && tok.bos_id() >= 0) push(ex, {tok.bos_id()}, 0);
  }
  void finish_with_eos(const DatasetRow& r, SftExample& ex) const {
    if (!opt.add_eos) return;
    if (tok.eos_id() < 0) row_error(r, "add_eos", "the tokenizer has no EOS token");
    // The EOS is a target whatever the pad id is: batches carry no padding to confuse it with.
    if (ex.ids.empty() || ex.ids.back() != tok.eos_id())
      push(ex, {tok.eos_id()}, 1);
    else
      ex.loss_mask.back() = 1;
  }

  SftExample prompt_completion(const DatasetRow& r) const {
    const bool all = opt.loss_on == LossOn::kAll;
    SftExample ex;
    start(ex);
    push(ex, tok.encode(r.prompt), all);
    push(ex, tok.encode(r.completion), 1);
    finish_with_eos(r, ex);
    return ex;
  }

  SftExample text(const DatasetRow& r) const {
    if (opt.loss_on == LossOn::kAssistant || opt.loss_on == LossOn::kCompletion)
      row_error(r, "text", "a text row has no prompt/answer split to put the loss on (use loss on all)");
    SftExample ex;
    start(ex);
    push(ex, tok.encode(r.text), 1);
    finish_with_eos(r, ex);
    return ex;
  }

  SftExample conversation(const DatasetRow& r) const {
    const char* field = "messages";
    if (!chat) row_error(r, field, "chat rows need the model's chat template, and there is none");
    RenderedConversation conv;
    try {
      conv = chat->render_with_spans(r.messages, r.tools);
    } catch (const Error& e) {
      row_error(r, field, e.what());
    }
    // The span of each assistant turn should already end with its end-of-turn marker; when the
    // template put it just after the span instead, it is still the assistant's to learn (it is
    // how generation stops), so the span grows over it.
    const std::string& eot = chat->end_of_turn();
    if (!eot.empty())
      for (TextSpan& s : conv.assistant)
        if (conv.text.compare(s.end, eot.size(), eot) == 0) s.end += eot.size();
    // A span found by its text can start inside the turn header (Qwen3 re-renders earlier replies
    // without their <think> block, and the match then begins at the header's "\n"). The header is
    // prompt, not reply: at serving time it is already there, so it carries no loss.
    for (TextSpan& s : conv.assistant)
      for (size_t j = header.empty() ? 0 : std::min(header.size() - 1, s.end - s.begin); j >= 1;
           --j)
        if (s.begin + j >= header.size() &&
            conv.text.compare(s.begin + j - header.size(), header.size(), header) == 0) {
          s.begin += j;
          break;
        }
    TokenizedConversation t;
    try {
      t = tokenize_conversation(conv, tok);
    } catch (const Error& e) {
      row_error(r, field, e.what());
    }
    SftExample ex;
    ex.ids = std::move(t.ids);
    if (opt.loss_on == LossOn::kAll)
      ex.loss_mask.assign(ex.ids.size(), 1);
    else
      ex.loss_mask = std::move(t.assistant_mask);
    return ex;
  }

  SftExample row(const DatasetRow& r) const {
    SftExample ex;
    switch (r.kind) {
      case DatasetRow::Kind::kChat: ex = conversation(r); break;
      case DatasetRow::Kind::kPromptCompletion: ex = prompt_completion(r); break;
      case DatasetRow::Kind::kText: ex = text(r); break;
    }
    if (!ex.loss_mask.empty()) ex.loss_mask[0] = 0;  // nothing comes before it to predict it
    return ex;
  }
};

int64_t count_loss(const SftExample& ex) {
  return std::count(ex.loss_mask.begin(), ex.loss_mask.end(), uint8_t{1});
}

}  // namespace

std::vector<SftExample> load_sft_dataset(const std::string& path, const Tokenizer& tok,
                                         const ChatFormat* chat, const SftLoadOptions& opt,
                                         SftLoadStats* stats_out) {
  if (opt.max_seq_len < 2) fail("max_seq_len must be at least 2, got ", opt.max_seq_len);
  DatasetReadOptions ro;
  ro.skip_invalid = opt.skip_invalid;
  ro.tools = opt.tools;
  DatasetReadStats rs;
  const std::vector<DatasetRow> rows = read_dataset(path, ro, &rs);
  SftLoadStats stats;
  stats.rows = rs.rows;
  stats.skipped_invalid = rs.skipped_invalid;
  stats.first_errors = rs.first_errors;
  std::vector<SftExample> out;
  const Encoder enc{tok, chat, opt, chat ? assistant_header(*chat) : std::string()};
  for (const DatasetRow& r : rows) {
    SftExample ex;
    try {
      ex = enc.row(r);
    } catch (const Error& e) {
      if (!opt.skip_invalid) throw;
      ++stats.skipped_invalid;
      if (stats.first_errors.size() < kKeptErrors) stats.first_errors.push_back(e.what());
      continue;
    }
    ex.source_line = r.line;
    if (count_loss(ex) == 0) {
      ++stats.no_loss_tokens;
      continue;
    }
    if (static_cast<int64_t>(ex.ids.size()) > opt.max_seq_len) {
      if (opt.truncation == SftLoadOptions::Truncation::kDrop) {
        ++stats.dropped_too_long;
        continue;
      }
      ex.ids.resize(opt.max_seq_len);
      ex.loss_mask.resize(opt.max_seq_len);
      if (count_loss(ex) == 0) {
        ++stats.dropped_too_long;
        continue;
      }
      ++stats.truncated;
    }
    ++stats.kept;
    stats.tokens += static_cast<int64_t>(ex.ids.size());
    stats.loss_tokens += count_loss(ex);
    out.push_back(std::move(ex));
  }
  if (stats_out) *stats_out = stats;
  if (out.empty())
    fail(path, ": no example left to train on (", stats.rows, " rows: ", stats.dropped_too_long,
         " too long, ", stats.skipped_invalid, " invalid, ", stats.no_loss_tokens,
         " with no loss tokens)");
  return out;
}

SftRowEncoder::SftRowEncoder(const Tokenizer& tok, const ChatFormat* chat, SftLoadOptions opt)
    : tok_(tok), chat_(chat), opt_(std::move(opt)),
      header_(chat ? assistant_header(*chat) : std::string()) {}

SftExample SftRowEncoder::encode(const DatasetRow& row) const {
  const Encoder enc{tok_, chat_, opt_, header_};
  SftExample ex = enc.row(row);
  ex.source_line = row.line;
  return ex;
}

SftSplit split_train_eval(const std::vector<SftExample>& examples, double fraction, int64_t count,
                          uint64_t seed) {
  const int64_t n = static_cast<int64_t>(examples.size());
  if (count < 0) fail("eval count must not be negative, got ", count);
  if (count == 0 && !(fraction >= 0.0 && fraction < 1.0))
    fail("eval fraction must be in [0, 1), got ", fraction);
  const int64_t n_eval = count > 0 ? count : static_cast<int64_t>(std::llround(fraction * n));
  if (n_eval >= n && n_eval > 0)
    fail("eval split of ", n_eval, " examples leaves none of the ", n, " to train on");
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  for (int64_t i = n; i > 1; --i) {
    const int64_t j =
        static_cast<int64_t>((static_cast<unsigned __int128>(rng.next_u64()) * i) >> 64);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<uint8_t> is_eval(n, 0);
  for (int64_t k = 0; k < n_eval; ++k) is_eval[order[k]] = 1;
  SftSplit s;
  for (int64_t i = 0; i < n; ++i) (is_eval[i] ? s.eval : s.train).push_back(examples[i]);
  return s;
}

}  // namespace tsft
