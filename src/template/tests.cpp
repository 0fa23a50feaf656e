// Builtin tests (`value is name(args)`), following jinja2 3.1's tests.py.
#include <fmt/format.h>

#include <unordered_map>

#include "template/builtins_internal.h"
#include "template/operators.h"
#include "template/pystr.h"

namespace hearth::tmpl {

namespace {

Value only_argument(std::string_view test, Arguments& a, std::string_view name) {
  ArgReader r(test, a);
  Value v = r.required(name);
  r.finish();
  return v;
}

void no_arguments(std::string_view test, Arguments& a) { ArgReader(test, a).finish(); }

bool t_defined(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("defined", a);
  return !v.is_undefined();
}
bool t_undefined(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("undefined", a);
  return v.is_undefined();
}
bool t_none(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("none", a);
  return v.is_none();
}
bool t_boolean(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("boolean", a);
  return v.is_bool();
}
bool t_false(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("false", a);
  return v.is_bool() && !v.as_bool();
}
bool t_true(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("true", a);
  return v.is_bool() && v.as_bool();
}
bool t_integer(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("integer", a);
  return v.is_int();
}
bool t_float(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("float", a);
  return v.is_float();
}
bool t_number(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("number", a);
  return v.is_number();
}
bool t_string(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("string", a);
  return v.is_string();
}
bool t_mapping(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("mapping", a);
  return v.is_dict();
}
// Python: has len() and __getitem__ (jinja2's Undefined has both).
bool t_sequence(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("sequence", a);
  return v.is_undefined() || v.is_string() || v.is_sequence_like() || v.is_dict();
}
bool t_iterable(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("iterable", a);
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::String:
    case Kind::List:
    case Kind::Tuple:
    case Kind::Iterator:
    case Kind::Dict:
    case Kind::Loop: return true;
    default: return false;
  }
}
bool t_callable(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("callable", a);
  // jinja2's Undefined defines __call__ (to raise), so Python calls it callable.
  return v.is_callable() || v.kind() == Kind::Loop || v.is_undefined();
}
bool t_escaped(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("escaped", a);
  return v.is_string() && v.is_safe();
}
bool t_lower(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("lower", a);
  return py::all_cased_are(to_str(v), false);
}
bool t_upper(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("upper", a);
  return py::all_cased_are(to_str(v), true);
}

bool remainder_is(Interpreter& in, const Value& v, const Value& divisor, int64_t want) {
  return equals(binary_op(in, ast::BinaryOp::Mod, v, divisor), Value::integer(want));
}
bool t_odd(Interpreter& in, const Value& v, Arguments& a) {
  no_arguments("odd", a);
  return remainder_is(in, v, Value::integer(2), 1);
}
bool t_even(Interpreter& in, const Value& v, Arguments& a) {
  no_arguments("even", a);
  return remainder_is(in, v, Value::integer(2), 0);
}
bool t_divisibleby(Interpreter& in, const Value& v, Arguments& a) {
  return remainder_is(in, v, only_argument("divisibleby", a, "num"), 0);
}

// Python's `is`: None and booleans are singletons, small ints are cached, other values are
// the same only if they are the same object.
bool t_sameas(Interpreter&, const Value& v, Arguments& a) {
  const Value other = only_argument("sameas", a, "other");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Kind::None: return true;
    case Kind::Bool: return v.as_bool() == other.as_bool();
    case Kind::Int: return v.as_int() == other.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
    case Kind::Float: return false;
    default: return v.identity() == other.identity();
  }
}

bool t_in(Interpreter&, const Value& v, Arguments& a) {
  const Value seq = only_argument("in", a, "seq");
  return contains(seq, v);
}

template <ast::CompareOp Op>
bool t_compare(Interpreter&, const Value& v, Arguments& a) {
  return compare_op(Op, v, only_argument("comparison", a, "other"));
}

bool t_filter(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("filter", a);
  return v.is_string() && find_filter(v.text()) != nullptr;
}
bool t_test(Interpreter&, const Value& v, Arguments& a) {
  no_arguments("test", a);
  return v.is_string() && find_test(v.text()) != nullptr;
}

}  // namespace

TestFn find_test(std::string_view name) {
  using ast::CompareOp;
  static const std::unordered_map<std::string_view, TestFn> kTests = {
      {"defined", t_defined},
      {"undefined", t_undefined},
      {"none", t_none},
      {"boolean", t_boolean},
      {"false", t_false},
      {"true", t_true},
      {"integer", t_integer},
      {"float", t_float},
      {"number", t_number},
      {"string", t_string},
      {"mapping", t_mapping},
      {"sequence", t_sequence},
      {"iterable", t_iterable},
      {"callable", t_callable},
      {"escaped", t_escaped},
      {"lower", t_lower},
      {"upper", t_upper},
      {"odd", t_odd},
      {"even", t_even},
      {"divisibleby", t_divisibleby},
      {"sameas", t_sameas},
      {"in", t_in},
      {"filter", t_filter},
      {"test", t_test},
      {"==", t_compare<CompareOp::Eq>},
      {"eq", t_compare<CompareOp::Eq>},
      {"equalto", t_compare<CompareOp::Eq>},
      {"!=", t_compare<CompareOp::Ne>},
      {"ne", t_compare<CompareOp::Ne>},
      {">", t_compare<CompareOp::Gt>},
      {"gt", t_compare<CompareOp::Gt>},
      {"greaterthan", t_compare<CompareOp::Gt>},
      {">=", t_compare<CompareOp::Ge>},
      {"ge", t_compare<CompareOp::Ge>},
      {"<", t_compare<CompareOp::Lt>},
      {"lt", t_compare<CompareOp::Lt>},
      {"lessthan", t_compare<CompareOp::Lt>},
      {"<=", t_compare<CompareOp::Le>},
      {"le", t_compare<CompareOp::Le>},
  };
  if (auto it = kTests.find(name); it != kTests.end()) return it->second;
  return nullptr;
}

}  // namespace hearth::tmpl
