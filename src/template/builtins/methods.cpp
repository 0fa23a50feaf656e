// Python methods of str, list, tuple and dict values that templates call
// (message.content.strip(), tools.items(), ...). In HF's immutable sandbox the methods that
// modify a list or dict are refused with jinja2's SecurityError message.
#include <fmt/format.h>

#include <unordered_map>

#include "template/builtins_internal.h"
#include "template/pystr.h"
#include "template/strformat.h"

namespace hearth::tmpl {

namespace {

using builtin::int_arg;
using MethodFn = Value (*)(Interpreter&, const Value& self, Arguments& args);

struct Method {
  MethodFn fn;
  bool mutating = false;
};

// A str argument; otherwise Python's TypeError ("must be str, not int").
const std::string& text_arg(const Value& v, std::string_view what = "") {
  if (!v.is_string()) type_error(fmt::format("{}must be str, not {}", what, type_name(v)));
  return v.text();
}

std::optional<std::string> optional_chars(ArgReader& r, std::string_view method) {
  const auto chars = r.next("chars");
  if (!chars || chars->is_none()) return std::nullopt;
  if (!chars->is_string()) type_error(fmt::format("{} arg must be None or str", method));
  return chars->text();
}

// The [start:end] part of str methods that take optional start and end positions.
std::string bounded(ArgReader& r, const std::string& s) {
  const Value start = r.next_or("start", Value::none());
  const Value end = r.next_or("end", Value::none());
  if (start.is_none() && end.is_none()) return s;
  const auto n = static_cast<int64_t>(py::length(s));
  auto bound = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    return int_arg(v);
  };
  return py::select_code_points(s, py::slice_indices(n, bound(start), bound(end), 1).positions);
}

// ---------------------------------------------------------------- str

Value s_affix(const Value& self, Arguments& a, bool prefix) {
  ArgReader r(prefix ? "startswith" : "endswith", a);
  const Value wanted = r.required("prefix");
  const std::string s = bounded(r, self.text());
  r.finish();
  auto matches = [&](const Value& v) {
    if (!v.is_string())
      type_error(fmt::format("{} first arg must be str or a tuple of str, not {}", prefix ? "startswith" : "endswith",
                             type_name(v)));
    const std::string& t = v.text();
    return t.size() <= s.size() && (prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0);
  };
  if (wanted.is_tuple()) {
    for (const Value& v : wanted.items())
      if (matches(v)) return Value::boolean(true);
    return Value::boolean(false);
  }
  return Value::boolean(matches(wanted));
}
Value s_startswith(Interpreter&, const Value& self, Arguments& a) { return s_affix(self, a, true); }
Value s_endswith(Interpreter&, const Value& self, Arguments& a) { return s_affix(self, a, false); }

Value s_strip_side(const Value& self, Arguments& a, py::StripSide side, const char* name) {
  ArgReader r(name, a);
  const auto chars = optional_chars(r, name);
  r.finish();
  return Value::string(py::strip(self.text(), chars, side));
}
Value s_strip(Interpreter&, const Value& self, Arguments& a) { return s_strip_side(self, a, py::StripSide::Both, "strip"); }
Value s_lstrip(Interpreter&, const Value& self, Arguments& a) { return s_strip_side(self, a, py::StripSide::Left, "lstrip"); }
Value s_rstrip(Interpreter&, const Value& self, Arguments& a) { return s_strip_side(self, a, py::StripSide::Right, "rstrip"); }

Value s_split_side(const Value& self, Arguments& a, bool from_right) {
  ArgReader r(from_right ? "rsplit" : "split", a);
  const Value sep = r.next_or("sep", Value::none());
  const int64_t maxsplit = int_arg(r.next_or("maxsplit", Value::integer(-1)));
  r.finish();
  std::optional<std::string> separator;
  if (!sep.is_none()) {
    if (!sep.is_string()) type_error(fmt::format("must be str or None, not {}", type_name(sep)));
    separator = sep.text();
  }
  std::vector<std::string> parts;
  try {
    parts = py::split(self.text(), separator, maxsplit, from_right);
  } catch (const std::invalid_argument&) {
    value_error("empty separator");
  }
  std::vector<Value> out;
  out.reserve(parts.size());
  for (std::string& p : parts) out.push_back(Value::string(std::move(p)));
  return Value::list(std::move(out));
}
Value s_split(Interpreter&, const Value& self, Arguments& a) { return s_split_side(self, a, false); }
Value s_rsplit(Interpreter&, const Value& self, Arguments& a) { return s_split_side(self, a, true); }

Value s_splitlines(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("splitlines", a);
  const bool keepends = truthy(r.next_or("keepends", Value::boolean(false)));
  r.finish();
  if (keepends) value_error("splitlines(keepends=True) is not supported");
  std::vector<Value> out;
  for (std::string& line : builtin::splitlines(self.text())) out.push_back(Value::string(std::move(line)));
  return Value::list(std::move(out));
}

template <std::string (*Fn)(std::string_view)>
Value s_map(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("str method", a).finish();
  return Value::string(Fn(self.text()));
}

std::string swapcase(std::string_view s) {
  std::string out;
  for (char32_t cp : py::to_u32(s)) py::append_utf8(out, py::is_upper(cp) ? py::to_lower(cp) : py::to_upper(cp));
  return out;
}

Value s_replace(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("replace", a);
  const std::string old = text_arg(r.required("old"), "replace() argument 1 ");
  const std::string repl = text_arg(r.required("new"), "replace() argument 2 ");
  const int64_t count = int_arg(r.next_or("count", Value::integer(-1)));
  r.finish();
  const std::string& s = self.text();
  const size_t hits = old.empty() ? py::length(s) + 1 : static_cast<size_t>(py::count(s, old));
  in.check_size(s.size() + hits * repl.size());
  return Value::string(py::replace(s, old, repl, count));
}

Value s_find_impl(const Value& self, Arguments& a, bool from_right, bool raise, const char* name) {
  ArgReader r(name, a);
  const std::string sub = text_arg(r.required("sub"));
  const Value start = r.next_or("start", Value::none());
  const Value end = r.next_or("end", Value::none());
  r.finish();
  const std::string& s = self.text();
  int64_t offset = 0;
  std::string window = s;
  if (!start.is_none() || !end.is_none()) {
    const auto n = static_cast<int64_t>(py::length(s));
    const auto picked = py::slice_indices(n, start.is_none() ? std::nullopt : std::optional(int_arg(start)),
                                          end.is_none() ? std::nullopt : std::optional(int_arg(end)), 1);
    window = py::select_code_points(s, picked.positions);
    offset = picked.positions.empty() ? 0 : static_cast<int64_t>(picked.positions.front());
  }
  const int64_t at = py::find(window, sub, from_right);
  if (at < 0 && raise) value_error("substring not found");
  return Value::integer(at < 0 ? -1 : at + offset);
}
Value s_find(Interpreter&, const Value& self, Arguments& a) { return s_find_impl(self, a, false, false, "find"); }
Value s_rfind(Interpreter&, const Value& self, Arguments& a) { return s_find_impl(self, a, true, false, "rfind"); }
Value s_index(Interpreter&, const Value& self, Arguments& a) { return s_find_impl(self, a, false, true, "index"); }
Value s_rindex(Interpreter&, const Value& self, Arguments& a) { return s_find_impl(self, a, true, true, "rindex"); }

Value s_count(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("count", a);
  const std::string sub = text_arg(r.required("sub"));
  const std::string s = bounded(r, self.text());
  r.finish();
  return Value::integer(py::count(s, sub));
}

Value s_join(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("join", a);
  const Value iterable = r.required("iterable");
  r.finish();
  std::string out;
  const std::vector<Value> items = iterate(iterable);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string())
      type_error(fmt::format("sequence item {}: expected str instance, {} found", i, type_name(items[i])));
    if (i) out += self.text();
    out += items[i].text();
    in.check_size(out.size());
  }
  return Value::string(std::move(out));
}

Value s_format(Interpreter& in, const Value& self, Arguments& a) { return Value::string(str_format(in, self.text(), a)); }

template <bool (*Pred)(char32_t)>
Value s_is(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("str method", a).finish();
  const std::u32string text = py::to_u32(self.text());
  if (text.empty()) return Value::boolean(false);
  for (char32_t cp : text)
    if (!Pred(cp)) return Value::boolean(false);
  return Value::boolean(true);
}
bool is_digit(char32_t cp) { return cp >= '0' && cp <= '9'; }
bool is_alpha(char32_t cp) { return py::is_alnum(cp) && !is_digit(cp); }

Value s_isupper(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("isupper", a).finish();
  return Value::boolean(py::all_cased_are(self.text(), true));
}
Value s_islower(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("islower", a).finish();
  return Value::boolean(py::all_cased_are(self.text(), false));
}

Value s_justify(Interpreter& in, const Value& self, Arguments& a, const char* name) {
  ArgReader r(name, a);
  const int64_t width = int_arg(r.required("width"));
  const std::string fill = to_str(r.next_or("fillchar", Value::string(" ")));
  r.finish();
  if (py::length(fill) != 1) type_error("The fill character must be exactly one character long");
  const std::string& s = self.text();
  const auto len = static_cast<int64_t>(py::length(s));
  if (width <= len) return self;
  in.check_size(static_cast<size_t>(width) * fill.size());
  const int64_t margin = width - len;
  int64_t left = 0;
  if (std::string_view(name) == "rjust") left = margin;
  else if (std::string_view(name) == "center") left = margin / 2 + (margin & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = left; i < margin; ++i) out += fill;
  return Value::string(std::move(out));
}
Value s_center(Interpreter& in, const Value& self, Arguments& a) { return s_justify(in, self, a, "center"); }
Value s_ljust(Interpreter& in, const Value& self, Arguments& a) { return s_justify(in, self, a, "ljust"); }
Value s_rjust(Interpreter& in, const Value& self, Arguments& a) { return s_justify(in, self, a, "rjust"); }

Value s_zfill(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("zfill", a);
  const int64_t width = int_arg(r.required("width"));
  r.finish();
  const std::string& s = self.text();
  const auto len = static_cast<int64_t>(py::length(s));
  if (width <= len) return self;
  in.check_size(static_cast<size_t>(width));
  const size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  return Value::string(s.substr(0, sign) + std::string(static_cast<size_t>(width - len), '0') + s.substr(sign));
}

Value s_partition_impl(const Value& self, Arguments& a, bool from_right) {
  ArgReader r(from_right ? "rpartition" : "partition", a);
  const std::string sep = text_arg(r.required("sep"));
  r.finish();
  if (sep.empty()) value_error("empty separator");
  const std::string& s = self.text();
  const size_t at = from_right ? s.rfind(sep) : s.find(sep);
  if (at == std::string::npos) {
    if (from_right) return Value::tuple({Value::string(""), Value::string(""), self});
    return Value::tuple({self, Value::string(""), Value::string("")});
  }
  return Value::tuple({Value::string(s.substr(0, at)), Value::string(sep), Value::string(s.substr(at + sep.size()))});
}
Value s_partition(Interpreter&, const Value& self, Arguments& a) { return s_partition_impl(self, a, false); }
Value s_rpartition(Interpreter&, const Value& self, Arguments& a) { return s_partition_impl(self, a, true); }

Value s_remove_affix(const Value& self, Arguments& a, bool prefix) {
  ArgReader r(prefix ? "removeprefix" : "removesuffix", a);
  const std::string affix = text_arg(r.required("affix"));
  r.finish();
  const std::string& s = self.text();
  if (affix.size() > s.size()) return self;
  if (prefix && s.compare(0, affix.size(), affix) == 0) return Value::string(s.substr(affix.size()));
  if (!prefix && s.compare(s.size() - affix.size(), affix.size(), affix) == 0)
    return Value::string(s.substr(0, s.size() - affix.size()));
  return self;
}
Value s_removeprefix(Interpreter&, const Value& self, Arguments& a) { return s_remove_affix(self, a, true); }
Value s_removesuffix(Interpreter&, const Value& self, Arguments& a) { return s_remove_affix(self, a, false); }

// ---------------------------------------------------------------- list and tuple

Value l_index(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("index", a);
  const Value x = r.required("value");
  r.finish();
  const auto& items = self.items();
  for (size_t i = 0; i < items.size(); ++i)
    if (equals(items[i], x)) return Value::integer(static_cast<int64_t>(i));
  value_error(fmt::format("{} is not in {}", repr(x), self.is_tuple() ? "tuple" : "list"));
}

Value l_count(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("count", a);
  const Value x = r.required("value");
  r.finish();
  int64_t n = 0;
  for (const Value& item : self.items()) n += equals(item, x);
  return Value::integer(n);
}

Value l_copy(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("copy", a).finish();
  return Value::list(self.items());
}

bool holds_reference(const Value& v) {
  return v.is_sequence_like() || v.is_dict() || v.is_namespace() || v.kind() == Kind::Iterator || v.kind() == Kind::Loop;
}

Value l_append(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("append", a);
  Value x = r.required("object");
  r.finish();
  in.check_size((self.items().size() + 1) * sizeof(Value));
  if (holds_reference(x)) in.note_mutation(self);
  self.items().push_back(std::move(x));
  return Value::none();
}

Value l_extend(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("extend", a);
  const Value other = r.required("iterable");
  r.finish();
  for (Value& x : iterate(other)) {
    if (holds_reference(x)) in.note_mutation(self);
    self.items().push_back(std::move(x));
  }
  in.check_size(self.items().size() * sizeof(Value));
  return Value::none();
}

Value l_insert(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("insert", a);
  int64_t i = int_arg(r.required("index"));
  Value x = r.required("object");
  r.finish();
  auto& items = self.items();
  const auto n = static_cast<int64_t>(items.size());
  if (i < 0) i = std::max<int64_t>(0, i + n);
  i = std::min(i, n);
  if (holds_reference(x)) in.note_mutation(self);
  items.insert(items.begin() + i, std::move(x));
  return Value::none();
}

Value l_pop(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("pop", a);
  int64_t i = int_arg(r.next_or("index", Value::integer(-1)));
  r.finish();
  auto& items = self.items();
  if (items.empty()) value_error("pop from empty list");
  const auto n = static_cast<int64_t>(items.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) value_error("pop index out of range");
  Value out = std::move(items[static_cast<size_t>(i)]);
  items.erase(items.begin() + i);
  return out;
}

Value l_remove(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("remove", a);
  const Value x = r.required("value");
  r.finish();
  auto& items = self.items();
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (equals(*it, x)) {
      items.erase(it);
      return Value::none();
    }
  }
  value_error("list.remove(x): x not in list");
}

Value l_clear(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("clear", a).finish();
  self.items().clear();
  return Value::none();
}

Value l_reverse(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("reverse", a).finish();
  std::reverse(self.items().begin(), self.items().end());
  return Value::none();
}

Value l_sort(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("sort", a);
  const bool reverse = truthy(r.next_or("reverse", Value::boolean(false)));
  r.finish();
  std::vector<Value> keys = self.items();
  builtin::stable_sort_by_keys(self.items(), keys, reverse);
  return Value::none();
}

// ---------------------------------------------------------------- dict

Value d_get(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("get", a);
  const Value key = r.required("key");
  const Value fallback = r.next_or("default", Value::none());
  r.finish();
  const Value* v = self.dict_object().find(key);
  return v ? *v : fallback;
}

Value d_items(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("items", a).finish();
  std::vector<Value> pairs;
  pairs.reserve(self.dict_object().size());
  for (const auto& [k, v] : self.dict_object().entries()) pairs.push_back(Value::tuple({k, v}));
  return Value::list(std::move(pairs));
}

Value d_keys(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("keys", a).finish();
  return Value::list(iterate(self));
}

Value d_values(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("values", a).finish();
  std::vector<Value> values;
  for (const auto& entry : self.dict_object().entries()) values.push_back(entry.second);
  return Value::list(std::move(values));
}

Value d_copy(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("copy", a).finish();
  auto copy = std::make_shared<DictObject>();
  for (const auto& [k, v] : self.dict_object().entries()) copy->set(k, v);
  return Value::dict(std::move(copy));
}

Value d_pop(Interpreter&, const Value& self, Arguments& a) {
  ArgReader r("pop", a);
  const Value key = r.required("key");
  const auto fallback = r.next("default");
  r.finish();
  DictObject& d = self.dict_object();
  if (const Value* v = d.find(key)) {
    Value out = *v;
    d.erase(key);
    return out;
  }
  if (fallback) return *fallback;
  value_error(repr(key));  // Python raises KeyError(key)
}

Value d_popitem(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("popitem", a).finish();
  DictObject& d = self.dict_object();
  if (d.empty()) value_error("'popitem(): dictionary is empty'");  // str(KeyError(msg)) quotes it
  const auto last = d.entries().back();
  d.erase(last.first);
  return Value::tuple({last.first, last.second});
}

Value d_setdefault(Interpreter& in, const Value& self, Arguments& a) {
  ArgReader r("setdefault", a);
  const Value key = r.required("key");
  const Value fallback = r.next_or("default", Value::none());
  r.finish();
  DictObject& d = self.dict_object();
  if (const Value* v = d.find(key)) return *v;
  if (holds_reference(fallback)) in.note_mutation(self);
  d.set(key, fallback);
  return fallback;
}

Value d_update(Interpreter& in, const Value& self, Arguments& a) {
  DictObject& d = self.dict_object();
  if (a.positional.size() > 1) type_error(fmt::format("update expected at most 1 argument, got {}", a.positional.size()));
  auto put = [&](Value k, Value v) {
    if (holds_reference(v)) in.note_mutation(self);
    d.set(std::move(k), std::move(v));
  };
  if (!a.positional.empty()) {
    const Value& other = a.positional[0];
    if (other.is_dict()) {
      for (const auto& [k, v] : other.dict_object().entries()) put(k, v);
    } else {
      for (const Value& pair : iterate(other)) {
        const std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) value_error("dictionary update sequence element has the wrong length; 2 is required");
        put(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : a.keyword) put(Value::string(k), v);
  return Value::none();
}

Value d_clear(Interpreter&, const Value& self, Arguments& a) {
  ArgReader("clear", a).finish();
  self.dict_object().clear();
  return Value::none();
}

const Method* find_method(const Value& object, std::string_view name) {
  static const std::unordered_map<std::string_view, Method> kStr = {
      {"startswith", {s_startswith}},
      {"endswith", {s_endswith}},
      {"strip", {s_strip}},
      {"lstrip", {s_lstrip}},
      {"rstrip", {s_rstrip}},
      {"split", {s_split}},
      {"rsplit", {s_rsplit}},
      {"splitlines", {s_splitlines}},
      {"upper", {s_map<py::upper>}},
      {"lower", {s_map<py::lower>}},
      {"casefold", {s_map<py::lower>}},
      {"title", {s_map<py::title>}},
      {"capitalize", {s_map<py::capitalize>}},
      {"swapcase", {s_map<swapcase>}},
      {"replace", {s_replace}},
      {"find", {s_find}},
      {"rfind", {s_rfind}},
      {"index", {s_index}},
      {"rindex", {s_rindex}},
      {"count", {s_count}},
      {"join", {s_join}},
      {"format", {s_format}},
      {"isdigit", {s_is<is_digit>}},
      {"isdecimal", {s_is<is_digit>}},
      {"isnumeric", {s_is<is_digit>}},
      {"isalpha", {s_is<is_alpha>}},
      {"isalnum", {s_is<py::is_alnum>}},
      {"isspace", {s_is<py::is_space>}},
      {"isupper", {s_isupper}},
      {"islower", {s_islower}},
      {"center", {s_center}},
      {"ljust", {s_ljust}},
      {"rjust", {s_rjust}},
      {"zfill", {s_zfill}},
      {"partition", {s_partition}},
      {"rpartition", {s_rpartition}},
      {"removeprefix", {s_removeprefix}},
      {"removesuffix", {s_removesuffix}},
  };
  static const std::unordered_map<std::string_view, Method> kList = {
      {"index", {l_index}},          {"count", {l_count}},           {"copy", {l_copy}},
      {"append", {l_append, true}},  {"extend", {l_extend, true}},   {"insert", {l_insert, true}},
      {"pop", {l_pop, true}},        {"remove", {l_remove, true}},   {"clear", {l_clear, true}},
      {"reverse", {l_reverse, true}}, {"sort", {l_sort, true}},
  };
  static const std::unordered_map<std::string_view, Method> kTuple = {{"index", {l_index}}, {"count", {l_count}}};
  static const std::unordered_map<std::string_view, Method> kDict = {
      {"get", {d_get}},
      {"items", {d_items}},
      {"keys", {d_keys}},
      {"values", {d_values}},
      {"copy", {d_copy}},
      {"pop", {d_pop, true}},
      {"popitem", {d_popitem, true}},
      {"setdefault", {d_setdefault, true}},
      {"update", {d_update, true}},
      {"clear", {d_clear, true}},
  };
  const std::unordered_map<std::string_view, Method>* table = nullptr;
  switch (object.kind()) {
    case Kind::String: table = &kStr; break;
    case Kind::List: table = &kList; break;
    case Kind::Tuple: table = &kTuple; break;
    case Kind::Dict: table = &kDict; break;
    default: return nullptr;
  }
  auto it = table->find(name);
  return it == table->end() ? nullptr : &it->second;
}

std::string unsafe_message(const Value& object, std::string_view name) {
  return fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, type_name(object));
}

class BoundMethod final : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  Value call(Interpreter& in, Arguments& args) override { return *call_method(in, self_, name_, args); }
  std::string describe() const override {
    return fmt::format("<built-in method {} of {} object>", name_, type_name(self_));
  }

 private:
  Value self_;
  std::string name_;
};

}  // namespace

bool has_method(const Value& object, std::string_view name) { return find_method(object, name) != nullptr; }

namespace {

Value escaped_arg(const Value& v) { return v.is_string() && !v.is_safe() ? Value::string(html_escape(v.text()), true) : v; }

// Methods of a Markup string escape their text arguments and return Markup, as markupsafe's do.
Value call_markup_method(Interpreter& in, const Method& m, const Value& object, std::string_view name, Arguments& args) {
  if (name == "join") {
    std::vector<Value> escaped;
    for (const Value& item : iterate(args.positional.empty() ? Value() : args.positional[0])) escaped.push_back(escaped_arg(item));
    if (!args.positional.empty()) args.positional[0] = Value::list(std::move(escaped));
  } else if (name == "replace" || name == "format") {
    for (Value& v : args.positional) v = escaped_arg(v);
    for (auto& kv : args.keyword) kv.second = escaped_arg(kv.second);
  }
  Value result = m.fn(in, object, args);
  if (result.is_string()) return Value::string(result.text(), true);
  if (result.is_sequence_like()) {
    std::vector<Value> items;
    for (const Value& v : result.items()) items.push_back(v.is_string() ? Value::string(v.text(), true) : v);
    return result.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
  }
  return result;
}

}  // namespace

std::optional<Value> call_method(Interpreter& in, const Value& object, std::string_view name, Arguments& args) {
  const Method* m = find_method(object, name);
  if (!m) return std::nullopt;
  if (m->mutating && !in.options().allow_mutation) throw_error(ErrorKind::Security, unsafe_message(object, name));
  if (object.is_string() && object.is_safe()) return call_markup_method(in, *m, object, name, args);
  return m->fn(in, object, args);
}

std::optional<Value> bound_method(Interpreter& in, const Value& object, std::string_view name) {
  const Method* m = find_method(object, name);
  if (!m) return std::nullopt;
  if (m->mutating && !in.options().allow_mutation) return Value::undefined(unsafe_message(object, name), ErrorKind::Security);
  return Value::callable(std::make_shared<BoundMethod>(object, std::string(name)));
}

}  // namespace hearth::tmpl
