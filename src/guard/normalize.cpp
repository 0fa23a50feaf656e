#include "guard/normalize.h"

#include <utf8proc.h>

#include <array>

namespace hearth::guard {
namespace {

// Letters from Cyrillic and Greek that look like Latin ones (lower case: matching happens
// after case folding), from Unicode's confusables.txt restricted to the common look-alikes.
// Letters whose shapes differ in lower case but match in upper case (Cyrillic "н"/"H",
// "т"/"T", Greek "κ"/"K") are included because the upper case form is the usual trick.
struct Confusable {
  int32_t from;
  char to;
};
constexpr std::array<Confusable, 42> kConfusables{{
    // Cyrillic
    {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'},
    {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'}, {0x0443, 'y'}, {0x0445, 'x'},
    {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x0457, 'i'}, {0x0451, 'e'}, {0x04BB, 'h'},
    {0x0501, 'd'}, {0x051B, 'q'}, {0x051D, 'w'}, {0x04CF, 'l'}, {0x0261, 'g'},
    // Greek
    {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B5, 'e'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'},
    {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03B3, 'y'},
    {0x03B6, 'z'}, {0x03B7, 'n'}, {0x03BC, 'u'}, {0x03C9, 'w'},
    // Latin variants that compatibility decomposition keeps
    {0x0131, 'i'}, {0x0237, 'j'}, {0x0251, 'a'},
}};

int32_t fold_confusable(int32_t cp) {
  if (cp < 0x80) return cp;
  for (const Confusable& c : kConfusables)
    if (c.from == cp) return c.to;
  return cp;
}

bool is_word_char(int32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

constexpr utf8proc_option_t kFoldOptions = static_cast<utf8proc_option_t>(
    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);

}  // namespace

bool is_invisible(int32_t cp) {
  if (cp == 0x00AD) return true;  // soft hyphen (Cf too, listed for clarity)
  return cp >= 0x80 && utf8proc_category(cp) == UTF8PROC_CATEGORY_CF;
}

NormalizedText normalize(std::string_view original) {
  NormalizedText n;
  n.original = original;
  n.text.reserve(original.size());
  n.origin_begin.reserve(original.size());
  n.origin_end.reserve(original.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(original.data());
  std::array<utf8proc_int32_t, 32> folded{};
  bool previous_was_word = false;
  size_t i = 0;
  while (i < original.size()) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(original.size() - i), &cp);
    if (len <= 0) {  // a bad byte: one replacement character, then go on
      cp = 0xFFFD;
      len = 1;
    }
    const auto begin = static_cast<uint32_t>(i), end = static_cast<uint32_t>(i + len);
    i += static_cast<size_t>(len);
    if (is_invisible(cp)) {
      ++n.invisible_chars;
      continue;
    }
    utf8proc_ssize_t count = 1;
    if (cp < 0x80) {
      folded[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;  // the fast path for ASCII
    } else {
      int boundclass = UTF8PROC_BOUNDCLASS_START;
      count = utf8proc_decompose_char(cp, folded.data(), static_cast<utf8proc_ssize_t>(folded.size()),
                                      kFoldOptions, &boundclass);
      if (count < 0 || count > static_cast<utf8proc_ssize_t>(folded.size())) {
        folded[0] = cp;
        count = 1;
      }
    }
    for (utf8proc_ssize_t k = 0; k < count; ++k) {
      const int32_t out = fold_confusable(folded[static_cast<size_t>(k)]);
      utf8proc_uint8_t buf[4];
      const utf8proc_ssize_t w = utf8proc_encode_char(out, buf);
      const bool word = is_word_char(out);
      const auto text_index = static_cast<uint32_t>(n.text.size());
      if (word) {
        // A new word starts here when the previous visible character was not a letter or
        // digit; the previous skeleton byte's word then ended.
        if (!previous_was_word && !n.skeleton_flags.empty()) n.skeleton_flags.back() |= NormalizedText::kWordEnd;
        for (utf8proc_ssize_t b = 0; b < w; ++b) {
          n.skeleton.push_back(static_cast<char>(buf[b]));
          n.skeleton_to_text.push_back(text_index + static_cast<uint32_t>(b));
          n.skeleton_flags.push_back(!previous_was_word && b == 0 ? NormalizedText::kWordStart : 0);
        }
      }
      previous_was_word = word;
      for (utf8proc_ssize_t b = 0; b < w; ++b) {
        n.text.push_back(static_cast<char>(buf[b]));
        n.origin_begin.push_back(begin);
        n.origin_end.push_back(end);
      }
    }
  }
  if (!n.skeleton_flags.empty()) n.skeleton_flags.back() |= NormalizedText::kWordEnd;
  return n;
}

std::string phrase_skeleton(std::string_view phrase) { return normalize(phrase).skeleton; }

}  // namespace hearth::guard
