// The CPU kernel interface: one KernelTable per instruction-set level, filled by the files in
// this folder (generic/portable), x86_avx2/, x86_avx512/ and x86_amx/, and picked at run time
// by dispatch.cpp. Only plain data and declarations live here: the per-ISA files are compiled
// with different -m flags, and an inline function shared between them could be emitted with
// AVX-512 instructions and then linked into a generic caller.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hearth::cpu {

// Amx: the AVX-512 kernels plus AMX tile products (AMX-TILE, AMX-INT8, AMX-BF16 and
// AVX512-BF16) for batches of tokens against the interleaved weights.
enum class Isa { Generic, Avx2, Avx512, Amx };

// Tokens that one pass over a weight row serves (activations of this many tokens are kept in
// registers/L1 while the row streams by).
inline constexpr int kTokenTile = 4;
// Alignment of every prepared activation row.
inline constexpr int64_t kActAlign = 64;

// ---------------------------------------------------------------- prepared activations
// Quantized weights are multiplied with activations quantized once per call to int8, so the
// inner loops are integer dot products. One token's row of `cols` activations becomes:
//   qs[cols]            int8 values, at offset 0
//   d[cols / block]     float scale per block (block = 32 or 256; a shorter last 256-block
//                       when cols % 256 != 0, which only Q4_0 rows have), value = qs * d
//   sums[cols / 16]     int16 sum of qs per 16 elements (Q8_256; K-quant mins/offsets)
//   sums[cols / 32]     int32 sum of qs per block (Q8_32; filled only for the interleaved
//                       kernels, which fold the weights' +128 / +8 offset out with it)
// The scale is amax / 127 and q = round-half-even(x * 127 / amax), identical on every ISA.
enum class ActFormat {
  F32,     // the float activations as given
  Q8_32,   // int8, one scale per 32 (for Q8_0 weights)
  Q8_256,  // int8, one scale per 256 plus per-16 sums (for Q4_0, Q4_K, Q6_K weights)
};

struct ActLayout {
  int64_t d_offset = 0;     // byte offset of the float scales
  int64_t sums_offset = 0;  // byte offset of the int16 sums (Q8_256)
  int64_t row_bytes = 0;    // bytes per token, a multiple of kActAlign
};
ActLayout act_layout(ActFormat format, int64_t cols);

// Quantizes one row of cols activations (cols a multiple of the block) into the layout above.
using QuantizeActFn = void (*)(const float* x, int64_t cols, uint8_t* dst);

// ---------------------------------------------------------------- matmul tiles
// One tile of y = x W^T: rows [0, n_rows) of the weights starting at `w`, tokens
// [0, n_tokens) of the prepared activations starting at `act`; writes
// y[t * y_stride + r]. n_tokens <= kTokenTile. cols is a multiple of the weight block size.
struct GemvTile {
  const uint8_t* w;
  int64_t w_row_bytes;
  int64_t n_rows;
  int64_t cols;
  const uint8_t* act;
  int64_t act_stride;  // bytes between consecutive tokens' prepared activations
  int n_tokens;
  float* y;
  int64_t y_stride;
};
using GemvTileFn = void (*)(const GemvTile& tile);

// ---------------------------------------------------------------- interleaved tiles
// Weights in the 16-row interleaved layout (packed.h): groups [0, n_groups) starting at `w`
// (one group = 16 rows x all blocks), tokens [0, n_tokens), n_tokens <= kPackedTokenTile.
// Activations in the kernel's format (Q8_32 with the block sums filled, or Q8_256). Writes
// y[t * y_stride + 16 g + i].
inline constexpr int kPackedTokenTile = 8;

// How far ahead of their loads the AVX-512 kernels prefetch a weight stream (each row group
// is one stream), and the farthest distance the bandwidth probe tries. Enough bytes must be
// in flight to cover the memory latency at a core's bandwidth (Little's law): ~30 GB/s x
// ~100 ns is ~3 KB on a Zen 5 core, and 4 KiB stays well inside L1 (two streams: 8 of
// 48 KiB). On weights in DRAM (bench_decode) 2 and 4 KiB are within a few percent of each
// other there, either way round from run to run; without prefetch decode is ~40% slower. On
// a Sapphire Rapids core (~15 GB/s) 2 KiB was enough.
inline constexpr int64_t kWeightPrefetchAhead = 4096;
struct PackedTile {
  const uint8_t* w;
  int64_t n_groups;
  int64_t cols;
  const uint8_t* act;
  int64_t act_stride;
  int n_tokens;
  float* y;
  int64_t y_stride;
  // The first token tile over these groups: the weights come from memory (prefetch them);
  // later tiles find them in cache.
  bool first_pass = true;
};
using PackedTileFn = void (*)(const PackedTile& tile);

// ---------------------------------------------------------------- matrix-unit products
// Weights in the interleaved layout against a batch of tokens on matrix tiles (AMX). A tile
// product lays the batch's activations out itself, in the tiles' own order (prepare), and
// then runs over groups [0, n_groups) starting at w, all n_tokens tokens, writing
// y[t * y_stride + 16 g + i] for every token t < n_tokens.
struct PackedGemm {
  const uint8_t* w;
  int64_t n_groups;
  int64_t cols;
  const uint8_t* act;  // as prepared for this n_tokens and cols
  int64_t n_tokens;
  float* y;
  int64_t y_stride;
};
using PackedGemmFn = void (*)(const PackedGemm& gemm);
// Bytes the prepared activations of n_tokens x cols take.
using GemmActBytesFn = int64_t (*)(int64_t n_tokens, int64_t cols);
// Prepares tokens [t0, t1) of the n_tokens rows of x (cols floats each) into dst; t0 is a
// multiple of 16, and the call that reaches t1 == n_tokens also fills the padding after it.
// Calls on disjoint ranges may run in parallel.
using GemmPrepareFn = void (*)(const float* x, int64_t n_tokens, int64_t cols, int64_t t0,
                               int64_t t1, uint8_t* dst);

// One matrix-unit product of a kernel, for batches of at least min_tokens tokens.
struct GemmKernel {
  PackedGemmFn fn = nullptr;
  GemmPrepareFn prepare = nullptr;
  GemmActBytesFn act_bytes = nullptr;
  int min_tokens = 0;
  const char* method = "";  // for kernel_report()
};

struct MatmulKernel {
  GemvTileFn tile = nullptr;
  ActFormat act = ActFormat::F32;
  const char* method = "";  // for kernel_report(), e.g. "int8 dot (vpdpbusd)"
  // For the 16-row interleaved layout (packed.h); null: none on this level, so matmul does
  // not pack for it and unpacks rows of a packed matrix for `tile`.
  PackedTileFn packed = nullptr;
  // Matrix-unit products for batches against interleaved weights: a batch takes `prompt` if
  // it has at least prompt.min_tokens tokens, else `batch` if at least batch.min_tokens, else
  // `packed` serves it.
  GemmKernel batch = {};
  GemmKernel prompt = {};
};

struct KernelTable {
  Isa isa;
  const char* name;  // "generic", "avx2", "avx512", "amx"
  // Weight types (index with matmul_kernel()).
  MatmulKernel f32, f16, bf16, q8_0, q4_0, q4_k, q6_k;
  QuantizeActFn quantize_q8_32;
  QuantizeActFn quantize_q8_256;
  // Row-wise float ops.
  void (*rmsnorm_row)(const float* x, const float* weight, float* y, int64_t dim, float eps);
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t count);
  void (*add)(float* acc, const float* x, int64_t count);
  void (*softmax)(float* x, int64_t n);
  // Reads n bytes (a multiple of 64, 64-byte aligned) with this level's widest loads and
  // returns a checksum of them: the memory-bandwidth probe behind the generation roofline.
  // prefetch_ahead > 0 also prefetches every line that many bytes ahead, as the matmul
  // kernels do (levels without software prefetch ignore it); the probe takes the faster of
  // both, since which one is faster depends on the machine and the thread count.
  uint64_t (*read_stream)(const uint8_t* p, int64_t n, int64_t prefetch_ahead);
  // Attention's inner loops: sum a[i] * b[i], and y[i] += a * x[i].
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);
  // Attention over a run of n consecutive cached positions (rows `stride` floats apart) for
  // the `group` query heads sharing one KV head:
  //   scores[g * s_stride + p] = scale * q[g * dim ..] . k[p * stride ..]   (attn_scores)
  //   out[g * dim + d] += sum_p w[g * w_stride + p] * v[p * stride + d]      (attn_values)
  void (*attn_scores)(const float* q, int64_t group, int64_t dim, const float* k, int64_t stride,
                      int64_t n, float scale, float* scores, int64_t s_stride);
  void (*attn_values)(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                      const float* v, int64_t stride, int64_t n, float* out);
  // The same over keys and values stored as IEEE half floats (an F16 KV cache): each element
  // is widened to float exactly, then the same sums.
  void (*attn_scores_f16)(const float* q, int64_t group, int64_t dim, const uint16_t* k,
                          int64_t stride, int64_t n, float scale, float* scores, int64_t s_stride);
  void (*attn_values_f16)(const float* w, int64_t w_stride, int64_t group, int64_t dim,
                          const uint16_t* v, int64_t stride, int64_t n, float* out);
  // y[i] = x[i] as a half float, rounded to nearest even (what an F16 KV cache stores).
  void (*to_f16)(const float* x, uint16_t* y, int64_t n);
};

// The tables themselves (constant-initialized data, no code runs before dispatch).
extern const KernelTable kGenericKernels;
extern const KernelTable kAvx2Kernels;
extern const KernelTable kAvx512Kernels;
extern const KernelTable kAvx512Bf16Kernels;  // kAvx512Kernels plus AVX512-BF16 products
extern const KernelTable kAmxKernels;

}  // namespace hearth::cpu
