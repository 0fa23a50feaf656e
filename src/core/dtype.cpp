#include "core/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/error.h"

namespace hearth {
namespace {

constexpr std::array<DTypeInfo, 8> kInfos{{
    {DType::F32, "F32", 1, 4, false},
    {DType::F16, "F16", 1, 2, false},
    {DType::Q4_0, "Q4_0", 32, 18, true},
    {DType::Q8_0, "Q8_0", 32, 34, true},
    {DType::Q4_K, "Q4_K", 256, 144, true},
    {DType::Q6_K, "Q6_K", 256, 210, true},
    {DType::I32, "I32", 1, 4, false},
    {DType::BF16, "BF16", 1, 2, false},
}};

// GGML's full list of type ids, for error messages about types we do not load.
constexpr std::array<const char*, 42> kGgmlNames{
    "F32",     "F16",    "Q4_0",   "Q4_1",   "Q4_2",   "Q4_3",    "Q5_0",   "Q5_1",   "Q8_0",
    "Q8_1",    "Q2_K",   "Q3_K",   "Q4_K",   "Q5_K",   "Q6_K",    "Q8_K",   "IQ2_XXS", "IQ2_XS",
    "IQ3_XXS", "IQ1_S",  "IQ4_NL", "IQ3_S",  "IQ2_S",  "IQ4_XS",  "I8",     "I16",    "I32",
    "I64",     "F64",    "IQ1_M",  "BF16",   "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0",
    "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4", "NVFP4", "Q1_0"};

}  // namespace

const DTypeInfo& dtype_info(DType t) {
  for (const auto& info : kInfos)
    if (info.type == t) return info;
  fail("internal error: unknown dtype id {}", static_cast<uint32_t>(t));
}

int64_t dtype_row_bytes(DType t, int64_t n) {
  const auto& info = dtype_info(t);
  if (n % info.block_size != 0)
    fail("a row of {} elements is not a multiple of the {} block size {}", n, info.name,
         info.block_size);
  return n / info.block_size * info.block_bytes;
}

std::optional<DType> dtype_from_ggml(uint32_t ggml_type) {
  for (const auto& info : kInfos)
    if (static_cast<uint32_t>(info.type) == ggml_type) return info.type;
  return std::nullopt;
}

std::string ggml_type_name(uint32_t ggml_type) {
  if (ggml_type < kGgmlNames.size()) return kGgmlNames[ggml_type];
  return "type " + std::to_string(ggml_type);
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const auto& info : kInfos)
    if (upper == info.name) return info.type;
  return std::nullopt;
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t fp32_to_fp16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;  // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00u;  // overflow (incl. inf) after rounding
  if (abs < 0x38800000u) {                        // result is subnormal or zero
    if (abs < 0x33000000u) return sign;           // below half the smallest subnormal
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14 + (113 - exp) ... maps to a 10-bit mantissa
    uint32_t half = mant >> (shift - 0);
    // round to nearest even on the bits shifted out
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  r += 0xfffu + ((r >> 13) & 1u);  // round to nearest even
  return sign | static_cast<uint16_t>(r >> 13);
}

}  // namespace hearth
