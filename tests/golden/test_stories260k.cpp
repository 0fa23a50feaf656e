// The real trained model stories260K against its reference outputs (shared testdata).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backends/devices.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/generator.h"
#include "engine/model_loader.h"

using namespace hearth;

namespace {

const std::string kData = HEARTH_TESTDATA;
const std::string kGguf = kData + "/models/stories260K.gguf";
const std::string kHf = kData + "/models/stories260K-hf";

nlohmann::json reference() {
  std::ifstream in(kData + "/models/stories260K.greedy_bos.json");
  return nlohmann::json::parse(in);
}

GenerateOptions greedy(int64_t n) {
  GenerateOptions o;
  o.n_predict = n;
  o.sampling.temperature = 0.0f;
  o.sampling.repeat_penalty = 1.0f;
  return o;
}

}  // namespace

TEST(Stories260K, GreedyFromBosMatchesAll256ReferenceIds) {
  const auto ref = reference();
  LoadedModel lm = load_model_and_tokenizer(kGguf, "");
  ThreadPool pool(2);
  Generator gen(*lm.model, lm.tokenizer.get(), pool, 512);
  const auto prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  const auto result = gen.generate(prompt, greedy(256));
  EXPECT_EQ(result.generated_ids, ref["generated_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(result.text, ref["generated_text"].get<std::string>());

  const auto expected_logits = ref["logits_after_prompt"].get<std::vector<float>>();
  ASSERT_EQ(gen.prompt_logits().size(), expected_logits.size());
  float worst = 0;
  for (size_t i = 0; i < expected_logits.size(); ++i)
    worst = std::max(worst, std::abs(gen.prompt_logits()[i] - expected_logits[i]));
  EXPECT_LE(worst, 1e-3f) << "largest logit difference after the prompt";
}

TEST(Stories260K, HuggingFaceFolderGivesTheSameIds) {
  const auto ref = reference();
  LoadedModel lm = load_model_and_tokenizer(kHf, kGguf);
  ThreadPool pool(2);
  Generator gen(*lm.model, lm.tokenizer.get(), pool, 512);
  const auto result = gen.generate(ref["prompt_ids"].get<std::vector<int32_t>>(), greedy(256));
  EXPECT_EQ(result.generated_ids, ref["generated_ids"].get<std::vector<int32_t>>());
}

TEST(Stories260K, SameIdsWithOneThreadAndSmallPromptChunks) {
  LoadedModel lm = load_model_and_tokenizer(kGguf, "");
  const auto prompt = lm.tokenizer->encode("Once upon a time, there was a big dog", true, true);
  ThreadPool one(1), two(2);
  Generator g1(*lm.model, lm.tokenizer.get(), one, 256);
  auto opts = greedy(64);
  opts.n_batch = 3;  // the prompt crosses several forward calls
  const auto a = g1.generate(prompt, opts);
  Generator g2(*lm.model, lm.tokenizer.get(), two, 256);
  const auto b = g2.generate(prompt, greedy(64));
  EXPECT_EQ(a.generated_ids, b.generated_ids);
}

// Two sequences in one batch (continuous batching) give the same logits as each one alone.
TEST(Stories260K, BatchedSequencesMatchSeparateRuns) {
  LoadedModel lm = load_model_and_tokenizer(kGguf, "");
  Model& m = *lm.model;
  const int64_t V = m.config().n_vocab;
  ThreadPool pool(2);
  const std::vector<int32_t> a = lm.tokenizer->encode("Lily saw a cat", true, true);
  const std::vector<int32_t> b = lm.tokenizer->encode("The sun was hot and the", true, true);

  auto alone = [&](const std::vector<int32_t>& p) {
    kv::KVCache cache(m.kv_config(64));
    EXPECT_TRUE(cache.reserve(7, static_cast<int64_t>(p.size())));
    Batch batch;
    for (size_t i = 0; i < p.size(); ++i) batch.add(p[i], static_cast<int32_t>(i), 7, i + 1 == p.size());
    std::vector<float> logits(V);
    m.forward(batch, cache, logits.data(), pool);
    return logits;
  };
  const auto la = alone(a), lb = alone(b);

  kv::KVCache cache(m.kv_config(128));
  ASSERT_TRUE(cache.reserve(1, static_cast<int64_t>(a.size())));
  ASSERT_TRUE(cache.reserve(2, static_cast<int64_t>(b.size())));
  Batch batch;  // interleave the two prompts token by token
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    if (i < a.size()) batch.add(a[i], static_cast<int32_t>(i), 1, i + 1 == a.size());
    if (i < b.size()) batch.add(b[i], static_cast<int32_t>(i), 2, i + 1 == b.size());
  }
  std::vector<float> logits(2 * V);
  m.forward(batch, cache, logits.data(), pool);
  // Output rows come in batch order: b's last token comes after a's (b is longer).
  ASSERT_LT(a.size(), b.size());
  for (int64_t i = 0; i < V; ++i) {
    EXPECT_NEAR(logits[i], la[i], 1e-4) << "sequence a, logit " << i;
    EXPECT_NEAR(logits[V + i], lb[i], 1e-4) << "sequence b, logit " << i;
  }
}

TEST(OllamaTinyRandom, F16ModelLoadsAndGenerates) {
  LoadedModel lm = load_model_and_tokenizer(kData + "/models/ollama/llama-2-tiny-random.gguf", "");
  ASSERT_TRUE(lm.tokenizer);
  EXPECT_EQ(lm.model->config().n_vocab, 32000);
  ThreadPool pool(2);
  Generator gen(*lm.model, lm.tokenizer.get(), pool, 128);
  auto opts = greedy(16);
  opts.stop_at_end_of_generation = false;
  const auto r = gen.generate(lm.tokenizer->encode("Hello world", true, true), opts);
  ASSERT_EQ(r.generated_ids.size(), 16u);
  for (int32_t id : r.generated_ids) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 32000);
  }
  for (float x : gen.prompt_logits()) ASSERT_TRUE(std::isfinite(x));
}

// A second call whose prompt extends the first (multi-turn chat) reuses the cached prefix and
// gives exactly what a fresh generator gives.
TEST(Stories260K, PromptPrefixIsReusedWithoutChangingTheResult) {
  LoadedModel lm = load_model_and_tokenizer(kGguf, "");
  ThreadPool pool(2);
  Generator warm(*lm.model, lm.tokenizer.get(), pool, 512);
  auto first = lm.tokenizer->encode("Once upon a time", true, true);
  const auto r1 = warm.generate(first, greedy(20));
  std::vector<int32_t> second = first;
  second.insert(second.end(), r1.generated_ids.begin(), r1.generated_ids.end());
  for (int32_t id : lm.tokenizer->encode(" The dog said", false, false)) second.push_back(id);
  const auto r2 = warm.generate(second, greedy(30));
  EXPECT_EQ(r2.reused_prompt_tokens, static_cast<int64_t>(first.size() + r1.generated_ids.size()) - 1);

  Generator fresh(*lm.model, lm.tokenizer.get(), pool, 512);
  const auto r3 = fresh.generate(second, greedy(30));
  EXPECT_EQ(r3.reused_prompt_tokens, 0);
  EXPECT_EQ(r2.generated_ids, r3.generated_ids);
  for (size_t i = 0; i < fresh.prompt_logits().size(); ++i)
    ASSERT_NEAR(warm.prompt_logits()[i], fresh.prompt_logits()[i], 1e-4);
}

// The GPU/CPU split with every layer on the CPU side: offloading 0 layers keeps the CPU path
// and reproduces the reference bit for bit; asking for GPU layers where there is no CUDA
// device (or no CUDA backend in this build) is refused and leaves the model on the CPU.
TEST(Stories260K, SplitModeWithNoGpuLayersReproducesTheReference) {
  const auto ref = reference();
  const auto prompt = ref["prompt_ids"].get<std::vector<int32_t>>();
  ThreadPool pool(2);
  LoadedModel plain = load_model_and_tokenizer(kGguf, "");
  Generator plain_gen(*plain.model, plain.tokenizer.get(), pool, 512);
  plain_gen.generate(prompt, greedy(1));

  LoadedModel lm = load_model_and_tokenizer(kGguf, "");
  lm.model->offload(GpuOffload{0, false, 0});
  EXPECT_EQ(lm.model->placement(), "cpu");
  if (scan_gpus().devices.empty()) {
    EXPECT_THROW(lm.model->offload(GpuOffload{2, false, 0}), Error);
    EXPECT_EQ(lm.model->placement(), "cpu");
  }
  EXPECT_THROW(lm.model->offload(GpuOffload{lm.model->config().n_layers + 1, false, 0}), Error);
  Generator gen(*lm.model, lm.tokenizer.get(), pool, 512);
  const auto result = gen.generate(prompt, greedy(256));
  EXPECT_EQ(result.generated_ids, ref["generated_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(gen.prompt_logits(), plain_gen.prompt_logits());  // the same kernels: bit for bit
}
