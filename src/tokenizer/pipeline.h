// The steps a Tokenizer chains, in the order Hugging Face's tokenizers library runs them:
//   added (special) tokens are split out of the text first (AddedTokens),
//   every remaining fragment goes through   Normalizer -> PreTokenizer -> Model   to become
//   ids, the PostProcessor adds BOS/EOS (or CLS/SEP) around the whole sequence,
//   and a Decoder turns the texts of ids back into bytes.
// Tokenizers built from a tokenizer.json (hf_json_loader.cpp) and from GGUF metadata
// (gguf_pipeline.cpp) are made of these same steps.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Appends the normalized form of one text fragment to `out`.
  virtual void normalize(std::string_view text, std::string& out) const = 0;
};

// One piece of a fragment being pre-tokenized. `at_start`: the piece begins at the first
// byte of the whole input (Metaspace's prepend_scheme "first" looks at it).
struct Piece {
  std::string text;
  bool at_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces the pieces by finer ones (and/or rewrites their text). Empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one pre-tokenized piece to `out`.
  virtual void encode(std::string_view piece, std::vector<int32_t>& out) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the token texts in place (HF's decode_chain); the Tokenizer concatenates what
  // is left. Texts hold raw bytes: a byte-fallback or byte-level token may carry part of a
  // UTF-8 character that a later token completes, and only the Tokenizer turns what never
  // forms a character into U+FFFD. `text_start`: tokens[0] begins the text, so first-token
  // rules apply (Strip's leading characters, Metaspace's prefix); llama.cpp-style
  // vocabularies clear it when a leading BOS was skipped.
  virtual void decode_chain(std::vector<std::string>& tokens, bool text_start) const = 0;
};

// Ids placed around an encoded sequence when add_special is set.
struct PostProcessor {
  std::vector<int32_t> prefix;  // e.g. {bos} or {cls}
  std::vector<int32_t> suffix;  // e.g. {eos} or {sep}
};

}  // namespace hearth::tok
