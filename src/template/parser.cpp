#include "template/parser.h"

#include <fmt/format.h>

#include <algorithm>

#include "template/builtins.h"

namespace hearth::tmpl {

namespace {

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
  Body subparse(const EndTags& end_tags) {
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

  // Parses `head %}` ... up to one of end_tags (left current, or consumed with drop_needle).
  Body parse_statements(const EndTags& end_tags, bool drop_needle) {
    skip_op(":");
    expect_block_end();
    end_tag_stack_.push_back(end_tags);
    Body body = subparse(end_tags);
    end_tag_stack_.pop_back();
    if (drop_needle) next();
    return body;
  }

  [[noreturn]] void fail_unknown_tag(const std::string& name, uint32_t offset) {
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

  StmtPtr parse_statement() {
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

  StmtPtr parse_if() {
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

  StmtPtr parse_for() {
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

  StmtPtr parse_set() {
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

  void parse_signature(std::vector<Parameter>& params) {
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

  StmtPtr parse_macro() {
    auto node = std::make_unique<Macro>(cur().offset);
    next();
    node->name = parse_assign_target(false, true, "", false).name;
    SoftScope soft(*this, false);
    parse_signature(node->params);
    parse_macro_body(*node, "endmacro");
    return node;
  }

  void parse_macro_body(Macro& macro, std::string_view end_tag) {
    const int saved_loops = loop_depth_;
    loop_depth_ = 0;  // break/continue cannot reach a loop outside the macro
    macro_stack_.push_back(&macro);
    macro.body = parse_statements({end_tag}, true);
    macro_stack_.pop_back();
    loop_depth_ = saved_loops;
  }

  StmtPtr parse_call_block() {
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

  StmtPtr parse_filter_block() {
    auto node = std::make_unique<FilterBlock>(cur().offset);
    next();
    SoftScope soft(*this, false);
    node->filter = parse_filter(nullptr, true);
    node->body = parse_statements({"endfilter"}, true);
    return node;
  }

  StmtPtr parse_with() {
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

  StmtPtr parse_print() {
    const uint32_t offset = cur().offset;
    next();
    auto node = std::make_unique<Print>(offset, parse_tuple(false, true, {}, false));
    return node;
  }

  StmtPtr parse_scoped(const std::string& tag) {
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

  // `tag` names that only live as long as parse_statements keeps the EndTags vector.
  StmtPtr parse_loop_control(const std::string& tag) {
    const uint32_t offset = cur().offset;
    if (loop_depth_ == 0) fail(fmt::format("'{}' outside of a loop", tag), offset);
    next();
    return std::make_unique<LoopControl>(tag == "break" ? StmtKind::Break : StmtKind::Continue, offset);
  }

  // ---- assignment targets ----
  Target parse_assign_target(bool with_tuple, bool name_only, std::string_view extra_end, bool with_namespace) {
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

  void check_assignable_name(const Target& t) {
    static constexpr std::string_view kConstants[] = {"true", "false", "none", "True", "False", "None"};
    for (std::string_view c : kConstants)
      if (t.name == c) fail("can't assign to 'name'", t.offset);
  }

  Target to_target(const Expr& expr) {
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

  // ---- expressions ----
  bool is_tuple_end(std::string_view extra_end) const {
    if (cur().type == TokenType::VariableEnd || cur().type == TokenType::BlockEnd || is_op(")")) return true;
    return !extra_end.empty() && is_name(extra_end);
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, std::string_view extra_end, bool explicit_parens) {
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

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
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

  ExprPtr binary(BinaryOp op, ExprPtr left, ExprPtr right) {
    const uint32_t offset = left->offset;
    return std::make_unique<Binary>(offset, op, std::move(left), std::move(right));
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(BinaryOp::Or, std::move(left), parse_and());
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(BinaryOp::And, std::move(left), parse_not());
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      const uint32_t offset = cur().offset;
      next();
      return std::make_unique<Unary>(offset, UnaryOp::Not, parse_not());
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
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

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const BinaryOp op = is_op("+") ? BinaryOp::Add : BinaryOp::Sub;
      next();
      left = binary(op, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto concat = std::make_unique<Concat>(first->offset);
    concat->items.push_back(std::move(first));
    while (skip_op("~")) concat->items.push_back(parse_math2());
    return concat;
  }

  ExprPtr parse_math2() {
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

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) left = binary(BinaryOp::Pow, std::move(left), parse_unary(true));
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
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

  ExprPtr parse_primary() {
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

  ExprPtr parse_list() {
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

  ExprPtr parse_dict() {
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

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) node = parse_filter(std::move(node), false);
      else if (is_name("is")) node = parse_test(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
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

  void parse_call_args(CallArgs& args) {
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

  ExprPtr parse_call(ExprPtr node) {
    DepthGuard guard(*this);
    auto call = std::make_unique<Call>(node->offset, std::move(node));
    parse_call_args(call->args);
    return call;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    return name;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
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

  ExprPtr parse_test(ExprPtr node) {
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

}  // namespace

ast::Body parse(const std::vector<Token>& tokens, const ParseLimits& limits) {
  return Parser(tokens, limits).parse_template();
}

}  // namespace hearth::tmpl
