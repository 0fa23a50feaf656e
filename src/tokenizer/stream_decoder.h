// Incremental detokenization for streaming generated text.
#pragma once
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace hearth::tok {

// Fed one id at a time, returns the text that became final with it. Never returns part of a
// UTF-8 character: bytes from byte-fallback tokens are held back until the character is
// complete (or shown as U+FFFD once they cannot become one). The concatenated output of
// push() and flush() equals tokenizer.decode(all ids pushed, skip_special), including the
// SentencePiece rule that the first token loses its leading space.
//
// To continue a text (keep the space of the first new token), push the prompt's ids first
// and discard what they return.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true);

  // Throws hearth::Error for an id outside the vocabulary (and then changes nothing).
  std::string push(int32_t id);

  // Returns the held-back bytes of an unfinished character as U+FFFD. Pushing may go on
  // afterwards; it continues the same text.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence (at most 3)
};

}  // namespace hearth::tok
