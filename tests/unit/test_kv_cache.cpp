#include <gtest/gtest.h>

#include <vector>

#include "kv/kv_cache.h"

using namespace hearth;

namespace {
kv::KVCacheConfig small(int64_t n_blocks) {
  kv::KVCacheConfig c;
  c.n_layers = 2;
  c.kv_dim = 6;  // two KV heads of 3
  c.head_dim = 3;
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

TEST(KVCache, RowsOfDifferentSequencesLayersAndHeadsNeverOverlap) {
  kv::KVCache cache(small(6));
  ASSERT_TRUE(cache.reserve(1, 10));
  ASSERT_TRUE(cache.reserve(2, 10));
  // Store a distinct value into every (layer, seq, pos, head, element, k/v), then read all back
  // through the view attention reads.
  auto tag = [](int64_t l, int32_t s, int64_t p, int64_t i, int kv) {
    return float(l * 10000 + s * 1000 + p * 20 + i * 2 + kv);
  };
  std::vector<float> k(6), v(6);
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2})
      for (int64_t p = 0; p < 10; ++p) {
        for (int64_t i = 0; i < 6; ++i) k[i] = tag(l, s, p, i, 0), v[i] = tag(l, s, p, i, 1);
        cache.store(l, s, p, k.data(), v.data());
      }
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2}) {
      const ops::PagedKV view = cache.view(l, s);
      for (int64_t p = 0; p < 10; ++p)
        for (int64_t h = 0; h < 2; ++h)
          for (int64_t i = 0; i < 3; ++i) {
            EXPECT_EQ(view.key(p, h)[i], tag(l, s, p, 3 * h + i, 0));
            EXPECT_EQ(view.value(p, h)[i], tag(l, s, p, 3 * h + i, 1));
            EXPECT_EQ(cache.key(l, s, p, h)[i], tag(l, s, p, 3 * h + i, 0));
          }
    }
}

TEST(KVCache, OneHeadsRowsOfABlockAreContiguous) {
  kv::KVCache cache(small(4));
  ASSERT_TRUE(cache.reserve(1, 8));
  const ops::PagedKV view = cache.view(0, 1);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t p = 0; p < 3; ++p) EXPECT_EQ(view.key(p + 1, h), view.key(p, h) + 3);
  EXPECT_EQ(view.key(0, 1), view.key(0, 0) + 4 * 3);  // the next head after the block's rows
}

TEST(KVCache, HeadSizeMustDivideTheRow) {
  kv::KVCacheConfig c = small(2);
  c.head_dim = 4;
  EXPECT_THROW(kv::KVCache{c}, std::exception);
}

TEST(KVCache, OutOfRangePositionIsAnError) {
  kv::KVCache cache(small(2));
  ASSERT_TRUE(cache.reserve(1, 4));
  EXPECT_THROW(cache.key(0, 1, 4), std::exception);
  EXPECT_THROW(cache.key(0, 9, 0), std::exception);
  const std::vector<float> row(6);
  EXPECT_THROW(cache.store(0, 1, 4, row.data(), row.data()), std::exception);
}
