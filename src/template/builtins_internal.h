// Helpers shared by the builtin filters, tests, methods and globals (not a public API).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "template/builtins.h"
#include "template/evaluator.h"
#include "template/value.h"

namespace hearth::tmpl::builtin {

// The sequence filters (join, map, select, sort ...) live in filters_seq.cpp.
FilterFn find_sequence_filter(std::string_view name);

// Python's int(str, base) and float(str); nullopt where Python raises ValueError.
std::optional<int64_t> parse_int(std::string_view text, int base);
std::optional<double> parse_float(std::string_view text);

// An integer argument (bool counts, as in Python); Python's TypeError otherwise.
int64_t int_arg(const Value& v);
// A string argument: str() of anything, as jinja2's soft_str.
std::string str_arg(const Value& v);

// jinja2's make_attrgetter: "a.b.0" looks up item a, then b, then index 0. `default_value`
// replaces an undefined result.
class AttrGetter {
 public:
  AttrGetter(Interpreter& in, const Value& attribute, std::optional<Value> default_value = std::nullopt);
  Value operator()(const Value& item) const;

 private:
  Interpreter& in_;
  std::vector<Value> parts_;
  std::optional<Value> default_;
};

// Lower-cases strings (jinja2's ignore_case for case-insensitive sorting).
Value ignore_case(const Value& v);

// Python's stable sort of `items` by precomputed keys.
void stable_sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse);

// Python's str.splitlines().
std::vector<std::string> splitlines(std::string_view s);

}  // namespace hearth::tmpl::builtin
