// Incremental detokenization for streaming generated text.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace hearth::tok {

// Fed one id at a time, returns the text that became final with it. Never returns part of a
// UTF-8 character: bytes from byte-fallback or byte-level tokens are held back until the
// character is complete (or shown as U+FFFD once they cannot become one). The concatenated
// output of push() and flush() equals tokenizer.decode(all ids pushed, skip_special), for
// every decoder whose first-token rules stay within the first token (all HF and llama.cpp
// ones except a Strip of trailing characters), including SentencePiece's rule that the first
// token loses its leading space.
//
// How: the ids since the last emission (plus the ones emitted then, as context) are decoded
// again with each new id, and what the new id added after that context is the new text; the
// context makes first-token rules and multi-token characters come out as in a full decode.
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
  // After an emission: drops the old context and makes the ids since then the context of
  // the next push. `raw` is the window's decoded text, of which the last `held` bytes (an
  // unfinished character) were not returned yet.
  void restart_window(const std::string& raw, size_t held);

  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> window_;  // context ids, then ids not fully emitted yet
  size_t context_ = 0;           // how many of window_ are context
  std::string emitted_;          // decoded bytes of the window already returned
};

}  // namespace hearth::tok
