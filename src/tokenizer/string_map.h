// A hash map from strings to int32 ids for vocabularies: open addressing over one string
// pool, the hash kept in each slot. Lookups (the tokenizer's hot path) touch one or two
// cache lines instead of chasing std::unordered_map's nodes.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tok {

// Fast 64-bit hash of a short byte string (word-at-a-time multiply-xorshift mixing).
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  h *= 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

class StringIdMap {
 public:
  // Adds `key` -> `id`; a key already present keeps its id unless `overwrite`.
  void insert(std::string_view key, int32_t id, bool overwrite = false) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash_bytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = {h, static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(key.size()), id};
        pool_.append(key);
        ++count_;
        return;
      }
      if (s.hash == h && view(s) == key) {
        if (overwrite) s.id = id;
        return;
      }
    }
  }

  // The id of `key`, or -1.
  int32_t find(std::string_view key) const {
    if (count_ == 0) return -1;
    const uint64_t h = hash_bytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && s.length == key.size() &&
          std::memcmp(pool_.data() + s.offset, key.data(), key.size()) == 0) {
        return s.id;
      }
    }
  }

  size_t size() const { return count_; }

  // Calls fn(key, id) for every entry (in no particular order).
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.id >= 0) fn(view(s), s.id);
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // into pool_
    uint32_t length = 0;
    int32_t id = -1;      // -1: empty
  };
  std::string_view view(const Slot& s) const { return {pool_.data() + s.offset, s.length}; }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string pool_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace hearth::tok
