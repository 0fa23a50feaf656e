#include "kv/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "backends/cpu/dispatch.h"
#include "core/error.h"

namespace hearth::kv {

BlockAllocator::BlockAllocator(int64_t n_blocks) : n_total_(n_blocks) {
  free_.reserve(n_blocks);
  // Hand out low ids first (keeps the used part of the pool compact).
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

bool BlockAllocator::allocate(int32_t& block) {
  if (free_.empty()) return false;
  block = free_.back();
  free_.pop_back();
  return true;
}

void BlockAllocator::release(int32_t block) { free_.push_back(block); }

KVCache::KVCache(const KVCacheConfig& config) : config_(config), allocator_(config.n_blocks) {
  if (config.n_layers <= 0 || config.kv_dim <= 0 || config.block_size <= 0 || config.n_blocks <= 0 ||
      config.head_dim < 0 || config.kv_dim % config.head_size() != 0)
    fail("invalid KV cache shape: {} layers, kv_dim {}, head size {}, block size {}, {} blocks",
         config.n_layers, config.kv_dim, config.head_size(), config.block_size, config.n_blocks);
  // Half of the pool's bytes are keys, half values.
  const size_t words = static_cast<size_t>((config.bytes() / 2 + 7) / 8);
  keys_.assign(words, 0);
  values_.assign(words, 0);
}

void KVCache::use_tables(Tables how) {
  if (tables_mode_ != Tables::Unused && tables_mode_ != how)
    fail("internal error: a KV cache is used through both reserve() and set_block_table()");
  tables_mode_ = how;
}

bool KVCache::reserve(int32_t seq, int64_t n_tokens) {
  use_tables(Tables::Reserved);
  auto& blocks = tables_[seq];
  const int64_t need = blocks_needed(n_tokens) - static_cast<int64_t>(blocks.size());
  if (need <= 0) return true;
  if (need > allocator_.n_free()) return false;
  for (int64_t i = 0; i < need; ++i) {
    int32_t b = -1;
    allocator_.allocate(b);
    blocks.push_back(b);
  }
  return true;
}

void KVCache::release(int32_t seq) {
  use_tables(Tables::Reserved);
  auto it = tables_.find(seq);
  if (it == tables_.end()) return;
  for (int32_t b : it->second) allocator_.release(b);
  tables_.erase(it);
}

void KVCache::set_block_table(int32_t seq, std::vector<int32_t> blocks) {
  use_tables(Tables::External);
  for (int32_t b : blocks)
    if (b < 0 || b >= config_.n_blocks)
      fail("internal error: KV block {} of sequence {} is outside the pool of {} blocks", b, seq,
           config_.n_blocks);
  tables_[seq] = std::move(blocks);
}

void KVCache::drop_block_table(int32_t seq) {
  use_tables(Tables::External);
  tables_.erase(seq);
}

int64_t KVCache::capacity(int32_t seq) const {
  auto it = tables_.find(seq);
  return it == tables_.end() ? 0 : static_cast<int64_t>(it->second.size()) * config_.block_size;
}

const std::vector<int32_t>& KVCache::table(int32_t seq) const {
  auto it = tables_.find(seq);
  if (it == tables_.end()) fail("internal error: sequence {} has no KV blocks", seq);
  return it->second;
}

int64_t KVCache::offset(int64_t layer, int32_t seq, int64_t pos, int64_t head) const {
  const ops::PagedKV v = view(layer, seq);
  if (pos < 0 || pos / config_.block_size >= v.n_table_blocks)
    fail("internal error: position {} of sequence {} is outside its reserved KV blocks", pos, seq);
  // Within the layer, where attention reads it (one layout: ops::PagedKV's).
  return layer * layer_elements() + v.offset(pos, head);
}

void KVCache::store(int64_t layer, int32_t seq, int64_t pos, const float* key, const float* value) {
  const int64_t hd = config_.head_size();
  const auto& kernels = cpu::active_kernels();
  for (int64_t h = 0; h * hd < config_.kv_dim; ++h) {
    const int64_t at = offset(layer, seq, pos, h);
    if (config_.type == KVType::F16) {
      kernels.to_f16(key + h * hd, reinterpret_cast<uint16_t*>(element(keys_, at)), hd);
      kernels.to_f16(value + h * hd, reinterpret_cast<uint16_t*>(element(values_, at)), hd);
    } else {
      std::memcpy(element(keys_, at), key + h * hd, static_cast<size_t>(hd) * sizeof(float));
      std::memcpy(element(values_, at), value + h * hd, static_cast<size_t>(hd) * sizeof(float));
    }
  }
}

void KVCache::load(int64_t layer, int32_t seq, int64_t pos, float* key, float* value) const {
  const ops::PagedKV k = view(layer, seq);
  const int64_t hd = config_.head_size();
  check_room(seq, pos);
  for (int64_t h = 0; h * hd < config_.kv_dim; ++h)
    for (int64_t i = 0; i < hd; ++i) {
      key[h * hd + i] = k.key_at(pos, h, i);
      value[h * hd + i] = k.value_at(pos, h, i);
    }
}

float* KVCache::key(int64_t layer, int32_t seq, int64_t pos, int64_t head) {
  if (config_.type != KVType::F32) fail("internal error: float rows of an {} KV cache", ops::kv_type_name(config_.type));
  return reinterpret_cast<float*>(element(keys_, offset(layer, seq, pos, head)));
}
float* KVCache::value(int64_t layer, int32_t seq, int64_t pos, int64_t head) {
  if (config_.type != KVType::F32) fail("internal error: float rows of an {} KV cache", ops::kv_type_name(config_.type));
  return reinterpret_cast<float*>(element(values_, offset(layer, seq, pos, head)));
}

ops::PagedKV KVCache::view(int64_t layer, int32_t seq) const {
  const auto& blocks = table(seq);
  return ops::PagedKV{element(keys_, layer * layer_elements()), element(values_, layer * layer_elements()),
                      blocks.data(), static_cast<int64_t>(blocks.size()), config_.block_size,
                      config_.kv_dim, config_.head_size(), config_.type};
}

}  // namespace hearth::kv
