// How much quantization changes the model's predictions, teacher-forced over the reference
// continuation of stories260K: top-1 agreement with the F32 model and the mean KL divergence
// KL(P_f32 || P_quant) per position.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "convert/convert.h"
#include "core/thread_pool.h"
#include "models/model.h"
#include "support/run_command.h"

using namespace hearth;

namespace {

const std::string kData = HEARTH_TESTDATA;
const std::string kGguf = kData + "/models/stories260K.gguf";

std::vector<int32_t> reference_sequence() {
  const auto ref = nlohmann::json::parse(test::slurp(kData + "/models/stories260K.greedy_bos.json"));
  auto ids = ref["prompt_ids"].get<std::vector<int32_t>>();
  for (int32_t id : ref["generated_ids"].get<std::vector<int32_t>>()) ids.push_back(id);
  return ids;
}

// Logits at every position of `ids`, one forward pass.
std::vector<float> all_logits(Model& m, const std::vector<int32_t>& ids) {
  ThreadPool pool(2);
  const int64_t n = static_cast<int64_t>(ids.size());
  kv::KVCache cache(m.kv_config(n));
  EXPECT_TRUE(cache.reserve(0, n));
  Batch b;
  for (int64_t i = 0; i < n; ++i) b.add(ids[i], static_cast<int32_t>(i), 0, true);
  std::vector<float> logits(n * m.config().n_vocab);
  m.forward(b, cache, logits.data(), pool);
  return logits;
}

struct Quality {
  double top1_agreement;
  double mean_kl;
};

Quality compare(const std::vector<float>& base, const std::vector<float>& quant, int64_t vocab) {
  const int64_t n = static_cast<int64_t>(base.size()) / vocab;
  int64_t agree = 0;
  double kl_sum = 0;
  for (int64_t t = 0; t < n; ++t) {
    const float* p = base.data() + t * vocab;
    const float* q = quant.data() + t * vocab;
    agree += std::max_element(p, p + vocab) - p == std::max_element(q, q + vocab) - q;
    auto log_softmax = [vocab](const float* x) {
      const double mx = *std::max_element(x, x + vocab);
      double s = 0;
      for (int64_t i = 0; i < vocab; ++i) s += std::exp(x[i] - mx);
      std::vector<double> out(vocab);
      for (int64_t i = 0; i < vocab; ++i) out[i] = x[i] - mx - std::log(s);
      return out;
    };
    const auto lp = log_softmax(p), lq = log_softmax(q);
    for (int64_t i = 0; i < vocab; ++i) kl_sum += std::exp(lp[i]) * (lp[i] - lq[i]);
  }
  return {static_cast<double>(agree) / n, kl_sum / n};
}

Quality quantized_quality(const std::string& source, DType type, const std::vector<int32_t>& ids) {
  test::TempDir dir;
  QuantizeOptions o;
  o.input = source;
  o.output = dir / "q.gguf";
  o.type = type;
  quantize_model(o);
  auto base = load_model(source), quant = load_model(o.output);
  const auto q = compare(all_logits(*base, ids), all_logits(*quant, ids), base->config().n_vocab);
  std::printf("[quality] %s %s: top-1 agreement %.4f, mean KL %.6f\n", source.c_str(),
              dtype_name(type), q.top1_agreement, q.mean_kl);
  return q;
}

}  // namespace

// BOUNDS — see the comment at each assertion for why each bound is where it is.
TEST(QuantQuality, Stories260KQ8_0) {
  const auto q = quantized_quality(kGguf, DType::Q8_0, reference_sequence());
  // 8-bit blocks keep every weight within 1/254 of its block's largest: the logits move far
  // less than the usual gap between the best and second-best token. llama.cpp reports mean KL
  // around 1e-4 for Q8_0 on 7B models; a 260K model has no redundancy to absorb the error, so
  // allow 20x that. Measured here: agreement 0.988, KL 0.00044 with int8 activations (the
  // single-token kernels); 0.977, KL 0.00032 where the prompt takes AMX bf16 tiles, which are
  // closer to F32 by KL but flip 6 of the 257 positions instead of 3 — every flip one where
  // the F32 model's top two logits are within 0.13 of each other (a near-tie). Each position
  // is 0.4% of agreement, so the bound sits two flips below the worst measured.
  EXPECT_GE(q.top1_agreement, 0.97);
  EXPECT_LE(q.mean_kl, 0.002);
}

TEST(QuantQuality, Stories260KBF16) {
  const auto q = quantized_quality(kGguf, DType::BF16, reference_sequence());
  // bf16 keeps 8 significant bits: every weight within 2^-9 of itself, and where the CPU has
  // AVX512-BF16 a batch's activations are rounded to bf16 too (vdpbf16ps, as llama.cpp and a
  // bf16 PyTorch model compute). Measured here: agreement 0.992, KL 4.5e-5 with bf16
  // activations (this whole-sequence pass is one batch); 0.996, KL 3.8e-5 with float
  // activations (HEARTH_ISA=avx2). Both an order of magnitude closer to F32 than Q8_0 by KL;
  // the bounds allow three more flips than measured and 4x the KL, a tenth of Q8_0's bound.
  EXPECT_GE(q.top1_agreement, 0.98);
  EXPECT_LE(q.mean_kl, 2e-4);
}

TEST(QuantQuality, Stories260KQ4_0) {
  const auto q = quantized_quality(kGguf, DType::Q4_0, reference_sequence());
  // 4-bit blocks (16 levels) err by up to 1/16 of the block range. On 7B models llama.cpp
  // reports mean KL of a few 1e-2 and ~90% top-1 agreement for Q4_0; this model's rows are 64
  // wide (two blocks), so one outlier sets the scale of half a row: expect somewhat worse.
  // Measured here: agreement 0.868, KL 0.063 (a broken kernel or layout gives KL > 1).
  EXPECT_GE(q.top1_agreement, 0.85);
  EXPECT_LE(q.mean_kl, 0.08);
}

// A synth model has random weights, so its absolute numbers mean little: a random network
// amplifies any perturbation from layer to layer. What must hold is the ordering the formats
// promise on the same weights: Q4_K (4-bit with 6-bit scales and minimums per 32) is closer to
// F32 than Q4_0 (4-bit, one scale per 32), and Q8_0 closer than both.
TEST(QuantQuality, SynthQ4_K) {
  test::TempDir dir;
  SynthOptions s;
  s.shape = "tiny-256";
  s.type = DType::F32;
  s.vocab = kGguf;
  s.output = dir / "synth.gguf";
  synth_model(s);
  const auto ids = reference_sequence();
  const auto q4k = quantized_quality(s.output, DType::Q4_K, ids);
  const auto q40 = quantized_quality(s.output, DType::Q4_0, ids);
  const auto q80 = quantized_quality(s.output, DType::Q8_0, ids);
  EXPECT_LT(q4k.mean_kl, q40.mean_kl);
  EXPECT_LT(q80.mean_kl, q4k.mean_kl);
  EXPECT_GE(q4k.top1_agreement, q40.top1_agreement);
  // Random weights give a nearly flat next-token distribution (tiny KL, brittle top-1).
  // Measured here: Q4_K agreement 0.805, KL 0.0015; Q4_0 0.755, 0.0023; Q8_0 0.965, 1.3e-5.
  EXPECT_GE(q4k.top1_agreement, 0.75);
  EXPECT_LE(q4k.mean_kl, 0.003);
}
