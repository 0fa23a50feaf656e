// Streaming output moderation: nothing is released before it was scanned with a window of
// text after it; a blocked phrase never reaches any released delta, whichever way the tokens
// split it; redaction, ids and logprobs survive the re-chunking.
#include <gtest/gtest.h>

#include "guard/output_filter.h"

namespace hearth::guard {
namespace {

std::shared_ptr<const Guard> guard_for(const std::string& toml) {
  return std::make_shared<const Guard>(parse_policy(toml, "p.toml"));
}

constexpr const char* kBlock = R"(
[[rule]]
name = "no-secrets-project"
category = "confidential"
phrases = ["project nightingale"]
input = "block"
output = "block"
)";

engine::Event delta(std::string text, int32_t id) {
  engine::Event e;
  e.kind = engine::Event::Kind::Delta;
  e.text = std::move(text);
  e.token_ids = {id};
  e.logprobs = {{id, e.text, -0.5f}};
  return e;
}

engine::Event finished(const std::string& reason) {
  engine::Event e;
  e.kind = engine::Event::Kind::Finished;
  e.finish_reason = reason;
  e.usage.completion_tokens = 7;
  return e;
}

struct StreamRun {
  std::string released;
  std::vector<std::string> chunks;
  std::string finish;
  bool cancel = false;
  std::vector<int32_t> ids;
  size_t logprobs = 0;
};

// Feeds `text` in pieces of `step` bytes, then Finished("stop") (or, once the filter asked
// for a cancel, Finished("cancelled") as the engine would send).
StreamRun feed(OutputFilter& f, const std::string& text, size_t step) {
  StreamRun run;
  int32_t id = 0;
  auto take = [&](OutputFilter::Result r) {
    run.cancel |= r.cancel;
    for (auto& e : r.events) {
      if (e.kind == engine::Event::Kind::Delta) {
        run.released += e.text;
        run.chunks.push_back(e.text);
        run.ids.insert(run.ids.end(), e.token_ids.begin(), e.token_ids.end());
        run.logprobs += e.logprobs.size();
      } else {
        run.finish = e.finish_reason;
      }
    }
  };
  for (size_t i = 0; i < text.size(); i += step) take(f.on_event(delta(text.substr(i, step), id++)));
  take(f.on_event(finished(run.cancel ? "cancelled" : "stop")));
  return run;
}

std::string filler(size_t n) {
  std::string s;
  while (s.size() < n) s += "the quick brown fox jumps over the lazy dog. ";
  return s.substr(0, n);
}

TEST(GuardOutput, CleanTextPassesWhole) {
  auto g = guard_for(kBlock);
  for (size_t step : {1u, 3u, 7u, 50u}) {
    OutputFilter f(g);
    const std::string text = filler(700);
    const StreamRun r = feed(f, text, step);
    EXPECT_EQ(r.released, text);
    EXPECT_EQ(r.finish, "stop");
    EXPECT_FALSE(r.cancel);
    EXPECT_EQ(r.ids.size(), (text.size() + step - 1) / step);  // every id exactly once, in order
    for (size_t i = 0; i < r.ids.size(); ++i) EXPECT_EQ(r.ids[i], static_cast<int32_t>(i));
    EXPECT_EQ(r.logprobs, r.ids.size());
  }
}

TEST(GuardOutput, HoldsBackTheWindow) {
  auto g = guard_for(kBlock);
  OutputFilter f(g);
  size_t released = 0, fed = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string piece = "abcde ";
    fed += piece.size();
    for (auto& e : f.on_event(delta(piece, i)).events) released += e.text.size();
    EXPECT_LE(released + g->window_bytes(), std::max(fed, g->window_bytes())) << i;
  }
  EXPECT_GT(released, 0u);
}

TEST(GuardOutput, BlockedPhraseNeverReleasedAtAnySplit) {
  auto g = guard_for(kBlock);
  for (const std::string phrase : {"project nightingale", "Project Nightingale",
                                   "p r o j e c t  n i g h t i n g a l e",
                                   "pro\xE2\x80\x8Bject night\xC2\xADingale"}) {
    for (size_t before : {0u, 10u, 150u, 333u}) {
      for (size_t step : {1u, 2u, 5u, 16u}) {
        OutputFilter f(g);
        const std::string text = filler(before) + " " + phrase + " " + filler(300);
        const StreamRun r = feed(f, text, step);
        EXPECT_TRUE(r.cancel);
        EXPECT_EQ(r.finish, "content_filter");
        EXPECT_EQ(r.released.find("nightingale"), std::string::npos);
        EXPECT_LE(r.released.size(), before + 1) << "released past the phrase";
        EXPECT_EQ(r.released, text.substr(0, r.released.size()));
      }
    }
  }
}

TEST(GuardOutput, PhraseInTheLastBytesIsCaughtAtFinish) {
  auto g = guard_for(kBlock);
  OutputFilter f(g);
  const StreamRun r = feed(f, filler(40) + "project nightingale", 4);
  EXPECT_EQ(r.finish, "content_filter");
  EXPECT_EQ(r.released.find("nightingale"), std::string::npos);
}

TEST(GuardOutput, RedactsPiiInTheStream) {
  auto g = guard_for("[pii]\noutput = \"redact\"\n");
  for (size_t step : {1u, 4u, 9u}) {
    OutputFilter f(g);
    const std::string text = filler(200) + " mail jane@example.com or card 4111 1111 1111 1111. " + filler(200);
    const StreamRun r = feed(f, text, step);
    EXPECT_EQ(r.finish, "stop");
    EXPECT_EQ(r.released, filler(200) + " mail [EMAIL] or card [CREDIT_CARD]. " + filler(200));
    EXPECT_EQ(r.ids.size(), (text.size() + step - 1) / step);
  }
}

TEST(GuardOutput, MultiByteTextIsNeverSplitInsideACharacter) {
  auto g = guard_for(kBlock);
  OutputFilter f(g);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "\xE6\x97\xA5\xE6\x9C\xAC ";  // 日本
  const StreamRun r = feed(f, text, 7);
  EXPECT_EQ(r.released, text);
  for (const auto& c : r.chunks) {
    ASSERT_FALSE(c.empty());
    EXPECT_NE(static_cast<unsigned char>(c[0]) & 0xC0, 0x80u) << "chunk starts mid-character";
  }
}

}  // namespace
}  // namespace hearth::guard
