// WordPiece (BERT), with the Hugging Face tokenizers library's semantics: a word is cut
// greedily into the longest pieces in the vocabulary, pieces after the first carrying the
// continuing-subword prefix ("##"); a word that cannot be covered, or longer than
// max_input_chars_per_word characters, becomes the single unknown token.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/string_map.h"

namespace hearth::tok {

class WordPieceModel : public Model {
 public:
  // Throws hearth::Error when `unk_token` is not in the vocabulary.
  WordPieceModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
                 const std::string& unk_token, std::string continuing_subword_prefix,
                 size_t max_input_chars_per_word);

  void encode(std::string_view word, std::vector<int32_t>& out) const override;

 private:
  StringIdMap vocab_;
  std::string prefix_;
  size_t max_chars_;
  int32_t unk_ = -1;
};

}  // namespace hearth::tok
