#include "tokenizer/split.h"

#include "core/error.h"

namespace hearth::tok {

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.kind_ = Kind::Literal;
  p.literal_ = std::move(text);
  return p;
}

Pattern Pattern::regex(std::shared_ptr<const Regex> re) {
  Pattern p;
  p.kind_ = Kind::Regex;
  p.regex_ = std::move(re);
  return p;
}

Pattern Pattern::chars(CharTest test) {
  Pattern p;
  p.kind_ = Kind::Chars;
  p.test_ = test;
  return p;
}

Pattern Pattern::inverted() const {
  Pattern p = *this;
  p.invert_ = !p.invert_;
  return p;
}

SplitBehavior split_behavior_from_name(std::string_view name) {
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  fail("unknown split behavior '{}' (expected Removed, Isolated, MergedWithPrevious, "
       "MergedWithNext or Contiguous)",
       name);
}

void replace_all(std::string_view text, const Pattern& pattern, std::string_view content,
                 std::string& out) {
  pattern.for_each_span(text, [&](const Span& s) {
    if (s.match) {
      out.append(content);
    } else {
      out.append(text.substr(s.start, s.end - s.start));
    }
  });
}

}  // namespace hearth::tok
