#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "sampling/sampler.h"
#include "sampling/stages.h"

using namespace hearth::sampling;

// Counts heap allocations in this test program, to check that sampling a token allocates
// nothing once the sampler exists.
static std::atomic<long> g_allocations{0};

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

std::vector<Candidate> make_cands(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0.0f});
  return c;
}

std::vector<int32_t> ids_of(const std::vector<Candidate>& c) {
  std::vector<int32_t> ids;
  for (const auto& x : c) ids.push_back(x.id);
  return ids;
}

float logit_of(const std::vector<Candidate>& c, int32_t id) {
  for (const auto& x : c) {
    if (x.id == id) return x.logit;
  }
  ADD_FAILURE() << "id " << id << " not among candidates";
  return NAN;
}

// Logits whose softmax is exactly the given probabilities (up to rounding).
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

Params plain(float temperature) {
  Params p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  return p;
}

}  // namespace

TEST(SamplingStages, SoftmaxMatchesDefinition) {
  auto c = make_cands({0.0f, std::log(3.0f)});
  softmax(c);
  EXPECT_NEAR(c[0].p, 0.25f, 1e-6);
  EXPECT_NEAR(c[1].p, 0.75f, 1e-6);

  const float inf = std::numeric_limits<float>::infinity();
  auto with_inf = make_cands({1.0f, inf, -inf, inf});
  softmax(with_inf);
  EXPECT_FLOAT_EQ(with_inf[0].p, 0.0f);
  EXPECT_FLOAT_EQ(with_inf[1].p, 0.5f);
  EXPECT_FLOAT_EQ(with_inf[3].p, 0.5f);

  auto all_neg_inf = make_cands({-inf, -inf});
  softmax(all_neg_inf);
  EXPECT_FLOAT_EQ(all_neg_inf[0].p, 0.5f);
}

TEST(SamplingStages, PenaltiesFollowLlamaCppAndOpenAiFormulas) {
  // repeat 2, window of the last 3 tokens = {0, 1, 1}; token 3 is older than the window.
  PenaltiesStage stage(4, 2.0f, 3, 0.5f, 0.25f);
  auto c = make_cands({2.0f, -1.0f, 0.5f, 3.0f});
  const std::vector<int32_t> history = {3, 0, 1, 1};
  stage.apply(c, history);
  EXPECT_FLOAT_EQ(logit_of(c, 0), 2.0f / 2 - (0.25f * 1 + 0.5f));   // positive: divided
  EXPECT_FLOAT_EQ(logit_of(c, 1), -1.0f * 2 - (0.25f * 2 + 0.5f));  // negative: multiplied
  EXPECT_FLOAT_EQ(logit_of(c, 2), 0.5f);                            // never seen
  EXPECT_FLOAT_EQ(logit_of(c, 3), 3.0f);                            // outside the window

  // Counts do not leak into the next call.
  auto again = make_cands({2.0f, -1.0f, 0.5f, 3.0f});
  const std::vector<int32_t> only_two = {2};
  stage.apply(again, only_two);
  EXPECT_FLOAT_EQ(logit_of(again, 0), 2.0f);
  EXPECT_FLOAT_EQ(logit_of(again, 2), 0.5f / 2 - 0.75f);
}

TEST(SamplingStages, PenaltiesWholeHistoryAndForeignIds) {
  PenaltiesStage whole(4, 2.0f, -1, 0.0f, 0.0f);
  auto c = make_cands({2.0f, -1.0f, 0.5f, 3.0f});
  const std::vector<int32_t> history = {3, -7, 99, 0};  // -7 and 99 are not vocabulary ids
  whole.apply(c, history);
  EXPECT_FLOAT_EQ(logit_of(c, 3), 1.5f);
  EXPECT_FLOAT_EQ(logit_of(c, 0), 1.0f);
  EXPECT_FLOAT_EQ(logit_of(c, 1), -1.0f);
  EXPECT_STREQ(whole.name(), "penalties(2.00,all)");
}

TEST(SamplingStages, TopKKeepsHighestWithLowestIdOnTies) {
  TopKStage top2(2);
  auto c = make_cands({1.0f, 5.0f, 3.0f, 5.0f, 2.0f});
  top2.apply(c, {});
  EXPECT_EQ(ids_of(c), (std::vector<int32_t>{1, 3}));

  TopKStage top10(10);
  auto all = make_cands({1.0f, 5.0f, 3.0f});
  top10.apply(all, {});
  EXPECT_EQ(ids_of(all), (std::vector<int32_t>{1, 2, 0}));
  EXPECT_THROW(TopKStage(0), hearth::Error);
}

TEST(SamplingStages, TopPKeepsSmallestPrefixReachingMass) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 given in shuffled id order.
  const std::vector<float> l = logits_for({0.15, 0.5, 0.05, 0.3});
  auto run = [&](float p) {
    TopPStage stage(p);
    auto c = make_cands(l);
    stage.apply(c, {});
    return ids_of(c);
  };
  EXPECT_EQ(run(0.75f), (std::vector<int32_t>{1, 3}));        // 0.5 + 0.3 >= 0.75
  EXPECT_EQ(run(0.81f), (std::vector<int32_t>{1, 3, 0}));     // needs 0.95
  EXPECT_EQ(run(0.0f), (std::vector<int32_t>{1}));            // at least one survives
  EXPECT_EQ(run(1.0f).size(), 4u);
  EXPECT_THROW(TopPStage(1.5f), hearth::Error);
}

TEST(SamplingStages, MinPKeepsTokensNearTheBestInOrder) {
  const std::vector<float> l = logits_for({0.15, 0.5, 0.05, 0.3});
  auto run = [&](float p) {
    MinPStage stage(p);
    auto c = make_cands(l);
    stage.apply(c, {});
    return ids_of(c);
  };
  EXPECT_EQ(run(0.2f), (std::vector<int32_t>{0, 1, 3}));  // p >= 0.1
  EXPECT_EQ(run(0.5f), (std::vector<int32_t>{1, 3}));     // p >= 0.25
  EXPECT_EQ(run(1.0f), (std::vector<int32_t>{1}));
}

TEST(SamplingStages, TemperatureDividesLogits) {
  TemperatureStage t(2.0f);
  auto c = make_cands({2.0f, -4.0f});
  t.apply(c, {});
  EXPECT_FLOAT_EQ(c[0].logit, 1.0f);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f);
  EXPECT_THROW(TemperatureStage(0.0f), hearth::Error);
}

TEST(Sampler, GreedyPicksArgmaxWithTiesToLowestId) {
  Sampler s(plain(0.0f), 5);
  const std::vector<float> l = {0.1f, 2.0f, -1.0f, 2.0f, 1.9f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  Sampler negative_t(plain(-1.0f), 5);
  EXPECT_EQ(negative_t.sample(l.data(), {}), 1);
  EXPECT_EQ(s.describe(), "greedy");
}

TEST(Sampler, GreedyStillAppliesPenalties) {
  Params p = plain(0.0f);
  p.repeat_penalty = 2.0f;
  Sampler s(p, 2);
  const std::vector<float> l = {3.0f, 2.0f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(s.sample(l.data(), history), 1);  // 3 / 2 < 2
  EXPECT_EQ(s.sample(l.data(), {}), 0);
}

TEST(Sampler, NanLogitsNeverWin) {
  Sampler s(plain(1.0f), 3);
  const std::vector<float> l = {NAN, 0.0f, NAN};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l.data(), {}), 1);
}

TEST(Sampler, TopKOneEqualsGreedy) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  Params p = plain(1.5f);
  p.top_k = 1;
  Sampler top1(p, 100);
  Sampler greedy(plain(0.0f), 100);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<float> l(100);
    for (auto& x : l) x = normal(gen);
    EXPECT_EQ(top1.sample(l.data(), {}), greedy.sample(l.data(), {}));
  }
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const std::vector<float> flat(50, 0.0f);
  auto draw = [&](uint64_t seed) {
    Params p = plain(1.0f);
    p.seed = seed;
    Sampler s(p, 50);
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) out.push_back(s.sample(flat.data(), {}));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  // 200 draws from 50 equally likely tokens agree by chance with probability 50^-200.
  EXPECT_NE(draw(42), draw(43));
}

// Pearson chi-square of observed counts against expected probabilities.
static double chi_square(const std::vector<int>& counts, const std::vector<double>& probs, int n) {
  double chi = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double e = probs[i] * n;
    if (e == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0 but was drawn";
      continue;
    }
    chi += (counts[i] - e) * (counts[i] - e) / e;
  }
  return chi;
}

TEST(Sampler, FrequenciesMatchSoftmaxAtTemperature) {
  const std::vector<float> l = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f, 0.0f};
  const float t = 0.7f;
  std::vector<double> probs;
  double z = 0.0;
  for (float x : l) z += std::exp(static_cast<double>(x) / t);
  for (float x : l) probs.push_back(std::exp(static_cast<double>(x) / t) / z);

  Sampler s(plain(t), 6);
  const int n = 60000;
  std::vector<int> counts(6, 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(l.data(), {})];
  // 5 degrees of freedom: P(chi2 > 20.5) = 0.001.
  EXPECT_LT(chi_square(counts, probs, n), 20.5);
}

TEST(Sampler, FrequenciesAfterTopKAreRenormalised) {
  const std::vector<float> l = {1.0f, 2.0f, 0.5f, 3.0f, -1.0f, 0.0f};
  Params p = plain(1.0f);
  p.top_k = 3;  // keeps ids 3, 1, 0
  Sampler s(p, 6);
  const double z = std::exp(3.0) + std::exp(2.0) + std::exp(1.0);
  const std::vector<double> probs = {std::exp(1.0) / z, std::exp(2.0) / z, 0, std::exp(3.0) / z, 0, 0};
  const int n = 30000;
  std::vector<int> counts(6, 0);
  for (int i = 0; i < n; ++i) ++counts[s.sample(l.data(), {})];
  // 2 degrees of freedom: P(chi2 > 13.8) = 0.001.
  EXPECT_LT(chi_square(counts, probs, n), 13.8);
}

class BanStage : public Stage {
 public:
  explicit BanStage(int32_t id) : id_(id) {}
  const char* name() const override { return "ban"; }
  void apply(std::vector<Candidate>& cands, std::span<const int32_t>) override {
    std::erase_if(cands, [&](const Candidate& c) { return id_ < 0 || c.id == id_; });
  }

 private:
  int32_t id_;
};

TEST(Sampler, FrontStagesRunFirst) {
  Sampler s(plain(0.0f), 3);
  s.add_stage_front(std::make_unique<BanStage>(2));
  const std::vector<float> l = {0.0f, 1.0f, 5.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 1);
  EXPECT_EQ(s.describe(), "ban -> greedy");

  s.add_stage_front(std::make_unique<BanStage>(-1));  // bans everything
  EXPECT_THROW(s.sample(l.data(), {}), hearth::Error);
}

TEST(Sampler, DescribeListsTheChain) {
  Params p;
  p.repeat_penalty = 1.1f;
  p.seed = 42;
  Sampler s(p, 10);
  EXPECT_EQ(s.describe(),
            "penalties(1.10,last 64) -> top-k 40 -> top-p 0.95 -> min-p 0.05 -> temp 0.80 -> "
            "dist(seed 42)");
  Params random_seed;
  Sampler r(random_seed, 10);
  EXPECT_NE(r.seed(), Params::kRandomSeed);
}

TEST(Sampler, RejectsBadParams) {
  Params p;
  p.top_p = 1.5f;
  EXPECT_THROW(Sampler(p, 10), hearth::Error);
  p = Params{};
  p.temperature = NAN;
  EXPECT_THROW(Sampler(p, 10), hearth::Error);
  p = Params{};
  p.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(p, 10), hearth::Error);
  p = Params{};
  p.repeat_last_n = -2;
  EXPECT_THROW(Sampler(p, 10), hearth::Error);
  EXPECT_THROW(Sampler(Params{}, 0), hearth::Error);
  Sampler ok(Params{}, 10);
  EXPECT_THROW(ok.sample(nullptr, {}), hearth::Error);
}

TEST(Sampler, SamplingAllocatesNothingPerToken) {
  Params p;
  p.repeat_penalty = 1.1f;
  p.presence_penalty = 0.2f;
  p.top_k = 0;  // full sort in top-p
  p.seed = 5;
  const int32_t n_vocab = 1000;
  Sampler s(p, n_vocab);
  std::vector<float> logits(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) logits[i] = std::sin(0.37f * i) * 4.0f;
  std::vector<int32_t> history;
  history.reserve(200);
  history.push_back(s.sample(logits.data(), history));  // first call may size buffers

  const long probe = g_allocations.load();
  auto counted = std::make_unique<int>(1);
  ASSERT_GT(g_allocations.load() - probe, 0) << "the allocation counter is not hooked up";

  const long before = g_allocations.load();
  for (int i = 0; i < 100; ++i) history.push_back(s.sample(logits.data(), history));
  EXPECT_EQ(g_allocations.load() - before, 0);
}
