#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"

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
            EXPECT_EQ(view.key_at(p, h, i), tag(l, s, p, 3 * h + i, 0));
            EXPECT_EQ(view.value_at(p, h, i), tag(l, s, p, 3 * h + i, 1));
            EXPECT_EQ(cache.key(l, s, p, h)[i], tag(l, s, p, 3 * h + i, 0));
          }
    }
}

TEST(KVCache, OneHeadsRowsOfABlockAreContiguous) {
  kv::KVCache cache(small(4));
  ASSERT_TRUE(cache.reserve(1, 8));
  const ops::PagedKV view = cache.view(0, 1);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t p = 0; p < 3; ++p) EXPECT_EQ(view.key<float>(p + 1, h), view.key<float>(p, h) + 3);
  EXPECT_EQ(view.key<float>(0, 1), view.key<float>(0, 0) + 4 * 3);  // the next head after the block's rows
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

TEST(KVCache, F16CacheStoresEachElementRoundedToNearestAndHalvesTheBytes) {
  kv::KVCacheConfig c = small(6);
  const int64_t f32_bytes = c.bytes();
  c.type = kv::KVType::F16;
  EXPECT_EQ(c.bytes(), f32_bytes / 2);
  kv::KVCache cache(c);
  ASSERT_TRUE(cache.reserve(1, 10));
  ASSERT_TRUE(cache.reserve(2, 10));
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> value(0.0f, 3.0f);
  auto as_f16 = [](float x) { return fp16_to_fp32(fp32_to_fp16(x)); };
  // Every (layer, seq, pos) gets its own random rows (more than 8 elements would take the
  // vector kernels' full-width path; 6 takes their tails).
  std::vector<std::vector<float>> written;
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2})
      for (int64_t p = 0; p < 10; ++p) {
        std::vector<float> kv(12);
        for (float& x : kv) x = value(rng);
        cache.store(l, s, p, kv.data(), kv.data() + 6);
        written.push_back(kv);
      }
  size_t next = 0;
  std::vector<float> k(6), v(6);
  for (int64_t l = 0; l < 2; ++l)
    for (int32_t s : {1, 2}) {
      const ops::PagedKV view = cache.view(l, s);
      EXPECT_EQ(view.type, kv::KVType::F16);
      for (int64_t p = 0; p < 10; ++p) {
        const std::vector<float>& w = written[next++];
        cache.load(l, s, p, k.data(), v.data());
        for (int64_t i = 0; i < 6; ++i) {
          EXPECT_EQ(k[i], as_f16(w[i]));
          EXPECT_EQ(v[i], as_f16(w[6 + i]));
          EXPECT_EQ(view.key<uint16_t>(p, i / 3)[i % 3], fp32_to_fp16(w[i]));
        }
      }
    }
  // Float rows only exist in an F32 cache.
  EXPECT_THROW(cache.key(0, 1, 0), std::exception);
}

TEST(KVCache, F16StoreRoundsTiesToEvenOnEveryLevel) {
  // 1 + 2^-11 lies halfway between two half floats (1 and 1 + 2^-10): ties go to the even one,
  // 1; 1 + 3 * 2^-11 goes up to 1 + 2^-9. 65520 overflows to infinity; tiny values flush
  // to half subnormals. Long rows take the vector path, the last elements its tail.
  kv::KVCacheConfig c;
  c.n_layers = 1;
  c.kv_dim = 40;
  c.block_size = 1;
  c.n_blocks = 1;
  c.type = kv::KVType::F16;
  kv::KVCache cache(c);
  ASSERT_TRUE(cache.reserve(0, 1));
  std::vector<float> row(40);
  const float specials[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65520.0f, -65519.0f, 0x1p-20f,
                            -0.0f, 0.1f};
  for (size_t i = 0; i < row.size(); ++i) row[i] = specials[i % 7];
  cache.store(0, 0, 0, row.data(), row.data());
  std::vector<float> k(40), v(40);
  cache.load(0, 0, 0, k.data(), v.data());
  for (size_t i = 0; i < row.size(); ++i) EXPECT_EQ(fp32_to_fp16(k[i]), fp32_to_fp16(row[i])) << i;
  EXPECT_EQ(k[0], 1.0f);
  EXPECT_EQ(k[1], 1.0f + 0x1p-9f);
  EXPECT_TRUE(std::isinf(k[2]));
}
