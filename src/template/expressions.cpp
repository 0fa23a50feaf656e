// Expression evaluation, calls and jinja2's sandboxed attribute/item access.
#include <fmt/format.h>

#include "template/builtins.h"
#include "template/evaluator.h"
#include "template/loop.h"
#include "template/operators.h"
#include "template/pystr.h"

namespace hearth::tmpl {

using namespace ast;

namespace {

// jinja2's object_type_repr: how undefined-value messages name the object's type.
std::string object_type_repr(const Value& v) {
  switch (v.kind()) {
    case Kind::None: return "None";
    case Kind::Namespace: return "jinja2.utils.Namespace object";
    case Kind::Loop: return "jinja2.runtime.LoopContext object";
    case Kind::Callable: return "jinja2.runtime.Macro object";
    case Kind::String:
      if (v.is_safe()) return "markupsafe.Markup object";
      break;
    default: break;
  }
  return type_name(v) + " object";
}

Value missing_attribute(const Value& object, std::string_view name) {
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_type_repr(object), name));
}

Value missing_item(const Value& object, const Value& key) {
  if (key.is_string()) return missing_attribute(object, key.text());
  return Value::undefined(fmt::format("{} has no element {}", object_type_repr(object), repr(key)));
}

std::optional<int64_t> slice_bound(const Value* v) {
  if (!v || v->is_none()) return std::nullopt;
  return v->as_int();
}

bool is_slice_bound(const Value& v) { return v.is_none() || v.is_integral(); }

}  // namespace

// ---------------------------------------------------------------- access

Value Interpreter::getattr(const Value& object, std::string_view name) {
  switch (object.kind()) {
    case Kind::Undefined: object.raise_undefined();
    case Kind::String:
    case Kind::List:
    case Kind::Tuple:
      if (auto method = bound_method(*this, object, name)) return *method;
      return missing_attribute(object, name);
    case Kind::Dict:
      if (auto method = bound_method(*this, object, name)) return *method;
      if (const Value* v = object.dict_object().find(name)) return *v;
      return missing_attribute(object, name);
    case Kind::Namespace:
      if (const Value* v = object.dict_object().find(name)) return *v;
      return missing_attribute(object, name);
    case Kind::Loop: {
      auto state = std::static_pointer_cast<LoopState>(object.shared_object());
      if (auto v = state->attribute(state, name)) return *v;
      return missing_attribute(object, name);
    }
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float:
      if (name == "real") return object.is_float() ? object : Value::integer(object.as_int());
      if (name == "imag") return object.is_float() ? Value::floating(0.0) : Value::integer(0);
      return missing_attribute(object, name);
    default: return missing_attribute(object, name);
  }
}

Value Interpreter::getitem(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Kind::Undefined: object.raise_undefined();
    case Kind::Dict: {
      try {
        if (const Value* v = object.dict_object().find(key)) return *v;
      } catch (const EvalError&) {  // unhashable key: Python's TypeError, which jinja2 turns into undefined
      }
      break;
    }
    case Kind::List:
    case Kind::Tuple:
      if (key.is_integral()) {
        const auto& items = object.items();
        int64_t i = key.as_int();
        if (i < 0) i += static_cast<int64_t>(items.size());
        if (i >= 0 && i < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(i)];
      }
      break;
    case Kind::String:
      if (key.is_integral()) {
        if (auto ch = py::code_point_at(object.text(), key.as_int())) return Value::string(std::move(*ch), object.is_safe());
      }
      break;
    default: break;
  }
  // Not an item: a string key may still name an attribute (a method, a namespace member ...).
  if (key.is_string()) {
    if (object.is_dict()) {
      if (auto method = bound_method(*this, object, key.text())) return *method;
      return missing_item(object, key);
    }
    return getattr(object, key.text());
  }
  return missing_item(object, key);
}

// ---------------------------------------------------------------- calls

Value Interpreter::call(const Value& callee, Arguments& args) {
  switch (callee.kind()) {
    case Kind::Callable: return callee.callable_object().call(*this, args);
    case Kind::Undefined: callee.raise_undefined();
    case Kind::Loop: {
      auto& state = callee.object_as<LoopState>();
      if (!state.node || !state.node->recursive)
        type_error("The loop must have the 'recursive' marker to be called recursively.");
      if (!state.active) throw_error(ErrorKind::Runtime, "a recursive loop can only be called while it runs");
      if (args.positional.size() != 1 || !args.keyword.empty())
        type_error("loop() takes exactly one argument: the items to loop over");
      if (state.depth0 + 1 >= options().max_recursion)
        throw_error(ErrorKind::Limit, fmt::format("more than {} nested recursive loop calls (Options::max_recursion)",
                                                  options().max_recursion));
      std::string out;
      run_loop(*state.node, iterate(args.positional[0]), *state.scope, out, static_cast<int>(state.depth0) + 1);
      return Value::string(std::move(out));
    }
    default: type_error(fmt::format("'{}' object is not callable", type_name(callee)));
  }
}

Arguments Interpreter::eval_args(const CallArgs& args, Scope& scope) {
  Arguments out;
  out.positional.reserve(args.positional.size());
  for (const ExprPtr& e : args.positional) out.positional.push_back(eval(*e, scope));
  for (const auto& [key, e] : args.keyword) out.keyword.emplace_back(key, eval(*e, scope));
  if (args.star_args) {
    const Value extra = eval(*args.star_args, scope);
    for (Value& v : iterate(extra)) out.positional.push_back(std::move(v));
  }
  if (args.star_kwargs) {
    const Value extra = eval(*args.star_kwargs, scope);
    if (!extra.is_dict()) type_error(fmt::format("argument after ** must be a mapping, not {}", type_name(extra)));
    for (const auto& [key, value] : extra.dict_object().entries()) {
      if (!key.is_string()) type_error("keywords must be strings");
      out.keyword.emplace_back(key.text(), value);
    }
  }
  return out;
}

Value Interpreter::eval_call(const Call& call, Scope& scope) {
  if (call.callee->kind == ExprKind::GetAttr) {
    const auto& attr = static_cast<const GetAttr&>(*call.callee);
    const Value object = eval(*attr.object, scope);
    switch (object.kind()) {
      case Kind::String:
      case Kind::List:
      case Kind::Tuple:
      case Kind::Dict:
        if (has_method(object, attr.name)) {
          Arguments args = eval_args(call.args, scope);
          return *call_method(*this, object, attr.name, args);
        }
        break;
      default: break;
    }
    const Value callee = getattr(object, attr.name);
    Arguments args = eval_args(call.args, scope);
    return this->call(callee, args);
  }
  const Value callee = eval(*call.callee, scope);
  Arguments args = eval_args(call.args, scope);
  return this->call(callee, args);
}

Value Interpreter::apply_filter(std::string_view name, const Value& input, Arguments& args) {
  const FilterFn fn = find_filter(name);
  if (!fn) throw_error(ErrorKind::Runtime, fmt::format("No filter named '{}'.", name));
  return fn(*this, input, args);
}

bool Interpreter::apply_test(std::string_view name, const Value& input, Arguments& args) {
  const TestFn fn = find_test(name);
  if (!fn) throw_error(ErrorKind::Runtime, fmt::format("No test named '{}'.", name));
  return fn(*this, input, args);
}

Value Interpreter::eval_filter(const Filter& filter, Scope& scope, const Value* block_input) {
  Value input;
  if (!filter.operand) input = *block_input;
  else if (block_input && filter.operand->kind == ExprKind::Filter)
    input = eval_filter(static_cast<const Filter&>(*filter.operand), scope, block_input);
  else input = eval(*filter.operand, scope);
  if (!filter.fn) throw_error(ErrorKind::Runtime, fmt::format("No filter named '{}' found.", filter.name));
  Arguments args = eval_args(filter.args, scope);
  return filter.fn(*this, input, args);
}

Value Interpreter::apply_filter_chain(const Expr& chain, Scope& scope, Value input) {
  try {
    return eval_filter(static_cast<const Filter&>(chain), scope, &input);
  } catch (const EvalError& e) {
    rethrow_at(e, chain.offset);
  }
}

// ---------------------------------------------------------------- expressions

Value Interpreter::lookup(const std::string& name, Scope& scope) {
  if (const Value* v = scope.find(name)) return *v;
  if (auto global = find_global(name)) return *global;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

Value Interpreter::eval(const Expr& expr, Scope& scope) {
  try {
    return eval_node(expr, scope);
  } catch (const EvalError& e) {
    rethrow_at(e, expr.offset);
  }
}

Value Interpreter::eval_node(const Expr& expr, Scope& scope) {
  switch (expr.kind) {
    case ExprKind::Literal: return static_cast<const Literal&>(expr).value;
    case ExprKind::Name: return lookup(static_cast<const Name&>(expr).name, scope);
    case ExprKind::List:
    case ExprKind::Tuple: {
      const auto& node = static_cast<const Sequence&>(expr);
      std::vector<Value> items;
      items.reserve(node.items.size());
      for (const ExprPtr& e : node.items) items.push_back(eval(*e, scope));
      return expr.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::Dict: {
      auto dict = std::make_shared<DictObject>();
      for (const auto& [k, v] : static_cast<const DictLiteral&>(expr).items) {
        Value key = eval(*k, scope);
        dict->set(std::move(key), eval(*v, scope));
      }
      return Value::dict(std::move(dict));
    }
    case ExprKind::Unary: {
      const auto& node = static_cast<const Unary&>(expr);
      return unary_op(node.op, eval(*node.operand, scope));
    }
    case ExprKind::Binary: {
      const auto& node = static_cast<const Binary&>(expr);
      Value left = eval(*node.left, scope);
      if (node.op == BinaryOp::And) return truthy(left) ? eval(*node.right, scope) : left;
      if (node.op == BinaryOp::Or) return truthy(left) ? left : eval(*node.right, scope);
      return binary_op(*this, node.op, left, eval(*node.right, scope));
    }
    case ExprKind::Compare: {
      const auto& node = static_cast<const Compare&>(expr);
      Value left = eval(*node.first, scope);
      for (const auto& [op, e] : node.rest) {
        Value right = eval(*e, scope);
        if (!compare_op(op, left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::Concat: {
      std::string out;
      for (const ExprPtr& e : static_cast<const Concat&>(expr).items) {
        append_str(out, eval(*e, scope));
        check_size(out.size());
      }
      return Value::string(std::move(out));
    }
    case ExprKind::Conditional: {
      const auto& node = static_cast<const Conditional&>(expr);
      if (truthy(eval(*node.test, scope))) return eval(*node.then, scope);
      if (node.otherwise) return eval(*node.otherwise, scope);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
    }
    case ExprKind::GetAttr: {
      const auto& node = static_cast<const GetAttr&>(expr);
      return getattr(eval(*node.object, scope), node.name);
    }
    case ExprKind::GetItem: {
      const auto& node = static_cast<const GetItem&>(expr);
      const Value object = eval(*node.object, scope);
      return getitem(object, eval(*node.index, scope));
    }
    case ExprKind::Slice: {
      const auto& node = static_cast<const Slice&>(expr);
      const Value object = eval(*node.object, scope);
      Value parts[3];
      const ExprPtr* exprs[3] = {&node.start, &node.stop, &node.step};
      for (int i = 0; i < 3; ++i) parts[i] = *exprs[i] ? eval(**exprs[i], scope) : Value::none();
      // jinja2 compiles slices to plain Python subscripts, so they raise Python's errors.
      if (object.is_undefined()) object.raise_undefined();
      if (object.is_dict()) type_error("unhashable type: 'slice'");
      if (!object.is_string() && !object.is_sequence_like())
        type_error(fmt::format("'{}' object is not subscriptable", type_name(object)));
      for (const Value& part : parts) {
        if (part.is_undefined()) part.raise_undefined();
        if (!is_slice_bound(part)) type_error("slice indices must be integers or None or have an __index__ method");
      }
      const int64_t size = object.is_string() ? static_cast<int64_t>(py::length(object.text()))
                                              : static_cast<int64_t>(object.items().size());
      py::SliceIndices picked;
      try {
        picked = py::slice_indices(size, slice_bound(&parts[0]), slice_bound(&parts[1]), slice_bound(&parts[2]));
      } catch (const std::invalid_argument& e) {
        value_error(e.what());
      }
      if (object.is_string())
        return Value::string(py::select_code_points(object.text(), picked.positions), object.is_safe());
      std::vector<Value> items;
      items.reserve(picked.positions.size());
      for (size_t p : picked.positions) items.push_back(object.items()[p]);
      return object.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    }
    case ExprKind::Call: return eval_call(static_cast<const Call&>(expr), scope);
    case ExprKind::Filter: return eval_filter(static_cast<const Filter&>(expr), scope, nullptr);
    case ExprKind::Test: {
      const auto& node = static_cast<const Test&>(expr);
      const Value operand = eval(*node.operand, scope);
      if (!node.fn) throw_error(ErrorKind::Runtime, fmt::format("No test named '{}' found.", node.name));
      Arguments args = eval_args(node.args, scope);
      return Value::boolean(node.fn(*this, operand, args) != node.negated);
    }
  }
  return Value();
}

}  // namespace hearth::tmpl
