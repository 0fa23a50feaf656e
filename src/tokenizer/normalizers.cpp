#include "tokenizer/normalizers.h"

#include "tokenizer/utf8.h"

namespace hearth::tok {

void UnicodeNormalizer::normalize(std::string_view text, std::string& out) const {
  unicode::normalize(text, form_, out);
}

void LowercaseNormalizer::normalize(std::string_view text, std::string& out) const {
  unicode::lowercase(text, out);
}

void PrependNormalizer::normalize(std::string_view text, std::string& out) const {
  if (!text.empty()) out.append(prefix_);
  out.append(text);
}

void ReplaceNormalizer::normalize(std::string_view text, std::string& out) const {
  replace_all(text, pattern_, content_, out);
}

void StripNormalizer::normalize(std::string_view text, std::string& out) const {
  size_t begin = 0, end = text.size();
  if (left_) {
    while (begin < end) {
      size_t n = 0;
      const uint32_t cp = utf8::decode_at(text, begin, n);
      if (cp == utf8::kInvalid || !unicode::is_whitespace(cp)) break;
      begin += n;
    }
  }
  if (right_) {
    // Walk back to the start of the last character, one character at a time.
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
      size_t n = 0;
      const uint32_t cp = utf8::decode_at(text, start, n);
      if (cp == utf8::kInvalid || start + n != end || !unicode::is_whitespace(cp)) break;
      end = start;
    }
  }
  out.append(text.substr(begin, end - begin));
}

void StripAccentsNormalizer::normalize(std::string_view text, std::string& out) const {
  for (size_t i = 0; i < text.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(text, i, n);
    if (cp == utf8::kInvalid || !unicode::is_nonspacing_mark(cp)) out.append(text.substr(i, n));
    i += n;
  }
}

void BertNormalizer::normalize(std::string_view text, std::string& out) const {
  std::string cleaned;
  cleaned.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(text, i, n);
    const std::string_view ch = text.substr(i, n);
    i += n;
    if (clean_text_) {
      const bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
      // Malformed bytes count as unassigned characters: control, so dropped.
      if (cp == 0 || cp == 0xFFFD || cp == utf8::kInvalid ||
          (!tab_or_newline && unicode::is_other(cp))) {
        continue;
      }
      if (tab_or_newline || unicode::is_whitespace(cp)) {
        cleaned += ' ';
        continue;
      }
    }
    if (handle_chinese_chars_ && cp != utf8::kInvalid && unicode::is_cjk_ideograph(cp)) {
      cleaned += ' ';
      cleaned.append(ch);
      cleaned += ' ';
      continue;
    }
    cleaned.append(ch);
  }
  if (strip_accents_) {
    std::string decomposed;
    unicode::normalize(cleaned, unicode::Form::NFD, decomposed);
    cleaned.clear();
    StripAccentsNormalizer().normalize(decomposed, cleaned);
  }
  if (lowercase_) {
    unicode::lowercase(cleaned, out);
  } else {
    out.append(cleaned);
  }
}

void SequenceNormalizer::normalize(std::string_view text, std::string& out) const {
  if (steps_.empty()) {
    out.append(text);
    return;
  }
  std::string current(text), next;
  for (const auto& step : steps_) {
    next.clear();
    step->normalize(current, next);
    current.swap(next);
  }
  out.append(current);
}

}  // namespace hearth::tok
