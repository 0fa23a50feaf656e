// Builtin filters on strings, numbers and single values, and the filter registry. The
// sequence filters are in filters_seq.cpp. Each follows jinja2 3.1's filters.py, with
// transformers' tojson (json.dumps, key order kept, no HTML escaping).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "template/builtins_internal.h"
#include "template/operators.h"
#include "template/pystr.h"

namespace hearth::tmpl {

namespace {

using builtin::int_arg;
using builtin::str_arg;

// ---------------------------------------------------------------- strings

Value f_upper(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("upper", a).finish();
  return Value::string(py::upper(to_str(v)), v.is_safe());
}

Value f_lower(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("lower", a).finish();
  return Value::string(py::lower(to_str(v)), v.is_safe());
}

Value f_capitalize(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("capitalize", a).finish();
  return Value::string(py::capitalize(to_str(v)), v.is_safe());
}

// jinja2's title: upper-case the first letter of each word, where words begin after
// whitespace, '-', '(', '{', '[' or '<'; the rest of each word is lower-cased.
Value f_title(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("title", a).finish();
  const std::u32string text = py::to_u32(to_str(v));
  std::string out;
  bool word_start = true;
  for (char32_t cp : text) {
    const bool separator = py::is_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    if (separator) {
      py::append_utf8(out, cp);
      word_start = true;
    } else if (word_start) {
      out += py::upper(py::from_u32(std::u32string(1, cp)));
      word_start = false;
    } else {
      py::append_utf8(out, py::to_lower(cp));
    }
  }
  return Value::string(std::move(out));
}

Value f_trim(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("trim", a);
  const auto chars = r.next("chars");
  r.finish();
  std::optional<std::string> set;
  if (chars && !chars->is_none()) set = str_arg(*chars);
  return Value::string(py::strip(to_str(v), set, py::StripSide::Both), v.is_safe());
}

Value f_replace(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("replace", a);
  const std::string old = str_arg(r.required("old"));
  const std::string repl = str_arg(r.required("new"));
  const auto count = r.next("count");
  r.finish();
  const int64_t n = count && !count->is_none() ? int_arg(*count) : -1;
  const std::string s = to_str(v);
  if (!old.empty()) in.check_size(s.size() + (repl.size() > old.size() ? (repl.size() - old.size()) * (s.size() / old.size()) : 0));
  else in.check_size(s.size() + repl.size() * (py::length(s) + 1));
  return Value::string(py::replace(s, old, repl, n));
}

Value f_indent(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("indent", a);
  const Value width = r.next_or("width", Value::integer(4));
  const bool first = truthy(r.next_or("first", Value::boolean(false)));
  const bool blank = truthy(r.next_or("blank", Value::boolean(false)));
  r.finish();
  std::string indention;
  if (width.is_string()) {
    indention = width.text();
  } else {
    const int64_t n = int_arg(width);
    in.check_size(static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(n, INT64_MAX / 2))));
    indention = std::string(static_cast<size_t>(std::max<int64_t>(0, n)), ' ');
  }
  if (v.is_undefined()) v.raise_undefined();
  if (v.is_list()) type_error("'list' object has no attribute 'splitlines'");  // list += "\n" extends it
  if (v.is_tuple()) type_error("can only concatenate tuple (not \"str\") to tuple");
  if (!v.is_string())  // jinja2 appends "\n" to the value itself
    type_error(fmt::format("unsupported operand type(s) for +=: '{}' and 'str'", type_name(v)));
  const std::string text = v.text() + "\n";  // jinja2's quirk, so that splitlines keeps a trailing empty line
  const std::vector<std::string> lines = builtin::splitlines(text);
  in.check_size(text.size() + indention.size() * (lines.size() + 1));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
  }
  if (first) out = indention + out;
  return Value::string(std::move(out), v.is_safe());
}

Value f_center(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("center", a);
  const int64_t width = int_arg(r.next_or("width", Value::integer(80)));
  r.finish();
  const std::string s = to_str(v);
  const auto len = static_cast<int64_t>(py::length(s));
  if (width <= len) return Value::string(s, v.is_safe());
  in.check_size(static_cast<size_t>(width));
  const int64_t margin = width - len;
  const int64_t left = margin / 2 + (margin & width & 1);
  return Value::string(std::string(static_cast<size_t>(left), ' ') + s +
                           std::string(static_cast<size_t>(margin - left), ' '),
                       v.is_safe());
}

Value f_truncate(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("truncate", a);
  const int64_t length = int_arg(r.next_or("length", Value::integer(255)));
  const bool killwords = truthy(r.next_or("killwords", Value::boolean(false)));
  const std::string end = str_arg(r.next_or("end", Value::string("...")));
  const Value leeway_v = r.next_or("leeway", Value::none());
  r.finish();
  const int64_t leeway = leeway_v.is_none() ? 5 : int_arg(leeway_v);
  const auto end_len = static_cast<int64_t>(py::length(end));
  if (length < end_len) value_error(fmt::format("expected length >= {}, got {}", end_len, length));
  if (leeway < 0) value_error(fmt::format("expected leeway >= 0, got {}", leeway));
  const std::string s = to_str(v);
  const auto n = static_cast<int64_t>(py::length(s));
  if (n <= length + leeway) return Value::string(s);
  std::string head = py::select_code_points(s, py::slice_indices(n, 0, length - end_len, 1).positions);
  if (!killwords) head = py::split(head, std::string(" "), 1, true).front();
  return Value::string(head + end);
}

Value f_wordcount(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("wordcount", a).finish();
  int64_t words = 0;
  bool in_word = false;
  for (char32_t cp : py::to_u32(to_str(v))) {
    const bool word_char = py::is_alnum(cp) || cp == '_';
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value::integer(words);
}

Value f_escape(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("escape", a).finish();
  if (v.is_safe()) return v;
  return Value::string(html_escape(to_str(v)), true);
}

Value f_forceescape(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("forceescape", a).finish();
  return Value::string(html_escape(to_str(v)), true);
}

Value f_safe(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("safe", a).finish();
  return Value::string(to_str(v), true);
}

Value f_string(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("string", a).finish();
  if (v.is_string()) return v;
  return Value::string(to_str(v));
}

// Markup.striptags: drop comments and tags, decode the basic entities, collapse whitespace.
Value f_striptags(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("striptags", a).finish();
  const std::string s = to_str(v);
  std::string text;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t end = s.find("-->", i + 4);
      if (end != std::string::npos) {
        i = end + 3;
        continue;
      }
    }
    if (s[i] == '<') {
      const size_t end = s.find('>', i + 1);
      if (end != std::string::npos) {
        i = end + 1;
        continue;
      }
    }
    text += s[i++];
  }
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#34;", "\""}, {"&#39;", "'"}, {"&quot;", "\""}};
  for (const auto& [entity, ch] : kEntities) text = py::replace(text, entity, ch, -1);
  const auto words = py::split(text, std::nullopt, -1, false);
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
  return Value::string(std::move(out));
}

Value f_format(Interpreter& in, const Value& v, Arguments& a) {
  if (!a.positional.empty() && !a.keyword.empty())
    value_error("can't handle positional and keyword arguments at the same time");
  Value args;
  if (!a.keyword.empty()) {
    auto d = std::make_shared<DictObject>();
    for (auto& [k, x] : a.keyword) d->set(k, x);
    args = Value::dict(std::move(d));
  } else {
    args = Value::tuple(a.positional);
  }
  return Value::string(percent_format(in, to_str(v), args, v.is_safe()), v.is_safe());
}

Value f_filesizeformat(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("filesizeformat", a);
  const bool binary = truthy(r.next_or("binary", Value::boolean(false)));
  r.finish();
  double bytes;
  if (v.is_number()) bytes = v.as_double();
  else if (auto f = v.is_string() ? builtin::parse_float(v.text()) : std::nullopt) bytes = *f;
  else value_error(fmt::format("could not convert {} to float", repr(v)));
  const double base = binary ? 1024 : 1000;
  static const char* kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes == 1) return Value::string("1 Byte");
  if (bytes < base) return Value::string(fmt::format("{} Bytes", static_cast<int64_t>(bytes)));
  double unit = base;
  for (int i = 0; i < 8; ++i) {
    unit *= base;
    if (bytes < unit || i == 7)
      return Value::string(fmt::format("{:.1f} {}", base * bytes / unit, binary ? kBinary[i] : kDecimal[i]));
  }
  return Value::string("");
}

// ---------------------------------------------------------------- numbers

Value f_int(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("int", a);
  const Value fallback = r.next_or("default", Value::integer(0));
  const int64_t base = int_arg(r.next_or("base", Value::integer(10)));
  r.finish();
  if (v.is_undefined()) v.raise_undefined();
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    const double f = v.as_double();
    if (std::isnan(f)) value_error("cannot convert float NaN to integer");
    if (std::isinf(f) || std::abs(f) >= 9.2e18) value_error("cannot convert float infinity to integer");
    return Value::integer(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    // An invalid base makes Python's int() raise ValueError, which the filter swallows.
    const bool valid_base = base == 0 || (base >= 2 && base <= 36);
    if (valid_base)
      if (auto i = builtin::parse_int(v.text(), static_cast<int>(base))) return Value::integer(*i);
    if (auto f = builtin::parse_float(v.text()); f && std::isfinite(*f) && std::abs(*f) < 9.2e18)
      return Value::integer(static_cast<int64_t>(*f));
  }
  return fallback;
}

Value f_float(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("float", a);
  const Value fallback = r.next_or("default", Value::floating(0.0));
  r.finish();
  if (v.is_undefined()) v.raise_undefined();
  if (v.is_number()) return Value::floating(v.as_double());
  if (v.is_string())
    if (auto f = builtin::parse_float(v.text())) return Value::floating(*f);
  return fallback;
}

Value f_abs(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("abs", a).finish();
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) value_error("integer result does not fit in 64 bits");
    return Value::integer(std::abs(v.as_int()));
  }
  if (v.is_float()) return Value::floating(std::fabs(v.as_double()));
  type_error(fmt::format("bad operand type for abs(): '{}'", type_name(v)));
}

// Python's round(x, n): halves go to the even neighbour.
Value f_round(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("round", a);
  const int64_t precision = int_arg(r.next_or("precision", Value::integer(0)));
  const std::string method = str_arg(r.next_or("method", Value::string("common")));
  r.finish();
  if (method != "common" && method != "ceil" && method != "floor")
    value_error("method must be common, ceil or floor");
  if (!v.is_number()) type_error(fmt::format("type {} doesn't define __round__ method", type_name(v)));
  if (method == "common" && v.is_integral()) return Value::integer(v.as_int());
  const double value = v.as_double();
  const double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -308, 308)));
  if (!std::isfinite(value) || !std::isfinite(value * scale)) return Value::floating(value);
  if (method == "ceil") return Value::floating(std::ceil(value * scale) / scale);
  if (method == "floor") return Value::floating(std::floor(value * scale) / scale);
  if (precision >= 0) {
    // Python rounds the exact binary value to the nearest decimal (halves to even), which
    // is what printf's %.Nf does; round(2.675, 2) is 2.67 because 2.675 is really 2.67499...
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(std::min<int64_t>(precision, 340)), value);
    return Value::floating(std::strtod(buf, nullptr));
  }
  return Value::floating(std::nearbyint(value * scale) / scale);
}

// ---------------------------------------------------------------- values

Value f_default(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("default", a);
  const Value fallback = r.next_or("default_value", Value::string(""));
  const bool boolean = truthy(r.next_or("boolean", Value::boolean(false)));
  r.finish();
  if (v.is_undefined() || (boolean && !truthy(v))) return fallback;
  return v;
}

Value f_length(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("length", a).finish();
  return Value::integer(length(v));
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Value f_tojson(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("tojson", a);
  const Value ensure_ascii = r.next_or("ensure_ascii", Value::boolean(false));
  const Value indent = r.next_or("indent", Value::none());
  const Value separators = r.next_or("separators", Value::none());
  const Value sort_keys = r.next_or("sort_keys", Value::boolean(false));
  r.finish();
  JsonStyle style;
  style.ensure_ascii = truthy(ensure_ascii);
  style.sort_keys = truthy(sort_keys);
  if (indent.is_string()) {
    style.indent = indent.text();
  } else if (!indent.is_none()) {
    const int64_t n = int_arg(indent);
    style.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(n, 0, 1024)), ' ');
  }
  if (style.indent) style.item_separator = ",";
  if (!separators.is_none()) {
    if (!separators.is_sequence_like() || separators.items().size() != 2 || !separators.items()[0].is_string() ||
        !separators.items()[1].is_string())
      value_error("separators must be a pair of strings: (item_separator, key_separator)");
    style.item_separator = separators.items()[0].text();
    style.key_separator = separators.items()[1].text();
  }
  std::string json = json_dumps(v, style);
  in.check_size(json.size());
  return Value::string(std::move(json));
}

Value f_attr(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("attr", a);
  const std::string name = str_arg(r.required("name"));
  r.finish();
  // Only real attributes: a dict's keys are not attributes.
  if (v.is_dict()) {
    if (auto m = bound_method(in, v, name)) return *m;
    return Value::undefined(fmt::format("'dict object' has no attribute '{}'", name));
  }
  return in.getattr(v, name);
}

// pprint.pformat: repr with dict keys sorted (long values are not wrapped at 80 columns here).
Value sorted_keys_copy(const Value& v, int depth) {
  if (depth > kMaxValueDepth) value_error("value nested too deeply to pretty-print");
  if (v.is_sequence_like()) {
    std::vector<Value> items;
    for (const Value& item : v.items()) items.push_back(sorted_keys_copy(item, depth + 1));
    return v.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
  }
  if (!v.is_dict()) return v;
  std::vector<Value> keys, values;
  for (const auto& [key, value] : v.dict_object().entries()) {
    keys.push_back(key);
    values.push_back(sorted_keys_copy(value, depth + 1));
  }
  std::vector<Value> order_keys = keys;
  std::vector<Value> positions;
  for (size_t i = 0; i < keys.size(); ++i) positions.push_back(Value::integer(static_cast<int64_t>(i)));
  builtin::stable_sort_by_keys(positions, order_keys, false);
  auto sorted = std::make_shared<DictObject>();
  for (const Value& p : positions) sorted->set(keys[static_cast<size_t>(p.as_int())], values[static_cast<size_t>(p.as_int())]);
  return Value::dict(std::move(sorted));
}

Value f_pprint(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("pprint", a).finish();
  return Value::string(repr(sorted_keys_copy(v, 0)));
}

template <const char* Name>
Value f_unsupported(Interpreter&, const Value&, Arguments&) {
  throw_error(ErrorKind::Runtime, fmt::format("the '{}' filter is not supported by this template engine", Name));
}
constexpr char kRandom[] = "random", kUrlize[] = "urlize", kUrlencode[] = "urlencode", kXmlattr[] = "xmlattr",
               kWordwrap[] = "wordwrap";

}  // namespace

FilterFn find_filter(std::string_view name) {
  static const std::unordered_map<std::string_view, FilterFn> kFilters = {
      {"upper", f_upper},
      {"lower", f_lower},
      {"capitalize", f_capitalize},
      {"title", f_title},
      {"trim", f_trim},
      {"replace", f_replace},
      {"indent", f_indent},
      {"center", f_center},
      {"truncate", f_truncate},
      {"wordcount", f_wordcount},
      {"escape", f_escape},
      {"e", f_escape},
      {"forceescape", f_forceescape},
      {"safe", f_safe},
      {"string", f_string},
      {"striptags", f_striptags},
      {"format", f_format},
      {"filesizeformat", f_filesizeformat},
      {"int", f_int},
      {"float", f_float},
      {"abs", f_abs},
      {"round", f_round},
      {"default", f_default},
      {"d", f_default},
      {"length", f_length},
      {"count", f_length},
      {"tojson", f_tojson},
      {"attr", f_attr},
      {"pprint", f_pprint},
      {"random", f_unsupported<kRandom>},
      {"urlize", f_unsupported<kUrlize>},
      {"urlencode", f_unsupported<kUrlencode>},
      {"xmlattr", f_unsupported<kXmlattr>},
      {"wordwrap", f_unsupported<kWordwrap>},
  };
  if (auto it = kFilters.find(name); it != kFilters.end()) return it->second;
  return builtin::find_sequence_filter(name);
}

}  // namespace hearth::tmpl
