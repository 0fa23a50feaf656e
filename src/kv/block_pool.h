// The engine's KV block pool with prefix caching (vLLM's automatic prefix caching).
//
// Blocks are reference-counted: a block holding part of a prompt that several sequences
// share (a system prompt, the earlier turns of a conversation) is referenced by each of them.
// A block whose token positions are all computed is "full" and immutable; it is registered
// under a content hash: the hash of its token ids chained with the previous block's hash, so
// equal hashes mean equal whole prefixes. A new sequence whose prompt starts with registered
// blocks takes references on them instead of recomputing their keys and values.
//
// A block whose last reference goes away is free but keeps its content and hash (it is
// "cached") until the pool needs it for something else; cached blocks are reused least
// recently released first, after blocks that hold nothing reusable. So the next turn of a
// conversation, or a later request with the same system prompt, finds its prefix again.
//
// Not thread-safe: the engine's step thread owns it.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace hearth::kv {

using BlockHash = uint64_t;

// The parent hash of a sequence's first block.
inline constexpr BlockHash kRootBlockHash = 0x6a09e667f3bcc908ull;

// Hash of one full block: its token ids chained with the previous block's hash.
BlockHash hash_block(BlockHash parent, std::span<const int32_t> tokens);

// Chained hashes of the full blocks of `tokens` (tokens.size() / block_size of them).
std::vector<BlockHash> hash_full_blocks(std::span<const int32_t> tokens, int64_t block_size);

class BlockPool {
 public:
  // caching = false: blocks are never registered, so nothing is ever reused.
  BlockPool(int64_t n_blocks, int64_t block_size, bool caching = true);

  struct PrefixHit {
    int64_t n_blocks = 0;  // leading blocks of the sequence found in the pool
    int64_t n_free = 0;    // how many of those are free now (they leave the free pool if taken)
  };
  // How many leading full blocks of a sequence are in the pool, given the chained hashes of
  // its full blocks and its tokens (block b holds tokens[b*block_size, (b+1)*block_size)), at
  // most `max_blocks`. Tokens are compared too, so a hash collision can never share wrong
  // keys and values. Changes nothing.
  PrefixHit find_prefix(std::span<const BlockHash> hashes, std::span<const int32_t> tokens,
                        int64_t max_blocks) const;
  // Like find_prefix, and takes one reference on each block found; returns their ids in order.
  std::vector<int32_t> acquire_prefix(std::span<const BlockHash> hashes,
                                      std::span<const int32_t> tokens, int64_t max_blocks);

  // Appends `n` fresh blocks (one reference each) to `out`, reusing blocks that hold nothing
  // first, then the least recently released cached ones (forgetting their content). False,
  // and nothing taken, when fewer than n blocks are free.
  bool allocate(int64_t n, std::vector<int32_t>& out);

  // Records that `block` (referenced, all its positions computed) holds `tokens` (exactly
  // block_size of them) after the prefix whose last block hash is `parent`; `hash` =
  // hash_block(parent, tokens). No effect when caching is off, when the block is registered
  // already, or when another block holds the same content (this one then stays unregistered
  // and returns to the plain free list when released).
  void register_full(int32_t block, BlockHash parent, BlockHash hash,
                     std::span<const int32_t> tokens);

  // Drops one reference to each block. A block whose count reaches zero is free; registered
  // blocks keep their content. Pass a sequence's blocks in position order: they are released
  // last-first, so a prefix's later blocks are evicted before its first ones (a later block
  // is useless without the ones before it).
  void release(std::span<const int32_t> blocks);

  int32_t ref_count(int32_t block) const { return refs_.at(static_cast<size_t>(block)); }
  bool is_registered(int32_t block) const { return registered_.at(static_cast<size_t>(block)); }
  int64_t block_size() const { return block_size_; }
  int64_t n_total() const { return static_cast<int64_t>(refs_.size()); }
  int64_t n_free() const { return static_cast<int64_t>(empty_.size()) + n_cached_; }
  int64_t n_cached() const { return n_cached_; }  // free, holding a reusable prefix
  int64_t n_used() const { return n_total() - n_free(); }

 private:
  bool holds(int32_t block, BlockHash parent, std::span<const int32_t> tokens) const;
  int32_t lookup(BlockHash hash) const;  // -1: none
  void forget(int32_t block);            // drops a cached block's registration
  void lru_push_back(int32_t block);
  void lru_remove(int32_t block);

  int64_t block_size_;
  bool caching_;
  std::vector<int32_t> refs_;
  std::vector<uint8_t> registered_;
  std::vector<BlockHash> hash_;
  std::vector<BlockHash> parent_;
  std::vector<int32_t> tokens_;  // [block][block_size]: the ids a registered block holds
  std::unordered_map<BlockHash, int32_t> by_hash_;
  std::vector<int32_t> empty_;   // free blocks holding nothing reusable (a stack)
  // Free registered blocks, least recently released first: an intrusive doubly linked list.
  std::vector<int32_t> prev_, next_;
  int32_t lru_head_ = -1, lru_tail_ = -1;
  int64_t n_cached_ = 0;
};

}  // namespace hearth::kv
