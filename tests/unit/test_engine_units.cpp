// Engine parts that need no model: the RequestHandle event queue, logprobs, logit bias.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "engine/engine.h"
#include "engine/logprobs.h"

using namespace hearth;
using namespace hearth::engine;
using namespace std::chrono_literals;

namespace {
Event delta(const std::string& text) {
  Event e;
  e.kind = Event::Kind::Delta;
  e.text = text;
  return e;
}
Event finished(const std::string& reason) {
  Event e;
  e.kind = Event::Kind::Finished;
  e.finish_reason = reason;
  return e;
}
}  // namespace

TEST(RequestHandle, DeliversInOrderThenNothingAfterTheEnd) {
  RequestHandle h(7, {});
  EXPECT_EQ(h.id(), 7u);
  EXPECT_FALSE(h.next(1ms).has_value());  // timeout
  h.deliver(delta("a"));
  h.deliver(delta("b"));
  h.deliver(finished("stop"));
  h.deliver(delta("late"));  // after the end: dropped
  EXPECT_TRUE(h.ended());
  EXPECT_FALSE(h.done());  // the end is not read yet
  EXPECT_EQ(h.next(1ms)->text, "a");
  EXPECT_EQ(h.next(1ms)->text, "b");
  auto end = h.next(1ms);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, Event::Kind::Finished);
  EXPECT_TRUE(h.done());
  EXPECT_FALSE(h.next(1ms).has_value());
  EXPECT_FALSE(h.next(1ms).has_value());
}

TEST(RequestHandle, NextWakesWhenAnEventArrives) {
  RequestHandle h(1, {});
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);
    h.deliver(delta("x"));
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto e = h.next(10s);
  producer.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->text, "x");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(RequestHandle, CancelCallsBackOnceAndNotAfterTheEnd) {
  int calls = 0;
  RequestHandle h(1, [&] { ++calls; });
  EXPECT_FALSE(h.cancel_requested());
  h.cancel();
  h.cancel();
  EXPECT_TRUE(h.cancel_requested());
  EXPECT_EQ(calls, 1);
  RequestHandle ended(2, [&] { ++calls; });
  ended.deliver(finished("stop"));
  ended.cancel();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(ended.cancel_requested());
}

TEST(Logprobs, LogSoftmaxWithBiasAndTopAlternatives) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f};
  std::vector<float> scratch;
  // Reference by hand: log-softmax of {1, 3, 2, 3}.
  double z = std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0);
  TokenScores s = score_token(logits.data(), 4, {}, 2, 3, scratch);
  EXPECT_NEAR(s.chosen, 2.0 - std::log(z), 1e-5);
  ASSERT_EQ(s.top.size(), 3u);
  EXPECT_EQ(s.top[0].first, 1);  // ties: lower id first
  EXPECT_EQ(s.top[1].first, 3);
  EXPECT_EQ(s.top[2].first, 2);
  EXPECT_NEAR(s.top[0].second, 3.0 - std::log(z), 1e-5);
  // With a bias of +2 on token 0: {3, 3, 2, 3}.
  z = 3 * std::exp(3.0) + std::exp(2.0);
  s = score_token(logits.data(), 4, {{0, 2.0f}}, 0, 1, scratch);
  EXPECT_NEAR(s.chosen, 3.0 - std::log(z), 1e-5);
  EXPECT_EQ(s.top[0].first, 0);
  // More alternatives than tokens: all of them.
  EXPECT_EQ(score_token(logits.data(), 4, {}, 0, 10, scratch).top.size(), 4u);
}

TEST(Logprobs, InfinitiesAndNaNDoNotPoisonTheResult) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> scratch;
  const std::vector<float> all_neg = {-inf, -inf};
  EXPECT_NEAR(score_token(all_neg.data(), 2, {}, 1, 0, scratch).chosen, -std::log(2.0), 1e-6);
  const std::vector<float> with_nan = {std::nanf(""), 0.0f};
  const TokenScores s = score_token(with_nan.data(), 2, {}, 1, 2, scratch);
  EXPECT_NEAR(s.chosen, 0.0, 1e-6);
  EXPECT_TRUE(std::isinf(s.top[1].second));
}

TEST(LogitBias, AddsToTheNamedTokensOnly) {
  LogitBiasStage stage({{1, 5.0f}, {3, -1.0f}});
  std::vector<sampling::Candidate> cands;
  for (int32_t i = 0; i < 4; ++i) cands.push_back({i, 0.0f, 0.0f});
  stage.apply(cands, {});
  EXPECT_EQ(cands[0].logit, 0.0f);
  EXPECT_EQ(cands[1].logit, 5.0f);
  EXPECT_EQ(cands[3].logit, -1.0f);
  // Also when the list is not in id order (another stage ran before it).
  std::vector<sampling::Candidate> shuffled = {{3, 0.0f, 0.0f}, {1, 0.0f, 0.0f}};
  stage.apply(shuffled, {});
  EXPECT_EQ(shuffled[0].logit, -1.0f);
  EXPECT_EQ(shuffled[1].logit, 5.0f);
}
