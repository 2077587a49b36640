#include "model/text_stream.h"

#include <algorithm>

#include "core/error.h"

namespace tsft {
namespace {

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

size_t partial_match_suffix(const std::string& text, const std::vector<std::string>& strings) {
  size_t hold = 0;
  for (const auto& s : strings)
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  return hold;
}

TextStream::TextStream(const Tokenizer& tok, std::vector<std::string> stop,
                       std::vector<int32_t> eos_ids, bool stop_at_eos)
    : tok_(tok), stop_(std::move(stop)), eos_ids_(std::move(eos_ids)), stop_at_eos_(stop_at_eos) {
  for (const auto& s : stop_)
    if (s.empty()) fail("stop strings must not be empty");
}

std::string TextStream::push(int32_t token) {
  if (finished()) return {};
  tokens_.push_back(token);
  if (stop_at_eos_ && std::find(eos_ids_.begin(), eos_ids_.end(), token) != eos_ids_.end()) {
    std::vector<int32_t> text_ids(tokens_.begin(), tokens_.end() - 1);
    text_ = tok_.decode(text_ids, /*skip_special=*/true);
    finish_reason_ = "eos";
    return close("eos");
  }
  text_ = tok_.decode(tokens_, /*skip_special=*/true);
  bool stopped = false;
  for (const auto& s : stop_) {
    const size_t at = text_.find(s);
    if (at != std::string::npos) {
      text_.resize(at);
      stopped = true;
    }
  }
  if (stopped) {
    finish_reason_ = "stop";
    return close("stop");
  }
  const size_t hold = std::max(partial_match_suffix(text_, stop_), incomplete_utf8_tail(text_));
  if (text_.size() - hold <= streamed_) return {};
  std::string out = text_.substr(streamed_, text_.size() - hold - streamed_);
  streamed_ = text_.size() - hold;
  return out;
}

std::string TextStream::close(const std::string& reason) {
  if (finish_reason_.empty()) finish_reason_ = reason;
  if (text_.size() <= streamed_) return {};
  std::string out = text_.substr(streamed_);
  streamed_ = text_.size();
  return out;
}

}  // namespace tsft
