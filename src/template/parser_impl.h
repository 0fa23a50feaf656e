// The recursive-descent parser's state and methods, shared by parser.cpp (statements) and
// parser_expressions.cpp (expressions). Internal to the template engine.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "template/ast.h"
#include "template/lexer.h"
#include "template/parser.h"

namespace hearth::tmpl::detail {

using namespace ast;

// Tag names that close or continue a block: the parser's end_tokens.
using EndTags = std::vector<std::string_view>;

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const ParseLimits& limits) : tokens_(tokens), limits_(limits) {}

  Body parse_template() {
    Body body = subparse({});
    for (const Unknown& u : unknown_)
      if (!u.soft) fail(fmt::format("No {} named '{}'.", u.what, u.name), u.offset);
    return body;
  }

 private:
  // ---- token stream ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& look() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().type == TokenType::Operator && cur().text == op; }
  bool is_name(std::string_view name) const { return cur().type == TokenType::Name && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }

  [[noreturn]] void fail(std::string message, uint32_t offset) { throw ParseError{std::move(message), offset}; }

  [[noreturn]] void fail_expected(std::string_view what) {
    if (cur().type == TokenType::End) fail(fmt::format("unexpected end of template, expected '{}'.", what), cur().offset);
    fail(fmt::format("expected token '{}', got '{}'", what, describe_token(cur())), cur().offset);
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_expected(op);
  }
  void expect(TokenType type, std::string_view what) {
    if (cur().type != type) fail_expected(what);
    next();
  }
  std::string expect_name() {
    if (cur().type != TokenType::Name) fail_expected("name");
    std::string name = cur().text;
    next();
    return name;
  }
  void expect_block_end() { expect(TokenType::BlockEnd, "end of statement block"); }

  // ---- nesting limit ----
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > parser.limits_.max_nesting)
        parser.fail(fmt::format("template nested too deeply (more than {} levels)", parser.limits_.max_nesting),
                    parser.cur().offset);
    }
    ~DepthGuard() { --parser.depth_; }
    Parser& parser;
  };

  // Unknown filters and tests are errors, except inside an if statement or a conditional
  // expression, where jinja2 defers the error until the filter is actually applied.
  struct SoftScope {
    SoftScope(Parser& p, bool soft) : parser(p), saved(p.soft_) { p.soft_ = soft; }
    ~SoftScope() { parser.soft_ = saved; }
    Parser& parser;
    bool saved;
  };

  // ---- statements ----
  Body subparse(const EndTags& end_tags);

  // Parses `head %}` ... up to one of end_tags (left current, or consumed with drop_needle).
  Body parse_statements(const EndTags& end_tags, bool drop_needle);
  [[noreturn]] void fail_unknown_tag(const std::string& name, uint32_t offset);
  StmtPtr parse_statement();
  StmtPtr parse_if();
  StmtPtr parse_for();
  StmtPtr parse_set();
  void parse_signature(std::vector<Parameter>& params);
  StmtPtr parse_macro();
  void parse_macro_body(Macro& macro, std::string_view end_tag);
  StmtPtr parse_call_block();
  StmtPtr parse_filter_block();
  StmtPtr parse_with();
  StmtPtr parse_print();
  StmtPtr parse_scoped(const std::string& tag);
  StmtPtr parse_loop_control(const std::string& tag);

  // ---- assignment targets ----
  Target parse_assign_target(bool with_tuple, bool name_only, std::string_view extra_end, bool with_namespace);
  void check_assignable_name(const Target& t);
  Target to_target(const Expr& expr);

  // ---- expressions ----
  bool is_tuple_end(std::string_view extra_end) const;
  ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::string_view extra_end, bool explicit_parens);
  ExprPtr parse_expression(bool with_condexpr);
  ExprPtr parse_condexpr();
  ExprPtr binary(BinaryOp op, ExprPtr left, ExprPtr right);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  void parse_call_args(CallArgs& args);
  ExprPtr parse_call(ExprPtr node);
  std::string parse_dotted_name();
  ExprPtr parse_filter(ExprPtr node, bool start_inline);
  ExprPtr parse_test(ExprPtr node);

  // A filter or test name that does not exist; an error at the end of parsing unless `soft`.
  struct Unknown {
    const char* what;
    std::string name;
    uint32_t offset;
    bool soft;
  };

  const std::vector<Token>& tokens_;
  ParseLimits limits_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  bool soft_ = false;
  std::vector<Unknown> unknown_;
  std::vector<Macro*> macro_stack_;
  std::vector<std::string> tag_stack_;
  std::vector<EndTags> end_tag_stack_;
};

}  // namespace hearth::tmpl::detail
