// Splits template source into tokens the way jinja2's lexer does, including its whitespace
// rules: `{%- -%}` / `{{- -}}` / `{#- -#}` strip, `{%+` / `+%}` keep, trim_blocks drops the first
// newline after a block or comment tag, lstrip_blocks drops the indentation before one, and a
// single trailing newline of the template is dropped. Comments vanish; {% raw %} becomes data.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tmpl {

enum class TokenType : uint8_t {
  Data,           // template text outside tags
  VariableBegin,  // {{
  VariableEnd,    // }}
  BlockBegin,     // {%
  BlockEnd,       // %}
  Name,
  String,
  Integer,
  Float,
  Operator,
  End,  // end of the template
};

struct Token {
  TokenType type;
  uint32_t offset;   // byte offset in the normalized source: where the token starts
  std::string text;  // Data text, name, decoded string literal, or operator spelling
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// jinja2 reads templates with universal newlines: \r\n and \r become \n, and one trailing
// newline is dropped (keep_trailing_newline=False). Offsets refer to this normalized text.
std::string normalize_source(std::string_view source);

// A template that cannot be tokenized: message and the byte offset of the problem.
struct LexError {
  std::string message;
  uint32_t offset;
};

// Tokenizes normalized source. Throws LexError.
std::vector<Token> tokenize(std::string_view normalized_source, const LexerOptions& options);

// 1-based line and column (in code points) of a byte offset.
struct SourceLocation {
  int line;
  int column;
};
SourceLocation locate(std::string_view normalized_source, uint32_t offset);

// How jinja2 names a token in "expected X, got Y" messages.
std::string describe_token(const Token& token);

}  // namespace hearth::tmpl
