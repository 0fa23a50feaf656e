// Byte sizes of the interleaved layout's units (backends/cpu/packed.h), as the AMX kernels
// walk them.
#pragma once
#include <cstdint>

namespace hearth::cpu::amx {

// Q8_0 / Q4_0 group-block: d[16] (f16), then 8 (Q8_0) or 4 (Q4_0) chunks of 64 bytes.
inline constexpr int64_t kQ8_0GroupBlockBytes = 16 * 34;
inline constexpr int64_t kQ4_0GroupBlockBytes = 16 * 18;
// Q4_K group-super-block: d[16], dmin[16] (f16), scales[12][16], then 8 sub-blocks of 4 chunks.
inline constexpr int64_t kQ4kGroupBytes = 16 * 144;
inline constexpr int64_t kQ4kScalesOffset = 64;
inline constexpr int64_t kQ4kLevelsOffset = 256;

}  // namespace hearth::cpu::amx
