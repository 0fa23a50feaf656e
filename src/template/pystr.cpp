#include "template/pystr.h"

#include <clocale>
#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tokenizer/utf8.h"

namespace hearth::tmpl::py {

// ---------------------------------------------------------------- UTF-8

char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int extra = b0 < 0x80 ? 0 : b0 < 0xE0 ? 1 : b0 < 0xF0 ? 2 : 3;
  char32_t cp = extra == 0 ? b0 : extra == 1 ? (b0 & 0x1F) : extra == 2 ? (b0 & 0x0F) : (b0 & 0x07);
  ++i;
  for (; extra > 0 && i < s.size(); --extra, ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return cp;
}

void append_utf8(std::string& out, char32_t cp) { tok::utf8::append(out, cp); }

bool is_valid_utf8(std::string_view s) { return tok::utf8::is_valid(s); }

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

size_t length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out += next_code_point(s, i);
  return out;
}

std::string from_u32(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_utf8(out, cp);
  return out;
}

// ---------------------------------------------------------------- character classes

namespace {

// Unicode case mapping and classification come from the C library's C.UTF-8 locale (simple,
// one-to-one mappings); if it is missing, non-ASCII letters are left as they are.
locale_t utf8_locale() {
  static const locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

// Unicode format characters (category Cf), which Python's repr() escapes.
bool is_format_char(char32_t cp) {
  return cp == 0xAD || (cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD || cp == 0x70F ||
         cp == 0x8E2 || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         cp == 0x110BD || cp == 0x110CD || (cp >= 0x13430 && cp <= 0x1343F) ||
         (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) || cp == 0xE0001 ||
         (cp >= 0xE0020 && cp <= 0xE007F);
}

}  // namespace

bool is_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_printable(char32_t cp) {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7F;
  if (cp < 0xA0 || is_space(cp) || is_format_char(cp)) return false;
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  const locale_t loc = utf8_locale();
  return loc ? iswprint_l(static_cast<wint_t>(cp), loc) != 0 : true;
}

char32_t to_upper(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  const locale_t loc = utf8_locale();
  return loc ? static_cast<char32_t>(towupper_l(static_cast<wint_t>(cp), loc)) : cp;
}

char32_t to_lower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const locale_t loc = utf8_locale();
  return loc ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), loc)) : cp;
}

bool is_upper(char32_t cp) { return to_lower(cp) != cp; }
bool is_lower(char32_t cp) { return to_upper(cp) != cp; }
bool is_cased(char32_t cp) { return is_upper(cp) || is_lower(cp); }

bool is_alnum(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp | 32) - 'a' < 26;
  const locale_t loc = utf8_locale();
  return loc ? iswalnum_l(static_cast<wint_t>(cp), loc) != 0 : false;
}

// ---------------------------------------------------------------- case mapping

namespace {

// Python's full upper-casing of U+00DF (German sharp s) is two letters.
void append_upper(std::string& out, char32_t cp) {
  if (cp == 0xDF) {
    out += "SS";
    return;
  }
  append_utf8(out, to_upper(cp));
}

template <typename Fn>
std::string map_code_points(std::string_view s, Fn fn) {
  std::string out;
  out.reserve(s.size());
  size_t index = 0;
  for (size_t i = 0; i < s.size(); ++index) fn(out, next_code_point(s, i), index);
  return out;
}

}  // namespace

std::string upper(std::string_view s) {
  return map_code_points(s, [](std::string& out, char32_t cp, size_t) { append_upper(out, cp); });
}

std::string lower(std::string_view s) {
  return map_code_points(s,
                         [](std::string& out, char32_t cp, size_t) { append_utf8(out, to_lower(cp)); });
}

std::string capitalize(std::string_view s) {
  return map_code_points(s, [](std::string& out, char32_t cp, size_t index) {
    if (index == 0)
      append_upper(out, cp);
    else
      append_utf8(out, to_lower(cp));
  });
}

std::string title(std::string_view s) {
  bool previous_cased = false;
  return map_code_points(s, [&](std::string& out, char32_t cp, size_t) {
    if (previous_cased)
      append_utf8(out, to_lower(cp));
    else
      append_upper(out, cp);
    previous_cased = is_cased(cp);
  });
}

bool all_cased_are(std::string_view s, bool want_upper) {
  bool any_cased = false;
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    if (want_upper ? is_lower(cp) : is_upper(cp)) return false;
    any_cased = any_cased || is_cased(cp);
  }
  return any_cased;
}

// ---------------------------------------------------------------- strip / split / replace

std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side) {
  const std::u32string set = chars ? to_u32(*chars) : std::u32string();
  auto strippable = [&](char32_t cp) {
    return chars ? set.find(cp) != std::u32string::npos : is_space(cp);
  };
  size_t begin = 0, end = s.size();
  if (side != StripSide::Right) {
    while (begin < end) {
      size_t next = begin;
      if (!strippable(next_code_point(s, next))) break;
      begin = next;
    }
  }
  if (side != StripSide::Left) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      size_t probe = start;
      if (!strippable(next_code_point(s, probe))) break;
      end = start;
    }
  }
  return std::string(s.substr(begin, end - begin));
}

namespace {

std::vector<std::string> split_whitespace(std::string_view s, int64_t maxsplit, bool from_right) {
  // Work on code points so that Unicode spaces separate words too.
  const std::u32string text = to_u32(s);
  std::vector<std::string> parts;
  const auto n = static_cast<int64_t>(text.size());
  if (!from_right) {
    int64_t i = 0;
    while (true) {
      while (i < n && is_space(text[i])) ++i;
      if (i >= n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        // The rest, as it is: Python keeps its trailing whitespace.
        parts.push_back(from_u32(std::u32string_view(text).substr(i)));
        break;
      }
      int64_t j = i;
      while (j < n && !is_space(text[j])) ++j;
      parts.push_back(from_u32(std::u32string_view(text).substr(i, j - i)));
      i = j;
    }
  } else {
    int64_t i = n;
    while (true) {
      while (i > 0 && is_space(text[i - 1])) --i;
      if (i <= 0) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
        parts.push_back(from_u32(std::u32string_view(text).substr(0, i)));  // leading whitespace kept
        break;
      }
      int64_t j = i;
      while (j > 0 && !is_space(text[j - 1])) --j;
      parts.push_back(from_u32(std::u32string_view(text).substr(j, i - j)));
      i = j;
    }
    std::reverse(parts.begin(), parts.end());
  }
  return parts;
}

}  // namespace

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               int64_t maxsplit, bool from_right) {
  if (!sep) return split_whitespace(s, maxsplit, from_right);
  if (sep->empty()) throw std::invalid_argument("empty separator");
  std::vector<std::string> parts;
  const std::string_view needle = *sep;
  if (!from_right) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t hit = s.find(needle, start);
      if (hit == std::string_view::npos) break;
      parts.emplace_back(s.substr(start, hit - start));
      start = hit + needle.size();
    }
    parts.emplace_back(s.substr(start));
  } else {
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      if (end < needle.size()) break;
      const size_t hit = s.rfind(needle, end - needle.size());
      if (hit == std::string_view::npos) break;
      parts.emplace_back(s.substr(hit + needle.size(), end - hit - needle.size()));
      end = hit;
    }
    parts.emplace_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
  }
  return parts;
}

std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count) {
  std::string out;
  if (old.empty()) {
    int64_t done = 0;
    size_t i = 0;
    while (true) {
      if (count < 0 || done < count) {
        out += repl;
        ++done;
      }
      if (i >= s.size()) break;
      const size_t start = i;
      next_code_point(s, i);
      out += s.substr(start, i - start);
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old, start);
    if (hit == std::string_view::npos) break;
    out += s.substr(start, hit - start);
    out += repl;
    start = hit + old.size();
    ++done;
  }
  out += s.substr(start);
  return out;
}

int64_t find(std::string_view s, std::string_view sub, bool from_right) {
  const size_t hit = from_right ? s.rfind(sub) : s.find(sub);
  if (hit == std::string_view::npos) return -1;
  return static_cast<int64_t>(length(s.substr(0, hit)));
}

int64_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(length(s)) + 1;
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string_view::npos; at = s.find(sub, at + sub.size())) ++n;
  return n;
}

// ---------------------------------------------------------------- slicing

SliceIndices slice_indices(int64_t size, std::optional<int64_t> start_opt,
                           std::optional<int64_t> stop_opt, std::optional<int64_t> step_opt) {
  const int64_t step = step_opt.value_or(1);
  if (step == 0) throw std::invalid_argument("slice step cannot be zero");
  auto adjust = [&](std::optional<int64_t> v, int64_t fallback, int64_t low, int64_t high) {
    if (!v) return fallback;
    int64_t x = *v;
    if (x < 0) x += size;
    return std::clamp(x, low, high);
  };
  SliceIndices out;
  if (step > 0) {
    const int64_t start = adjust(start_opt, 0, 0, size);
    const int64_t stop = adjust(stop_opt, size, 0, size);
    for (int64_t i = start; i < stop; i += step) out.positions.push_back(static_cast<size_t>(i));
  } else {
    const int64_t start = adjust(start_opt, size - 1, -1, size - 1);
    const int64_t stop = adjust(stop_opt, -1, -1, size - 1);
    for (int64_t i = start; i > stop; i += step) out.positions.push_back(static_cast<size_t>(i));
  }
  return out;
}

std::string select_code_points(std::string_view s, const std::vector<size_t>& positions) {
  std::string out;
  if (is_ascii(s)) {
    out.reserve(positions.size());
    for (size_t p : positions) out += s[p];
    return out;
  }
  const std::u32string text = to_u32(s);
  for (size_t p : positions) append_utf8(out, text[p]);
  return out;
}

std::optional<std::string> code_point_at(std::string_view s, int64_t index) {
  if (is_ascii(s)) {
    const auto n = static_cast<int64_t>(s.size());
    if (index < 0) index += n;
    if (index < 0 || index >= n) return std::nullopt;
    return std::string(1, s[static_cast<size_t>(index)]);
  }
  const std::u32string text = to_u32(s);
  const auto n = static_cast<int64_t>(text.size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  std::string out;
  append_utf8(out, text[static_cast<size_t>(index)]);
  return out;
}

// ---------------------------------------------------------------- printing

std::string repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out += quote;
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (is_printable(cp)) {
      append_utf8(out, cp);
    } else if (cp < 0x100) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
      out += buf;
    }
  }
  out += quote;
  return out;
}

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then laid out by Python's rules: positional notation for
  // decimal exponents in [-4, 16), scientific (two-digit minimum exponent) otherwise.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, result.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(sci.substr(e_pos + 1));
  if (exponent >= -4 && exponent < 16) {
    std::string out;
    if (exponent < 0) {
      out = "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exponent) + 1) + "." +
            digits.substr(static_cast<size_t>(exponent) + 1);
    }
    return sign + out;
  }
  std::string mantissa = digits.substr(0, 1);
  if (digits.size() > 1) mantissa += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return sign + mantissa + exp_buf;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte >= 0x80) {
      const size_t start = i;
      const char32_t cp = next_code_point(s, i);
      if (!ensure_ascii) {
        out += s.substr(start, i - start);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        out += buf;
      } else {
        const char32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
        out += buf;
      }
      continue;
    }
    ++i;
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20 || (ensure_ascii && byte == 0x7F)) {
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(byte));
          out += buf;
        } else {
          out += static_cast<char>(byte);
        }
    }
  }
  out += '"';
}

}  // namespace hearth::tmpl::py
