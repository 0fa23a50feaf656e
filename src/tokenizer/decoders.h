// Decoders of tokenizer.json ("decoder" field), with the Hugging Face tokenizers library's
// semantics, except that bytes stay raw until the Tokenizer validates the whole text: a
// byte run that is not UTF-8 becomes U+FFFD per maximal ill-formed subsequence (as HF's
// ByteLevel decoder does) rather than one U+FFFD per byte (HF's ByteFallback). Valid text
// decodes identically.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/split.h"

namespace hearth::tok {

// Byte-level characters back to bytes ('Ġ' -> ' '); a token with any other character (an
// added token such as "<|im_start|>" typed in plain text) is kept as it is. Fuses the tokens.
class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;
};

// "▁" back to ' '; on the first token of the text every "▁" is dropped (unless the
// prepend scheme was "never"), undoing the prefix the pre-tokenizer added.
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, PrependScheme scheme)
      : replacement_(std::move(replacement)), scheme_(scheme) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  std::string replacement_;
  PrependScheme scheme_;
};

// "<0xXX>" tokens become the byte XX.
class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;
};

// Joins all tokens into one.
class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;
};

// Removes up to `start` leading and `stop` trailing `content` characters from every token
// (after Fuse: from the text); leading ones only at the start of the text.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  std::string content_;  // one character
  size_t start_, stop_;
};

// Replaces a literal or regex pattern in every token.
class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  Pattern pattern_;
  std::string content_;
};

// WordPiece: tokens after the first lose the "##" prefix or else get a space in front;
// `cleanup` removes the spaces tokenization put before punctuation and contractions.
class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

// BPE with an end-of-word suffix ("</w>"): the suffix becomes a space (nothing on the last
// token).
class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens, bool text_start) const override;

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace hearth::tok
