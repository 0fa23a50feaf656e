// A tokenizer vocabulary as model files carry it: GGUF's tokenizer.ggml.* keys (and, later,
// what a Hugging Face tokenizer.json converts to).
#pragma once
#include <cstdint>
#include <string>
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
  std::string model = "llama";  // tokenizer.ggml.model
  std::vector<std::string> tokens;
  std::vector<float> scores;      // empty: all 0
  std::vector<TokenType> types;   // empty: all Normal
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;  // -1: none
  bool add_bos = true, add_eos = false, add_space_prefix = true;
};

}  // namespace hearth::tok
