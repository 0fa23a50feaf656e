// Arbitrary bytes as weight blocks and as float activations: decoding, re-encoding and matmul
// (every ISA level this CPU runs) must not crash, read out of bounds or hit undefined
// behaviour, whatever the scales, NaNs or infinities in the data.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/packed.h"
#include "core/dtype.h"
#include "ops/ops.h"
#include "ops/quant.h"

using namespace hearth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0,
                                 DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::I32};
  const DType type = kTypes[data[0] % 8];
  ++data, --size;
  const DTypeInfo& info = dtype_info(type);

  // Decode whatever whole blocks the input holds (copied for alignment).
  const int64_t n_blocks = static_cast<int64_t>(size) / info.block_bytes;
  const int64_t n = n_blocks * info.block_size;
  std::vector<uint8_t> blocks(data, data + n_blocks * info.block_bytes);
  std::vector<float> decoded(static_cast<size_t>(n));
  ops::dequantize_row(type, blocks.data(), decoded.data(), n);
  if (type == DType::I32 || n == 0) return 0;

  // Re-encode the decoded values (any float, including NaN and inf).
  std::vector<uint8_t> encoded(static_cast<size_t>(dtype_row_bytes(type, n)));
  ops::quantize_row(type, decoded.data(), encoded.data(), n);

  // The blocks as a 1 x n weight matrix, and as 16 copies of that row in the interleaved
  // layout where the type has one (the packed kernels, the AMX tile paths among them), against
  // 16 tokens: the decoded values and the raw input bytes read as floats, repeated.
  TensorView w;
  w.name = "fuzz";
  w.dtype = type;
  w.shape = {1, n};
  w.data = blocks.data();
  w.nbytes = blocks.size();
  constexpr int64_t kTokens = 16, kRows = 16;
  std::vector<float> x(static_cast<size_t>(kTokens * n));
  std::memcpy(x.data(), decoded.data(), static_cast<size_t>(n) * sizeof(float));
  std::memcpy(x.data() + n, data, std::min(size, static_cast<size_t>(n) * sizeof(float)));
  for (int64_t t = 2; t < kTokens; ++t) std::copy_n(x.begin() + (t % 2) * n, n, x.begin() + t * n);
  std::vector<uint8_t> rows, packed;
  TensorView pw = w;
  if (cpu::packable(type, kRows, n)) {
    for (int64_t r = 0; r < kRows; ++r) rows.insert(rows.end(), blocks.begin(), blocks.end());
    packed.resize(rows.size());
    cpu::pack_rows16(type, rows.data(), kRows, n, packed.data());
    pw.shape = {kRows, n};
    pw.data = packed.data();
    pw.nbytes = packed.size();
    pw.layout = RowLayout::Interleaved16;
  }
  static ThreadPool pool(1);
  std::vector<float> y(static_cast<size_t>(kTokens * kRows));
  for (cpu::Isa isa : {cpu::Isa::Generic, cpu::Isa::Avx2, cpu::Isa::Avx512, cpu::Isa::Amx}) {
    if (!cpu::isa_supported(isa)) continue;
    cpu::matmul(cpu::kernels_for(isa), w, x.data(), kTokens, y.data(), pool);
    if (pw.layout == RowLayout::Interleaved16)
      cpu::matmul(cpu::kernels_for(isa), pw, x.data(), kTokens, y.data(), pool);
  }
  return 0;
}
