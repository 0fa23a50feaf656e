// Patterns and split behaviours shared by normalizers (Replace), pre-tokenizers (Split,
// Punctuation, Digits, Metaspace ...) and decoders (Replace), with the semantics of the
// Hugging Face tokenizers library (its Pattern trait and SplitDelimiterBehavior).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace hearth::tok {

// A stretch of text that a pattern matched (match) or that lies between matches.
struct Span {
  size_t start;
  size_t end;
  bool match;
};

class Pattern {
 public:
  using CharTest = bool (*)(uint32_t cp);

  // Every non-overlapping occurrence of `text` (an empty text matches nothing).
  static Pattern literal(std::string text);
  // Every non-overlapping match of the regular expression.
  static Pattern regex(std::shared_ptr<const Regex> re);
  // Each single character for which `test` holds (bytes of malformed UTF-8 never match).
  static Pattern chars(CharTest test);

  // Spans with match and non-match parts swapped (Split's "invert").
  Pattern inverted() const;

  // Replaces `out` with spans that cover `text` in order (one non-match span for empty text).
  void find(std::string_view text, std::vector<Span>& out) const;

 private:
  enum class Kind { Literal, Regex, Chars };
  Kind kind_ = Kind::Literal;
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
  CharTest test_ = nullptr;
  bool invert_ = false;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Parses "Removed", "Isolated", ... (tokenizer.json spelling); throws hearth::Error otherwise.
SplitBehavior split_behavior_from_name(std::string_view name);

// Turns the spans of a text into the [start, end) ranges of its splits, as `behavior` says
// (delimiters dropped, alone, or attached to a neighbour). Empty ranges are left out.
void split_ranges(const std::vector<Span>& spans, SplitBehavior behavior,
                  std::vector<std::pair<size_t, size_t>>& out);

// Appends `text` with every match of `pattern` replaced by `content`.
void replace_all(std::string_view text, const Pattern& pattern, std::string_view content,
                 std::string& out);

}  // namespace hearth::tok
