// Builtin filters over sequences and mappings, following jinja2 3.1's filters.py. Filters
// that are generators in Python (map, select, reject, unique, items, batch ...) return an
// Iterator value, so that |length or |tojson on them fails as it does in Python.
#include <fmt/format.h>

#include <unordered_map>

#include "template/builtins_internal.h"
#include "template/operators.h"
#include "template/pystr.h"

namespace hearth::tmpl::builtin {

namespace {

Value f_join(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("join", a);
  const std::string sep = str_arg(r.next_or("d", Value::string("")));
  const auto attribute = r.next("attribute");
  r.finish();
  std::vector<Value> items = iterate(v);
  std::optional<AttrGetter> getter;
  if (attribute && !attribute->is_none()) getter.emplace(in, *attribute);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    append_str(out, getter ? (*getter)(items[i]) : items[i]);
    in.check_size(out.size());
  }
  return Value::string(std::move(out));
}

Value f_map(Interpreter& in, const Value& v, Arguments& a) {
  if (!truthy(v)) return Value::iterator({});
  std::vector<Value> out;
  const bool by_attribute =
      a.positional.empty() && std::any_of(a.keyword.begin(), a.keyword.end(), [](auto& k) { return k.first == "attribute"; });
  if (by_attribute) {
    ArgReader r("map", a);
    const Value attribute = r.required("attribute");
    const Value fallback = r.next_or("default", Value::none());
    r.finish();
    const AttrGetter getter(in, attribute, fallback.is_none() ? std::nullopt : std::optional<Value>(fallback));
    for (const Value& item : iterate(v)) out.push_back(getter(item));
    return Value::iterator(std::move(out));
  }
  if (a.positional.empty()) value_error("map requires a filter argument");
  const std::string name = str_arg(a.positional.front());
  Arguments rest{std::vector<Value>(a.positional.begin() + 1, a.positional.end()), a.keyword};
  for (const Value& item : iterate(v)) {
    Arguments call_args = rest;
    out.push_back(in.apply_filter(name, item, call_args));
  }
  return Value::iterator(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Interpreter& in, const Value& v, Arguments& a, bool keep_matches, bool by_attribute) {
  if (!truthy(v)) return Value::iterator({});
  size_t next = 0;
  std::optional<AttrGetter> getter;
  if (by_attribute) {
    if (a.positional.empty()) value_error("Missing parameter for attribute name");
    getter.emplace(in, a.positional[next++]);
  }
  std::optional<std::string> test;
  if (next < a.positional.size()) test = str_arg(a.positional[next++]);
  const Arguments test_args{std::vector<Value>(a.positional.begin() + static_cast<std::ptrdiff_t>(next), a.positional.end()),
                            a.keyword};
  std::vector<Value> out;
  for (Value& item : iterate(v)) {
    const Value subject = getter ? (*getter)(item) : item;
    bool matched;
    if (test) {
      Arguments call_args = test_args;
      matched = in.apply_test(*test, subject, call_args);
    } else {
      matched = truthy(subject);
    }
    if (matched == keep_matches) out.push_back(std::move(item));
  }
  return Value::iterator(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, Arguments& a) { return select_or_reject(in, v, a, true, false); }
Value f_reject(Interpreter& in, const Value& v, Arguments& a) { return select_or_reject(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, Arguments& a) { return select_or_reject(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, Arguments& a) { return select_or_reject(in, v, a, false, true); }

// The key function of sort/unique/min/max: an attribute (or several, comma-separated, for
// sort), lower-cased unless case_sensitive.
struct KeyFn {
  KeyFn(Interpreter& in, const Value& attribute, bool case_sensitive, bool multi) : case_sensitive_(case_sensitive) {
    if (attribute.is_none()) return;
    if (multi && attribute.is_string()) {
      for (const std::string& part : py::split(attribute.text(), std::string(","), -1, false))
        getters_.emplace_back(in, Value::string(part));
      multi_ = true;
    } else {
      getters_.emplace_back(in, attribute);
    }
  }
  Value operator()(const Value& item) const {
    if (getters_.empty()) return fold(item);
    if (!multi_) return fold(getters_[0](item));
    std::vector<Value> keys;
    for (const AttrGetter& g : getters_) keys.push_back(fold(g(item)));
    return Value::list(std::move(keys));
  }
  Value fold(const Value& v) const { return case_sensitive_ ? v : ignore_case(v); }

  std::vector<AttrGetter> getters_;
  bool case_sensitive_;
  bool multi_ = false;
};

Value f_sort(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("sort", a);
  const bool reverse = truthy(r.next_or("reverse", Value::boolean(false)));
  const bool case_sensitive = truthy(r.next_or("case_sensitive", Value::boolean(false)));
  const Value attribute = r.next_or("attribute", Value::none());
  r.finish();
  std::vector<Value> items = iterate(v);
  const KeyFn key(in, attribute, case_sensitive, true);
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) keys.push_back(key(item));
  stable_sort_by_keys(items, keys, reverse);
  return Value::list(std::move(items));
}

Value f_unique(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("unique", a);
  const bool case_sensitive = truthy(r.next_or("case_sensitive", Value::boolean(false)));
  const Value attribute = r.next_or("attribute", Value::none());
  r.finish();
  const KeyFn key(in, attribute, case_sensitive, false);
  DictObject seen;
  std::vector<Value> out;
  for (Value& item : iterate(v)) {
    Value k = key(item);
    if (seen.find(k)) continue;
    seen.set(std::move(k), Value::none());
    out.push_back(std::move(item));
  }
  return Value::iterator(std::move(out));
}

Value min_or_max(Interpreter& in, const Value& v, Arguments& a, bool want_max) {
  ArgReader r(want_max ? "max" : "min", a);
  const bool case_sensitive = truthy(r.next_or("case_sensitive", Value::boolean(false)));
  const Value attribute = r.next_or("attribute", Value::none());
  r.finish();
  const std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const KeyFn key(in, attribute, case_sensitive, false);
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (ordered(k, best_key, want_max ? Order::Gt : Order::Lt)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

Value f_min(Interpreter& in, const Value& v, Arguments& a) { return min_or_max(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, Arguments& a) { return min_or_max(in, v, a, true); }

Value f_sum(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("sum", a);
  const Value attribute = r.next_or("attribute", Value::none());
  Value total = r.next_or("start", Value::integer(0));
  r.finish();
  if (total.is_string()) type_error("sum() can't sum strings [use ''.join(seq) instead]");
  std::optional<AttrGetter> getter;
  if (!attribute.is_none()) getter.emplace(in, attribute);
  for (const Value& item : iterate(v)) total = binary_op(in, ast::BinaryOp::Add, total, getter ? (*getter)(item) : item);
  return total;
}

Value f_list(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("list", a).finish();
  return Value::list(iterate(v));
}

Value f_first(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("first", a).finish();
  if (v.is_sequence_like()) {
    if (!v.items().empty()) return v.items().front();
  } else if (v.kind() == Kind::Iterator) {
    // A generator gives up its first item; the rest stay for later.
    auto& items = v.items();
    if (!items.empty()) {
      Value first = std::move(items.front());
      items.erase(items.begin());
      return first;
    }
  } else {
    std::vector<Value> items = iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value f_last(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("last", a).finish();
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::String:
    case Kind::List:
    case Kind::Tuple:
    case Kind::Dict: {
      if (v.is_sequence_like()) {
        if (!v.items().empty()) return v.items().back();
        break;
      }
      std::vector<Value> items = iterate(v);
      if (!items.empty()) return items.back();
      break;
    }
    default: type_error(fmt::format("'{}' object is not reversible", type_name(v)));
  }
  return Value::undefined("No last item, sequence was empty.");
}

Value f_reverse(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("reverse", a).finish();
  if (v.is_string()) {
    std::u32string text = py::to_u32(v.text());
    std::reverse(text.begin(), text.end());
    return Value::string(py::from_u32(text));
  }
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::List:
    case Kind::Tuple:
    case Kind::Dict: {
      std::vector<Value> items = iterate(v);
      std::reverse(items.begin(), items.end());
      return Value::iterator(std::move(items));  // Python's reversed(): an iterator
    }
    case Kind::Iterator: {
      std::vector<Value> items = iterate(v);
      std::reverse(items.begin(), items.end());
      return Value::list(std::move(items));
    }
    default: value_error("argument must be iterable");
  }
}

std::vector<Value> pairs_of(const Value& mapping) {
  std::vector<Value> pairs;
  for (const auto& [key, value] : mapping.dict_object().entries()) pairs.push_back(Value::tuple({key, value}));
  return pairs;
}

Value f_items(Interpreter&, const Value& v, Arguments& a) {
  ArgReader("items", a).finish();
  if (v.is_undefined()) return Value::iterator({});
  if (!v.is_dict()) type_error("Can only get item pairs from a mapping.");
  return Value::iterator(pairs_of(v));
}

Value f_dictsort(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("dictsort", a);
  const bool case_sensitive = truthy(r.next_or("case_sensitive", Value::boolean(false)));
  const std::string by = str_arg(r.next_or("by", Value::string("key")));
  const bool reverse = truthy(r.next_or("reverse", Value::boolean(false)));
  r.finish();
  if (by != "key" && by != "value") value_error("You can only sort by either \"key\" or \"value\"");
  if (v.is_undefined()) v.raise_undefined();
  if (!v.is_dict()) type_error(fmt::format("'{}' object has no attribute 'items'", type_name(v)));
  std::vector<Value> pairs = pairs_of(v);
  std::vector<Value> keys;
  for (const Value& p : pairs) {
    const Value& k = p.items()[by == "key" ? 0 : 1];
    keys.push_back(case_sensitive ? k : ignore_case(k));
  }
  stable_sort_by_keys(pairs, keys, reverse);
  return Value::list(std::move(pairs));
}

Value f_batch(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("batch", a);
  const int64_t size = int_arg(r.required("linecount"));
  const Value fill = r.next_or("fill_with", Value::none());
  r.finish();
  std::vector<Value> batches, current;
  for (Value& item : iterate(v)) {
    if (static_cast<int64_t>(current.size()) == size) batches.push_back(Value::list(std::move(current))), current = {};
    current.push_back(std::move(item));
  }
  if (!current.empty()) {
    if (!fill.is_none() && static_cast<int64_t>(current.size()) < size) {
      in.check_size(static_cast<size_t>(size) * sizeof(Value));
      while (static_cast<int64_t>(current.size()) < size) current.push_back(fill);
    }
    batches.push_back(Value::list(std::move(current)));
  }
  return Value::iterator(std::move(batches));
}

Value f_slice(Interpreter&, const Value& v, Arguments& a) {
  ArgReader r("slice", a);
  const int64_t slices = int_arg(r.required("slices"));
  const Value fill = r.next_or("fill_with", Value::none());
  r.finish();
  if (slices <= 0) value_error("integer division or modulo by zero");
  const std::vector<Value> seq = iterate(v);
  const auto length = static_cast<int64_t>(seq.size());
  const int64_t per_slice = length / slices, with_extra = length % slices;
  if (slices > 1'000'000) value_error("too many slices");
  std::vector<Value> out;
  int64_t offset = 0;
  for (int64_t n = 0; n < slices; ++n) {
    const int64_t start = offset + n * per_slice;
    if (n < with_extra) ++offset;
    const int64_t end = offset + (n + 1) * per_slice;
    std::vector<Value> part(seq.begin() + start, seq.begin() + end);
    if (!fill.is_none() && n >= with_extra) part.push_back(fill);
    out.push_back(Value::list(std::move(part)));
  }
  return Value::iterator(std::move(out));
}

// groupby: a list of (grouper, items) tuples, sorted by the grouper.
Value f_groupby(Interpreter& in, const Value& v, Arguments& a) {
  ArgReader r("groupby", a);
  const Value attribute = r.required("attribute");
  const Value fallback = r.next_or("default", Value::none());
  const bool case_sensitive = truthy(r.next_or("case_sensitive", Value::boolean(false)));
  r.finish();
  const AttrGetter getter(in, attribute, fallback.is_none() ? std::nullopt : std::optional<Value>(fallback));
  std::vector<Value> items = iterate(v);
  std::vector<Value> keys;
  for (const Value& item : items) keys.push_back(case_sensitive ? getter(item) : ignore_case(getter(item)));
  stable_sort_by_keys(items, keys, false);
  std::vector<Value> groups;
  for (size_t i = 0; i < items.size();) {
    size_t j = i + 1;
    while (j < items.size() && equals(keys[j], keys[i])) ++j;
    std::vector<Value> members(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(j));
    groups.push_back(Value::tuple({getter(members.front()), Value::list(std::move(members))}));
    i = j;
  }
  return Value::list(std::move(groups));
}

}  // namespace

FilterFn find_sequence_filter(std::string_view name) {
  static const std::unordered_map<std::string_view, FilterFn> kFilters = {
      {"join", f_join},         {"map", f_map},         {"select", f_select},   {"reject", f_reject},
      {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr}, {"sort", f_sort}, {"unique", f_unique},
      {"min", f_min},           {"max", f_max},         {"sum", f_sum},         {"list", f_list},
      {"first", f_first},       {"last", f_last},       {"reverse", f_reverse}, {"items", f_items},
      {"dictsort", f_dictsort}, {"batch", f_batch},     {"slice", f_slice},     {"groupby", f_groupby},
  };
  if (auto it = kFilters.find(name); it != kFilters.end()) return it->second;
  return nullptr;
}

}  // namespace hearth::tmpl::builtin
