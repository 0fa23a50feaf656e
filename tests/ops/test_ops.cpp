// Row-wise ops (rmsnorm, silu_mul, add, softmax) of every ISA level against the double
// references, rope against hand-derived rotations, get_rows against dequantize_row.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "backends/cpu/dispatch.h"
#include "core/dtype.h"
#include "core/error.h"
#include "ops/ops.h"
#include "ops/quant.h"
#include "random_util.h"

using namespace hearth;
using hearth::cpu::Isa;
using hearth::testing::make_rng;
using hearth::testing::seed_note;
using hearth::testing::uniform;

namespace {

// Lengths around every SIMD width (8, 16 floats) and their unrolled multiples.
const int64_t kLengths[] = {1, 3, 8, 15, 16, 17, 31, 64, 100, 1000, 4099};

// Float ops differ from the double references by float32 rounding of a few operations per
// element (and, for exp, a polynomial accurate to a few ulp): 1e-6 relative is ~8 ulp.
constexpr double kRel = 1e-6;

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel,
                  double abs_floor, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), rel * std::fabs(want[i]) + abs_floor)
        << what << " element " << i << ": got " << got[i] << ", want " << want[i];
}

class RowOps : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << cpu::isa_name(GetParam());
    table_ = &cpu::kernels_for(GetParam());
  }
  const cpu::KernelTable* table_ = nullptr;
};

// Attention's inner loops against double-precision sums (float32 accumulation of n terms of
// size <= 1: error well under n * 2^-24 * sum|a b|).
TEST_P(RowOps, DotAndAxpy) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("dot") + table_->name);
  for (int64_t n : kLengths) {
    const auto a = uniform(rng, static_cast<size_t>(n));
    const auto b = uniform(rng, static_cast<size_t>(n));
    double want = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) want += static_cast<double>(a[i]) * b[i], mag += std::fabs(a[i] * b[i]);
    EXPECT_NEAR(table_->dot(a.data(), b.data(), n), want, 1e-6 * mag + 1e-30) << "dot n=" << n;
    auto y = b;
    std::vector<float> ref(y.size());
    for (int64_t i = 0; i < n; ++i) ref[i] = static_cast<float>(b[i] + 0.75 * static_cast<double>(a[i]));
    table_->axpy(0.75f, a.data(), y.data(), n);
    expect_close(y, ref, 2 * kRel, 1e-7, "axpy n=" + std::to_string(n));
  }
}

// The run kernels of attention against plain double loops, for head sizes on and off the
// 16-lane fast path, GQA groups and strided rows.
TEST_P(RowOps, AttentionRuns) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("attn") + table_->name);
  for (int64_t dim : {8, 24, 64, 128, 256}) {
    for (int64_t group : {1, 4, 6, 8})
    for (int64_t n : {1, 13, 16}) {
      const int64_t stride = dim * 3, s_stride = n + 5;
      const auto q = uniform(rng, static_cast<size_t>(group * dim));
      const auto kv = uniform(rng, static_cast<size_t>(n * stride));
      std::vector<float> scores(static_cast<size_t>(group * s_stride), 0.0f);
      table_->attn_scores(q.data(), group, dim, kv.data(), stride, n, 0.125f, scores.data(), s_stride);
      for (int64_t g = 0; g < group; ++g)
        for (int64_t p = 0; p < n; ++p) {
          double want = 0, mag = 0;
          for (int64_t i = 0; i < dim; ++i) {
            want += 0.125 * q[g * dim + i] * kv[p * stride + i];
            mag += std::fabs(0.125 * q[g * dim + i] * kv[p * stride + i]);
          }
          ASSERT_NEAR(scores[g * s_stride + p], want, 1e-6 * mag + 1e-12) << "dim " << dim << " g " << g << " p " << p;
        }
      const auto w = uniform(rng, static_cast<size_t>(group * s_stride));
      auto out = uniform(rng, static_cast<size_t>(group * dim));
      std::vector<double> want(out.begin(), out.end());
      for (int64_t g = 0; g < group; ++g)
        for (int64_t p = 0; p < n; ++p)
          for (int64_t i = 0; i < dim; ++i) want[g * dim + i] += static_cast<double>(w[g * s_stride + p]) * kv[p * stride + i];
      table_->attn_values(w.data(), s_stride, group, dim, kv.data(), stride, n, out.data());
      for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-5) << "dim " << dim << " i " << i;
    }
  }
}

// The same runs over half-float keys and values (an F16 KV cache): against the double loops
// over the widened values, so the tolerance is the float kernels'. Head sizes past the AVX2
// level's 256-float widening chunk too.
TEST_P(RowOps, AttentionRunsOverHalfFloats) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("attn_f16") + table_->name);
  for (int64_t dim : {8, 24, 64, 128, 300}) {
    for (int64_t group : {1, 4, 6})
    for (int64_t n : {1, 13, 16}) {
      const int64_t stride = dim * 3, s_stride = n + 5;
      const auto q = uniform(rng, static_cast<size_t>(group * dim));
      const auto src = uniform(rng, static_cast<size_t>(n * stride));
      std::vector<uint16_t> kv(src.size());
      std::vector<double> wide(src.size());
      for (size_t i = 0; i < src.size(); ++i) kv[i] = fp32_to_fp16(src[i]), wide[i] = fp16_to_fp32(kv[i]);
      std::vector<float> scores(static_cast<size_t>(group * s_stride), 0.0f);
      table_->attn_scores_f16(q.data(), group, dim, kv.data(), stride, n, 0.125f, scores.data(), s_stride);
      for (int64_t g = 0; g < group; ++g)
        for (int64_t p = 0; p < n; ++p) {
          double want = 0, mag = 0;
          for (int64_t i = 0; i < dim; ++i) {
            want += 0.125 * q[g * dim + i] * wide[p * stride + i];
            mag += std::fabs(0.125 * q[g * dim + i] * wide[p * stride + i]);
          }
          ASSERT_NEAR(scores[g * s_stride + p], want, 1e-6 * mag + 1e-12) << "dim " << dim << " g " << g << " p " << p;
        }
      const auto w = uniform(rng, static_cast<size_t>(group * s_stride));
      auto out = uniform(rng, static_cast<size_t>(group * dim));
      std::vector<double> want(out.begin(), out.end());
      for (int64_t g = 0; g < group; ++g)
        for (int64_t p = 0; p < n; ++p)
          for (int64_t i = 0; i < dim; ++i) want[g * dim + i] += static_cast<double>(w[g * s_stride + p]) * wide[p * stride + i];
      table_->attn_values_f16(w.data(), s_stride, group, dim, kv.data(), stride, n, out.data());
      for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-5) << "dim " << dim << " i " << i;
    }
  }
}

// The F16 cache's store conversion: bit for bit the scalar IEEE conversion (nearest, ties to
// even; overflow to infinity; subnormals), at every length around the vector widths.
TEST_P(RowOps, ToF16IsTheIeeeConversion) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("to_f16") + table_->name);
  const float specials[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65504.0f, 65519.0f, 65520.0f,
                            -1e9f, 0x1p-24f, 0x1p-25f, 3 * 0x1p-26f, -0.0f, 6.1e-5f};
  for (int64_t n : kLengths) {
    auto x = uniform(rng, static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      if (i % 5 == 0) x[i] = specials[(i / 5) % std::size(specials)];
      if (i % 7 == 3) x[i] *= 3000.0f;
    }
    std::vector<uint16_t> y(static_cast<size_t>(n) + 1, 0xABCD);
    table_->to_f16(x.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], fp32_to_fp16(x[i])) << "n " << n << " x " << x[i];
    EXPECT_EQ(y[n], 0xABCD) << "wrote past the end, n " << n;
  }
}

TEST_P(RowOps, RmsNorm) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("rmsnorm") + table_->name);
  for (int64_t n : kLengths) {
    const auto x = uniform(rng, static_cast<size_t>(n), -4.0f, 4.0f);
    const auto w = uniform(rng, static_cast<size_t>(n), 0.5f, 1.5f);
    std::vector<float> y(x.size()), ref(x.size());
    table_->rmsnorm_row(x.data(), w.data(), y.data(), n, 1e-5f);
    ops::ref::rmsnorm(x.data(), w.data(), ref.data(), 1, n, 1e-5f);
    expect_close(y, ref, 4 * kRel, 1e-7, "rmsnorm n=" + std::to_string(n));
    // In place (y aliases x).
    auto inplace = x;
    table_->rmsnorm_row(inplace.data(), w.data(), inplace.data(), n, 1e-5f);
    EXPECT_EQ(inplace, y);
  }
}

TEST_P(RowOps, SiluMul) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("silu") + table_->name);
  for (int64_t n : kLengths) {
    // Gates over the range where exp over/underflows too (|g| up to 100).
    auto gate = uniform(rng, static_cast<size_t>(n), -12.0f, 12.0f);
    if (n > 4) gate[1] = 100.0f, gate[2] = -100.0f, gate[3] = 0.0f;
    const auto up = uniform(rng, static_cast<size_t>(n), -2.0f, 2.0f);
    std::vector<float> out(gate.size()), ref(gate.size());
    table_->silu_mul(gate.data(), up.data(), out.data(), n);
    ops::ref::silu_mul(gate.data(), up.data(), ref.data(), n);
    // silu(g) for very negative g is ~g*e^g: tiny; compare those with an absolute floor.
    expect_close(out, ref, 4 * kRel, 1e-30, "silu_mul n=" + std::to_string(n));
  }
}

TEST_P(RowOps, Add) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("add") + table_->name);
  for (int64_t n : kLengths) {
    auto acc = uniform(rng, static_cast<size_t>(n));
    const auto x = uniform(rng, static_cast<size_t>(n));
    auto ref = acc;
    table_->add(acc.data(), x.data(), n);
    ops::ref::add_inplace(ref.data(), x.data(), n);
    EXPECT_EQ(acc, ref);  // one float add per element: exact agreement
  }
}

TEST_P(RowOps, Softmax) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng(std::string("softmax") + table_->name);
  for (int64_t n : kLengths) {
    auto x = uniform(rng, static_cast<size_t>(n), -30.0f, 30.0f);
    if (n > 2) x[n / 2] = -INFINITY;  // a masked position
    auto ref = x;
    table_->softmax(x.data(), n);
    ops::ref::softmax_inplace(ref.data(), n);
    expect_close(x, ref, 8 * kRel, 1e-30, "softmax n=" + std::to_string(n));
  }
  // Large logits must not overflow: the max is subtracted first.
  std::vector<float> big = {1000.0f, 1000.0f, 999.0f};
  table_->softmax(big.data(), 3);
  EXPECT_NEAR(big[0], 1.0 / (2.0 + std::exp(-1.0)), 1e-6);
  // All masked: uniform.
  std::vector<float> masked(5, -INFINITY);
  table_->softmax(masked.data(), 5);
  for (float v : masked) EXPECT_FLOAT_EQ(v, 0.2f);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, RowOps, ::testing::Values(Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx),
                         [](const auto& info) { return std::string(cpu::isa_name(info.param)); });

// ---------------------------------------------------------------- rope

TEST(Rope, HandDerivedRotations) {
  // Two pairs rotated by pos * inv_freq = 90 and 180 degrees.
  const float inv_freq[2] = {std::numbers::pi_v<float> / 2, std::numbers::pi_v<float>};
  const int32_t pos[2] = {1, 0};  // second token at position 0: identity
  // Interleaved pairs (0,1), (2,3): (1,0) -> (0,1); (0,1) -> (0,-1).
  std::vector<float> x = {1, 0, 0, 1, /* token 1 */ 5, 6, 7, 8};
  ops::rope(x.data(), 2, 1, 4, 4, pos, inv_freq, ops::RopeMode::Interleaved);
  const std::vector<float> want_interleaved = {0, 1, 0, -1, 5, 6, 7, 8};
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], want_interleaved[i], 1e-6) << i;
  // NeoX pairs (0,2), (1,3): (x0,x2) = (1,0) -> (0,1); (x1,x3) = (0,1) -> (0,-1).
  x = {1, 0, 0, 1, 5, 6, 7, 8};
  ops::rope(x.data(), 2, 1, 4, 4, pos, inv_freq, ops::RopeMode::Neox);
  const std::vector<float> want_neox = {0, 0, 1, -1, 5, 6, 7, 8};
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], want_neox[i], 1e-6) << i;
  // Partial rotation: rot_dim 2 of head_dim 4 rotates dims 0,1 only (both modes), two heads.
  x = {1, 0, 3, 4, 0, 2, 3, 4};
  ops::rope(x.data(), 1, 2, 4, 2, pos, inv_freq, ops::RopeMode::Neox);
  const std::vector<float> want_partial = {0, 1, 3, 4, -2, 0, 3, 4};
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], want_partial[i], 1e-6) << i;
}

TEST(Rope, MatchesReference) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("rope");
  const int64_t n_tokens = 5, n_heads = 3, head_dim = 64;
  std::vector<float> inv_freq(32);
  for (int i = 0; i < 32; ++i) inv_freq[i] = std::pow(10000.0f, -2.0f * i / 64);
  const int32_t pos[5] = {0, 1, 7, 100, 4095};
  for (auto mode : {ops::RopeMode::Interleaved, ops::RopeMode::Neox}) {
    for (int64_t rot : {64, 32}) {
      auto x = uniform(rng, static_cast<size_t>(n_tokens * n_heads * head_dim));
      auto ref = x;
      ops::rope(x.data(), n_tokens, n_heads, head_dim, rot, pos, inv_freq.data(), mode);
      ops::ref::rope(ref.data(), n_tokens, n_heads, head_dim, rot, pos, inv_freq.data(), mode);
      expect_close(x, ref, 0, 1e-6, "rope");
    }
  }
}

TEST(Rope, RejectsOddOrOversizedRotation) {
  std::vector<float> x(8);
  const float f[4] = {1, 1, 1, 1};
  const int32_t pos[1] = {0};
  EXPECT_THROW(ops::rope(x.data(), 1, 1, 8, 3, pos, f, ops::RopeMode::Neox), Error);
  EXPECT_THROW(ops::rope(x.data(), 1, 1, 4, 8, pos, f, ops::RopeMode::Neox), Error);
}

// ---------------------------------------------------------------- front ends

TEST(FrontEnds, RmsNormManyRowsAndSoftmax) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("front ends");
  const auto x = uniform(rng, 3 * 96);
  const auto w = uniform(rng, 96, 0.5f, 1.5f);
  std::vector<float> y(x.size()), ref(x.size());
  ops::rmsnorm(x.data(), w.data(), y.data(), 3, 96, 1e-6f);
  ops::ref::rmsnorm(x.data(), w.data(), ref.data(), 3, 96, 1e-6f);
  expect_close(y, ref, 4 * kRel, 1e-7, "rmsnorm");
  auto g = uniform(rng, 50), u = uniform(rng, 50);
  std::vector<float> s(50), sref(50);
  ops::silu_mul(g.data(), u.data(), s.data(), 50);
  ops::ref::silu_mul(g.data(), u.data(), sref.data(), 50);
  expect_close(s, sref, 4 * kRel, 1e-30, "silu_mul");
  ops::silu_mul(g.data(), u.data(), g.data(), 50);  // out aliases gate
  EXPECT_EQ(g, s);
}

TEST(FrontEnds, GetRowsDecodesTheRequestedRows) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("get_rows");
  const int64_t rows = 10, cols = 64;
  const auto values = uniform(rng, rows * cols);
  std::vector<uint8_t> bytes(static_cast<size_t>(rows * dtype_row_bytes(DType::Q8_0, cols)));
  for (int64_t r = 0; r < rows; ++r)
    ops::quantize_row(DType::Q8_0, values.data() + r * cols, bytes.data() + r * 68, cols);
  TensorView table{"token_embd.weight", DType::Q8_0, {rows, cols}, bytes.data(), bytes.size()};
  const int32_t ids[3] = {9, 0, 9};
  std::vector<float> out(3 * cols), want(cols);
  ops::get_rows(table, ids, 3, out.data());
  for (int t = 0; t < 3; ++t) {
    ops::dequantize_row(DType::Q8_0, bytes.data() + ids[t] * 68, want.data(), cols);
    for (int64_t i = 0; i < cols; ++i) ASSERT_EQ(out[t * cols + i], want[i]);
  }
  const int32_t bad[1] = {10};
  EXPECT_THROW(ops::get_rows(table, bad, 1, out.data()), Error);
  const int32_t negative[1] = {-1};
  EXPECT_THROW(ops::get_rows(table, negative, 1, out.data()), Error);
}

}  // namespace
