// Lookup of the builtin filters (filters.cpp), tests (tests.cpp), global functions and the
// methods of str/list/dict values (builtins/methods.cpp).
#pragma once
#include <optional>
#include <string_view>

#include "template/ast.h"
#include "template/value.h"

namespace hearth::tmpl {

// Null when jinja2 has no such filter/test. Filters jinja2 has but this engine does not
// implement (urlize, random ...) are found and raise a clear error when used.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// Global functions: range, dict, namespace, cycler, joiner, raise_exception, strftime_now.
std::optional<Value> find_global(std::string_view name);

// obj.name when obj is a str, list, tuple or dict and name is one of its Python methods:
// calls it. Returns nullopt when there is no such method. In the immutable sandbox the
// methods that modify a list or dict raise a SecurityError.
std::optional<Value> call_method(Interpreter& in, const Value& object, std::string_view name, Arguments& args);
bool has_method(const Value& object, std::string_view name);
// The method as a value (for `obj.method` without a call): a bound callable, or nullopt.
std::optional<Value> bound_method(Interpreter& in, const Value& object, std::string_view name);

// Argument binding for builtins: takes positional-or-keyword parameters in order, the way a
// Python signature does, and reports unknown or missing ones as TypeErrors.
class ArgReader {
 public:
  ArgReader(std::string_view function, Arguments& args) : function_(function), args_(args) {}
  // The next parameter: positional if one is left, else the keyword of that name.
  std::optional<Value> next(std::string_view name);
  Value next_or(std::string_view name, Value fallback);
  Value required(std::string_view name);
  // Everything consumed? Throws TypeError for leftovers.
  void finish();

 private:
  std::string_view function_;
  Arguments& args_;
  size_t positional_used_ = 0;
  std::vector<bool> keyword_used_;
};

}  // namespace hearth::tmpl
