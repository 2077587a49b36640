// BPE model (byte-level, or SentencePiece-style with byte fallback): merges applied by rank (lowest first, leftmost among equals) exactly as
// HF tokenizers' BPE::merge_word, with a thread-safe cache of encoded pieces.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tsft {

class BpeModel {
 public:
  // vocab: id -> token in the byte-level alphabet; merges in rank order. `where` names the
  // source (file and field) for error messages. Throws tsft::Error for merges whose parts or
  // result are not in the vocabulary.
  // char_level: SentencePiece-style vocab (tokens are plain text): a piece starts as one symbol
  // per UTF-8 character; one with no token becomes its <0xNN> tokens when byte_fallback is set,
  // else unk (or nothing without unk), as HF's BPE::merge_word.
  BpeModel(const std::vector<std::string>& vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, int32_t unk_id,
           bool fuse_unk, bool ignore_merges, const std::string& where, bool char_level = false,
           bool byte_fallback = false);
  ~BpeModel();

  // Appends the ids of one pre-tokenized piece given as raw bytes.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  struct Cache;

  void merge_word(std::string_view piece, std::vector<int32_t>& out) const;
  const Merge* find_merge(int32_t a, int32_t b) const {
    auto it = merges_.find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) |
                           static_cast<uint32_t>(b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  std::array<int32_t, 256> byte_ids_{};                 // id of each single byte, -1 if none
  std::unordered_map<uint64_t, Merge> merges_;          // (left id, right id) -> merge
  std::unordered_map<std::string, int32_t> raw_vocab_;  // raw bytes -> id (ignore_merges only)
  std::unordered_map<std::string, int32_t> char_ids_;  // one-character tokens (char_level)
  std::array<int32_t, 256> fallback_ids_{};             // id of <0xNN>, -1 if none
  bool char_level_ = false;
  bool byte_fallback_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  std::unique_ptr<Cache> cache_;
};

}  // namespace tsft
