// Expressions, with jinja2's precedence (lowest first): conditional, or, and, not,
// comparisons and in, + -, ~, * / // %, **, unary - +, then postfix (.attr, [item], call)
// and filters/tests.
#include "template/builtins.h"
#include "template/parser_impl.h"

namespace hearth::tmpl::detail {

bool Parser::is_tuple_end(std::string_view extra_end) const {
  if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
  return !extra_end.empty() && is_name(extra_end);
}

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr, std::string_view extra_end, bool explicit_parens) {
  const uint32_t offset = cur().offset;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) expect_op(",");
    if (is_tuple_end(extra_end)) break;
    items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
    if (is_op(",")) is_tuple = true;
    else break;
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens)
      fail(fmt::format("Expected an expression, got '{}'", describe_token(cur())), cur().offset);
  }
  auto tuple = std::make_unique<Sequence>(ExprKind::Tuple, offset);
  tuple->items = std::move(items);
  return tuple;
}

ExprPtr Parser::parse_expression(bool with_condexpr) {
  DepthGuard guard(*this);
  return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr Parser::parse_condexpr() {
  const size_t unknown_mark = unknown_.size();
  ExprPtr expr = parse_or();
  while (is_name("if")) {
    auto cond = std::make_unique<Conditional>(cur().offset);
    next();
    cond->then = std::move(expr);
    cond->test = parse_or();
    if (skip_name("else")) cond->otherwise = parse_condexpr();
    for (size_t i = unknown_mark; i < unknown_.size(); ++i) unknown_[i].soft = true;
    cond->offset = cond->then->offset;
    expr = std::move(cond);
  }
  return expr;
}

ExprPtr Parser::binary(BinaryOp op, ExprPtr left, ExprPtr right) {
  const uint32_t offset = left->offset;
  return std::make_unique<Binary>(offset, op, std::move(left), std::move(right));
}

ExprPtr Parser::parse_or() {
  ExprPtr left = parse_and();
  while (skip_name("or")) left = binary(BinaryOp::Or, std::move(left), parse_and());
  return left;
}

ExprPtr Parser::parse_and() {
  ExprPtr left = parse_not();
  while (skip_name("and")) left = binary(BinaryOp::And, std::move(left), parse_not());
  return left;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this);
    const uint32_t offset = cur().offset;
    next();
    return std::make_unique<Unary>(offset, UnaryOp::Not, parse_not());
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  ExprPtr first = parse_math1();
  std::unique_ptr<Compare> compare;
  while (true) {
    CompareOp op;
    if (is_op("==")) op = CompareOp::Eq;
    else if (is_op("!=")) op = CompareOp::Ne;
    else if (is_op("<")) op = CompareOp::Lt;
    else if (is_op("<=")) op = CompareOp::Le;
    else if (is_op(">")) op = CompareOp::Gt;
    else if (is_op(">=")) op = CompareOp::Ge;
    else if (is_name("in")) op = CompareOp::In;
    else if (is_name("not") && look().type == TokenType::Name && look().text == "in") {
      next();
      op = CompareOp::NotIn;
    } else {
      break;
    }
    next();
    if (!compare) compare = std::make_unique<Compare>(first->offset, std::move(first));
    compare->rest.emplace_back(op, parse_math1());
  }
  if (compare) return compare;
  return first;
}

ExprPtr Parser::parse_math1() {
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    const BinaryOp op = is_op("+") ? BinaryOp::Add : BinaryOp::Sub;
    next();
    left = binary(op, std::move(left), parse_concat());
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  ExprPtr first = parse_math2();
  if (!is_op("~")) return first;
  auto concat = std::make_unique<Concat>(first->offset);
  concat->items.push_back(std::move(first));
  while (skip_op("~")) concat->items.push_back(parse_math2());
  return concat;
}

ExprPtr Parser::parse_math2() {
  ExprPtr left = parse_pow();
  while (true) {
    BinaryOp op;
    if (is_op("*")) op = BinaryOp::Mul;
    else if (is_op("/")) op = BinaryOp::Div;
    else if (is_op("//")) op = BinaryOp::FloorDiv;
    else if (is_op("%")) op = BinaryOp::Mod;
    else break;
    next();
    left = binary(op, std::move(left), parse_pow());
  }
  return left;
}

ExprPtr Parser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (skip_op("**")) left = binary(BinaryOp::Pow, std::move(left), parse_unary(true));
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  ExprPtr node;
  if (is_op("-") || is_op("+")) {
    DepthGuard guard(*this);
    const uint32_t offset = cur().offset;
    const UnaryOp op = is_op("-") ? UnaryOp::Neg : UnaryOp::Pos;
    next();
    node = std::make_unique<Unary>(offset, op, parse_unary(false));
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr Parser::parse_primary() {
  const Token& token = cur();
  const uint32_t offset = token.offset;
  switch (token.type) {
    case TokenType::Name: {
      const std::string& n = token.text;
      if (n == "true" || n == "True" || n == "false" || n == "False") {
        next();
        return std::make_unique<Literal>(offset, Value::boolean(n == "true" || n == "True"));
      }
      if (n == "none" || n == "None") {
        next();
        return std::make_unique<Literal>(offset, Value::none());
      }
      if (n == "caller" || n == "varargs" || n == "kwargs") {
        for (Macro* m : macro_stack_) {
          m->uses_caller = m->uses_caller || n == "caller";
          m->uses_varargs = m->uses_varargs || n == "varargs";
          m->uses_kwargs = m->uses_kwargs || n == "kwargs";
        }
      }
      auto name = std::make_unique<ast::Name>(offset, n);
      next();
      return name;
    }
    case TokenType::String: {
      std::string text;
      while (cur().type == TokenType::String) {
        text += cur().text;
        next();
      }
      return std::make_unique<Literal>(offset, Value::string(std::move(text)));
    }
    case TokenType::Integer: {
      auto literal = std::make_unique<Literal>(offset, Value::integer(token.int_value));
      next();
      return literal;
    }
    case TokenType::Float: {
      auto literal = std::make_unique<Literal>(offset, Value::floating(token.float_value));
      next();
      return literal;
    }
    default: break;
  }
  if (is_op("(")) {
    DepthGuard guard(*this);
    next();
    ExprPtr inner = parse_tuple(false, true, {}, true);
    expect_op(")");
    return inner;
  }
  if (is_op("[")) return parse_list();
  if (is_op("{")) return parse_dict();
  fail(fmt::format("unexpected '{}'", describe_token(token)), offset);
}

ExprPtr Parser::parse_list() {
  DepthGuard guard(*this);
  auto list = std::make_unique<Sequence>(ExprKind::List, cur().offset);
  expect_op("[");
  while (!is_op("]")) {
    if (!list->items.empty()) expect_op(",");
    if (is_op("]")) break;
    list->items.push_back(parse_expression(true));
  }
  expect_op("]");
  return list;
}

ExprPtr Parser::parse_dict() {
  DepthGuard guard(*this);
  auto dict = std::make_unique<DictLiteral>(cur().offset);
  expect_op("{");
  while (!is_op("}")) {
    if (!dict->items.empty()) expect_op(",");
    if (is_op("}")) break;
    ExprPtr key = parse_expression(true);
    expect_op(":");
    dict->items.emplace_back(std::move(key), parse_expression(true));
  }
  expect_op("}");
  return dict;
}

ExprPtr Parser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
    else if (is_op("(")) node = parse_call(std::move(node));
    else return node;
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) node = parse_filter(std::move(node), false);
    else if (is_name("is")) node = parse_test(std::move(node));
    else if (is_op("(")) node = parse_call(std::move(node));
    else return node;
  }
}

ExprPtr Parser::parse_subscript(ExprPtr node) {
  const uint32_t offset = node->offset;
  if (skip_op(".")) {
    const Token& token = cur();
    if (token.type == TokenType::Name) {
      next();
      return std::make_unique<GetAttr>(offset, std::move(node), token.text);
    }
    if (token.type == TokenType::Integer) {
      next();
      return std::make_unique<GetItem>(offset, std::move(node),
                                       std::make_unique<Literal>(token.offset, Value::integer(token.int_value)));
    }
    fail("expected name or number", token.offset);
  }
  DepthGuard guard(*this);
  const uint32_t bracket = cur().offset;
  expect_op("[");
  std::vector<ExprPtr> args;
  std::unique_ptr<Slice> slice;
  while (!is_op("]")) {
    if (!args.empty() || slice) expect_op(",");
    if (is_op(":") || !args.empty() || slice) {
      // A slice, possibly after a first expression: start:stop:step.
    }
    ExprPtr first;
    if (!is_op(":")) {
      first = parse_expression(true);
      if (!is_op(":")) {
        if (slice) fail("slices cannot be combined with other subscripts", cur().offset);
        args.push_back(std::move(first));
        continue;
      }
    }
    if (slice || !args.empty()) fail("slices cannot be combined with other subscripts", cur().offset);
    slice = std::make_unique<Slice>(offset, nullptr);
    slice->start = std::move(first);
    next();  // ':'
    if (!is_op(":") && !is_op("]") && !is_op(",")) slice->stop = parse_expression(true);
    if (skip_op(":") && !is_op("]") && !is_op(",")) slice->step = parse_expression(true);
  }
  expect_op("]");
  if (slice) {
    slice->object = std::move(node);
    return slice;
  }
  ExprPtr index;
  if (args.size() == 1) {
    index = std::move(args[0]);
  } else {
    auto tuple = std::make_unique<Sequence>(ExprKind::Tuple, bracket);
    tuple->items = std::move(args);
    index = std::move(tuple);
  }
  return std::make_unique<GetItem>(offset, std::move(node), std::move(index));
}

void Parser::parse_call_args(CallArgs& args) {
  const uint32_t offset = cur().offset;
  expect_op("(");
  bool require_comma = false;
  auto ensure = [&](bool ok) {
    if (!ok) fail("invalid syntax for function call expression", offset);
  };
  while (!is_op(")")) {
    if (require_comma) {
      expect_op(",");
      if (is_op(")")) break;
    }
    if (skip_op("*")) {
      ensure(!args.star_args && !args.star_kwargs);
      args.star_args = parse_expression(true);
    } else if (skip_op("**")) {
      ensure(!args.star_kwargs);
      args.star_kwargs = parse_expression(true);
    } else if (cur().type == TokenType::Name && look().type == TokenType::Operator && look().text == "=") {
      ensure(!args.star_kwargs);
      std::string key = cur().text;
      next();
      next();
      args.keyword.emplace_back(std::move(key), parse_expression(true));
    } else {
      ensure(!args.star_args && !args.star_kwargs && args.keyword.empty());
      args.positional.push_back(parse_expression(true));
    }
    require_comma = true;
  }
  expect_op(")");
}

ExprPtr Parser::parse_call(ExprPtr node) {
  DepthGuard guard(*this);
  auto call = std::make_unique<Call>(node->offset, std::move(node));
  parse_call_args(call->args);
  return call;
}

std::string Parser::parse_dotted_name() {
  std::string name = expect_name();
  while (skip_op(".")) {
    name += '.';
    name += expect_name();
  }
  return name;
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (is_op("|") || start_inline) {
    if (!start_inline) next();
    start_inline = false;
    const uint32_t offset = cur().offset;
    auto filter = std::make_unique<Filter>(offset, std::move(node), parse_dotted_name());
    if (is_op("(")) {
      DepthGuard guard(*this);
      parse_call_args(filter->args);
    }
    filter->fn = find_filter(filter->name);
    if (!filter->fn) unknown_.push_back({"filter", filter->name, offset, soft_});
    node = std::move(filter);
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  const uint32_t offset = node->offset;
  next();  // 'is'
  const bool negated = skip_name("not");
  const uint32_t name_offset = cur().offset;
  auto test = std::make_unique<Test>(offset, std::move(node), parse_dotted_name());
  test->negated = negated;
  const Token& token = cur();
  const bool argument_follows =
      token.type == TokenType::Name || token.type == TokenType::String || token.type == TokenType::Integer ||
      token.type == TokenType::Float || is_op("[") || is_op("{");
  if (is_op("(")) {
    DepthGuard guard(*this);
    parse_call_args(test->args);
  } else if (argument_follows && !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail("You cannot chain multiple tests with is", token.offset);
    test->args.positional.push_back(parse_postfix(parse_primary()));
  }
  test->fn = find_test(test->name);
  if (!test->fn) unknown_.push_back({"test", test->name, name_offset, soft_});
  return test;
}

}  // namespace hearth::tmpl::detail
