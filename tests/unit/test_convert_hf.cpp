// HF folder -> GGUF through `quantize`: q/k rows un-permuted to GGUF's interleaved RoPE order,
// llama3 RoPE scaling carried as rope_freqs.weight, and the same predictions either way.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "convert/convert.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "models/model.h"
#include "safetensors_test_writer.h"
#include "support/run_command.h"

using namespace hearth;

namespace {

// A random 2-layer Llama in HF layout, BF16 weights, llama3 rope scaling, head size 8 so
// the four rotary frequencies cover all three llama3 bands.
void write_hf_llama3(const std::string& dir) {
  std::ofstream(dir + "/config.json") << R"({
    "model_type": "llama", "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 64,
    "vocab_size": 512, "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0, "tie_word_embeddings": false,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  std::vector<test::SafetensorsEntry> tensors;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool ones = false) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<uint8_t> bytes(n * 2);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = fp32_to_bf16(ones ? 1.0f : normal(rng));
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    tensors.push_back({name, "BF16", shape, bytes});
  };
  add("model.embed_tokens.weight", {512, 32});
  add("lm_head.weight", {512, 32});
  add("model.norm.weight", {32}, true);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {32}, true);
    add(p + "post_attention_layernorm.weight", {32}, true);
    add(p + "self_attn.q_proj.weight", {32, 32});
    add(p + "self_attn.k_proj.weight", {16, 32});
    add(p + "self_attn.v_proj.weight", {16, 32});
    add(p + "self_attn.o_proj.weight", {32, 32});
    add(p + "mlp.gate_proj.weight", {64, 32});
    add(p + "mlp.up_proj.weight", {64, 32});
    add(p + "mlp.down_proj.weight", {32, 64});
  }
  const auto bytes = test::make_safetensors(tensors);
  std::ofstream(dir + "/model.safetensors", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<float> last_logits(Model& m, const std::vector<int32_t>& ids) {
  ThreadPool pool(1);
  kv::KVCache cache(m.kv_config(static_cast<int64_t>(ids.size())));
  EXPECT_TRUE(cache.reserve(0, static_cast<int64_t>(ids.size())));
  Batch b;
  for (size_t i = 0; i < ids.size(); ++i) b.add(ids[i], static_cast<int32_t>(i), 0, i + 1 == ids.size());
  std::vector<float> logits(m.config().n_vocab);
  m.forward(b, cache, logits.data(), pool);
  return logits;
}

}  // namespace

TEST(ConvertHf, Llama3FolderToGgufKeepsPredictions) {
  test::TempDir dir;
  write_hf_llama3(dir.path.string());
  QuantizeOptions o;
  o.input = dir.path.string();
  o.output = dir / "out.gguf";
  // BF16 in, BF16 out (exact): both models then take the same kernels, whereas against an
  // F32 file a batch's products differ by the activations' rounding (a CPU with AVX512-BF16
  // rounds them to bf16 for BF16 weights only), ~5e-3 on these logits.
  o.type = DType::BF16;
  const auto report = quantize_model(o);
  EXPECT_EQ(report.n_fallback, 0);

  const auto gguf = io::GGUFFile::open(o.output);
  EXPECT_EQ(gguf.get_string("general.architecture"), "llama");
  ASSERT_NE(gguf.find_tensor("rope_freqs.weight"), nullptr);
  EXPECT_EQ(gguf.get_int("llama.attention.head_count_kv"), 2);

  auto hf = load_model(dir.path.string());
  auto converted = load_model(o.output);
  // Same cache type for both, so the comparison sees only the conversion.
  hf->set_kv_type(kv::KVType::F32);
  converted->set_kv_type(kv::KVType::F32);
  // Same frequencies from the GGUF's rope_freqs as from the HF config's scaling rule.
  const auto f_hf = hf->config().rope_inv_freq(), f_gguf = converted->config().rope_inv_freq();
  ASSERT_EQ(f_hf.size(), f_gguf.size());
  for (size_t i = 0; i < f_hf.size(); ++i) EXPECT_NEAR(f_gguf[i], f_hf[i], f_hf[i] * 1e-6);
  EXPECT_EQ(hf->config().rope_mode, ops::RopeMode::Neox);
  EXPECT_EQ(converted->config().rope_mode, ops::RopeMode::Interleaved);

  // Positions far enough apart that every rotary frequency matters.
  std::vector<int32_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back((i * 37 + 11) % 512);
  const auto a = last_logits(*hf, ids), b = last_logits(*converted, ids);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << "logit " << i;
}
