#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "models/model_config.h"

using namespace hearth;

namespace {
nlohmann::json llama_config() {
  return nlohmann::json::parse(R"({
    "model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16,
    "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192,
    "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0, "tie_word_embeddings": true,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})");
}
}  // namespace

TEST(ModelConfig, ReadsLlama32FromHfConfig) {
  const ModelConfig c = config_from_hf(llama_config(), "config.json");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.kv_dim(), 512);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope_mode, ops::RopeMode::Neox);
  EXPECT_EQ(c.rope_scaling.kind, RopeScaling::Kind::Llama3);
}

TEST(ModelConfig, Llama3ScalingKeepsHighAndDividesLowFrequencies) {
  const ModelConfig c = config_from_hf(llama_config(), "config.json");
  const auto inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 32u);
  // Wavelength 2*pi < 8192/4: unchanged.
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  // The lowest frequency has a wavelength far beyond 8192: divided by the factor 32.
  const double plain = std::pow(500000.0, -62.0 / 64.0);
  EXPECT_NEAR(inv[31], plain / 32.0, plain * 1e-5);
  // Monotonically decreasing throughout, including the blended band.
  for (size_t i = 1; i < inv.size(); ++i) EXPECT_LT(inv[i], inv[i - 1]);
}

TEST(ModelConfig, MissingKeyNamesIt) {
  auto j = llama_config();
  j.erase("hidden_size");
  try {
    config_from_hf(j, "/m/config.json");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(),
                 "/m/config.json: config.json has no 'hidden_size' (is this a complete Hugging "
                 "Face model folder?)");
  }
}

TEST(ModelConfig, UnknownArchitectureIsRefused) {
  auto j = llama_config();
  j["model_type"] = "mamba";
  EXPECT_THROW(config_from_hf(j, "config.json"), std::exception);
}

TEST(ModelConfig, InconsistentHeadsAreRefused) {
  auto j = llama_config();
  j["num_key_value_heads"] = 5;
  try {
    config_from_hf(j, "c.json");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "c.json: invalid model config: the KV head count must divide the head count");
  }
}
