// Tool-selection evaluation: examples read from a dataset (the expected tool is each row's
// answer), scored by every candidate tool's log-probability in batched tree forwards over a shared
// prompt prefix, or by generating the answer; both feed ClassificationMetrics.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/classification_metrics.h"

namespace tsft {

class ChatFormat;
class Tokenizer;
class Transformer;
struct DatasetRow;

struct SelectionTaskOptions {
  // The candidate tools; empty = every distinct answer in the dataset, sorted.
  std::vector<std::string> labels;
  // Text before the tool name in every answer (e.g. a sentinel token), stripped from labels.
  std::string sentinel;
  int64_t max_examples = 0;  // 0 = all
};

struct SelectionExample {
  std::string where;   // FILE:LINE
  std::string prompt;  // the request as a person reads it (for the error sample)
  std::vector<int32_t> prompt_ids;
  // Per label, the tokens the model writes to answer it, as training sees them (the answer, then
  // EOS or the template's end of turn).
  std::vector<std::vector<int32_t>> answer_ids;
  int expected = 0;  // index into labels
};

struct SelectionTask {
  std::vector<std::string> labels;
  std::vector<SelectionExample> examples;
  std::vector<int32_t> shared_prefix;  // the longest token prefix every prompt starts with
};

// Rows must be prompt/completion (the completion is the answer) or chat rows ending in an
// assistant text reply (the answer). tsft::Error naming the row for anything else, an answer
// that is not among explicit labels, or fewer than two labels.
SelectionTask build_selection_task(const std::vector<DatasetRow>& rows, const Tokenizer& tok,
                                   const ChatFormat* chat, const SelectionTaskOptions& opt);

struct SelectionRunOptions {
  int64_t batch_tokens = 1024;   // scoring: tokens per tree forward
  int64_t max_new_tokens = 0;    // generation: 0 = the longest answer + 8
  std::vector<int32_t> eos_ids;  // generation stops at these
  ClassificationOptions metrics;
  // Called after each example (done, total) for progress display; may be empty.
  std::function<void(int64_t, int64_t)> on_progress;
};

// The label a generated text names: trimmed, the sentinel stripped; -1 when it names none.
int label_of_output(const std::string& text, const std::vector<std::string>& labels,
                    const std::string& sentinel);

ClassificationReport run_selection_scoring(Transformer& model, const SelectionTask& task,
                                           const SelectionRunOptions& opt);
ClassificationReport run_selection_generation(Transformer& model, const Tokenizer& tok,
                                              const SelectionTask& task,
                                              const std::string& sentinel,
                                              const SelectionRunOptions& opt);

}  // namespace tsft
