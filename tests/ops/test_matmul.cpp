// Every matmul kernel (each ISA level this CPU runs x each weight type) against the scalar
// reference, on fresh random data each run, over shapes with ragged tails, odd row counts
// that split unevenly over threads, and token counts around the 4-token tile.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/packed.h"
#include "backends/cpu/x86_avx512_bf16/avx512_bf16_kernels.h"
#include "core/error.h"
#include "ops/ops.h"
#include "ops/quant.h"
#include "random_util.h"

// Counts plain heap allocations so a test can check that steady-state matmul calls make none.
static std::atomic<long> g_heap_allocations{0};
void* operator new(std::size_t n) {
  ++g_heap_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace hearth;
using hearth::cpu::Isa;
using hearth::testing::make_rng;
using hearth::testing::seed_note;
using hearth::testing::uniform;

namespace {

// Allowed error of an output, relative to that output's natural scale
// sqrt(sum_i (w_i x_i)^2) (what the sum would be if the terms did not cancel in sign).
//  * F32/F16/BF16: the weights decode exactly, so only float32 accumulation differs from the
//    double reference: about sqrt(cols) * 2^-24 of the scale for cols <= 1000; 2e-5 leaves
//    a wide margin yet catches any wrong element (which moves the output by ~1/sqrt(cols)).
//  * Quantized types: the activations are quantized to int8 per block with step
//    d = amax/127, an error uniform in +-d/2 (rms d/sqrt(12)) per element. For x uniform in
//    [-1, 1] (amax ~ 1, rms 0.577) the output error has rms 0.0039 of the scale; the
//    largest of up to 512 outputs per case stays under ~4.5 sigma = 1.8%. 3% (7.7 sigma)
//    never fires by chance, while a dropped or misplaced block of 32 moves an output by
//    sqrt(32/cols) >= 24% of its scale at the widest row tested.
double tolerance(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      return 2e-5;
    default:
      return 0.03;
  }
}

// Different ISA levels run the same algorithm (same activation quantization, exact integer
// block sums); only the float summation order differs, so they agree to float rounding.
constexpr double kCrossIsaTolerance = 2e-5;

// Batches against BF16 weights on AVX512-BF16 (vdpbf16ps) round the activations to bf16:
// x(1 + e) with e uniform within +-2^-9, so an output errs by sum_i w_i x_i e_i, rms
// 2^-9 / sqrt(3) = 0.11% of its scale; 1.2% (~10 sigma) never fires by chance, while a lost
// pair of columns moves an output by >= sqrt(2 / cols) = 6% at the widest row tested, and a
// lost odd last column by all of it at one column.
constexpr double kBf16ActivationTolerance = 0.012;

bool rounds_activations_to_bf16(const cpu::KernelTable& table, DType type, int64_t n_tokens) {
  if (type != DType::BF16) return false;
  const cpu::GemmKernel* g = cpu::gemm_for(cpu::matmul_kernel(table, type), n_tokens);
  return g != nullptr && g->fn == cpu::avx512_bf16::gemm_bf16_dot;
}

// The tolerance against the reference (and against another path) of one call.
double tolerance(const cpu::KernelTable& table, DType type, int64_t n_tokens) {
  return rounds_activations_to_bf16(table, type, n_tokens) ? kBf16ActivationTolerance : tolerance(type);
}
double cross_tolerance(const cpu::KernelTable& table, DType type, int64_t n_tokens) {
  return rounds_activations_to_bf16(table, type, n_tokens) ? kBf16ActivationTolerance : kCrossIsaTolerance;
}

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> decoded;  // what the reference sees
  TensorView view;
};

Weights make_weights(DType t, int64_t rows, int64_t cols, std::mt19937_64& rng) {
  Weights w;
  const auto values = uniform(rng, static_cast<size_t>(rows * cols));
  const int64_t row_bytes = dtype_row_bytes(t, cols);
  w.bytes.resize(static_cast<size_t>(rows * row_bytes));
  w.decoded.resize(values.size());
  for (int64_t r = 0; r < rows; ++r) {
    ops::quantize_row(t, values.data() + r * cols, w.bytes.data() + r * row_bytes, cols);
    ops::dequantize_row(t, w.bytes.data() + r * row_bytes, w.decoded.data() + r * cols, cols);
  }
  w.view.name = "w";
  w.view.dtype = t;
  w.view.shape = {rows, cols};
  w.view.data = w.bytes.data();
  w.view.nbytes = w.bytes.size();
  return w;
}

// The natural scale of output (token t, row o): sqrt(sum_i (w_oi x_ti)^2), see tolerance().
double output_scale(const Weights& w, const float* x, int64_t cols, int64_t t, int64_t o) {
  double scale2 = 0;
  for (int64_t i = 0; i < cols; ++i) {
    const double p = static_cast<double>(w.decoded[o * cols + i]) * x[t * cols + i];
    scale2 += p * p;
  }
  return std::sqrt(scale2) + 1e-30;
}

std::vector<int64_t> widths(DType t) {
  switch (t) {
    case DType::Q4_K:
    case DType::Q6_K:
      return {256, 512, 768};
    case DType::Q8_0:
    case DType::Q4_0:
      return {32, 256, 544};  // 544 = 17 blocks: not a multiple of 64 or 256
    default:
      return {1, 7, 32, 33, 256, 544, 1000};  // tails of every SIMD width
  }
}

class MatmulKernels : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(MatmulKernels, MatchReference) {
  const auto [isa, type] = GetParam();
  if (!cpu::isa_supported(isa)) GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(isa);
  const cpu::KernelTable& table = cpu::kernels_for(isa);
  const cpu::KernelTable& generic = cpu::kernels_for(Isa::Generic);
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string(cpu::isa_name(isa)) + dtype_name(type));
  ThreadPool pool(3);  // odd thread count: uneven chunks

  for (int64_t cols : widths(type)) {
    for (int64_t rows : {1, 3, 17, 64}) {
      const Weights w = make_weights(type, rows, cols, rng);
      for (int64_t n_tokens : {1, 2, 5, 8}) {
        SCOPED_TRACE(::testing::Message() << dtype_name(type) << " on " << table.name << ": rows "
                                          << rows << " cols " << cols << " tokens " << n_tokens);
        const auto x = uniform(rng, static_cast<size_t>(n_tokens * cols));
        std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN), ref(y.size()),
            base(y.size(), NAN);
        cpu::matmul(table, w.view, x.data(), n_tokens, y.data(), pool);
        ops::ref::matmul(w.view, x.data(), n_tokens, ref.data());
        if (isa != Isa::Generic)
          cpu::matmul(generic, w.view, x.data(), n_tokens, base.data(), pool);
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t o = 0; o < rows; ++o) {
            const double scale = output_scale(w, x.data(), cols, t, o);
            const size_t k = static_cast<size_t>(t * rows + o);
            ASSERT_LE(std::fabs(y[k] - ref[k]) / scale, tolerance(type))
                << "token " << t << " row " << o << ": got " << y[k] << ", reference " << ref[k];
            if (isa != Isa::Generic)
              ASSERT_LE(std::fabs(y[k] - base[k]) / scale, kCrossIsaTolerance)
                  << "token " << t << " row " << o << ": got " << y[k] << ", generic " << base[k];
          }
        }
      }
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<Isa, DType>>& info) {
  return std::string(cpu::isa_name(std::get<0>(info.param))) + "_" +
         dtype_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllIsasAllTypes, MatmulKernels,
                         ::testing::Combine(::testing::Values(Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx),
                                            ::testing::Values(DType::F32, DType::F16, DType::BF16,
                                                              DType::Q8_0, DType::Q4_0, DType::Q4_K,
                                                              DType::Q6_K)),
                         param_name);

// The 16-row interleaved layout (backends/cpu/packed.h): packing then unpacking gives the
// file's bytes back, and every level's matmul on a packed matrix (AVX-512's interleaved
// kernel; the others unpack rows) matches the reference on the unpacked one and the same
// level on the plain rows. Row counts cover one group, a pair and an odd group count; token
// counts cover every remainder of the 4-token tile and a multi-tile batch.
class InterleavedMatmul : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(InterleavedMatmul, MatchesReferenceAndPlainRows) {
  const auto [isa, type] = GetParam();
  if (!cpu::isa_supported(isa)) GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(isa);
  const cpu::KernelTable& table = cpu::kernels_for(isa);
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("packed") + cpu::isa_name(isa) + dtype_name(type));
  ThreadPool pool(3);
  std::vector<int64_t> all_cols{1, 7, 33, 544};  // F16 / BF16: any width
  if (type == DType::Q8_0 || type == DType::Q4_0) all_cols = {32, 544, 2048};
  if (type == DType::Q4_K) all_cols = {256, 768, 2048};
  for (int64_t cols : all_cols) {
    for (int64_t rows : {16, 32, 48, 80}) {
      const Weights w = make_weights(type, rows, cols, rng);
      std::vector<uint8_t> packed(w.bytes.size()), unpacked(w.bytes.size());
      cpu::pack_rows16(type, w.bytes.data(), rows, cols, packed.data());
      cpu::unpack_rows16(type, packed.data(), cols, 0, rows, unpacked.data());
      ASSERT_EQ(unpacked, w.bytes) << "pack then unpack must give the file's bytes back";
      TensorView pv = w.view;
      pv.data = packed.data();
      pv.layout = RowLayout::Interleaved16;
      for (int64_t n_tokens : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 27, 33}) {
        SCOPED_TRACE(::testing::Message() << dtype_name(type) << " on " << table.name << ": rows "
                                          << rows << " cols " << cols << " tokens " << n_tokens);
        const auto x = uniform(rng, static_cast<size_t>(n_tokens * cols));
        std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN), ref(y.size()),
            plain(y.size(), NAN), ref_packed(y.size());
        cpu::matmul(table, pv, x.data(), n_tokens, y.data(), pool);
        cpu::matmul(table, w.view, x.data(), n_tokens, plain.data(), pool);
        ops::ref::matmul(w.view, x.data(), n_tokens, ref.data());
        ops::ref::matmul(pv, x.data(), n_tokens, ref_packed.data());
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t o = 0; o < rows; ++o) {
            const double scale = output_scale(w, x.data(), cols, t, o);
            const size_t k = static_cast<size_t>(t * rows + o);
            ASSERT_EQ(ref_packed[k], ref[k]) << "the reference reads packed rows back exactly";
            ASSERT_LE(std::fabs(y[k] - ref[k]) / scale, tolerance(table, type, n_tokens))
                << "token " << t << " row " << o << ": got " << y[k] << ", reference " << ref[k];
            ASSERT_LE(std::fabs(y[k] - plain[k]) / scale, cross_tolerance(table, type, n_tokens))
                << "token " << t << " row " << o << ": got " << y[k] << ", plain rows " << plain[k];
          }
        }
        // On AVX-512, the int8 tiles of any token count do one token's operations in its
        // order: a token's outputs must not depend on the batch it is stepped in.
        if (table.isa == Isa::Avx512 && dtype_info(type).quantized && n_tokens > 1) {
          std::vector<float> one(static_cast<size_t>(rows));
          for (int64_t t = 0; t < n_tokens; ++t) {
            cpu::matmul(table, pv, x.data() + t * cols, 1, one.data(), pool);
            for (int64_t o = 0; o < rows; ++o)
              ASSERT_EQ(one[static_cast<size_t>(o)], y[static_cast<size_t>(t * rows + o)])
                  << "token " << t << " row " << o << " alone differs from it in a batch of " << n_tokens;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, InterleavedMatmul,
                         ::testing::Combine(::testing::Values(Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx),
                                            ::testing::Values(DType::Q8_0, DType::Q4_0, DType::Q4_K,
                                                              DType::F16, DType::BF16)),
                         param_name);

// The tile paths (AMX: int8 tiles for batches, bf16 tiles for prompts and float weights) on
// interleaved weights, at token counts on both sides of each path's threshold and of the
// 16- and 32-token tiles: within the reference tolerance, and the int8 path bit for bit the
// single-token kernel's output for every token (a sequence's output must not depend on the
// batch it is stepped in).
class TiledMatmul : public ::testing::TestWithParam<DType> {};

TEST_P(TiledMatmul, MatchesReferenceAndSingleTokens) {
  const DType type = GetParam();
  if (!cpu::isa_supported(Isa::Amx)) GTEST_SKIP() << "this CPU lacks amx";
  const cpu::KernelTable& table = cpu::kernels_for(Isa::Amx);
  const cpu::MatmulKernel& kernel = cpu::matmul_kernel(table, type);
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("tiled") + dtype_name(type));
  ThreadPool pool(3);
  const bool quantized = type == DType::Q8_0 || type == DType::Q4_0 || type == DType::Q4_K;
  const int64_t cols = type == DType::Q4_K ? 768 : type == DType::F16 || type == DType::BF16 ? 531 : 544;
  for (int64_t rows : {16, 48}) {
    const Weights w = make_weights(type, rows, cols, rng);
    std::vector<uint8_t> packed(w.bytes.size());
    cpu::pack_rows16(type, w.bytes.data(), rows, cols, packed.data());
    TensorView pv = w.view;
    pv.data = packed.data();
    pv.layout = RowLayout::Interleaved16;
    for (int64_t n_tokens : {6, 8, 12, 16, 17, 32, 33, 63, 64, 65, 130}) {
      const cpu::GemmKernel* gemm = cpu::gemm_for(kernel, n_tokens);
      const bool exact = gemm != nullptr && std::string(gemm->method).find("int8") != std::string::npos;
      SCOPED_TRACE(::testing::Message() << dtype_name(type) << ": rows " << rows << " tokens "
                                        << n_tokens << " via " << (gemm ? gemm->method : "rows"));
      const auto x = uniform(rng, static_cast<size_t>(n_tokens * cols));
      std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN), ref(y.size()),
          single(static_cast<size_t>(rows));
      cpu::matmul(table, pv, x.data(), n_tokens, y.data(), pool);
      ops::ref::matmul(w.view, x.data(), n_tokens, ref.data());
      for (int64_t t = 0; t < n_tokens; ++t) {
        if (exact) cpu::matmul(table, pv, x.data() + t * cols, 1, single.data(), pool);
        for (int64_t o = 0; o < rows; ++o) {
          const double scale = output_scale(w, x.data(), cols, t, o);
          const size_t k = static_cast<size_t>(t * rows + o);
          ASSERT_LE(std::fabs(y[k] - ref[k]) / scale, tolerance(type))
              << "token " << t << " row " << o << ": got " << y[k] << ", reference " << ref[k];
          if (exact)
            ASSERT_EQ(y[k], single[o]) << "token " << t << " row " << o << " differs from one token";
        }
      }
    }
  }
  // Both tile paths of each quantized type and the float types' path must have been taken.
  if (quantized) {
    ASSERT_NE(cpu::gemm_for(kernel, 16), nullptr);
    EXPECT_NE(std::string(cpu::gemm_for(kernel, 16)->method).find("int8"), std::string::npos);
    EXPECT_NE(std::string(cpu::gemm_for(kernel, 130)->method).find("bf16"), std::string::npos);
  } else {
    ASSERT_NE(cpu::gemm_for(kernel, 16), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(Amx, TiledMatmul,
                         ::testing::Values(DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::F16,
                                           DType::BF16),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

// Several matrices of one input in one call (a layer's Wq, Wk, Wv): on every level, bit for
// bit what separate calls give, whether the call fuses them (one type and width, all
// interleaved: odd group counts make the thread chunks straddle matrices) or falls back to one
// call each (plain rows, or mixed types).
class SharedInputMatmul : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(SharedInputMatmul, EqualsSeparateCalls) {
  const auto [isa, type] = GetParam();
  if (!cpu::isa_supported(isa)) GTEST_SKIP() << "this CPU lacks " << cpu::isa_name(isa);
  const cpu::KernelTable& table = cpu::kernels_for(isa);
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("shared") + cpu::isa_name(isa) + dtype_name(type));
  ThreadPool pool(3);
  const int64_t cols = type == DType::Q4_K ? 512 : 544;
  struct Matrix {
    Weights w;
    std::vector<uint8_t> packed;
    TensorView view;
  };
  std::vector<Matrix> ms;
  for (int64_t rows : {48, 16, 80}) {  // 3, 1 and 5 row groups
    Matrix m{make_weights(type, rows, cols, rng), {}, {}};
    m.packed.resize(m.w.bytes.size());
    cpu::pack_rows16(type, m.w.bytes.data(), rows, cols, m.packed.data());
    m.view = m.w.view;
    m.view.data = m.packed.data();
    m.view.layout = RowLayout::Interleaved16;
    ms.push_back(std::move(m));
  }
  const Weights other = make_weights(type == DType::F16 ? DType::BF16 : DType::F16, 32, cols, rng);
  for (int64_t n_tokens : {1, 3, 12, 16, 33, 70}) {
    const auto x = uniform(rng, static_cast<size_t>(n_tokens * cols));
    for (int variant = 0; variant < 3; ++variant) {  // fused, plain rows, mixed types
      SCOPED_TRACE(::testing::Message() << dtype_name(type) << " on " << table.name << ": tokens "
                                        << n_tokens << " variant " << variant);
      std::vector<const TensorView*> views;
      for (const Matrix& m : ms) views.push_back(variant == 1 ? &m.w.view : &m.view);
      if (variant == 2) views.push_back(&other.view);
      std::vector<std::vector<float>> fused(views.size()), separate(views.size());
      std::vector<MatmulOutput> outs;
      for (size_t i = 0; i < views.size(); ++i) {
        fused[i].assign(static_cast<size_t>(n_tokens * views[i]->rows()), NAN);
        separate[i].assign(fused[i].size(), NAN);
        outs.push_back({views[i], fused[i].data()});
        cpu::matmul(table, *views[i], x.data(), n_tokens, separate[i].data(), pool);
      }
      cpu::matmul_shared_input(table, outs, x.data(), n_tokens, pool);
      for (size_t i = 0; i < views.size(); ++i)
        for (size_t k = 0; k < fused[i].size(); ++k)
          ASSERT_EQ(fused[i][k], separate[i][k]) << "matrix " << i << " output " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, SharedInputMatmul,
                         ::testing::Combine(::testing::Values(Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx),
                                            ::testing::Values(DType::Q8_0, DType::Q4_0, DType::Q4_K,
                                                              DType::F16, DType::BF16)),
                         param_name);

TEST(InterleavedMatmul, WhichMatricesArePackable) {
  EXPECT_TRUE(cpu::packable(DType::Q8_0, 32, 64));
  EXPECT_TRUE(cpu::packable(DType::Q4_0, 16, 32));
  EXPECT_TRUE(cpu::packable(DType::F16, 16, 7));
  EXPECT_TRUE(cpu::packable(DType::BF16, 48, 1));
  EXPECT_FALSE(cpu::packable(DType::Q8_0, 17, 64));  // not whole groups of 16 rows
  EXPECT_FALSE(cpu::packable(DType::F16, 8, 64));
  EXPECT_TRUE(cpu::packable(DType::Q4_K, 16, 256));
  EXPECT_FALSE(cpu::packable(DType::Q4_K, 16, 128));
  EXPECT_FALSE(cpu::packable(DType::Q6_K, 16, 256));
  EXPECT_FALSE(cpu::packable(DType::F32, 16, 64));
}

// A large enough product to take the threaded path of the front end (and the token-parallel
// activation quantization), through ops::matmul and whatever level is active here.
TEST(Matmul, FrontEndThreadedBatch) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("front end");
  ThreadPool pool(4);
  for (DType t : {DType::F16, DType::Q4_K}) {
    const Weights w = make_weights(t, 300, 1024, rng);
    const int64_t n_tokens = 70;
    const auto x = uniform(rng, static_cast<size_t>(n_tokens * 1024));
    std::vector<float> y(static_cast<size_t>(n_tokens * 300)), ref(y.size());
    ops::matmul(w.view, x.data(), n_tokens, y.data(), pool);
    ops::ref::matmul(w.view, x.data(), n_tokens, ref.data());
    double worst = 0;
    for (size_t k = 0; k < y.size(); ++k) {
      const double rel = std::fabs(y[k] - ref[k]) / (std::sqrt(1024.0) / 3);  // rms(w x) = 1/3
      worst = std::max(worst, rel);
    }
    EXPECT_LT(worst, tolerance(t)) << dtype_name(t);
  }
}

// The bf16 dot path's activations: each value rounded to nearest even (as fp32_to_bf16, the
// conversion the GGUF reader and quantize use), ties included, and an odd row padded with a
// zero partner for its last column.
TEST(Bf16Dot, ActivationsRoundToNearestEvenAndPad) {
  if (!cpu::has_avx512_bf16()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("bf16 pairs");
  for (int64_t cols : {1, 15, 32, 33, 100}) {
    const int64_t n_tokens = 3;
    std::vector<float> x = uniform(rng, static_cast<size_t>(n_tokens * cols));
    x[0] = 1.0f + 0x1p-8f;             // a tie: rounds down to the even 1.0
    x[x.size() - 1] = 1.0f + 0x3p-8f;  // a tie: rounds up to the even 1 + 2^-6
    const int64_t bytes = cpu::avx512_bf16::bf16_pair_act_bytes(n_tokens, cols);
    const int64_t stride = bytes / n_tokens;
    std::vector<uint8_t> act(static_cast<size_t>(bytes), 0xAB);
    cpu::avx512_bf16::prepare_bf16_pairs(x.data(), n_tokens, cols, 0, n_tokens, act.data());
    for (int64_t t = 0; t < n_tokens; ++t) {
      const auto* row = reinterpret_cast<const uint16_t*>(act.data() + t * stride);
      for (int64_t i = 0; i < cols; ++i)
        ASSERT_EQ(row[i], fp32_to_bf16(x[static_cast<size_t>(t * cols + i)])) << "cols " << cols << " token " << t << " column " << i;
      if (cols % 2 != 0) EXPECT_EQ(row[cols], 0) << "the odd column's partner must be zero";
    }
  }
}

// Batch-1 decoding calls matmul hundreds of times per token: after the first call has grown
// the activation scratch, calls must not touch the heap (threaded paths included).
TEST(Matmul, SteadyStateCallsDoNotAllocate) {
  std::mt19937_64 rng(7);
  ThreadPool pool(3);
  for (DType t : {DType::F16, DType::Q8_0, DType::Q4_K}) {
    const Weights w = make_weights(t, 96, 1024, rng);
    for (int64_t n_tokens : {1, 64}) {  // 64 x 1024 also quantizes the tokens in parallel
      const auto x = uniform(rng, static_cast<size_t>(n_tokens * 1024));
      std::vector<float> y(static_cast<size_t>(n_tokens * 96));
      ops::matmul(w.view, x.data(), n_tokens, y.data(), pool);  // warm-up may allocate
      const long before = g_heap_allocations.load();
      for (int i = 0; i < 5; ++i) ops::matmul(w.view, x.data(), n_tokens, y.data(), pool);
      EXPECT_EQ(g_heap_allocations.load() - before, 0) << dtype_name(t) << " x " << n_tokens;
    }
  }
}

// Float tensors in a memory-mapped file need not be aligned to their element size (e.g. a
// safetensors header of odd length): every kernel must read them with unaligned loads.
TEST(Matmul, UnalignedFloatWeights) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("unaligned");
  ThreadPool pool(1);
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    const Weights w = make_weights(t, 5, 37, rng);
    std::vector<uint8_t> shifted(w.bytes.size() + 1);
    std::memcpy(shifted.data() + 1, w.bytes.data(), w.bytes.size());
    TensorView view = w.view;
    view.data = shifted.data() + 1;
    const auto x = uniform(rng, 2 * 37);
    std::vector<float> ref(10), y(10);
    ops::ref::matmul(w.view, x.data(), 2, ref.data());
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
      if (!cpu::isa_supported(isa)) continue;
      cpu::matmul(cpu::kernels_for(isa), view, x.data(), 2, y.data(), pool);
      for (size_t k = 0; k < y.size(); ++k)
        EXPECT_NEAR(y[k], ref[k], 1e-5) << dtype_name(t) << " on " << cpu::isa_name(isa);
    }
  }
}

TEST(Matmul, RejectsBadWeights) {
  ThreadPool pool(1);
  std::vector<uint8_t> bytes(4096);
  std::vector<float> x(512), y(64);
  TensorView w;
  w.name = "blk.0.ffn_up.weight";
  w.data = bytes.data();
  w.nbytes = bytes.size();

  w.dtype = DType::I32;
  w.shape = {4, 16};
  EXPECT_THROW(ops::matmul(w, x.data(), 1, y.data(), pool), Error);

  w.dtype = DType::Q8_0;
  w.shape = {4, 48};  // not a multiple of 32
  EXPECT_THROW(ops::matmul(w, x.data(), 1, y.data(), pool), Error);

  w.shape = {64, 512};  // needs 64 * 544 bytes
  EXPECT_THROW(ops::matmul(w, x.data(), 1, y.data(), pool), Error);

  w.shape = {2, 32};
  w.data = bytes.data() + 1;  // blocks must be 2-byte aligned
  EXPECT_THROW(ops::matmul(w, x.data(), 1, y.data(), pool), Error);
}

TEST(Matmul, EmptyShapesAreNoOps) {
  ThreadPool pool(2);
  TensorView w;
  w.dtype = DType::F32;
  w.shape = {0, 16};
  std::vector<float> x(16), y(4, 5.0f);
  ops::matmul(w, x.data(), 1, y.data(), pool);
  EXPECT_EQ(y[0], 5.0f);
  w.shape = {4, 16};
  std::vector<float> data(64, 1.0f);
  w.data = data.data();
  w.nbytes = 256;
  ops::matmul(w, x.data(), 0, y.data(), pool);
  EXPECT_EQ(y[0], 5.0f);
}

TEST(Matmul, NonFiniteActivationsGiveNanNotGarbage) {
  // A NaN activation must not be hidden by the int8 activation quantization.
  ThreadPool pool(1);
  std::mt19937_64 rng(1);
  const Weights w = make_weights(DType::Q8_0, 2, 64, rng);
  std::vector<float> x(64, 0.5f), y(2);
  x[40] = NAN;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
    if (!cpu::isa_supported(isa)) continue;
    cpu::matmul(cpu::kernels_for(isa), w.view, x.data(), 1, y.data(), pool);
    EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1])) << cpu::isa_name(isa);
  }
}

TEST(Dispatch, HearthIsaCapsTheLevel) {
  EXPECT_EQ(cpu::choose_isa("generic"), Isa::Generic);
  const Isa best = cpu::choose_isa(nullptr);
  EXPECT_TRUE(cpu::isa_supported(best));
  // A request caps the level: it never raises it above what the CPU has.
  const auto capped = [best](Isa want) {
    return static_cast<int>(want) < static_cast<int>(best) ? want : best;
  };
  EXPECT_EQ(cpu::choose_isa("amx"), capped(Isa::Amx));
  EXPECT_EQ(cpu::choose_isa("avx512"), capped(Isa::Avx512));
  EXPECT_EQ(cpu::choose_isa("avx2"), capped(Isa::Avx2));
  EXPECT_EQ(cpu::choose_isa(""), best);
  EXPECT_THROW(cpu::choose_isa("sse9"), Error);
  EXPECT_NE(ops::kernel_report().find("Q4_K"), std::string::npos);
}

}  // namespace
