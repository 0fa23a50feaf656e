// One step's worth of tokens for the forward pass: tokens of any number of sequences, each
// with its position in its sequence. A sequence's prompt chunk and another's single decode
// token travel in the same batch — there is no separate prefill or decode mode.
#pragma once
#include <cstdint>
#include <vector>

namespace hearth {

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> seq_ids;
  std::vector<uint8_t> want_logits;  // 1: return this token's logits

  void add(int32_t token, int32_t position, int32_t seq, bool logits) {
    tokens.push_back(token);
    positions.push_back(position);
    seq_ids.push_back(seq);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() {
    tokens.clear();
    positions.clear();
    seq_ids.clear();
    want_logits.clear();
  }
  int64_t size() const { return static_cast<int64_t>(tokens.size()); }
  int64_t n_outputs() const {
    int64_t n = 0;
    for (auto w : want_logits) n += w;
    return n;
  }
};

}  // namespace hearth
