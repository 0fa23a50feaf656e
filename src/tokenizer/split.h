// Patterns and split behaviours shared by normalizers (Replace), pre-tokenizers (Split,
// Punctuation, Digits, Metaspace ...) and decoders (Replace), with the semantics of the
// Hugging Face tokenizers library (its Pattern trait and SplitDelimiterBehavior). Both are
// streamed: matches and splits go to a callback as they are found, nothing is collected.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

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

  // Calls fn(Span) for spans that cover `text` in order (one non-match span for empty text).
  template <typename Fn>
  void for_each_span(std::string_view text, Fn&& fn) const;

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

// Calls emit(begin, end) for the splits of `text` where `pattern` matches, as `behavior`
// says: delimiters dropped, alone, attached to the split before or after, or runs of them
// together. Empty splits are left out.
template <typename Emit>
void split_text(std::string_view text, const Pattern& pattern, SplitBehavior behavior, Emit&& emit);

// Appends `text` with every match of `pattern` replaced by `content`.
void replace_all(std::string_view text, const Pattern& pattern, std::string_view content,
                 std::string& out);

// ---- implementation ----

template <typename Fn>
void Pattern::for_each_span(std::string_view text, Fn&& fn) const {
  size_t last = 0;  // end of the previous match
  bool any = false;
  auto match = [&](size_t start, size_t end) {
    if (last < start) fn(Span{last, start, invert_});
    fn(Span{start, end, !invert_});
    last = end;
    any = true;
  };
  switch (kind_) {
    case Kind::Literal:
      if (!literal_.empty()) {
        for (size_t pos = 0; (pos = text.find(literal_, pos)) != std::string_view::npos;) {
          match(pos, pos + literal_.size());
          pos += literal_.size();
        }
      }
      break;
    case Kind::Regex:
      regex_->for_each_match(text, match);
      break;
    case Kind::Chars:
      for (size_t i = 0; i < text.size();) {
        size_t n = 0;
        const uint32_t cp = utf8::decode_at(text, i, n);
        if (cp != utf8::kInvalid && test_(cp)) match(i, i + n);
        i += n;
      }
      break;
  }
  if (last < text.size() || !any) fn(Span{last, text.size(), invert_});
}

template <typename Emit>
void split_text(std::string_view text, const Pattern& pattern, SplitBehavior behavior, Emit&& emit) {
  // The split being built (it may still grow) and whether the last span was a match.
  size_t begin = 0, end = 0;
  bool pending = false, previous_match = false;
  auto flush = [&] {
    if (pending && begin < end) emit(begin, end);
    pending = false;
  };
  auto start_new = [&](const Span& s) {
    flush();
    begin = s.start;
    end = s.end;
    pending = true;
  };
  pattern.for_each_span(text, [&](const Span& s) {
    switch (behavior) {
      case SplitBehavior::Isolated:
        if (s.start < s.end) emit(s.start, s.end);
        break;
      case SplitBehavior::Removed:
        if (!s.match && s.start < s.end) emit(s.start, s.end);
        break;
      case SplitBehavior::Contiguous:
        if (s.match == previous_match && pending) {
          end = s.end;
        } else {
          start_new(s);
        }
        break;
      case SplitBehavior::MergedWithPrevious:
        if (s.match && !previous_match && pending) {
          end = s.end;
        } else {
          start_new(s);
        }
        break;
      case SplitBehavior::MergedWithNext:
        // A match joins the split after it when that one is no match; a pending match
        // waits to see its right neighbour.
        if (pending && !s.match) {
          end = s.end;
          flush();
        } else {
          start_new(s);
          if (!s.match) flush();
        }
        break;
    }
    previous_match = s.match;
  });
  flush();
}

}  // namespace hearth::tok
