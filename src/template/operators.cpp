#include "template/operators.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "template/evaluator.h"
#include "template/pystr.h"

namespace hearth::tmpl {

using ast::BinaryOp;
using ast::CompareOp;

namespace {

const char* symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::FloorDiv: return "//";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Pow: return "** or pow()";
    default: return "?";
  }
}

[[noreturn]] void unsupported(BinaryOp op, const Value& a, const Value& b) {
  type_error(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op), type_name(a), type_name(b)));
}

int64_t checked(bool overflow, int64_t value) {
  if (overflow) value_error("integer result does not fit in 64 bits");
  return value;
}

template <typename Op>
int64_t checked_op(Op op, int64_t x, int64_t y) {
  int64_t r = 0;
  const bool overflow = op(x, y, &r);
  return checked(overflow, r);
}
bool add(int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); }
bool sub(int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); }
bool mul(int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); }

// Python's floor division and modulo: the remainder takes the sign of the divisor.
int64_t floor_div(int64_t a, int64_t b) {
  if (b == -1) return checked(a == INT64_MIN, -a);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
double float_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  if (r == 0) r = std::copysign(0.0, b);
  return r;
}

// CPython's float_floor_div.
double float_floor_div(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, x / y);
  double floored = std::floor(div);
  if (div - floored > 0.5) floored += 1.0;
  return floored;
}

Value repeat(Interpreter& in, const Value& seq, int64_t times) {
  if (seq.is_string()) {
    if (times <= 0 || seq.text().empty()) return Value::string("", seq.is_safe());
    in.check_size(seq.text().size() * static_cast<size_t>(std::min<int64_t>(times, INT64_MAX / 2)));
    std::string out;
    out.reserve(seq.text().size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += seq.text();
    return Value::string(std::move(out), seq.is_safe());
  }
  const auto& items = seq.items();
  std::vector<Value> out;
  if (times > 0 && !items.empty()) {
    in.check_size(items.size() * static_cast<size_t>(std::min<int64_t>(times, INT64_MAX / 64)) * 8);
    RenderBudget::charge(static_cast<int64_t>(items.size()) * times);
    out.reserve(items.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  }
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) {
    const int64_t x = a.as_int(), y = b.as_int();
    switch (op) {
      case BinaryOp::Add: return Value::integer(checked_op(add, x, y));
      case BinaryOp::Sub: return Value::integer(checked_op(sub, x, y));
      case BinaryOp::Mul: return Value::integer(checked_op(mul, x, y));
      case BinaryOp::Div:
        if (y == 0) value_error("division by zero");
        return Value::floating(static_cast<double>(x) / static_cast<double>(y));
      case BinaryOp::FloorDiv:
        if (y == 0) value_error("integer division or modulo by zero");
        return Value::integer(floor_div(x, y));
      case BinaryOp::Mod:
        if (y == 0) value_error("integer modulo by zero");
        return Value::integer(floor_mod(x, y));
      case BinaryOp::Pow: {
        if (y < 0) {
          if (x == 0) value_error("0.0 cannot be raised to a negative power");
          return Value::floating(std::pow(static_cast<double>(x), static_cast<double>(y)));
        }
        int64_t result = 1, base = x, e = y;
        while (e > 0) {
          if (e & 1) result = checked_op(mul, result, base);
          e >>= 1;
          if (e > 0) base = checked_op(mul, base, base);
        }
        return Value::integer(result);
      }
      default: break;
    }
  }
  const double x = a.as_double(), y = b.as_double();
  switch (op) {
    case BinaryOp::Add: return Value::floating(x + y);
    case BinaryOp::Sub: return Value::floating(x - y);
    case BinaryOp::Mul: return Value::floating(x * y);
    case BinaryOp::Div:
      if (y == 0) value_error("float division by zero");
      return Value::floating(x / y);
    case BinaryOp::FloorDiv:
      if (y == 0) value_error("float floor division by zero");
      return Value::floating(float_floor_div(x, y));
    case BinaryOp::Mod:
      if (y == 0) value_error("float modulo");
      return Value::floating(float_mod(x, y));
    case BinaryOp::Pow:
      if (x == 0 && y < 0) value_error("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y)) value_error("negative number cannot be raised to a fractional power");
      return Value::floating(std::pow(x, y));
    default: break;
  }
  unsupported(op, a, b);
}

}  // namespace

Value binary_op(Interpreter& in, BinaryOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) a.raise_undefined();
  // str % anything formats first (Python tries str's own % before the right operand's).
  if (op == BinaryOp::Mod && a.is_string()) return Value::string(percent_format(in, a.text(), b, a.is_safe()), a.is_safe());
  if (a.is_number() && b.is_number()) return arithmetic(op, a, b);
  if (b.is_undefined()) b.raise_undefined();
  switch (op) {
    case BinaryOp::Add:
      if (a.is_string()) {
        if (!b.is_string() && a.is_safe()) unsupported(op, a, b);  // Markup.__add__ returns NotImplemented
        if (!b.is_string())
          type_error(fmt::format("can only concatenate str (not \"{}\") to str", type_name(b)));
        in.check_size(a.text().size() + b.text().size());
        // Markup + str escapes the plain side, as markupsafe does.
        if (a.is_safe() || b.is_safe()) return Value::string(markup_text(a) + markup_text(b), true);
        return Value::string(a.text() + b.text());
      }
      if (a.is_list() || a.is_tuple()) {
        if (b.kind() != a.kind())
          type_error(fmt::format("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a)));
        RenderBudget::charge(static_cast<int64_t>(a.items().size() + b.items().size()));
        std::vector<Value> items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return a.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      break;
    case BinaryOp::Mul: {
      const bool a_seq = a.is_string() || a.is_list() || a.is_tuple();
      const bool b_seq = b.is_string() || b.is_list() || b.is_tuple();
      if (a_seq && b.is_integral()) return repeat(in, a, b.as_int());
      if (b_seq && a.is_integral()) return repeat(in, b, a.as_int());
      if (a_seq || b_seq)
        type_error(fmt::format("can't multiply sequence by non-int of type '{}'", type_name(a_seq ? b : a)));
      break;
    }
    default: break;
  }
  unsupported(op, a, b);
}

Value unary_op(ast::UnaryOp op, const Value& v) {
  if (op == ast::UnaryOp::Not) return Value::boolean(!truthy(v));
  if (v.is_undefined()) v.raise_undefined();
  if (v.is_integral()) {
    if (op == ast::UnaryOp::Pos) return Value::integer(v.as_int());
    return Value::integer(checked(v.as_int() == INT64_MIN, -v.as_int()));
  }
  if (v.is_float()) return Value::floating(op == ast::UnaryOp::Pos ? v.as_double() : -v.as_double());
  type_error(fmt::format("bad operand type for unary {}: '{}'", op == ast::UnaryOp::Pos ? "+" : "-", type_name(v)));
}

bool compare_op(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::Eq: return equals(a, b);
    case CompareOp::Ne: return !equals(a, b);
    case CompareOp::Lt: return ordered(a, b, Order::Lt);
    case CompareOp::Le: return ordered(a, b, Order::Le);
    case CompareOp::Gt: return ordered(a, b, Order::Gt);
    case CompareOp::Ge: return ordered(a, b, Order::Ge);
    case CompareOp::In: return contains(b, a);
    case CompareOp::NotIn: return !contains(b, a);
  }
  return false;
}

// ---------------------------------------------------------------- printf-style formatting

namespace {

struct Spec {
  std::string flags;
  int width = -1;
  int precision = -1;
  char type = 's';
};

std::string pad(std::string body, const Spec& spec, bool numeric) {
  const auto len = static_cast<int>(py::length(body));
  if (spec.width <= len) return body;
  const size_t fill = static_cast<size_t>(spec.width - len);
  if (spec.flags.find('-') != std::string::npos) return body + std::string(fill, ' ');
  if (numeric && spec.flags.find('0') != std::string::npos) {
    const size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    return body.substr(0, sign) + std::string(fill, '0') + body.substr(sign);
  }
  return std::string(fill, ' ') + body;
}

std::string format_one(const Spec& spec, const Value& v, bool escape) {
  std::string sign_flags;
  for (char f : spec.flags)
    if (f == '+' || f == ' ' || f == '#') sign_flags += f;
  char buf[512];
  switch (spec.type) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = spec.type == 's' ? to_str(v) : repr(v);
      if (escape && !(v.is_string() && v.is_safe())) s = html_escape(s);
      if (spec.precision >= 0) s = py::select_code_points(s, py::slice_indices(static_cast<int64_t>(py::length(s)), 0, spec.precision, 1).positions);
      return pad(std::move(s), spec, false);
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
      if (v.is_undefined()) v.raise_undefined();
      if (!v.is_number())
        type_error(fmt::format("%{} format: a real number is required, not {}", spec.type, type_name(v)));
      const int64_t n = v.is_float() ? static_cast<int64_t>(v.as_double()) : v.as_int();
      const char conv = spec.type == 'i' || spec.type == 'u' ? 'd' : spec.type;
      std::string f = "%" + sign_flags + "ll" + conv;
      std::snprintf(buf, sizeof buf, f.c_str(), static_cast<long long>(n));
      return pad(buf, spec, true);
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (v.is_undefined()) v.raise_undefined();
      if (!v.is_number())
        type_error(fmt::format("must be real number, not {}", type_name(v)));
      std::string f = "%" + sign_flags + "." + std::to_string(spec.precision < 0 ? 6 : std::min(spec.precision, 100)) + spec.type;
      std::snprintf(buf, sizeof buf, f.c_str(), v.as_double());
      return pad(buf, spec, true);
    }
    case 'c': {
      std::string s;
      if (v.is_integral() && v.as_int() >= 0 && v.as_int() <= 0x10FFFF) py::append_utf8(s, static_cast<char32_t>(v.as_int()));
      else if (v.is_string() && py::length(v.text()) == 1) s = v.text();
      else type_error("%c requires int or char");
      return pad(std::move(s), spec, false);
    }
    default: value_error(fmt::format("unsupported format character '{}'", spec.type));
  }
}

}  // namespace

std::string percent_format(Interpreter& in, const std::string& format, const Value& args, bool escape) {
  std::vector<Value> positional;
  // Python treats any non-tuple, non-str argument with __getitem__ as a possible mapping:
  // then unused arguments are not an error.
  const bool mapping = args.is_dict() || args.is_list() || args.is_undefined();
  if (args.is_tuple()) positional = args.items();
  else positional.push_back(args);
  size_t next_arg = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) value_error("incomplete format");
    if (format[i] == '%') {
      out += '%';
      continue;
    }
    const Value* arg = nullptr;
    Value keyed;
    if (format[i] == '(') {
      const size_t close = format.find(')', i);
      if (close == std::string::npos) value_error("incomplete format key");
      if (!mapping) type_error("format requires a mapping");
      if (args.is_undefined()) args.raise_undefined();
      if (!args.is_dict()) type_error(fmt::format("{} indices must be integers or slices, not str", type_name(args)));
      const Value* found = args.dict_object().find(std::string_view(format).substr(i + 1, close - i - 1));
      if (!found) type_error(fmt::format("format key {} not found", py::repr(format.substr(i + 1, close - i - 1))));
      keyed = *found;
      arg = &keyed;
      i = close + 1;
    }
    Spec spec;
    while (i < format.size() && std::string_view("-+ #0").find(format[i]) != std::string_view::npos) spec.flags += format[i++];
    auto number = [&]() {
      int n = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') n = std::min(n * 10 + (format[i++] - '0'), 100000);
      return n;
    };
    if (i < format.size() && format[i] >= '0' && format[i] <= '9') spec.width = number();
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = number();
    }
    if (i >= format.size()) value_error("incomplete format");
    spec.type = format[i];
    if (!arg) {
      if (next_arg >= positional.size()) type_error("not enough arguments for format string");
      arg = &positional[next_arg++];
    }
    out += format_one(spec, *arg, escape);
    in.check_size(out.size());
  }
  if (!mapping && next_arg < positional.size()) type_error("not all arguments converted during string formatting");
  return out;
}

}  // namespace hearth::tmpl
