// Unicode character properties and normalization forms, as the Hugging Face tokenizers
// library (Rust's char methods and the unicode-normalization crate) defines them; backed by
// utf8proc. Functions on text accept malformed UTF-8 and pass such bytes through unchanged.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tok::unicode {

// Rust char::is_whitespace: the White_Space property (space separators, \t..\r, U+0085,
// U+2028, U+2029).
bool is_whitespace(uint32_t cp);
// General category P* (connector, dash, open/close, initial/final, other punctuation).
bool is_punctuation(uint32_t cp);
// General category N* (Rust char::is_numeric).
bool is_numeric(uint32_t cp);
// General category C* (control, format, unassigned, private use, surrogate).
bool is_other(uint32_t cp);
// General category Mn: combining marks that StripAccents removes after NFD.
bool is_nonspacing_mark(uint32_t cp);
// The CJK ideograph blocks BERT surrounds with spaces (BertNormalizer handle_chinese_chars).
bool is_cjk_ideograph(uint32_t cp);

// Regex \w in Unicode mode: letters, marks, decimal and letter numbers, connector
// punctuation, and the joiners U+200C/U+200D.
bool is_word_char(uint32_t cp);

enum class Form { NFC, NFD, NFKC, NFKD };

// Appends `text` in normalization form `form` to `out`.
void normalize(std::string_view text, Form form, std::string& out);

// Appends `text` with every character replaced by its lowercase mapping (Rust's
// str::to_lowercase, including U+0130 -> "i̇").
void lowercase(std::string_view text, std::string& out);

}  // namespace hearth::tok::unicode
