// Pre-tokenizers of tokenizer.json ("pre_tokenizer" field), with the Hugging Face tokenizers
// library's semantics: they cut a normalized fragment into the pieces the model encodes
// one by one (words, numbers, punctuation ...), and some rewrite the text (ByteLevel maps
// bytes to printable characters, Metaspace turns spaces into "▁").
#pragma once
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/split.h"

namespace hearth::tok {

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
inline constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Splits every piece where `pattern` matches; `behavior` says what becomes of the matches.
class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior)
      : pattern_(std::move(pattern)), behavior_(behavior) {}
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
};

// GPT-2's byte-level step: optionally a leading space and the GPT-2 regex split, then every
// byte becomes the printable character that stands for it (' ' -> 'Ġ', '\n' -> 'Ċ' ...).
class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  bool add_prefix_space_;
  std::unique_ptr<SplitPreTokenizer> split_;  // null without use_regex
};

// The byte -> character table of byte-level BPE, and its inverse (-1: not a byte character).
const std::array<std::string, 256>& byte_level_chars();
int byte_level_byte(uint32_t cp);

enum class PrependScheme { Always, First, Never };

// SentencePiece-style: spaces become `replacement` ("▁"), which is also put in front of a
// piece (always, only at the start of the input, or never), then pieces are split before
// each replacement character.
class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split);
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// Numbers: each digit alone, or runs of digits kept together.
class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits);
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  SplitPreTokenizer split_;
};

// Punctuation characters (Unicode P* and ASCII punctuation) split out as `behavior` says.
class PunctuationPreTokenizer : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior);
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  SplitPreTokenizer split_;
};

// Words (\w+) and runs of other non-space characters; whitespace is dropped.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer();
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  SplitPreTokenizer split_;
};

// Splits on whitespace, which is dropped.
class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  WhitespaceSplitPreTokenizer();
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  SplitPreTokenizer split_;
};

// BERT: split on whitespace (dropped), then every punctuation character alone.
class BertPreTokenizer : public PreTokenizer {
 public:
  BertPreTokenizer();
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  WhitespaceSplitPreTokenizer whitespace_;
  PunctuationPreTokenizer punctuation_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(std::string_view piece, bool at_start, PieceSink emit) const override;

 private:
  void run(size_t step, std::string_view piece, bool at_start, PieceSink emit) const;
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Punctuation as BERT and the Punctuation pre-tokenizer see it.
bool is_bert_punctuation(uint32_t cp);

}  // namespace hearth::tok
