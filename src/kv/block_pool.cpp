#include "kv/block_pool.h"

#include <algorithm>

#include "core/error.h"

namespace hearth::kv {

namespace {
// splitmix64's finalizer: every input bit affects every output bit.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
}  // namespace

BlockHash hash_block(BlockHash parent, std::span<const int32_t> tokens) {
  uint64_t h = mix(parent ^ 0x9e3779b97f4a7c15ull);
  for (int32_t t : tokens) h = mix(h ^ static_cast<uint32_t>(t)) + 0x9e3779b97f4a7c15ull;
  return mix(h ^ tokens.size());
}

std::vector<BlockHash> hash_full_blocks(std::span<const int32_t> tokens, int64_t block_size) {
  std::vector<BlockHash> out;
  if (block_size <= 0) return out;
  const size_t n_full = tokens.size() / static_cast<size_t>(block_size);
  out.reserve(n_full);
  BlockHash parent = kRootBlockHash;
  for (size_t b = 0; b < n_full; ++b) {
    parent = hash_block(parent, tokens.subspan(b * block_size, block_size));
    out.push_back(parent);
  }
  return out;
}

BlockPool::BlockPool(int64_t n_blocks, int64_t block_size, bool caching)
    : block_size_(block_size), caching_(caching) {
  if (n_blocks <= 0 || block_size <= 0)
    fail("invalid KV block pool: {} blocks of {} tokens", n_blocks, block_size);
  const size_t n = static_cast<size_t>(n_blocks);
  refs_.assign(n, 0);
  registered_.assign(n, 0);
  hash_.assign(n, 0);
  parent_.assign(n, 0);
  if (caching) tokens_.assign(n * static_cast<size_t>(block_size), 0);
  prev_.assign(n, -1);
  next_.assign(n, -1);
  empty_.reserve(n);
  // Hand out low ids first (keeps the used part of the pool compact).
  for (int64_t b = n_blocks - 1; b >= 0; --b) empty_.push_back(static_cast<int32_t>(b));
}

int32_t BlockPool::lookup(BlockHash hash) const {
  auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? -1 : it->second;
}

bool BlockPool::holds(int32_t block, BlockHash parent, std::span<const int32_t> tokens) const {
  if (parent_[block] != parent) return false;
  const int32_t* stored = tokens_.data() + static_cast<size_t>(block) * block_size_;
  return std::equal(tokens.begin(), tokens.end(), stored);
}

BlockPool::PrefixHit BlockPool::find_prefix(std::span<const BlockHash> hashes,
                                            std::span<const int32_t> tokens,
                                            int64_t max_blocks) const {
  PrefixHit hit;
  if (!caching_) return hit;
  const int64_t limit = std::min<int64_t>({max_blocks, static_cast<int64_t>(hashes.size()),
                                           static_cast<int64_t>(tokens.size()) / block_size_});
  BlockHash parent = kRootBlockHash;
  for (int64_t b = 0; b < limit; ++b) {
    const int32_t block = lookup(hashes[b]);
    if (block < 0 || !holds(block, parent, tokens.subspan(b * block_size_, block_size_))) break;
    ++hit.n_blocks;
    if (refs_[block] == 0) ++hit.n_free;
    parent = hashes[b];
  }
  return hit;
}

std::vector<int32_t> BlockPool::acquire_prefix(std::span<const BlockHash> hashes,
                                               std::span<const int32_t> tokens,
                                               int64_t max_blocks) {
  const PrefixHit hit = find_prefix(hashes, tokens, max_blocks);
  std::vector<int32_t> blocks;
  blocks.reserve(static_cast<size_t>(hit.n_blocks));
  for (int64_t b = 0; b < hit.n_blocks; ++b) {
    const int32_t block = lookup(hashes[b]);
    if (refs_[block] == 0) {
      lru_remove(block);
      --n_cached_;
    }
    ++refs_[block];
    blocks.push_back(block);
  }
  return blocks;
}

bool BlockPool::allocate(int64_t n, std::vector<int32_t>& out) {
  if (n <= 0) return true;
  if (n > n_free()) return false;
  for (int64_t i = 0; i < n; ++i) {
    int32_t block;
    if (!empty_.empty()) {
      block = empty_.back();
      empty_.pop_back();
    } else {
      block = lru_head_;  // the least recently released cached block
      lru_remove(block);
      --n_cached_;
      forget(block);
    }
    refs_[block] = 1;
    out.push_back(block);
  }
  return true;
}

void BlockPool::register_full(int32_t block, BlockHash parent, BlockHash hash,
                              std::span<const int32_t> tokens) {
  if (!caching_ || registered_[block]) return;
  if (refs_[block] <= 0) fail("internal error: registering KV block {} that nobody holds", block);
  if (static_cast<int64_t>(tokens.size()) != block_size_)
    fail("internal error: registering KV block {} with {} tokens, not {}", block, tokens.size(),
         block_size_);
  if (lookup(hash) >= 0) return;  // the same content lives in another block already
  registered_[block] = 1;
  hash_[block] = hash;
  parent_[block] = parent;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<size_t>(block) * block_size_);
  by_hash_.emplace(hash, block);
}

void BlockPool::forget(int32_t block) {
  if (!registered_[block]) return;
  auto it = by_hash_.find(hash_[block]);
  if (it != by_hash_.end() && it->second == block) by_hash_.erase(it);
  registered_[block] = 0;
}

void BlockPool::release(std::span<const int32_t> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    const int32_t block = *it;
    if (block < 0 || block >= n_total() || refs_[block] <= 0)
      fail("internal error: releasing KV block {} that is not held", block);
    if (--refs_[block] > 0) continue;
    if (registered_[block]) {
      lru_push_back(block);
      ++n_cached_;
    } else {
      empty_.push_back(block);
    }
  }
}

void BlockPool::lru_push_back(int32_t block) {
  prev_[block] = lru_tail_;
  next_[block] = -1;
  if (lru_tail_ >= 0) next_[lru_tail_] = block;
  else lru_head_ = block;
  lru_tail_ = block;
}

void BlockPool::lru_remove(int32_t block) {
  const int32_t p = prev_[block], n = next_[block];
  if (p >= 0) next_[p] = n;
  else lru_head_ = n;
  if (n >= 0) prev_[n] = p;
  else lru_tail_ = p;
  prev_[block] = next_[block] = -1;
}

}  // namespace hearth::kv
