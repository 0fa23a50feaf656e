// Added tokens ("added_tokens" of tokenizer.json; the control and user-defined tokens of a
// GGUF vocabulary) are split out of the text before anything else, so "<|im_start|>" in a
// prompt becomes that one token instead of being spelled out piece by piece.
//
// Semantics follow the Hugging Face tokenizers library (AddedVocabulary): at each position
// the longest token wins, scanning left to right (leftmost-longest); tokens marked
// `normalized` are matched in the normalized text of the fragments between the others;
// single_word tokens only match between non-word characters; lstrip/rstrip tokens swallow
// the whitespace on their left/right. Special tokens are only matched when the caller asks
// to parse special tokens, so untrusted text cannot inject them; other added tokens always.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pipeline.h"

namespace hearth::tok {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct Fragment {
  std::string_view text;  // text to encode (when token < 0); empty for a token
  int32_t token = -1;     // an added token matched in the input
  size_t offset = 0;      // where `text` (or the token's match) begins in the split text
};

class AddedTokens {
 public:
  AddedTokens() = default;
  // `normalizer` (may be null) gives the form in which `normalized` tokens are looked for.
  AddedTokens(const std::vector<AddedToken>& tokens, const Normalizer* normalizer);

  // Replaces `out` with the fragments of `text` (which must outlive them), in order, for the
  // tokens that are not `normalized`. Empty text fragments are left out.
  void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const {
    raw_.split(text, parse_special, out);
  }
  // The same for the `normalized` tokens, on normalized text.
  void split_normalized(std::string_view text, bool parse_special,
                        std::vector<Fragment>& out) const {
    normalized_.split(text, parse_special, out);
  }

 private:
  // A byte trie over token contents with leftmost-longest matching.
  class Matcher {
   public:
    void add(const AddedToken& token, std::string_view content);
    void split(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;

   private:
    struct Node {
      std::vector<std::pair<uint8_t, int32_t>> children;
      int32_t entry = -1;  // index into entries_ of the token ending here
    };
    // The longest allowed token starting at text[pos]: entry index and end, or -1.
    int32_t longest_at(std::string_view text, size_t pos, bool parse_special, size_t& end) const;

    std::vector<AddedToken> entries_;
    std::vector<Node> nodes_{Node{}};  // nodes_[0] is the root
    std::array<int32_t, 256> root_ = filled_root();  // the root's children by byte (-1: none)
    static std::array<int32_t, 256> filled_root() {
      std::array<int32_t, 256> a;
      a.fill(-1);
      return a;
    }
  };

  Matcher raw_;
  Matcher normalized_;
};

}  // namespace hearth::tok
