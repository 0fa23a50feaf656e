#include "tokenizer/unigram.h"

#include <algorithm>
#include <fmt/format.h>
#include <limits>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

constexpr double kUnknownPenalty = 10.0;  // SentencePiece's kUnkPenalty

struct BestPath {
  double score = 0;
  int32_t id = -1;
  int64_t start = -1;  // -1: no path ends here yet
};

}  // namespace

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, int32_t unk_id,
                           bool byte_fallback)
    : unk_(unk_id), byte_fallback_(byte_fallback) {
  if (pieces.empty()) fail("the Unigram model has no pieces");
  if (unk_id >= static_cast<int64_t>(pieces.size())) {
    fail("the Unigram unk_id {} is outside its {} pieces", unk_id, pieces.size());
  }
  double min_score = std::numeric_limits<double>::infinity();
  scores_.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    auto& [text, score] = pieces[i];
    scores_.push_back(score);
    min_score = std::min(min_score, score);
    max_piece_bytes_ = std::max(max_piece_bytes_, text.size());
    ids_.insert(text, static_cast<int32_t>(i), /*overwrite=*/true);  // later duplicates win, as in HF
  }
  unk_score_ = min_score - kUnknownPenalty;
}

int32_t UnigramModel::find(std::string_view text) const { return ids_.find(text); }

void UnigramModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  // best[e]: the best segmentation of text[0, e), through its last piece.
  std::vector<BestPath> best(text.size() + 1);
  best[0].start = 0;
  for (size_t start = 0; start < text.size();) {
    size_t char_len = 0;
    utf8::decode_at(text, start, char_len);
    const double base = best[start].score;
    bool single_char_piece = false;
    // Candidate pieces are the prefixes of the rest; shorter ones are tried first and keep
    // ties (the HF trie search order).
    const size_t longest = std::min(max_piece_bytes_, text.size() - start);
    for (size_t len = 1; len <= longest; ++len) {
      const int32_t id = find(text.substr(start, len));
      if (id < 0) continue;
      BestPath& target = best[start + len];
      const double score = base + scores_[id];
      if (target.start < 0 || score > target.score) target = {score, id, static_cast<int64_t>(start)};
      if (len == char_len) single_char_piece = true;
    }
    if (!single_char_piece) {
      if (unk_ < 0) {
        fail("cannot tokenize '{}': no Unigram piece covers it and the model has no unk_id",
             text.substr(start, char_len));
      }
      BestPath& target = best[start + char_len];
      const double score = base + unk_score_;
      if (target.start < 0 || score > target.score) target = {score, unk_, static_cast<int64_t>(start)};
    }
    start += char_len;
  }

  // Walk back from the end; runs of unknown pieces become one text.
  std::vector<std::pair<size_t, size_t>> pieces;  // [start, end), in reverse order
  bool previous_unknown = false;
  for (size_t end = text.size(); end > 0;) {
    const BestPath& node = best[end];
    const auto start = static_cast<size_t>(node.start);
    const bool unknown = node.id == unk_;
    if (unknown && previous_unknown) {
      pieces.back().first = start;
    } else {
      pieces.emplace_back(start, end);
    }
    previous_unknown = unknown;
    end = start;
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    emit(text.substr(it->first, it->second - it->first), out);
  }
}

void UnigramModel::emit(std::string_view piece, std::vector<int32_t>& out) const {
  const int32_t id = find(piece);
  if (id >= 0) {
    out.push_back(id);
    return;
  }
  if (byte_fallback_) {
    std::vector<int32_t> bytes;
    for (char c : piece) {
      const int32_t b = find(fmt::format("<0x{:02X}>", static_cast<uint8_t>(c)));
      if (b < 0) break;
      bytes.push_back(b);
    }
    if (bytes.size() == piece.size()) {
      out.insert(out.end(), bytes.begin(), bytes.end());
      return;
    }
  }
  out.push_back(unk_);
}

}  // namespace hearth::tok
