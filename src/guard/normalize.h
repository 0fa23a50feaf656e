// The text the scanners look at. People evade word filters with mixed case, full-width
// letters (ｐｒｏｊｅｃｔ), accents, look-alike letters from other scripts (Cyrillic "р" for
// Latin "p"), invisible characters (zero-width space, soft hyphen) and letter spacing
// ("p r o j e c t"). normalize() folds all of that away, and remembers for every byte of the
// result which bytes of the original it came from, so a finding can be redacted in the
// original text exactly.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::guard {

struct NormalizedText {
  // The text it was made from, borrowed: the caller keeps it alive while this is used.
  std::string_view original;
  // Each character through compatibility decomposition (NFKC's folding: full-width,
  // ligatures, superscripts), case folding and mark stripping, then confusables mapped to
  // Latin; format characters (Cf: zero-width, soft hyphen, BOM, bidi controls) dropped.
  std::string text;
  // Per byte of `text`: the original character's byte range [begin, end).
  std::vector<uint32_t> origin_begin, origin_end;

  // Only the letters and digits of `text` (for phrase matching across spacing and
  // punctuation), with per byte the index into `text` and whether a word starts / ends there
  // (the neighbouring character of `text` is not a letter or digit).
  std::string skeleton;
  std::vector<uint32_t> skeleton_to_text;
  std::vector<uint8_t> skeleton_flags;  // kWordStart | kWordEnd
  static constexpr uint8_t kWordStart = 1, kWordEnd = 2;

  // Characters dropped as invisible (the injection scanner reports hidden text).
  size_t invisible_chars = 0;

  // The original bytes behind text[b, e) (b < e <= text.size()).
  std::pair<size_t, size_t> original_range(size_t b, size_t e) const {
    return {origin_begin[b], origin_end[e - 1]};
  }
  // The original bytes behind skeleton[b, e).
  std::pair<size_t, size_t> original_range_of_skeleton(size_t b, size_t e) const {
    return {origin_begin[skeleton_to_text[b]], origin_end[skeleton_to_text[e - 1]]};
  }
};

// Never throws for any bytes: invalid UTF-8 becomes U+FFFD (one per bad byte).
NormalizedText normalize(std::string_view original);

// The same folding for a policy phrase, reduced to its skeleton (letters and digits only).
std::string phrase_skeleton(std::string_view phrase);

// True for code points dropped as invisible: Unicode category Cf (U+200B..U+200F,
// U+2060..U+2064, U+FEFF, bidi controls, tags) and the soft hyphen U+00AD.
bool is_invisible(int32_t cp);

}  // namespace hearth::guard
