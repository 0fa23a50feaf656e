#include "tokenizer/split.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/utf8.h"

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

void Pattern::find(std::string_view text, std::vector<Span>& out) const {
  out.clear();
  size_t last = 0;  // end of the previous match
  auto add_match = [&](size_t start, size_t end) {
    if (last < start) out.push_back({last, start, false});
    out.push_back({start, end, true});
    last = end;
  };
  switch (kind_) {
    case Kind::Literal:
      if (!literal_.empty()) {
        for (size_t pos = 0; (pos = text.find(literal_, pos)) != std::string_view::npos;) {
          add_match(pos, pos + literal_.size());
          pos += literal_.size();
        }
      }
      break;
    case Kind::Regex:
      regex_->for_each_match(text, add_match);
      break;
    case Kind::Chars:
      for (size_t i = 0; i < text.size();) {
        size_t n = 0;
        const uint32_t cp = utf8::decode_at(text, i, n);
        if (cp != utf8::kInvalid && test_(cp)) add_match(i, i + n);
        i += n;
      }
      break;
  }
  if (last < text.size() || out.empty()) out.push_back({last, text.size(), false});
  if (invert_) {
    for (Span& s : out) s.match = !s.match;
  }
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

void split_ranges(const std::vector<Span>& spans, SplitBehavior behavior,
                  std::vector<std::pair<size_t, size_t>>& out) {
  out.clear();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (const Span& s : spans) out.emplace_back(s.start, s.end);
      break;
    case SplitBehavior::Removed:
      for (const Span& s : spans) {
        if (!s.match) out.emplace_back(s.start, s.end);
      }
      break;
    case SplitBehavior::Contiguous:
      for (const Span& s : spans) {
        if (s.match == previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.start, s.end);
        }
        previous_match = s.match;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.start, s.end);
        }
        previous_match = s.match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.match && !previous_match && !out.empty()) {
          out.back().first = s.start;
        } else {
          out.emplace_back(s.start, s.end);
        }
        previous_match = s.match;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  std::erase_if(out, [](const auto& r) { return r.first >= r.second; });
}

void replace_all(std::string_view text, const Pattern& pattern, std::string_view content,
                 std::string& out) {
  std::vector<Span> spans;
  pattern.find(text, spans);
  for (const Span& s : spans) {
    if (s.match) {
      out.append(content);
    } else {
      out.append(text.substr(s.start, s.end - s.start));
    }
  }
}

}  // namespace hearth::tok
