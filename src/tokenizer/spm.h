// The model of SentencePiece BPE vocabularies that come without a merge list (GGUF
// tokenizer.ggml.model "llama": Llama 1/2, Mistral v0.1, Phi-3, TinyLlama, llama2.c stories
// ...), matching llama.cpp's llm_tokenizer_spm and, through it, the SentencePiece library.
// The rest of their pipeline (the "▁" normalizer, the decoders) is generic: gguf_pipeline.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/string_map.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

// SentencePiece spells spaces as U+2581 "▁" inside tokens.
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

// BPE over token scores: start from single UTF-8 characters and repeatedly merge the
// adjacent pair whose concatenation is a token with the highest score (ties: leftmost).
// Characters no token covers become byte tokens <0xXX>, or the unknown token when the
// vocabulary has no byte tokens.
class SpmBpeModel : public Model {
 public:
  explicit SpmBpeModel(const Vocab& vocab);  // types already final
  void encode(std::string_view normalized, std::vector<int32_t>& out) const override;

 private:
  int32_t find(std::string_view text) const;
  void append_unknown_char(std::string_view ch, std::vector<int32_t>& out) const;

  StringIdMap ids_;  // mergeable tokens
  std::vector<float> scores_;
  std::array<int32_t, 256> byte_tokens_;  // -1 where the vocabulary lacks <0xXX>
  int32_t unk_ = -1;
};

// The byte a token text "<0xXX>" stands for, or -1.
int parse_byte_token(std::string_view text);

}  // namespace hearth::tok
