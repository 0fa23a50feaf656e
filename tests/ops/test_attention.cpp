// Paged attention against the textbook reference: several sequences in one batch, GQA,
// blocks scattered through the pool, sliding window.
#include <gtest/gtest.h>

#include <random>

#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "ops/attention.h"

using namespace hearth;

namespace {

struct Case {
  int64_t n_heads, n_kv_heads, head_dim, window;
};

void check(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  kv::KVCacheConfig cfg{1, c.n_kv_heads * c.head_dim, 4, 64, c.head_dim};
  kv::KVCache cache(cfg);
  // Interleaved growth so the sequences' blocks are not contiguous in the pool.
  const std::vector<int64_t> lengths{13, 1, 30};
  for (int64_t step = 4; step <= 32; step += 4)
    for (int32_t s = 0; s < 3; ++s) ASSERT_TRUE(cache.reserve(s, std::min(step, lengths[s])));
  std::vector<float> k(cfg.kv_dim), v(cfg.kv_dim);
  for (int32_t s = 0; s < 3; ++s)
    for (int64_t p = 0; p < lengths[s]; ++p) {
      for (int64_t i = 0; i < cfg.kv_dim; ++i) k[i] = normal(rng), v[i] = normal(rng);
      cache.store(0, s, p, k.data(), v.data());
    }
  // Batch: last token of each sequence plus an early token of sequence 2.
  const std::vector<int32_t> seqs{0, 1, 2, 2}, positions{12, 0, 29, 5};
  const int64_t n = 4, q_dim = c.n_heads * c.head_dim;
  std::vector<float> q(n * q_dim), out(n * q_dim), expected(n * q_dim);
  for (auto& x : q) x = normal(rng);
  std::vector<ops::PagedKV> views;
  for (int32_t s : seqs) views.push_back(cache.view(0, s));
  const ops::AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, 0.35f, c.window};
  ops::ref::attention(q.data(), n, positions.data(), views.data(), shape, expected.data());
  // Two and three threads: the (token, KV head) items split evenly and unevenly.
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::fill(out.begin(), out.end(), NAN);
    ops::attention(q.data(), n, positions.data(), views.data(), shape, out.data(), pool);
    for (int64_t i = 0; i < n * q_dim; ++i)
      ASSERT_NEAR(out[i], expected[i], 1e-5) << "seed " << seed << " at " << i << ", " << threads << " threads";
  }
}

}  // namespace

TEST(Attention, MatchesReferenceMultiHead) { check({4, 4, 8, 0}, std::random_device{}()); }
TEST(Attention, MatchesReferenceGroupedQuery) { check({8, 2, 16, 0}, std::random_device{}()); }
TEST(Attention, MatchesReferenceSlidingWindow) { check({4, 2, 8, 7}, std::random_device{}()); }

TEST(Attention, SinglePositionReturnsItsValue) {
  kv::KVCache cache({1, 2, 4, 2});
  ASSERT_TRUE(cache.reserve(0, 1));
  cache.key(0, 0, 0)[0] = 3.0f;
  cache.value(0, 0, 0)[0] = 5.0f;
  cache.value(0, 0, 0)[1] = -2.0f;
  const float q[2] = {1.0f, 1.0f};
  float out[2];
  const int32_t pos = 0;
  const ops::PagedKV view = cache.view(0, 0);
  ThreadPool pool(1);
  ops::attention(q, 1, &pos, &view, {1, 1, 2, 1.0f, 0}, out, pool);
  EXPECT_FLOAT_EQ(out[0], 5.0f);
  EXPECT_FLOAT_EQ(out[1], -2.0f);
}
