// Just enough UTF-8 for tokenizers: splitting text into characters and turning byte
// sequences (which byte-fallback tokens can leave half-finished) into valid text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tok::utf8 {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the bytes there are
// not one (stray continuation byte, overlong form, surrogate, > U+10FFFF, cut short).
size_t valid_sequence_length(std::string_view s, size_t i);

// Appends `in` to `out` as valid UTF-8: each maximal ill-formed subpart becomes U+FFFD
// (the Unicode-recommended substitution, as Python and HF tokenizers do). If `final` is
// false, a trailing sequence that is well-formed so far but incomplete is not consumed, so
// a later call can finish it. Returns the number of bytes of `in` consumed.
size_t append_valid(std::string_view in, std::string& out, bool final);

}  // namespace hearth::tok::utf8
