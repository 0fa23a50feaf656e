// Normalization folds the usual evasions, and every normalized byte maps back to the
// original bytes it came from (so redaction cuts the right span).
#include <gtest/gtest.h>

#include "guard/normalize.h"

using hearth::guard::normalize;
using hearth::guard::phrase_skeleton;

TEST(GuardNormalize, FoldsCaseWidthAccentsAndConfusables) {
  EXPECT_EQ(normalize("Project NIGHTINGALE").text, "project nightingale");
  EXPECT_EQ(normalize("\xEF\xBD\x90\xEF\xBD\x92\xEF\xBD\x8F").text, "pro");  // full-width ｐｒｏ
  EXPECT_EQ(normalize("caf\xC3\xA9").text, "cafe");                          // é
  EXPECT_EQ(normalize("cafe\xCC\x81").text, "cafe");                         // e + combining acute
  // Cyrillic р, о, е and Greek ο in place of Latin letters.
  EXPECT_EQ(normalize("\xD1\x80r\xD0\xBEj\xD0\xB5" "ct \xCE\xBF").text, "project o");
  EXPECT_EQ(normalize("\xEF\xAC\x81").text, "fi");  // the ligature ﬁ
}

TEST(GuardNormalize, DropsInvisibleCharactersAndCountsThem) {
  // zero-width space, soft hyphen, word joiner, BOM, zero-width non-joiner
  const auto n = normalize("pro\xE2\x80\x8Bj\xC2\xAD" "ec\xE2\x81\xA0t\xEF\xBB\xBF!\xE2\x80\x8C");
  EXPECT_EQ(n.text, "project!");
  EXPECT_EQ(n.invisible_chars, 5u);
}

TEST(GuardNormalize, SkeletonKeepsLettersAndDigitsWithWordEdges) {
  const auto n = normalize("p r-o  j.e c t, x1");
  EXPECT_EQ(n.skeleton, "projectx1");
  using N = hearth::guard::NormalizedText;
  EXPECT_TRUE(n.skeleton_flags[0] & N::kWordStart);
  EXPECT_TRUE(n.skeleton_flags[6] & N::kWordEnd);   // "t" before ", "
  EXPECT_TRUE(n.skeleton_flags[7] & N::kWordStart); // "x"
  EXPECT_FALSE(n.skeleton_flags[8] & N::kWordStart);
  EXPECT_EQ(phrase_skeleton("Project Nightingale"), "projectnightingale");
}

TEST(GuardNormalize, MapsBackToOriginalBytes) {
  const std::string original = "Call \xEF\xBD\x90\xEF\xBD\x92o now";  // "Call ｐｒo now"
  const auto n = normalize(original);
  ASSERT_EQ(n.text, "call pro now");
  const size_t at = n.text.find("pro");
  auto [b, e] = n.original_range(at, at + 3);
  EXPECT_EQ(original.substr(b, e - b), "\xEF\xBD\x90\xEF\xBD\x92o");
  // A ligature expands to two normalized bytes that both map to its three original bytes.
  const auto lig = normalize("a\xEF\xAC\x81z");
  ASSERT_EQ(lig.text, "afiz");
  EXPECT_EQ(lig.original_range(1, 2), (std::pair<size_t, size_t>{1, 4}));
}

TEST(GuardNormalize, InvalidUtf8NeverThrowsAndMapsEachBadByte) {
  const std::string bad = "a\xFF\xC3z";
  const auto n = normalize(bad);
  EXPECT_EQ(n.text, "a\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_EQ(n.origin_begin.back(), 3u);
  EXPECT_NO_THROW(normalize(std::string("\x00\x80\xBF\xF4\x90\x80\x80", 7)));
}
