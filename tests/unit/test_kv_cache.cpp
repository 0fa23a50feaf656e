#include <gtest/gtest.h>

#include "kv/kv_cache.h"

using namespace hearth;

namespace {
kv::KVCacheConfig small(int64_t n_blocks) {
  kv::KVCacheConfig c;
  c.n_layers = 2;
  c.kv_dim = 3;
  c.block_size = 4;
  c.n_blocks = n_blocks;
  return c;
}
}  // namespace

TEST(KVCache, ReservesWholeBlocksAndRefusesWhenFull) {
  kv::KVCache cache(small(5));
  EXPECT_TRUE(cache.reserve(1, 9));  // 3 blocks
  EXPECT_EQ(cache.capacity(1), 12);
  EXPECT_EQ(cache.blocks_free(), 2);
  EXPECT_FALSE(cache.reserve(2, 12));  // needs 3, only 2 free: nothing taken
  EXPECT_EQ(cache.blocks_free(), 2);
  EXPECT_EQ(cache.capacity(2), 0);
  EXPECT_TRUE(cache.reserve(2, 8));
  EXPECT_EQ(cache.blocks_free(), 0);
  cache.release(1);
  EXPECT_EQ(cache.blocks_free(), 3);
  EXPECT_EQ(cache.capacity(1), 0);
  EXPECT_TRUE(cache.reserve(1, 12));
}

TEST(KVCache, RowsOfDifferentSequencesAndLayersNeverOverlap) {
  kv::KVCache cache(small(6));
  ASSERT_TRUE(cache.reserve(1, 10));
  ASSERT_TRUE(cache.reserve(2, 10));
  // Write a distinct value into every (layer, seq, pos, k/v) row, then read all back.
  auto tag = [](int64_t l, int32_t s, int64_t p, int kv) { return float(l * 1000 + s * 100 + p * 2 + kv); };
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2})
      for (int64_t p = 0; p < 10; ++p) {
        std::fill_n(cache.key_row(l, s, p), 3, tag(l, s, p, 0));
        std::fill_n(cache.value_row(l, s, p), 3, tag(l, s, p, 1));
      }
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2}) {
      const ops::PagedKV v = cache.view(l, s);
      for (int64_t p = 0; p < 10; ++p) {
        EXPECT_EQ(v.key(p)[2], tag(l, s, p, 0));
        EXPECT_EQ(v.value(p)[0], tag(l, s, p, 1));
      }
    }
}

TEST(KVCache, OutOfRangePositionIsAnError) {
  kv::KVCache cache(small(2));
  ASSERT_TRUE(cache.reserve(1, 4));
  EXPECT_THROW(cache.key_row(0, 1, 4), std::exception);
  EXPECT_THROW(cache.key_row(0, 9, 0), std::exception);
}
