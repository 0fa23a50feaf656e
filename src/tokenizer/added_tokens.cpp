#include "tokenizer/added_tokens.h"

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace hearth::tok {

namespace {

// The code point that ends just before text[i] (kInvalid for a malformed byte), and where
// it starts.
uint32_t char_before(std::string_view text, size_t i, size_t& start) {
  start = i - 1;
  while (start > 0 && i - start < 4 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
  size_t n = 0;
  const uint32_t cp = utf8::decode_at(text, start, n);
  if (start + n != i) {  // not one well-formed character: just the last byte
    start = i - 1;
    return utf8::kInvalid;
  }
  return cp;
}

bool is_space(uint32_t cp) { return cp != utf8::kInvalid && unicode::is_whitespace(cp); }
bool is_word(uint32_t cp) { return cp != utf8::kInvalid && unicode::is_word_char(cp); }

}  // namespace

AddedTokens::AddedTokens(const std::vector<AddedToken>& tokens, const Normalizer* normalizer) {
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    if (t.normalized && normalizer != nullptr) {
      std::string content;
      normalizer->normalize(t.content, content);
      normalized_.add(t, content);
    } else if (t.normalized) {
      normalized_.add(t, t.content);
    } else {
      raw_.add(t, t.content);
    }
  }
}

void AddedTokens::Matcher::add(const AddedToken& token, std::string_view content) {
  if (content.empty()) return;
  int32_t node = 0;
  for (char c : content) {
    const auto byte = static_cast<uint8_t>(c);
    int32_t next = node == 0 ? root_[byte] : -1;
    for (const auto& [b, child] : nodes_[node].children) {
      if (b == byte) next = child;
    }
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[node].children.emplace_back(byte, next);
      if (node == 0) root_[byte] = next;
      nodes_.emplace_back();
    }
    node = next;
  }
  if (nodes_[node].entry >= 0) return;  // the same text twice: the first one counts
  nodes_[node].entry = static_cast<int32_t>(entries_.size());
  entries_.push_back(token);
}

int32_t AddedTokens::Matcher::longest_at(std::string_view text, size_t pos, bool parse_special,
                                         size_t& end) const {
  int32_t best = -1;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<uint8_t>(text[i]);
    int32_t next = node == 0 ? root_[byte] : -1;
    if (node != 0) {
      for (const auto& [b, child] : nodes_[node].children) {
        if (b == byte) {
          next = child;
          break;
        }
      }
    }
    if (next < 0) break;
    node = next;
    const int32_t e = nodes_[node].entry;
    if (e >= 0 && (parse_special || !entries_[e].special)) {
      best = e;
      end = i + 1;
    }
  }
  return best;
}

void AddedTokens::Matcher::split(std::string_view text, bool parse_special,
                                 std::vector<Fragment>& out) const {
  out.clear();
  size_t done = 0;  // end of the previous token (with the whitespace it swallowed)
  if (!entries_.empty()) {
    for (size_t pos = 0; pos < text.size();) {
      if (root_[static_cast<uint8_t>(text[pos])] < 0) {  // no token starts with this byte
        ++pos;
        continue;
      }
      size_t stop = 0;
      const int32_t e = longest_at(text, pos, parse_special, stop);
      if (e < 0) {
        ++pos;
        continue;
      }
      const AddedToken& token = entries_[e];
      size_t start = pos;
      size_t before = 0;
      if (token.single_word) {
        const bool word_before = start > 0 && is_word(char_before(text, start, before));
        size_t n = 0;
        const bool word_after = stop < text.size() && is_word(utf8::decode_at(text, stop, n));
        if (word_before || word_after) {  // inside a word: not this token; go on after it
          pos = stop;
          continue;
        }
      }
      if (token.lstrip) {
        while (start > done && is_space(char_before(text, start, before))) start = before;
      }
      if (token.rstrip) {
        size_t n = 0;
        while (stop < text.size() && is_space(utf8::decode_at(text, stop, n))) stop += n;
      }
      if (done < start) out.push_back({text.substr(done, start - done), -1, done});
      out.push_back({{}, token.id, start});
      done = pos = stop;
    }
  }
  if (done < text.size()) out.push_back({text.substr(done), -1, done});
}

}  // namespace hearth::tok
