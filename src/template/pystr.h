// Python str semantics over UTF-8 text: templates index, slice, strip, split and case-map
// strings by code point exactly as Python does, and print floats and strings the way
// Python's str()/repr() do. All text handled here is valid UTF-8 (checked where it enters).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tmpl::py {

// ---- UTF-8 ----
// Decodes the code point at s[i] and advances i. Text is valid UTF-8, so no checks beyond
// not running past the end.
char32_t next_code_point(std::string_view s, size_t& i);
// The tokenizer's UTF-8 routines (tokenizer/utf8.h) under the names the interpreter uses.
void append_utf8(std::string& out, char32_t cp);
bool is_valid_utf8(std::string_view s);
bool is_ascii(std::string_view s);
// Number of code points (Python len()).
size_t length(std::string_view s);
std::u32string to_u32(std::string_view s);
std::string from_u32(std::u32string_view s);

// ---- character classes (Python's str.isspace / isupper / islower / isprintable) ----
bool is_space(char32_t cp);
bool is_printable(char32_t cp);
char32_t to_upper(char32_t cp);
char32_t to_lower(char32_t cp);
bool is_cased(char32_t cp);
bool is_upper(char32_t cp);
bool is_lower(char32_t cp);
bool is_alnum(char32_t cp);

// ---- str methods ----
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string capitalize(std::string_view s);  // str.capitalize
std::string title(std::string_view s);       // str.title
bool all_cased_are(std::string_view s, bool upper);  // str.isupper / str.islower

enum class StripSide { Left, Right, Both };
// chars == nullopt strips whitespace, as str.strip() with no argument.
std::string strip(std::string_view s, const std::optional<std::string>& chars, StripSide side);

// str.split / str.rsplit. sep == nullopt splits on runs of whitespace. maxsplit < 0: no limit.
// Throws std::invalid_argument("empty separator") for an empty sep, as Python raises ValueError.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep,
                               int64_t maxsplit, bool from_right);
// str.replace(old, new, count); count < 0 replaces all. An empty `old` inserts `repl` between
// every code point (and at both ends), as Python does.
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);
// str.find / str.rfind: code point index or -1.
int64_t find(std::string_view s, std::string_view sub, bool from_right);
// str.count (non-overlapping).
int64_t count(std::string_view s, std::string_view sub);

// Python slice / index arithmetic on a sequence of `size` elements.
struct SliceIndices {
  std::vector<size_t> positions;  // the selected element indices, in order
};
// Throws std::invalid_argument("slice step cannot be zero") for step == 0.
SliceIndices slice_indices(int64_t size, std::optional<int64_t> start, std::optional<int64_t> stop,
                           std::optional<int64_t> step);
// Code points of s at the given positions.
std::string select_code_points(std::string_view s, const std::vector<size_t>& positions);
// The code point at Python index `index` (negative counts from the end), or nullopt.
std::optional<std::string> code_point_at(std::string_view s, int64_t index);

// ---- printing like Python ----
std::string repr(std::string_view s);      // repr(str): quotes and escapes
std::string float_repr(double value);      // repr(float): shortest round-trip form
// JSON string literal as json.dumps writes it (ensure_ascii escapes everything non-ASCII).
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii);

}  // namespace hearth::tmpl::py
