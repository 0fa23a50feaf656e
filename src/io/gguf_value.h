// GGUF metadata values: the tagged union stored under each metadata key. Included by
// io/gguf.h; kept apart so code that only builds or inspects values needs no file reader.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace hearth::io {

// The value type ids of the GGUF spec (same numbers as in the file).
enum class GGUFType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// "UINT32", "STRING", ... or "type 13" for an id outside the spec.
std::string gguf_type_name(GGUFType t);
bool gguf_type_is_valid(uint32_t raw_type);
bool gguf_type_is_integer(GGUFType t);  // UINT8..INT64, not BOOL

class GGUFValue {
 public:
  // Signed integers are stored as int64_t, unsigned ones as uint64_t, floats as double
  // (a FLOAT32 keeps its exact float value); `type` says which GGUF type it came from.
  using Storage =
      std::variant<int64_t, uint64_t, double, bool, std::string, std::vector<GGUFValue>>;

  GGUFType type = GGUFType::UINT32;
  GGUFType elem_type = GGUFType::UINT8;  // arrays only: the type of every element

  GGUFValue() : value_(uint64_t{0}) {}

  static GGUFValue of_u8(uint8_t v) { return {GGUFType::UINT8, uint64_t{v}}; }
  static GGUFValue of_i8(int8_t v) { return {GGUFType::INT8, int64_t{v}}; }
  static GGUFValue of_u16(uint16_t v) { return {GGUFType::UINT16, uint64_t{v}}; }
  static GGUFValue of_i16(int16_t v) { return {GGUFType::INT16, int64_t{v}}; }
  static GGUFValue of_u32(uint32_t v) { return {GGUFType::UINT32, uint64_t{v}}; }
  static GGUFValue of_i32(int32_t v) { return {GGUFType::INT32, int64_t{v}}; }
  static GGUFValue of_u64(uint64_t v) { return {GGUFType::UINT64, v}; }
  static GGUFValue of_i64(int64_t v) { return {GGUFType::INT64, v}; }
  static GGUFValue of_f32(float v) { return {GGUFType::FLOAT32, double{v}}; }
  static GGUFValue of_f64(double v) { return {GGUFType::FLOAT64, v}; }
  static GGUFValue of_bool(bool v) { return {GGUFType::BOOL, v}; }
  static GGUFValue of_string(std::string v) { return {GGUFType::STRING, std::move(v)}; }
  // Every element must have type `elem` (throws hearth::Error otherwise).
  static GGUFValue of_array(GGUFType elem, std::vector<GGUFValue> elems);
  // Convenience builders for the common vocabulary arrays.
  static GGUFValue of_strings(const std::vector<std::string>& v);
  static GGUFValue of_f32s(const std::vector<float>& v);
  static GGUFValue of_i32s(const std::vector<int32_t>& v);

  bool is_integer() const { return gguf_type_is_integer(type); }
  bool is_float() const { return type == GGUFType::FLOAT32 || type == GGUFType::FLOAT64; }

  // Accessors. The wrong type throws hearth::FormatError naming the actual type, e.g.
  // "GGUF value has type STRING, expected an integer".
  int64_t as_int() const;    // any integer type; a UINT64 above INT64_MAX throws
  uint64_t as_uint() const;  // any integer type; a negative value throws
  double as_float() const;   // FLOAT32/FLOAT64, or an integer (converted)
  bool as_bool() const;
  const std::string& as_string() const;
  const std::vector<GGUFValue>& as_array() const;

  // "UINT32", or "ARRAY of STRING" for arrays (nested: "ARRAY of ARRAY").
  std::string type_name() const;
  // Human-readable rendering for `hearth info`-style listings: strings quoted, arrays
  // shortened to their first `max_elems` elements plus a count.
  std::string to_display_string(size_t max_elems = 8) const;

  bool operator==(const GGUFValue& other) const = default;

 private:
  GGUFValue(GGUFType t, Storage v) : type(t), value_(std::move(v)) {}

  Storage value_;
};

}  // namespace hearth::io
