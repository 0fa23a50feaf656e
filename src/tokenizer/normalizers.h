// Normalizers of tokenizer.json ("normalizer" field), with the Hugging Face tokenizers
// library's semantics. Each rewrites one text fragment (the text between added tokens).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pipeline.h"
#include "tokenizer/split.h"
#include "tokenizer/unicode.h"

namespace hearth::tok {

// NFC, NFD, NFKC or NFKD.
class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(unicode::Form form) : form_(form) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  unicode::Form form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string_view text, std::string& out) const override;
};

// Puts `prefix` in front of a non-empty fragment (SentencePiece's dummy "▁" prefix).
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  std::string prefix_;
};

// Replaces every match of a literal or regex pattern with `content`.
class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  Pattern pattern_;
  std::string content_;
};

// Removes leading and/or trailing whitespace.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  bool left_, right_;
};

// Removes nonspacing combining marks (Mn); used after NFD/NFKD to strip accents.
class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(std::string_view text, std::string& out) const override;
};

// BERT's normalizer: clean_text drops NUL, U+FFFD and control characters and turns
// whitespace into ' '; handle_chinese_chars puts spaces around CJK ideographs;
// strip_accents (NFD, then drop Mn) and lowercase.
class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents, bool lowercase)
      : clean_text_(clean_text),
        handle_chinese_chars_(handle_chinese_chars),
        strip_accents_(strip_accents),
        lowercase_(lowercase) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  bool clean_text_, handle_chinese_chars_, strip_accents_, lowercase_;
};

// Runs its normalizers one after the other.
class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string_view text, std::string& out) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace hearth::tok
