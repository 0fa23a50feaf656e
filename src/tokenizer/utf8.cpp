#include "tokenizer/utf8.h"

namespace hearth::tok::utf8 {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

struct LeadInfo {
  size_t length;       // 0: cannot start a sequence
  uint8_t second_lo;   // allowed range of the second byte (rules out overlong forms,
  uint8_t second_hi;   // surrogates and code points above U+10FFFF)
};

LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes from s[i] form a well-formed prefix of a sequence (at most its length).
// Sets `complete` when that prefix is the whole sequence.
size_t well_formed_prefix(std::string_view s, size_t i, bool& complete) {
  const LeadInfo info = lead_info(static_cast<uint8_t>(s[i]));
  complete = false;
  if (info.length == 0) return 0;
  size_t k = 1;
  for (; k < info.length; ++k) {
    if (i + k >= s.size()) return k;
    const auto b = static_cast<uint8_t>(s[i + k]);
    const uint8_t lo = k == 1 ? info.second_lo : 0x80;
    const uint8_t hi = k == 1 ? info.second_hi : 0xBF;
    if (b < lo || b > hi) return k;
  }
  complete = true;
  return k;
}

}  // namespace

size_t valid_sequence_length(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  bool complete = false;
  const size_t n = well_formed_prefix(s, i, complete);
  return complete ? n : 0;
}

uint32_t decode_at(std::string_view s, size_t i, size_t& length) {
  length = valid_sequence_length(s, i);
  if (length == 0) {
    length = 1;
    return kInvalid;
  }
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (length == 1) return b0;
  uint32_t cp = b0 & (0x7Fu >> length);
  for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3Fu);
  return cp;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = valid_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool ends_incomplete(std::string_view s) {
  // A sequence is at most 4 bytes long, so only the last 3 bytes can start an unfinished one.
  const size_t from = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = from; i < s.size(); ++i) {
    bool complete = false;
    const size_t n = well_formed_prefix(s, i, complete);
    if (!complete && n > 0 && i + n == s.size()) return true;
  }
  return false;
}

size_t append_valid(std::string_view in, std::string& out, bool final) {
  size_t i = 0;
  while (i < in.size()) {
    bool complete = false;
    const size_t n = well_formed_prefix(in, i, complete);
    if (complete) {
      out.append(in.substr(i, n));
      i += n;
    } else if (n > 0 && i + n == in.size() && !final) {
      return i;  // may still be completed by the next bytes
    } else {
      out.append(kReplacement);
      i += n > 0 ? n : 1;
    }
  }
  return i;
}

}  // namespace hearth::tok::utf8
