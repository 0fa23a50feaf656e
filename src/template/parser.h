// Builds the AST from tokens with jinja2's grammar and operator precedence:
//   conditional  <  or  <  and  <  not  <  comparisons/in  <  + -  <  ~  <  * / // %  <  **
//   <  unary - +  <  postfix (.attr [item] (call))  and filters/tests (| name, is name).
#pragma once
#include <string_view>
#include <vector>

#include "template/ast.h"
#include "template/lexer.h"

namespace hearth::tmpl {

// A syntax error: message and the byte offset it refers to.
struct ParseError {
  std::string message;
  uint32_t offset;
};

struct ParseLimits {
  int max_nesting = 128;  // expression and block nesting, so deep input cannot exhaust the stack
};

// Parses a whole template. Throws ParseError.
ast::Body parse(const std::vector<Token>& tokens, const ParseLimits& limits);

}  // namespace hearth::tmpl
