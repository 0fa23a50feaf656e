#include "tokenizer/spm.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <queue>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

TokenType type_of(const Vocab& v, size_t i) {
  return v.types.empty() ? TokenType::Normal : v.types[i];
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  const int hi = hex_digit(text[3]);
  const int lo = hex_digit(text[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// ---- model ----

SpmBpeModel::SpmBpeModel(const Vocab& vocab) : unk_(vocab.unk) {
  byte_tokens_.fill(-1);
  scores_.resize(vocab.tokens.size(), 0.0f);
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    if (!vocab.scores.empty()) scores_[i] = vocab.scores[i];
    switch (type_of(vocab, i)) {
      case TokenType::Normal:
      case TokenType::Undefined:
      case TokenType::UserDefined:
        // A repeated text keeps its first (lowest) id.
        ids_.insert(vocab.tokens[i], id);
        break;
      case TokenType::Byte: {
        const int b = parse_byte_token(vocab.tokens[i]);
        if (b >= 0 && byte_tokens_[b] < 0) byte_tokens_[b] = id;
        break;
      }
      default:
        break;  // control, unknown and unused tokens never come out of merges
    }
  }
}

int32_t SpmBpeModel::find(std::string_view text) const { return ids_.find(text); }

void SpmBpeModel::append_unknown_char(std::string_view ch, std::vector<int32_t>& out) const {
  bool have_bytes = true;
  for (char c : ch) have_bytes = have_bytes && byte_tokens_[static_cast<uint8_t>(c)] >= 0;
  if (have_bytes) {
    for (char c : ch) out.push_back(byte_tokens_[static_cast<uint8_t>(c)]);
    return;
  }
  if (unk_ >= 0) {
    out.push_back(unk_);
    return;
  }
  std::string hex;
  for (char c : ch) hex += fmt::format("{:02X}", static_cast<uint8_t>(c));
  fail("cannot tokenize the character with UTF-8 bytes {}: the vocabulary has no token for it, "
       "no byte tokens <0xXX> and no unknown token",
       hex);
}

namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset into the normalized text
  uint32_t size;   // bytes; 0 once merged into its left neighbour
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;  // bytes of the merged text, to spot pairs made stale by other merges
};

// Highest score first; on equal scores the leftmost pair.
struct LowerPriority {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void SpmBpeModel::encode(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  // Symbol indices are int32_t.
  if (text.size() > static_cast<size_t>(INT32_MAX)) {
    fail("text of {} bytes is too long to tokenize (limit 2 GiB)", text.size());
  }

  // One symbol per UTF-8 character; each byte of malformed input is a symbol of its own.
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::max<size_t>(utf8::valid_sequence_length(text, i), 1);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, i + n < text.size() ? index + 1 : -1,
                       static_cast<uint32_t>(i), static_cast<uint32_t>(n)});
    i += n;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, LowerPriority> queue;
  auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const uint32_t size = l.size + symbols[right].size;
    const int32_t id = find(text.substr(l.start, size));
    if (id >= 0) queue.push({scores_[id], left, right, size});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_pair(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    // Skip pairs whose symbols changed since the pair was queued.
    if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_pair(left.prev, b.left);
    try_pair(b.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].start, symbols[i].size);
    const int32_t id = find(piece);
    if (id >= 0) {
      out.push_back(id);
    } else {
      append_unknown_char(piece, out);  // unmerged, so a single character
    }
  }
}

}  // namespace hearth::tok
