#include "eval/selection_eval.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "chat/chat_format.h"
#include "core/error.h"
#include "data/dataset_rows.h"
#include "data/sft_dataset.h"
#include "eval/prompt_split.h"
#include "model/generate.h"
#include "model/tree_forward.h"
#include "tokenizer/tokenizer.h"

namespace tsft {
namespace {

using nlohmann::ordered_json;

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::string strip_sentinel(std::string s, const std::string& sentinel) {
  s = trim(s);
  if (!sentinel.empty() && s.compare(0, sentinel.size(), sentinel) == 0)
    s = trim(s.substr(sentinel.size()));
  return s;
}

// The row's answer text (completion, or the last assistant reply) and the request as a person
// reads it.
std::pair<std::string, std::string> answer_and_request(const DatasetRow& r) {
  if (r.kind == DatasetRow::Kind::kPromptCompletion) return {r.completion, r.prompt};
  if (r.kind != DatasetRow::Kind::kChat)
    row_error(r, "text", "a text row has no answer to evaluate; use prompt/completion or chat rows");
  const ordered_json& last = r.messages.back();
  if (last["role"] != "assistant")
    row_error(r, "messages", "tool selection needs the conversation to end with the assistant's "
                             "answer (the tool name)");
  if (last.contains("tool_calls"))
    row_error(r, "messages", "tool selection expects the answer as text (the tool name), not "
                             "tool_calls; evaluate tool calls with --task tool-calling");
  std::string request;
  for (const auto& m : r.messages)
    if (m["role"] == "user") request = m["content"].get<std::string>();
  return {last["content"].get<std::string>(), request};
}

DatasetRow with_answer(const DatasetRow& r, const std::string& answer) {
  DatasetRow out = r;
  if (out.kind == DatasetRow::Kind::kPromptCompletion)
    out.completion = answer;
  else
    out.messages.back()["content"] = answer;
  return out;
}

std::vector<double> softmax(const std::vector<double>& logp) {
  const double mx = *std::max_element(logp.begin(), logp.end());
  std::vector<double> p(logp.size());
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += (p[i] = std::exp(logp[i] - mx));
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace

SelectionTask build_selection_task(const std::vector<DatasetRow>& rows, const Tokenizer& tok,
                                   const ChatFormat* chat, const SelectionTaskOptions& opt) {
  if (rows.empty()) fail("tool selection: the dataset has no rows");
  const size_t n = opt.max_examples > 0 ? std::min<size_t>(rows.size(), opt.max_examples)
                                        : rows.size();
  // Labels, and the answer text that spells each (the first row answering it; labels no row
  // answers are spelled as that first answer with its tool name swapped).
  std::vector<std::string> labels = opt.labels;
  std::map<std::string, std::string> spelling;
  std::vector<std::string> requests(n), row_labels(n);
  std::string first_answer, first_label;
  for (size_t i = 0; i < n; ++i) {
    const auto [answer, request] = answer_and_request(rows[i]);
    const std::string label = strip_sentinel(answer, opt.sentinel);
    if (label.empty()) row_error(rows[i], "answer", "empty tool name");
    row_labels[i] = label;
    spelling.emplace(label, answer);
    requests[i] = request;
    if (i == 0) first_answer = answer, first_label = label;
  }
  if (labels.empty())
    for (const auto& [label, _] : spelling) labels.push_back(label);
  std::set<std::string> seen;
  for (const std::string& l : labels)
    if (!seen.insert(l).second) fail("tool selection: label '", l, "' is given twice");
  if (labels.size() < 2)
    fail("tool selection needs at least two candidate tools; the dataset answers only '",
         labels.empty() ? "" : labels[0], "' (pass --labels)");
  std::vector<std::string> spelled(labels.size());
  const size_t at = first_answer.find(first_label);
  for (size_t k = 0; k < labels.size(); ++k) {
    const auto it = spelling.find(labels[k]);
    spelled[k] = it != spelling.end() ? it->second
                                      : first_answer.substr(0, at) + labels[k] +
                                            first_answer.substr(at + first_label.size());
  }

  SftLoadOptions lo;
  lo.loss_on = SftLoadOptions::LossOn::kAuto;
  const SftRowEncoder enc(tok, chat, lo);
  SelectionTask task;
  task.labels = labels;
  for (size_t i = 0; i < n; ++i) {
    const DatasetRow& r = rows[i];
    const std::string& label = row_labels[i];
    const auto li = std::find(labels.begin(), labels.end(), label);
    if (li == labels.end())
      row_error(r, "answer", "'" + label + "' is not one of the candidate tools");
    SelectionExample ex;
    ex.where = r.where;
    ex.prompt = requests[i];
    ex.expected = static_cast<int>(li - labels.begin());
    for (size_t k = 0; k < labels.size(); ++k) {
      const SftExample e = enc.encode(with_answer(r, spelled[k]));
      const auto [b, end] = last_loss_run(e);
      if (b == end) row_error(r, "answer", "no answer tokens after rendering");
      std::vector<int32_t> prompt(e.ids.begin(), e.ids.begin() + static_cast<long>(b));
      if (k == 0)
        ex.prompt_ids = std::move(prompt);
      else if (prompt != ex.prompt_ids)
        row_error(r, "answer", "the prompt tokenizes differently depending on the answer, so "
                               "candidates cannot share it");
      ex.answer_ids.emplace_back(e.ids.begin() + static_cast<long>(b),
                                 e.ids.begin() + static_cast<long>(end));
    }
    task.examples.push_back(std::move(ex));
  }
  std::vector<const std::vector<int32_t>*> prompts;
  for (const SelectionExample& ex : task.examples) prompts.push_back(&ex.prompt_ids);
  task.shared_prefix = shared_prompt_prefix(prompts);
  return task;
}

int label_of_output(const std::string& text, const std::vector<std::string>& labels,
                    const std::string& sentinel) {
  const std::string s = strip_sentinel(text, sentinel);
  const auto it = std::find(labels.begin(), labels.end(), s);
  return it == labels.end() ? -1 : static_cast<int>(it - labels.begin());
}

ClassificationReport run_selection_scoring(Transformer& model, const SelectionTask& task,
                                           const SelectionRunOptions& opt) {
  ClassificationOptions mo = opt.metrics;
  mo.mode = SelectionMode::kScoring;
  ClassificationMetrics metrics(task.labels, mo);
  const int64_t P = static_cast<int64_t>(task.shared_prefix.size());
  KvCache prefix = model.make_cache(std::max<int64_t>(P, 1));
  if (P > 0) {
    std::vector<float> logits(static_cast<size_t>(model.config().vocab));
    model.forward(task.shared_prefix.data(), P, prefix, logits.data(), 1);
  }
  TreeWorkspace ws;
  const int64_t n = static_cast<int64_t>(task.examples.size());
  std::vector<ScoringExample> batch;
  std::vector<int64_t> batch_index;
  int64_t batch_tokens = 0, done = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    const auto logp = score_candidates(model, prefix, P, nullptr, batch, ws);
    for (size_t b = 0; b < batch.size(); ++b) {
      const SelectionExample& ex = task.examples[static_cast<size_t>(batch_index[b])];
      const std::vector<double> p = softmax(logp[b]);
      const int pred = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
      metrics.add(ex.expected, pred, p, ex.prompt);
      if (opt.on_progress) opt.on_progress(++done, n);
    }
    batch.clear();
    batch_index.clear();
    batch_tokens = 0;
  };
  for (int64_t i = 0; i < n; ++i) {
    const SelectionExample& ex = task.examples[static_cast<size_t>(i)];
    ScoringExample se;
    se.prompt.assign(ex.prompt_ids.begin() + P, ex.prompt_ids.end());
    se.candidates = ex.answer_ids;
    int64_t tokens = static_cast<int64_t>(se.prompt.size());
    for (const auto& c : se.candidates) tokens += static_cast<int64_t>(c.size());
    if (batch_tokens > 0 && batch_tokens + tokens > opt.batch_tokens) flush();
    batch_tokens += tokens;
    batch.push_back(std::move(se));
    batch_index.push_back(i);
  }
  flush();
  return metrics.report();
}

ClassificationReport run_selection_generation(Transformer& model, const Tokenizer& tok,
                                              const SelectionTask& task,
                                              const std::string& sentinel,
                                              const SelectionRunOptions& opt) {
  ClassificationOptions mo = opt.metrics;
  mo.mode = SelectionMode::kGeneration;
  ClassificationMetrics metrics(task.labels, mo);
  const int64_t P = static_cast<int64_t>(task.shared_prefix.size());
  int64_t longest_answer = 0, longest_prompt = 0;
  for (const SelectionExample& ex : task.examples) {
    longest_prompt = std::max<int64_t>(longest_prompt, static_cast<int64_t>(ex.prompt_ids.size()));
    for (const auto& a : ex.answer_ids)
      longest_answer = std::max<int64_t>(longest_answer, static_cast<int64_t>(a.size()));
  }
  GenerationConfig gen;
  gen.max_new_tokens = opt.max_new_tokens > 0 ? opt.max_new_tokens : longest_answer + 8;
  gen.eos_ids = opt.eos_ids;
  KvCache cache = model.make_cache(longest_prompt + gen.max_new_tokens + 1);
  prefill_prefix(model, task.shared_prefix, cache);
  const int64_t n = static_cast<int64_t>(task.examples.size());
  for (int64_t i = 0; i < n; ++i) {
    const SelectionExample& ex = task.examples[static_cast<size_t>(i)];
    cache.truncate(P);  // the prefix's keys and values stay; later positions are overwritten
    const std::vector<int32_t> rest(ex.prompt_ids.begin() + P, ex.prompt_ids.end());
    const GenerationResult r = generate_after(model, tok, cache, rest, gen);
    metrics.add(ex.expected, label_of_output(r.text, task.labels, sentinel), {}, ex.prompt, r.text);
    if (opt.on_progress) opt.on_progress(i + 1, n);
  }
  return metrics.report();
}

}  // namespace tsft
