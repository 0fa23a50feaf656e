// Printing values as Python's str()/repr() do, Markup escaping, and JSON in and out
// (json.dumps layout for tojson).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "template/loop.h"
#include "template/pystr.h"
#include "template/value.h"

namespace hearth::tmpl {

namespace {

void append_repr(std::string& out, const Value& v, int depth);

void append_items(std::string& out, const std::vector<Value>& items, const char* open, const char* close,
                  bool tuple, int depth) {
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_repr(out, items[i], depth + 1);
  }
  if (tuple && items.size() == 1) out += ',';
  out += close;
}

void append_dict(std::string& out, const DictObject& d, int depth) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : d.entries()) {
    if (!first) out += ", ";
    first = false;
    append_repr(out, key, depth + 1);
    out += ": ";
    append_repr(out, value, depth + 1);
  }
  out += '}';
}

void append_str_at(std::string& out, const Value& v, int depth) {
  check_depth(depth);
  RenderBudget::charge(1);
  RenderBudget::check_text(out.size());
  switch (v.kind()) {
    case Kind::Undefined: return;
    case Kind::None: out += "None"; return;
    case Kind::Bool: out += v.as_bool() ? "True" : "False"; return;
    case Kind::Int: fmt::format_to(std::back_inserter(out), "{}", v.as_int()); return;
    case Kind::Float: out += py::float_repr(v.as_double()); return;
    case Kind::String: out += v.text(); return;
    case Kind::List: append_items(out, v.items(), "[", "]", false, depth); return;
    case Kind::Tuple: append_items(out, v.items(), "(", ")", true, depth); return;
    case Kind::Iterator: out += "<generator object>"; return;
    case Kind::Dict: append_dict(out, v.dict_object(), depth); return;
    case Kind::Namespace:
      out += "<Namespace ";
      append_dict(out, v.dict_object(), depth);
      out += '>';
      return;
    case Kind::Callable: out += v.callable_object().describe(); return;
    case Kind::Loop: {
      const auto& loop = v.object_as<LoopState>();
      fmt::format_to(std::back_inserter(out), "<LoopContext {}/{}>", loop.index0 + 1, loop.length());
      return;
    }
  }
}

void append_repr(std::string& out, const Value& v, int depth) {
  if (v.is_string()) {
    if (v.is_safe()) out += "Markup(";
    out += py::repr(v.text());
    if (v.is_safe()) out += ')';
  } else if (v.is_undefined()) {
    out += "Undefined";
  } else {
    append_str_at(out, v, depth);
  }
}

}  // namespace

void append_str(std::string& out, const Value& v) {
  append_str_at(out, v, 0);
  RenderBudget::check_text(out.size());
}

std::string to_str(const Value& v) {
  if (v.is_string()) return v.text();
  std::string out;
  append_str_at(out, v, 0);
  RenderBudget::check_text(out.size());
  return out;
}

std::string repr(const Value& v) {
  std::string out;
  append_repr(out, v, 0);
  RenderBudget::check_text(out.size());
  return out;
}

// ---------------------------------------------------------------- Markup

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string markup_text(const Value& v) {
  if (v.is_string() && v.is_safe()) return v.text();
  return html_escape(to_str(v));
}

// ---------------------------------------------------------------- JSON

namespace {

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth)
    value_error(fmt::format("input nested more than {} levels deep", kMaxValueDepth));
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: return Value::none();
    case T::boolean: return Value::boolean(j.get<bool>());
    case T::number_integer: return Value::integer(j.get<int64_t>());
    case T::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::floating(static_cast<double>(u));
    }
    case T::number_float: return Value::floating(j.get<double>());
    case T::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (!py::is_valid_utf8(s)) value_error("an input string is not valid UTF-8");
      return Value::string(s);
    }
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json_at(x, depth + 1));
      return Value::list(std::move(items));
    }
    case T::object: {
      auto d = std::make_shared<DictObject>();
      for (const auto& [key, x] : j.items()) {
        if (!py::is_valid_utf8(key)) value_error("an input key is not valid UTF-8");
        d->set(key, from_json_at(x, depth + 1));
      }
      return Value::dict(std::move(d));
    }
    default: value_error("binary JSON values cannot be template inputs");
  }
}

void append_json_number(std::string& out, const Value& v) {
  if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    fmt::format_to(std::back_inserter(out), "{}", v.as_int());
  } else {
    const double f = v.as_double();
    if (std::isnan(f)) out += "NaN";
    else if (std::isinf(f)) out += f > 0 ? "Infinity" : "-Infinity";
    else out += py::float_repr(f);
  }
}

std::string json_key(const Value& key) {
  if (key.is_string()) return key.text();
  if (key.is_none()) return "null";
  if (key.is_number()) {
    std::string s;
    append_json_number(s, key);
    return s;
  }
  type_error(fmt::format("keys must be str, int, float, bool or None, not {}", type_name(key)));
}

void dump_at(std::string& out, const Value& v, const JsonStyle& style, int depth) {
  check_depth(depth);
  RenderBudget::charge(1);
  RenderBudget::check_text(out.size());
  auto newline = [&](int level) {
    out += '\n';
    for (int i = 0; i < level; ++i) out += *style.indent;
  };
  switch (v.kind()) {
    case Kind::None: out += "null"; return;
    case Kind::Bool:
    case Kind::Int:
    case Kind::Float: append_json_number(out, v); return;
    case Kind::String: py::append_json_string(out, v.text(), style.ensure_ascii); return;
    case Kind::List:
    case Kind::Tuple: {
      const auto& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline(depth + 1);
        dump_at(out, items[i], style, depth + 1);
      }
      if (style.indent) newline(depth);
      out += ']';
      return;
    }
    case Kind::Dict: {
      const DictObject& d = v.dict_object();
      if (d.empty()) {
        out += "{}";
        return;
      }
      std::vector<std::pair<std::string, const Value*>> entries;
      entries.reserve(d.size());
      if (style.sort_keys) {
        std::vector<const DictObject::Entry*> sorted;
        for (const auto& e : d.entries()) sorted.push_back(&e);
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const auto* a, const auto* b) { return less_than(a->first, b->first); });
        for (const auto* e : sorted) entries.emplace_back(json_key(e->first), &e->second);
      } else {
        for (const auto& e : d.entries()) entries.emplace_back(json_key(e.first), &e.second);
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += style.item_separator;
        if (style.indent) newline(depth + 1);
        py::append_json_string(out, entries[i].first, style.ensure_ascii);
        out += style.key_separator;
        dump_at(out, *entries[i].second, style, depth + 1);
      }
      if (style.indent) newline(depth);
      out += '}';
      return;
    }
    default: type_error(fmt::format("Object of type {} is not JSON serializable", type_name(v)));
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& j) { return from_json_at(j, 0); }

std::string json_dumps(const Value& v, const JsonStyle& style) {
  std::string out;
  dump_at(out, v, style, 0);
  RenderBudget::check_text(out.size());
  return out;
}

}  // namespace hearth::tmpl
