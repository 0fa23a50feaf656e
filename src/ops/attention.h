// Causal multi-head attention over a paged KV cache, for a batch of tokens that may belong to
// different sequences (continuous batching). Grouped-query attention: query head h reads KV
// head h / (n_heads / n_kv_heads).
#pragma once
#include <cstdint>

namespace hearth {
class ThreadPool;
}

namespace hearth::ops {

// What a KV cache stores per element: float32, or IEEE half floats (half the bytes to keep and
// to read per step; attention widens them exactly, so only the rounding of the stored values
// differs).
enum class KVType : uint8_t { F32, F16 };
inline int64_t kv_type_bytes(KVType t) { return t == KVType::F16 ? 2 : 4; }
inline const char* kv_type_name(KVType t) { return t == KVType::F16 ? "F16" : "F32"; }

// One sequence's keys and values in one layer: position p is row p % block_size of block
// block_table[p / block_size]. A block holds block_size rows of kv_dim elements, head-major:
// [head][row][head_dim], so one KV head's rows of a block are contiguous (attention walks a
// head's rows; a row-major block made that a strided read of head_dim elements per kv_dim).
struct PagedKV {
  const void* keys;  // elements of `type`
  const void* values;
  const int32_t* block_table;
  int64_t n_table_blocks;
  int64_t block_size;
  int64_t kv_dim;
  int64_t head_dim;
  KVType type = KVType::F32;

  // One head's row at `pos`, as elements of T (float for F32, uint16_t half floats for F16).
  template <typename T>
  const T* key(int64_t pos, int64_t head) const {
    return static_cast<const T*>(keys) + offset(pos, head);
  }
  template <typename T>
  const T* value(int64_t pos, int64_t head) const {
    return static_cast<const T*>(values) + offset(pos, head);
  }
  // Element i of one head's key or value at `pos`, as a float, whatever the type.
  float key_at(int64_t pos, int64_t head, int64_t i) const { return element(keys, pos, head, i); }
  float value_at(int64_t pos, int64_t head, int64_t i) const { return element(values, pos, head, i); }
  // Elements from the start of the layer's pool to (pos, head)'s row.
  int64_t offset(int64_t pos, int64_t head) const {
    return static_cast<int64_t>(block_table[pos / block_size]) * block_size * kv_dim +
           (head * block_size + pos % block_size) * head_dim;
  }

 private:
  float element(const void* pool, int64_t pos, int64_t head, int64_t i) const;
};

struct AttentionShape {
  int64_t n_heads;
  int64_t n_kv_heads;
  int64_t head_dim;
  float scale;             // usually 1/sqrt(head_dim)
  int64_t sliding_window;  // 0: attend to every earlier position
};

// out[t] (n_heads * head_dim) = softmax(q[t] . K^T * scale) V over positions
// [first, positions[t]] of kv[t], where first = 0 or positions[t] - window + 1.
// The keys and values of every token in the batch must already be in the cache.
void attention(const float* q, int64_t n_tokens, const int32_t* positions, const PagedKV* kv,
               const AttentionShape& shape, float* out, ThreadPool& pool);

// Bytes of scores each thread that runs attention keeps (grown to the widest call, never
// shrunk) when the latest position attended to is n_positions - 1.
uint64_t attention_scratch_bytes(const AttentionShape& shape, int64_t n_positions);

namespace ref {
void attention(const float* q, int64_t n_tokens, const int32_t* positions, const PagedKV* kv,
               const AttentionShape& shape, float* out);
}

}  // namespace hearth::ops
