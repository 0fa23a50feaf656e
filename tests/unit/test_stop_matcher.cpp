// Stop strings on streamed text, checked against a naive reference: the released text must
// be exactly the text before the first completed stop string, whatever the chunking.
#include <gtest/gtest.h>

#include <random>

#include "engine/stop_matcher.h"

using hearth::engine::StopMatcher;

namespace {

struct Result {
  std::string text;
  bool matched = false;
  std::string stop;
};

Result run(const std::vector<std::string>& stops, const std::vector<std::string>& chunks) {
  StopMatcher m(stops);
  Result r;
  for (const auto& c : chunks) {
    r.text += m.push(c);
    if (m.matched()) break;
  }
  if (!m.matched()) r.text += m.flush();
  r.matched = m.matched();
  r.stop = m.matched_stop();
  return r;
}

// Reference: scan the whole text for the stop string that completes first.
Result reference(const std::vector<std::string>& stops, const std::string& text) {
  for (size_t end = 1; end <= text.size(); ++end) {
    size_t best = 0;
    const std::string* which = nullptr;
    for (const auto& s : stops) {
      if (s.empty() || s.size() > end || s.size() <= best) continue;
      if (text.compare(end - s.size(), s.size(), s) == 0) {
        best = s.size();
        which = &s;
      }
    }
    if (which) return {text.substr(0, end - which->size()), true, *which};
  }
  return {text, false, ""};
}

}  // namespace

TEST(StopMatcher, MatchesAcrossTokenBoundariesAndDropsTheStopString) {
  const Result r = run({"<END>"}, {"Hello ", "wor", "ld<E", "N", "D> never"});
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.text, "Hello world");
  EXPECT_EQ(r.stop, "<END>");
}

TEST(StopMatcher, HoldsBackOnlyWhatCouldStartAStopString) {
  StopMatcher m({"\n\nUser:"});
  EXPECT_EQ(m.push("Fine."), "Fine.");
  EXPECT_EQ(m.push("\n"), "");  // could be the start
  EXPECT_EQ(m.held_back(), 1u);
  EXPECT_EQ(m.push("\nUs"), "");
  EXPECT_EQ(m.held_back(), 4u);
  // Stops matching: everything held back is released at once.
  EXPECT_EQ(m.push("ually"), "\n\nUsually");
  EXPECT_EQ(m.held_back(), 0u);
  EXPECT_FALSE(m.matched());
}

TEST(StopMatcher, ReleasesThePartThatCanNoLongerMatchAndKeepsAStillPossibleStart) {
  StopMatcher m({"abab"});
  EXPECT_EQ(m.push("xaba"), "x");  // "aba" is a prefix
  EXPECT_EQ(m.push("c"), "abac");
  EXPECT_EQ(m.push("aba"), "");
  EXPECT_EQ(m.push("ba"), "");  // "aba" + "b" completes it
  EXPECT_TRUE(m.matched());
  // A failed partial match that still ends with a shorter start of the stop string.
  StopMatcher k({"aab"});
  EXPECT_EQ(k.push("aaa"), "a");  // "aa" could still start "aab"
  EXPECT_EQ(k.push("b"), "");
  EXPECT_TRUE(k.matched());
}

TEST(StopMatcher, FirstOfSeveralStopStringsToCompleteWins) {
  Result r = run({"world", "lo w"}, {"hello world"});
  EXPECT_EQ(r.text, "hel");
  EXPECT_EQ(r.stop, "lo w");
  // Completing at the same byte: the longer one (it starts earlier).
  r = run({"b", "ab"}, {"xxab"});
  EXPECT_EQ(r.text, "xx");
  EXPECT_EQ(r.stop, "ab");
}

TEST(StopMatcher, NoStopsOrEmptyStopsPassEverythingThrough) {
  StopMatcher none({});
  EXPECT_EQ(none.push("abc"), "abc");
  StopMatcher empty({""});
  EXPECT_EQ(empty.push("abc"), "abc");
  EXPECT_FALSE(empty.matched());
}

TEST(StopMatcher, NothingAfterAMatch) {
  StopMatcher m({"x"});
  EXPECT_EQ(m.push("axb"), "a");
  EXPECT_EQ(m.push("more"), "");
}

TEST(StopMatcher, FlushReleasesAnUnfinishedStart) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("ok ST"), "ok ");
  EXPECT_EQ(m.flush(), "ST");
  EXPECT_FALSE(m.matched());
}

TEST(StopMatcher, Utf8IsNeverSplit) {
  // The stop string shares a first byte (0xC3) with "é" but is "ö".
  StopMatcher m({"ö!"});
  EXPECT_EQ(m.push("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(m.push("\xC3\xB6"), "");  // "ö" could start "ö!"
  EXPECT_EQ(m.push("?"), "\xC3\xB6?");
  // A stop string that is not whole characters still never cuts one.
  StopMatcher odd({"\xA9x"});
  const std::string out = odd.push("caf\xC3\xA9");
  EXPECT_EQ(out, "caf");  // "é" held back whole, though only its 2nd byte could match
  EXPECT_EQ(odd.push("y"), "\xC3\xA9y");
}

TEST(StopMatcher, AgreesWithTheNaiveReferenceOnRandomTextAndChunking) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab\n";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const int len = static_cast<int>(rng() % 30);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    std::vector<std::string> stops;
    const int n_stops = 1 + static_cast<int>(rng() % 3);
    for (int s = 0; s < n_stops; ++s) {
      std::string stop;
      const int sl = 1 + static_cast<int>(rng() % 5);
      for (int i = 0; i < sl; ++i) stop += alphabet[rng() % alphabet.size()];
      stops.push_back(stop);
    }
    std::vector<std::string> chunks;
    for (size_t i = 0; i < text.size();) {
      const size_t n = std::min<size_t>(text.size() - i, rng() % 4);
      chunks.push_back(text.substr(i, n));  // empty chunks too (tokens with no text)
      i += n;
    }
    const Result got = run(stops, chunks), want = reference(stops, text);
    ASSERT_EQ(got.matched, want.matched) << text;
    ASSERT_EQ(got.text, want.text) << text;
    ASSERT_EQ(got.stop, want.stop) << text;
  }
}
