#include "template/parser.h"

#include "template/builtins.h"
#include "template/parser_impl.h"

namespace hearth::tmpl {

namespace detail {

Body Parser::subparse(const EndTags& end_tags) {
  Body body;
  while (cur().type != TokenType::End) {
    const Token& token = cur();
    if (token.type == TokenType::Data) {
      body.push_back(std::make_unique<Output>(token.offset, token.text));
      next();
    } else if (token.type == TokenType::VariableBegin) {
      next();
      auto expr = parse_tuple(false, true, {}, false);
      expect(TokenType::VariableEnd, "end of print statement");
      body.push_back(std::make_unique<Print>(token.offset, std::move(expr)));
    } else if (token.type == TokenType::BlockBegin) {
      next();
      if (cur().type == TokenType::Name &&
          std::find(end_tags.begin(), end_tags.end(), cur().text) != end_tags.end())
        return body;
      if (auto stmt = parse_statement()) body.push_back(std::move(stmt));
      expect_block_end();
    } else {
      fail(fmt::format("unexpected '{}'", describe_token(token)), token.offset);
    }
  }
  if (!end_tags.empty()) fail_unknown_tag("", cur().offset);
  return body;
}

Body Parser::parse_statements(const EndTags& end_tags, bool drop_needle) {
  skip_op(":");
  expect_block_end();
  end_tag_stack_.push_back(end_tags);
  Body body = subparse(end_tags);
  end_tag_stack_.pop_back();
  if (drop_needle) next();
  return body;
}

void Parser::fail_unknown_tag(const std::string& name, uint32_t offset) {
  std::vector<std::string> message;
  message.push_back(name.empty() ? "Unexpected end of template." : fmt::format("Encountered unknown tag '{}'.", name));
  if (!end_tag_stack_.empty()) {
    std::vector<std::string> looking;
    for (std::string_view t : end_tag_stack_.back()) looking.push_back(fmt::format("'{}'", t));
    bool expected_elsewhere = false;
    for (const EndTags& tags : end_tag_stack_)
      expected_elsewhere = expected_elsewhere || std::find(tags.begin(), tags.end(), name) != tags.end();
    if (!name.empty() && expected_elsewhere)
      message.push_back(fmt::format("You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for {}.",
                                    fmt::join(looking, " or ")));
    else
      message.push_back(fmt::format("Jinja was looking for the following tags: {}.", fmt::join(looking, " or ")));
  }
  if (!tag_stack_.empty())
    message.push_back(fmt::format("The innermost block that needs to be closed is '{}'.", tag_stack_.back()));
  fail(fmt::format("{}", fmt::join(message, " ")), offset);
}

StmtPtr Parser::parse_statement() {
  DepthGuard guard(*this);
  if (cur().type != TokenType::Name) fail("tag name expected", cur().offset);
  const std::string tag = cur().text;
  const uint32_t offset = cur().offset;
  tag_stack_.push_back(tag);
  StmtPtr stmt;
  if (tag == "if") stmt = parse_if();
  else if (tag == "for") stmt = parse_for();
  else if (tag == "set") stmt = parse_set();
  else if (tag == "macro") stmt = parse_macro();
  else if (tag == "call") stmt = parse_call_block();
  else if (tag == "filter") stmt = parse_filter_block();
  else if (tag == "with") stmt = parse_with();
  else if (tag == "print") stmt = parse_print();
  else if (tag == "generation" || tag == "block") stmt = parse_scoped(tag);
  else if (tag == "break" || tag == "continue") stmt = parse_loop_control(tag);
  else if (tag == "extends" || tag == "include" || tag == "import" || tag == "from")
    fail(fmt::format("'{}' is not supported: a chat template cannot load other templates", tag), offset);
  else if (tag == "autoescape")
    fail("'autoescape' is not supported: chat templates render without HTML escaping", offset);
  else {
    tag_stack_.pop_back();
    fail_unknown_tag(tag, offset);
  }
  tag_stack_.pop_back();
  return stmt;
}

StmtPtr Parser::parse_if() {
  auto node = std::make_unique<If>(cur().offset);
  next();
  SoftScope soft(*this, true);
  while (true) {
    auto test = parse_tuple(false, false, {}, false);
    Body body = parse_statements({"elif", "else", "endif"}, false);
    node->branches.emplace_back(std::move(test), std::move(body));
    const std::string which = cur().text;
    next();
    if (which == "elif") continue;
    if (which == "else") node->otherwise = parse_statements({"endif"}, true);
    break;
  }
  return node;
}

StmtPtr Parser::parse_for() {
  auto node = std::make_unique<For>(cur().offset);
  next();
  node->target = parse_assign_target(true, false, "in", false);
  if (!skip_name("in")) fail_expected("in");
  node->iterable = parse_tuple(false, false, "recursive", false);
  SoftScope soft(*this, false);
  if (skip_name("if")) node->filter = parse_expression(true);
  node->recursive = skip_name("recursive");
  ++loop_depth_;
  node->body = parse_statements({"endfor", "else"}, false);
  --loop_depth_;
  if (cur().text == "else") {
    next();
    node->otherwise = parse_statements({"endfor"}, true);
  } else {
    next();
  }
  return node;
}

StmtPtr Parser::parse_set() {
  const uint32_t offset = cur().offset;
  next();
  Target target = parse_assign_target(true, false, "", true);
  if (skip_op("=")) {
    auto node = std::make_unique<Set>(offset);
    node->target = std::move(target);
    node->value = parse_tuple(false, true, {}, false);
    return node;
  }
  auto node = std::make_unique<SetBlock>(offset);
  node->target = std::move(target);
  SoftScope soft(*this, false);
  if (is_op("|")) node->filter = parse_filter(nullptr, false);
  node->body = parse_statements({"endset"}, true);
  return node;
}

void Parser::parse_signature(std::vector<Parameter>& params) {
  expect_op("(");
  while (!is_op(")")) {
    if (!params.empty()) expect_op(",");
    Parameter p;
    p.name = parse_assign_target(false, true, "", false).name;
    if (skip_op("=")) p.default_value = parse_expression(true);
    else if (!params.empty() && params.back().default_value)
      fail("non-default argument follows default argument", cur().offset);
    params.push_back(std::move(p));
  }
  expect_op(")");
}

StmtPtr Parser::parse_macro() {
  auto node = std::make_unique<Macro>(cur().offset);
  next();
  node->name = parse_assign_target(false, true, "", false).name;
  SoftScope soft(*this, false);
  parse_signature(node->params);
  parse_macro_body(*node, "endmacro");
  return node;
}

void Parser::parse_macro_body(Macro& macro, std::string_view end_tag) {
  const int saved_loops = loop_depth_;
  loop_depth_ = 0;  // break/continue cannot reach a loop outside the macro
  macro_stack_.push_back(&macro);
  macro.body = parse_statements({end_tag}, true);
  macro_stack_.pop_back();
  loop_depth_ = saved_loops;
}

StmtPtr Parser::parse_call_block() {
  auto node = std::make_unique<CallBlock>(cur().offset);
  next();
  node->caller.name = "caller";
  if (is_op("(")) parse_signature(node->caller.params);
  node->call = parse_expression(true);
  if (node->call->kind != ExprKind::Call) fail("expected call", node->offset);
  SoftScope soft(*this, false);
  parse_macro_body(node->caller, "endcall");
  return node;
}

StmtPtr Parser::parse_filter_block() {
  auto node = std::make_unique<FilterBlock>(cur().offset);
  next();
  SoftScope soft(*this, false);
  node->filter = parse_filter(nullptr, true);
  node->body = parse_statements({"endfilter"}, true);
  return node;
}

StmtPtr Parser::parse_with() {
  auto node = std::make_unique<With>(cur().offset);
  next();
  while (cur().type != TokenType::BlockEnd) {
    if (!node->assignments.empty()) expect_op(",");
    Target target = parse_assign_target(true, false, "", false);
    expect_op("=");
    node->assignments.emplace_back(std::move(target), parse_expression(true));
  }
  SoftScope soft(*this, false);
  node->body = parse_statements({"endwith"}, true);
  return node;
}

StmtPtr Parser::parse_print() {
  const uint32_t offset = cur().offset;
  next();
  auto node = std::make_unique<Print>(offset, parse_tuple(false, true, {}, false));
  return node;
}

StmtPtr Parser::parse_scoped(const std::string& tag) {
  auto node = std::make_unique<Scoped>(cur().offset);
  next();
  if (tag == "block") {
    expect_name();
    skip_name("scoped");
    skip_name("required");
  }
  SoftScope soft(*this, false);
  node->body = parse_statements({"end" + tag}, true);
  if (tag == "block" && cur().type == TokenType::Name) next();  // {% endblock name %}
  return node;
}

StmtPtr Parser::parse_loop_control(const std::string& tag) {
  const uint32_t offset = cur().offset;
  if (loop_depth_ == 0) fail(fmt::format("'{}' outside of a loop", tag), offset);
  next();
  return std::make_unique<LoopControl>(tag == "break" ? StmtKind::Break : StmtKind::Continue, offset);
}

Target Parser::parse_assign_target(bool with_tuple, bool name_only, std::string_view extra_end, bool with_namespace) {
  Target target;
  target.offset = cur().offset;
  if (name_only) {
    target.name = expect_name();
  } else if (with_namespace && cur().type == TokenType::Name && look().type == TokenType::Operator &&
             look().text == ".") {
    target.kind = Target::Kind::Attribute;
    target.name = expect_name();
    next();
    target.attribute = expect_name();
    return target;
  } else {
    ExprPtr expr = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    return to_target(*expr);
  }
  check_assignable_name(target);
  return target;
}

void Parser::check_assignable_name(const Target& t) {
  static constexpr std::string_view kConstants[] = {"true", "false", "none", "True", "False", "None"};
  for (std::string_view c : kConstants)
    if (t.name == c) fail("can't assign to 'name'", t.offset);
}

Target Parser::to_target(const Expr& expr) {
  Target target;
  target.offset = expr.offset;
  if (expr.kind == ExprKind::Name) {
    target.name = static_cast<const ast::Name&>(expr).name;
    return target;
  }
  if (expr.kind == ExprKind::Tuple) {
    target.kind = Target::Kind::Tuple;
    for (const auto& item : static_cast<const Sequence&>(expr).items) target.items.push_back(to_target(*item));
    return target;
  }
  static constexpr const char* kNames[] = {"const", "name", "list", "tuple", "dict", "unary", "binary",
                                           "compare", "concat", "condexpr", "getattr", "getitem",
                                           "slice", "call", "filter", "test"};
  fail(fmt::format("can't assign to '{}'", kNames[static_cast<int>(expr.kind)]), expr.offset);
}

}  // namespace detail

ast::Body parse(const std::vector<Token>& tokens, const ParseLimits& limits) {
  return detail::Parser(tokens, limits).parse_template();
}

}  // namespace hearth::tmpl
