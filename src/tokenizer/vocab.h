// A tokenizer vocabulary as model files carry it: GGUF's tokenizer.ggml.* keys, or the token
// list a tokenizer.json defines (model vocabulary plus added tokens, by id).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tok {

// GGUF token types (llama.cpp's llama_token_type; SentencePiece's piece types + 1).
enum class TokenType : int32_t {
  Undefined = 0,    // treated like Normal
  Normal = 1,
  Unknown = 2,      // <unk>
  Control = 3,      // <s>, </s>, chat markers: only typed as text with parse_special
  UserDefined = 4,  // always matched as a whole in input text, decoded verbatim
  Unused = 5,       // never produced, decodes to nothing
  Byte = 6,         // <0xXX>: byte fallback for characters the vocabulary lacks
};

struct Vocab {
  std::string model = "llama";  // tokenizer.ggml.model: llama, gpt2 or bert
  std::string pre;              // tokenizer.ggml.pre: the pre-tokenizer of gpt2 vocabularies
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty: all 0
  std::vector<TokenType> types;   // empty: all Normal
  std::vector<std::string> merges;  // tokenizer.ggml.merges ("a b"), gpt2 vocabularies
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;  // -1: none
  bool add_bos = true, add_eos = false, add_space_prefix = true;
  std::string chat_template;  // tokenizer.chat_template (may be empty)
};

// Texts of tokens that end a turn in chat formats ("<|eot_id|>", "<|im_end|>", "<|end|>",
// "<end_of_turn>" ...). llama.cpp treats them as end of generation and, when a file marks
// them user-defined, retypes them as control tokens.
inline bool is_end_of_turn_text(std::string_view text) {
  static constexpr std::array<std::string_view, 11> kTexts = {
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
      "<EOT>",      "_<EOT>",     "<end_of_utterance>", "<|end_of_text|>",
      "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",  // DeepSeek <｜end▁of▁sentence｜>
  };
  for (std::string_view t : kTexts) {
    if (t == text) return true;
  }
  return false;
}

}  // namespace hearth::tok
