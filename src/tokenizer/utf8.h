// Just enough UTF-8 for tokenizers: splitting text into characters and turning byte
// sequences (which byte-fallback tokens can leave half-finished) into valid text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tok::utf8 {

// Marks a byte that does not start a well-formed sequence (decode_at's result for it).
inline constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the bytes there are
// not one (stray continuation byte, overlong form, surrogate, > U+10FFFF, cut short).
size_t valid_sequence_length(std::string_view s, size_t i);

// The code point at s[i] and its length in bytes. A byte that does not start a well-formed
// sequence gives kInvalid with length 1, so malformed input is walked byte by byte.
uint32_t decode_at(std::string_view s, size_t i, size_t& length);

// Appends the UTF-8 encoding of `cp` (which must be a Unicode scalar value).
void append(std::string& out, uint32_t cp);

// Appends `in` to `out` as valid UTF-8: each maximal ill-formed subpart becomes U+FFFD
// (the Unicode-recommended substitution, as Python and HF tokenizers do). If `final` is
// false, a trailing sequence that is well-formed so far but incomplete is not consumed, so
// a later call can finish it. Returns the number of bytes of `in` consumed.
size_t append_valid(std::string_view in, std::string& out, bool final);

// Whether all of `s` is well-formed UTF-8.
bool is_valid(std::string_view s);

// Whether `s` ends with the first bytes of a UTF-8 sequence that later bytes could complete.
bool ends_incomplete(std::string_view s);

}  // namespace hearth::tok::utf8
