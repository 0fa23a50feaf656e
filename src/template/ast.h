// The parsed form of a template: expression and statement nodes as jinja2's parser builds
// them. Every node remembers the byte offset of its first token, for error positions.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/value.h"

namespace hearth::tmpl {

class Interpreter;
// A builtin filter: input | name(args...). A builtin test: input is name(args...).
using FilterFn = Value (*)(Interpreter&, const Value& input, Arguments& args);
using TestFn = bool (*)(Interpreter&, const Value& input, Arguments& args);

namespace ast {

// ---------------------------------------------------------------- expressions

enum class ExprKind : uint8_t {
  Literal,
  Name,
  List,
  Tuple,
  Dict,
  Unary,
  Binary,
  Compare,
  Concat,
  Conditional,
  GetAttr,
  GetItem,
  Slice,
  Call,
  Filter,
  Test,
};

struct Expr {
  Expr(ExprKind k, uint32_t o) : kind(k), offset(o) {}
  virtual ~Expr() = default;
  ExprKind kind;
  uint32_t offset;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Literal final : Expr {
  Literal(uint32_t o, Value v) : Expr(ExprKind::Literal, o), value(std::move(v)) {}
  Value value;
};

struct Name final : Expr {
  Name(uint32_t o, std::string n) : Expr(ExprKind::Name, o), name(std::move(n)) {}
  std::string name;
};

struct Sequence final : Expr {  // List or Tuple
  Sequence(ExprKind k, uint32_t o) : Expr(k, o) {}
  std::vector<ExprPtr> items;
};

struct DictLiteral final : Expr {
  explicit DictLiteral(uint32_t o) : Expr(ExprKind::Dict, o) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

enum class UnaryOp : uint8_t { Neg, Pos, Not };
struct Unary final : Expr {
  Unary(uint32_t o, UnaryOp p, ExprPtr x) : Expr(ExprKind::Unary, o), op(p), operand(std::move(x)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, And, Or };
struct Binary final : Expr {
  Binary(uint32_t o, BinaryOp p, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::Binary, o), op(p), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };
struct Compare final : Expr {  // a < b <= c: chained like Python
  Compare(uint32_t o, ExprPtr f) : Expr(ExprKind::Compare, o), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

struct Concat final : Expr {  // a ~ b ~ c
  explicit Concat(uint32_t o) : Expr(ExprKind::Concat, o) {}
  std::vector<ExprPtr> items;
};

struct Conditional final : Expr {  // then if test else otherwise
  explicit Conditional(uint32_t o) : Expr(ExprKind::Conditional, o) {}
  ExprPtr test, then, otherwise;  // otherwise may be null (gives undefined)
};

struct GetAttr final : Expr {  // object.name
  GetAttr(uint32_t o, ExprPtr obj, std::string n)
      : Expr(ExprKind::GetAttr, o), object(std::move(obj)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

struct GetItem final : Expr {  // object[index]
  GetItem(uint32_t o, ExprPtr obj, ExprPtr i)
      : Expr(ExprKind::GetItem, o), object(std::move(obj)), index(std::move(i)) {}
  ExprPtr object, index;
};

struct Slice final : Expr {  // object[start:stop:step]; any part may be null
  Slice(uint32_t o, ExprPtr obj) : Expr(ExprKind::Slice, o), object(std::move(obj)) {}
  ExprPtr object, start, stop, step;
};

struct CallArgs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
};

struct Call final : Expr {
  Call(uint32_t o, ExprPtr c) : Expr(ExprKind::Call, o), callee(std::move(c)) {}
  ExprPtr callee;
  CallArgs args;
};

struct Filter final : Expr {  // operand | name(args); operand is null in {% filter %} blocks
  Filter(uint32_t o, ExprPtr x, std::string n) : Expr(ExprKind::Filter, o), operand(std::move(x)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  CallArgs args;
  FilterFn fn = nullptr;  // null: no such filter (an error if it is ever applied)
};

struct Test final : Expr {  // operand is [not] name(args)
  Test(uint32_t o, ExprPtr x, std::string n) : Expr(ExprKind::Test, o), operand(std::move(x)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  CallArgs args;
  bool negated = false;
  TestFn fn = nullptr;
};

// ---------------------------------------------------------------- statements

enum class StmtKind : uint8_t {
  Output,      // template text
  Print,       // {{ expr }}
  If,
  For,
  Set,         // {% set target = expr %}
  SetBlock,    // {% set target %}...{% endset %}
  Macro,
  CallBlock,   // {% call macro(...) %}...{% endcall %}
  FilterBlock, // {% filter f %}...{% endfilter %}
  With,
  Scoped,      // a body with its own scope: {% generation %}, {% block %}
  Break,
  Continue,
};

struct Stmt {
  Stmt(StmtKind k, uint32_t o) : kind(k), offset(o) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  uint32_t offset;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Where a set/for/with stores: a name, a namespace attribute (ns.attr) or a tuple to unpack.
struct Target {
  enum class Kind : uint8_t { Name, Attribute, Tuple };
  Kind kind = Kind::Name;
  uint32_t offset = 0;
  std::string name;
  std::string attribute;
  std::vector<Target> items;
};

struct Output final : Stmt {
  Output(uint32_t o, std::string t) : Stmt(StmtKind::Output, o), text(std::move(t)) {}
  std::string text;
};

struct Print final : Stmt {
  Print(uint32_t o, ExprPtr e) : Stmt(StmtKind::Print, o), expr(std::move(e)) {}
  ExprPtr expr;
};

struct If final : Stmt {
  explicit If(uint32_t o) : Stmt(StmtKind::If, o) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, elif, elif ...
  Body otherwise;
};

struct For final : Stmt {
  explicit For(uint32_t o) : Stmt(StmtKind::For, o) {}
  Target target;
  ExprPtr iterable;
  ExprPtr filter;  // for x in xs if filter
  Body body;
  Body otherwise;  // runs when no item was visited
  bool recursive = false;
};

struct Set final : Stmt {
  explicit Set(uint32_t o) : Stmt(StmtKind::Set, o) {}
  Target target;
  ExprPtr value;
};

struct SetBlock final : Stmt {
  explicit SetBlock(uint32_t o) : Stmt(StmtKind::SetBlock, o) {}
  Target target;
  ExprPtr filter;  // a Filter chain applied to the captured text (innermost operand null), or null
  Body body;
};

struct Parameter {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Macro final : Stmt {
  explicit Macro(uint32_t o) : Stmt(StmtKind::Macro, o) {}
  std::string name;
  std::vector<Parameter> params;
  Body body;
  // Whether the body mentions these names; jinja2 only accepts caller=, extra positional
  // or extra keyword arguments when it does.
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
};

struct CallBlock final : Stmt {
  explicit CallBlock(uint32_t o) : Stmt(StmtKind::CallBlock, o), caller(o) {}
  ExprPtr call;      // a Call expression
  Macro caller;      // the body, as the macro `caller`
};

struct FilterBlock final : Stmt {
  explicit FilterBlock(uint32_t o) : Stmt(StmtKind::FilterBlock, o) {}
  ExprPtr filter;  // Filter chain with a null innermost operand
  Body body;
};

struct With final : Stmt {
  explicit With(uint32_t o) : Stmt(StmtKind::With, o) {}
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
};

struct Scoped final : Stmt {
  explicit Scoped(uint32_t o) : Stmt(StmtKind::Scoped, o) {}
  Body body;
};

struct LoopControl final : Stmt {  // break / continue
  LoopControl(StmtKind k, uint32_t o) : Stmt(k, o) {}
};

}  // namespace ast
}  // namespace hearth::tmpl
