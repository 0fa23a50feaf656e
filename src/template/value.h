// The values templates compute with, modelled on the Python objects jinja2 works on: None,
// bool, int, float, str, list, tuple, dict (insertion-ordered, any hashable key), generators
// (what select/map return), jinja2's Undefined, namespace(), macros and other callables.
// Lists and dicts are shared, so a change through one reference is seen by all, as in Python.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "template/error.h"

namespace hearth::tmpl {

class Value;
class Interpreter;
class DictObject;
class Callable;
class UndefinedObject;

// Thrown by value operations, filters and methods; the evaluator adds the template position
// and turns it into a TemplateError.
struct EvalError {
  ErrorKind kind;
  std::string message;
};

[[noreturn]] void throw_error(ErrorKind kind, std::string message);
[[noreturn]] inline void type_error(std::string message) { throw_error(ErrorKind::Type, std::move(message)); }
[[noreturn]] inline void value_error(std::string message) {
  throw_error(ErrorKind::Value, std::move(message));
}

enum class Kind : uint8_t {
  Undefined,
  None,
  Bool,
  Int,
  Float,
  String,
  List,
  Tuple,
  Iterator,  // a Python generator/iterator: iterable, but no len(), no JSON, always truthy
  Dict,
  Namespace,
  Callable,
  Loop,  // the `loop` variable of a for loop
};

// Base of every heap object a Value can point at.
class Object {
 public:
  virtual ~Object() = default;
};

class Value {
 public:
  Value() = default;  // undefined, with the generic message
  static Value none() { return Value(Kind::None); }
  static Value boolean(bool b) {
    Value v(Kind::Bool);
    v.int_ = b;
    return v;
  }
  static Value integer(int64_t i) {
    Value v(Kind::Int);
    v.int_ = i;
    return v;
  }
  static Value floating(double f) {
    Value v(Kind::Float);
    v.float_ = f;
    return v;
  }
  static Value string(std::string s, bool safe = false);
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value iterator(std::vector<Value> items);
  static Value dict(std::shared_ptr<DictObject> d = nullptr);
  static Value namespace_(std::shared_ptr<DictObject> attrs);
  static Value callable(std::shared_ptr<Callable> c);
  static Value object(Kind kind, std::shared_ptr<Object> o);
  // An undefined value; using it raises `message` (as jinja2.Undefined does).
  static Value undefined(std::string message, ErrorKind kind = ErrorKind::Undefined);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_integral() const { return kind_ == Kind::Int || kind_ == Kind::Bool; }  // Python int (bool is one)
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return is_integral() || is_float(); }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_tuple() const { return kind_ == Kind::Tuple; }
  bool is_sequence_like() const { return kind_ == Kind::List || kind_ == Kind::Tuple; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_callable() const { return kind_ == Kind::Callable; }
  bool is_safe() const { return safe_; }  // a Markup string (|safe, |escape)

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }  // Int or Bool
  double as_double() const { return kind_ == Kind::Float ? float_ : static_cast<double>(int_); }
  const std::string& text() const;                // String only
  std::vector<Value>& items() const;              // List, Tuple, Iterator
  DictObject& dict_object() const;                // Dict, Namespace
  Callable& callable_object() const;              // Callable
  const UndefinedObject* undefined_info() const;  // Undefined (may be null: generic)
  template <typename T>
  T& object_as() const {
    return static_cast<T&>(*object_);
  }
  const Object* identity() const { return object_.get(); }
  const std::shared_ptr<Object>& shared_object() const { return object_; }

  // Throws the error that using this undefined value raises.
  [[noreturn]] void raise_undefined() const;

 private:
  explicit Value(Kind k) : kind_(k) {}

  Kind kind_ = Kind::Undefined;
  bool safe_ = false;
  union {
    int64_t int_ = 0;
    double float_;
  };
  std::shared_ptr<Object> object_;
};

class StringObject final : public Object {
 public:
  explicit StringObject(std::string t) : text(std::move(t)) {}
  std::string text;
};

class ListObject final : public Object {
 public:
  ListObject() = default;
  explicit ListObject(std::vector<Value> v);
  ~ListObject() override;
  std::vector<Value> items;
};

// Insertion-ordered mapping with Python key semantics (1, 1.0 and True are the same key; the
// first key object inserted is kept). Small dicts are searched linearly; big ones get a hash index.
class DictObject final : public Object {
 public:
  using Entry = std::pair<Value, Value>;
  ~DictObject() override;

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
  void set(std::string_view key, Value value);
  bool erase(const Value& key);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }
  void clear();

 private:
  std::optional<size_t> index_of(const Value& key, size_t hash) const;
  std::optional<size_t> index_of(std::string_view key) const;
  void rebuild_index();

  std::vector<Entry> entries_;
  std::unordered_multimap<size_t, size_t> index_;  // hash -> entry position, once the dict is big
};

// Why a value is undefined: the message a use of it raises (jinja2's _undefined_message) and
// whether that is an UndefinedError or a SecurityError (sandbox refusal).
class UndefinedObject final : public Object {
 public:
  UndefinedObject(std::string m, ErrorKind k) : message(std::move(m)), kind(k) {}
  std::string message;
  ErrorKind kind;
};

struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Builtin functions, bound methods, macros, caller(), loop.cycle ...
class Callable : public Object {
 public:
  virtual Value call(Interpreter& interpreter, Arguments& args) = 0;
  virtual std::string describe() const = 0;  // what str() prints for it
};

// ---- Python semantics ----
// Name of the Python type, as error messages print it: 'int', 'str', 'NoneType', 'list' ...
std::string type_name(const Value& v);
bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// a < b, a <= b ... as Python orders numbers, strings, lists and tuples (element by element);
// TypeError ("'<' not supported between instances of 'str' and 'int'") otherwise.
enum class Order { Lt, Le, Gt, Ge };
bool ordered(const Value& a, const Value& b, Order op);
inline bool less_than(const Value& a, const Value& b) { return ordered(a, b, Order::Lt); }
size_t hash_value(const Value& v);  // TypeError for unhashable values (list, dict ...)
// str(v) (printing in {{ }}): undefined prints nothing; containers print their repr.
std::string to_str(const Value& v);
void append_str(std::string& out, const Value& v);
std::string repr(const Value& v);
// The items a for loop visits: list/tuple/iterator items, dict keys, string characters.
// Undefined iterates as empty. TypeError ("'int' object is not iterable") otherwise.
std::vector<Value> iterate(const Value& v);
// len(v); TypeError for values without one.
int64_t length(const Value& v);
bool contains(const Value& container, const Value& item);  // Python `item in container`

// ---- Markup (|safe strings) ----
// markupsafe's escape: & < > " ' become entities.
std::string html_escape(std::string_view s);
// Text of a string operand for combining with a Markup string: escaped unless already safe.
std::string markup_text(const Value& v);

// ---- JSON ----
// Inputs arrive as JSON: objects keep their key order. Strings must be valid UTF-8.
Value from_json(const nlohmann::ordered_json& j);

struct JsonStyle {
  std::optional<std::string> indent;  // nullopt: one line
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// json.dumps(v, ...): TypeError for values JSON cannot hold (undefined, generators ...).
std::string json_dumps(const Value& v, const JsonStyle& style);

// Nesting deeper than this (lists in lists ...) is refused when printing, comparing or
// serialising, so a runaway template cannot exhaust the stack.
inline constexpr int kMaxValueDepth = 400;
void check_depth(int depth);  // Limit error beyond kMaxValueDepth

// Bounds the work that value operations do during one render: every element compared,
// hashed, printed, serialised or copied costs a unit, and no text built may exceed a size.
// Without it, a few lines of template (lists of lists repeated by `*`, printed or compared)
// could run for hours. The renderer installs one per render on its thread; outside a render
// nothing is limited.
class RenderBudget {
 public:
  RenderBudget(int64_t work_units, int64_t max_text_bytes);
  ~RenderBudget();
  RenderBudget(const RenderBudget&) = delete;
  RenderBudget& operator=(const RenderBudget&) = delete;

  static void charge(int64_t units);      // Limit error once the work budget is spent
  static void check_text(size_t bytes);   // Limit error for text longer than allowed

 private:
  int64_t work_left_;
  int64_t work_units_;
  int64_t max_text_bytes_;
  RenderBudget* previous_;
};

}  // namespace hearth::tmpl
