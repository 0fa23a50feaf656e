// The KV block pool with prefix caching: hashing, sharing, LRU eviction, reference counts.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "core/error.h"
#include "kv/block_pool.h"
#include "kv/kv_cache.h"

using namespace hearth::kv;

namespace {

constexpr int64_t kBlock = 4;

std::vector<int32_t> iota_tokens(int n, int32_t first = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

// What the engine does once a sequence's tokens are computed: registers its full blocks.
void register_all(BlockPool& pool, const std::vector<int32_t>& blocks,
                  const std::vector<int32_t>& tokens) {
  const auto hashes = hash_full_blocks(tokens, kBlock);
  for (size_t b = 0; b < hashes.size() && b < blocks.size(); ++b) {
    const BlockHash parent = b == 0 ? kRootBlockHash : hashes[b - 1];
    pool.register_full(blocks[b], parent, hashes[b],
                       std::span<const int32_t>(tokens).subspan(b * kBlock, kBlock));
  }
}

// A sequence as the engine runs it: take the cached prefix, allocate the rest, register.
std::vector<int32_t> run_sequence(BlockPool& pool, const std::vector<int32_t>& tokens,
                                  int64_t* hit_blocks = nullptr) {
  const auto hashes = hash_full_blocks(tokens, kBlock);
  const int64_t max_blocks = (static_cast<int64_t>(tokens.size()) - 1) / kBlock;
  std::vector<int32_t> blocks = pool.acquire_prefix(hashes, tokens, max_blocks);
  if (hit_blocks) *hit_blocks = static_cast<int64_t>(blocks.size());
  const int64_t need = (static_cast<int64_t>(tokens.size()) + kBlock - 1) / kBlock -
                       static_cast<int64_t>(blocks.size());
  EXPECT_TRUE(pool.allocate(need, blocks));
  register_all(pool, blocks, tokens);
  return blocks;
}

}  // namespace

TEST(BlockHash, ChainsThePrefixAndDependsOnEveryToken) {
  const auto a = iota_tokens(12);
  auto b = a;
  b[1] += 1;  // differs in the first block only
  const auto ha = hash_full_blocks(a, kBlock), hb = hash_full_blocks(b, kBlock);
  ASSERT_EQ(ha.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_NE(ha[i], hb[i]) << "block " << i;  // chained
  // Same block content after a different prefix: a different hash.
  EXPECT_NE(hash_block(kRootBlockHash, std::span(a).subspan(4, 4)), ha[1]);
  EXPECT_EQ(hash_block(ha[0], std::span(a).subspan(4, 4)), ha[1]);
  // Only full blocks are hashed.
  EXPECT_EQ(hash_full_blocks(iota_tokens(11), kBlock).size(), 2u);
  EXPECT_EQ(hash_full_blocks(iota_tokens(3), kBlock).size(), 0u);
  // Order matters within a block.
  EXPECT_NE(hash_block(kRootBlockHash, std::vector<int32_t>{1, 2, 3, 4}),
            hash_block(kRootBlockHash, std::vector<int32_t>{2, 1, 3, 4}));
}

TEST(BlockPool, SharedPrefixIsReusedWithReferenceCounts) {
  BlockPool pool(16, kBlock);
  auto first = iota_tokens(10);  // blocks: [0..3] [4..7] [8,9 partial]
  int64_t hits = -1;
  const auto a = run_sequence(pool, first, &hits);
  EXPECT_EQ(hits, 0);
  EXPECT_EQ(pool.n_used(), 3);
  // A second sequence with the same first 8 tokens then something else.
  auto second = first;
  second.resize(8);
  for (int32_t t : {7, 7, 7, 7, 7}) second.push_back(t);
  const auto b = run_sequence(pool, second, &hits);
  EXPECT_EQ(hits, 2);
  EXPECT_EQ(b[0], a[0]);
  EXPECT_EQ(b[1], a[1]);
  EXPECT_NE(b[2], a[2]);
  EXPECT_EQ(pool.ref_count(a[0]), 2);
  EXPECT_EQ(pool.ref_count(a[2]), 1);
  EXPECT_EQ(pool.n_used(), 5);  // 3 + 2 new

  pool.release(a);
  EXPECT_EQ(pool.ref_count(a[0]), 1);
  EXPECT_EQ(pool.n_used(), 4);
  pool.release(b);
  for (int32_t blk : a) EXPECT_EQ(pool.ref_count(blk), 0);
  for (int32_t blk : b) EXPECT_EQ(pool.ref_count(blk), 0);
  EXPECT_EQ(pool.n_used(), 0);
  EXPECT_EQ(pool.n_free(), 16);
  // Full blocks keep their content: [a0 a1] + b's third block (full: tokens 8..11).
  EXPECT_EQ(pool.n_cached(), 3);
}

TEST(BlockPool, FreedBlocksStayFindableUntilReused) {
  BlockPool pool(8, kBlock);
  const auto turn1 = iota_tokens(9);
  pool.release(run_sequence(pool, turn1));
  EXPECT_EQ(pool.n_used(), 0);
  // The next turn of the conversation: turn 1's text plus more.
  auto turn2 = turn1;
  for (int32_t t : {1, 2, 3, 4, 5, 6}) turn2.push_back(t);
  const auto hashes = hash_full_blocks(turn2, kBlock);
  const BlockPool::PrefixHit hit = pool.find_prefix(hashes, turn2, 100);
  EXPECT_EQ(hit.n_blocks, 2);
  EXPECT_EQ(hit.n_free, 2);  // taking them takes them out of the free pool
  int64_t hits = 0;
  const auto b = run_sequence(pool, turn2, &hits);
  EXPECT_EQ(hits, 2);
  EXPECT_EQ(pool.n_cached(), 0);
}

TEST(BlockPool, EvictsEmptyBlocksFirstThenLeastRecentlyReleased) {
  BlockPool pool(4, kBlock);
  const auto x = iota_tokens(5, 0);    // 1 full block + 1 partial
  const auto y = iota_tokens(5, 500);  // another
  const auto bx = run_sequence(pool, x);
  const auto by = run_sequence(pool, y);
  pool.release(bx);  // x's full block becomes cached first ...
  pool.release(by);  // ... then y's
  EXPECT_EQ(pool.n_cached(), 2);
  EXPECT_EQ(pool.n_free(), 4);
  // Two blocks: the two partial ones (holding nothing reusable) go first.
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(2, got));
  EXPECT_EQ(pool.n_cached(), 2);
  // One more: the least recently released cached block, x's.
  ASSERT_TRUE(pool.allocate(1, got));
  EXPECT_EQ(got.back(), bx[0]);
  EXPECT_EQ(pool.find_prefix(hash_full_blocks(x, kBlock), x, 10).n_blocks, 0);
  EXPECT_EQ(pool.find_prefix(hash_full_blocks(y, kBlock), y, 10).n_blocks, 1);
  // Nothing is handed out twice, and a request beyond the free count takes nothing.
  EXPECT_FALSE(pool.allocate(2, got));
  EXPECT_EQ(got.size(), 3u);
  ASSERT_TRUE(pool.allocate(1, got));
  EXPECT_EQ(std::set<int32_t>(got.begin(), got.end()).size(), 4u);
  EXPECT_EQ(pool.n_free(), 0);
  pool.release(got);
  EXPECT_EQ(pool.n_free(), 4);
  EXPECT_EQ(pool.n_cached(), 0);
}

TEST(BlockPool, ASequenceIsReleasedLastBlockFirstSoItsPrefixIsEvictedLast) {
  BlockPool pool(3, kBlock);
  const auto t = iota_tokens(12);  // 3 full blocks
  std::vector<int32_t> blocks;
  ASSERT_TRUE(pool.allocate(3, blocks));
  register_all(pool, blocks, t);
  pool.release(blocks);
  std::vector<int32_t> one;
  ASSERT_TRUE(pool.allocate(1, one));
  EXPECT_EQ(one[0], blocks[2]);  // the last block goes first: the prefix stays usable
  EXPECT_EQ(pool.find_prefix(hash_full_blocks(t, kBlock), t, 10).n_blocks, 2);
}

TEST(BlockPool, DuplicateContentStaysUnregisteredAndFreesPlainly) {
  BlockPool pool(4, kBlock);
  const auto t = iota_tokens(4);
  std::vector<int32_t> a, b;
  ASSERT_TRUE(pool.allocate(1, a));
  ASSERT_TRUE(pool.allocate(1, b));
  register_all(pool, a, t);
  register_all(pool, b, t);  // same content computed twice (e.g. concurrently)
  EXPECT_TRUE(pool.is_registered(a[0]));
  EXPECT_FALSE(pool.is_registered(b[0]));
  pool.release(b);
  EXPECT_EQ(pool.n_cached(), 0);
  pool.release(a);
  EXPECT_EQ(pool.n_cached(), 1);
}

TEST(BlockPool, TokensAreComparedSoAWrongParentOrContentNeverHits) {
  BlockPool pool(4, kBlock);
  const auto t = iota_tokens(8);
  const auto blocks = run_sequence(pool, t);
  // Ask with t's hashes but other tokens (what a hash collision would look like).
  auto other = t;
  other[5] = 1;
  EXPECT_EQ(pool.find_prefix(hash_full_blocks(t, kBlock), other, 10).n_blocks, 1);
  other[0] = 1;
  EXPECT_EQ(pool.find_prefix(hash_full_blocks(t, kBlock), other, 10).n_blocks, 0);
  pool.release(blocks);
}

TEST(BlockPool, CachingOffNeverReuses) {
  BlockPool pool(4, kBlock, /*caching=*/false);
  const auto t = iota_tokens(9);
  pool.release(run_sequence(pool, t));
  EXPECT_EQ(pool.n_cached(), 0);
  int64_t hits = -1;
  pool.release(run_sequence(pool, t, &hits));
  EXPECT_EQ(hits, 0);
}

TEST(BlockPool, ReleasingABlockNobodyHoldsIsAnError) {
  BlockPool pool(2, kBlock);
  std::vector<int32_t> b;
  ASSERT_TRUE(pool.allocate(1, b));
  pool.release(b);
  EXPECT_THROW(pool.release(b), hearth::Error);
  EXPECT_THROW(pool.release(std::vector<int32_t>{7}), hearth::Error);
  EXPECT_THROW(BlockPool(0, 4), hearth::Error);
}

TEST(KVCacheTables, ExternalBlockTablesAddressTheGivenBlocks) {
  KVCacheConfig c;
  c.n_layers = 1;
  c.kv_dim = 2;
  c.block_size = kBlock;
  c.n_blocks = 4;
  KVCache cache(c);
  // Two sequences sharing block 3 as their first block.
  cache.set_block_table(1, {3, 0});
  cache.set_block_table(2, {3, 1});
  EXPECT_EQ(cache.capacity(1), 8);
  cache.key(0, 1, 2)[0] = 42.0f;
  EXPECT_EQ(cache.view(0, 2).key<float>(2, 0)[0], 42.0f);  // the shared block
  cache.key(0, 2, 5)[0] = 7.0f;
  EXPECT_NE(cache.view(0, 1).key<float>(5, 0)[0], 7.0f);  // their own second blocks
  cache.drop_block_table(1);
  EXPECT_EQ(cache.capacity(1), 0);
  EXPECT_THROW(cache.set_block_table(1, {4}), hearth::Error);  // outside the pool
  // Mixing with reserve() would hand blocks out twice.
  EXPECT_THROW(cache.reserve(5, 4), hearth::Error);
}
