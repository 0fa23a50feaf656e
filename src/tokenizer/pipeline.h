// The steps a Tokenizer chains, in the order Hugging Face's tokenizers library runs them:
//   special/added tokens are split out of the text first (SpecialTokenSplitter),
//   every remaining fragment goes through   Normalizer -> Model   to become ids,
//   the PostProcessor adds BOS/EOS around the whole sequence,
//   and a Decoder turns ids back into bytes.
// The SentencePiece ("llama") implementations live in spm.h; other tokenizer families plug
// in their own steps.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Replaces `out` with the normalized form of one text fragment.
  virtual void normalize(std::string_view text, std::string& out) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one normalized fragment to `out`.
  virtual void encode(std::string_view normalized, std::vector<int32_t>& out) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Appends the bytes token `id` (a valid id) stands for. `first`: it is the first token of
  // the text being decoded. `skip_special`: control and unknown tokens decode to nothing.
  // The bytes may be part of a UTF-8 sequence that later tokens complete.
  virtual void append_piece(int32_t id, bool first, bool skip_special, std::string& out) const = 0;
};

// Template ids placed around an encoded sequence when add_special is set.
struct PostProcessor {
  std::vector<int32_t> prefix;  // e.g. {bos}
  std::vector<int32_t> suffix;  // e.g. {eos}
};

}  // namespace hearth::tok
