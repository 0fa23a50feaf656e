// Every CUDA op against its CPU reference (ops::ref), with a tolerance per weight type, and
// the whole Llama forward pass on the GPU (all layers, and a GPU/CPU split) against the CPU.
// Built only with the CUDA backend. Without a CUDA device every CudaOps test reports SKIPPED
// with the runtime's reason: nothing there counts as passed unless it ran on a GPU. Only
// CudaDecoders runs everywhere: the kernels' decoders compiled for the host.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backends/cuda/cuda_api.h"
#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "models/model.h"
#include "ops/attention.h"
#include "ops/ops.h"
#include "ops/quant.h"
#include "random_util.h"

using namespace hearth;
using hearth::testing::make_rng;
using hearth::testing::seed_note;
using hearth::testing::uniform;

namespace {

// Allowed error of a matmul output relative to its natural scale sqrt(sum_i (w_i x_i)^2):
//  * GEMV (up to kGemvMaxTokens tokens): weights decode exactly to float and activations stay
//    float, so only float summation order differs from the double reference: 2e-5, as the
//    CPU's float kernels.
//  * GEMM through cuBLAS: activations are rounded to F16 (BF16 for BF16 weights), relative
//    error up to 2^-11 (2^-8) per element, rms 2^-11/sqrt(3) = 2.8e-4 (2.3e-3) of the scale;
//    quantized weights are also rounded to F16 on the way (another 2.8e-4). The largest of a
//    few thousand outputs stays under ~5 sigma: 2e-3 (1.2e-2); the bounds allow twice that.
//    F32 weights go through SGEMM in float: 1e-4. A misplaced block of 32 moves an output by
//    sqrt(32/cols) >= 25% of its scale, far beyond every bound.
double gemv_tolerance(DType) { return 2e-5; }
double gemm_tolerance(DType t) {
  switch (t) {
    case DType::F32: return 1e-4;
    case DType::BF16: return 2.5e-2;
    default: return 4e-3;
  }
}

class CudaOps : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (cuda::list_devices(&why).empty()) GTEST_SKIP() << "no CUDA device: " << why;
    stream_ = std::make_unique<cuda::Stream>();
  }

  template <class T>
  cuda::DeviceBuffer to_device(const std::vector<T>& v) {
    cuda::DeviceBuffer b(std::max<size_t>(v.size(), 1) * sizeof(T));
    stream_->upload(b.get(), v.data(), v.size() * sizeof(T));
    return b;
  }
  template <class T>
  std::vector<T> to_host(const cuda::DeviceBuffer& b, size_t n) {
    std::vector<T> v(n);
    stream_->download(v.data(), b.get(), n * sizeof(T));
    stream_->synchronize();
    return v;
  }

  std::unique_ptr<cuda::Stream> stream_;
};

struct HostWeights {
  std::vector<uint8_t> bytes;
  TensorView view;
};

HostWeights make_weights(DType t, int64_t rows, int64_t cols, std::mt19937_64& rng) {
  HostWeights w;
  const auto values = uniform(rng, static_cast<size_t>(rows * cols));
  const int64_t row_bytes = dtype_row_bytes(t, cols);
  w.bytes.resize(static_cast<size_t>(rows * row_bytes));
  for (int64_t r = 0; r < rows; ++r)
    ops::quantize_row(t, values.data() + r * cols, w.bytes.data() + r * row_bytes, cols);
  w.view.dtype = t;
  w.view.shape = {rows, cols};
  w.view.data = w.bytes.data();
  w.view.nbytes = w.bytes.size();
  return w;
}

// Natural scale of output (t, o): sqrt(sum_i (w_i x_i)^2) over the decoded weights.
double output_scale(const TensorView& W, const float* x, int64_t t, int64_t o) {
  std::vector<float> row(static_cast<size_t>(W.cols()));
  ops::dequantize_row(W.dtype, static_cast<const uint8_t*>(W.data) + o * W.row_bytes(), row.data(),
                      W.cols());
  double s = 0;
  for (int64_t i = 0; i < W.cols(); ++i) {
    const double p = static_cast<double>(row[static_cast<size_t>(i)]) * x[t * W.cols() + i];
    s += p * p;
  }
  return std::sqrt(s) + 1e-30;
}

const DType kTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                        DType::Q4_0, DType::Q4_K, DType::Q6_K};

void check_matmul(CudaOps& self, cuda::Stream& stream, DType t, int64_t rows, int64_t cols,
                  int64_t n, double tol, bool gemv_only) {
  SCOPED_TRACE(std::string(dtype_name(t)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
               " n=" + std::to_string(n) + "; " + seed_note());
  auto rng = make_rng(std::string("cuda-matmul-") + dtype_name(t) + std::to_string(n));
  const HostWeights w = make_weights(t, rows, cols, rng);
  const auto x = uniform(rng, static_cast<size_t>(n * cols));
  std::vector<float> expected(static_cast<size_t>(n * rows));
  ops::ref::matmul(w.view, x.data(), n, expected.data());

  cuda::DeviceBuffer dw(w.bytes.size()), dx(x.size() * 4), dy(expected.size() * 4);
  stream.upload(dw.get(), w.bytes.data(), w.bytes.size());
  stream.upload(dx.get(), x.data(), x.size() * 4);
  const cuda::DeviceMatrix m{t, rows, cols, dw.get()};
  cuda::MatmulScratch scratch;
  if (gemv_only)
    cuda::gemv(m, dx.as<float>(), n, dy.as<float>(), stream);
  else
    cuda::matmul(m, dx.as<float>(), n, dy.as<float>(), scratch, stream);
  std::vector<float> y(expected.size());
  stream.download(y.data(), dy.get(), y.size() * 4);
  stream.synchronize();
  (void)self;
  for (int64_t tkn = 0; tkn < n; ++tkn)
    for (int64_t o = 0; o < rows; ++o) {
      const size_t i = static_cast<size_t>(tkn * rows + o);
      const double err = std::abs(static_cast<double>(y[i]) - expected[i]);
      ASSERT_LE(err / output_scale(w.view, x.data(), tkn, o), tol)
          << "token " << tkn << " row " << o << ": " << y[i] << " vs " << expected[i];
    }
}

// The kernels' decoders, run on the host (no GPU needed): every format decodes to exactly what
// the CPU's dequantize_row gives, for rows of several blocks and ragged plain rows.
TEST(CudaDecoders, MatchDequantizeRowOnTheHost) {
  auto rng = make_rng("cuda-decoders");
  SCOPED_TRACE(seed_note());
  for (DType t : kTypes) {
    for (int64_t cols : {int64_t{256}, int64_t{768}, int64_t{172}}) {
      if (cols % dtype_info(t).block_size != 0) continue;
      const HostWeights w = make_weights(t, 3, cols, rng);
      for (int64_t r = 0; r < 3; ++r) {
        const uint8_t* row = w.bytes.data() + r * w.view.row_bytes();
        std::vector<float> expected(static_cast<size_t>(cols)), got(expected.size(), -1.0f);
        ops::dequantize_row(t, row, expected.data(), cols);
        cuda::decode_row_on_host(t, row, cols, got.data());
        for (int64_t i = 0; i < cols; ++i)
          ASSERT_EQ(got[static_cast<size_t>(i)], expected[static_cast<size_t>(i)])
              << dtype_name(t) << " cols " << cols << " row " << r << " element " << i;
      }
    }
  }
}

TEST_F(CudaOps, GemvMatchesReferenceForEveryTypeAndSmallBatch) {
  for (DType t : kTypes) {
    const bool plain = !dtype_info(t).quantized;
    // Plain types get a ragged width (not a multiple of 32), as stories260K's FFN has.
    const int64_t cols = plain ? 172 : (dtype_info(t).block_size == 256 ? 512 : 160);
    for (int64_t n : {int64_t{1}, int64_t{3}, cuda::kGemvMaxTokens})
      check_matmul(*this, *stream_, t, 67, cols, n, gemv_tolerance(t), true);
  }
}

TEST_F(CudaOps, GemmMatchesReferenceForEveryType) {
  for (DType t : kTypes) {
    const int64_t cols = dtype_info(t).block_size == 256 ? 512 : 256;
    check_matmul(*this, *stream_, t, 96, cols, 37, gemm_tolerance(t), false);
  }
}

TEST_F(CudaOps, GetRowsDecodesEveryTypeExactly) {
  auto rng = make_rng("cuda-get-rows");
  for (DType t : kTypes) {
    const int64_t cols = dtype_info(t).block_size == 256 ? 256 : 64;
    const HostWeights w = make_weights(t, 11, cols, rng);
    const std::vector<int32_t> ids{3, 0, 10, 3};
    std::vector<float> expected(ids.size() * static_cast<size_t>(cols));
    ops::ref::get_rows(w.view, ids.data(), 4, expected.data());
    auto dw = to_device(w.bytes);
    auto dids = to_device(ids);
    cuda::DeviceBuffer out(expected.size() * 4);
    cuda::get_rows({t, 11, cols, dw.get()}, dids.as<int32_t>(), 4, out.as<float>(), *stream_);
    const auto got = to_host<float>(out, expected.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << dtype_name(t) << " at " << i;
  }
}

TEST_F(CudaOps, RmsnormSiluMulAddMatchReference) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("cuda-elementwise");
  const int64_t n = 5, dim = 300;
  const auto x = uniform(rng, n * dim, -3, 3), w = uniform(rng, dim), up = uniform(rng, n * dim, -3, 3);
  std::vector<float> norm(x.size()), silu(x.size()), sum = x;
  ops::ref::rmsnorm(x.data(), w.data(), norm.data(), n, dim, 1e-5f);
  ops::ref::silu_mul(x.data(), up.data(), silu.data(), n * dim);
  ops::ref::add_inplace(sum.data(), up.data(), n * dim);
  auto dx = to_device(x), dw = to_device(w), dup = to_device(up);
  cuda::DeviceBuffer dnorm(x.size() * 4), dsilu(x.size() * 4);
  cuda::rmsnorm(dx.as<float>(), dw.as<float>(), dnorm.as<float>(), n, dim, 1e-5f, *stream_);
  cuda::silu_mul(dx.as<float>(), dup.as<float>(), dsilu.as<float>(), n * dim, *stream_);
  cuda::add_inplace(dx.as<float>(), dup.as<float>(), n * dim, *stream_);
  const auto got_norm = to_host<float>(dnorm, x.size()), got_silu = to_host<float>(dsilu, x.size()),
             got_sum = to_host<float>(dx, x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(got_norm[i], norm[i], 1e-5 * (1 + std::abs(norm[i]))) << i;
    ASSERT_NEAR(got_silu[i], silu[i], 1e-5 * (1 + std::abs(silu[i]))) << i;
    ASSERT_EQ(got_sum[i], sum[i]) << i;  // one float add: exact
  }
}

TEST_F(CudaOps, RopeMatchesReferenceInBothModes) {
  SCOPED_TRACE(seed_note());
  auto rng = make_rng("cuda-rope");
  const int64_t n = 3, heads = 4, head_dim = 16, rot = 12;  // partial rotation: 4 dims pass
  const std::vector<int32_t> pos{0, 7, 1000};
  std::vector<float> inv_freq(rot / 2);
  for (int64_t i = 0; i < rot / 2; ++i)
    inv_freq[static_cast<size_t>(i)] = std::pow(10000.0f, -2.0f * static_cast<float>(i) / rot);
  for (ops::RopeMode mode : {ops::RopeMode::Interleaved, ops::RopeMode::Neox}) {
    auto x = uniform(rng, n * heads * head_dim);
    auto expected = x;
    ops::ref::rope(expected.data(), n, heads, head_dim, rot, pos.data(), inv_freq.data(), mode);
    auto dx = to_device(x), dpos = to_device(pos), dfreq = to_device(inv_freq);
    cuda::rope(dx.as<float>(), n, heads, head_dim, rot, dpos.as<int32_t>(), dfreq.as<float>(),
               mode == ops::RopeMode::Neox, *stream_);
    const auto got = to_host<float>(dx, x.size());
    // Angles up to 1000 rad: float sin/cos of a float angle agree with the reference to a
    // few ulps of the angle (1000 * 2^-24 = 6e-5).
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 2e-4) << i;
  }
}

// Paged attention: three sequences whose blocks interleave in the pool, a batch mixing decode
// tokens and an early prompt token, GQA, long enough for several 256-position chunks.
void check_attention(CudaOps& self, cuda::Stream& stream, int64_t n_heads, int64_t n_kv_heads,
                     int64_t head_dim, int64_t window) {
  SCOPED_TRACE("heads " + std::to_string(n_heads) + "/" + std::to_string(n_kv_heads) +
               " window " + std::to_string(window) + "; " + seed_note());
  (void)self;
  auto rng = make_rng("cuda-attention" + std::to_string(window));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const kv::KVCacheConfig cfg{1, n_kv_heads * head_dim, 16, 128, head_dim};
  kv::KVCache cache(cfg);
  const std::vector<int64_t> lengths{600, 1, 300};
  for (int64_t step = 16; step <= 608; step += 16)
    for (int32_t s = 0; s < 3; ++s) ASSERT_TRUE(cache.reserve(s, std::min(step, lengths[s])));
  std::vector<float> k(cfg.kv_dim), v(cfg.kv_dim);
  for (int32_t s = 0; s < 3; ++s)
    for (int64_t p = 0; p < lengths[s]; ++p) {
      for (int64_t i = 0; i < cfg.kv_dim; ++i) k[i] = normal(rng), v[i] = normal(rng);
      cache.store(0, s, p, k.data(), v.data());
    }
  const std::vector<int32_t> seqs{0, 1, 2, 2}, positions{599, 0, 299, 40};
  const int64_t n = 4, q_dim = n_heads * head_dim;
  std::vector<float> q(n * q_dim), expected(n * q_dim);
  for (auto& v : q) v = normal(rng);
  std::vector<ops::PagedKV> views;
  for (int32_t s : seqs) views.push_back(cache.view(0, s));
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const ops::AttentionShape shape{n_heads, n_kv_heads, head_dim, scale, window};
  ops::ref::attention(q.data(), n, positions.data(), views.data(), shape, expected.data());

  // The device pool holds the same keys and values in its own layout (row-major blocks:
  // [block][row][kv_dim]); the tables of the batch's tokens, concatenated.
  const size_t pool_floats = static_cast<size_t>(cfg.n_blocks * cfg.block_size * cfg.kv_dim);
  std::vector<float> host_keys(pool_floats), host_values(pool_floats);
  const auto* cache_keys = static_cast<const float*>(views[0].keys);  // cfg's F32 cache
  const auto* cache_values = static_cast<const float*>(views[0].values);
  for (int64_t b = 0; b < cfg.n_blocks; ++b)
    for (int64_t r = 0; r < cfg.block_size; ++r)
      for (int64_t h = 0; h < n_kv_heads; ++h)
        for (int64_t i = 0; i < head_dim; ++i) {
          const size_t device = static_cast<size_t>((b * cfg.block_size + r) * cfg.kv_dim + h * head_dim + i);
          const size_t host = static_cast<size_t>(b * cfg.block_size * cfg.kv_dim + (h * cfg.block_size + r) * head_dim + i);
          host_keys[device] = cache_keys[host];
          host_values[device] = cache_values[host];
        }
  cuda::DeviceBuffer keys(pool_floats * 4), values(pool_floats * 4);
  stream.upload(keys.get(), host_keys.data(), pool_floats * 4);
  stream.upload(values.get(), host_values.data(), pool_floats * 4);
  std::vector<int32_t> tables, starts;
  for (const auto& v : views) {
    starts.push_back(static_cast<int32_t>(tables.size()));
    tables.insert(tables.end(), v.block_table, v.block_table + v.n_table_blocks);
  }
  cuda::DeviceBuffer dq(q.size() * 4), dout(q.size() * 4), dtables(tables.size() * 4),
      dstarts(starts.size() * 4), dpos(positions.size() * 4);
  stream.upload(dq.get(), q.data(), q.size() * 4);
  stream.upload(dtables.get(), tables.data(), tables.size() * 4);
  stream.upload(dstarts.get(), starts.data(), starts.size() * 4);
  stream.upload(dpos.get(), positions.data(), positions.size() * 4);
  cuda::DevicePagedBatch b;
  b.keys = keys.as<float>();
  b.values = values.as<float>();
  b.block_table = dtables.as<int32_t>();
  b.table_start = dstarts.as<int32_t>();
  b.positions = dpos.as<int32_t>();
  b.block_size = cfg.block_size;
  b.kv_dim = cfg.kv_dim;
  b.max_positions = 1024;  // more chunks than any token needs: the empty ones must not count
  const cuda::AttentionShapeD dshape{n_heads, n_kv_heads, head_dim, scale, window};
  cuda::DeviceBuffer scratch(cuda::attention_scratch_bytes(dshape, n, b.max_positions));
  cuda::attention(dq.as<float>(), n, b, dshape, dout.as<float>(), scratch.get(), stream);
  std::vector<float> got(q.size());
  stream.download(got.data(), dout.get(), got.size() * 4);
  stream.synchronize();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expected[i], 1e-4) << i;
}

TEST_F(CudaOps, PagedAttentionMatchesReference) {
  check_attention(*this, *stream_, 8, 8, 64, 0);
  check_attention(*this, *stream_, 8, 2, 128, 0);    // grouped-query
  check_attention(*this, *stream_, 4, 2, 32, 100);   // sliding window
}

// The whole model on the GPU (every layer and the head), and split 2 layers GPU / rest CPU,
// against the CPU: greedy ids equal and logits within 1e-3 (the golden tests' bound).
TEST_F(CudaOps, Stories260kOnTheGpuMatchesTheCpu) {
  const std::string path = std::string(HEARTH_TESTDATA) + "/models/stories260K.gguf";
  auto cpu = load_model(path);
  const int64_t n_layers = cpu->config().n_layers;
  for (int64_t gpu_layers : {n_layers, int64_t{2}}) {
    SCOPED_TRACE("gpu layers " + std::to_string(gpu_layers));
    auto gpu = load_model(path);
    gpu->offload({gpu_layers, gpu_layers == n_layers, 0});
    ThreadPool pool(2);
    const int64_t n_vocab = cpu->config().n_vocab;
    kv::KVCache cache_cpu(cpu->kv_config(64)), cache_gpu(gpu->kv_config(64));
    ASSERT_TRUE(cache_cpu.reserve(0, 64));
    ASSERT_TRUE(cache_gpu.reserve(0, 64));
    std::vector<float> lc(static_cast<size_t>(n_vocab)), lg(lc.size());
    Batch b;
    for (int32_t i = 0; i < 5; ++i) b.add(i == 0 ? 1 : 100 + i, i, 0, i == 4);  // a prompt
    for (int step = 0; step < 40; ++step) {
      cpu->forward(b, cache_cpu, lc.data(), pool);
      gpu->forward(b, cache_gpu, lg.data(), pool);
      for (size_t i = 0; i < lc.size(); ++i) ASSERT_NEAR(lg[i], lc[i], 1e-3) << "step " << step;
      const auto id_cpu = std::max_element(lc.begin(), lc.end()) - lc.begin();
      const auto id_gpu = std::max_element(lg.begin(), lg.end()) - lg.begin();
      ASSERT_EQ(id_gpu, id_cpu) << "step " << step;
      const int32_t pos = b.positions.back() + 1;
      b.clear();
      b.add(static_cast<int32_t>(id_cpu), pos, 0, true);
    }
  }
}

}  // namespace
