// The Unigram language model of SentencePiece (T5, ALBERT, XLNet ... as tokenizer.json
// "Unigram"), with the Hugging Face tokenizers library's semantics: the segmentation with
// the highest total log-probability wins (Viterbi); characters no piece covers get the unk
// piece with a score 10 below the lowest one, consecutive unknowns are fused into one unk
// token, and with byte_fallback an unknown stretch becomes <0xXX> byte tokens instead.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/string_map.h"

namespace hearth::tok {

class UnigramModel : public Model {
 public:
  // `pieces`: (text, log-probability) with id = position. unk_id: -1 for none (then text no
  // piece covers throws hearth::Error at encode time, as the HF library does).
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, int32_t unk_id,
               bool byte_fallback);

  void encode(std::string_view piece, std::vector<int32_t>& out) const override;

 private:
  int32_t find(std::string_view text) const;
  void emit(std::string_view text, std::vector<int32_t>& out) const;

  std::vector<double> scores_;
  StringIdMap ids_;
  size_t max_piece_bytes_ = 0;
  double unk_score_ = 0;
  int32_t unk_ = -1;
  bool byte_fallback_ = false;
};

}  // namespace hearth::tok
