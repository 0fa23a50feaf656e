// Causal multi-head attention over a paged KV cache, for a batch of tokens that may belong to
// different sequences (continuous batching). Grouped-query attention: query head h reads KV
// head h / (n_heads / n_kv_heads).
#pragma once
#include <cstdint>

namespace hearth {
class ThreadPool;
}

namespace hearth::ops {

// One sequence's keys and values in one layer: position p is row p % block_size of block
// block_table[p / block_size]. A block holds block_size rows of kv_dim floats, head-major:
// [head][row][head_dim], so one KV head's rows of a block are contiguous (attention walks a
// head's rows; a row-major block made that a strided read of head_dim floats per kv_dim).
struct PagedKV {
  const float* keys;
  const float* values;
  const int32_t* block_table;
  int64_t n_table_blocks;
  int64_t block_size;
  int64_t kv_dim;
  int64_t head_dim;

  const float* key(int64_t pos, int64_t head) const { return keys + offset(pos, head); }
  const float* value(int64_t pos, int64_t head) const { return values + offset(pos, head); }
  int64_t offset(int64_t pos, int64_t head) const {
    return static_cast<int64_t>(block_table[pos / block_size]) * block_size * kv_dim +
           (head * block_size + pos % block_size) * head_dim;
  }
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
