// Element types of weights and activations. The numeric values are GGML's type ids, so a
// GGUF tensor's type field maps onto DType directly and files round-trip with llama.cpp.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace hearth {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q6_K = 14,
  I32 = 26,
  BF16 = 30,
};

struct DTypeInfo {
  DType type;
  const char* name;     // as GGUF tools print it: "F32", "Q4_K", ...
  int64_t block_size;   // elements per block (1 for plain types)
  int64_t block_bytes;  // bytes per block
  bool quantized;
};

const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) { return dtype_info(t).name; }

// Bytes for n elements of type t; n must be a multiple of the block size.
int64_t dtype_row_bytes(DType t, int64_t n);

// GGML type id -> DType, or nullopt for a type hearth does not support (yet).
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
// Name of any GGML type id, supported or not ("Q5_K", "IQ2_XXS", ... or "type 97").
std::string ggml_type_name(uint32_t ggml_type);
// "F32", "q8_0", "bf16", ... (case-insensitive) -> DType.
std::optional<DType> dtype_from_name(std::string_view name);

// ---- scalar conversions (exact IEEE round-to-nearest-even) ----
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
inline float bf16_to_fp32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t fp32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace hearth
