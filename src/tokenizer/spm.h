// The pipeline steps of SentencePiece BPE vocabularies (GGUF tokenizer.ggml.model "llama":
// Llama 1/2, Mistral v0.1, Phi-3, TinyLlama, llama2.c stories ...), matching llama.cpp's
// llm_tokenizer_spm and, through it, the SentencePiece library and HF's LlamaTokenizer.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/vocab.h"

namespace hearth::tok {

// SentencePiece spells spaces as U+2581 "▁" inside tokens.
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

// ' ' -> '▁', plus a leading '▁' when add_space_prefix is set (SentencePiece's
// add_dummy_prefix), so "Hello" and " Hello" mid-sentence both start with the word token.
class SpmNormalizer : public Normalizer {
 public:
  explicit SpmNormalizer(bool add_space_prefix) : add_space_prefix_(add_space_prefix) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  bool add_space_prefix_;
};

// BPE over token scores: start from single UTF-8 characters and repeatedly merge the
// adjacent pair whose concatenation is a token with the highest score (ties: leftmost).
// Characters no token covers become byte tokens <0xXX>, or the unknown token when the
// vocabulary has no byte tokens.
class SpmBpeModel : public Model {
 public:
  explicit SpmBpeModel(const Vocab& vocab);  // types already final
  void encode(std::string_view normalized, std::vector<int32_t>& out) const override;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  int32_t find(std::string_view text) const;
  void append_unknown_char(std::string_view ch, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;  // mergeable tokens
  std::vector<float> scores_;
  std::array<int32_t, 256> byte_tokens_;  // -1 where the vocabulary lacks <0xXX>
  int32_t unk_ = -1;
};

// Token -> bytes: '▁' -> ' ', <0xXX> -> that byte, control/unknown tokens -> nothing when
// skipping specials (else their text), user-defined tokens verbatim. With add_space_prefix
// the first token of a decode loses one leading space (the one the normalizer added), like
// llama.cpp's detokenize: a leading BOS counts as that first token, so text decoded after
// a BOS keeps its space.
class SpmDecoder : public Decoder {
 public:
  explicit SpmDecoder(const Vocab& vocab);  // types already final
  void append_piece(int32_t id, bool first, bool skip_special, std::string& out) const override;

 private:
  std::vector<std::string> pieces_;  // decoded text of every token
  std::vector<uint8_t> hidden_;      // 1: decodes to nothing when skipping specials
  bool strip_first_space_;
};

// The byte a token text "<0xXX>" stands for, or -1.
int parse_byte_token(std::string_view text);

}  // namespace hearth::tok
