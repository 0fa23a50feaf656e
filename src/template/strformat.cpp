#include "template/strformat.h"

#include <fmt/format.h>

#include <cstdio>

#include "template/evaluator.h"
#include "template/pystr.h"

namespace hearth::tmpl {

namespace {

struct FormatSpec {
  std::string fill = " ";
  char align = 0;  // '<', '>', '^', '=' or 0 (type default)
  char sign = '-';
  bool alternate = false;
  int64_t width = -1;
  char grouping = 0;
  int64_t precision = -1;
  char type = 0;
};

FormatSpec parse_spec(std::string_view spec) {
  FormatSpec f;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  // [[fill]align]: the fill may be any character (one code point).
  if (!spec.empty()) {
    size_t after_first = 0;
    py::next_code_point(spec, after_first);
    if (after_first < spec.size() && is_align(spec[after_first])) {
      f.fill = std::string(spec.substr(0, after_first));
      f.align = spec[after_first];
      i = after_first + 1;
    } else if (is_align(spec[0])) {
      f.align = spec[0];
      i = 1;
    }
  }
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) f.sign = spec[i++];
  if (i < spec.size() && spec[i] == '#') f.alternate = true, ++i;
  if (i < spec.size() && spec[i] == '0') {
    if (!f.align) {
      f.fill.assign(1, '0');
      f.align = '=';
    }
    ++i;
  }
  auto number = [&]() {
    int64_t n = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') n = std::min<int64_t>(n * 10 + (spec[i++] - '0'), 1'000'000);
    return n;
  };
  if (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') f.width = number();
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) f.grouping = spec[i++];
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    if (i >= spec.size() || spec[i] < '0' || spec[i] > '9') value_error("Format specifier missing precision");
    f.precision = number();
  }
  if (i < spec.size()) f.type = spec[i++];
  if (i != spec.size()) value_error("Invalid format specifier");
  return f;
}

std::string group_digits(const std::string& digits, char separator) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += separator;
    out += digits[i];
  }
  return out;
}

std::string align(std::string body, const FormatSpec& f, char default_align) {
  const auto len = static_cast<int64_t>(py::length(body));
  if (f.width <= len) return body;
  const int64_t pad = f.width - len;
  auto fill = [&](int64_t n) {
    std::string s;
    for (int64_t k = 0; k < n; ++k) s += f.fill;
    return s;
  };
  switch (f.align ? f.align : default_align) {
    case '<': return body + fill(pad);
    case '^': return fill(pad / 2) + body + fill(pad - pad / 2);
    case '=': {
      const size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
      return body.substr(0, sign) + fill(pad) + body.substr(sign);
    }
    default: return fill(pad) + body;
  }
}

std::string sign_prefix(bool negative, char sign) {
  if (negative) return "-";
  if (sign == '+') return "+";
  if (sign == ' ') return " ";
  return "";
}

std::string format_integer(int64_t n, const FormatSpec& f) {
  const bool negative = n < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string digits, prefix;
  switch (f.type) {
    case 0:
    case 'd':
    case 'n': digits = std::to_string(magnitude); break;
    case 'x': digits = fmt::format("{:x}", magnitude), prefix = "0x"; break;
    case 'X': digits = fmt::format("{:X}", magnitude), prefix = "0X"; break;
    case 'o': digits = fmt::format("{:o}", magnitude), prefix = "0o"; break;
    case 'b': digits = fmt::format("{:b}", magnitude), prefix = "0b"; break;
    case 'c': {
      std::string s;
      if (n < 0 || n > 0x10FFFF) value_error("%c arg not in range(0x110000)");
      py::append_utf8(s, static_cast<char32_t>(n));
      return align(s, f, '<');
    }
    default: value_error(fmt::format("Unknown format code '{}' for object of type 'int'", f.type));
  }
  if (f.grouping) digits = group_digits(digits, f.grouping);
  return align(fmt::format("{}{}{}", sign_prefix(negative, f.sign), f.alternate ? prefix : "", digits), f, '>');
}

std::string format_float(double x, FormatSpec f) {
  if (f.type == 0 && f.precision < 0) {
    std::string body = py::float_repr(x);
    if (x >= 0 && f.sign != '-') body = sign_prefix(false, f.sign) + body;
    return align(body, f, '>');
  }
  char type = f.type ? f.type : 'g';
  double value = x;
  std::string suffix;
  if (type == '%') {
    value *= 100;
    type = 'f';
    suffix = "%";
  }
  if (std::string_view("eEfFgG").find(type) == std::string_view::npos)
    value_error(fmt::format("Unknown format code '{}' for object of type 'float'", type));
  const int64_t precision = f.precision < 0 ? 6 : std::min<int64_t>(f.precision, 200);
  char buf[512];
  const std::string c_format = fmt::format("%{}.{}{}", f.alternate ? "#" : "", precision, type);
  std::snprintf(buf, sizeof buf, c_format.c_str(), std::fabs(value));
  std::string digits = buf;
  if (f.grouping) {
    const size_t dot = digits.find_first_of(".eE");
    digits = group_digits(digits.substr(0, dot), f.grouping) + (dot == std::string::npos ? "" : digits.substr(dot));
  }
  return align(sign_prefix(std::signbit(value) && value != 0, f.sign) + digits + suffix, f, '>');
}

}  // namespace

std::string format_value(const Value& value, std::string_view spec) {
  if (spec.empty()) return to_str(value);
  FormatSpec f = parse_spec(spec);
  if (value.is_string()) {
    if (f.type && f.type != 's') value_error(fmt::format("Unknown format code '{}' for object of type 'str'", f.type));
    std::string s = value.text();
    if (f.precision >= 0)
      s = py::select_code_points(s, py::slice_indices(static_cast<int64_t>(py::length(s)), 0, f.precision, 1).positions);
    return align(std::move(s), f, '<');
  }
  if (value.is_integral()) {
    if (f.type && std::string_view("eEfFgG%").find(f.type) != std::string_view::npos)
      return format_float(static_cast<double>(value.as_int()), f);
    return format_integer(value.as_int(), f);
  }
  if (value.is_float()) return format_float(value.as_double(), f);
  type_error(fmt::format("unsupported format string passed to {}.__format__", type_name(value)));
}

std::string str_format(Interpreter& in, const std::string& format, const Arguments& args) {
  std::string out;
  int auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      else value_error("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    // Find the matching '}' (the spec may hold one level of nested fields).
    size_t end = i + 1;
    int depth = 1;
    for (; end < format.size() && depth > 0; ++end) {
      if (format[end] == '{') ++depth;
      else if (format[end] == '}') --depth;
    }
    if (depth != 0) value_error("expected '}' before end of string");
    const std::string field = format.substr(i + 1, end - i - 2);
    i = end - 1;
    // field_name [!conversion] [:spec]
    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '!' && field[name_end] != ':') {
      if (field[name_end] == '[') name_end = field.find(']', name_end);
      if (name_end == std::string::npos) value_error("Missing ']' in format string");
      ++name_end;
    }
    const std::string name = field.substr(0, name_end);
    char conversion = 0;
    std::string spec;
    size_t rest = name_end;
    if (rest < field.size() && field[rest] == '!') {
      if (rest + 1 >= field.size()) value_error("end of string while looking for conversion specifier");
      conversion = field[rest + 1];
      rest += 2;
    }
    if (rest < field.size()) {
      if (field[rest] != ':') value_error("expected ':' after conversion specifier");
      spec = field.substr(rest + 1);
      if (spec.find('{') != std::string::npos) spec = str_format(in, spec, args);
    }
    // The argument: positional (auto or numbered) or keyword, then .attr / [key] parts.
    size_t part_end = name.find_first_of(".[");
    const std::string head = name.substr(0, part_end);
    Value value;
    if (head.empty() || std::isdigit(static_cast<unsigned char>(head[0]))) {
      size_t index;
      if (head.empty()) {
        if (used_manual) value_error("cannot switch from manual field specification to automatic field numbering");
        used_auto = true;
        index = static_cast<size_t>(auto_index++);
      } else {
        if (used_auto) value_error("cannot switch from automatic field numbering to manual field specification");
        used_manual = true;
        index = static_cast<size_t>(std::stoul(head.substr(0, 9)));
      }
      if (index >= args.positional.size()) value_error("tuple index out of range");
      value = args.positional[index];
    } else {
      bool found = false;
      for (const auto& [key, v] : args.keyword)
        if (key == head) value = v, found = true;
      if (!found) value_error(py::repr(head));  // Python's KeyError message is the key's repr
    }
    while (part_end != std::string::npos && part_end < name.size()) {
      if (name[part_end] == '.') {
        const size_t next = name.find_first_of(".[", part_end + 1);
        value = in.getattr(value, name.substr(part_end + 1, next - part_end - 1));
        part_end = next;
      } else {
        const size_t close = name.find(']', part_end);
        const std::string key = name.substr(part_end + 1, close - part_end - 1);
        const bool digits = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos && key.size() < 18;
        value = in.getitem(value, digits ? Value::integer(std::stoll(key)) : Value::string(key));
        part_end = close + 1;
      }
    }
    if (value.is_undefined()) value.raise_undefined();
    if (conversion == 'r' || conversion == 'a') value = Value::string(repr(value));
    else if (conversion == 's') value = Value::string(to_str(value));
    else if (conversion) value_error(fmt::format("Unknown conversion specifier {}", conversion));
    out += format_value(value, spec);
    in.check_size(out.size());
  }
  return out;
}

}  // namespace hearth::tmpl
