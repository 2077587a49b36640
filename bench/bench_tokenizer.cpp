// Tokenizer throughput, one thread: MB/s of UTF-8 text encoded with SmolLM2's tokenizer, on a
// text built from the hard test corpus (tests/data/tokenizer_corpus.txt, repeated). Compare with
// tools/bench_hf_tokenizer.py, which times Hugging Face `tokenizers` on the same text.
//
//   build/bench/bench_tokenizer [--tokenizer tests/data/smollm2/tokenizer.json] [--mb 8]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "tokenizer/tokenizer.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string tok_path = "tests/data/smollm2/tokenizer.json";
  std::string corpus = "tests/data/tokenizer_corpus.txt";
  double mb = 8.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tokenizer")) tok_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    else if (!std::strcmp(argv[i], "--mb")) mb = std::atof(argv[i + 1]);
  }
  try {
    tsft::set_num_threads(1);
    const tsft::Tokenizer tok = tsft::Tokenizer::from_json_file(tok_path);
    // The corpus holds one JSON string per line; documents are lines joined by newlines.
    std::ifstream in(corpus);
    if (!in) tsft::fail(corpus, ": cannot open");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(nlohmann::json::parse(line).get<std::string>());
    std::string text;
    while (text.size() < mb * 1e6)
      for (const auto& l : lines) text += l + "\n";
    // Encode in documents of ~4 KB as a data loader would (and as the HF script does).
    std::vector<std::string> docs;
    for (size_t at = 0; at < text.size();) {
      size_t end = std::min(text.size(), at + 4096);
      while (end < text.size() && text[end] != '\n') ++end;
      docs.push_back(text.substr(at, end - at));
      at = end;
    }
    size_t n_ids = 0;
    for (const auto& d : docs) n_ids += tok.encode(d).size();  // warm-up: fills the BPE cache
    double best = 1e30;
    for (int r = 0; r < 3; ++r) {
      const double t0 = now();
      n_ids = 0;
      for (const auto& d : docs) n_ids += tok.encode(d).size();
      best = std::min(best, now() - t0);
    }
    std::printf("| tokenizer | text (MB) | ids | MB/s (1 thread) | Mtokens/s |\n|---|---|---|---|---|\n");
    std::printf("| toolsft %s | %.1f | %zu | %.1f | %.2f |\n", tok_path.c_str(), text.size() / 1e6,
                n_ids, text.size() / 1e6 / best, n_ids / 1e6 / best);
  } catch (const tsft::Error& e) {
    std::fprintf(stderr, "bench_tokenizer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
