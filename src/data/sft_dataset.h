// Training files -> SftExamples: the rows of data/dataset_rows.h, each rendered (chat rows with the
// model's own template) and tokenized with its loss mask. Every mistake in a row is a tsft::Error
// naming FILE:LINE and field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/sft_example.h"

namespace tsft {

class ChatFormat;
class Tokenizer;

struct SftLoadOptions {
  int64_t max_seq_len = 512;
  // Sequences longer than max_seq_len: dropped, or cut from the right (and dropped if no loss
  // token is left).
  enum class Truncation { kDrop, kTruncate } truncation = Truncation::kDrop;
  // kAuto: completion for prompt/completion rows, every token for text rows, assistant turns for
  // chat rows. kAssistant / kCompletion: the answer part (assistant turns or completion); text
  // rows have none and are an error. kAll: every token of every row.
  enum class LossOn { kAuto, kAssistant, kCompletion, kAll } loss_on = LossOn::kAuto;
  bool add_eos = true;        // after prompt/completion and text rows (chat rows end with the
                              // template's own end-of-turn)
  bool skip_invalid = false;  // count and skip bad rows instead of throwing
  // Tools offered to every chat row that has none of its own (see data/dataset_rows.h); null =
  // none.
  nlohmann::ordered_json tools;
};

struct SftLoadStats {
  int64_t rows = 0;  // non-blank rows read
  int64_t kept = 0;
  int64_t dropped_too_long = 0;  // over max_seq_len (kDrop), or truncated to no loss token
  int64_t truncated = 0;
  int64_t skipped_invalid = 0;            // skip_invalid only
  int64_t no_loss_tokens = 0;             // valid rows with nothing to train on (dropped)
  int64_t tokens = 0, loss_tokens = 0;    // over the kept examples
  std::vector<std::string> first_errors;  // the first 5 skipped rows' messages
};

// `chat` may be null when the file has no chat rows. `stats` may be null. Throws tsft::Error for an
// unreadable or empty file, a bad row (unless skip_invalid), or when no row is left.
std::vector<SftExample> load_sft_dataset(const std::string& path, const Tokenizer& tok,
                                         const ChatFormat* chat, const SftLoadOptions& opt,
                                         SftLoadStats* stats);

struct DatasetRow;

// One row -> its tokens and loss mask, exactly as load_sft_dataset makes them (no length limit
// applied); evaluation uses it to see a prompt and its answer as training did. tsft::Error
// naming the row for what cannot be rendered.
class SftRowEncoder {
 public:
  SftRowEncoder(const Tokenizer& tok, const ChatFormat* chat, SftLoadOptions opt);
  SftExample encode(const DatasetRow& row) const;

 private:
  const Tokenizer& tok_;
  const ChatFormat* chat_;
  SftLoadOptions opt_;
  std::string header_;  // the template's assistant-turn opener
};

struct SftSplit {
  std::vector<SftExample> train, eval;
};

// A seeded split: `count` examples go to eval when count > 0, else round(fraction * size).
// Both sides keep the file order. Throws tsft::Error when eval would take every example.
SftSplit split_train_eval(const std::vector<SftExample>& examples, double fraction, int64_t count,
                          uint64_t seed);

}  // namespace tsft
