// GGUFFile lookups: metadata by key with typed getters, tensors by name.
#include <limits>

#include "core/error.h"
#include "io/gguf.h"

namespace hearth::io {

const GGUFValue* GGUFFile::find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GGUFValue& GGUFFile::require(std::string_view key) const {
  const GGUFValue* v = find(key);
  if (v == nullptr) fail_format("{}: metadata key '{}' is missing", path_, key);
  return *v;
}

void GGUFFile::wrong_type(std::string_view key, const GGUFValue& v, const char* expected) const {
  fail_format("{}: metadata key '{}' has type {}, expected {}", path_, key, v.type_name(),
              expected);
}

std::optional<int64_t> GGUFFile::find_int(std::string_view key) const {
  const GGUFValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer()) wrong_type(key, *v, "an integer");
  if (v->type == GGUFType::UINT64 && v->as_uint() > uint64_t{INT64_MAX})
    fail_format("{}: metadata key '{}' has value {}, which does not fit in a signed 64-bit integer",
                path_, key, v->as_uint());
  return v->as_int();
}

int64_t GGUFFile::get_int(std::string_view key) const {
  require(key);
  return *find_int(key);
}

std::optional<double> GGUFFile::find_float(std::string_view key) const {
  const GGUFValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer() && !v->is_float()) wrong_type(key, *v, "a number");
  return v->as_float();
}

double GGUFFile::get_float(std::string_view key) const {
  require(key);
  return *find_float(key);
}

std::optional<std::string> GGUFFile::find_string(std::string_view key) const {
  const GGUFValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GGUFType::STRING) wrong_type(key, *v, "STRING");
  return v->as_string();
}

std::string GGUFFile::get_string(std::string_view key) const {
  require(key);
  return *find_string(key);
}

std::optional<bool> GGUFFile::find_bool(std::string_view key) const {
  const GGUFValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != GGUFType::BOOL) wrong_type(key, *v, "BOOL");
  return v->as_bool();
}

std::vector<std::string> GGUFFile::get_string_array(std::string_view key) const {
  const GGUFValue& v = require(key);
  if (v.type != GGUFType::ARRAY || v.elem_type != GGUFType::STRING)
    wrong_type(key, v, "ARRAY of STRING");
  std::vector<std::string> out;
  out.reserve(v.as_array().size());
  for (const auto& e : v.as_array()) out.push_back(e.as_string());
  return out;
}

std::vector<float> GGUFFile::get_float_array(std::string_view key) const {
  const GGUFValue& v = require(key);
  const bool numeric = v.type == GGUFType::ARRAY &&
                       (gguf_type_is_integer(v.elem_type) || v.elem_type == GGUFType::FLOAT32 ||
                        v.elem_type == GGUFType::FLOAT64);
  if (!numeric) wrong_type(key, v, "an ARRAY of numbers");
  std::vector<float> out;
  out.reserve(v.as_array().size());
  for (const auto& e : v.as_array()) out.push_back(static_cast<float>(e.as_float()));
  return out;
}

std::vector<int32_t> GGUFFile::get_int_array(std::string_view key) const {
  const GGUFValue& v = require(key);
  if (v.type != GGUFType::ARRAY || !gguf_type_is_integer(v.elem_type))
    wrong_type(key, v, "an ARRAY of integers");
  std::vector<int32_t> out;
  out.reserve(v.as_array().size());
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const GGUFValue& e = v.as_array()[i];
    // Compare in the element's own signedness so huge UINT64 values are caught too.
    const bool fits = e.type == GGUFType::UINT64
                          ? e.as_uint() <= uint64_t{INT32_MAX}
                          : e.as_int() >= INT32_MIN && e.as_int() <= INT32_MAX;
    if (!fits)
      fail_format("{}: metadata key '{}' element {} is {}, outside the 32-bit integer range",
                  path_, key, i, e.to_display_string());
    out.push_back(static_cast<int32_t>(e.as_int()));
  }
  return out;
}

const TensorView* GGUFFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& GGUFFile::tensor(std::string_view name) const {
  const TensorView* t = find_tensor(name);
  if (t == nullptr) fail_format("{}: tensor '{}' is missing", path_, name);
  return *t;
}

}  // namespace hearth::io
