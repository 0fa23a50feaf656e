#include "io/gguf_value.h"

#include <fmt/format.h>

#include <array>
#include <limits>

#include "core/error.h"

namespace hearth::io {
namespace {

constexpr std::array<const char*, 13> kTypeNames{
    "UINT8", "INT8",   "UINT16", "INT16", "UINT32", "INT32",  "FLOAT32",
    "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64", "FLOAT64"};

// Quotes a string for one-line display: control characters, quotes and backslashes are
// escaped; other bytes (UTF-8 text) pass through.
std::string display_quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\x{:02x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

[[noreturn]] void wrong_type(const GGUFValue& v, const char* expected) {
  fail_format("GGUF value has type {}, expected {}", v.type_name(), expected);
}

}  // namespace

std::string gguf_type_name(GGUFType t) {
  const auto raw = static_cast<uint32_t>(t);
  if (raw < kTypeNames.size()) return kTypeNames[raw];
  return fmt::format("type {}", raw);
}

bool gguf_type_is_valid(uint32_t raw_type) { return raw_type < kTypeNames.size(); }

bool gguf_type_is_integer(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8:
    case GGUFType::INT8:
    case GGUFType::UINT16:
    case GGUFType::INT16:
    case GGUFType::UINT32:
    case GGUFType::INT32:
    case GGUFType::UINT64:
    case GGUFType::INT64:
      return true;
    default:
      return false;
  }
}

GGUFValue GGUFValue::of_array(GGUFType elem, std::vector<GGUFValue> elems) {
  for (const auto& e : elems)
    if (e.type != elem)
      fail("GGUF array of {} cannot hold an element of type {}", gguf_type_name(elem),
           gguf_type_name(e.type));
  GGUFValue v(GGUFType::ARRAY, std::move(elems));
  v.elem_type = elem;
  return v;
}

GGUFValue GGUFValue::of_strings(const std::vector<std::string>& v) {
  std::vector<GGUFValue> elems;
  elems.reserve(v.size());
  for (const auto& s : v) elems.push_back(of_string(s));
  return of_array(GGUFType::STRING, std::move(elems));
}

GGUFValue GGUFValue::of_f32s(const std::vector<float>& v) {
  std::vector<GGUFValue> elems;
  elems.reserve(v.size());
  for (float f : v) elems.push_back(of_f32(f));
  return of_array(GGUFType::FLOAT32, std::move(elems));
}

GGUFValue GGUFValue::of_i32s(const std::vector<int32_t>& v) {
  std::vector<GGUFValue> elems;
  elems.reserve(v.size());
  for (int32_t i : v) elems.push_back(of_i32(i));
  return of_array(GGUFType::INT32, std::move(elems));
}

int64_t GGUFValue::as_int() const {
  if (const auto* s = std::get_if<int64_t>(&value_); s && is_integer()) return *s;
  if (const auto* u = std::get_if<uint64_t>(&value_); u && is_integer()) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail_format("GGUF value {} does not fit in a signed 64-bit integer", *u);
    return static_cast<int64_t>(*u);
  }
  wrong_type(*this, "an integer");
}

uint64_t GGUFValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&value_); u && is_integer()) return *u;
  if (const auto* s = std::get_if<int64_t>(&value_); s && is_integer()) {
    if (*s < 0) fail_format("GGUF value {} is negative, expected an unsigned integer", *s);
    return static_cast<uint64_t>(*s);
  }
  wrong_type(*this, "an integer");
}

double GGUFValue::as_float() const {
  if (is_float()) return std::get<double>(value_);
  if (const auto* s = std::get_if<int64_t>(&value_); s && is_integer())
    return static_cast<double>(*s);
  if (const auto* u = std::get_if<uint64_t>(&value_); u && is_integer())
    return static_cast<double>(*u);
  wrong_type(*this, "a number");
}

bool GGUFValue::as_bool() const {
  if (type != GGUFType::BOOL) wrong_type(*this, "BOOL");
  return std::get<bool>(value_);
}

const std::string& GGUFValue::as_string() const {
  if (type != GGUFType::STRING) wrong_type(*this, "STRING");
  return std::get<std::string>(value_);
}

const std::vector<GGUFValue>& GGUFValue::as_array() const {
  if (type != GGUFType::ARRAY) wrong_type(*this, "ARRAY");
  return std::get<std::vector<GGUFValue>>(value_);
}

std::string GGUFValue::type_name() const {
  if (type != GGUFType::ARRAY) return gguf_type_name(type);
  return "ARRAY of " + gguf_type_name(elem_type);
}

std::string GGUFValue::to_display_string(size_t max_elems) const {
  switch (type) {
    case GGUFType::STRING:
      return display_quoted(as_string());
    case GGUFType::BOOL:
      return as_bool() ? "true" : "false";
    case GGUFType::FLOAT32:  // shortest text that reads back as the same float
      return fmt::format("{}", static_cast<float>(as_float()));
    case GGUFType::FLOAT64:
      return fmt::format("{}", as_float());
    case GGUFType::ARRAY: {
      const auto& elems = as_array();
      std::string out = "[";
      for (size_t i = 0; i < elems.size() && i < max_elems; ++i) {
        if (i) out += ", ";
        out += elems[i].to_display_string(max_elems);
      }
      if (elems.size() > max_elems) out += fmt::format(", ... ({} items)", elems.size());
      return out + "]";
    }
    default:
      if (const auto* s = std::get_if<int64_t>(&value_)) return std::to_string(*s);
      return std::to_string(std::get<uint64_t>(value_));
  }
}

}  // namespace hearth::io
