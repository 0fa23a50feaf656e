// Argument binding and Python conversions shared by the builtins.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "template/builtins_internal.h"
#include "template/pystr.h"

namespace hearth::tmpl {

// ---------------------------------------------------------------- ArgReader

std::optional<Value> ArgReader::next(std::string_view name) {
  if (positional_used_ < args_.positional.size()) {
    for (const auto& [key, value] : args_.keyword)
      if (key == name) type_error(fmt::format("{}() got multiple values for argument '{}'", function_, name));
    return args_.positional[positional_used_++];
  }
  for (size_t i = 0; i < args_.keyword.size(); ++i) {
    if (args_.keyword[i].first == name) {
      if (keyword_used_.size() < args_.keyword.size()) keyword_used_.resize(args_.keyword.size(), false);
      keyword_used_[i] = true;
      return args_.keyword[i].second;
    }
  }
  ++positional_used_;  // this parameter is now behind us, even though it was not given
  return std::nullopt;
}

Value ArgReader::next_or(std::string_view name, Value fallback) {
  auto v = next(name);
  return v ? std::move(*v) : std::move(fallback);
}

Value ArgReader::required(std::string_view name) {
  auto v = next(name);
  if (!v) type_error(fmt::format("{}() missing required argument: '{}'", function_, name));
  return std::move(*v);
}

void ArgReader::finish() {
  if (positional_used_ < args_.positional.size())
    type_error(fmt::format("{}() got {} unexpected positional argument(s)", function_,
                           args_.positional.size() - positional_used_));
  for (size_t i = 0; i < args_.keyword.size(); ++i)
    if (i >= keyword_used_.size() || !keyword_used_[i])
      type_error(fmt::format("{}() got an unexpected keyword argument '{}'", function_, args_.keyword[i].first));
}

namespace builtin {

// ---------------------------------------------------------------- conversions

namespace {

std::string_view trim_spaces(std::string_view s) {
  const std::string t = py::strip(s, std::nullopt, py::StripSide::Both);
  const size_t start = s.find(t);
  return t.empty() ? std::string_view() : s.substr(start, t.size());
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

}  // namespace

std::optional<int64_t> parse_int(std::string_view text, int base) {
  std::string_view s = trim_spaces(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto has_prefix = [&](char p) { return s.size() >= 2 && s[0] == '0' && (s[1] | 32) == p; };
  bool prefixed = false;
  if (base == 0) {
    if (has_prefix('x')) base = 16, prefixed = true;
    else if (has_prefix('o')) base = 8, prefixed = true;
    else if (has_prefix('b')) base = 2, prefixed = true;
    else base = 10;
    // Python rejects "012" with base 0 (ambiguous octal); zeros alone are fine.
    if (!prefixed && s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string_view::npos) return std::nullopt;
  } else if ((base == 16 && has_prefix('x')) || (base == 8 && has_prefix('o')) || (base == 2 && has_prefix('b'))) {
    prefixed = true;
  }
  if (prefixed) {
    s.remove_prefix(2);
    if (!s.empty() && s[0] == '_') s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  unsigned __int128 value = 0;
  bool previous_digit = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (!previous_digit || i + 1 == s.size()) return std::nullopt;
      previous_digit = false;
      continue;
    }
    const int d = digit_value(s[i]);
    if (d >= base) return std::nullopt;
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (value > static_cast<unsigned __int128>(INT64_MAX) + 1) return std::nullopt;
    previous_digit = true;
  }
  if (!negative && value > static_cast<unsigned __int128>(INT64_MAX)) return std::nullopt;
  return negative ? static_cast<int64_t>(-static_cast<__int128>(value)) : static_cast<int64_t>(value);
}

std::optional<double> parse_float(std::string_view text) {
  std::string_view s = trim_spaces(text);
  std::string clean;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
  std::string rest(s.substr(i));
  for (char& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (rest == "inf" || rest == "infinity" || rest == "nan") {
    clean += rest;
    return std::strtod(clean.c_str(), nullptr);
  }
  // digits [. digits] [e [sign] digits], with single underscores between digits.
  bool any_digit = false, seen_dot = false, seen_exp = false, exp_digit = false;
  char previous = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      (seen_exp ? exp_digit : any_digit) = true;
      clean += c;
    } else if (c == '_') {
      if (!(previous >= '0' && previous <= '9') || i + 1 >= s.size() || !(s[i + 1] >= '0' && s[i + 1] <= '9'))
        return std::nullopt;
    } else if (c == '.' && !seen_dot && !seen_exp) {
      seen_dot = true;
      clean += c;
    } else if ((c == 'e' || c == 'E') && !seen_exp && any_digit) {
      seen_exp = true;
      clean += c;
      if (i + 1 < s.size() && (s[i + 1] == '+' || s[i + 1] == '-')) clean += s[++i];
    } else {
      return std::nullopt;
    }
    previous = c;
  }
  if (!any_digit || (seen_exp && !exp_digit)) return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

int64_t int_arg(const Value& v) {
  if (v.is_undefined()) v.raise_undefined();
  if (!v.is_integral()) type_error(fmt::format("'{}' object cannot be interpreted as an integer", type_name(v)));
  return v.as_int();
}

std::string str_arg(const Value& v) { return to_str(v); }

// ---------------------------------------------------------------- attribute paths

AttrGetter::AttrGetter(Interpreter& in, const Value& attribute, std::optional<Value> default_value)
    : in_(in), default_(std::move(default_value)) {
  if (attribute.is_none()) return;
  if (!attribute.is_string()) {
    parts_.push_back(attribute);
    return;
  }
  for (const std::string& part : py::split(attribute.text(), std::string("."), -1, false)) {
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    if (digits && part.size() < 19) parts_.push_back(Value::integer(std::stoll(part)));
    else parts_.push_back(Value::string(part));
  }
}

Value AttrGetter::operator()(const Value& item) const {
  Value current = item;
  for (const Value& part : parts_) {
    current = in_.getitem(current, part);
    if (default_ && current.is_undefined()) current = *default_;
  }
  return current;
}

Value ignore_case(const Value& v) { return v.is_string() ? Value::string(py::lower(v.text())) : v; }

void stable_sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse) {
  // Merge sort over positions: stable, and safe whatever the comparison does.
  const size_t n = items.size();
  RenderBudget::charge(static_cast<int64_t>(n));
  std::vector<size_t> order(n), buffer(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  auto before = [&](size_t a, size_t b) { return reverse ? less_than(keys[b], keys[a]) : less_than(keys[a], keys[b]); };
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) buffer[k++] = before(order[j], order[i]) ? order[j++] : order[i++];
      while (i < mid) buffer[k++] = order[i++];
      while (j < hi) buffer[k++] = order[j++];
    }
    order.swap(buffer);
  }
  std::vector<Value> sorted_items, sorted_keys;
  sorted_items.reserve(n);
  sorted_keys.reserve(n);
  for (size_t i : order) {
    sorted_items.push_back(std::move(items[i]));
    sorted_keys.push_back(std::move(keys[i]));
  }
  items = std::move(sorted_items);
  keys = std::move(sorted_keys);
}

std::vector<std::string> splitlines(std::string_view s) {
  std::vector<std::string> lines;
  std::string current;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = py::next_code_point(s, i);
    const bool is_break = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
                          cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!is_break) {
      current += s.substr(start, i - start);
      continue;
    }
    if (cp == '\r' && i < s.size() && s[i] == '\n') ++i;
    lines.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) lines.push_back(std::move(current));
  return lines;
}

}  // namespace builtin
}  // namespace hearth::tmpl
