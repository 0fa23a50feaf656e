#include "tokenizer/wordpiece.h"

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

WordPieceModel::WordPieceModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
                               const std::string& unk_token, std::string continuing_subword_prefix,
                               size_t max_input_chars_per_word)
    : prefix_(std::move(continuing_subword_prefix)), max_chars_(max_input_chars_per_word) {
  for (const auto& [text, id] : vocab) vocab_.insert(text, id);
  unk_ = vocab_.find(unk_token);
  if (unk_ < 0) fail("the WordPiece unk_token '{}' is not in the vocabulary", unk_token);
}

void WordPieceModel::encode(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  // Character boundaries, to shorten candidates one character at a time.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size();) {
    bounds.push_back(i);
    size_t n = 0;
    utf8::decode_at(word, i, n);
    i += n;
  }
  if (bounds.size() > max_chars_) {
    out.push_back(unk_);
    return;
  }
  bounds.push_back(word.size());

  const size_t first = out.size();
  std::string candidate;
  for (size_t s = 0; s + 1 < bounds.size();) {
    int32_t id = -1;
    size_t e = bounds.size() - 1;
    for (; e > s; --e) {
      const std::string_view sub = word.substr(bounds[s], bounds[e] - bounds[s]);
      if (s > 0) {
        candidate = prefix_;
        candidate.append(sub);
      }
      id = vocab_.find(s > 0 ? std::string_view(candidate) : sub);
      if (id >= 0) break;
    }
    if (id < 0) {  // some part cannot be covered: the whole word is unknown
      out.resize(first);
      out.push_back(unk_);
      return;
    }
    out.push_back(id);
    s = e;
  }
}

}  // namespace hearth::tok
