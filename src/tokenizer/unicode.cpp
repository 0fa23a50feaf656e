#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace hearth::tok::unicode {

namespace {

utf8proc_category_t category(uint32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// Calls fn(run, valid) for the maximal runs of well-formed and of malformed bytes of `text`.
template <typename Fn>
void for_each_run(std::string_view text, Fn&& fn) {
  size_t start = 0;
  bool valid_run = true;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8::valid_sequence_length(text, i);
    const bool valid = n > 0;
    if (valid != valid_run && i > start) {
      fn(text.substr(start, i - start), valid_run);
      start = i;
    }
    valid_run = valid;
    i += valid ? n : 1;
  }
  if (start < text.size()) fn(text.substr(start), valid_run);
}

}  // namespace

bool is_whitespace(uint32_t cp) {
  if (cp >= 0x09 && cp <= 0x0D) return true;
  if (cp == 0x20 || cp == 0x85 || cp == 0x2028 || cp == 0x2029) return true;
  return cp > 0x7F && category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool is_punctuation(uint32_t cp) {
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_numeric(uint32_t cp) {
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

bool is_other(uint32_t cp) {
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool is_nonspacing_mark(uint32_t cp) { return category(cp) == UTF8PROC_CATEGORY_MN; }

bool is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_word_char(uint32_t cp) {
  if (cp == 0x200C || cp == 0x200D) return true;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

namespace {

// Characters every normalization form leaves alone and that never combine with a neighbour
// (starters that are no composition's second part): ASCII and the CJK Unified Ideographs;
// for NFC also the rest of Latin-1 and the letters up to U+02FF.
bool is_inert(uint32_t cp, Form form) {
  if (cp < 0x80 || (cp >= 0x4E00 && cp <= 0x9FFF)) return true;
  return form == Form::NFC && cp < 0x300;
}

void normalize_run(std::string_view run, Form form, std::string& out) {
  int options = UTF8PROC_STABLE;
  switch (form) {
    case Form::NFC: options |= UTF8PROC_COMPOSE; break;
    case Form::NFD: options |= UTF8PROC_DECOMPOSE; break;
    case Form::NFKC: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case Form::NFKD: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  for_each_run(run, [&](std::string_view part, bool valid) {
    if (!valid) {
      out.append(part);
      return;
    }
    utf8proc_uint8_t* result = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(part.data()),
                     static_cast<utf8proc_ssize_t>(part.size()), &result,
                     static_cast<utf8proc_option_t>(options));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
    if (n < 0) fail("Unicode normalization failed: {}", utf8proc_errmsg(n));
    out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  });
}

}  // namespace

void normalize(std::string_view text, Form form, std::string& out) {
  // Inert characters are copied; only the stretches between them go through utf8proc, each
  // with the character before it (a base that a following combining mark may compose with).
  // Normalization never reaches across an inert character, so the result is the same.
  size_t copied = 0;     // text[0, copied) is in `out`
  size_t previous = 0;   // start of the last inert character
  for (size_t i = 0; i < text.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(text, i, n);
    if (cp == utf8::kInvalid || is_inert(cp, form)) {
      previous = i;
      i += n;
      continue;
    }
    const size_t start = previous >= copied && previous < i ? previous : i;
    out.append(text.substr(copied, start - copied));
    size_t end = i + n;
    while (end < text.size()) {
      const uint32_t next = utf8::decode_at(text, end, n);
      if (next == utf8::kInvalid || is_inert(next, form)) break;
      end += n;
    }
    normalize_run(text.substr(start, end - start), form, out);
    copied = previous = i = end;
  }
  out.append(text.substr(copied));
}

void lowercase(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size();) {
    size_t n = 0;
    const uint32_t cp = utf8::decode_at(text, i, n);
    if (cp < 0x80) {
      out += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else if (cp == utf8::kInvalid) {
      out += text[i];
    } else if (cp == 0x130) {
      out.append("i\xCC\x87");  // the one multi-character lowercase mapping
    } else {
      utf8::append(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    i += n;
  }
}

}  // namespace hearth::tok::unicode
