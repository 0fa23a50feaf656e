#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

constexpr size_t kMaxCachedWordBytes = 256;  // HF's cache limit too
constexpr uint64_t kEmptyKey = ~uint64_t{0};

uint64_t pair_key(int32_t a, int32_t b) {
  return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
}

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // bytes of the word it covers; 0 once merged into its left neighbour
};

struct QueuedMerge {
  uint32_t rank;
  uint32_t pos;  // index of the left symbol
  int32_t new_id;
};

// std::push_heap keeps the largest on top: the lowest rank, then the leftmost position.
struct LaterMerge {
  bool operator()(const QueuedMerge& a, const QueuedMerge& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

// Open-addressing hash table: (left id, right id) -> (rank, merged id).
class BpeModel::MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmptyKey;
    uint32_t rank = 0;
    int32_t new_id = -1;
  };

  explicit MergeTable(size_t n) {
    size_t capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    slots_.resize(capacity);
    mask_ = capacity - 1;
  }

  // `overwrite`: a repeated pair takes the later rank (HF) instead of keeping the first.
  void insert(int32_t a, int32_t b, uint32_t rank, int32_t new_id, bool overwrite) {
    const uint64_t key = pair_key(a, b);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      Entry& e = slots_[i];
      if (e.key == kEmptyKey) {
        e = {key, rank, new_id};
        return;
      }
      if (e.key == key) {
        if (overwrite) e = {key, rank, new_id};
        return;
      }
    }
  }

  const Entry* find(int32_t a, int32_t b) const {
    const uint64_t key = pair_key(a, b);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmptyKey) return nullptr;
    }
  }

 private:
  size_t slot(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }
  std::vector<Entry> slots_;
  size_t mask_ = 0;
};

// A set of code point pairs (open addressing), for the characters merges join.
class BpeModel::PairSet {
 public:
  explicit PairSet(size_t n) {
    size_t capacity = 16;
    while (capacity < n * 2) capacity *= 2;
    keys_.assign(capacity, kEmptyKey);
    mask_ = capacity - 1;
  }
  void insert(uint32_t a, uint32_t b) {
    const uint64_t key = (uint64_t{a} << 32) | b;
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return;
      if (keys_[i] == kEmptyKey) {
        keys_[i] = key;
        return;
      }
    }
  }
  bool contains(uint32_t a, uint32_t b) const {
    const uint64_t key = (uint64_t{a} << 32) | b;
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return true;
      if (keys_[i] == kEmptyKey) return false;
    }
  }

 private:
  size_t slot(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }
  std::vector<uint64_t> keys_;
  size_t mask_ = 0;
};

// Word -> ids, shared by all threads; sharded so concurrent encodes rarely wait. Each shard
// is a fixed-size open-addressing table over pools of word bytes and ids; it stops taking
// new words once half full (like HF's cache) rather than evicting.
class BpeModel::WordCache {
 public:
  bool lookup(std::string_view word, std::vector<int32_t>& out) const {
    const uint64_t h = hash_bytes(word);
    const Shard& s = shards_[h % kShards];
    std::lock_guard lock(s.mutex);
    if (s.slots.empty()) return false;
    for (size_t i = (h >> 8) & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const Slot& slot = s.slots[i];
      if (slot.word_length == kEmpty) return false;
      if (slot.hash == h && slot.word_length == word.size() &&
          std::memcmp(s.words.data() + slot.word_offset, word.data(), word.size()) == 0) {
        out.insert(out.end(), s.ids.begin() + slot.ids_offset,
                   s.ids.begin() + slot.ids_offset + slot.ids_length);
        return true;
      }
    }
  }

  void store(std::string_view word, const int32_t* ids, size_t n) {
    const uint64_t h = hash_bytes(word);
    Shard& s = shards_[h % kShards];
    std::lock_guard lock(s.mutex);
    if (s.count >= kSlots / 2) return;
    if (s.slots.empty()) s.slots.assign(kSlots, Slot{});
    for (size_t i = (h >> 8) & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      Slot& slot = s.slots[i];
      if (slot.word_length == kEmpty) {
        slot = {h, static_cast<uint32_t>(s.words.size()), static_cast<uint32_t>(word.size()),
                static_cast<uint32_t>(s.ids.size()), static_cast<uint32_t>(n)};
        s.words.append(word);
        s.ids.insert(s.ids.end(), ids, ids + n);
        ++s.count;
        return;
      }
      if (slot.hash == h && slot.word_length == word.size() &&
          std::memcmp(s.words.data() + slot.word_offset, word.data(), word.size()) == 0) {
        return;  // another thread stored it first
      }
    }
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kSlots = 16384;  // per shard; words are < 256 bytes
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  struct Slot {
    uint64_t hash = 0;
    uint32_t word_offset = 0;
    uint32_t word_length = kEmpty;
    uint32_t ids_offset = 0;
    uint32_t ids_length = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::vector<Slot> slots;  // allocated on first store
    std::string words;
    std::vector<int32_t> ids;
    size_t count = 0;
  };
  std::array<Shard, kShards> shards_;
};

std::pair<std::string, std::string> BpeModel::split_merge(std::string_view merge) {
  const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
  if (space == std::string_view::npos || space + 1 >= merge.size()) {
    fail("merge '{}' is not two tokens separated by a space", merge);
  }
  return {std::string(merge.substr(0, space)), std::string(merge.substr(space + 1))};
}

BpeModel::BpeModel(const std::vector<std::pair<std::string, int32_t>>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, bool strict)
    : merges_(std::make_unique<MergeTable>(merges.size())),
      cache_(std::make_unique<WordCache>()),
      char_ids_(0x10000, -1),
      options_(std::move(options)) {
  for (const auto& [text, id] : vocab) vocab_.insert(text, id);
  plain_symbols_ = options_.continuing_subword_prefix.empty() && options_.end_of_word_suffix.empty();

  // Single characters and byte tokens, looked up by code point / byte instead of hashing.
  byte_ids_.fill(-1);
  vocab_.for_each([&](std::string_view text, int32_t id) {
    size_t n = 0;
    const uint32_t cp = text.empty() ? utf8::kInvalid : utf8::decode_at(text, 0, n);
    if (cp < char_ids_.size() && n == text.size()) char_ids_[cp] = id;
  });
  for (int b = 0; b < 256; ++b) byte_ids_[b] = find(fmt::format("<0x{:02X}>", b));

  if (!options_.unk_token.empty()) {
    unk_ = find(options_.unk_token);
    if (unk_ < 0 && strict) {
      fail("the BPE unk_token '{}' is not in the model's vocabulary", options_.unk_token);
    }
  }

  const std::string& prefix = options_.continuing_subword_prefix;
  std::vector<std::pair<uint32_t, uint32_t>> junction_pairs;
  junction_pairs.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const int32_t a_id = find(a);
    const int32_t b_id = find(b);
    // With a subword prefix, "a" + "##b" merges into "ab".
    const std::string_view b_rest =
        !prefix.empty() && b.compare(0, prefix.size(), prefix) == 0
            ? std::string_view(b).substr(prefix.size())
            : std::string_view(b);
    const std::string merged = a + std::string(b_rest);
    const int32_t new_id = find(merged);
    if (a_id < 0 || b_id < 0 || new_id < 0) {
      if (!strict) continue;
      fail("BPE merge {} ('{} {}') uses '{}', which is not in the vocabulary", rank + 1, a, b,
           a_id < 0 ? a : b_id < 0 ? b : merged);
    }
    merges_->insert(a_id, b_id, static_cast<uint32_t>(rank), new_id, /*overwrite=*/strict);
    if (plain_symbols_ && !a.empty() && !b.empty()) {
      size_t start = a.size() - 1;  // the last character of a
      while (start > 0 && (static_cast<uint8_t>(a[start]) & 0xC0) == 0x80) --start;
      size_t n = 0;
      const uint32_t last = utf8::decode_at(a, start, n);
      const uint32_t first = utf8::decode_at(b, 0, n);
      junction_pairs.emplace_back(last, first);
    }
  }
  if (plain_symbols_) {
    junctions_ = std::make_unique<PairSet>(junction_pairs.size());
    for (const auto& [x, y] : junction_pairs) junctions_->insert(x, y);
  }
}

BpeModel::~BpeModel() = default;

int32_t BpeModel::find(std::string_view text) const { return vocab_.find(text); }

int32_t BpeModel::find_char(std::string_view ch, uint32_t cp) const {
  return cp < char_ids_.size() ? char_ids_[cp] : find(ch);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    const int32_t id = find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (piece.size() >= kMaxCachedWordBytes && junctions_) {
    encode_long(piece, out);
  } else {
    encode_word(piece, out);
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable && cache_->lookup(word, out)) return;
  const size_t first = out.size();
  merge_word(word, out);
  if (cacheable) cache_->store(word, out.data() + first, out.size() - first);
}

void BpeModel::encode_long(std::string_view piece, std::vector<int32_t>& out) const {
  // Cut between two characters that both have a token (so they start as those tokens) and
  // that no merge joins. Characters without a token stay with their neighbours.
  size_t start = 0;
  uint32_t previous = utf8::kInvalid;  // the last character, kInvalid if it has no token
  for (size_t i = 0; i < piece.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(piece, i, n);
    const bool known = cp != utf8::kInvalid && find_char(piece.substr(i, n), cp) >= 0;
    if (known && previous != utf8::kInvalid && !junctions_->contains(previous, cp)) {
      encode_word(piece.substr(start, i - start), out);
      start = i;
    }
    previous = known ? cp : utf8::kInvalid;
    i += n;
  }
  encode_word(piece.substr(start), out);
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() > static_cast<size_t>(INT32_MAX)) {
    fail("text of {} bytes is too long to tokenize (limit 2 GiB)", word.size());
  }
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<QueuedMerge> heap;
  symbols.clear();
  heap.clear();

  auto add = [&](int32_t id, size_t len) {
    const auto index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, static_cast<uint32_t>(len)});
  };

  // Initial symbols: one per character, or byte tokens / unk for characters without a token.
  int32_t unk_len = 0;  // > 0: an unknown stretch waiting to be added
  std::string symbol_text;
  for (size_t i = 0; i < word.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(word, i, n);
    const std::string_view ch = word.substr(i, n);
    std::string_view text = ch;
    int32_t id;
    if (plain_symbols_) {
      id = find_char(ch, cp);
    } else {
      symbol_text.clear();
      if (i > 0) symbol_text += options_.continuing_subword_prefix;
      symbol_text.append(ch);
      if (i + n == word.size()) symbol_text += options_.end_of_word_suffix;
      text = symbol_text;
      id = find(text);
    }
    i += n;
    if (id >= 0) {
      if (unk_len > 0) add(unk_, std::exchange(unk_len, 0));
      add(id, n);
      continue;
    }
    if (options_.byte_fallback &&
        std::all_of(text.begin(), text.end(),
                    [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; })) {
      if (unk_len > 0) add(unk_, std::exchange(unk_len, 0));
      for (char c : text) add(byte_ids_[static_cast<uint8_t>(c)], 1);
      continue;
    }
    if (unk_ >= 0) {
      if (unk_len > 0 && !options_.fuse_unk) add(unk_, std::exchange(unk_len, 0));
      unk_len += static_cast<int32_t>(n);
    } else if (!options_.unk_token.empty()) {
      fail("cannot tokenize '{}': no token covers it and the unk_token '{}' is not in the "
           "vocabulary",
           ch, options_.unk_token);
    }
    // Without an unk token the character is dropped, as the HF library does.
  }
  if (unk_len > 0) add(unk_, unk_len);

  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const auto* m = merges_->find(symbols[i].id, symbols[i + 1].id)) {
      heap.push_back({m->rank, static_cast<uint32_t>(i), m->new_id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), LaterMerge{});

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LaterMerge{});
    const QueuedMerge top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    const Symbol right = symbols[left.next];
    // Skip entries made stale by earlier merges around this position.
    const auto* current = merges_->find(left.id, right.id);
    if (current == nullptr || current->new_id != top.new_id) continue;

    left.id = top.new_id;
    left.len += right.len;
    symbols[left.next].len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = static_cast<int32_t>(top.pos);

    auto queue = [&](int32_t l, int32_t r) {
      if (const auto* m = merges_->find(symbols[l].id, symbols[r].id)) {
        heap.push_back({m->rank, static_cast<uint32_t>(l), m->new_id});
        std::push_heap(heap.begin(), heap.end(), LaterMerge{});
      }
    };
    if (left.prev >= 0) queue(left.prev, static_cast<int32_t>(top.pos));
    if (left.next >= 0) queue(static_cast<int32_t>(top.pos), left.next);
  }

  for (const Symbol& s : symbols) {
    if (s.len > 0) out.push_back(s.id);
  }
}

}  // namespace hearth::tok
