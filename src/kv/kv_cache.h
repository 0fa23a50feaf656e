// The paged KV cache: keys and values of every sequence, per layer, in fixed-size blocks.
// A sequence owns a block table (block ids in position order); position p of the sequence
// lives in block table[p / block_size] at row p % block_size. Blocks come from one shared pool,
// so sequences of any length share memory without fragmentation and without copying when
// they grow — what continuous batching needs (vLLM's PagedAttention layout).
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ops/attention.h"

namespace hearth::kv {

using ops::KVType;

struct KVCacheConfig {
  int64_t n_layers = 0;
  int64_t kv_dim = 0;        // n_kv_heads * head_dim
  int64_t block_size = 16;   // tokens per block
  int64_t n_blocks = 0;      // total blocks in the pool (per layer)
  int64_t head_dim = 0;      // elements per KV head; 0: kv_dim (a single head)
  KVType type = KVType::F32;  // what each key and value element is stored as

  int64_t head_size() const { return head_dim > 0 ? head_dim : kv_dim; }
  int64_t element_bytes() const { return ops::kv_type_bytes(type); }

  // Keys plus values of the whole pool. KVCache sizes its storage from this, and the memory
  // planner (src/fit) calls it too, so planned and allocated bytes are the same number.
  // element_bytes: another element size (the GPU layers' float32 pool) for planning.
  int64_t bytes() const { return bytes(element_bytes()); }
  int64_t bytes(int64_t element_bytes) const {
    return 2 * n_layers * n_blocks * block_size * kv_dim * element_bytes;
  }
};

// Hands out block ids from a fixed pool; a plain free list.
class BlockAllocator {
 public:
  explicit BlockAllocator(int64_t n_blocks);
  bool allocate(int32_t& block);  // false when the pool is empty
  void release(int32_t block);
  int64_t n_free() const { return static_cast<int64_t>(free_.size()); }
  int64_t n_total() const { return n_total_; }

 private:
  int64_t n_total_;
  std::vector<int32_t> free_;
};

class KVCache {
 public:
  explicit KVCache(const KVCacheConfig& config);

  const KVCacheConfig& config() const { return config_; }
  // Makes room for positions [0, n_tokens) of `seq`. False (and nothing allocated) when the
  // pool has too few free blocks.
  bool reserve(int32_t seq, int64_t n_tokens);
  // Frees every block of `seq`.
  void release(int32_t seq);

  // For an owner that manages blocks itself (the serving engine's BlockPool, which shares
  // prefix blocks between sequences): `blocks` (ids < n_blocks, in position order) become
  // the table of `seq` as they are. A cache is used either through reserve/release or
  // through set_block_table/drop_block_table, never both: the two would hand out the same
  // blocks twice, so mixing them throws.
  void set_block_table(int32_t seq, std::vector<int32_t> blocks);
  void drop_block_table(int32_t seq);
  // Positions of `seq` that have room (a multiple of block_size).
  int64_t capacity(int32_t seq) const;
  int64_t blocks_free() const { return allocator_.n_free(); }
  int64_t blocks_needed(int64_t n_tokens) const {
    return (n_tokens + config_.block_size - 1) / config_.block_size;
  }

  // Writes this token's key and value (kv_dim floats each, heads one after another) at `pos`,
  // as the cache's element type (F16: rounded to nearest even).
  void store(int64_t layer, int32_t seq, int64_t pos, const float* key, const float* value);
  // Reads them back as floats (F16 widened exactly).
  void load(int64_t layer, int32_t seq, int64_t pos, float* key, float* value) const;
  // Fails (an internal error: the caller reserved too little) unless `pos` of `seq` has room.
  void check_room(int32_t seq, int64_t pos) const { (void)offset(0, seq, pos, 0); }
  // An F32 cache's key or value row of one KV head at `pos` (head_size() floats).
  float* key(int64_t layer, int32_t seq, int64_t pos, int64_t head = 0);
  float* value(int64_t layer, int32_t seq, int64_t pos, int64_t head = 0);
  // What attention reads for `seq` in `layer`.
  ops::PagedKV view(int64_t layer, int32_t seq) const;

 private:
  // Where (layer, pos, head) of `seq` starts in keys_ / values_; fails for a position outside
  // the reserved blocks.
  int64_t offset(int64_t layer, int32_t seq, int64_t pos, int64_t head) const;
  int64_t layer_elements() const { return config_.n_blocks * config_.block_size * config_.kv_dim; }
  uint8_t* element(std::vector<uint64_t>& pool, int64_t at) const {
    return reinterpret_cast<uint8_t*>(pool.data()) + at * config_.element_bytes();
  }
  const uint8_t* element(const std::vector<uint64_t>& pool, int64_t at) const {
    return reinterpret_cast<const uint8_t*>(pool.data()) + at * config_.element_bytes();
  }
  const std::vector<int32_t>& table(int32_t seq) const;

  enum class Tables { Unused, Reserved, External };
  void use_tables(Tables how);

  KVCacheConfig config_;
  Tables tables_mode_ = Tables::Unused;
  BlockAllocator allocator_;
  // [layer][block][head][row][head_size] elements of config_.type (ops::PagedKV), in 8-byte
  // words so that every row is aligned for its element type.
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> values_;
  std::unordered_map<int32_t, std::vector<int32_t>> tables_;
};

}  // namespace hearth::kv
