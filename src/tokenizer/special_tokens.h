// Splits special tokens out of input text before normalization, so "<s>" or "<|end|>" in a
// prompt becomes that one token instead of being spelled out piece by piece.
//
// Semantics follow llama.cpp (tokenizer_st_partition): candidate tokens are tried longest
// text first, and each one splits every occurrence in the text fragments not yet claimed by
// a longer token. User-defined tokens are always split out (as SentencePiece and HF added
// tokens do); control and unknown tokens only when the caller asks to parse special tokens,
// so untrusted text cannot inject them.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tok {

struct Fragment {
  std::string_view text;  // raw text to encode (when token < 0)
  int32_t token = -1;     // a special token matched in the input
};

class SpecialTokenSplitter {
 public:
  // Collects the Control, UserDefined and Unknown tokens of `vocab` (types already final).
  explicit SpecialTokenSplitter(const Vocab& vocab);

  // Replaces `out` with the fragments of `text` (which must outlive them), in order.
  // Empty text fragments are dropped.
  void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

 private:
  struct Entry {
    int32_t id;
    std::string text;
    bool always;  // user-defined: split even when parse_special is off
  };
  std::vector<Entry> entries_;  // longest text first, then lowest id
};

}  // namespace hearth::tok
