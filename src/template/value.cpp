#include "template/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "template/pystr.h"

namespace hearth::tmpl {

void throw_error(ErrorKind kind, std::string message) { throw EvalError{kind, std::move(message)}; }

// ---------------------------------------------------------------- render budget

namespace {
thread_local RenderBudget* t_budget = nullptr;
}

RenderBudget::RenderBudget(int64_t work_units, int64_t max_text_bytes)
    : work_left_(work_units), work_units_(work_units), max_text_bytes_(max_text_bytes), previous_(t_budget) {
  t_budget = this;
}

RenderBudget::~RenderBudget() { t_budget = previous_; }

void RenderBudget::charge(int64_t units) {
  if (!t_budget) return;
  t_budget->work_left_ -= units;
  if (t_budget->work_left_ < 0)
    throw_error(ErrorKind::Limit,
                fmt::format("the template did too much work on values (more than {} element operations; "
                            "the budget grows with Options::max_loop_iterations)",
                            t_budget->work_units_));
}

void RenderBudget::check_text(size_t bytes) {
  if (t_budget && static_cast<int64_t>(bytes) > t_budget->max_text_bytes_)
    throw_error(ErrorKind::Limit, fmt::format("output or string larger than the limit of {} bytes (Options::max_output_bytes)",
                                              t_budget->max_text_bytes_));
}

// ---------------------------------------------------------------- destruction
// A list nested a million levels deep (a loop can build one) would overflow the stack if each
// level's destructor destroyed the next. Containers hand their children to a worklist that
// the outermost destructor drains, so destruction depth stays constant.

namespace {

thread_local std::vector<Value>* t_pending = nullptr;

bool holds_container(const Value& v) {
  switch (v.kind()) {
    case Kind::List:
    case Kind::Tuple:
    case Kind::Iterator:
    case Kind::Dict:
    case Kind::Namespace: return true;
    default: return false;
  }
}

void release(Value&& v) {
  if (!holds_container(v)) return;  // destroyed by the caller, without recursion
  if (t_pending) {
    t_pending->push_back(std::move(v));
    return;
  }
  std::vector<Value> pending;
  pending.push_back(std::move(v));
  t_pending = &pending;
  while (!pending.empty()) {
    Value last = std::move(pending.back());
    pending.pop_back();
  }  // `last` dies here; its children land in `pending`
  t_pending = nullptr;
}

}  // namespace

ListObject::ListObject(std::vector<Value> v) : items(std::move(v)) {}

ListObject::~ListObject() {
  for (Value& v : items) release(std::move(v));
}

DictObject::~DictObject() { clear(); }

void DictObject::clear() {
  std::vector<Entry> entries = std::move(entries_);
  entries_.clear();
  index_.clear();
  for (Entry& e : entries) {
    release(std::move(e.first));
    release(std::move(e.second));
  }
}

// ---------------------------------------------------------------- dict

namespace {
constexpr size_t kIndexThreshold = 16;
}

std::optional<size_t> DictObject::index_of(const Value& key, size_t hash) const {
  if (key.is_string()) return index_of(std::string_view(key.text()));
  if (!index_.empty()) {
    auto [begin, end] = index_.equal_range(hash);
    for (auto it = begin; it != end; ++it)
      if (equals(entries_[it->second].first, key)) return it->second;
    return std::nullopt;
  }
  for (size_t i = 0; i < entries_.size(); ++i)
    if (equals(entries_[i].first, key)) return i;
  return std::nullopt;
}

std::optional<size_t> DictObject::index_of(std::string_view key) const {
  if (!index_.empty()) {
    auto [begin, end] = index_.equal_range(std::hash<std::string_view>{}(key));
    for (auto it = begin; it != end; ++it) {
      const Value& k = entries_[it->second].first;
      if (k.is_string() && k.text() == key) return it->second;
    }
    return std::nullopt;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Value& k = entries_[i].first;
    if (k.is_string() && k.text() == key) return i;
  }
  return std::nullopt;
}

const Value* DictObject::find(const Value& key) const {
  const auto i = index_of(key, key.is_string() ? 0 : hash_value(key));
  return i ? &entries_[*i].second : nullptr;
}

const Value* DictObject::find(std::string_view key) const {
  const auto i = index_of(key);
  return i ? &entries_[*i].second : nullptr;
}

void DictObject::set(Value key, Value value) {
  const size_t hash = hash_value(key);  // also rejects unhashable keys
  if (auto i = index_of(key, hash)) {
    entries_[*i].second = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (!index_.empty())
    index_.emplace(hash, entries_.size() - 1);
  else if (entries_.size() > kIndexThreshold)
    rebuild_index();
}

void DictObject::set(std::string_view key, Value value) { set(Value::string(std::string(key)), std::move(value)); }

bool DictObject::erase(const Value& key) {
  const auto i = index_of(key, hash_value(key));
  if (!i) return false;
  Entry removed = std::move(entries_[*i]);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(*i));
  index_.clear();
  if (entries_.size() > kIndexThreshold) rebuild_index();
  release(std::move(removed.first));
  release(std::move(removed.second));
  return true;
}

void DictObject::rebuild_index() {
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(hash_value(entries_[i].first), i);
}

// ---------------------------------------------------------------- Value

Value Value::string(std::string s, bool safe) {
  Value v(Kind::String);
  v.object_ = std::make_shared<StringObject>(std::move(s));
  v.safe_ = safe;
  return v;
}

Value Value::list(std::vector<Value> items) {
  return object(Kind::List, std::make_shared<ListObject>(std::move(items)));
}

Value Value::tuple(std::vector<Value> items) {
  return object(Kind::Tuple, std::make_shared<ListObject>(std::move(items)));
}

Value Value::iterator(std::vector<Value> items) {
  return object(Kind::Iterator, std::make_shared<ListObject>(std::move(items)));
}

Value Value::dict(std::shared_ptr<DictObject> d) {
  return object(Kind::Dict, d ? std::move(d) : std::make_shared<DictObject>());
}

Value Value::namespace_(std::shared_ptr<DictObject> attrs) {
  return object(Kind::Namespace, attrs ? std::move(attrs) : std::make_shared<DictObject>());
}

Value Value::callable(std::shared_ptr<Callable> c) { return object(Kind::Callable, std::move(c)); }

Value Value::object(Kind kind, std::shared_ptr<Object> o) {
  Value v(kind);
  v.object_ = std::move(o);
  return v;
}

Value Value::undefined(std::string message, ErrorKind kind) {
  Value v(Kind::Undefined);
  v.object_ = std::make_shared<UndefinedObject>(std::move(message), kind);
  return v;
}

const std::string& Value::text() const { return static_cast<const StringObject&>(*object_).text; }
std::vector<Value>& Value::items() const { return static_cast<ListObject&>(*object_).items; }
DictObject& Value::dict_object() const { return static_cast<DictObject&>(*object_); }
Callable& Value::callable_object() const { return static_cast<Callable&>(*object_); }

const UndefinedObject* Value::undefined_info() const {
  return kind_ == Kind::Undefined ? static_cast<const UndefinedObject*>(object_.get()) : nullptr;
}

void Value::raise_undefined() const {
  if (const UndefinedObject* info = undefined_info()) throw_error(info->kind, info->message);
  throw_error(ErrorKind::Undefined, "value is undefined");
}

// ---------------------------------------------------------------- Python semantics

void check_depth(int depth) {
  if (depth > kMaxValueDepth)
    throw_error(ErrorKind::Limit,
                fmt::format("value nested more than {} levels deep (or containing itself)", kMaxValueDepth));
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return v.is_safe() ? "Markup" : "str";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Iterator: return "generator";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Callable: return "function";
    case Kind::Loop: return "LoopContext";
  }
  return "object";
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return v.as_int() != 0;
    case Kind::Float: return v.as_double() != 0.0;
    case Kind::String: return !v.text().empty();
    case Kind::List:
    case Kind::Tuple: return !v.items().empty();
    case Kind::Dict: return !v.dict_object().empty();
    default: return true;  // generators, namespaces, callables: objects without __len__
  }
}

namespace {

// Python compares int with float exactly, not by converting the int to double.
int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
  const double x = a.as_double(), y = b.as_double();
  if (a.is_integral() != b.is_integral()) {
    const int64_t i = a.is_integral() ? a.as_int() : b.as_int();
    const double f = a.is_integral() ? y : x;
    int sign;  // sign of (i - f)
    if (std::isnan(f)) return 2;
    if (f >= 9.2e18 || f <= -9.2e18 || std::isinf(f)) {
      sign = f > 0 ? -1 : 1;
    } else {
      const double fl = std::floor(f);
      const auto fi = static_cast<int64_t>(fl);
      if (i != fi) sign = i < fi ? -1 : 1;
      else sign = f > fl ? -1 : 0;
    }
    return a.is_integral() ? sign : -sign;
  }
  if (std::isnan(x) || std::isnan(y)) return 2;  // unordered
  return x < y ? -1 : x > y;
}

bool equals_at(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  RenderBudget::charge(1);
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  if (a.identity() && a.identity() == b.identity()) return true;  // Python compares items by identity first
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.text() == b.text();
    case Kind::List:
    case Kind::Tuple: {
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      return true;
    }
    case Kind::Dict: {
      const DictObject &x = a.dict_object(), &y = b.dict_object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.find(key);
        if (!other || !equals_at(value, *other, depth + 1)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

size_t hash_at(const Value& v, int depth) {
  check_depth(depth);
  RenderBudget::charge(1);
  switch (v.kind()) {
    case Kind::None: return 0x5bd1e995u;
    case Kind::Bool:
    case Kind::Int: return std::hash<int64_t>{}(v.as_int());
    case Kind::Float: {
      const double f = v.as_double();
      if (f == std::floor(f) && std::abs(f) < 9.2e18) return std::hash<int64_t>{}(static_cast<int64_t>(f));
      return std::hash<double>{}(f);
    }
    case Kind::String: return std::hash<std::string_view>{}(v.text());
    case Kind::Tuple: {
      size_t h = 0x345678;
      for (const Value& item : v.items()) h = (h ^ hash_at(item, depth + 1)) * 1000003u;
      return h;
    }
    case Kind::Undefined:
    case Kind::Namespace:
    case Kind::Callable:
    case Kind::Iterator:
    case Kind::Loop: return std::hash<const void*>{}(v.identity());
    case Kind::List:
    case Kind::Dict: break;
  }
  type_error(fmt::format("unhashable type: '{}'", type_name(v)));
}

bool ordered_at(const Value& a, const Value& b, Order op, int depth) {
  check_depth(depth);
  RenderBudget::charge(1);
  if (a.is_undefined()) a.raise_undefined();
  if (b.is_undefined()) b.raise_undefined();
  auto result = [op](int cmp) {  // cmp: -1, 0, 1, or 2 for unordered (NaN)
    if (cmp == 2) return false;
    switch (op) {
      case Order::Lt: return cmp < 0;
      case Order::Le: return cmp <= 0;
      case Order::Gt: return cmp > 0;
      case Order::Ge: return cmp >= 0;
    }
    return false;
  };
  if (a.is_number() && b.is_number()) return result(compare_numbers(a, b));
  if (a.is_string() && b.is_string()) {
    const int c = a.text().compare(b.text());
    return result(c < 0 ? -1 : c > 0);
  }
  if (a.kind() == b.kind() && (a.is_list() || a.is_tuple())) {
    // Python compares the first differing elements with the same operator, else the lengths.
    const auto &x = a.items(), &y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equals_at(x[i], y[i], depth + 1)) return ordered_at(x[i], y[i], op, depth + 1);
    return result(x.size() < y.size() ? -1 : x.size() > y.size());
  }
  static constexpr const char* kSymbols[] = {"<", "<=", ">", ">="};
  type_error(fmt::format("'{}' not supported between instances of '{}' and '{}'", kSymbols[static_cast<int>(op)],
                         type_name(a), type_name(b)));
}

}  // namespace

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }
bool ordered(const Value& a, const Value& b, Order op) { return ordered_at(a, b, op, 0); }
size_t hash_value(const Value& v) { return hash_at(v, 0); }

std::vector<Value> iterate(const Value& v) {
  if (v.is_sequence_like() || v.kind() == Kind::Iterator) RenderBudget::charge(static_cast<int64_t>(v.items().size()));
  else if (v.is_dict()) RenderBudget::charge(static_cast<int64_t>(v.dict_object().size()));
  else if (v.is_string()) RenderBudget::charge(static_cast<int64_t>(v.text().size()));
  switch (v.kind()) {
    case Kind::Undefined: return {};
    case Kind::List:
    case Kind::Tuple: return v.items();
    case Kind::Iterator: {
      // A generator runs once: iterating it again finds it exhausted, as in Python.
      std::vector<Value> items = std::move(v.items());
      v.items().clear();
      return items;
    }
    case Kind::Dict: {
      std::vector<Value> keys;
      keys.reserve(v.dict_object().size());
      for (const auto& entry : v.dict_object().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Kind::String: {
      std::vector<Value> chars;
      const std::string& s = v.text();
      for (size_t i = 0; i < s.size();) {
        const size_t start = i;
        py::next_code_point(s, i);
        chars.push_back(Value::string(s.substr(start, i - start)));
      }
      return chars;
    }
    default: type_error(fmt::format("'{}' object is not iterable", type_name(v)));
  }
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return 0;
    case Kind::String: return static_cast<int64_t>(py::length(v.text()));
    case Kind::List:
    case Kind::Tuple: return static_cast<int64_t>(v.items().size());
    case Kind::Dict: return static_cast<int64_t>(v.dict_object().size());
    default: type_error(fmt::format("object of type '{}' has no len()", type_name(v)));
  }
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::Undefined: return false;
    case Kind::String:
      if (!item.is_string())
        type_error(fmt::format("'in <string>' requires string as left operand, not {}", type_name(item)));
      return container.text().find(item.text()) != std::string::npos;
    case Kind::List:
    case Kind::Tuple:
    case Kind::Iterator:
      for (const Value& x : container.items())
        if (equals(x, item)) return true;
      return false;
    case Kind::Dict: return container.dict_object().find(item) != nullptr;
    default: type_error(fmt::format("argument of type '{}' is not iterable", type_name(container)));
  }
}

}  // namespace hearth::tmpl
