// BPE merging on a linked list of symbols with a min-heap of candidate merges, so long pieces
// (minified code, runs of punctuation) stay O(n log n) instead of quadratic.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <mutex>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"

namespace tsft {

// Sharded so that many encoding threads rarely wait on one lock. Long pieces are not cached:
// they are rare and would fill the cache with one-off entries.
struct BpeModel::Cache {
  static constexpr size_t kShards = 32;
  static constexpr size_t kMaxPerShard = 4096;
  static constexpr size_t kMaxPieceBytes = 64;
  // Transparent hashing: look up by string_view without building a std::string per piece.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
  };
  std::array<Shard, kShards> shards;

  Shard& shard_for(std::string_view key) {
    return shards[std::hash<std::string_view>{}(key) % kShards];
  }
};

BpeModel::BpeModel(const std::vector<std::string>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, int32_t unk_id,
                   bool fuse_unk, bool ignore_merges, const std::string& where,
                   bool char_level, bool byte_fallback)
    : char_level_(char_level),
      byte_fallback_(byte_fallback),
      unk_id_(unk_id),
      fuse_unk_(fuse_unk),
      ignore_merges_(ignore_merges),
      cache_(std::make_unique<Cache>()) {
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(vocab.size() * 2);
  for (size_t i = 0; i < vocab.size(); ++i)
    ids[vocab[i]] = static_cast<int32_t>(i);  // later wins, as a dict

  byte_ids_.fill(-1);
  fallback_ids_.fill(-1);
  if (char_level_) {
    static const char* kHex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const std::string name = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
      auto it = ids.find(name);
      if (it != ids.end()) fallback_ids_[b] = it->second;
    }
    for (const auto& [tok, id] : ids) char_ids_.emplace(std::string(tok), id);
  }
  for (int b = 0; b < 256 && !char_level_; ++b) {
    auto it = ids.find(byte_level::encode(std::string(1, static_cast<char>(b))));
    if (it != ids.end()) byte_ids_[b] = it->second;
  }

  merges_.reserve(merges.size() * 2);
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = ids.find(a), ib = ids.find(b);
    if (ia == ids.end() || ib == ids.end())
      fail(where, ": merge ", rank, " '", a, " ", b,
           "' uses a token that is not in the vocabulary");
    joined = a + b;
    auto ij = ids.find(joined);
    if (ij == ids.end())
      fail(where, ": merge ", rank, " '", a, " ", b, "' makes '", joined,
           "', which is not in the vocabulary");
    uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(ia->second)) << 32) |
                   static_cast<uint32_t>(ib->second);
    merges_.insert_or_assign(
        key, Merge{static_cast<int32_t>(rank), ij->second});  // later wins, as HF's map
  }

  if (ignore_merges_) {
    for (size_t i = 0; i < vocab.size(); ++i) {
      if (char_level_) {
        raw_vocab_[vocab[i]] = static_cast<int32_t>(i);
      } else if (auto raw = byte_level::decode_token(vocab[i])) {
        raw_vocab_[*raw] = static_cast<int32_t>(i);
      }
    }
  }
}

BpeModel::~BpeModel() = default;

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    auto it = raw_vocab_.find(std::string(piece));
    if (it != raw_vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (!char_level_ && piece.size() == 1 && byte_ids_[static_cast<uint8_t>(piece[0])] >= 0) {
    out.push_back(byte_ids_[static_cast<uint8_t>(piece[0])]);
    return;
  }
  if (piece.size() > Cache::kMaxPieceBytes) {
    merge_word(piece, out);
    return;
  }
  Cache::Shard& shard = cache_->shard_for(piece);
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.map.find(piece);
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  merge_word(piece, out);
  std::vector<int32_t> ids(out.begin() + first, out.end());
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.size() >= Cache::kMaxPerShard) shard.map.clear();
  shard.map.emplace(std::string(piece), std::move(ids));
}

void BpeModel::merge_word(std::string_view piece, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // -1 at the ends
    bool alive;
  };
  struct Candidate {
    int32_t rank, pos, new_id;
    // std heaps are max-heaps: invert so the lowest rank, then lowest pos, is on top.
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Candidate> heap;  // a binary heap via std::push_heap/pop_heap
  syms.clear();
  heap.clear();

  auto add = [&](int32_t id) {
    syms.push_back(
        {id, static_cast<int32_t>(syms.size()) - 1, static_cast<int32_t>(syms.size()) + 1, true});
  };
  if (!char_level_) {
    // One symbol per byte; bytes missing from the vocabulary become unk (fused if asked) or,
    // with no unk token, vanish, as in HF.
    for (char ch : piece) {
      int32_t id = byte_ids_[static_cast<uint8_t>(ch)];
      if (id < 0) {
        if (unk_id_ < 0) continue;
        if (fuse_unk_ && !syms.empty() && syms.back().id == unk_id_) continue;
        id = unk_id_;
      }
      add(id);
    }
  } else {
    // One symbol per character, as HF's merge_word. A pending unk is added when the next known
    // character comes, not before byte-fallback tokens: HF puts it after them, and so do we.
    bool pending_unk = false;
    for (size_t pos = 0; pos < piece.size();) {
      uint32_t cp;
      const int n = unicode::decode_utf8(piece, pos, &cp);
      const std::string_view ch = piece.substr(pos, n);
      pos += n;
      auto it = char_ids_.find(std::string(ch));
      if (it != char_ids_.end()) {
        if (pending_unk) add(unk_id_);
        pending_unk = false;
        add(it->second);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (char b : ch) all = all && fallback_ids_[static_cast<uint8_t>(b)] >= 0;
        if (all) {
          for (char b : ch) add(fallback_ids_[static_cast<uint8_t>(b)]);
          continue;
        }
      }
      if (unk_id_ < 0) continue;
      if (pending_unk && !fuse_unk_) add(unk_id_);
      pending_unk = true;
    }
    if (pending_unk) add(unk_id_);
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  auto push = [&](Candidate c) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end());
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) {
    if (const Merge* m = find_merge(syms[i].id, syms[i + 1].id)) push({m->rank, i, m->new_id});
  }
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = syms[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = syms[left.next];
    const Merge* m = find_merge(left.id, right.id);
    if (!m || m->new_id != top.new_id) continue;  // stale: a neighbour changed since the push
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const Merge* pm = find_merge(syms[left.prev].id, left.id))
        push({pm->rank, left.prev, pm->new_id});
    }
    if (left.next >= 0) {
      if (const Merge* nm = find_merge(left.id, syms[left.next].id))
        push({nm->rank, top.pos, nm->new_id});
    }
  }
  for (int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
  if (syms.capacity() > (size_t{1} << 16)) syms = {};  // keep no huge buffers per thread
  if (heap.capacity() > (size_t{1} << 16)) heap = {};
}

}  // namespace tsft
